// UDP and TCP DNS listeners: one worker per core, each with its own SO_REUSEPORT
// sockets on every listen address. UDP: a receiver thread per socket blocks in
// recvmmsg (MSG_WAITFORONE) and answers in batches with sendmmsg — two system calls
// per batch, where a poll loop adds an epoll_wait (at 100k queries/s a batch holds
// one or two queries, so that third call was ~10 % of the CPU). TCP: the worker's
// libuv loop, RFC 7766. Answers come from each thread's own copy of the View.
#include "dns/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <ctime>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "core/log.hpp"
#include "dns/uv_handle.hpp"

namespace signpost::dns {

// ---------------------------------------------------------------------------
// ListenAddress

std::optional<ListenAddress> ListenAddress::parse(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<ListenAddress> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    ListenAddress out;
    std::string_view host = text, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return fail("missing ']' in \"" + std::string(text) + "\"");
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail("expected ':port' after ']' in \"" + std::string(text) + "\"");
            port = rest.substr(1);
            if (port.empty()) return fail("missing port after ':' in \"" + std::string(text) + "\"");
        }
    } else {
        auto colon = text.find(':');
        if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (port.empty()) return fail("missing port after ':' in \"" + std::string(text) + "\"");
        }
        // Several colons and no brackets: a bare IPv6 address, port 53.
    }
    auto ip = core::IpAddress::parse(host);
    if (!ip) return fail("not an IP address: \"" + std::string(host) + "\" (use e.g. 127.0.0.1:53 or [::1]:53)");
    if (!port.empty()) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v > 65535)
            return fail("port must be 0..65535, got \"" + std::string(port) + "\"");
        out.port = uint16_t(v);
    }
    out.host = ip->to_string();
    return out;
}

