// Small helpers of the transfer configuration: key lookup and name spelling.
#include "xfr/options.hpp"

#include <algorithm>
#include <cctype>

namespace signpost::xfr {

std::string canonical_key_name(const std::string& text) {
    std::string s = text;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (s.empty() || s.back() != '.') s.push_back('.');
    return s;
}

std::optional<std::string> canonical_algorithm(const std::string& text) {
    std::string s = canonical_key_name(text);
    for (const char* a : {"hmac-sha256.", "hmac-sha384.", "hmac-sha512.", "hmac-sha224.", "hmac-sha1."})
        if (s == a) return s;
    if (s == "hmac-md5." || s == "hmac-md5.sig-alg.reg.int.") return std::string("hmac-md5.sig-alg.reg.int.");
    return std::nullopt;
}

bool Secondary::covers(const std::string& origin) const {
    for (auto& z : zones) {
        if (z == "*") return true;
        std::string a = canonical_key_name(z), b = canonical_key_name(origin);
        if (a == b) return true;
    }
    return false;
}

const TsigKey* XfrOptions::find_key(const std::string& name) const {
    std::string n = canonical_key_name(name);
    for (auto& k : keys)
        if (k.name == n) return &k;
    return nullptr;
}

}  // namespace signpost::xfr
