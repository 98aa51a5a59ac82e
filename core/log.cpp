#include "core/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>

namespace signpost::core {

namespace {
std::atomic<int> g_level{int(LogLevel::Info)};
std::atomic<int> g_style{0};  // bit 0: json, bit 1: journal
const char* level_name(LogLevel l) {
    switch (l) {
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Warning: return "warning";
        case LogLevel::Error: return "error";
    }
    return "info";
}
// Length of the valid UTF-8 sequence at s[i], 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    std::size_t n;
    unsigned lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    return n;
}
}  // namespace

// sd-daemon(3): <3> SD_ERR, <4> SD_WARNING, <6> SD_INFO, <7> SD_DEBUG.
const char* journal_prefix(LogLevel l) noexcept {
    switch (l) {
        case LogLevel::Debug: return "<7>";
        case LogLevel::Info: return "<6>";
        case LogLevel::Warning: return "<4>";
        case LogLevel::Error: return "<3>";
    }
    return "<6>";
}

void set_log_style(LogStyle style) noexcept { g_style.store((style.json ? 1 : 0) | (style.journal ? 2 : 0)); }
LogStyle log_style() noexcept {
    int v = g_style.load(std::memory_order_relaxed);
    return {(v & 1) != 0, (v & 2) != 0};
}

bool parse_log_format(std::string_view t, LogStyle& style) noexcept {
    if (t == "text") style.json = false;
    else if (t == "json") style.json = true;
    else return false;
    return true;
}

bool journal_stream_matches(const char* js, uint64_t dev, uint64_t ino) noexcept {
    if (!js || !*js) return false;
    char* end = nullptr;
    errno = 0;
    unsigned long long d = std::strtoull(js, &end, 10);
    if (end == js || *end != ':' || errno) return false;
    const char* i = end + 1;
    unsigned long long n = std::strtoull(i, &end, 10);
    if (end == i || *end != '\0' || errno) return false;
    return d == dev && n == ino;
}

bool stderr_is_journal() noexcept {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (!js) return false;
    struct stat st {};
    if (::fstat(2, &st) != 0) return false;
    return journal_stream_matches(js, uint64_t(st.st_dev), uint64_t(st.st_ino));
}

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
    auto ms_total = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    auto secs = std::time_t(ms_total / 1000);
    auto ms = ms_total % 1000;
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}Z", ts, ms);
}

void append_json_escaped(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            std::size_t n = utf8_sequence(s, i);
            if (n == 0) {
                out += "\\ufffd";
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += char(c);
                }
        }
        ++i;
    }
}

std::string format_log_line(LogStyle style, LogLevel level, std::string_view module, std::string_view message,
                            std::chrono::system_clock::time_point now) {
    std::string line;
    line.reserve(message.size() + module.size() + 64);
    if (style.journal) line += journal_prefix(level);
    if (style.json) {
        line += "{\"time\":\"";
        line += rfc3339_ms(now);
        line += "\",\"level\":\"";
        line += level_name(level);
        line += "\",\"unit\":\"";
        append_json_escaped(line, module);
        line += "\",\"message\":\"";
        append_json_escaped(line, message);
        line += "\"}\n";
        return line;
    }
    if (!style.journal) {
        line += rfc3339_ms(now);
        line += ' ';
    }
    line += level_name(level);
    line += ' ';
    line += module;
    line += ": ";
    if (!style.journal) {
        line += message;
    } else {
        // journald reads each line as an entry: a continuation line keeps the priority.
        for (char c : message) {
            line += c;
            if (c == '\n') line += journal_prefix(level);
        }
    }
    line += '\n';
    return line;
}

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
        std::string line = format_log_line(log_style(), level, module, message, std::chrono::system_clock::now());
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