std::string ListenAddress::to_string() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {

constexpr int kBatch = 32;
constexpr int kUdpReceiveBuffer = 4 << 20;  // bytes asked for per UDP socket
constexpr long kUdpIdleWakeUs = 200000;      // SO_RCVTIMEO of the UDP receivers
constexpr std::size_t kUdpReceive = 4096;          // larger queries are dropped
constexpr std::size_t kTcpMaxPending = 256 * 1024;  // stop reading while this much is unsent
constexpr std::size_t kTcpReadMax = 2 + 65535 + 4096;

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd = std::exchange(o.fd, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    void reset() noexcept {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    int release() noexcept { return std::exchange(fd, -1); }
};

struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family() const { return ss.ss_family; }
};

SockAddr make_sockaddr(const ListenAddress& la) {
    SockAddr a;
    auto ip = core::IpAddress::parse(la.host);
    if (!ip) throw std::runtime_error("cannot listen on " + la.to_string() + ": not an IP address");
    if (ip->v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(la.port);
        std::memcpy(&s6->sin6_addr, ip->bytes.data(), 16);
        a.len = sizeof(sockaddr_in6);
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&a.ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(la.port);
        std::memcpy(&s4->sin_addr, ip->bytes.data(), 4);
        a.len = sizeof(sockaddr_in);
    }
    return a;
}

void set_port(SockAddr& a, uint16_t port) {
    if (a.family() == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port = htons(port);
    else
        reinterpret_cast<sockaddr_in*>(&a.ss)->sin_port = htons(port);
}

bool to_ip(const sockaddr* sa, core::IpAddress& ip, uint16_t& port) noexcept {
    if (sa->sa_family == AF_INET) {
        auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
        ip = core::IpAddress{};
        std::memcpy(ip.bytes.data(), &s4->sin_addr, 4);
        port = ntohs(s4->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
        ip = core::IpAddress{};
        ip.v6 = true;
        std::memcpy(ip.bytes.data(), &s6->sin6_addr, 16);
        port = ntohs(s6->sin6_port);
        return true;
    }
    return false;
}

struct BindError {
    int err;
};

// A socket with SO_REUSEPORT bound to `addr`; throws BindError. TCP sockets are
// non-blocking (libuv); UDP sockets block (their receiver thread waits in recvmmsg).
Fd bound_socket(const SockAddr& addr, int type) {
    Fd fd(::socket(addr.family(), type | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC, 0));
    if (fd.fd < 0) throw BindError{errno};
    int one = 1;
    if (::setsockopt(fd.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) throw BindError{errno};
    if (type == SOCK_STREAM) ::setsockopt(fd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.family() == AF_INET6 &&
        ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        throw BindError{errno};
    if (type == SOCK_DGRAM) {
        // A saturated worker must not drop bursts the kernel could have queued:
        // the default ~208 KiB receive buffer holds only a few hundred queries.
        // SO_RCVBUFFORCE (root, CAP_NET_ADMIN) passes net.core.rmem_max; without it
        // the size is capped there, and the server says so once it has started.
        if (::setsockopt(fd.fd, SOL_SOCKET, SO_RCVBUFFORCE, &kUdpReceiveBuffer, sizeof kUdpReceiveBuffer) != 0)
            ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVBUF, &kUdpReceiveBuffer, sizeof kUdpReceiveBuffer);
        // An idle receiver wakes this often to let go of its View (so a replaced
        // View is freed within this time, however often the daemon publishes);
        // stop() wakes it at once with shutdown().
        timeval wake{0, kUdpIdleWakeUs};
        ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
        // No path MTU discovery on answers (as BIND, Knot, NSD and gdnsd): a spoofed
        // ICMP "fragmentation needed" must not be able to make the kernel fragment
        // answers at a tiny MTU, which is what fragment-injection cache poisoning
        // needs. Answers up to udp_payload_size (default 1232) fit every path; a
        // larger setting is fragmented by the kernel: IPv4 at the interface MTU
        // (routers may fragment further), IPv6 at 1280, which every IPv6 link carries.
        if (addr.family() == AF_INET) {
            int omit = IP_PMTUDISC_OMIT;
            ::setsockopt(fd.fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof omit);
        } else {
            int omit = IPV6_PMTUDISC_OMIT, min_mtu = 1280;
            ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit, sizeof omit);
            ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_MTU, &min_mtu, sizeof min_mtu);
        }
    }
    if (::bind(fd.fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) != 0) throw BindError{errno};
    return fd;
}

uint16_t local_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    core::IpAddress ip;
    uint16_t port = 0;
    to_ip(reinterpret_cast<sockaddr*>(&ss), ip, port);
    return port;
}

struct Worker;

// Open TCP connections per client over all workers, for
// tcp_max_connections_per_client. Touched at accept and close only, never per query.
class TcpClients {
public:
    static uint64_t key_of(const core::IpAddress& a) noexcept {
        // IPv4: the address; IPv6: the /64 (one host may hold a whole /64).
        uint64_t k = 0;
        if (a.v6) {
            std::memcpy(&k, a.bytes.data(), 8);
            return k ^ 0x6000000000000000ull;  // never equal to an IPv4 key below 2^32
        }
        std::memcpy(&k, a.bytes.data(), 4);
        return k & 0xffffffffull;
    }
    // Counts one more connection for `key` unless it already has `limit` (0: no limit).
    bool acquire(uint64_t key, unsigned limit) noexcept {
        std::lock_guard lock(mutex_);
        try {
            auto& n = counts_[key];
            if (limit != 0 && n >= limit) {
                if (n == 0) counts_.erase(key);
                return false;
            }
            ++n;
            return true;
        } catch (...) {
            return false;  // out of memory: refuse the connection rather than crash
        }
    }
    // True when `key` holds more than `limit` connections (admitted over the cap while
    // its connections were on other workers); the sweeps close the oldest ones.
    bool over(uint64_t key, unsigned limit) noexcept {
        std::lock_guard lock(mutex_);
        auto it = counts_.find(key);
        return it != counts_.end() && it->second > limit;
    }
    void release(uint64_t key) noexcept {
        std::lock_guard lock(mutex_);
        auto it = counts_.find(key);
        if (it == counts_.end()) return;
        if (--it->second == 0) counts_.erase(it);
    }

private:
    std::mutex mutex_;
    std::unordered_map<uint64_t, unsigned> counts_;
};

// One TCP client connection. Like UvHandle, its memory (which embeds the
// uv_tcp_t) lives until uv_close's callback.
struct Connection {
    uv_tcp_t tcp{};
    uv_write_t write_req{};
    Worker* worker = nullptr;
    Connection* prev = nullptr;
    Connection* next = nullptr;
    ClientInfo client;
    std::vector<uint8_t> rbuf;
    std::size_t rlen = 0;
    std::string pending;   // framed answers not yet handed to uv_write
    std::string inflight;  // the buffer uv_write is sending
    bool writing = false;
    bool reading = false;
    bool eof = false;
    bool closing = false;
    bool listed = false;
    bool counted = false;        // holds a slot in TcpClients
    uint64_t client_key = 0;
    uint64_t last_active = 0;    // accept or the last complete query (loop ms)
    uint64_t frame_started = 0;  // first byte of the incomplete query; 0: none
};

// One worker's counters. Only its own thread writes them (plain load + store,
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

uint64_t monotonic_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

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

// The newest published View. UDP receivers compare `generation` with the one they
// hold once per batch (one atomic load) and copy `view` under the mutex only when
// it moved: no lock and no refcount traffic per query.
struct PublishedView {
    std::mutex mutex;
    std::shared_ptr<const View> view;
    std::atomic<uint64_t> generation{0};
};

struct Worker;
struct UdpReceiver;
void receive_udp(UdpReceiver* r) noexcept;
void log_network_error(Worker* w, const char* what, int err) noexcept;
void log_query(Worker* w, const ClientInfo& client, const uint8_t* query, std::size_t qlen, const uint8_t* response,
               std::size_t rlen) noexcept;

// One UDP socket of a worker and the thread that receives on it. Everything the
// thread writes per query is its own: View copy, counters, RRL table, buffers.
struct UdpReceiver {
    Fd fd;
    Worker* worker = nullptr;          // options and the shared log budgets
    PublishedView* published = nullptr;
    std::shared_ptr<const View> view;  // this thread's own; read without locks
    uint64_t view_generation = 0;
    std::unique_ptr<RateLimiter> rrl;  // null: RRL off
    WorkerCounters counters;
    std::thread thread;

    std::size_t tx_slot = 0;
    std::vector<uint8_t> rx, tx;
    mmsghdr rmsgs[kBatch]{}, smsgs[kBatch]{};
    iovec riov[kBatch]{}, siov[kBatch]{};
    sockaddr_storage addrs[kBatch]{};

    ~UdpReceiver() {
        if (thread.joinable()) thread.join();
    }
};

struct Worker {
    Worker(const ServerOptions& o, TcpClients& c)
        : options(&o), clients(&c), query_log(std::max(1u, o.query_log_rate)) {}

    const ServerOptions* options;
    TcpClients* clients;
    WorkerCounters counters;  // TCP; each UDP receiver counts its own
    // Network errors (send failures, refused accepts) are logged, at most a few a second.
    SharedLogLimit error_log{5};
    SharedLogLimit query_log;
    uv_loop_t loop{};
    UvHandle<uv_async_t> async;
    UvHandle<uv_timer_t> sweep;
    std::vector<std::unique_ptr<UdpReceiver>> receivers;
    std::vector<std::unique_ptr<UvHandle<uv_tcp_t>>> listeners;
    Connection* conns = nullptr;
    unsigned nconns = 0;
    std::shared_ptr<const View> view;  // the loop thread's own (TCP); read without locks

    std::mutex slot_mutex;  // guards incoming
    std::shared_ptr<const View> incoming;
    std::atomic<bool> stopping{false};
    std::thread thread;

    std::vector<uint8_t> tcp_out;

    ~Worker() {
        if (thread.joinable()) thread.join();
    }
};

void close_connection(Connection* c) noexcept {
    if (c->closing) return;
    c->closing = true;
    Worker* w = c->worker;
    if (c->listed) {
        if (c->prev) c->prev->next = c->next;
        else w->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        c->listed = false;
        --w->nconns;
    }
    if (c->counted) {
        w->clients->release(c->client_key);
        c->counted = false;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
}

void start_reading(Connection* c) noexcept;

void flush(Connection* c) noexcept {
    if (c->writing || c->closing || c->pending.empty()) return;
    c->inflight.swap(c->pending);
    c->pending.clear();
    uv_buf_t buf = uv_buf_init(c->inflight.data(), unsigned(c->inflight.size()));
    c->write_req.data = c;
    int rc = uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, [](uv_write_t* req, int status) {
        auto* c = static_cast<Connection*>(req->data);
        c->writing = false;
        if (c->closing) return;
        if (status < 0) {
            close_connection(c);
            return;
        }
        c->inflight.clear();
        start_reading(c);  // answers the frames held back, resumes reading
    });
    if (rc != 0) {
        close_connection(c);
        return;
    }
    c->writing = true;
}

// --- zone transfers hook (ServerOptions::transfer_handler; the logic is in xfr/) ---
// Cheap filter: QUERY with one question of type AXFR (TCP), IXFR, or SOA with
// additional records (TSIG). Everything else never reaches the handler.
bool transfer_candidate(const uint8_t* q, std::size_t n, bool tcp) noexcept {
    if (n < 12 || (q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1) return false;
    std::size_t off = 12;
    while (off < n && q[off] != 0 && q[off] < 64) off += 1 + q[off];
    if (off + 5 > n || q[off] != 0) return false;
    uint16_t qtype = uint16_t(q[off + 1] << 8 | q[off + 2]);
    bool has_additional = q[10] != 0 || q[11] != 0;
    return (qtype == 252 && tcp) || qtype == 251 || (qtype == 6 && has_additional);
}
// True when the handler answered; TCP: framed messages appended to `out`.
bool transfer_query(Worker* w, const uint8_t* q, std::size_t n, const ClientInfo& ci, std::size_t udp_max,
                    std::string& out) noexcept {
    if (!w->options->transfer_handler || !transfer_candidate(q, n, ci.tcp)) return false;
    try {
        return w->options->transfer_handler(std::span<const uint8_t>(q, n), ci, udp_max, out);
    } catch (...) {
        return false;  // out of memory: the normal path answers
    }
}
// UDP: the handler's one message copied to `out`; 0 when not handled.
std::size_t udp_transfer(Worker* w, const uint8_t* q, std::size_t n, const ClientInfo& ci, uint8_t* out,
                         std::size_t cap) noexcept {
    if (!w->options->transfer_handler || !transfer_candidate(q, n, false)) return 0;
    thread_local std::string buf;
    buf.clear();
    if (!transfer_query(w, q, n, ci, cap, buf) || buf.size() > cap) return 0;
    std::memcpy(out, buf.data(), buf.size());
    return buf.size();
}
// --- end zone transfers hook ---

// --- explain hook (ServerOptions::explain_handler; the logic is in dns/explain_responder) ---
// Cheap filter: a QUERY with one question of class CH, type TXT.
bool explain_candidate(const uint8_t* q, std::size_t n) noexcept {
    if (n < 12 || (q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1) return false;
    std::size_t off = 12;
    while (off < n && q[off] != 0 && q[off] < 64) off += 1 + q[off];
    return off + 5 <= n && q[off] == 0 && q[off + 1] == 0 && q[off + 2] == 16 && q[off + 3] == 0 && q[off + 4] == 3;
}
// True when the handler answered; TCP: one framed message appended to `out`.
bool explain_query(Worker* w, const uint8_t* q, std::size_t n, const ClientInfo& ci, std::size_t udp_max,
                   std::string& out) noexcept {
    if (!w->options->explain_handler || !explain_candidate(q, n)) return false;
    try {
        return w->options->explain_handler(std::span<const uint8_t>(q, n), ci, udp_max, out);
    } catch (...) {
        return false;  // out of memory: the normal path answers (REFUSED)
    }
}
// UDP: the handler's message copied to `out`; 0 when not handled.
std::size_t udp_explain(Worker* w, const uint8_t* q, std::size_t n, const ClientInfo& ci, uint8_t* out,
                        std::size_t cap) noexcept {
    thread_local std::string buf;
    buf.clear();
    if (!explain_query(w, q, n, ci, cap, buf) || buf.size() > cap) return 0;
    std::memcpy(out, buf.data(), buf.size());
    return buf.size();
}
// --- end explain hook ---

// Answers every complete frame in the read buffer while the write backlog allows.
void process(Connection* c) noexcept {
    Worker* w = c->worker;
    std::size_t off = 0;
    while (c->rlen - off >= 2 && c->pending.size() < kTcpMaxPending) {
        std::size_t flen = std::size_t(c->rbuf[off] << 8 | c->rbuf[off + 1]);
        if (flen < 12) {  // not even a header: the stream is garbage
            close_connection(c);
            return;
        }
        if (c->rlen - off < 2 + flen) break;
        // Zone transfers (xfr/ through ServerOptions::transfer_handler): AXFR/IXFR, signed SOA.
        if (transfer_query(w, c->rbuf.data() + off + 2, flen, c->client, 0, c->pending)) {
            WorkerCounters::bump(w->counters.tcp);
            off += 2 + flen;
            continue;
        }
        if (std::size_t at = c->pending.size();  // explain (dns/explain_responder) answers CH TXT *.explain.signpost
            explain_query(w, c->rbuf.data() + off + 2, flen, c->client, 0, c->pending)) {
            WorkerCounters::bump(w->counters.tcp);
            AnswerMeta em;
            em.qtype = 16;
            auto* r = reinterpret_cast<const uint8_t*>(c->pending.data()) + at + 2;
            w->counters.count(em, r, c->pending.size() - at - 2);
            if (w->options->query_log) log_query(w, c->client, c->rbuf.data() + off + 2, flen, r, c->pending.size() - at - 2);
            off += 2 + flen;
            continue;
        }
        AnswerMeta meta;
        uint64_t t0 = monotonic_ns();
        std::size_t n = w->view ? answer_query(*w->view, std::span<const uint8_t>(c->rbuf.data() + off + 2, flen),
                                               c->client, std::span<uint8_t>(w->tcp_out.data() + 2, 65535), &meta)
                                : 0;
        WorkerCounters::bump(w->counters.tcp);
        if (n > 0) {
            w->counters.count(meta, w->tcp_out.data() + 2, n);
            if (w->options->query_log) log_query(w, c->client, c->rbuf.data() + off + 2, flen, w->tcp_out.data() + 2, n);
            w->counters.latency_ns(monotonic_ns() - t0, 1);
        } else {
            WorkerCounters::bump(w->counters.dropped);
        }
        if (n > 0) {
            w->tcp_out[0] = uint8_t(n >> 8);
            w->tcp_out[1] = uint8_t(n);
            c->pending.append(reinterpret_cast<const char*>(w->tcp_out.data()), n + 2);
        }
        off += 2 + flen;
    }
    uint64_t now = uv_now(&w->loop);
    if (off > 0) {
        std::memmove(c->rbuf.data(), c->rbuf.data() + off, c->rlen - off);
        c->rlen -= off;
        c->last_active = now;  // the idle timer counts from the last complete query
        c->frame_started = 0;
    }
    // Bytes of a query not yet complete (or held back): its timer starts now.
    if (c->rlen == 0) c->frame_started = 0;
    else if (c->frame_started == 0) c->frame_started = now;
    flush(c);
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
    auto* c = static_cast<Connection*>(s->data);
    if (c->closing) return;
    if (nread < 0) {  // EOF or error: finish what was asked, then close
        c->eof = true;
        c->reading = false;
        uv_read_stop(s);
        if (nread != UV_EOF) {
            close_connection(c);
            return;
        }
        process(c);
        if (!c->closing && !c->writing && c->pending.empty()) close_connection(c);
        return;
    }
    if (nread == 0) return;
    c->rlen += std::size_t(nread);
    process(c);
    if (!c->closing && c->pending.size() >= kTcpMaxPending && c->reading) {
        uv_read_stop(s);
        c->reading = false;
    }
}

void start_reading(Connection* c) noexcept {
    if (c->closing) return;
    process(c);
    if (c->closing) return;
    if (c->eof) {
        if (!c->writing && c->pending.empty()) close_connection(c);
        return;
    }
    if (c->reading || c->pending.size() >= kTcpMaxPending) return;
    int rc = uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto* c = static_cast<Connection*>(h->data);
            if (c->rbuf.size() - c->rlen < 2048 && c->rbuf.size() < kTcpReadMax)
                c->rbuf.resize(std::min(kTcpReadMax, std::max<std::size_t>(c->rbuf.size() * 2, 4096)));
            *buf = uv_buf_init(reinterpret_cast<char*>(c->rbuf.data() + c->rlen), unsigned(c->rbuf.size() - c->rlen));
        },
        on_read);
    if (rc != 0) {
        close_connection(c);
        return;
    }
    c->reading = true;
}

void on_connection(uv_stream_t* listener, int status) {
    auto* w = static_cast<Worker*>(listener->data);
    if (status < 0) log_network_error(w, "TCP accept failed", -status);
    if (status < 0 || w->stopping.load(std::memory_order_relaxed)) return;
    auto* c = new Connection;
    c->worker = w;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
        close_connection(c);
        return;
    }
    if (w->nconns >= w->options->tcp_max_connections) {  // over the cap: close at once
        WorkerCounters::bump(w->counters.tcp_rejected);
        close_connection(c);
        return;
    }
    sockaddr_storage peer{};
    int len = sizeof peer;
    uint16_t port = 0;
    if (uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
        !to_ip(reinterpret_cast<sockaddr*>(&peer), c->client.address, port)) {
        close_connection(c);
        return;
    }
    c->client_key = TcpClients::key_of(c->client.address);
    if (!w->clients->acquire(c->client_key, w->options->tcp_max_connections_per_client)) {
        // Over the per-client cap: the client's oldest connection on this worker makes
        // room (a stuck or abusive client evicts itself, a new query still gets in);
        // with none here, the new connection is refused.
        Connection* oldest = nullptr;
        for (Connection* o = w->conns; o; o = o->next)  // newest first: the last match is the oldest
            if (o->counted && o->client_key == c->client_key) oldest = o;
        if (oldest) close_connection(oldest);
        // None here: admit it up to twice the cap; the other workers' sweeps close
        // that client's oldest connections until it is back under the cap.
        unsigned limit = w->options->tcp_max_connections_per_client;
        if (!w->clients->acquire(c->client_key, oldest ? limit : 2 * limit)) {
            WorkerCounters::bump(w->counters.tcp_client_rejected);
            close_connection(c);
            return;
        }
        WorkerCounters::bump(w->counters.tcp_client_evicted);
    }
    c->counted = true;
    c->client.tcp = true;
    c->client.udp_payload_size = w->options->udp_payload_size;
    uv_tcp_nodelay(&c->tcp, 1);
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    c->listed = true;
    ++w->nconns;
    WorkerCounters::bump(w->counters.tcp_connections);
    c->last_active = uv_now(&w->loop);
    start_reading(c);
}

