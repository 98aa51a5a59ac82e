// Domain name parsing and printing (presentation <-> canonical wire).
#include "core/name.hpp"

#include <cctype>

namespace signpost::core {

namespace {
char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : char(c); }
}  // namespace

std::optional<Name> Name::from_text(std::string_view text, const Name& origin, std::string* error) {
    auto fail = [&](const char* why) -> std::optional<Name> {
        if (error) *error = why;
        return std::nullopt;
    };
    if (text.empty()) return fail("empty name");
    if (text == "@") return origin;
    if (text == ".") return Name();
    std::string wire;
    std::string label;
    bool absolute = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = text[i];
        if (c == '.') {
            if (label.empty()) return fail("empty label in name");
            if (label.size() > 63) return fail("label longer than 63 octets");
            wire.push_back(char(label.size()));
            wire += label;
            label.clear();
            if (i + 1 == text.size()) absolute = true;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= text.size()) return fail("dangling backslash in name");
            if (std::isdigit((unsigned char)text[i + 1])) {
                if (i + 3 >= text.size() || !std::isdigit((unsigned char)text[i + 2]) ||
                    !std::isdigit((unsigned char)text[i + 3]))
                    return fail("\\DDD escape needs three digits");
                int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
                if (v > 255) return fail("\\DDD escape above 255");
                label.push_back(lower((unsigned char)v));
                i += 3;
            } else {
                label.push_back(lower((unsigned char)text[i + 1]));
                i += 1;
            }
            continue;
        }
        if (c <= ' ' || c == 0x7f) return fail("name contains a space or control character");
        label.push_back(lower(c));
    }
    if (!label.empty()) {
        if (label.size() > 63) return fail("label longer than 63 octets");
        wire.push_back(char(label.size()));
        wire += label;
    }
    if (absolute) {
        wire.push_back('\0');
    } else {
        wire += origin.wire();
    }
    if (wire.size() > 255) return fail("name longer than 255 octets");
    return Name(std::string_view(wire));
}

std::optional<Name> Name::from_wire(std::string_view wire) {
    std::string out;
    std::size_t i = 0;
    while (true) {
        if (i >= wire.size()) return std::nullopt;
        unsigned len = (unsigned char)wire[i];
        if (len > 63) return std::nullopt;
        out.push_back(char(len));
        if (len == 0) break;
        if (i + 1 + len > wire.size()) return std::nullopt;
        for (unsigned k = 0; k < len; ++k) out.push_back(lower((unsigned char)wire[i + 1 + k]));
        i += 1 + len;
    }
    if (i + 1 != wire.size() || out.size() > 255) return std::nullopt;
    return Name(std::string_view(out));
}

int Name::label_count() const noexcept {
    int n = 0;
    const char* w = data();
    for (std::size_t i = 0; w[i] != 0; i += 1 + (unsigned char)w[i]) ++n;
    return n;
}

bool Name::is_subdomain_of(const Name& a) const noexcept {
    std::string_view w = wire(), aw = a.wire();
    if (aw.size() > w.size()) return false;
    std::size_t off = w.size() - aw.size();
    // The suffix must start on a label boundary.
    std::size_t i = 0;
    while (i < off) i += 1 + (unsigned char)w[i];
    return i == off && w.substr(off) == aw;
}

Name Name::parent() const {
    if (is_root()) return *this;
    std::string_view w = wire();
    return Name(w.substr(1 + (unsigned char)w[0]));
}

Name Name::wildcard_child() const {
    std::string w("\1*", 2);
    w += wire();
    return Name(std::string_view(w));
}

std::string Name::to_text() const {
    if (is_root()) return ".";
    std::string out;
    const char* w = data();
    for (std::size_t i = 0; w[i] != 0;) {
        unsigned len = (unsigned char)w[i];
        for (unsigned k = 1; k <= len; ++k) {
            unsigned char c = w[i + k];
            if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$') {
                out.push_back('\\');
                out.push_back(char(c));
            } else if (c <= ' ' || c >= 0x7f) {
                char buf[5];
                buf[0] = '\\';
                buf[1] = char('0' + c / 100);
                buf[2] = char('0' + (c / 10) % 10);
                buf[3] = char('0' + c % 10);
                buf[4] = 0;
                out += buf;
            } else {
                out.push_back(char(c));
            }
        }
        out.push_back('.');
        i += 1 + len;
    }
    return out;
}

std::string Name::to_relative_text(const Name& origin) const {
    if (*this == origin) return "@";
    if (!is_subdomain_of(origin)) return to_text();
    std::string full = to_text();
    std::string suffix = origin.to_text();
    if (origin.is_root()) return full.substr(0, full.size() - 1);
    return full.substr(0, full.size() - suffix.size() - 1);
}

std::string Name::to_key() const {
    std::string s = to_text();
    if (s.size() > 1 && s.back() == '.') s.pop_back();
    return s;
}

}  // namespace signpost::core
