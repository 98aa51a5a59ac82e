// What a DNS worker's UDP receivers and its TCP loop share: per-thread counters,
// the log budgets and lines, and the transfer and explain hooks' filters.
// Internal to dns/server*.cpp; nothing here blocks except the log budget's short lock.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>

#include "core/log.hpp"
#include "dns/server.hpp"

namespace signpost::dns::server_detail {

// One thread's counters. Only its own thread writes them (plain load + store,
// no locked instructions); stats() reads them from another thread.
struct alignas(64) WorkerCounters {
    static constexpr std::size_t kZones = 16384;  // zone ids at or above count as "other"
    static constexpr uint16_t kTypes[] = {1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 257, 255};
    static constexpr const char* kTypeNames[] = {"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA",
                                                 "SRV", "DS", "CAA", "ANY", "other"};
    std::atomic<uint64_t> udp{0}, tcp{0}, truncated{0}, dropped{0}, tcp_connections{0}, tcp_rejected{0};
    std::atomic<uint64_t> tcp_client_rejected{0}, tcp_client_evicted{0}, tcp_timeouts{0}, rrl_dropped{0}, rrl_slipped{0};
    std::atomic<uint64_t> rcode[17]{};
    std::atomic<uint64_t> qtype[std::size(kTypes) + 1]{};
    std::atomic<uint64_t> no_zone{0}, other_zone{0};
    std::unique_ptr<std::atomic<uint64_t>[]> zone{new std::atomic<uint64_t>[kZones]()};
    std::atomic<uint64_t> latency[ServerStats::kLatencyBuckets]{};
    std::atomic<uint64_t> latency_sum_ns{0};

    static void bump(std::atomic<uint64_t>& c, uint64_t by = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    // Counts one answer from its meta and the response header.
    void count(const AnswerMeta& meta, const uint8_t* response, std::size_t len) noexcept {
        if (len < 12) return;
        // The header's 4-bit rcode (BADVERS, in the OPT record's extension, counts as 0 here).
        bump(rcode[response[3] & 0x0f]);
        if (response[2] & 0x02) bump(truncated);
        std::size_t t = 0;
        while (t < std::size(kTypes) && kTypes[t] != meta.qtype) ++t;
        bump(qtype[t]);
        if (meta.zone_id < 0) bump(no_zone);
        else if (std::size_t(meta.zone_id) < kZones) bump(zone[std::size_t(meta.zone_id)]);
        else bump(other_zone);
    }
    void latency_ns(uint64_t ns, uint64_t queries) noexcept {
        double us = double(ns) / 1000.0;
        std::size_t b = 0;
        while (b < ServerStats::kLatencyBuckets - 1 && us > ServerStats::kLatencyBoundsUs[b]) ++b;
        bump(latency[b], queries);
        bump(latency_sum_ns, ns * queries);
    }
};

uint64_t monotonic_ns() noexcept;

// A log line budget that a worker's loop and its UDP receivers share.
class SharedLogLimit {
public:
    explicit SharedLogLimit(unsigned per_second) : limiter_(per_second) {}
    bool allow(uint64_t now_ms, uint64_t& suppressed) noexcept {
        std::lock_guard lock(mutex_);
        return limiter_.allow(now_ms, suppressed);
    }

private:
    std::mutex mutex_;
    core::LogRateLimiter limiter_;
};

// What one worker's threads (its TCP loop and its UDP receivers) share.
struct WorkerContext {
    explicit WorkerContext(const ServerOptions& o) : options(&o), query_log(std::max(1u, o.query_log_rate)) {}
    const ServerOptions* options;
    // Network errors (send failures, refused accepts) are logged, at most a few a second.
    SharedLogLimit error_log{5};
    SharedLogLimit query_log;
    std::atomic<bool> stopping{false};  // set by Server::stop(); every thread of the worker returns
};

void log_network_error(WorkerContext& w, const char* what, int err) noexcept;
// "query: 127.0.0.1 udp www.example.com. A NOERROR 61B" (off by default; rate limited).
void log_query(WorkerContext& w, const ClientInfo& client, const uint8_t* query, std::size_t qlen,
               const uint8_t* response, std::size_t rlen) noexcept;

// --- zone transfers hook (ServerOptions::transfer_handler; the logic is in xfr/) ---
// True when the handler answered; TCP: framed messages appended to `out`.
bool transfer_query(const WorkerContext& w, const Snapshot& s, const uint8_t* q, std::size_t n, const ClientInfo& ci,
                    std::size_t udp_max, std::string& out) noexcept;
// UDP: the handler's one message copied to `out`; 0 when not handled.
std::size_t udp_transfer(const WorkerContext& w, const Snapshot& s, const uint8_t* q, std::size_t n,
                         const ClientInfo& ci, uint8_t* out, std::size_t cap) noexcept;

// --- explain hook (ServerOptions::explain_handler; the logic is in dns/explain_responder) ---
// True when the handler answered; TCP: one framed message appended to `out`.
bool explain_query(const WorkerContext& w, const Snapshot& s, const uint8_t* q, std::size_t n, const ClientInfo& ci,
                   std::size_t udp_max, std::string& out) noexcept;
// UDP: the handler's message copied to `out`; 0 when not handled.
std::size_t udp_explain(const WorkerContext& w, const Snapshot& s, const uint8_t* q, std::size_t n,
                        const ClientInfo& ci, uint8_t* out, std::size_t cap) noexcept;

}  // namespace signpost::dns::server_detail