// The receiver thread: blocks until a query arrives, then takes up to a batch of
// what is queued (MSG_WAITFORONE), answers it and sends the answers in one call.
void receive_udp(UdpReceiver* r) noexcept {
    Worker* w = r->worker;
    ClientInfo ci;
    ci.udp_payload_size = w->options->udp_payload_size;
    for (;;) {
        for (int i = 0; i < kBatch; ++i) {
            r->riov[i] = {r->rx.data() + std::size_t(i) * kUdpReceive, kUdpReceive};
            auto& m = r->rmsgs[i].msg_hdr;
            m = msghdr{};
            m.msg_name = &r->addrs[i];
            m.msg_namelen = sizeof r->addrs[i];
            m.msg_iov = &r->riov[i];
            m.msg_iovlen = 1;
            r->rmsgs[i].msg_len = 0;
        }
        int n = ::recvmmsg(r->fd.fd, r->rmsgs, kBatch, MSG_WAITFORONE, nullptr);
        int err = n < 0 ? errno : 0;
        if (w->stopping.load(std::memory_order_relaxed)) return;  // shutdown() woke us
        if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
            // Idle for kUdpIdleWakeUs: hold no View while idle, so every replaced
            // View is freed within that time without traffic (the next batch takes
            // the current one).
            r->view.reset();
            r->view_generation = ~uint64_t(0);
            continue;
        }
        if (uint64_t g = r->published->generation.load(std::memory_order_acquire); g != r->view_generation) {
            std::shared_ptr<const View> old;
            {
                std::lock_guard lock(r->published->mutex);
                old = std::exchange(r->view, r->published->view);
            }
            r->view_generation = g;
            old.reset();  // the old View is freed here, outside the lock
        }
        if (n < 0) {
            if (err == EINTR) continue;
            log_network_error(w, "UDP receive failed", err);
            timespec pause{0, 10000000};  // e.g. ENOMEM: do not spin
            ::nanosleep(&pause, nullptr);
            continue;
        }
        if (!r->view) continue;  // nothing published yet
        int m = 0;
        uint64_t t0 = monotonic_ns();
        uint64_t now_ms = t0 / 1000000;
        WorkerCounters::bump(r->counters.udp, uint64_t(n));
        for (int i = 0; i < n; ++i) {
            auto& hdr = r->rmsgs[i].msg_hdr;
            const uint8_t* query = r->rx.data() + std::size_t(i) * kUdpReceive;
            std::size_t qlen = r->rmsgs[i].msg_len;
            uint16_t port = 0;
            if ((hdr.msg_flags & MSG_TRUNC) ||
                !to_ip(reinterpret_cast<sockaddr*>(&r->addrs[i]), ci.address, port) || port == 0) {
                WorkerCounters::bump(r->counters.dropped);
                continue;
            }
            uint8_t* out = r->tx.data() + std::size_t(m) * r->tx_slot;
            AnswerMeta meta;
            // Zone transfers hook (xfr/): IXFR and signed SOA over UDP; 0 when not one.
            std::size_t len = udp_transfer(w, query, qlen, ci, out, r->tx_slot);
            if (len == 0 && (len = udp_explain(w, query, qlen, ci, out, r->tx_slot)) > 0)
                meta.qtype = 16;  // explain: CH TXT *.explain.signpost
            if (len == 0)
                len = answer_query(*r->view, std::span<const uint8_t>(query, qlen), ci,
                                   std::span<uint8_t>(out, r->tx_slot), &meta);
            if (len == 0) {
                WorkerCounters::bump(r->counters.dropped);
                continue;
            }
            if (r->rrl) {
                RrlAction act = r->rrl->check(ci.address, now_ms);
                if (act == RrlAction::drop) {
                    WorkerCounters::bump(r->counters.rrl_dropped);
                    continue;
                }
                if (act == RrlAction::slip) {
                    WorkerCounters::bump(r->counters.rrl_slipped);
                    len = make_slip_response(std::span<uint8_t>(out, r->tx_slot), len);
                    if (len == 0) continue;
                }
            }
            r->counters.count(meta, out, len);
            if (w->options->query_log) log_query(w, ci, query, qlen, out, len);
            r->siov[m] = {out, len};
            auto& sm = r->smsgs[m].msg_hdr;
            sm = msghdr{};
            sm.msg_name = &r->addrs[i];
            sm.msg_namelen = hdr.msg_namelen;
            sm.msg_iov = &r->siov[m];
            sm.msg_iovlen = 1;
            ++m;
        }
        // Each answer of the batch is counted with the batch's time: an upper bound
        // that costs two clock reads per batch instead of two per query.
        if (m > 0) r->counters.latency_ns(monotonic_ns() - t0, uint64_t(m));
        int sent = 0;
        while (sent < m) {
            int rc = ::sendmmsg(r->fd.fd, r->smsgs + sent, unsigned(m - sent), MSG_DONTWAIT);
            if (rc < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {  // socket full: drop the rest (UDP)
                    log_network_error(w, "UDP send buffer full, answers dropped", errno);
                    break;
                }
                log_network_error(w, "UDP send failed", errno);
                ++sent;  // this datagram failed (e.g. unreachable); skip it
                continue;
            }
            if (rc == 0) break;
            sent += rc;
        }
    }
}

