// The inside of a View: per-zone hash indexes of owner names, RRsets ordered by
// type, services with their evaluations. Internal to dns/; built once, then read-only.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/shared_bytes.hpp"
#include "dns/view.hpp"
#include "dnssec/sha1.hpp"
#include "policy/geo_choice.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::dns::detail {

// Hash of canonical wire bytes, eight bytes at a time (multiply-xorshift): runs on
// every query, for the qname and its suffixes.
inline uint64_t hash_bytes(const uint8_t* p, std::size_t n) noexcept {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;  // the last 1..7 bytes, read as two overlapping words
    if (n >= 4) {
        uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        w = (uint64_t(b) << 32) | a;
    } else if (n > 0) {
        w = uint64_t(p[0]) | (uint64_t(p[n / 2]) << 8) | (uint64_t(p[n - 1]) << 16);
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

// Open-addressing table from canonical wire name to a dense index. It stores no
// keys (8 bytes a slot): the caller's key_of(index) gives the name stored at an
// index, a std::string_view into memory the View never moves after build.
class NameIndex {
public:
    void build(const std::vector<std::string_view>& keys);
    std::size_t slots() const noexcept { return slots_.size(); }
    // -1 when absent.
    template <class KeyOf>
    int32_t find(const uint8_t* wire, std::size_t len, KeyOf key_of) const noexcept {
        if (slots_.empty()) return -1;
        uint64_t h = hash_bytes(wire, len);
        uint32_t tag = uint32_t(h >> 32);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.value < 0) return -1;
            if (s.tag != tag) continue;
            std::string_view key = key_of(s.value);
            if (key.size() == len && std::memcmp(key.data(), wire, len) == 0) return s.value;
        }
    }

private:
    struct Slot {
        uint32_t tag = 0;  // the hash's high half; the low bits pick the slot
        int32_t value = -1;
    };
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

// A geo service's answer counters: counter i < rules is geo rule i, then one per
// nearest pool (position in Service::pools), then the default. Counted per query on
// every receiver thread, so each thread adds to its own stripe of cache lines (a
// shared line bounced between cores doubled the cost of a geo answer with two
// receivers, bench/answer_bench.cpp); a reader sums the stripes.
class GeoCounts {
public:
    GeoCounts(std::size_t rules, std::size_t pools)
        : rules_(rules), pools_(pools), per_stripe_((rules + pools + 1 + kPerLine - 1) / kPerLine),
          lines_(per_stripe_ * kStripes) {}
    std::size_t rules() const noexcept { return rules_; }
    std::size_t pools() const noexcept { return pools_; }
    std::size_t rule(std::size_t i) const noexcept { return i; }
    std::size_t pool(std::size_t p) const noexcept { return rules_ + p; }
    std::size_t fallback() const noexcept { return rules_ + pools_; }

    // One answer for counter k. Query path: no allocation, no lock, one relaxed add.
    void add(std::size_t k) noexcept {
        lines_[stripe() * per_stripe_ + k / kPerLine].c[k % kPerLine].fetch_add(1, std::memory_order_relaxed);
    }
    // The answers of counter k over every thread's stripe. Any thread.
    uint64_t total(std::size_t k) const noexcept {
        uint64_t sum = 0;
        for (std::size_t s = 0; s < kStripes; ++s)
            sum += lines_[s * per_stripe_ + k / kPerLine].c[k % kPerLine].load(std::memory_order_relaxed);
        return sum;
    }

private:
    static constexpr std::size_t kStripes = 16, kPerLine = 16;
    // 128 bytes: the adjacent-line prefetcher moves cache lines in pairs.
    struct alignas(128) Line {
        std::atomic<uint64_t> c[kPerLine]{};
    };
    // The calling thread's stripe, handed out in turn on its first answer.
    static std::size_t stripe() noexcept {
        static std::atomic<std::size_t> next{0};
        thread_local std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
        return mine;
    }
    std::size_t rules_, pools_, per_stripe_;
    std::vector<Line> lines_;
};

// A decision in the form the per-query choice reads (policy/choice.hpp).
struct DecisionData {
    const policy::Decision* decision = nullptr;
    std::vector<uint64_t> cumulative;  // policy::cumulative_weights(*decision)
    // Subnet-dependent services (rules, geo): where this decision's pre-rendered
    // answers start among the service's blobs of one type (FastType::blob + this,
    // then one per variant; one NODATA blob when it has none). Set by prerender().
    uint32_t blob_offset = 0;
};
struct ServiceData {
    DecisionData fallback;                // clients matching no subnet rule
    std::vector<core::IpPrefix> prefixes;  // subnet rules, most specific first
    std::vector<DecisionData> rules;       // rules[i] answers clients of prefixes[i]
    bool subnet_dependent = false;         // !prefixes.empty() or a geo service
    // Geo policy: the per-query choice and what it indexes (Evaluation::geo_rules,
    // ::geo_pools); geo_up[p]: pool position p may be answered as the nearest.
    bool geo = false;
    policy::GeoMatcher geo_match;
    std::vector<DecisionData> geo_rules, geo_pools;
    std::vector<uint8_t> geo_up;
    // Answers per rule, per nearest pool and by default (GeoCounts), shared with the
    // next View of the same shape.
    std::shared_ptr<GeoCounts> geo_counts;
    // Some variant (of any rule) is a hostname endpoint (policy::Variant::cname): at
    // owners that may hold a CNAME (VNode::cname_ok) it answers CNAME for every type.
    bool any_cname = false;
};

// Pre-rendered answers (the fast path). A Blob is everything after the question
// of a reply rendered by the general renderer when the View was built; `relocs`
// lists its compression pointers, which move by (qname length - rendered qname
// length) when the blob is reused for a longer qname (NXDOMAIN, below a cut).
struct Blob {
    uint32_t off = 0;     // in View::arena_
    uint32_t reloc = 0;   // first entry in View::relocs_
    uint16_t len = 0;
    uint16_t an = 0, ns = 0, ar = 0;
    uint16_t nreloc = 0;
    uint8_t rcode = 0;
    bool aa = false;
};
static_assert(sizeof(Blob) == 20);  // one or two per name: no padding
// DNSSEC: an RRSIG's rdata that a DO=1 blob leaves out of the arena. The fast path
// writes the blob's arena bytes up to `at` (an offset into them), then the RRSIG
// rdata, then the rest: the signature is kept once (core::SharedBytes, the SigSets'),
// not a second time in every pre-rendered answer.
struct Splice {
    uint32_t at = 0;
    core::SharedBytes rrsig;
};
// One query type at a node: `count` consecutive blobs from `blob`, one per variant
// of `service` (picked per query by weight) or one when service < 0; count 0: the
// general renderer answers this type (random data, or an answer too large). In a
// signed zone the answers to DO=1 queries follow: `count` more blobs from blob + count,
// in the same order, with their RRSIGs (ZoneData::signed_zone).
// A subnet-dependent service (subnet rules, geo) has its blobs per decision, in the
// order fallback, rules, geo_rules, geo_pools (DecisionData::blob_offset).
struct FastType {
    uint16_t type = 0;
    uint16_t count = 0;
    int32_t service = -1;
    uint32_t blob = 0;
};
enum FastFlags : uint8_t {
    kFastReady = 1,      // pre-rendered: types in fast_types, others NODATA from the zone's negative blob
    kWildChild = 2,      // *.<this name> exists: misses below go to the general renderer
    kSlowOthers = 4,     // types not in fast_types go to the general renderer, not NODATA
                         // (a service owner that may answer CNAME for any type)
    kOtherServices = 8,  // its answers read a service other than its own (RenderNotes):
                         // a later View renders them anew, never copies them
    kDeferred = 16,      // over ViewOptions::prerender_budget: not pre-rendered (the general
                         // renderer answers) until a View built later renders it
};

// One owner name of a zone. No allocation of its own: the name is the catalog
// node's (or View::owned_names_ for names the catalog lacks), the RRset list a
// slice of View::node_rrsets_.
struct VNode {
    // Canonical wire (at most 255 bytes): a pointer and one byte, where a string_view
    // took 16 bytes (8 bytes a name: VNode is 40 bytes).
    std::string_view name() const noexcept { return {name_data, name_len}; }
    void set_name(std::string_view n) noexcept {
        name_data = n.data();
        name_len = uint8_t(n.size());
    }
    const char* name_data = nullptr;
    std::span<const zones::RRset* const> rrsets;  // ordered by type; SOA only at the apex
    int32_t service = -1;                       // index into View::services_
    bool cut = false;                           // NS at a non-apex owner
    bool apex = false;
    // A service owner that may hold a CNAME: not the apex, service not `flatten`
    // (a wildcard owner too). Its hostname variants answer CNAME <hostname>.
    bool cname_ok = false;
    uint8_t fast_flags = 0;                     // FastFlags
    uint16_t fast_count = 0;                    // FastType entries from fast_first
    uint8_t name_len = 0;
    uint32_t fast_first = 0;                    // in View::fast_types_; at a cut: the referral blob

    const zones::RRset* find(uint16_t type) const noexcept {
        for (auto* s : rrsets)
            if (s->type == type) return s;
        return nullptr;
    }
    bool empty() const noexcept { return rrsets.empty() && service < 0; }
};
static_assert(sizeof(VNode) == 40);

// DNSSEC: the RRSIG rdatas over one RRset as served, one per key that signs it, each
// one copy shared by the SignedZones and Views that serve it (and by the SignatureCache
// for what it keeps).
// One word: the usual set has one (a CSK, or one ZSK), kept in place as its SharedBytes;
// a set of several (a rollover) is a heap vector, its pointer tagged with the low bit
// (a SharedBytes' block is at least 8-aligned: its low bit is 0). Iterates as a
// contiguous range. 8 bytes in every static RRset's and NSEC record's entry, where a
// SharedBytes beside a unique_ptr took 16.
class SigSet {
public:
    SigSet() noexcept { new (&one_) core::SharedBytes(); }
    SigSet(SigSet&& o) noexcept {
        if (o.many()) {
            more_ = o.more_;
            new (&o.one_) core::SharedBytes();
        } else {
            new (&one_) core::SharedBytes(std::move(o.one_));
        }
    }
    SigSet& operator=(SigSet&& o) noexcept {
        if (this != &o) {
            this->~SigSet();
            new (this) SigSet(std::move(o));
        }
        return *this;
    }
    SigSet(const SigSet& o) {
        if (o.many()) more_ = tag(new Many(*o.list()));
        else new (&one_) core::SharedBytes(o.one_);
    }
    SigSet& operator=(const SigSet& o) {
        if (this != &o) *this = SigSet(o);
        return *this;
    }
    ~SigSet() {
        if (many()) delete list();
        else one_.~SharedBytes();
    }
    void push_back(core::SharedBytes rrsig) {
        if (!many() && one_.empty()) {
            one_ = std::move(rrsig);
            return;
        }
        if (!many()) {
            auto* m = new Many();
            m->push_back(std::move(one_));
            one_.~SharedBytes();
            more_ = tag(m);
        }
        list()->push_back(std::move(rrsig));
    }
    const core::SharedBytes* begin() const noexcept { return many() ? list()->data() : &one_; }
    const core::SharedBytes* end() const noexcept {
        return many() ? list()->data() + list()->size() : &one_ + (one_.empty() ? 0 : 1);
    }
    std::size_t size() const noexcept { return std::size_t(end() - begin()); }
    friend bool operator==(const SigSet& a, const SigSet& b) noexcept {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }

private:
    using Many = std::vector<core::SharedBytes>;
    static uintptr_t tag(Many* m) noexcept { return reinterpret_cast<uintptr_t>(m) | 1u; }
    // The word as stored, whichever member holds it (read as bytes).
    bool many() const noexcept {
        uintptr_t w;
        std::memcpy(&w, static_cast<const void*>(this), sizeof w);
        return (w & 1u) != 0;
    }
    Many* list() const noexcept { return reinterpret_cast<Many*>(more_ & ~uintptr_t(1)); }
    union {
        core::SharedBytes one_;
        uintptr_t more_;
    };
};
static_assert(sizeof(SigSet) == 8);
static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 2, "SigSet tags a heap pointer's low bit");
class StaticSigs;
// Which signatures cover an RRset: keyed by (what, where, type). Static RRsets are
// (the RRset, null); a service's address or CNAME set is (the policy::Variant, the
// VNode it is served at). Open addressing, built once; query path: no allocation.
// A View's index may fall back to a base (the largest signed zone's static RRsets,
// built once with its SignedZone: StaticSigs), so that a flip does not index them again.
class SigIndex {
public:
    struct Item {
        const void* what = nullptr;
        const void* where = nullptr;
        uint16_t type = 0;
        const SigSet* sigs = nullptr;
    };
    // `base`: looked in when this index has no entry; kept alive by `owner`.
    void build(std::vector<Item> items, const StaticSigs* base = nullptr, std::shared_ptr<const void> owner = nullptr);
    const SigSet* find(const void* what, const void* where, uint16_t type) const noexcept {
        if (!slots_.empty()) {
            for (std::size_t i = hash(what, where, type) & mask_;; i = (i + 1) & mask_) {
                const uint32_t k = slots_[i];
                if (k == 0) break;
                const Item& it = items_[k - 1];
                if (it.what == what && it.where == where && it.type == type) return it.sigs;
            }
        }
        return base_ && !where ? find_static(what) : nullptr;
    }
    std::size_t size() const noexcept { return items_.size(); }
    template <class F>
    void for_each(F f) const {
        for (auto& it : items_) f(it);
    }

private:
    static uint64_t hash(const void* a, const void* b, uint16_t t) noexcept {
        uint64_t h = (uint64_t(reinterpret_cast<uintptr_t>(a)) * 0x9e3779b97f4a7c15ull) ^
                     (uint64_t(reinterpret_cast<uintptr_t>(b)) * 0xc2b2ae3d27d4eb4full) ^ t;
        h ^= h >> 29;
        h *= 0xff51afd7ed558ccdull;
        return h ^ (h >> 32);
    }
    // Open addressing over 4-byte slots (items_ index + 1; 0: empty) rather than over the
    // 32-byte items themselves: 100,000 static RRsets take 4.2 MB instead of 8.4.
    std::vector<Item> items_;
    std::vector<uint32_t> slots_;
    std::size_t mask_ = 0;
    const SigSet* find_static(const void* what) const noexcept;
    const StaticSigs* base_ = nullptr;
    std::shared_ptr<const void> base_owner_;
};
// The signatures of a signed zone's static RRsets (the catalog's own), by the RRset:
// open addressing over 4-byte slots (at most half full) into two lists, the RRsets and
// their SigSets: 24 bytes an RRset and its slots, where a SigIndex item (32 bytes) and a
// SigSet in a deque (16) took 48 and the slots. Filled (add), then build(); read-only
// after. Query path: find, no allocation.
class StaticSigs {
public:
    void add(const zones::RRset* s, SigSet sigs) {
        rrsets_.push_back(s);
        sigs_.push_back(std::move(sigs));
    }
    void build();
    const SigSet* find(const void* rrset) const noexcept {
        if (slots_.empty()) return nullptr;
        for (std::size_t i = hash(rrset) & mask_;; i = (i + 1) & mask_) {
            const uint32_t k = slots_[i];
            if (k == 0) return nullptr;
            if (rrsets_[k - 1] == rrset) return &sigs_[k - 1];
        }
    }
    std::size_t size() const noexcept { return rrsets_.size(); }
    template <class F>
    void for_each(F f) const {  // f(const zones::RRset*, const SigSet&)
        for (std::size_t k = 0; k < rrsets_.size(); ++k) f(rrsets_[k], sigs_[k]);
    }

private:
    static uint64_t hash(const void* p) noexcept {
        uint64_t h = uint64_t(reinterpret_cast<uintptr_t>(p)) * 0x9e3779b97f4a7c15ull;
        return h ^ (h >> 29);
    }
    std::vector<const zones::RRset*> rrsets_;
    std::vector<SigSet> sigs_;
    std::vector<uint32_t> slots_;
    std::size_t mask_ = 0;
};

