// Response rate limiting (RRL, as in BIND and Knot): caps the UDP responses per
// client prefix and response class per second so the server cannot be used to
// amplify a reflection attack, while a resolver asking for many different names is
// never limited. A fixed-size table per UDP receiver thread (per worker and listen
// address); no allocation, no locks, no syscalls per query.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/address.hpp"
#include "dns/view.hpp"

namespace signpost::dns {

struct RrlOptions {
    bool enabled = true;
    uint32_t rate = 100;        // responses per second per client prefix and response class (1..1000000)
    uint32_t slip = 2;          // every Nth limited response goes out truncated (TC=1); 0: none, 1: all
    uint32_t window = 5;        // seconds of debt a flooding class builds up before it is forgiven (1..3600)
    uint8_t ipv4_prefix = 24;   // clients are grouped by this prefix length (8..32)
    uint8_t ipv6_prefix = 56;   // (16..128)
    uint32_t table_size = 16384;  // entries (prefix, class) per table (rounded up to a power of two, 64..16777216)
    // Never limited. Loopback by default: local tools and monitoring are trusted.
    std::vector<core::IpPrefix> allow = default_allow();

    static std::vector<core::IpPrefix> default_allow();
    bool operator==(const RrlOptions&) const = default;
};

enum class RrlAction : uint8_t { send, drop, slip };
const char* to_string(RrlAction a) noexcept;

// One worker's limiter. Single-threaded: the worker that owns it calls check().
class RateLimiter {
public:
    // Allocates the table once. `seed` keys the hash (random in the server, fixed in tests).
    explicit RateLimiter(const RrlOptions& options, uint64_t seed);
    ~RateLimiter();
    RateLimiter(const RateLimiter&) = delete;
    RateLimiter& operator=(const RateLimiter&) = delete;

    // Accounts one response to `client` at `now_ms` (a monotonic clock) in the
    // class `meta` names (ResponseClass, qtype for answers, class_name compared
    // case-insensitively) and says whether to send it, drop it, or send it
    // truncated. Runs once per UDP answer; reads class_name, keeps no pointer.
    RrlAction check(const core::IpAddress& client, const AnswerMeta& meta, uint64_t now_ms) noexcept;

    std::size_t capacity() const noexcept { return mask_ + 1; }
    const RrlOptions& options() const noexcept { return options_; }

private:
    struct Entry;
    RrlOptions options_;
    uint64_t seed_;
    std::size_t mask_ = 0;
    std::unique_ptr<Entry[]> table_;
};

// Turns the response of `len` bytes in `msg` into a slipped one: header and
// question only, TC=1, no records (so a real client retries over TCP). Returns
// the new length (12 when the question cannot be found). No allocation.
std::size_t make_slip_response(std::span<uint8_t> msg, std::size_t len) noexcept;

}  // namespace signpost::dns
