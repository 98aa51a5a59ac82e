// Answers one DNS query from a View: parses the header, question and EDNS, finds
// the zone and node, renders the reply with name compression into the caller's
// buffer. Runs on DNS workers: noexcept, no allocation, no locks, no syscalls.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/wire.hpp"
#include "dns/view.hpp"
#include "dns/view_impl.hpp"
#include "dnssec/sha1.hpp"
#include "dnssec/sign.hpp"
#include "geo/database.hpp"

namespace signpost::dns {

namespace {

namespace rt = zones::rrtype;

using core::kClassAny;
using core::kClassCh;
using core::kClassIn;
using core::kEcsOption;
using core::kNsidOption;
constexpr int kMaxChain = 8;         // CNAMEs followed inside a zone
constexpr int kMaxAdditional = 16;   // target names whose addresses go in additional
constexpr int kMaxLabels = 128;

enum Rcode : uint16_t { NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4, Refused = 5, BadVers = 16 };

using core::get16;
using core::get32;
inline uint8_t lower(uint8_t c) noexcept { return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c; }

// A name in canonical (lowercase) wire form with its label offsets.
struct WireName {
    uint8_t bytes[256];
    uint16_t len = 0;             // including the root byte
    uint8_t offsets[kMaxLabels];  // start of each label; offsets[labels] would be the root
    int labels = 0;

    WireName() noexcept {}  // bytes and offsets stay unset until set(): nothing to zero per query

    // From uncompressed wire bytes; false when malformed.
    bool set(const uint8_t* p, std::size_t avail) noexcept {
        len = 0;
        labels = 0;
        for (;;) {
            if (len >= avail) return false;
            uint8_t l = p[len];
            if (l > 63) return false;
            if (std::size_t(len) + 1 + l > 255 || std::size_t(len) + 1 + l > avail) return false;
            if (l == 0) {
                len += 1;
                break;
            }
            if (labels >= kMaxLabels - 1) return false;
            offsets[labels++] = uint8_t(len);
            len = uint16_t(len + 1 + l);
        }
        // Lowercase eight bytes at a time; length bytes (< 64) are never in 'A'..'Z'.
        std::size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            w = lower8(w);
            std::memcpy(bytes + i, &w, 8);
        }
        for (; i < len; ++i) bytes[i] = lower(p[i]);
        return true;
    }
    static uint64_t lower8(uint64_t w) noexcept {
        constexpr uint64_t k7f = 0x7f7f7f7f7f7f7f7full, k80 = 0x8080808080808080ull;
        uint64_t low = w & k7f;
        uint64_t ge_a = low + 0x3f3f3f3f3f3f3f3full;  // bit 7 set when (b & 0x7f) >= 'A'
        uint64_t gt_z = low + 0x2525252525252525ull;  // bit 7 set when (b & 0x7f) > 'Z'
        uint64_t upper = ge_a & ~gt_z & ~w & k80;     // and b < 0x80
        return w | (upper >> 2);
    }
    const uint8_t* suffix(int i) const noexcept { return bytes + (i < labels ? offsets[i] : len - 1); }
    std::size_t suffix_len(int i) const noexcept { return len - (i < labels ? offsets[i] : len - 1); }
};

// Length of an uncompressed wire name at p (within n bytes), 0 when malformed.
std::size_t name_length(const uint8_t* p, std::size_t n) noexcept {
    std::size_t i = 0;
    for (;;) {
        if (i >= n) return 0;
        uint8_t l = p[i];
        if (l > 63) return 0;
        if (l == 0) return i + 1 > 255 ? 0 : i + 1;
        i += 1 + l;
    }
}

struct Query {
    uint16_t id = 0;
    uint8_t flags1 = 0;  // QR|Opcode|AA|TC|RD
    uint8_t flags2 = 0;  // RA|Z|AD|CD|RCODE
    std::size_t question_end = 0;  // offset just after QCLASS
    bool has_question = false;
    WireName qname;
    uint16_t qtype = 0, qclass = 0;
    bool has_opt = false;
    uint16_t udp_size = 512;
    uint8_t edns_version = 0;
    bool do_bit = false;
    bool has_ecs = false;
    uint16_t ecs_family = 0;
    uint8_t ecs_source = 0;
    uint8_t ecs_address[16] = {};
    uint8_t ecs_address_len = 0;
    bool nsid = false;                   // asked for NSID (RFC 5001) and we have one to send
    const uint8_t* nsid_data = nullptr;  // the identity's bytes (ServerIdentity)
    uint8_t nsid_len = 0;
};

// Skips a possibly compressed name in a record of the additional section.
bool skip_name(const uint8_t* p, std::size_t n, std::size_t& off) noexcept {
    for (int guard = 0; guard < 128; ++guard) {
        if (off >= n) return false;
        uint8_t l = p[off];
        if ((l & 0xc0) == 0xc0) {
            if (off + 2 > n) return false;
            off += 2;
            return true;
        }
        if (l & 0xc0) return false;
        off += 1 + l;
        if (l == 0) return off <= n;
    }
    return false;
}

// Result of parsing everything after the question.
enum class Parse { Ok, FormErr, BadVers, EcsFormErr };

Parse parse_opt(const uint8_t* rd, std::size_t rdlen, Query& q) noexcept {
    std::size_t off = 0;
    while (off < rdlen) {
        if (off + 4 > rdlen) return Parse::FormErr;
        uint16_t code = get16(rd + off), len = get16(rd + off + 2);
        off += 4;
        if (off + len > rdlen) return Parse::FormErr;
        if (code == kEcsOption) {
            if (q.has_ecs) return Parse::EcsFormErr;  // RFC 7871 §6: at most one ECS option
            if (len < 4) return Parse::EcsFormErr;
            const uint8_t* o = rd + off;
            uint16_t family = get16(o);
            uint8_t source = o[2], scope = o[3];
            unsigned max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
            if (max_bits == 0 || source > max_bits || scope != 0) return Parse::EcsFormErr;
            unsigned bytes = (source + 7u) / 8u;
            if (len - 4u != bytes) return Parse::EcsFormErr;
            // Bits beyond SOURCE PREFIX-LENGTH must be zero (RFC 7871 §6).
            if (source % 8 != 0 && (o[4 + bytes - 1] & uint8_t(0xffu >> (source % 8))) != 0)
                return Parse::EcsFormErr;
            q.has_ecs = true;
            q.ecs_family = family;
            q.ecs_source = source;
            q.ecs_address_len = uint8_t(bytes);
            std::memset(q.ecs_address, 0, sizeof q.ecs_address);
            std::memcpy(q.ecs_address, o + 4, bytes);
        }
        // NSID (RFC 5001 §2.1): the requester sends it empty; a payload is ignored.
        // Only remembered here: answer_query decides whether we have one to send.
        if (code == kNsidOption) q.nsid = true;
        // Other options (cookies, padding, ...) are ignored (RFC 6891 §6.1.2).
        off += len;
    }
    return Parse::Ok;
}

Parse parse_rest(const uint8_t* p, std::size_t n, Query& q) noexcept {
    uint16_t ancount = get16(p + 6), nscount = get16(p + 8), arcount = get16(p + 10);
    if (ancount != 0 || nscount != 0) return Parse::FormErr;
    std::size_t off = q.question_end;
    Parse pending = Parse::Ok;
    for (unsigned i = 0; i < arcount; ++i) {
        std::size_t name_at = off;
        if (!skip_name(p, n, off)) return Parse::FormErr;
        if (off + 10 > n) return Parse::FormErr;
        uint16_t type = get16(p + off), cls = get16(p + off + 2);
        uint32_t ttl = get32(p + off + 4);
        uint16_t rdlen = get16(p + off + 8);
        off += 10;
        if (off + rdlen > n) return Parse::FormErr;
        if (type == rt::OPT) {
            if (q.has_opt) return Parse::FormErr;                        // RFC 6891 §6.1.1
            if (off - 10 - name_at != 1 || p[name_at] != 0) return Parse::FormErr;  // owner must be root
            q.has_opt = true;
            q.udp_size = cls;
            q.edns_version = uint8_t((ttl >> 16) & 0xff);
            q.do_bit = (ttl & 0x8000) != 0;
            Parse r = parse_opt(p + off, rdlen, q);
            if (r != Parse::Ok && pending == Parse::Ok) pending = r;
        }
        off += rdlen;
    }
    if (off != n) return Parse::FormErr;  // trailing garbage
    if (pending == Parse::FormErr) return Parse::FormErr;
    if (q.has_opt && q.edns_version > 0) return Parse::BadVers;
    return pending;
}

// ---------------------------------------------------------------------------
// Writing the reply.

struct CompressionEntry {
    uint16_t offset;  // where a name (suffix) starts in the packet
    uint8_t length;   // its uncompressed wire length
};

class Writer {
public:
    Writer(uint8_t* buf, std::size_t cap) noexcept : buf_(buf), cap_(cap) {}

