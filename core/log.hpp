// One log line per event, prefixed with time, level and the module it concerns.
// Thread-safe (one write per line); used by the daemon and every module.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string_view>

namespace signpost::core {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };

void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
// Parses "debug", "info", "warning", "error"; false when unknown.
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;
void log_line(LogLevel level, std::string_view module, std::string_view message) noexcept;

template <class... Args>
void log(LogLevel level, std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
    if (level < log_level()) return;
    log_line(level, module, fmt::format(f, std::forward<Args>(args)...));
}
// Lets at most `per_second` lines through per second and counts the rest, so a
// flood of network errors or queries cannot flood the log. One owner thread;
// no locks, no allocation.
class LogRateLimiter {
public:
    explicit LogRateLimiter(unsigned per_second) : per_second_(per_second) {}
    // True when a line may be written now; `suppressed` then holds how many
    // were held back since the last line that went through (to say so).
    bool allow(uint64_t now_ms, uint64_t& suppressed) noexcept {
        if (now_ms / 1000 != second_) {
            second_ = now_ms / 1000;
            used_ = 0;
        }
        if (used_ >= per_second_) {
            ++suppressed_;
            return false;
        }
        ++used_;
        suppressed = suppressed_;
        suppressed_ = 0;
        return true;
    }

private:
    unsigned per_second_;
    unsigned used_ = 0;
    uint64_t second_ = 0;
    uint64_t suppressed_ = 0;
};

template <class... Args>
void log_info(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::Info, module, f, std::forward<Args>(args)...);
}
template <class... Args>
void log_warning(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::Warning, module, f, std::forward<Args>(args)...);
}
template <class... Args>
void log_error(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::Error, module, f, std::forward<Args>(args)...);
}
template <class... Args>
void log_debug(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::Debug, module, f, std::forward<Args>(args)...);
}

}  // namespace signpost::core
