// dns::SignatureCache: one RRSIG per signed data, found again by its digest, shared,
// made again near its expiration, dropped when no build used it for kKeepBuilds builds.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/name.hpp"
#include "dns/signing.hpp"
#include "dnssec/sign.hpp"
#include "zones/model.hpp"

using namespace signpost;

namespace {

constexpr int64_t now = 1'800'000'000;  // 2027-01-15

core::Name owner(int i) { return *core::Name::from_text("h" + std::to_string(i) + ".example.com.", core::Name()); }
zones::RdataList a_record(int i) {
    const char rd[4] = {10, char(i >> 16), char(i >> 8), char(i)};
    return zones::RdataList{std::string_view(rd, 4)};
}

}  // namespace

TEST_CASE("SignatureCache: each signature made once and shared, unused entries dropped, the rest still found") {
    const dnssec::Signer signer(*core::Name::from_text("example.com.", core::Name()), dnssec::kZoneKeyFlags,
                                dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256));
    const zones::DnssecSettings settings;  // 14 days valid, made again with 7 left
    dns::SignatureCache cache;
    auto sign = [&](int i, int64_t at = now) {
        return cache.rrsig(signer, settings, owner(i), zones::rrtype::A, 300, a_record(i), at);
    };

    // More entries than the cache keeps without looking (4,096), so that end_build drops some.
    constexpr int kNames = 4200, kKept = 100;
    std::vector<core::SharedBytes> first;
    for (int i = 0; i < kNames; ++i) first.push_back(sign(i));
    CHECK(cache.signatures_made() == kNames);
    CHECK(cache.size() == kNames);
    CHECK(first[0].view() != first[1].view());
    for (int i = 0; i < kNames; i += 97) CHECK(sign(i).data() == first[std::size_t(i)].data());  // found, the same bytes
    CHECK(cache.signatures_made() == kNames);
    // Another TTL is other signed data.
    CHECK(cache.rrsig(signer, settings, owner(1), zones::rrtype::A, 30, a_record(1), now).view() != first[1].view());
    CHECK(cache.signatures_made() == kNames + 1);

    // Builds that use only the first kKept: the others go once kKeepBuilds builds passed.
    for (uint64_t b = 0; b < dns::SignatureCache::kKeepBuilds; ++b) {
        cache.begin_build();
        for (int i = 0; i < kKept; ++i) sign(i);
        cache.end_build();
    }
    CHECK(cache.size() == kKept);
    CHECK(cache.signatures_made() == kNames + 1);  // the kept ones were found every time
    for (int i = 0; i < kKept; ++i) CHECK(sign(i).data() == first[std::size_t(i)].data());
    CHECK(cache.signatures_made() == kNames + 1);  // still found after the index was rebuilt
    CHECK(sign(kNames - 1).view() != first[kNames - 1].view());  // dropped: signed anew
    CHECK(cache.signatures_made() == kNames + 2);

    // Less than `refresh` (7 days) left: made again, and the new one is kept.
    const int64_t later = now + 8 * 86400;
    auto again = sign(0, later);
    CHECK(cache.signatures_made() == kNames + 3);
    CHECK(again.view() != first[0].view());
    CHECK(dns::rrsig_expiration(again.view(), later) >= later + 14 * 86400 - 10);
    CHECK(sign(0, later).data() == again.data());
    CHECK(cache.signatures_made() == kNames + 3);
}

// Keep::No (what a zone's SignedZone holds): an entry already here is used, a signature
// made anew is not kept; counted all the same.
TEST_CASE("SignatureCache: Keep::No uses an entry, keeps none of its own") {
    const dnssec::Signer signer(*core::Name::from_text("example.com.", core::Name()), dnssec::kZoneKeyFlags,
                                dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256));
    const zones::DnssecSettings settings;
    dns::SignatureCache cache;
    using Keep = dns::SignatureCache::Keep;
    auto sign = [&](int i, Keep keep, int64_t at = now) {
        return cache.rrsig(signer, settings, owner(i), zones::rrtype::A, 300, a_record(i), at, keep);
    };
    // An empty cache: signed, not kept.
    auto a = sign(1, Keep::No);
    CHECK(!a.empty());
    CHECK(cache.size() == 0);
    CHECK(cache.signatures_made() == 1);
    CHECK(sign(1, Keep::No).view() != a.view());  // nothing to find: signed again
    CHECK(cache.signatures_made() == 2);
    // A kept entry is found by Keep::No; other data beside it is signed and not kept.
    auto kept = sign(2, Keep::Yes);
    CHECK(cache.size() == 1);
    CHECK(sign(2, Keep::No).data() == kept.data());
    CHECK(cache.signatures_made() == 3);
    CHECK(sign(3, Keep::No).view() != kept.view());
    CHECK(cache.size() == 1);
    CHECK(cache.signatures_made() == 4);
    // A stale entry is not served by Keep::No, nor replaced: Keep::Yes then makes it again.
    const int64_t later = now + 8 * 86400;
    auto fresh = sign(2, Keep::No, later);
    CHECK(fresh.view() != kept.view());
    CHECK(dns::rrsig_expiration(fresh.view(), later) >= later + 14 * 86400 - 10);
    CHECK(cache.signatures_made() == 5);
    CHECK(sign(2, Keep::Yes, later).view() != fresh.view());
    CHECK(cache.signatures_made() == 6);
    CHECK(cache.size() == 1);
}