// The NSEC (or NSEC3) at one owner name of a signed zone. A service owner's types depend
// on the answer (addresses of one family, both, none, a CNAME), so it has one record per
// shape, each signed when the View is built: the answer picks the one its variant needs.
enum NsecShape : uint8_t { kShapeNone = 0, kShapeA = 1, kShapeAAAA = 2, kShapeBoth = 3, kShapeCname = 4, kShapes = 5 };
constexpr uint32_t kNoNode = UINT32_MAX;
struct NsecData {
    uint32_t node = 0;   // ZoneData::nodes index of the owner (NSEC3: of the hashed name; kNoNode: none)
    uint32_t first = 0;  // its records: Denial::records[first + shape], shape < count
    uint8_t count = 0;   // 1 for an owner without a service, else kShapeCname or kShapes; 0: none
};
// One NSEC (NSEC3) record of one shape: NSEC: next owner name and type bit maps;
// NSEC3: RFC 5155 3.2. Its bytes (Denial::bytes) and its signatures.
struct NsecRecord {
    uint32_t off = 0;  // in Denial::bytes_
    uint16_t len = 0;
    SigSet sigs;
};

// A signed zone's authenticated denial: its NSEC records in canonical order of their
// owners, or with `nsec3` its NSEC3 records in the order of their hashes. The records of
// every owner's shapes are in one array (an owner without a service has one, so a
// static name costs one record, not kShapes).
struct Denial {
    bool nsec3 = false;
    std::vector<NsecData> nsecs;
    std::vector<NsecRecord> records;
    // A record's bytes, in one block for the chain (where a block per record took ~48
    // bytes for ~30 of rdata). NSEC3: its whole rdata. NSEC: its type bit maps, each
    // distinct one kept once (most owners share theirs); the rdata is the next owner's
    // name (next_name) and then these bytes.
    std::string_view bytes(const NsecRecord& r) const noexcept { return {bytes_.data() + r.off, r.len}; }
    // NSEC only: the next owner name in the chain after nsecs[k] (the apex after the last).
    std::string_view next_name(std::size_t k, std::span<const VNode> nodes) const noexcept {
        return nodes[nsecs[(k + 1) % nsecs.size()].node].name();
    }
    // Appends a record whose bytes are `b` (at most 65,535: an rdata's limit). `seen`
    // (NSEC's bit maps, while the chain is made): bytes already in the chain, by their
    // offset; shared, not kept again.
    NsecRecord& add(std::string_view b, std::unordered_map<std::string, uint32_t>* seen = nullptr) {
        if (b.size() > 0xffff || bytes_.size() + b.size() > UINT32_MAX)
            throw std::length_error("NSEC chain over its limits");
        NsecRecord& r = records.emplace_back();
        r.len = uint16_t(b.size());
        r.off = uint32_t(bytes_.size());
        if (seen) {
            auto [it, fresh] = seen->try_emplace(std::string(b), r.off);
            if (!fresh) {
                r.off = it->second;
                return r;
            }
        }
        bytes_.append(b);
        return r;
    }
    // After the last add(): the lists at their size.
    void seal() {
        records.shrink_to_fit();
        bytes_.shrink_to_fit();
    }
    // NSEC3 only: nsecs[k]'s owner, <base32hex(hash)>.<origin>, canonical wire (an NSEC's
    // is its node's name).
    std::vector<std::string> nsec3_owners;
    // The NSEC at owner `nodes[i]` (index into nsecs), -1: none (empty non-terminal, occluded).
    // NSEC3: the NSEC3 of `nodes[i]`'s hash (empty non-terminals have one), -1: occluded.
    std::vector<int32_t> nsec_of;
    // NSEC3 only: nsecs[k]'s hash (ascending), the salt, and per node the NSEC3 covering
    // *.<node> (its wildcard's absence when it is a closest encloser; -1: occluded).
    std::vector<dnssec::Sha1Digest> nsec3_hashes;
    std::string nsec3_salt;
    std::vector<int32_t> wild_cover;

private:
    std::string bytes_;
};