    std::size_t size() const noexcept { return len_; }
    uint8_t* data() noexcept { return buf_; }
    void set_cap(std::size_t cap) noexcept { cap_ = cap; }
    std::size_t cap() const noexcept { return cap_; }

    bool bytes(const void* p, std::size_t n) noexcept {
        if (len_ + n > cap_) return false;
        std::memcpy(buf_ + len_, p, n);
        len_ += n;
        return true;
    }
    bool u16(uint16_t v) noexcept {
        uint8_t b[2] = {uint8_t(v >> 8), uint8_t(v)};
        return bytes(b, 2);
    }
    bool u32(uint32_t v) noexcept {
        uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
        return bytes(b, 4);
    }
    void patch16(std::size_t at, uint16_t v) noexcept {
        buf_[at] = uint8_t(v >> 8);
        buf_[at + 1] = uint8_t(v);
    }
    // Rolls back to `at`, forgetting compression targets written after it.
    void truncate(std::size_t at) noexcept {
        len_ = at;
        while (nentries_ > 0 && entries_[nentries_ - 1].offset >= at) --nentries_;
        while (nptrs_ > 0 && ptrs_[nptrs_ - 1] >= at) --nptrs_;
    }
    // Records where compression pointers are written (pre-rendering only).
    void record_pointers(uint16_t* at, int max) noexcept {
        ptrs_ = at;
        maxptrs_ = max;
        nptrs_ = 0;
    }
    int pointers() const noexcept { return ptr_overflow_ ? -1 : nptrs_; }

    // Registers the name at `at` (uncompressed up to its end, as the question is)
    // so that later names can point into it.
    void remember_name(std::size_t at) noexcept {
        std::size_t total = 0;
        while (buf_[at + total] != 0) total += 1 + buf_[at + total];
        total += 1;
        std::size_t i = 0;
        while (buf_[at + i] != 0) {
            add_entry(at + i, total - i);
            i += 1 + buf_[at + i];
        }
    }

    // Writes a canonical wire name (uncompressed input), compressed against
    // earlier names when `compress` is true.
    bool name(const uint8_t* n, std::size_t nlen, bool compress) noexcept {
        if (!compress) {
            std::size_t start = len_;
            if (!bytes(n, nlen)) return false;
            (void)start;
            return true;
        }
        std::size_t start = len_;
        std::size_t pos = 0;
        while (n[pos] != 0) {
            int target = find(n + pos, nlen - pos);
            if (target >= 0) {
                if (!bytes(n, pos)) return false;
                if (ptrs_) {
                    if (nptrs_ < maxptrs_) ptrs_[nptrs_++] = uint16_t(len_);
                    else ptr_overflow_ = true;
                }
                if (!u16(uint16_t(0xc000 | target))) {
                    len_ = start;
                    return false;
                }
                add_prefix_entries(start, n, pos, nlen);
                return true;
            }
            pos += 1 + n[pos];
        }
        if (!bytes(n, nlen)) return false;
        add_prefix_entries(start, n, nlen - 1, nlen);
        return true;
    }

private:
    void add_entry(std::size_t at, std::size_t length) noexcept {
        if (at > 0x3fff || nentries_ >= kEntries || length > 255) return;
        entries_[nentries_++] = CompressionEntry{uint16_t(at), uint8_t(length)};
    }
    // The labels written uncompressed at `start` (the first `prefix` bytes of n).
    void add_prefix_entries(std::size_t start, const uint8_t* n, std::size_t prefix, std::size_t nlen) noexcept {
        for (std::size_t i = 0; i < prefix; i += 1 + n[i]) add_entry(start + i, nlen - i);
    }
    // An earlier name equal to the canonical suffix s (case-insensitively).
    int find(const uint8_t* s, std::size_t slen) const noexcept {
        for (int e = 0; e < nentries_; ++e) {
            if (entries_[e].length != slen) continue;
            if (equals(entries_[e].offset, s)) return entries_[e].offset;
        }
        return -1;
    }
    bool equals(std::size_t at, const uint8_t* s) const noexcept {
        std::size_t i = 0;
        for (int hops = 0; hops < 64;) {
            uint8_t l = buf_[at];
            if ((l & 0xc0) == 0xc0) {
                at = ((l & 0x3f) << 8) | buf_[at + 1];
                ++hops;
                continue;
            }
            if (l != s[i]) return false;
            if (l == 0) return true;
            for (unsigned k = 1; k <= l; ++k)
                if (lower(buf_[at + k]) != s[i + k]) return false;
            at += 1 + l;
            i += 1 + l;
        }
        return false;
    }

    static constexpr int kEntries = 96;
    uint8_t* buf_;
    std::size_t cap_;
    std::size_t len_ = 0;
    CompressionEntry entries_[kEntries];
    int nentries_ = 0;
    uint16_t* ptrs_ = nullptr;
    int nptrs_ = 0, maxptrs_ = 0;
    bool ptr_overflow_ = false;
};

// Thread-local xorshift64*: the random number behind each variant pick; not for
// anything security-sensitive. seed_variant_random() makes it reproducible.
thread_local uint64_t random_state = 0;

uint64_t next_random() noexcept {
    uint64_t& state = random_state;
    if (state == 0) state = 0x9e3779b97f4a7c15ull ^ reinterpret_cast<uintptr_t>(&state);
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
}

// The variant of `d` this query answers with (policy::pick_variant), or null: NODATA.
const policy::Variant* pick_variant(const detail::DecisionData& d) noexcept {
    auto& vs = d.decision->variants;
    if (vs.size() <= 1) return vs.empty() ? nullptr : &vs[0];
    std::size_t i = policy::pick_variant(d.cumulative, next_random());
    return i < vs.size() ? &vs[i] : nullptr;
}

// ---------------------------------------------------------------------------

// The client that subnet rules and geo services answer: the ECS address when the
// query carries one, else the resolver's; located in the geo databases at most once
// per query (the first geo service met).
struct ClientPlace {
    core::IpAddress address;
    bool use_subnet = true;  // false when ECS SOURCE PREFIX-LENGTH is 0: every rule's default
    bool located = false;
    geo::Location where{};
};

ClientPlace client_place(const Query& q, const core::IpAddress& source) noexcept {
    ClientPlace p;
    p.address = source;
    if (q.has_ecs) {
        p.use_subnet = q.ecs_source > 0;
        p.address = core::IpAddress{};
        p.address.v6 = q.ecs_family == 2;
        std::memcpy(p.address.bytes.data(), q.ecs_address, q.ecs_address_len);
    }
    return p;
}

// A subnet-dependent service's decision for one client, as both the general renderer
// and the fast path take it (one implementation).
struct ClientDecision {
    const detail::DecisionData* data = nullptr;
    // The geo answer counter this answer adds to (rule, nearest pool or default);
    // counts null: not counted (subnet rules, no database, ECS SOURCE 0).
    detail::GeoCounts* counts = nullptr;
    std::size_t counter = 0;
    uint8_t scope = 0;  // the ECS SCOPE PREFIX-LENGTH this decision needs
};

// Geo services (policy::GeoMatcher): the scope is the database network's prefix
// length, never longer than the query's source prefix. Without a database: the default.
ClientDecision geo_decision(const View& view, const Query& q, ClientPlace& place,
                            const detail::ServiceData& sd) noexcept {
    const geo::Databases* dbs = view.options_.geo.get();
    if (!dbs) return {&sd.fallback};
    // Looked up once per query, reading the fields any geo service of the View uses
    // (a second geo service in one answer, e.g. behind a CNAME, finds its own).
    if (!place.located) {
        place.where = dbs->lookup(place.address, view.geo_fields_);
        place.located = true;
    }
    ClientDecision d;
    d.scope = place.where.prefix_length;
    if (q.has_ecs && d.scope > q.ecs_source) d.scope = q.ecs_source;
    policy::GeoMatch m = sd.geo_match.match(place.where, sd.geo_up);
    d.counts = sd.geo_counts.get();
    if (m.kind == policy::GeoMatch::Kind::Rule && m.index < sd.geo_rules.size()) {
        d.data = &sd.geo_rules[m.index];
        if (d.counts) d.counter = d.counts->rule(m.index);
    } else if (m.kind == policy::GeoMatch::Kind::Nearest && m.index < sd.geo_pools.size()) {
        d.data = &sd.geo_pools[m.index];
        if (d.counts) d.counter = d.counts->pool(m.index);
    } else {
        d.data = &sd.fallback;
        if (d.counts) d.counter = d.counts->fallback();
    }
    return d;
}

// The decision service `sd` answers this client with: its fallback unless it has
// subnet rules (policy::match_subnet) or is a geo service.
ClientDecision client_decision(const View& view, const Query& q, ClientPlace& place,
                               const detail::ServiceData& sd) noexcept {
    if (!sd.subnet_dependent || !place.use_subnet) return {&sd.fallback};
    if (sd.geo) return geo_decision(view, q, place, sd);
    policy::SubnetMatch m = policy::match_subnet(sd.prefixes, place.address);
    ClientDecision d;
    d.data = m.rule < sd.rules.size() ? &sd.rules[m.rule] : &sd.fallback;
    d.scope = m.scope;
    return d;
}

struct Context {
    const View& view;
    const Query& q;
    Writer& w;
    ClientPlace place;        // who subnet rules and geo services answer
    uint8_t ecs_scope = 0;
    uint16_t rcode = NoError;
    bool aa = true;
    uint16_t ancount = 0, nscount = 0, arcount = 0;
    bool overflow = false;    // answer or authority did not fit: truncate
    bool referral = false;
    const detail::ZoneData* zone = nullptr;
    // What the query's own name found (a Lookup::Kind and its node): how RRL classes it.
    int first_kind = -1;
    const detail::VNode* first_node = nullptr;
    // Names whose addresses go in the additional section.
    const uint8_t* extra[kMaxAdditional] = {};
    std::size_t extra_len[kMaxAdditional] = {};
    bool extra_glue[kMaxAdditional] = {};  // NS targets: glue below a cut is allowed
    int nextra = 0;
    // Pre-rendering: service `force_service` answers `force_decision` with
    // `force_variant`; `unstable` is set when the answer depends on a random pick or
    // on the client; nothing is counted.
    bool prerendering = false;
    int32_t force_service = -1;
    const detail::DecisionData* force_decision = nullptr;
    const policy::Variant* force_variant = nullptr;
    bool unstable = false;
    // DNSSEC: DO=1 in a signed zone. Answer and authority RRsets carry their RRSIGs;
    // what the authority section must prove is written once the chain ends (resolve).
    bool dnssec = false;
    enum class Deny : uint8_t { None, NoData, NxDomain } deny = Deny::None;
    const detail::VNode* deny_node = nullptr;  // NODATA: the node (exact or wildcard) answered from
    uint32_t deny_ttl_cap = UINT32_MAX;        // the NSECs' TTL as the SOA's: a service's NODATA lasts its TTL
    WireName deny_name{};                       // the name without data, or that does not exist
    bool wild = false;                          // a wildcard answered for `wild_name`
    WireName wild_name{};
    // One variant per service per query: a CNAME and what follows it, A then AAAA,
    // the additional section, all come from the same pick (see service_pick).
    struct Picks {
        static constexpr int kMax = 4;  // services met in one answer; more: picked again
        int n = 0;
        int32_t service[kMax];  // entries below n only: not zeroed per query
        const policy::Decision* decision[kMax];
        const policy::Variant* variant[kMax];
        Picks() noexcept {}
    } picks{};
    bool picks_overflow = false;  // a service met after kMax others: picked, not recorded
    // Pre-rendering a DO=1 blob: where each RRSIG's rdata was written (render_blob
    // leaves them out of the arena: detail::Splice). Null otherwise.
    struct SigSpots {
        static constexpr int kMax = 8;  // more: the rest stay in the arena
        int n = 0;
        std::size_t pos[kMax];
        const core::SharedBytes* rrsig[kMax];
    }* sig_spots = nullptr;

