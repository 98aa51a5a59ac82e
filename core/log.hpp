// One log line per event, prefixed with time, level and the module it concerns.
// Thread-safe (one write per line); used by the daemon and every module.
// Under systemd (JOURNAL_STREAM is stderr) lines carry the journald priority
// instead of a time; `log_format = "json"` writes one JSON object per line.
#pragma once

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace signpost::core {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };

void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
// Parses "debug", "info", "warning", "error"; false when unknown.
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;
void log_line(LogLevel level, std::string_view module, std::string_view message) noexcept;

// How lines look. `json`: {"time","level","unit","message"} per line; `journal`:
// each line starts with the sd-daemon(3) priority (<3> error .. <7> debug) and
// text lines carry no time (journald adds its own).
struct LogStyle {
    bool json = false;
    bool journal = false;
};
// Set once at start-up (before threads) or later: lines switch as a whole.
void set_log_style(LogStyle style) noexcept;
LogStyle log_style() noexcept;
// Parses "text" or "json" into style.json; false when unknown.
bool parse_log_format(std::string_view text, LogStyle& style) noexcept;
// True when JOURNAL_STREAM ("DEV:INODE", systemd.exec(5)) names this device and
// inode, i.e. stderr is the journal's stream and not something it was redirected to.
bool journal_stream_matches(const char* journal_stream, uint64_t dev, uint64_t ino) noexcept;
// journal_stream_matches() for $JOURNAL_STREAM and fd 2 (fstat).
bool stderr_is_journal() noexcept;
// "<3>" (error), "<4>" (warning), "<6>" (info), "<7>" (debug): sd-daemon(3) priorities.
const char* journal_prefix(LogLevel level) noexcept;
// One line, newline included. Pure: the time is passed in.
std::string format_log_line(LogStyle style, LogLevel level, std::string_view module, std::string_view message,
                            std::chrono::system_clock::time_point now);
// "2026-12-04T05:03:25.123Z" (RFC 3339, UTC, milliseconds).
std::string rfc3339_ms(std::chrono::system_clock::time_point t);
// `text` as a JSON string's contents: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, so every line parses.
void append_json_escaped(std::string& out, std::string_view text);

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