// One address set a service owner may answer, signed ahead (each pool's set, all
// pools' together): a health flip finds its signatures here without hashing anything.
struct Presigned {
    uint16_t type = 0;
    uint32_t ttl = 0;                 // original TTL
    std::vector<std::string> rdatas;  // sorted
    SigSet sigs;
};

// What a signed zone's signing made that no health change alters: the signatures of
// its static RRsets (the catalog's own), its NSEC/NSEC3 chain with every answer shape,
// and each service owner's presigned address sets. Consecutive Views share it while
// its inputs are the same (SignedZone::same_inputs), so that a flip re-signs and
// re-sorts nothing (dns/view_signing.cpp). Built once, then read-only.
struct SignedZone {
    // Its inputs: the catalog's node table (identity: a reload or an edit makes a new
    // one), the keys that sign (DNSKEY rdata, ZSKs then KSKs), the negative TTL, and
    // per service owner (in node order) whether it answers CNAME (its NSEC shapes).
    const void* table = nullptr;
    std::vector<std::string> keys;
    uint32_t negative_ttl = 0;
    std::vector<bool> shapes;
    int64_t expiration = 0;        // the earliest of its signatures' (Unix seconds)
    Denial denial;
    StaticSigs statics;  // the catalog's RRsets' signatures
    // Per service owner that answers its own name (ZoneData::nodes index, NodeReach::Exact):
    // its presigned address sets.
    std::vector<std::pair<uint32_t, std::vector<Presigned>>> presigned;  // sorted by node
    const std::vector<Presigned>* presigned_at(uint32_t node) const noexcept;
};

