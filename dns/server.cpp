// The DNS server's lifecycle: binds every socket before any thread starts, then
// one worker per core (a TCP loop thread, dns/tcp_worker, and a UDP receiver
// thread per listen address, dns/udp_receiver); publishes snapshots to all of
// them through one SnapshotSlot; stops and joins them; sums their counters.
#include "dns/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "core/log.hpp"
#include "dns/server_shared.hpp"
#include "dns/server_sockets.hpp"
#include "dns/snapshot_slot.hpp"
#include "dns/tcp_worker.hpp"
#include "dns/udp_receiver.hpp"

namespace signpost::dns {

using namespace server_detail;

namespace {

// One worker: the threads of one core. Members are destroyed in reverse order:
// the receivers (joined) first, then the TCP loop (joined), then what they share.
struct Worker {
    Worker(const ServerOptions& o, TcpClients& clients, const SnapshotSlot& slot)
        : context(o), tcp(context, clients, slot) {}
    WorkerContext context;
    TcpWorker tcp;
    std::vector<std::unique_ptr<UdpReceiver>> receivers;
};

}  // namespace

struct Server::Impl {
    explicit Impl(std::shared_ptr<const Snapshot> initial) : published(std::move(initial)) {}
    ServerOptions options;
    // The newest settings and the last snapshot given to publish() (without them).
    std::mutex publishing;
    std::shared_ptr<const QuerySettings> settings;
    std::shared_ptr<const Snapshot> last;
    TcpClients clients;      // shared by the workers; declared first so it outlives them
    SnapshotSlot published;  // what every UDP receiver and TCP loop answers from
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<ListenAddress> bound;
    std::mutex control;
    bool stopped = false;
};

QuerySettings QuerySettings::from(const ServerOptions& o) {
    return {o.identity, o.query_log, o.rrl, o.transfer_handler, o.explain_handler};
}

namespace {

// `snapshot` with `settings` attached (a copy of its few pointers).
std::shared_ptr<const Snapshot> with_settings(const std::shared_ptr<const Snapshot>& snapshot,
                                              std::shared_ptr<const QuerySettings> settings) {
    auto s = std::make_shared<Snapshot>(snapshot ? *snapshot : Snapshot{});
    s->settings = std::move(settings);
    return s;
}

}  // namespace

Server::Server(ServerOptions options, std::shared_ptr<const Snapshot> initial)
    : impl_(std::make_unique<Impl>(nullptr)) {
    impl_->options = std::move(options);
    auto& opt = impl_->options;
    impl_->settings = std::make_shared<const QuerySettings>(QuerySettings::from(opt));
    impl_->last = std::move(initial);
    impl_->published.publish(with_settings(impl_->last, impl_->settings));
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
    auto bind_failed = [](const char* what, const ListenAddress& la, const BindError& e) {
        return std::runtime_error(std::string("cannot bind ") + what + " " + la.to_string() + ": " +
                                  std::strerror(e.err) +
                                  (e.taken ? " (another process serves it; two servers on one address would "
                                             "split its queries)"
                                           : ""));
    };
    // Another process serving an address (SO_REUSEPORT would let us join it): checked
    // for every address before any is bound, so that our own addresses that overlap
    // (0.0.0.0:53 and 127.0.0.1:53) are not taken for a stranger's.
    auto ephemeral = ephemeral_port_range();
    for (auto& la : opt.listen) {
        if (la.port == 0) continue;
        if (ephemeral && la.port >= ephemeral->first && la.port <= ephemeral->second)
            core::log_line(core::LogLevel::Warning, "dns",
                           "listen port " + std::to_string(la.port) + " of " + la.to_string() +
                               " is in the kernel's ephemeral range (" + std::to_string(ephemeral->first) + "-" +
                               std::to_string(ephemeral->second) +
                               "): a local client of the same user that sets SO_REUSEPORT (dig does) can be given "
                               "it as its source port and then reads back its own queries; choose a port outside "
                               "net.ipv4.ip_local_port_range");
        SockAddr addr = make_sockaddr(la);
        set_port(addr, la.port);
        const char* what = "UDP";
        try {
            claim_exclusive(addr, SOCK_DGRAM);
            what = "TCP";
            claim_exclusive(addr, SOCK_STREAM);
        } catch (const BindError& e) {
            throw bind_failed(what, la, e);
        }
    }
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
                if (la.port == 0) claim_exclusive(addr, SOCK_STREAM);  // the kernel's UDP port, for TCP
                for (unsigned i = 0; i < nworkers; ++i) s.tcp.push_back(bound_socket(addr, SOCK_STREAM));
                ListenAddress b = la;
                b.port = port;
                impl_->bound.push_back(b);
                break;
            } catch (const BindError& e) {
                // Port 0: the kernel's UDP port may be taken for TCP; try another.
                if (la.port == 0 && e.err == EADDRINUSE && attempt < 8) continue;
                throw bind_failed(what, la, e);
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
    for (unsigned i = 0; i < nworkers; ++i) {
        auto w = std::make_unique<Worker>(impl_->options, impl_->clients, impl_->published);
        int rc = tcp_init(&w->tcp);
        if (rc != 0) {
            stop();
            throw std::runtime_error(std::string("cannot start DNS worker: ") + uv_strerror(rc));
        }
        for (auto& s : sockets) {
            auto u = std::make_unique<UdpReceiver>(w->context, impl_->published);
            u->fd = std::move(s.udp[i]);
            // RRL tables are per receiver: no lock per query (docs/hardening.md).
            u->rrl_seed = std::random_device{}();
            if (opt.rrl.enabled) u->rrl = std::make_unique<RateLimiter>(opt.rrl, u->rrl_seed);
            u->rrl_generation = impl_->settings->generation;
            u->tx_slot = opt.udp_payload_size;
            u->rx.resize(kBatch * kUdpReceive);
            u->tx.resize(kBatch * u->tx_slot);
            w->receivers.push_back(std::move(u));

            if ((rc = tcp_listen(&w->tcp, std::move(s.tcp[i]))) != 0) {
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
            tcp_start(&w->tcp);
            for (auto& r : w->receivers) r->thread = std::thread(receive_udp, r.get());
        }
    } catch (...) {
        stop();  // a thread could not start (e.g. RLIMIT_NPROC): stop and join the started ones
        throw;
    }
}

Server::~Server() { stop(); }

void Server::publish(std::shared_ptr<const Snapshot> snapshot) {
    // No per-worker hand-off: every thread reads the one slot (publish()'s contract
    // in server.hpp; the reasoning at the reads in udp_receiver.cpp and tcp_worker.cpp).
    std::lock_guard lock(impl_->publishing);
    impl_->last = std::move(snapshot);
    impl_->published.publish(with_settings(impl_->last, impl_->settings));
}

void Server::set_query_settings(QuerySettings settings) {
    std::lock_guard lock(impl_->publishing);
    settings.generation = impl_->settings->generation + 1;
    impl_->settings = std::make_shared<const QuerySettings>(std::move(settings));
    impl_->published.publish(with_settings(impl_->last, impl_->settings));
}

void Server::stop() {
    std::vector<std::unique_ptr<Worker>> workers;
    {
        std::lock_guard lock(impl_->control);
        if (impl_->stopped) return;
        impl_->stopped = true;
        for (auto& w : impl_->workers) {
            w->context.stopping.store(true);
            tcp_wake(&w->tcp);
            // Wakes a receiver blocked in recvmmsg (Linux does so for unconnected UDP
            // sockets too; it reports ENOTCONN, which does not matter here).
            for (auto& r : w->receivers) ::shutdown(r->fd.fd, SHUT_RDWR);
        }
        workers.swap(impl_->workers);
    }
    for (auto& w : workers) {
        for (auto& r : w->receivers)
            if (r->thread.joinable()) r->thread.join();
        if (w->tcp.thread.joinable()) {
            w->tcp.thread.join();
        } else {  // never started (start-up failed): close its handles here
            tcp_close_all(&w->tcp);
            uv_run(&w->tcp.loop, UV_RUN_DEFAULT);
            uv_loop_close(&w->tcp.loop);
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
        all.push_back(&w->tcp.counters);
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
