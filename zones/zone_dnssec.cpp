// A zone's [dnssec] table: whether the zone is signed, with which algorithm and keys,
// how long signatures live and how denial of existence is proven. Load time only.
//
// The rules and why (docs/dnssec.md, "Configuration"):
// - lifetime 1d..365d: shorter leaves no time to notice and fix a signer that stopped;
//   longer lets a replayed old answer validate for too long.
// - refresh 1h..(lifetime - 1h): a signature is made again once less than `refresh`
//   remains, so every signature served has at least `refresh` left; it must leave the
//   signer time to work before expiry, and be below the lifetime or every signature
//   would be renewed at once, forever.
// - refresh below the zone's largest TTL is a warning: a resolver may keep an RRset
//   longer than its signature stays valid (validators then cut the TTL; RFC 4035 5.3.3).
// - nsec3_iterations: only 0. RFC 9276 3.1: publishers MUST use 0 extra iterations;
//   validators may treat more as insecure or bogus (RFC 9276 3.2).
// - nsec3_salt: "-" or "" for none (RFC 9276 recommends none; a salt is a warning).
// - NSEC3 opt-out is not offered: signpost signs every delegation it has.
// - propagation 1s..7d (default 1h), ds_ttl 1s..30d (default 1d): the waits of key
//   rollovers (dnssec/rollover.hpp); seconds are allowed for tests.
#include "zones/zone_parser.hpp"

#include <algorithm>
#include <cctype>

namespace signpost::zones::detail {

namespace {

const std::vector<std::string> kDnssecKeys = {"sign",  "algorithm",   "lifetime",         "refresh",
                                              "denial", "nsec3_salt", "nsec3_iterations", "keys",
                                              "propagation", "ds_ttl"};
constexpr core::Millis kHour{3600LL * 1000};
constexpr core::Millis kDay{86400LL * 1000};

// "-" and "" are no salt; else an even number of hex digits, at most 255 bytes.
std::optional<std::string> salt_from_hex(const std::string& text) {
    if (text == "-" || text.empty()) return std::string();
    if (text.size() % 2 != 0 || text.size() > 510) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            c = char(std::tolower((unsigned char)c));
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            return -1;
        };
        int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(char(hi << 4 | lo));
    }
    return out;
}

// "14d", "36h", "90m": the duration in its largest whole unit.
std::string seconds_text(core::Millis d) {
    if (d.count() % kDay.count() == 0) return std::to_string(d / kDay) + "d";
    if (d.count() % kHour.count() == 0) return std::to_string(d / kHour) + "h";
    return core::format_duration(d);
}

}  // namespace