struct ZoneData {
    const zones::Zone* zone = nullptr;
    int32_t stable_id = -1;  // ViewOptions::zone_ids, for per-zone counters
    std::string_view origin;  // canonical wire, the catalog zone's
    int origin_labels = 0;
    std::vector<VNode> nodes;
    NameIndex index;
    const zones::RRset* soa = nullptr;
    uint32_t negative_ttl = 0;  // min(SOA TTL, SOA minimum)
    int32_t negative_blob = -1; // SOA in authority, rendered for qname = origin; -1: none
    // DNSSEC: signed (keys given), and what its signing made (shared with the Views
    // before and after it while the zone, its keys and its shapes stay the same).
    bool signed_zone = false;
    std::shared_ptr<const SignedZone> signing;
    const Denial& denial() const noexcept {
        static const Denial none;
        return signing ? signing->denial : none;
    }

    const VNode* find(const uint8_t* wire, std::size_t len) const noexcept {
        int32_t i = index.find(wire, len, [this](int32_t k) noexcept { return nodes[std::size_t(k)].name(); });
        return i < 0 ? nullptr : &nodes[std::size_t(i)];
    }
};

// Pre-renders the fast path's answers (dns/prerender.cpp); end of build_view. `before`:
// the View this one replaces (ViewOptions::previous), whose blobs it copies for the nodes
// whose answers cannot have changed, rendering the others within the budget.
void prerender(View& view, const View* before);
// Signs the signed zones (dns/view_signing.cpp): View::sig_index_, ZoneData::nsecs.
// After the zones' indexes are built, before prerender. `before`: the View this one
// replaces (ViewOptions::previous), whose signing it reuses where nothing changed.
void sign_view(View& view, const View* before);