uint64_t wall_ms() noexcept {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

void log_network_error(Worker* w, const char* what, int err) noexcept {
    uint64_t suppressed = 0;
    if (!w->error_log.allow(wall_ms(), suppressed)) return;
    core::log_line(core::LogLevel::Warning, "dns",
                   std::string(what) + ": " + std::strerror(err) +
                       (suppressed ? " (" + std::to_string(suppressed) + " similar messages suppressed)" : ""));
}

// "query: 127.0.0.1 udp www.example.com. A NOERROR 61B" (off by default; rate limited).
void log_query(Worker* w, const ClientInfo& client, const uint8_t* q, std::size_t qlen, const uint8_t* r,
               std::size_t rlen) noexcept {
    uint64_t suppressed = 0;
    if (!w->query_log.allow(wall_ms(), suppressed)) return;
    try {
        std::string name;
        std::size_t off = 12;
        while (off < qlen && q[off] != 0 && q[off] < 64 && off + 1 + q[off] <= qlen) {
            for (std::size_t k = 0; k < q[off]; ++k) {
                char ch = char(q[off + 1 + k]);
                if (ch == '.' || ch == '\\' || ch <= ' ' || ch > '~') {
                    char esc[8];
                    std::snprintf(esc, sizeof esc, "\\%03u", unsigned((unsigned char)ch));
                    name += esc;
                } else {
                    name += ch;
                }
            }
            name += '.';
            off += 1 + q[off];
        }
        if (name.empty()) name = ".";
        uint16_t qtype = off + 3 <= qlen ? uint16_t(q[off + 1] << 8 | q[off + 2]) : 0;
        static const char* rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
        unsigned rc = rlen >= 4 ? (r[3] & 0x0f) : 0;
        std::string rcode = rc < 6 ? rcodes[rc] : "RCODE" + std::to_string(rc);
        std::string type;
        for (std::size_t t = 0; t < std::size(WorkerCounters::kTypes); ++t)
            if (WorkerCounters::kTypes[t] == qtype) type = WorkerCounters::kTypeNames[t];
        if (type.empty()) type = "TYPE" + std::to_string(qtype);
        std::string line = client.address.to_string() + (client.tcp ? " tcp " : " udp ") + name + " " + type + " " +
                           rcode + ((rlen >= 3 && (r[2] & 0x02)) ? " TC " : " ") + std::to_string(rlen) + "B";
        if (suppressed) line += " (" + std::to_string(suppressed) + " query lines suppressed before this one)";
        core::log_line(core::LogLevel::Info, "query", line);
    } catch (...) {
    }
}

void close_all(Worker* w) noexcept {
    for (auto& l : w->listeners) l->close();
    while (w->conns) close_connection(w->conns);
    w->sweep.close();
    w->async.close();
}

void on_async(uv_async_t* h) {
    auto* w = static_cast<Worker*>(h->data);
    std::shared_ptr<const View> old;
    {
        std::lock_guard lock(w->slot_mutex);
        if (w->incoming) {
            old = std::move(w->view);
            w->view = std::move(w->incoming);
        }
    }
    old.reset();  // the old View is freed here, on the worker, outside the lock
    if (w->stopping.load()) close_all(w);
}

void on_sweep(uv_timer_t* t) {
    auto* w = static_cast<Worker*>(t->data);
    uv_update_time(&w->loop);
    uint64_t now = uv_now(&w->loop);
    uint64_t idle = uint64_t(w->options->tcp_idle_timeout.count());
    uint64_t query = uint64_t(w->options->tcp_query_timeout.count());
    Connection* oldest = nullptr;
    for (Connection* c = w->conns; c;) {
        Connection* next = c->next;
        if (now - c->last_active >= idle || (c->frame_started != 0 && now - c->frame_started >= query)) {
            WorkerCounters::bump(w->counters.tcp_timeouts);
            close_connection(c);
        } else {
            oldest = c;
        }
        c = next;
    }
    // Clients over the per-client cap lose their oldest connections (oldest first).
    if (unsigned limit = w->options->tcp_max_connections_per_client) {
        for (Connection* c = oldest; c;) {
            Connection* prev = c->prev;
            if (c->counted && w->clients->over(c->client_key, limit)) {
                WorkerCounters::bump(w->counters.tcp_client_evicted);
                close_connection(c);
            }
            c = prev;
        }
    }
}

}  // namespace

