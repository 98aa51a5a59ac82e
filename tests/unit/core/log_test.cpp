#include <doctest/doctest.h>

#include <chrono>

#include "core/log.hpp"

using namespace signpost::core;

namespace {
// 2026-12-04T05:03:25.123Z
const auto kAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796360605123LL));
}  // namespace

TEST_CASE("log: text lines carry the time, level and unit") {
    CHECK(rfc3339_ms(kAt) == "2026-12-04T05:03:25.123Z");
    CHECK(format_log_line({}, LogLevel::Info, "daemon", "ready", kAt) == "2026-12-04T05:03:25.123Z info daemon: ready\n");
    CHECK(format_log_line({}, LogLevel::Warning, "zones", "x", kAt) == "2026-12-04T05:03:25.123Z warning zones: x\n");
    CHECK(rfc3339_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(5))) == "1970-01-01T00:00:00.005Z");
}

TEST_CASE("log: under journald a line starts with its priority and carries no time") {
    LogStyle j{false, true};
    CHECK(format_log_line(j, LogLevel::Error, "zones", "reload failed", kAt) == "<3>error zones: reload failed\n");
    CHECK(format_log_line(j, LogLevel::Warning, "probes", "w", kAt) == "<4>warning probes: w\n");
    CHECK(format_log_line(j, LogLevel::Info, "daemon", "i", kAt) == "<6>info daemon: i\n");
    CHECK(format_log_line(j, LogLevel::Debug, "dns", "d", kAt) == "<7>debug dns: d\n");
    SUBCASE("a continuation line keeps the priority (journald makes each line an entry)") {
        CHECK(format_log_line(j, LogLevel::Error, "zones", "a\nb", kAt) == "<3>error zones: a\n<3>b\n");
    }
}

TEST_CASE("log: json lines are one object with time, level, unit and message") {
    LogStyle js{true, false};
    CHECK(format_log_line(js, LogLevel::Info, "daemon", "ready (first round)", kAt) ==
          "{\"time\":\"2026-12-04T05:03:25.123Z\",\"level\":\"info\",\"unit\":\"daemon\",\"message\":\"ready (first round)\"}\n");
    SUBCASE("under journald the object follows the priority") {
        CHECK(format_log_line({true, true}, LogLevel::Error, "api", "x", kAt) ==
              "<3>{\"time\":\"2026-12-04T05:03:25.123Z\",\"level\":\"error\",\"unit\":\"api\",\"message\":\"x\"}\n");
    }
}

TEST_CASE("log: json escaping keeps every line one valid object") {
    auto esc = [](std::string_view s) {
        std::string out;
        append_json_escaped(out, s);
        return out;
    };
    CHECK(esc("say \"hi\" \\ bye") == "say \\\"hi\\\" \\\\ bye");
    CHECK(esc("a\nb\r\tc") == "a\\nb\\r\\tc");
    CHECK(esc(std::string_view("\x01\x1f\x7f", 3)) == "\\u0001\\u001f\\u007f");
    CHECK(esc(std::string_view("nul\0x", 5)) == "nul\\u0000x");
    CHECK(esc("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80");
    SUBCASE("invalid UTF-8 becomes U+FFFD") {
        CHECK(esc("\xff") == "\\ufffd");
        CHECK(esc("a\xc3") == "a\\ufffd");                  // truncated
        CHECK(esc("\xc0\xaf") == "\\ufffd\\ufffd");          // overlong
        CHECK(esc("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // surrogate
        CHECK(esc("\xf4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
    }
}

TEST_CASE("log: log_format is text or json") {
    LogStyle s;
    CHECK(parse_log_format("json", s));
    CHECK(s.json);
    CHECK(parse_log_format("text", s));
    CHECK_FALSE(s.json);
    CHECK_FALSE(parse_log_format("JSON", s));
    CHECK_FALSE(parse_log_format("", s));
}

TEST_CASE("log: JOURNAL_STREAM must name stderr's device and inode") {
    CHECK(journal_stream_matches("8:12345", 8, 12345));
    CHECK_FALSE(journal_stream_matches("8:12345", 8, 12346));
    CHECK_FALSE(journal_stream_matches("9:12345", 8, 12345));
    CHECK_FALSE(journal_stream_matches(nullptr, 8, 12345));
    CHECK_FALSE(journal_stream_matches("", 0, 0));
    CHECK_FALSE(journal_stream_matches("8", 8, 0));
    CHECK_FALSE(journal_stream_matches("8:", 8, 0));
    CHECK_FALSE(journal_stream_matches("8:12345x", 8, 12345));
    CHECK_FALSE(journal_stream_matches(":12345", 0, 12345));
}
