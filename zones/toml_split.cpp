// Cutting a zone file's text at its [records] tables (toml_split.hpp). A small lexer
// of TOML's line structure: a line that starts with '[' outside any string, array or
// inline table is a table header; everything else only moves the lexer's state.
#include "zones/toml_split.hpp"

namespace signpost::zones {

namespace {

bool bare_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// After a header's '[': is its first key "records" (bare, "records" or 'records')?
bool first_key_is_records(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string_view rest = line.substr(i);
    for (std::string_view k : {"records", "\"records\"", "'records'"}) {
        if (!rest.starts_with(k)) continue;
        if (k.front() != 'r' || rest.size() == k.size() || !bare_key_char(rest[k.size()])) return true;
    }
    return false;
}

}  // namespace

std::vector<TomlRun> toml_runs(std::string_view text, std::size_t part_bytes) {
    std::vector<TomlRun> runs;
    TomlRun cur;  // the top level keys: not records
    auto header = [&](std::size_t at, uint32_t line, bool records) {
        if (records == cur.records && !(records && at - cur.begin >= part_bytes)) return;
        cur.end = at;
        if (cur.end > cur.begin) runs.push_back(cur);
        cur = TomlRun{at, at, line, records};
    };
    enum class Multi { None, Basic, Literal } multi = Multi::None;
    int depth = 0;  // open arrays and inline tables of a value
    uint32_t line = 1;
    bool line_start = true;
    const std::size_t n = text.size();
    auto at = [&](std::size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
    std::size_t i = 0;
    while (i < n) {
        if (line_start) {
            line_start = false;
            if (multi == Multi::None && depth == 0) {
                std::size_t j = i;
                while (j < n && (text[j] == ' ' || text[j] == '\t')) ++j;
                if (j < n && text[j] == '[') {
                    std::size_t eol = text.find('\n', j);
                    if (eol == std::string_view::npos) eol = n;
                    bool array_of_tables = j + 1 < n && text[j + 1] == '[';
                    header(i, line, !array_of_tables && first_key_is_records(text.substr(j + 1, eol - j - 1)));
                    i = eol;  // a header is one line; its '\n' is counted below
                    continue;
                }
            }
        }
        char c = text[i];
        if (c == '\n') {
            ++line;
            line_start = true;
            ++i;
            continue;
        }
        if (multi == Multi::Basic) {
            if (c == '\\' && i + 1 < n && text[i + 1] != '\n') {
                i += 2;
            } else if (at(i, "\"\"\"")) {
                i += 3;
                for (int extra = 0; extra < 2 && i < n && text[i] == '"'; ++extra) ++i;  // """a"""" ends in a quote
                multi = Multi::None;
            } else {
                ++i;
            }
            continue;
        }
        if (multi == Multi::Literal) {
            if (at(i, "'''")) {
                i += 3;
                for (int extra = 0; extra < 2 && i < n && text[i] == '\''; ++extra) ++i;
                multi = Multi::None;
            } else {
                ++i;
            }
            continue;
        }
        switch (c) {
            case '#':  // a comment: to the end of the line
                while (i < n && text[i] != '\n') ++i;
                continue;
            case '"':
                if (at(i, "\"\"\"")) {
                    multi = Multi::Basic;
                    i += 3;
                    continue;
                }
                for (++i; i < n && text[i] != '"' && text[i] != '\n'; ++i)
                    if (text[i] == '\\' && i + 1 < n && text[i + 1] != '\n') ++i;
                if (i < n && text[i] == '"') ++i;
                continue;
            case '\'':
                if (at(i, "'''")) {
                    multi = Multi::Literal;
                    i += 3;
                    continue;
                }
                for (++i; i < n && text[i] != '\'' && text[i] != '\n'; ++i) {
                }
                if (i < n && text[i] == '\'') ++i;
                continue;
            case '[':
            case '{':
                ++depth;
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            default:
                break;
        }
        ++i;
    }
    cur.end = n;
    if (cur.end > cur.begin || runs.empty()) runs.push_back(cur);
    return runs;
}

std::string without_records(std::string_view text, const std::vector<TomlRun>& runs) {
    std::string out;
    out.reserve(text.size() / 8);
    for (auto& r : runs) {
        std::string_view part = text.substr(r.begin, r.end - r.begin);
        if (!r.records) {
            out.append(part);
            continue;
        }
        for (char c : part)
            if (c == '\n') out.push_back('\n');
    }
    return out;
}

}  // namespace signpost::zones
