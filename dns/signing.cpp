// The signature cache (see signing.hpp).
#include "dns/signing.hpp"

#include <algorithm>
#include <cstring>

#include "core/wire.hpp"
#include "dnssec/sha1.hpp"
#include "dnssec/sign.hpp"

namespace signpost::dns {

int64_t rrsig_expiration(std::string_view rrsig, int64_t now) noexcept {
    if (rrsig.size() < 12) return now;
    uint32_t e = core::get32(reinterpret_cast<const uint8_t*>(rrsig.data()) + 8);
    return now + int64_t(int32_t(e - uint32_t(now)));
}

bool rrsig_made_by(std::string_view rrsig, const dnssec::Signer& signer, uint16_t type, uint32_t ttl) noexcept {
    if (rrsig.size() < 18) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(rrsig.data());
    return core::get16(p) == type && p[2] == uint8_t(signer.key().algorithm()) && core::get32(p + 4) == ttl &&
           core::get16(p + 16) == signer.key_tag() && rrsig.substr(18).starts_with(signer.zone().wire());
}

SignatureCache::Entry* SignatureCache::find(const Key& key) noexcept {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = std::size_t(key.a) & mask_;; i = (i + 1) & mask_) {
        const uint32_t k = slots_[i];
        if (k == 0) return nullptr;
        if (entries_[k - 1].key == key) return &entries_[k - 1];
    }
}

SignatureCache::Entry& SignatureCache::find_or_add(const Key& key, bool& fresh) {
    if (Entry* e = find(key)) {
        fresh = false;
        return *e;
    }
    fresh = true;
    entries_.push_back(Entry{key, {}, 0});
    if (entries_.size() * 2 > slots_.size()) {
        index_all(std::max<std::size_t>(64, slots_.size() * 2));
    } else {
        std::size_t i = std::size_t(key.a) & mask_;
        while (slots_[i] != 0) i = (i + 1) & mask_;
        slots_[i] = uint32_t(entries_.size());
    }
    return entries_.back();
}

void SignatureCache::index_all(std::size_t slots) {
    slots_.assign(slots, 0);
    mask_ = slots - 1;
    for (std::size_t k = 0; k < entries_.size(); ++k) {
        std::size_t i = std::size_t(entries_[k].key.a) & mask_;
        while (slots_[i] != 0) i = (i + 1) & mask_;
        slots_[i] = uint32_t(k + 1);
    }
}

core::SharedBytes SignatureCache::rrsig(const dnssec::Signer& signer, const zones::DnssecSettings& settings,
                                               const core::Name& owner, uint16_t type, uint32_t ttl,
                                               const zones::RdataList& rdatas, int64_t now_unix, Keep keep) {
    const int64_t refresh = settings.refresh.count() / 1000;
    auto make = [&] {
        ++made_;
        return core::SharedBytes(signer.sign(owner, type, ttl, rdatas, dnssec::validity_at(now_unix, settings)));
    };
    // Nothing to find in an empty cache: a SignedZone's first signing skips the digest.
    if (keep == Keep::No && entries_.empty()) return make();
    // The signed data without validity is the entry's identity: owner, type, TTL,
    // algorithm, key tag, signer and the canonical RRset.
    dnssec::RrsigHeader h{type, uint8_t(signer.key().algorithm()), dnssec::rrsig_labels(owner), ttl, {},
                          signer.key_tag(), signer.zone()};
    const std::string data = dnssec::signed_data(h, owner, rdatas);
    dnssec::Sha1 sha;
    sha.update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    const dnssec::Sha1Digest d = sha.finish();
    Key key;
    std::memcpy(&key.a, d.data(), 8);
    std::memcpy(&key.b, d.data() + 8, 8);
    Entry* e = nullptr;
    bool fresh = false;
    if (keep == Keep::Yes) e = &find_or_add(key, fresh);
    else if (!(e = find(key))) return make();
    int64_t expiration = fresh ? 0 : rrsig_expiration(e->rrsig.view(), now_unix);
    if (fresh || expiration - now_unix < refresh) {
        if (keep == Keep::No) return make();  // the stale entry ages out unused
        e->rrsig = make();
        expiration = rrsig_expiration(e->rrsig.view(), now_unix);
    }
    e->used = uint32_t(build_);
    if (used_earliest_ == 0 || expiration < used_earliest_) used_earliest_ = expiration;
    return e->rrsig;
}

void SignatureCache::end_build() {
    // The walk over every entry runs once per kKeepBuilds / 8 builds: a flip of 10,000
    // services touches a few of 100,000 entries, and walking them all cost more than it.
    if (build_ % (kKeepBuilds / 8) == 0 && entries_.size() > 4096) {
        const auto before = entries_.size();
        std::erase_if(entries_, [&](const Entry& e) { return uint32_t(build_) - e.used >= kKeepBuilds; });
        if (entries_.size() != before) {
            std::size_t slots = 64;
            while (slots < entries_.size() * 2 + 2) slots *= 2;
            entries_.shrink_to_fit();
            index_all(slots);
        }
    }
    int64_t earliest = used_earliest_;
    if (noted_ != 0 && (earliest == 0 || noted_ < earliest)) earliest = noted_;
    earliest_ = earliest;
}

}  // namespace signpost::dns