struct Server::Impl {
    ServerOptions options;
    TcpClients clients;      // shared by the workers; declared first so it outlives them
    PublishedView published;  // read by the UDP receivers
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<ListenAddress> bound;
    std::mutex control;
    bool stopped = false;
};

Server::Server(ServerOptions options, std::shared_ptr<const View> initial) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    auto& opt = impl_->options;
    unsigned nworkers = opt.workers ? opt.workers : std::thread::hardware_concurrency();
    nworkers = std::max(1u, nworkers);
    if (opt.udp_payload_size < 512) opt.udp_payload_size = 512;
    if (opt.tcp_idle_timeout.count() <= 0) opt.tcp_idle_timeout = core::Millis(10000);
    if (opt.tcp_query_timeout.count() <= 0) opt.tcp_query_timeout = core::Millis(5000);

    // Writes to a peer that went away must not kill the process.
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);

    // All sockets first, so that a bind failure throws before any thread starts.
    struct AddressSockets {
        std::vector<Fd> udp, tcp;
    };
    std::vector<AddressSockets> sockets;
    for (auto& la : opt.listen) {
        SockAddr addr = make_sockaddr(la);
        AddressSockets s;
        for (int attempt = 0;; ++attempt) {
            s = AddressSockets{};
            const char* what = "UDP";
            try {
                set_port(addr, la.port);
                s.udp.push_back(bound_socket(addr, SOCK_DGRAM));
                uint16_t port = local_port(s.udp[0].fd);
                set_port(addr, port);
                for (unsigned i = 1; i < nworkers; ++i) s.udp.push_back(bound_socket(addr, SOCK_DGRAM));
                what = "TCP";
                for (unsigned i = 0; i < nworkers; ++i) s.tcp.push_back(bound_socket(addr, SOCK_STREAM));
                ListenAddress b = la;
                b.port = port;
                impl_->bound.push_back(b);
                break;
            } catch (const BindError& e) {
                // Port 0: the kernel's UDP port may be taken for TCP; try another.
                if (la.port == 0 && e.err == EADDRINUSE && attempt < 8) continue;
                ListenAddress shown = la;
                throw std::runtime_error(std::string("cannot bind ") + what + " " + shown.to_string() + ": " +
                                         std::strerror(e.err));
            }
        }
        sockets.push_back(std::move(s));
    }

    // The kernel reports twice what it grants (it counts its bookkeeping too).
    if (!sockets.empty() && !sockets[0].udp.empty()) {
        int granted = 0;
        socklen_t len = sizeof granted;
        if (::getsockopt(sockets[0].udp[0].fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) == 0 &&
            granted / 2 < kUdpReceiveBuffer)
            core::log_line(core::LogLevel::Info, "dns",
                           "UDP receive buffers are " + std::to_string(granted / 2 / 1024) + " KiB, not the " +
                               std::to_string(kUdpReceiveBuffer / 1024) +
                               " KiB asked for (net.core.rmem_max caps them): bursts are dropped sooner; "
                               "sysctl -w net.core.rmem_max=" + std::to_string(kUdpReceiveBuffer) + " raises the cap");
    }
    impl_->published.view = initial;
    for (unsigned i = 0; i < nworkers; ++i) {
        auto w = std::make_unique<Worker>(impl_->options, impl_->clients);
        w->view = initial;
        w->tcp_out.resize(2 + 65535);
        int rc = uv_loop_init(&w->loop);
        if (rc != 0) {
            stop();
            throw std::runtime_error(std::string("cannot start DNS worker: ") + uv_strerror(rc));
        }
        uv_async_init(&w->loop, w->async.get(), on_async);
        w->async.initialized();
        w->async.get()->data = w.get();
        uv_timer_init(&w->loop, w->sweep.get());
        w->sweep.initialized();
        w->sweep.get()->data = w.get();
        int64_t shortest = std::min(opt.tcp_idle_timeout.count(), opt.tcp_query_timeout.count());
        uint64_t every = uint64_t(std::clamp<int64_t>(shortest / 4, 10, 1000));
        uv_timer_start(w->sweep.get(), on_sweep, every, every);
        uv_unref(w->sweep.handle());
        for (auto& s : sockets) {
            auto u = std::make_unique<UdpReceiver>();
            u->fd = std::move(s.udp[i]);
            u->worker = w.get();
            u->published = &impl_->published;
            u->view = initial;
            // RRL tables are per receiver: no lock per query (docs/hardening.md).
            if (opt.rrl.enabled) u->rrl = std::make_unique<RateLimiter>(opt.rrl, std::random_device{}());
            u->tx_slot = opt.udp_payload_size;
            u->rx.resize(kBatch * kUdpReceive);
            u->tx.resize(kBatch * u->tx_slot);
            w->receivers.push_back(std::move(u));

            auto l = std::make_unique<UvHandle<uv_tcp_t>>();
            uv_tcp_init(&w->loop, l->get());
            l->initialized();
            l->get()->data = w.get();
            int fd = s.tcp[i].release();
            if ((rc = uv_tcp_open(l->get(), fd)) != 0) {
                ::close(fd);
            } else if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(l->get()), 1024, on_connection)) != 0) {
                // Closing the handle closes the fd.
            }
            w->listeners.push_back(std::move(l));
            if (rc != 0) {
                ListenAddress shown = impl_->bound[std::size_t(&s - sockets.data())];
                impl_->workers.push_back(std::move(w));
                stop();  // no thread has started: closes every handle inline
                throw std::runtime_error("cannot listen TCP " + shown.to_string() + ": " + uv_strerror(rc));
            }
        }
        impl_->workers.push_back(std::move(w));
    }
    try {
        for (auto& w : impl_->workers) {
            Worker* wp = w.get();
            wp->thread = std::thread([wp] {
                uv_run(&wp->loop, UV_RUN_DEFAULT);
                wp->view.reset();
                uv_loop_close(&wp->loop);
            });
            for (auto& r : wp->receivers) r->thread = std::thread(receive_udp, r.get());
        }
    } catch (...) {
        stop();  // a thread could not start (e.g. RLIMIT_NPROC): stop and join the started ones
        throw;
    }
}

