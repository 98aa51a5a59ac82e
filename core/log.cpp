#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

namespace signpost::core {

namespace {
std::atomic<int> g_level{int(LogLevel::Info)};
const char* level_name(LogLevel l) {
    switch (l) {
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Warning: return "warning";
        case LogLevel::Error: return "error";
    }
    return "info";
}
}  // namespace

void set_log_level(LogLevel level) noexcept { g_level.store(int(level)); }
LogLevel log_level() noexcept { return LogLevel(g_level.load(std::memory_order_relaxed)); }

bool parse_log_level(std::string_view t, LogLevel& out) noexcept {
    if (t == "debug") out = LogLevel::Debug;
    else if (t == "info") out = LogLevel::Info;
    else if (t == "warning" || t == "warn") out = LogLevel::Warning;
    else if (t == "error") out = LogLevel::Error;
    else return false;
    return true;
}

void log_line(LogLevel level, std::string_view module, std::string_view message) noexcept {
    try {
        auto now = std::chrono::system_clock::now();
        auto secs = std::chrono::system_clock::to_time_t(now);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char ts[32];
        std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        std::string line = fmt::format("{}.{:03}Z {} {}: {}\n", ts, ms, level_name(level), module, message);
        // One write() per line so lines from several threads never interleave.
        ssize_t off = 0;
        while (off < ssize_t(line.size())) {
            ssize_t n = ::write(2, line.data() + off, line.size() - off);
            if (n <= 0) break;
            off += n;
        }
    } catch (...) {
    }
}

}  // namespace signpost::core
