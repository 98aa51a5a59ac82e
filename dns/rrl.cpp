// Response rate limiting: a token balance per (client prefix, response class) in a
// fixed-size, 4-way hash table; the least recently seen entry of a bucket is
// replaced. Must not allocate or lock in check(): it runs for every UDP answer.
#include "dns/rrl.hpp"

#include <algorithm>
#include <cstring>

namespace signpost::dns {

struct RateLimiter::Entry {
    uint64_t hi = 0, lo = 0;  // the masked prefix
    uint64_t key = 0;         // the response class (class_key)
    uint64_t last_ms = 0;
    int64_t balance = 0;      // in thousandths of a response
    uint32_t limited = 0;     // limited responses so far (for slip)
    uint8_t tag = 0;          // 0: free, 4: IPv4, 6: IPv6
};

namespace {

constexpr std::size_t kWays = 4;
constexpr uint64_t kMaxElapsedMs = 3600 * 1000;

uint64_t mix(uint64_t x) noexcept {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

// The response class as one keyed word: the ResponseClass, the qtype for answers
// (A and AAAA of a name are two answers; NODATA, NXDOMAIN, referrals and errors
// leave it out so that varying the qtype cannot open fresh classes), and the name
// folded to lower case, eight bytes per mixing step.
uint64_t class_key(const AnswerMeta& m, uint64_t seed) noexcept {
    uint64_t h = seed ^ (uint64_t(m.response) << 56) ^ (uint64_t(m.class_name_len) << 40);
    if (m.response == ResponseClass::answer) h ^= uint64_t(m.qtype) << 16;
    h = mix(h);
    const uint8_t* p = m.class_name;
    std::size_t n = p ? m.class_name_len : 0;
    uint64_t word = 0;
    for (std::size_t i = 0; i < n; ++i) {
        uint8_t b = p[i];
        if (uint8_t(b - 'A') < 26) b |= 0x20;
        word = word << 8 | b;
        if ((i & 7) == 7) {
            h = mix(h ^ word);
            word = 0;
        }
    }
    return mix(h ^ word);
}

}  // namespace

const char* to_string(ResponseClass c) noexcept {
    switch (c) {
        case ResponseClass::error: return "error";
        case ResponseClass::answer: return "answer";
        case ResponseClass::nodata: return "nodata";
        case ResponseClass::nxdomain: return "nxdomain";
        case ResponseClass::referral: return "referral";
    }
    return "?";
}

std::vector<core::IpPrefix> RrlOptions::default_allow() {
    return {*core::IpPrefix::parse("127.0.0.0/8"), *core::IpPrefix::parse("::1/128")};
}

const char* to_string(RrlAction a) noexcept {
    switch (a) {
        case RrlAction::send: return "send";
        case RrlAction::drop: return "drop";
        case RrlAction::slip: return "slip";
    }
    return "?";
}

RateLimiter::RateLimiter(const RrlOptions& options, uint64_t seed) : options_(options), seed_(mix(seed + 1)) {
    std::size_t n = 64;
    while (n < options_.table_size && n < (std::size_t(1) << 24)) n <<= 1;
    mask_ = n - 1;
    table_.reset(new Entry[n]());
    options_.rate = std::max<uint32_t>(1, options_.rate);
    options_.window = std::max<uint32_t>(1, options_.window);
    options_.ipv4_prefix = std::min<uint8_t>(32, options_.ipv4_prefix);
    options_.ipv6_prefix = std::min<uint8_t>(128, options_.ipv6_prefix);
}

RateLimiter::~RateLimiter() = default;

RrlAction RateLimiter::check(const core::IpAddress& client, const AnswerMeta& meta, uint64_t now_ms) noexcept {
    for (auto& p : options_.allow)
        if (p.contains(client)) return RrlAction::send;

    // The client's prefix as two words, host bits cleared.
    uint8_t bytes[16] = {};
    unsigned bits = client.v6 ? options_.ipv6_prefix : options_.ipv4_prefix;
    std::memcpy(bytes, client.bytes.data(), client.v6 ? 16 : 4);
    for (unsigned i = 0; i < 16; ++i) {
        unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0;
        bytes[i] &= uint8_t(0xff00u >> keep);
    }
    uint64_t hi, lo;
    std::memcpy(&hi, bytes, 8);
    std::memcpy(&lo, bytes + 8, 8);
    uint8_t tag = client.v6 ? 6 : 4;
    uint64_t key = class_key(meta, seed_);

    std::size_t base = std::size_t(mix(hi ^ seed_) ^ mix(lo + tag) ^ key) & mask_ & ~(kWays - 1);
    Entry* e = nullptr;
    Entry* victim = &table_[base];
    for (std::size_t i = 0; i < kWays; ++i) {
        Entry& cand = table_[base + i];
        if (cand.tag == tag && cand.key == key && cand.hi == hi && cand.lo == lo) {
            e = &cand;
            break;
        }
        if (cand.tag == 0 || (victim->tag != 0 && cand.last_ms < victim->last_ms)) victim = &cand;
    }
    const int64_t full = int64_t(options_.rate) * 1000;
    if (!e) {  // a new class (or an evicted one back): a full second of credit
        e = victim;
        *e = Entry{hi, lo, key, now_ms, full, 0, tag};
    }
    if (now_ms > e->last_ms) {
        uint64_t elapsed = std::min(now_ms - e->last_ms, kMaxElapsedMs);
        e->balance = std::min(full, e->balance + int64_t(elapsed) * int64_t(options_.rate));
        e->last_ms = now_ms;
    }
    e->balance -= 1000;
    const int64_t floor = -full * int64_t(options_.window);
    if (e->balance < floor) e->balance = floor;
    if (e->balance >= 0) return RrlAction::send;
    ++e->limited;
    if (options_.slip != 0 && e->limited % options_.slip == 0) return RrlAction::slip;
    return RrlAction::drop;
}

std::size_t make_slip_response(std::span<uint8_t> msg, std::size_t len) noexcept {
    if (len < 12 || len > msg.size()) return 0;
    uint8_t* p = msg.data();
    p[2] |= 0x02;  // TC
    unsigned qd = unsigned(p[4] << 8 | p[5]);
    std::memset(p + 6, 0, 6);  // ANCOUNT, NSCOUNT, ARCOUNT
    std::size_t end = 12;
    if (qd == 1) {
        std::size_t off = 12;
        while (off < len) {
            uint8_t l = p[off];
            if (l == 0) {
                ++off;
                break;
            }
            if (l & 0xC0) {  // no compression in an echoed question: give up on it
                off = len + 1;
                break;
            }
            off += 1 + std::size_t(l);
        }
        if (off + 4 <= len) end = off + 4;
    }
    if (end == 12) {
        p[4] = 0;
        p[5] = 0;
    }
    return end;
}

}  // namespace signpost::dns