// The general renderer's part in pre-rendering (dns/answer.cpp). Control loop only.
enum class RenderMode { Resolve, Negative };
// What a render read besides its node's own data: whether the answer picked a service
// other than `own_service` (an NS or MX target's addresses, say), so that a View built
// later may copy the blob only while that service's answer too is unchanged.
struct RenderNotes {
    int32_t own_service = -1;
    bool other_services = false;  // sticky over the renders of one node
};
// Renders (qname, qtype) in zone z against a question of exactly `qname`
// (canonical wire); appends the blob to the View and returns its index, or -1
// when the answer is not reusable (too large, random, client-dependent).
// Service `force_service` answers decision `force_decision` (one of its own) with
// `force_variant` (nullptr: NODATA), whatever client the query would come from.
// `dnssec`: as a query with DO=1 would be answered (signed zones: RRSIGs). `notes`:
// what the render read (see RenderNotes); null: not wanted.
int32_t render_blob(View& view, std::vector<uint8_t>& scratch, const ZoneData& z, std::string_view qname,
                    uint16_t qtype, RenderMode mode, int32_t force_service = -1,
                    const DecisionData* force_decision = nullptr, const policy::Variant* force_variant = nullptr,
                    bool dnssec = false, RenderNotes* notes = nullptr);
// How the general renderer's lookup (RFC 1034 §4.3.2) reaches node `n` by its own name.
enum class NodeReach {
    Exact,       // the node answers its own name
    Delegation,  // the node is a zone cut: a referral
    Other,       // occluded below a cut: only the general renderer answers
};
NodeReach node_reach(const ZoneData& z, const VNode& n) noexcept;

}  // namespace signpost::dns::detail