Server::~Server() { stop(); }

void Server::publish(std::shared_ptr<const View> view) {
    std::lock_guard lock(impl_->control);
    if (impl_->stopped) return;
    {
        std::lock_guard slot(impl_->published.mutex);
        impl_->published.view = view;
    }
    impl_->published.generation.fetch_add(1, std::memory_order_release);
    for (auto& w : impl_->workers) {
        {
            std::lock_guard slot(w->slot_mutex);
            w->incoming = view;
        }
        uv_async_send(w->async.get());
    }
}

void Server::stop() {
    std::vector<std::unique_ptr<Worker>> workers;
    {
        std::lock_guard lock(impl_->control);
        if (impl_->stopped) return;
        impl_->stopped = true;
        for (auto& w : impl_->workers) {
            w->stopping.store(true);
            if (w->thread.joinable()) uv_async_send(w->async.get());
            // Wakes a receiver blocked in recvmmsg (Linux does so for unconnected UDP
            // sockets too; it reports ENOTCONN, which does not matter here).
            for (auto& r : w->receivers) ::shutdown(r->fd.fd, SHUT_RDWR);
        }
        workers.swap(impl_->workers);
    }
    for (auto& w : workers) {
        for (auto& r : w->receivers)
            if (r->thread.joinable()) r->thread.join();
        if (w->thread.joinable()) {
            w->thread.join();
        } else {  // never started (start-up failed): close its handles here
            close_all(w.get());
            uv_run(&w->loop, UV_RUN_DEFAULT);
            uv_loop_close(&w->loop);
        }
        w->receivers.clear();  // closes the UDP sockets, now that no thread reads them
    }
}