void ZoneParser::parse_dnssec(TomlNode node) {
    if (!node) return;  // zone_.dnssec_settings stays the shared default
    auto t = r_.table(node, zctx_, "dnssec");
    if (!t) return;
    auto settings = std::make_shared<DnssecSettings>();
    zone_.dnssec_settings = settings;  // filled in below, before anyone else sees it
    DnssecSettings& s = *settings;
    s.where = node.where();
    const std::string ctx = zctx_ + " [dnssec]";
    r_.check_keys(t, ctx, kDnssecKeys);
    if (auto n = t.get("sign"))
        if (auto v = r_.boolean(n, ctx, "sign")) s.sign = *v;
    if (auto n = t.get("algorithm"))
        if (auto v = r_.choice(n, ctx, "algorithm", {"ecdsap256sha256", "ed25519"}))
            s.algorithm = *v == "ed25519" ? DnssecAlgorithm::Ed25519 : DnssecAlgorithm::EcdsaP256Sha256;
    if (auto n = t.get("keys"))
        if (auto v = r_.choice(n, ctx, "keys", {"csk", "ksk+zsk"}))
            s.keys = *v == "ksk+zsk" ? KeyScheme::KskZsk : KeyScheme::Csk;
    if (auto n = t.get("denial"))
        if (auto v = r_.choice(n, ctx, "denial", {"nsec", "nsec3"}))
            s.denial = *v == "nsec3" ? DenialKind::Nsec3 : DenialKind::Nsec;

    auto lifetime_node = t.get("lifetime");
    bool lifetime_ok = true;
    if (lifetime_node) {
        auto v = r_.duration(lifetime_node, ctx, "lifetime", kDay, 365 * kDay, "a duration from 1d to 365d, e.g. \"14d\"");
        if (v) s.lifetime = *v;
        lifetime_ok = bool(v);
    }
    if (auto n = t.get("refresh")) {
        if (auto v = r_.duration(n, ctx, "refresh", kHour, 365 * kDay, "a duration from 1h to 365d, e.g. \"7d\"")) {
            if (lifetime_ok && *v > s.lifetime - kHour)
                error(n.where(), ctx,
                      "refresh must be at least 1h below lifetime (" + seconds_text(s.lifetime) +
                          "): signatures are made again when less than refresh remains, got " + seconds_text(*v));
            else s.refresh = *v;
        }
    } else if (lifetime_ok && s.refresh > s.lifetime - kHour) {
        // The default refresh (7d) with a short lifetime: half of it.
        s.refresh = s.lifetime / 2;
    }

    // Rollover margins: seconds are allowed so that a test rolls keys in seconds.
    if (auto n = t.get("propagation"))
        if (auto v = r_.duration(n, ctx, "propagation", core::Millis(1000), 7 * kDay,
                                 "a duration from 1s to 7d, e.g. \"1h\" (how long a change takes to reach every "
                                 "server of the zone, plus a margin)"))
            s.propagation = *v;
    if (auto n = t.get("ds_ttl"))
        if (auto v = r_.duration(n, ctx, "ds_ttl", core::Millis(1000), 30 * kDay,
                                 "a duration from 1s to 30d, e.g. \"1d\" (the TTL of the DS records at the parent)"))
            s.ds_ttl = *v;

    auto salt_node = t.get("nsec3_salt");
    auto iter_node = t.get("nsec3_iterations");
    if (s.denial == DenialKind::Nsec) {
        for (auto [key, n] : {std::pair{"nsec3_salt", salt_node}, std::pair{"nsec3_iterations", iter_node}})
            if (n)
                error(n.where(), ctx, std::string(key) + " applies only with denial = \"nsec3\"");
    } else {
        if (salt_node) {
            auto v = r_.string(salt_node, ctx, "nsec3_salt",
                               "hex digits such as \"a1b2\" (at most 255 bytes), or \"-\" for no salt");
            if (v) {
                auto salt = salt_from_hex(*v);
                if (!salt)
                    r_.must_be(salt_node, ctx, "nsec3_salt",
                               "hex digits such as \"a1b2\" (at most 255 bytes), or \"-\" for no salt");
                else {
                    s.nsec3_salt = *salt;
                    if (!salt->empty())
                        warning(salt_node.where(), ctx,
                                "nsec3_salt: RFC 9276 recommends no salt (\"-\"): a salt does not slow down "
                                "zone walking and costs every resolver work");
                }
            }
        }
        if (iter_node) {
            auto v = r_.integer(iter_node, ctx, "nsec3_iterations", 0, 0,
                                "0 (RFC 9276: extra iterations add no protection, and validators may treat "
                                "the zone as insecure or bogus)");
            if (v) s.nsec3_iterations = 0;
        }
    }

    if (!s.sign) return;
    // The largest TTL a resolver may cache a signed RRset for.
    uint32_t max_ttl = zone_.soa.ttl;
    for (auto& [name, n] : zone_.nodes)
        for (auto& set : n.rrsets) max_ttl = std::max(max_ttl, set.ttl);
    if (core::Millis(int64_t(max_ttl) * 1000) > s.refresh)
        warning(t.get("refresh") ? t.get("refresh").where() : s.where, ctx,
                "refresh " + seconds_text(s.refresh) + " is below the zone's largest TTL (" + std::to_string(max_ttl) +
                    "s): a resolver may cache an RRset longer than its signature is sure to stay valid");
}

}  // namespace signpost::zones::detail