    void want_additional(const uint8_t* name, std::size_t len, bool glue) noexcept {
        if (nextra < kMaxAdditional) {
            extra[nextra] = name;
            extra_len[nextra] = len;
            extra_glue[nextra] = glue;
            ++nextra;
        }
    }
};

// Writes one RR; rolls back and returns false when it does not fit.
// `rd2` (rd2len bytes): more rdata after `rd`, written as it is (an NSEC's bit maps after
// its next name).
bool write_rr(Context& c, const uint8_t* owner, std::size_t owner_len, uint16_t type, uint32_t ttl,
              const uint8_t* rd, std::size_t rdlen, const uint8_t* rd2 = nullptr, std::size_t rd2len = 0) noexcept {
    Writer& w = c.w;
    std::size_t start = w.size();
    auto fail = [&] {
        w.truncate(start);
        return false;
    };
    if (!w.name(owner, owner_len, true) || !w.u16(type) || !w.u16(kClassIn) || !w.u32(ttl) || !w.u16(0))
        return fail();
    std::size_t rdstart = w.size();
    bool done = false;
    switch (type) {
        case rt::NS:
        case rt::CNAME:
        case rt::PTR: {
            std::size_t l = name_length(rd, rdlen);
            if (l == rdlen) {
                if (!w.name(rd, l, true)) return fail();
                done = true;
            }
            break;
        }
        case rt::MX: {
            std::size_t l = rdlen > 2 ? name_length(rd + 2, rdlen - 2) : 0;
            if (l != 0 && l + 2 == rdlen) {
                if (!w.bytes(rd, 2) || !w.name(rd + 2, l, true)) return fail();
                done = true;
            }
            break;
        }
        case rt::SOA: {
            std::size_t l1 = name_length(rd, rdlen);
            std::size_t l2 = l1 ? name_length(rd + l1, rdlen - l1) : 0;
            if (l1 && l2 && l1 + l2 + 20 == rdlen) {
                if (!w.name(rd, l1, true) || !w.name(rd + l1, l2, true) || !w.bytes(rd + l1 + l2, 20))
                    return fail();
                done = true;
            }
            break;
        }
        default: break;
    }
    if (!done && !w.bytes(rd, rdlen)) return fail();
    if (rd2len != 0 && !w.bytes(rd2, rd2len)) return fail();
    std::size_t n = w.size() - rdstart;
    if (n > 0xffff) return fail();
    w.patch16(rdstart - 2, uint16_t(n));
    return true;
}

enum class Section { Answer, Authority, Additional };

// DNSSEC: the RRSIGs over an RRset just written (none when the zone is not signed,
// the query has no DO bit, or the section is the additional one).
bool write_sigs(Context& c, Section sec, const uint8_t* owner, std::size_t owner_len, const detail::SigSet* sigs,
                uint32_t ttl) noexcept {
    if (!c.dnssec || sec == Section::Additional || !sigs) return true;
    uint16_t n = 0;
    for (auto& rd : *sigs) {
        if (!write_rr(c, owner, owner_len, rt::RRSIG, ttl, reinterpret_cast<const uint8_t*>(rd.data()), rd.size())) {
            c.overflow = true;
            return false;
        }
        if (auto* spots = c.sig_spots; spots && spots->n < spots->kMax) {
            spots->pos[spots->n] = c.w.size() - rd.size();  // RRSIG rdata is written as is
            spots->rrsig[spots->n++] = &rd;
        }
        ++n;
    }
    (sec == Section::Answer ? c.ancount : c.nscount) += n;
    return true;
}

// Writes a whole RRset or nothing.
bool write_rrset(Context& c, Section sec, const uint8_t* owner, std::size_t owner_len, const zones::RRset& s,
                 uint32_t ttl) noexcept {
    std::size_t start = c.w.size();
    uint16_t n = 0;
    for (auto rd : s.rdatas) {
        if (!write_rr(c, owner, owner_len, s.type, ttl, reinterpret_cast<const uint8_t*>(rd.data()), rd.size())) {
            c.w.truncate(start);
            if (sec != Section::Additional || c.referral) c.overflow = true;  // referral glue must fit
            return false;
        }
        ++n;
    }
    (sec == Section::Answer ? c.ancount : sec == Section::Authority ? c.nscount : c.arcount) += n;
    if (c.dnssec) return write_sigs(c, sec, owner, owner_len, c.view.sig_index_.find(&s, nullptr, s.type), ttl);
    return true;
}

bool write_rrset(Context& c, Section sec, const uint8_t* owner, std::size_t owner_len,
                 const zones::RRset& s) noexcept {
    return write_rrset(c, sec, owner, owner_len, s, s.ttl);
}

// The decision a service answers this client with (client_decision); updates the
// ECS scope and counts the geo answer.
const detail::DecisionData& service_decision(Context& c, const detail::ServiceData& sd) noexcept {
    if (sd.subnet_dependent) c.unstable = true;
    ClientDecision d = client_decision(c.view, c.q, c.place, sd);
    c.ecs_scope = std::max(c.ecs_scope, d.scope);
    if (d.counts && !c.prerendering) d.counts->add(d.counter);
    return *d.data;
}

// What a service answers this query with: its decision for this client and the
// variant picked (null: NODATA). Picked once per query and service; pre-rendering
// forces `force_decision` and `force_variant` for `force_service`.
struct Pick {
    const policy::Decision* decision = nullptr;
    const policy::Variant* variant = nullptr;
};
Pick service_pick(Context& c, int32_t service) noexcept {
    auto& picks = c.picks;
    for (int i = 0; i < picks.n; ++i)
        if (picks.service[i] == service) return Pick{picks.decision[i], picks.variant[i]};
    bool forced = service == c.force_service && c.force_decision;
    auto& d = forced ? *c.force_decision : service_decision(c, c.view.services_[std::size_t(service)]);
    Pick p{d.decision, nullptr};
    if (forced) {
        p.variant = c.force_variant;
    } else {
        p.variant = pick_variant(d);
        if (d.decision->variants.size() > 1) c.unstable = true;
    }
    if (picks.n < Context::Picks::kMax) {
        picks.service[picks.n] = service;
        picks.decision[picks.n] = p.decision;
        picks.variant[picks.n] = p.variant;
        ++picks.n;
    } else {
        c.picks_overflow = true;
    }
    return p;
}

// The pick of a service owner that answers CNAME <hostname> for this query (any
// type), or a Pick without variant: the owner answers addresses or NODATA.
Pick service_cname(Context& c, const detail::VNode& node) noexcept {
    if (!node.cname_ok || node.service < 0 || std::size_t(node.service) >= c.view.services_.size() ||
        !c.view.services_[std::size_t(node.service)].any_cname)
        return {};
    Pick p = service_pick(c, node.service);
    if (!p.variant || !p.variant->cname) p.variant = nullptr;
    return p;
}

// Address records of the service at `node`; returns false (NODATA) when the family
// is empty or the owner answers a CNAME. Hostname addresses carry policy::address_ttl.
bool write_service(Context& c, Section sec, const uint8_t* owner, std::size_t owner_len, const detail::VNode& node,
                   uint16_t type) noexcept {
    if (node.service < 0 || std::size_t(node.service) >= c.view.services_.size()) return false;
    Pick p = service_pick(c, node.service);
    const policy::Variant* v = p.variant;
    if (!v) return false;
    if (v->cname && node.cname_ok) return false;  // CNAME <hostname>: no addresses at this owner
    auto& addrs = type == rt::A ? v->v4 : v->v6;
    if (addrs.empty()) return false;
    uint32_t ttl = policy::address_ttl(p.decision->ttl, *v);
    std::size_t start = c.w.size();
    uint16_t n = 0;
    for (auto& a : addrs) {
        if (a.v6 != (type == rt::AAAA)) continue;
        if (!write_rr(c, owner, owner_len, type, ttl, a.bytes.data(), a.size())) {
            c.w.truncate(start);
            if (sec != Section::Additional || c.referral) c.overflow = true;
            return true;  // data existed; it just did not fit
        }
        ++n;
    }
    if (n == 0) return false;
    (sec == Section::Answer ? c.ancount : sec == Section::Authority ? c.nscount : c.arcount) += n;
    if (c.dnssec) write_sigs(c, sec, owner, owner_len, c.view.sig_index_.find(v, &node, type), ttl);
    return true;
}

void write_soa_authority(Context& c, uint32_t cap_ttl = UINT32_MAX) noexcept {
    auto& z = *c.zone;
    write_rrset(c, Section::Authority, reinterpret_cast<const uint8_t*>(z.origin.data()), z.origin.size(), *z.soa,
                std::min(z.negative_ttl, cap_ttl));
}

// NODATA at `node` for `owner` (a wildcard's node answers other names): the SOA, and
// with DNSSEC the node's NSEC, written when the chain ends (write_proofs).
void nodata(Context& c, const detail::VNode& node, const WireName& owner, uint32_t cap_ttl = UINT32_MAX) noexcept {
    write_soa_authority(c, cap_ttl);
    if (!c.dnssec) return;
    c.deny = Context::Deny::NoData;
    c.deny_node = &node;
    c.deny_ttl_cap = cap_ttl;
    c.deny_name = owner;
}

// Records the targets of NS/MX/SRV rdata for the additional section.
void collect_targets(Context& c, const zones::RRset& s) noexcept {
    for (auto rd : s.rdatas) {
        auto* p = reinterpret_cast<const uint8_t*>(rd.data());
        std::size_t skip = s.type == rt::NS ? 0 : s.type == rt::MX ? 2 : s.type == rt::SRV ? 6 : SIZE_MAX;
        if (skip == SIZE_MAX || rd.size() <= skip) continue;
        std::size_t l = name_length(p + skip, rd.size() - skip);
        if (l) c.want_additional(p + skip, l, s.type == rt::NS);
    }
}

// Node lookup inside a zone, RFC 1034 §4.3.2 with RFC 4592 wildcards.
struct Lookup {
    enum Kind { Exact, Wildcard, NxDomain, Delegation } kind = NxDomain;
    const detail::VNode* node = nullptr;  // exact/wildcard: the node; delegation: the cut
};

Lookup lookup(const detail::ZoneData& z, const WireName& n, uint16_t qtype) noexcept {
    // Suffix index of the origin within n.
    int apex_index = n.labels - z.origin_labels;
    Lookup r;
    const detail::VNode* encloser = z.find(n.suffix(apex_index), n.suffix_len(apex_index));
    if (!encloser) return r;  // cannot happen: the apex always exists
    for (int i = apex_index - 1; i >= 0; --i) {
        const detail::VNode* node = z.find(n.suffix(i), n.suffix_len(i));
        if (!node) {
            // Closest encloser found; only *.<closest encloser> may match (RFC 4592).
            uint8_t wc[256];
            std::size_t el = n.suffix_len(i + 1);
            if (el + 2 > 255) return r;
            wc[0] = 1;
            wc[1] = '*';
            std::memcpy(wc + 2, n.suffix(i + 1), el);
            const detail::VNode* w = z.find(wc, el + 2);
            if (w) {
                r.kind = w->cut ? Lookup::Delegation : Lookup::Wildcard;
                r.node = w;
            }
            return r;
        }
        if (node->cut && !(i == 0 && qtype == rt::DS)) {
            r.kind = Lookup::Delegation;
            r.node = node;
            return r;
        }
        encloser = node;
    }
    r.kind = Lookup::Exact;
    r.node = encloser;
    return r;
}

void write_additional(Context& c) noexcept {
    auto& z = *c.zone;
    for (int i = 0; i < c.nextra; ++i) {
        WireName t;
        if (!t.set(c.extra[i], c.extra_len[i])) continue;
        // Skip duplicates.
        bool dup = false;
        for (int j = 0; j < i && !dup; ++j)
            dup = c.extra_len[j] == c.extra_len[i] && std::memcmp(c.extra[j], c.extra[i], c.extra_len[i]) == 0;
        if (dup) continue;
        if (t.labels < z.origin_labels ||
            std::memcmp(t.suffix(t.labels - z.origin_labels), z.origin.data(), z.origin.size()) != 0)
            continue;  // out of zone
        const detail::VNode* node = nullptr;
        if (c.extra_glue[i]) {
            node = z.find(t.bytes, t.len);  // glue may sit below a cut
        } else {
            Lookup l = lookup(z, t, rt::A);  // authoritative data only: no occluded names
            if (l.kind == Lookup::Exact) node = l.node;
        }
        if (!node) continue;
        for (uint16_t type : {rt::A, rt::AAAA}) {
            if (node->service >= 0) {
                write_service(c, Section::Additional, t.bytes, t.len, *node, type);
            } else if (auto* s = node->find(type)) {
                write_rrset(c, Section::Additional, t.bytes, t.len, *s);
            }
        }
    }
}

void write_nsec(Context& c, int32_t k) noexcept;

void referral(Context& c, const detail::VNode& cut) noexcept {
    c.aa = false;
    c.referral = true;
    auto* ns = cut.find(rt::NS);
    auto* owner = reinterpret_cast<const uint8_t*>(cut.name().data());
    bool dnssec = c.dnssec;
    c.dnssec = false;  // NS at a cut is the child's: never signed here
    write_rrset(c, Section::Authority, owner, cut.name().size(), *ns);
    c.dnssec = dnssec;
    if (dnssec) {
        // A signed delegation shows its DS; an unsigned one proves there is none (RFC 4035 3.1.4).
        if (auto* ds = cut.find(rt::DS)) write_rrset(c, Section::Authority, owner, cut.name().size(), *ds);
        else write_nsec(c, c.zone->denial().nsec_of[std::size_t(&cut - c.zone->nodes.data())]);
    }
    collect_targets(c, *ns);
}

// Answers `qtype` at `node` for owner name `owner`; may follow a CNAME.
// Returns the next name to chase (CNAME target) through `next`, or false.
bool answer_node(Context& c, const detail::VNode& node, const WireName& owner, uint16_t qtype,
                 WireName& next) noexcept {
    const uint8_t* o = owner.bytes;
    std::size_t ol = owner.len;
    // A hostname endpoint at an owner that may hold a CNAME: CNAME <hostname> for
    // every type (the decision's TTL), followed in the zone like a static CNAME.
    if (node.cname_ok) {
        if (Pick p = service_cname(c, node); p.variant) {
            std::string_view target = p.variant->cname->wire();
            auto* t = reinterpret_cast<const uint8_t*>(target.data());
            if (!write_rr(c, o, ol, rt::CNAME, p.decision->ttl, t, target.size())) {
                c.overflow = true;
                return false;
            }
            ++c.ancount;
            if (c.dnssec &&
                !write_sigs(c, Section::Answer, o, ol, c.view.sig_index_.find(p.variant, &node, rt::CNAME), p.decision->ttl))
                return false;
            if (qtype == rt::CNAME || qtype == rt::ANY) return false;
            return next.set(t, target.size());
        }
    }
    auto* cname = node.find(rt::CNAME);
    if (cname && qtype != rt::CNAME && qtype != rt::ANY) {
        write_rrset(c, Section::Answer, o, ol, *cname);
        auto rd = cname->rdatas.front();
        return next.set(reinterpret_cast<const uint8_t*>(rd.data()), rd.size());
    }
    if (qtype == rt::ANY) {
        // RFC 8482: one RRset, the lowest type present (service addresses count as A, AAAA).
        if (node.service >= 0 && write_service(c, Section::Answer, o, ol, node, rt::A)) return false;
        for (auto* s : node.rrsets) {
            if (s->type > rt::AAAA && node.service >= 0 &&
                write_service(c, Section::Answer, o, ol, node, rt::AAAA))
                return false;
            write_rrset(c, Section::Answer, o, ol, *s);
            if (s->type == rt::NS || s->type == rt::MX || s->type == rt::SRV) collect_targets(c, *s);
            return false;
        }
        if (node.service >= 0 && write_service(c, Section::Answer, o, ol, node, rt::AAAA)) return false;
        nodata(c, node, owner);
        return false;
    }
    if ((qtype == rt::A || qtype == rt::AAAA) && node.service >= 0) {
        if (!write_service(c, Section::Answer, o, ol, node, qtype)) {
            uint32_t cap = UINT32_MAX;
            auto& sd = c.view.services_[std::size_t(node.service)];
            cap = sd.fallback.decision ? sd.fallback.decision->ttl : cap;
            nodata(c, node, owner, cap);
        }
        return false;
    }
    if (auto* s = node.find(qtype)) {
        write_rrset(c, Section::Answer, o, ol, *s);
        if (qtype == rt::NS || qtype == rt::MX || qtype == rt::SRV) collect_targets(c, *s);
        return false;
    }
    nodata(c, node, owner);
    return false;
}

void resolve_chain(Context& c, const detail::ZoneData& z) noexcept {
    const WireName* name = &c.q.qname;
    WireName names[2];
    int which = 0;
    // Names already visited in the chain, to stop loops early.
    uint8_t seen_hash_count = 0;
    uint64_t seen[kMaxChain + 1];
    seen[seen_hash_count++] = detail::hash_bytes(name->bytes, name->len);
    for (int step = 0;; ++step) {
        Lookup l = lookup(z, *name, c.q.qtype);
        if (step == 0) {
            c.first_kind = l.kind;
            c.first_node = l.node;
        }
        if (l.kind == Lookup::Delegation) {
            if (step == 0) referral(c, *l.node);
            return;  // a chain into delegated space: the resolver follows from here
        }
        if (l.kind == Lookup::NxDomain) {
            c.rcode = NxDomain;
            write_soa_authority(c);
            if (c.dnssec) {
                c.deny = Context::Deny::NxDomain;
                c.deny_name = *name;
            }
            return;
        }
        if (l.kind == Lookup::Wildcard && c.dnssec && !c.wild) {
            c.wild = true;
            c.wild_name = *name;
        }
        WireName& next = names[which];
        which ^= 1;
        if (!answer_node(c, *l.node, *name, c.q.qtype, next)) return;
        if (c.overflow || step + 1 >= kMaxChain) return;
        // Follow only inside this zone.
        if (next.labels < z.origin_labels ||
            std::memcmp(next.suffix(next.labels - z.origin_labels), z.origin.data(), z.origin.size()) != 0)
            return;
        uint64_t h = detail::hash_bytes(next.bytes, next.len);
        for (int i = 0; i < seen_hash_count; ++i)
            if (seen[i] == h) return;  // loop
        seen[seen_hash_count++] = h;
        name = &next;
    }
}

// DNSSEC denial (RFC 4035 3.1.3) from the zone's NSEC chain, no allocation.

// The NSEC whose owner is the greatest below `name` in canonical order: it covers
// a name that does not exist (the apex is the least owner, so one always does).
int32_t covering_nsec(const detail::ZoneData& z, const WireName& name) noexcept {
    std::string_view n(reinterpret_cast<const char*>(name.bytes), name.len);
    const auto& nsecs = z.denial().nsecs;
    std::size_t lo = 0, hi = nsecs.size();  // first owner >= name
    while (lo < hi) {
        std::size_t mid = (lo + hi) / 2;
        if (dnssec::canonical_compare(z.nodes[nsecs[mid].node].name(), n) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (nsecs.empty()) return -1;
    return int32_t(lo == 0 ? nsecs.size() - 1 : lo - 1);
}

// The NSEC records already in this answer (each once).
struct NsecsWritten {
    int32_t k[4];
    int n = 0;
};

// The answer shape of the service at `node` for this query (its NSEC's types).
uint8_t node_shape(Context& c, const detail::VNode& node) noexcept {
    if (node.service < 0 || std::size_t(node.service) >= c.view.services_.size()) return detail::kShapeNone;
    const policy::Variant* v = service_pick(c, node.service).variant;
    if (!v) return detail::kShapeNone;
    if (v->cname && node.cname_ok) return detail::kShapeCname;
    return uint8_t((v->v4.empty() ? 0 : detail::kShapeA) | (v->v6.empty() ? 0 : detail::kShapeAAAA));
}

// The NSEC at owner k with the types the owner has for this query (a service owner's
// depend on its answer): also when it only covers another name, so that a resolver
// reusing it (RFC 8198) learns nothing false about the owner.
// NSEC3 zones: the same, for the NSEC3 at index k (hash order).
void write_nsec(Context& c, int32_t k) noexcept {
    const detail::Denial& dn = c.zone->denial();
    if (k < 0 || std::size_t(k) >= dn.nsecs.size()) return;
    const detail::NsecData& d = dn.nsecs[std::size_t(k)];
    if (d.count == 0) return;
    const bool has_node = d.node != detail::kNoNode;
    uint8_t shape = has_node ? node_shape(c, c.zone->nodes[d.node]) : uint8_t(detail::kShapeNone);
    if (shape >= d.count) shape = detail::kShapeNone;
    const std::string_view owner = dn.nsec3 ? std::string_view(dn.nsec3_owners[std::size_t(k)]) : c.zone->nodes[d.node].name();
    auto* o = reinterpret_cast<const uint8_t*>(owner.data());
    const detail::NsecRecord& r = dn.records[d.first + shape];
    const uint32_t ttl = std::min(c.zone->negative_ttl, c.deny_ttl_cap);
    const uint16_t type = dn.nsec3 ? rt::NSEC3 : rt::NSEC;
    // NSEC: the next owner's name, then the bit maps; NSEC3: the record's own rdata.
    const std::string_view bytes = dn.bytes(r);
    const std::string_view rd = dn.nsec3 ? bytes : dn.next_name(std::size_t(k), c.zone->nodes);
    const std::string_view rd2 = dn.nsec3 ? std::string_view() : bytes;
    if (!write_rr(c, o, owner.size(), type, ttl, reinterpret_cast<const uint8_t*>(rd.data()), rd.size(),
                  reinterpret_cast<const uint8_t*>(rd2.data()), rd2.size())) {
        c.overflow = true;
        return;
    }
    ++c.nscount;
    write_sigs(c, Section::Authority, o, owner.size(), &r.sigs, ttl);
}

// NSEC3 (RFC 5155 7.2), no allocation: the NSEC3 whose hash is the greatest at or
// below `name`'s, wrapping to the last below the first: it matches or covers the name.
int32_t covering_nsec3(const detail::ZoneData& z, const uint8_t* name, std::size_t len) noexcept {
    const detail::Denial& d = z.denial();
    if (d.nsec3_hashes.empty()) return -1;
    const dnssec::Sha1Digest h =
        dnssec::nsec3_hash0(name, len, reinterpret_cast<const uint8_t*>(d.nsec3_salt.data()), d.nsec3_salt.size());
    auto it = std::upper_bound(d.nsec3_hashes.begin(), d.nsec3_hashes.end(), h);
    if (it == d.nsec3_hashes.begin()) return int32_t(d.nsec3_hashes.size() - 1);
    return int32_t(it - d.nsec3_hashes.begin() - 1);
}

// The closest encloser of `name` (RFC 5155 7.2.1): the suffix index i (name.suffix(i))
// of its longest existing ancestor, empty non-terminals included; -1 when none (cannot
// happen inside the zone: the apex exists).
int closest_encloser(const detail::ZoneData& z, const WireName& name, const detail::VNode** node) noexcept {
    for (int i = 1; i <= name.labels; ++i)
        if (const detail::VNode* n = z.find(name.suffix(i), name.suffix_len(i))) {
            *node = n;
            return i;
        }
    return -1;
}

template <class Put>
void write_nsec3_proofs(Context& c, Put& put) noexcept {
    const detail::ZoneData& z = *c.zone;
    auto own = [&](const detail::VNode* n) noexcept { return z.denial().nsec_of[std::size_t(n - z.nodes.data())]; };
    // The closest encloser proof for `name`: the encloser's NSEC3 when `with_encloser`,
    // the one covering the next closer name; returns the encloser (or null).
    auto encloser_proof = [&](const WireName& name, bool with_encloser) noexcept -> const detail::VNode* {
        const detail::VNode* ce = nullptr;
        int i = closest_encloser(z, name, &ce);
        if (i < 1) return nullptr;
        if (with_encloser) put(own(ce));
        put(covering_nsec3(z, name.suffix(i - 1), name.suffix_len(i - 1)));
        return ce;
    };
    if (c.deny == Context::Deny::NxDomain) {
        // RFC 5155 7.2.2: the closest encloser proof and the NSEC3 covering *.<encloser>.
        if (const detail::VNode* ce = encloser_proof(c.deny_name, true))
            put(z.denial().wild_cover[std::size_t(ce - z.nodes.data())]);
    } else if (c.deny == Context::Deny::NoData && c.deny_node) {
        // RFC 5155 7.2.3/7.2.4: the name's own NSEC3 (empty non-terminals and delegations
        // have one). For a wildcard (7.2.5) deny_node is the wildcard: its own NSEC3,
        // with the closest encloser proof for the query name below.
        put(own(c.deny_node));
        if (c.wild && c.wild_name.len == c.deny_name.len &&
            std::memcmp(c.wild_name.bytes, c.deny_name.bytes, c.deny_name.len) == 0) {
            encloser_proof(c.wild_name, true);
            return;
        }
    }
    // RFC 5155 7.2.6: a wildcard answered: the NSEC3 covering the next closer name.
    if (c.wild) encloser_proof(c.wild_name, false);
}

void write_proofs(Context& c) noexcept {
    const detail::ZoneData& z = *c.zone;
    NsecsWritten done;
    auto put = [&](int32_t k) noexcept {
        if (k < 0) return;
        for (int i = 0; i < done.n; ++i)
            if (done.k[i] == k) return;
        if (done.n < 4) done.k[done.n++] = k;
        write_nsec(c, k);
    };
    if (z.denial().nsec3) {
        write_nsec3_proofs(c, put);
        return;
    }
    if (c.deny == Context::Deny::NxDomain) {
        // The NSEC covering the name, and the one covering the wildcard at its closest
        // encloser (RFC 4035 3.1.3.2).
        put(covering_nsec(z, c.deny_name));
        for (int i = 1; i <= c.deny_name.labels; ++i) {
            if (!z.find(c.deny_name.suffix(i), c.deny_name.suffix_len(i))) continue;
            uint8_t wc[256];
            std::size_t el = c.deny_name.suffix_len(i);
            if (el + 2 > 255) break;
            wc[0] = 1;
            wc[1] = '*';
            std::memcpy(wc + 2, c.deny_name.suffix(i), el);
            WireName w;
            if (w.set(wc, el + 2)) put(covering_nsec(z, w));
            break;
        }
    } else if (c.deny == Context::Deny::NoData && c.deny_node) {
        // The node's own NSEC shows the type is absent (RFC 4035 3.1.3.1); an empty
        // non-terminal has none: the NSEC covering it proves it has no data.
        int32_t own = z.denial().nsec_of[std::size_t(c.deny_node - z.nodes.data())];
        if (own >= 0) put(own);
        else put(covering_nsec(z, c.deny_name));
    }
    // A wildcard answered: prove the name itself does not exist (RFC 4035 3.1.3.3, 3.1.3.4).
    if (c.wild) put(covering_nsec(z, c.wild_name));
}

void resolve(Context& c, const detail::ZoneData& z) noexcept {
    c.zone = &z;
    c.dnssec = c.q.do_bit && z.signed_zone;
    resolve_chain(c, z);
    if (c.dnssec && !c.overflow) write_proofs(c);
}

struct Reply {
    uint16_t rcode = NoError;
    bool aa = false;
    bool tc = false;
    bool question = false;
    bool opt = false;
    bool ecs = false;
    uint8_t ecs_scope = 0;
    uint16_t an = 0, ns = 0, ar = 0;
};

// The OPT record we send: ECS echoed when `ecs`, NSID when asked for (q.nsid).
std::size_t opt_size(const Query& q, bool ecs) noexcept {
    return 11 + (ecs ? 4 + 4 + q.ecs_address_len : 0) + (q.nsid ? 4 + q.nsid_len : 0);
}

void write_opt(Writer& w, const Query& q, uint16_t our_size, uint16_t rcode, bool ecs, uint8_t scope) noexcept {
    w.set_cap(w.cap() + opt_size(q, ecs));  // the space was reserved
    uint8_t root = 0;
    w.bytes(&root, 1);
    w.u16(rt::OPT);
    w.u16(our_size);
    uint32_t ttl = (uint32_t(rcode >> 4) << 24) | (q.do_bit ? 0x8000u : 0u);  // version 0
    w.u32(ttl);
    if (!ecs && !q.nsid) {
        w.u16(0);
        return;
    }
    w.u16(uint16_t(opt_size(q, ecs) - 11));
    if (q.nsid) {
        w.u16(kNsidOption);
        w.u16(q.nsid_len);
        w.bytes(q.nsid_data, q.nsid_len);
    }
    if (!ecs) return;
    w.u16(kEcsOption);
    w.u16(uint16_t(4 + q.ecs_address_len));
    w.u16(q.ecs_family);
    uint8_t b[2] = {q.ecs_source, scope};
    w.bytes(b, 2);
    w.bytes(q.ecs_address, q.ecs_address_len);
}

// The CHAOS TXT record for q (RFC 4892: id.server, hostname.bind; version.bind,
// version.server), or empty: REFUSED (another name or type, or not configured).
std::span<const uint8_t> chaos_record(const ServerIdentity* id, const Query& q) noexcept {
    if (!id || q.qtype != rt::TXT) return {};
    auto is = [&](const char* wire, std::size_t len) noexcept {
        return q.qname.len == len && std::memcmp(q.qname.bytes, wire, len) == 0;
    };
    // Wire form, lowercase; the literal's terminating NUL is the root label.
    if (is("\002id\006server", 11) || is("\010hostname\004bind", 15)) return id->identity_record();
    if (is("\007version\004bind", 14) || is("\007version\006server", 16)) return id->version_record();
    return {};
}

// ---------------------------------------------------------------------------
// Pre-rendering (View build time, control loop; driven by dns/prerender.cpp): the
// general renderer above writes each common answer once into a scratch packet;
// what follows the question is kept.

constexpr std::size_t kMaxBlob = 4096;  // larger answers stay on the general renderer
constexpr int kMaxRelocs = 64;

}  // namespace

namespace detail {

int32_t render_blob(View& view, std::vector<uint8_t>& scratch, const ZoneData& z, std::string_view qname,
                    uint16_t qtype, RenderMode mode, int32_t force_service, const DecisionData* force_decision,
                    const policy::Variant* force_variant, bool dnssec, RenderNotes* notes) {
    auto* qwire = reinterpret_cast<const uint8_t*>(qname.data());
    Query q;
    if (!q.qname.set(qwire, qname.size())) return -1;
    q.qtype = qtype;
    q.qclass = kClassIn;
    q.do_bit = dnssec;
    Writer w(scratch.data(), scratch.size());
    uint8_t zero[12] = {};
    w.bytes(zero, 12);
    w.bytes(qwire, qname.size());
    w.u16(qtype);
    w.u16(kClassIn);
    w.remember_name(12);
    uint16_t ptrs[kMaxRelocs];
    w.record_pointers(ptrs, kMaxRelocs);
    std::size_t after_question = w.size();
    Context c{view, q, w, ClientPlace{}};
    c.prerendering = true;
    c.force_service = force_service;
    c.force_decision = force_decision;
    c.force_variant = force_variant;
    Context::SigSpots spots;
    if (dnssec && view.any_signed_) c.sig_spots = &spots;
    if (mode == RenderMode::Negative) {
        c.zone = &z;
        write_soa_authority(c);
    } else {
        resolve(c, z);
        if (!c.overflow) write_additional(c);
    }
    if (notes) {
        bool other = c.picks_overflow;
        for (int i = 0; i < c.picks.n; ++i) other = other || c.picks.service[i] != notes->own_service;
        notes->other_services = notes->other_services || other;
    }
    std::size_t len = w.size() - after_question;
    if (c.overflow || c.unstable || w.pointers() < 0 || len > kMaxBlob) return -1;
    Blob b;
    b.off = uint32_t(view.arena_.size());
    b.len = uint16_t(len);
    b.an = c.ancount;
    b.ns = c.nscount;
    b.ar = c.arcount;
    b.rcode = uint8_t(c.rcode);
    b.aa = c.aa;
    b.reloc = uint32_t(view.relocs_.size());
    b.nreloc = uint16_t(w.pointers());
    // The RRSIG rdata stays out of the arena (detail::Splice) where the output still holds
    // exactly those bytes, in order (a part written and then cut is not spliced).
    if (view.any_signed_) view.blob_splices_.push_back(uint32_t(view.splices_.size()));
    std::size_t from = after_question;
    for (int i = 0; i < spots.n; ++i) {
        const std::size_t pos = spots.pos[i], n = spots.rrsig[i]->size();
        if (pos < from || pos + n > w.size() || std::memcmp(scratch.data() + pos, spots.rrsig[i]->data(), n) != 0)
            continue;
        view.arena_.insert(view.arena_.end(), scratch.begin() + long(from), scratch.begin() + long(pos));
        view.splices_.push_back({uint32_t(view.arena_.size() - b.off), *spots.rrsig[i]});
        from = pos + n;
    }
    view.arena_.insert(view.arena_.end(), scratch.begin() + long(from), scratch.begin() + long(w.size()));
    b.len = uint16_t(view.arena_.size() - b.off);
    for (int i = 0; i < w.pointers(); ++i) view.relocs_.push_back(uint16_t(ptrs[i] - after_question));
    view.blobs_.push_back(b);
    return int32_t(view.blobs_.size() - 1);
}

NodeReach node_reach(const ZoneData& z, const VNode& n) noexcept {
    WireName name;
    if (!name.set(reinterpret_cast<const uint8_t*>(n.name().data()), n.name().size())) return NodeReach::Other;
    Lookup l = lookup(z, name, rt::A);
    if (l.node != &n) return NodeReach::Other;  // occluded (below a cut)
    if (l.kind == Lookup::Delegation) return NodeReach::Delegation;
    return l.kind == Lookup::Exact ? NodeReach::Exact : NodeReach::Other;
}

}  // namespace detail

namespace {

// What the fast path found: the pre-rendered blob, its rcode, how far its
// compression pointers move, and for a subnet-dependent service the ECS scope of
// the client's decision and the geo answer counter to add to once it is sent.
struct FastHit {
    const detail::Blob* blob = nullptr;
    uint16_t rcode = NoError;
    unsigned shift = 0;
    uint8_t scope = 0;
    detail::GeoCounts* counts = nullptr;
    std::size_t counter = 0;
};

// A subnet-dependent service's blob (rules, geo): the client's decision (taken as the
// general renderer takes it), then the variant picked, then a table index. Out of
// line: the other answers' path stays as short as it was.
[[gnu::noinline]] bool dependent_blob(const View& view, const detail::ServiceData& sd, const detail::FastType& ft,
                                      const Query& q, const core::IpAddress& source, bool dnssec,
                                      FastHit& hit) noexcept {
    ClientPlace place = client_place(q, source);
    ClientDecision cd = client_decision(view, q, place, sd);
    const detail::DecisionData& d = *cd.data;
    uint32_t b = ft.blob + d.blob_offset;
    if (const policy::Variant* v = pick_variant(d)) b += uint32_t(v - d.decision->variants.data());
    else if (!d.decision->variants.empty()) return false;
    if (b >= ft.blob + ft.count) return false;
    if (dnssec) b += ft.count;
    hit.blob = &view.blobs_[b];
    hit.rcode = hit.blob->rcode;
    hit.scope = cd.scope;
    hit.counts = cd.counts;
    hit.counter = cd.counter;
    return true;
}

// The fast path: a pre-rendered blob for this query, or false (general renderer).
// `dnssec` (DO=1 to a signed zone): only answers at the name itself are pre-rendered
// with their RRSIGs; denials and referrals take the general renderer.
bool fast_lookup(const View& view, const detail::ZoneData& z, const Query& q, const core::IpAddress& source,
                 bool dnssec, FastHit& hit) noexcept {
    const detail::VNode* n = z.find(q.qname.bytes, q.qname.len);
    if (n) {
        if (!(n->fast_flags & detail::kFastReady)) return false;
        hit.shift = 0;
        if (n->cut) {
            if (dnssec) return false;
            hit.blob = &view.blobs_[n->fast_first];
            hit.rcode = hit.blob->rcode;
            return true;
        }
        const detail::FastType* ft = view.fast_types_.data() + n->fast_first;
        for (unsigned i = 0; i < n->fast_count; ++i, ++ft) {
            if (ft->type != q.qtype) continue;
            if (ft->count == 0) return false;
            uint32_t b = ft->blob;
            if (ft->service >= 0) {
                auto& sd = view.services_[std::size_t(ft->service)];
                if (sd.subnet_dependent) return dependent_blob(view, sd, *ft, q, source, dnssec, hit);
                const policy::Variant* v = pick_variant(sd.fallback);
                if (!v) return false;
                b += uint32_t(v - sd.fallback.decision->variants.data());
            }
            if (dnssec) b += ft->count;
            hit.blob = &view.blobs_[b];
            hit.rcode = hit.blob->rcode;
            return true;
        }
        if (dnssec) return false;
        if (n->fast_flags & detail::kSlowOthers) return false;  // may be a CNAME, not NODATA
        hit.blob = &view.blobs_[std::size_t(z.negative_blob)];  // NODATA
        hit.rcode = NoError;
        hit.shift = unsigned(q.qname.len - z.origin.size());
        return true;
    }
    // No such name: the closest encloser decides (a cut above: referral; else NXDOMAIN).
    if (dnssec) return false;
    int apex_index = q.qname.labels - z.origin_labels;
    for (int i = 1; i <= apex_index; ++i) {
        const detail::VNode* e = z.find(q.qname.suffix(i), q.qname.suffix_len(i));
        if (!e) continue;
        if (!(e->fast_flags & detail::kFastReady) || (e->fast_flags & detail::kWildChild)) return false;
        if (e->cut) {
            hit.blob = &view.blobs_[e->fast_first];
            hit.rcode = hit.blob->rcode;
            hit.shift = unsigned(q.qname.len - e->name().size());
            return true;
        }
        hit.blob = &view.blobs_[std::size_t(z.negative_blob)];
        hit.rcode = NxDomain;
        hit.shift = unsigned(q.qname.len - z.origin.size());
        return true;
    }
    return false;
}

// The response class RRL counts an answer in (AnswerMeta::response, class_name): a
// few stores, no hashing; the qname is the query's own bytes.
void set_class(AnswerMeta& m, ResponseClass k, const uint8_t* name, std::size_t len) noexcept {
    m.response = k;
    m.class_name = name;
    m.class_name_len = uint8_t(len);
}

void classify_fast(AnswerMeta& m, const FastHit& hit, const detail::ZoneData& z, const uint8_t* qname,
                   std::size_t qlen) noexcept {
    auto* origin = reinterpret_cast<const uint8_t*>(z.origin.data());
    if (hit.rcode == NxDomain) set_class(m, ResponseClass::nxdomain, origin, z.origin.size());
    else if (hit.rcode != NoError) set_class(m, ResponseClass::error, origin, z.origin.size());
    else if (!hit.blob->aa) set_class(m, ResponseClass::referral, qname + hit.shift, qlen - hit.shift);  // the cut
    else set_class(m, hit.blob->an ? ResponseClass::answer : ResponseClass::nodata, qname, qlen);
}

void classify_general(AnswerMeta& m, const Context& c, const detail::ZoneData& z, const uint8_t* qname,
                      std::size_t qlen) noexcept {
    auto* origin = reinterpret_cast<const uint8_t*>(z.origin.data());
    ResponseClass k = c.ancount ? ResponseClass::answer : ResponseClass::nodata;
    if (c.rcode == NxDomain) set_class(m, ResponseClass::nxdomain, origin, z.origin.size());
    else if (c.rcode != NoError) set_class(m, ResponseClass::error, origin, z.origin.size());
    else if ((c.referral || c.first_kind == Lookup::Wildcard) && c.first_node)  // the cut, or the wildcard owner
        set_class(m, c.referral ? ResponseClass::referral : k,
                  reinterpret_cast<const uint8_t*>(c.first_node->name().data()), c.first_node->name().size());
    else set_class(m, k, qname, qlen);
}

}  // namespace

namespace {

std::vector<uint8_t> chaos_txt(std::string_view text) {
    if (text.empty()) return {};
    std::vector<uint8_t> rr = {0xc0, 12, 0, uint8_t(rt::TXT), 0, kClassCh, 0, 0, 0, 0};  // TTL 0
    rr.push_back(uint8_t((text.size() + 1) >> 8));
    rr.push_back(uint8_t(text.size() + 1));
    rr.push_back(uint8_t(text.size()));
    rr.insert(rr.end(), text.begin(), text.end());
    return rr;
}

}  // namespace

ServerIdentity::ServerIdentity(std::string_view identity, std::string_view version)
    : identity_(identity), version_(version) {
    if (identity.size() > 255) throw std::invalid_argument("identity is longer than 255 bytes");
    if (version.size() > 255) throw std::invalid_argument("version is longer than 255 bytes");
    identity_rr_ = chaos_txt(identity);
    version_rr_ = chaos_txt(version);
}

void seed_variant_random(uint64_t seed) noexcept { random_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

std::size_t answer_query(const View& view, std::span<const uint8_t> query, const ClientInfo& client,
                         std::span<uint8_t> out, AnswerMeta* meta) noexcept {
    const uint8_t* p = query.data();
    std::size_t n = query.size();
    if (n < 12 || out.size() < 12) return 0;
    if (p[2] & 0x80) return 0;  // a response: never answered
    Query q;
    q.id = get16(p);
    q.flags1 = p[2];
    q.flags2 = p[3];
    uint8_t opcode = (q.flags1 >> 3) & 0x0f;

    std::size_t limit = std::min<std::size_t>(out.size(), 65535);
    Writer w(out.data(), limit);
    Reply r;

    auto finish = [&]() noexcept -> std::size_t {
        uint8_t* b = w.data();
        b[0] = uint8_t(q.id >> 8);
        b[1] = uint8_t(q.id);
        b[2] = uint8_t(0x80 | (opcode << 3) | (r.aa ? 0x04 : 0) | (r.tc ? 0x02 : 0) | (q.flags1 & 0x01));
        b[3] = uint8_t((q.flags2 & 0x10) | (r.rcode & 0x0f));  // CD copied; RA, AD never set
        w.patch16(4, r.question ? 1 : 0);
        w.patch16(6, r.an);
        w.patch16(8, r.ns);
        w.patch16(10, uint16_t(r.ar + (r.opt ? 1 : 0)));
        return w.size();
    };
    uint8_t zero[12] = {};
    w.bytes(zero, 12);

    if (opcode != 0) {
        r.rcode = NotImp;
        return finish();
    }
    if (get16(p + 4) != 1) {
        r.rcode = FormErr;
        return finish();
    }
    // The question: no compression pointers, at most 255 octets.
    {
        std::size_t off = 12;
        std::size_t total = 0;
        for (;;) {
            if (off >= n) {
                r.rcode = FormErr;
                return finish();
            }
            uint8_t l = p[off];
            if (l > 63) {  // a pointer or an extended label type
                r.rcode = FormErr;
                return finish();
            }
            total += 1 + l;
            if (total > 255 || off + 1 + l > n) {
                r.rcode = FormErr;
                return finish();
            }
            off += 1 + l;
            if (l == 0) break;
        }
        if (off + 4 > n || !q.qname.set(p + 12, off - 12)) {
            r.rcode = FormErr;
            return finish();
        }
        q.qtype = get16(p + off);
        if (meta) meta->qtype = q.qtype;
        q.qclass = get16(p + off + 2);
        q.question_end = off + 4;
    }
    // Echo the question exactly as sent.
    if (!w.bytes(p + 12, q.question_end - 12)) return 0;
    r.question = true;

    Parse parsed = parse_rest(p, n, q);
    if (parsed == Parse::FormErr) {
        r.rcode = FormErr;
        return finish();
    }
    if (q.nsid) {  // asked for: sent when we have an identity (RFC 5001 §2.2)
        std::string_view id = client.identity ? client.identity->identity() : std::string_view{};
        q.nsid = !id.empty();
        q.nsid_data = reinterpret_cast<const uint8_t*>(id.data());
        q.nsid_len = uint8_t(id.size());
    }
    uint16_t our_size = client.udp_payload_size ? client.udp_payload_size : view.options_.udp_payload_size;
    our_size = std::max<uint16_t>(our_size, 512);
    r.opt = q.has_opt;
    auto with_opt = [&](uint16_t rcode) noexcept -> std::size_t {
        r.rcode = rcode;
        if (r.opt) {
            if (w.size() + opt_size(q, false) > limit) return 0;
            w.set_cap(w.size());
            write_opt(w, q, our_size, rcode, false, 0);
        }
        return finish();
    };
    if (parsed == Parse::BadVers) return with_opt(BadVers);
    if (parsed == Parse::EcsFormErr) return with_opt(FormErr);

    if (client.tcp) {
        // TCP: up to 65535 (limit already).
    } else {
        std::size_t udp = q.has_opt ? std::max<std::size_t>(512, std::min<std::size_t>(q.udp_size, our_size)) : 512;
        limit = std::min(limit, udp);
    }
    std::size_t reserve = q.has_opt ? opt_size(q, q.has_ecs) : 0;
    if (w.size() + reserve > limit) {
        if (!q.nsid) return 0;  // cannot even echo the question
        q.nsid = false;         // a long NSID and a long name in 512 bytes: the answer wins
        reserve = opt_size(q, q.has_ecs);
        if (w.size() + reserve > limit) return 0;
    }
    w.set_cap(limit - reserve);
    r.ecs = q.has_ecs;

    auto done = [&](uint16_t rcode) noexcept -> std::size_t {
        r.rcode = rcode;
        if (r.opt) write_opt(w, q, our_size, rcode, r.ecs, r.ecs_scope);
        return finish();
    };

    // As Knot DNS answers (docs/dns.md, "Classes and meta types"): class ANY is
    // answered like IN; CH answers the server's identity and version; others REFUSED.
    if (q.qclass != kClassIn) [[unlikely]] {
        if (q.qclass == kClassCh) {
            if (uint16_t(q.qtype - rt::IXFR) < 2) return done(NotImp);  // IXFR, AXFR
            std::span<const uint8_t> rr = chaos_record(client.identity, q);
            if (rr.empty()) return done(Refused);
            if (w.bytes(rr.data(), rr.size())) r.an = 1;
            else r.tc = true;
            return done(NoError);
        }
        if (q.qclass != kClassAny) return done(Refused);
    }
    // Transfers reach here when the transfer hook did not take them (AXFR over UDP,
    // or no transfers configured). The other meta types (OPT, TKEY, TSIG, MAILB,
    // MAILA) are looked up like any type: NODATA, NXDOMAIN or a referral.
    if (uint16_t(q.qtype - rt::IXFR) < 2) return done(NotImp);

    // The most specific zone containing qname.
    const detail::ZoneData* zone = nullptr;
    for (int i = 0; i <= q.qname.labels; ++i) {
        int32_t zi = view.find_zone(q.qname.suffix(i), q.qname.suffix_len(i));
        if (zi >= 0) {
            zone = &view.zones_[std::size_t(zi)];
            // DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): at a child
            // apex, answer from the parent zone when we serve it too.
            if (i == 0 && q.qtype == rt::DS) {
                for (int j = 1; j <= q.qname.labels; ++j) {
                    int32_t pi = view.find_zone(q.qname.suffix(j), q.qname.suffix_len(j));
                    if (pi >= 0) {
                        zone = &view.zones_[std::size_t(pi)];
                        break;
                    }
                }
            }
            break;
        }
    }
    if (!zone) return done(Refused);
    if (meta) meta->zone_id = zone->stable_id;

    // Common shapes: copy the pre-rendered answer behind the question (with ECS too:
    // the scope is the client's decision's, 0 for answers that depend on no client).
    if (q.qtype != rt::ANY && q.qtype != rt::DS) {
        FastHit hit;
        const bool dnssec = q.do_bit && zone->signed_zone;
        std::span<const detail::Splice> splices;
        std::size_t out_len = 0;
        const bool found = fast_lookup(view, *zone, q, client.address, dnssec, hit);
        if (found) {
            out_len = hit.blob->len;
            if (dnssec) {  // DO=1: the RRSIGs the blob left out of the arena
                splices = view.splices_of(hit.blob);
                for (auto& sp : splices) out_len += sp.rrsig.size();
            }
        }
        if (found && w.size() + out_len <= w.cap()) {
            const detail::Blob* blob = hit.blob;
            std::size_t at = w.size();
            const uint8_t* src = view.arena_.data() + blob->off;
            std::size_t copied = 0;  // arena bytes written
            for (auto& sp : splices) {
                w.bytes(src + copied, sp.at - copied);
                w.bytes(sp.rrsig.data(), sp.rrsig.size());
                copied = sp.at;
            }
            w.bytes(src + copied, blob->len - copied);
            if (hit.shift) {
                uint8_t* b = w.data() + at;
                const uint16_t* rl = view.relocs_.data() + blob->reloc;
                for (unsigned i = 0; i < blob->nreloc; ++i) {
                    uint8_t* ptr = b + rl[i];
                    uint16_t v = uint16_t(get16(ptr) + hit.shift);
                    ptr[0] = uint8_t(v >> 8);
                    ptr[1] = uint8_t(v);
                }
            }
            if (hit.counts) hit.counts->add(hit.counter);
            r.aa = blob->aa;
            r.an = blob->an;
            r.ns = blob->ns;
            r.ar = blob->ar;
            r.ecs_scope = hit.scope;
            if (meta) classify_fast(*meta, hit, *zone, p + 12, q.qname.len);
            return done(hit.rcode);
        }
    }

    w.remember_name(12);
    Context c{view, q, w, client_place(q, client.address)};
    std::size_t after_question = w.size();
    resolve(c, *zone);
    if (meta) classify_general(*meta, c, *zone, p + 12, q.qname.len);
    if (!c.overflow) write_additional(c);
    r.aa = c.aa;
    if (c.overflow) {
        w.truncate(after_question);
        r.tc = true;
        r.an = r.ns = r.ar = 0;
        r.ecs_scope = c.ecs_scope;
        return done(c.rcode);
    }
    r.an = c.ancount;
    r.ns = c.nscount;
    r.ar = c.arcount;
    r.ecs_scope = c.ecs_scope;
    return done(c.rcode);
}

}  // namespace signpost::dns