std::vector<ListenAddress> Server::bound() const { return impl_->bound; }

ServerStats Server::stats() const {
    ServerStats st;
    auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    uint64_t rcode[17] = {}, qtype[std::size(WorkerCounters::kTypes) + 1] = {}, no_zone = 0, other_zone = 0;
    std::vector<uint64_t> zone(WorkerCounters::kZones, 0);
    uint64_t latency_sum_ns = 0;
    std::vector<const WorkerCounters*> all;
    for (auto& w : impl_->workers) {
        all.push_back(&w->counters);
        for (auto& r : w->receivers) all.push_back(&r->counters);
    }
    for (const WorkerCounters* counters : all) {
        auto& c = *counters;
        st.udp_queries += get(c.udp);
        st.tcp_queries += get(c.tcp);
        st.truncated += get(c.truncated);
        st.dropped += get(c.dropped);
        st.tcp_connections += get(c.tcp_connections);
        st.tcp_rejected += get(c.tcp_rejected);
        st.tcp_client_rejected += get(c.tcp_client_rejected);
        st.tcp_client_evicted += get(c.tcp_client_evicted);
        st.tcp_timeouts += get(c.tcp_timeouts);
        st.rrl_dropped += get(c.rrl_dropped);
        st.rrl_slipped += get(c.rrl_slipped);
        for (int i = 0; i < 17; ++i) rcode[i] += get(c.rcode[i]);
        for (std::size_t i = 0; i < std::size(qtype); ++i) qtype[i] += get(c.qtype[i]);
        no_zone += get(c.no_zone);
        other_zone += get(c.other_zone);
        for (std::size_t i = 0; i < WorkerCounters::kZones; ++i) zone[i] += get(c.zone[i]);
        for (std::size_t i = 0; i < ServerStats::kLatencyBuckets; ++i) st.latency_buckets[i] += get(c.latency[i]);
        latency_sum_ns += get(c.latency_sum_ns);
    }
    for (int i = 0; i < 17; ++i)
        if (rcode[i]) st.by_rcode.emplace_back(i, rcode[i]);
    for (std::size_t i = 0; i < std::size(qtype); ++i)
        if (qtype[i]) st.by_qtype.emplace_back(WorkerCounters::kTypeNames[i], qtype[i]);
    if (no_zone) st.by_zone.emplace_back(-1, no_zone);
    for (std::size_t i = 0; i < zone.size(); ++i)
        if (zone[i]) st.by_zone.emplace_back(int32_t(i), zone[i]);
    if (other_zone) st.by_zone.emplace_back(int32_t(WorkerCounters::kZones), other_zone);
    st.latency_sum_us = double(latency_sum_ns) / 1000.0;
    return st;
}

}  // namespace signpost::dns
