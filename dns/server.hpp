// The DNS listeners: one worker per core, each with its own sockets on every
// listen address: a receiver thread per UDP socket, and a libuv loop thread for
// TCP; all answer from the current Snapshot (dns/snapshot.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"
#include "dns/rrl.hpp"
#include "dns/snapshot.hpp"
#include "dns/view.hpp"

namespace signpost::dns {

struct ListenAddress {
    std::string host;  // "127.0.0.1", "::1"
    uint16_t port = 53;
    // "127.0.0.1:8053", "[::1]:8053"; nullopt with `error` set when malformed.
    static std::optional<ListenAddress> parse(std::string_view text, std::string* error = nullptr);
    std::string to_string() const;  // "127.0.0.1:8053", "[::1]:8053"
    bool operator==(const ListenAddress&) const = default;
};

// A hook a query thread calls (zone transfers, explain over DNS): true when it answered.
using QueryHandler = std::function<bool(const Snapshot& snapshot, std::span<const uint8_t> query,
                                        const ClientInfo& client, std::size_t udp_max, std::string& out)>;

struct ServerOptions {
    std::vector<ListenAddress> listen;
    unsigned workers = 0;                 // 0: one per core
    uint16_t udp_payload_size = 1232;     // the EDNS size we advertise and honour
    unsigned tcp_max_connections = 1000;  // per worker
    core::Millis tcp_idle_timeout{10000};  // counted from the last complete query (or accept)
    // Open connections per client address (IPv6: per /64) over all workers; 0: no
    // limit. Over it, the client's oldest connection on the accepting worker is closed.
    unsigned tcp_max_connections_per_client = 32;
    // A query (length + message) must arrive within this time of its first byte,
    // or the connection is closed: a byte a second cannot hold a connection.
    core::Millis tcp_query_timeout{5000};
    RrlOptions rrl;  // response rate limiting, UDP only
    // One log line per answered query ("query: 192.0.2.7 udp www.example.com. A NOERROR 61B"),
    // at most query_log_rate lines per second per worker (the rest are counted and said).
    bool query_log = false;
    unsigned query_log_rate = 1000;
    // What CH TXT id.server/hostname.bind and version.bind/version.server answer, and
    // the NSID (RFC 5001) sent to queries that ask for it; empty: all REFUSED, no NSID.
    ServerIdentity identity;
    // --- zone transfers hook (xfr/ owns the logic; the daemon installs it) ---
    // Called on any worker's threads, concurrently (it must be thread-safe), only for queries with QTYPE AXFR (TCP) or
    // IXFR, and SOA queries with additional records (they may carry TSIG), with
    // the snapshot the query is answered from (its `transfers`).
    // Returns true when it answered: `out` holds framed messages (2-byte length
    // each) for TCP, or one message of at most `udp_max` bytes for UDP. False:
    // the normal answer path answers the query. Empty: transfers are NOTIMP.
    using Handler = QueryHandler;
    Handler transfer_handler;
    // --- explain hook (dns/explain_responder.hpp; the daemon installs it) ---
    // Called on any worker's threads, concurrently (it must be thread-safe), only for QUERYs with one question of class CH
    // and type TXT, with the snapshot the query is answered from (its `explain`).
    // Same contract as transfer_handler; false or empty: the normal path answers (CH is REFUSED).
    Handler explain_handler;
};

// What the query threads read that a reload may change (the server config's
// identity, version, query_log, [rrl], the transfer ACLs and explain_allow
// behind the hooks). Server::publish() attaches the newest to every Snapshot, so
// a change reaches the threads like an answer does: no lock, no pause.
struct QuerySettings {
    ServerIdentity identity;
    bool query_log = false;
    RrlOptions rrl;
    QueryHandler transfer_handler;
    QueryHandler explain_handler;
    uint64_t generation = 0;  // set by the server: grows with every change
    // The settings `options` starts with.
    static QuerySettings from(const ServerOptions& options);
};

// Query counters summed over the workers, for /metrics.
struct ServerStats {
    static constexpr std::size_t kLatencyBuckets = 8;
    // Upper bounds of the answer latency histogram, in microseconds (the last is +Inf).
    static constexpr double kLatencyBoundsUs[kLatencyBuckets - 1] = {5, 10, 25, 50, 100, 250, 1000};
    uint64_t udp_queries = 0, tcp_queries = 0, truncated = 0, dropped = 0;
    uint64_t tcp_connections = 0, tcp_rejected = 0;
    uint64_t tcp_client_rejected = 0;  // refused: over tcp_max_connections_per_client (not in tcp_rejected)
    uint64_t tcp_client_evicted = 0;   // a client's oldest connection closed to admit its new one
    uint64_t tcp_timeouts = 0;         // closed by the idle or the query timeout
    uint64_t rrl_dropped = 0;          // UDP answers not sent (rate limited)
    uint64_t rrl_slipped = 0;          // rate limited answers sent truncated (TC=1) instead
    std::vector<std::pair<int, uint64_t>> by_rcode;          // rcode (16 = BADVERS) -> answers
    std::vector<std::pair<std::string, uint64_t>> by_qtype;  // "A", "AAAA", ..., "other"
    std::vector<std::pair<int32_t, uint64_t>> by_zone;       // ViewOptions zone id -> answers; -1: no zone
    uint64_t latency_buckets[kLatencyBuckets] = {};          // per bucket, not cumulative
    double latency_sum_us = 0;
};

class Server {
public:
    // Binds UDP and TCP on every listen address and starts the workers, answering
    // from `initial` (null, or a null view: queries are dropped until a publish()).
    // Throws std::runtime_error naming the address when a bind fails.
    Server(ServerOptions options, std::shared_ptr<const Snapshot> initial);
    ~Server();  // stop()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Hands a new Snapshot to every worker without pausing them. Any thread.
    // Contract: when publish() returns, every query received afterwards on any UDP
    // or TCP socket is answered from this snapshot or a later one (so a NOTIFY or
    // an event may follow at once). Each reading thread checks a generation counter
    // (one atomic load) after its receive call returned and before answering, and
    // copies the snapshot only when it moved (dns/snapshot_slot.hpp). A replaced
    // snapshot is freed once every thread has let go of it: at its next query, or
    // within 200 ms when the thread is idle.
    void publish(std::shared_ptr<const Snapshot> snapshot);
    // Replaces what the query threads read beyond the answers (QuerySettings) and
    // publishes the current snapshot again with it: once it returns, every later
    // query is answered with the new settings. A changed [rrl] gives each UDP
    // receiver a fresh table. Any thread.
    void set_query_settings(QuerySettings settings);
    // Stops the workers, closes every socket and joins the threads. Idempotent.
    void stop();
    // The addresses actually bound (port 0 resolved to the kernel's choice).
    std::vector<ListenAddress> bound() const;
    // Counters since start, summed over the workers. Any thread; approximate while queries run.
    ServerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::dns
