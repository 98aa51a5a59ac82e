// Transfer ACL decisions.
#include "xfr/acl.hpp"

namespace signpost::xfr {

const char* to_string(AclVerdict v) noexcept {
    switch (v) {
        case AclVerdict::Allow: return "allow";
        case AclVerdict::Refused: return "refused";
        case AclVerdict::NeedKey: return "key required";
    }
    return "?";
}

bool address_may_transfer(const XfrOptions& options, const std::string& origin, const core::IpAddress& client) {
    for (auto& s : options.secondaries) {
        if (!s.covers(origin)) continue;
        for (auto& p : s.allow_transfer_from)
            if (p.contains(client)) return true;
    }
    return false;
}

AclDecision check_transfer(const XfrOptions& options, const std::string& origin, const core::IpAddress& client,
                           const std::string& key) {
    std::string used = key.empty() ? std::string() : canonical_key_name(key);
    std::string wanted;
    bool address_ok = false;
    for (auto& s : options.secondaries) {
        if (!s.covers(origin)) continue;
        bool in = false;
        for (auto& p : s.allow_transfer_from) in = in || p.contains(client);
        if (!in) continue;
        address_ok = true;
        if (s.key.empty() || canonical_key_name(s.key) == used) return {AclVerdict::Allow, "allowed"};
        if (wanted.empty()) wanted = canonical_key_name(s.key);
    }
    if (!address_ok)
        return {AclVerdict::Refused, client.to_string() + " is not in allow_transfer_from of " + origin};
    return {AclVerdict::NeedKey, used.empty() ? "no TSIG; key " + wanted + " required"
                                              : "key " + used + " is not the key " + wanted + " required"};
}

}  // namespace signpost::xfr
