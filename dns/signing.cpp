// The signature cache (see signing.hpp).
#include "dns/signing.hpp"

#include "dnssec/sign.hpp"

namespace signpost::dns {

const std::string& SignatureCache::rrsig(const dnssec::Signer& signer, const zones::DnssecSettings& settings,
                                         const core::Name& owner, uint16_t type, uint32_t ttl,
                                         std::span<const std::string> rdatas, int64_t now_unix) {
    // The signed data without validity is the entry's identity: owner, type, TTL,
    // algorithm, key tag, signer and the canonical RRset.
    dnssec::RrsigHeader h{type, uint8_t(signer.key().algorithm()), dnssec::rrsig_labels(owner), ttl, {},
                          signer.key_tag(), signer.zone()};
    std::string key = dnssec::signed_data(h, owner, rdatas);
    auto [it, fresh] = entries_.try_emplace(std::move(key));
    Entry& e = it->second;
    const int64_t refresh = settings.refresh.count() / 1000;
    if (fresh || e.expiration - now_unix < refresh) {
        dnssec::Validity v = dnssec::validity_at(now_unix, settings);
        e.rrsig = signer.sign(owner, type, ttl, rdatas, v);
        e.expiration = now_unix + settings.lifetime.count() / 1000;
        ++made_;
    }
    e.used = build_;
    return e.rrsig;
}

void SignatureCache::end_build() {
    int64_t earliest = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (build_ - it->second.used >= kKeepBuilds && entries_.size() > 4096) {
            it = entries_.erase(it);
            continue;
        }
        if (it->second.used == build_ && (earliest == 0 || it->second.expiration < earliest))
            earliest = it->second.expiration;
        ++it;
    }
    earliest_ = earliest;
}

}  // namespace signpost::dns