namespace signpost::dns {

class View {
public:
    std::shared_ptr<const zones::Catalog> catalog_;
    uint64_t generation_ = 0;
    ViewOptions options_;
    std::vector<policy::Evaluation> evaluations_;  // indexed by Service::index
    std::vector<detail::ServiceData> services_;     // indexed by Service::index
    std::vector<detail::ZoneData> zones_;
    detail::NameIndex zone_index_;                  // origin → zones_ index
    unsigned geo_fields_ = 0;                       // geo::Field bits any geo service reads

    // The zone whose origin is exactly `wire`, or -1.
    int32_t find_zone(const uint8_t* wire, std::size_t len) const noexcept {
        return zone_index_.find(wire, len, [this](int32_t k) noexcept { return zones_[std::size_t(k)].origin; });
    }
    std::deque<zones::RRset> owned_;                // synthesized RRsets (SOA, state TXT)
    std::vector<uint32_t> owned_slots_;             // owned_[k] is node_rrsets_[owned_slots_[k]] (UINT32_MAX: none)
    // VNode names the catalog has no node for; shared with the Views built after this one
    // from the same catalog (their nodes are this View's, cloned: see build_view).
    std::shared_ptr<std::deque<std::string>> owned_names_ = std::make_shared<std::deque<std::string>>();
    std::vector<const zones::RRset*> node_rrsets_;  // every VNode::rrsets, node after node
    // The fast path: pre-rendered answers (see detail::Blob).
    std::vector<detail::FastType> fast_types_;
    std::vector<detail::Blob> blobs_;
    std::vector<uint8_t> arena_;
    std::vector<uint16_t> relocs_;
    // Signed Views (any_signed_) only: each blob's first entry in splices_, one per blob
    // (a blob's splices run to the next blob's first); empty in an unsigned View.
    std::vector<detail::Splice> splices_;
    std::vector<uint32_t> blob_splices_;
    std::span<const detail::Splice> splices_of(const detail::Blob* b) const noexcept {
        if (blob_splices_.empty()) return {};
        const std::size_t i = std::size_t(b - blobs_.data());
        const uint32_t first = blob_splices_[i];
        const uint32_t last = i + 1 < blob_splices_.size() ? blob_splices_[i + 1] : uint32_t(splices_.size());
        return {splices_.data() + first, last - first};
    }
    // Nodes over ViewOptions::prerender_budget (detail::kDeferred), and how many nodes this
    // View rendered and how many it copied from the View before (view_bench, tests).
    std::size_t deferred_ = 0, rendered_nodes_ = 0, copied_nodes_ = 0;
    // DNSSEC (signed zones only): signatures by what they cover (detail::SigIndex):
    // the zones' SignedZone static items, and this View's own (its SOA, keys and state
    // TXT records, the answers no SignedZone presigned).
    bool any_signed_ = false;
    std::vector<std::shared_ptr<const detail::SigSet>> sigsets_;
    detail::SigIndex sig_index_;
    // Each service's state TXT (by Service::index; txt null: none) and its signatures,
    // which the next View reuses while the text is the same.
    struct StateTxt {
        uint32_t zone = 0, node = 0;  // zones_[zone].nodes[node]
        zones::RRset* txt = nullptr;  // in owned_
        uint32_t owned = UINT32_MAX;  // txt's index in owned_
        std::shared_ptr<const detail::SigSet> sigs;
        int64_t expiration = 0;
    };
    std::vector<StateTxt> state_txts_;
    // State TXT records whose new text this View did not sign (over
    // ViewOptions::state_signature_budget): it serves their previous text, still
    // signed, and sign_pending() signs the new one for the next View.
    struct PendingSig {
        std::size_t zone = 0;  // zones_ index
        core::Name owner;
        uint32_t ttl = 0;
        std::string rdata;
    };
    std::vector<PendingSig> pending_;
};

}  // namespace signpost::dns
