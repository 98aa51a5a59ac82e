// The UDP receivers: each blocks in recvmmsg (MSG_WAITFORONE) and answers in
// batches with sendmmsg — two system calls per batch, where a poll loop adds an
// epoll_wait (at 100k queries/s a batch holds one or two queries, so that third
// call was ~10 % of the CPU). Nothing here allocates, locks or throws per query.
#include "dns/udp_receiver.hpp"

#include <cerrno>
#include <ctime>
#include <span>

namespace signpost::dns::server_detail {

// A reload changed the settings: a fresh RRL table when [rrl] changed (the only
// allocation here, once per change), the same table otherwise.
void refresh_rrl(UdpReceiver& r, const QuerySettings& settings) {
    r.rrl_generation = settings.generation;
    bool same = r.rrl ? settings.rrl.enabled && r.rrl->options() == settings.rrl : !settings.rrl.enabled;
    if (same) return;
    r.rrl.reset();
    if (settings.rrl.enabled) r.rrl = std::make_unique<RateLimiter>(settings.rrl, r.rrl_seed);
}

// The receiver thread: blocks until a query arrives, then takes up to a batch of
// what is queued (MSG_WAITFORONE), answers it and sends the answers in one call.
void receive_udp(UdpReceiver* r) noexcept {
    WorkerContext& w = *r->context;
    ClientInfo ci;
    ci.udp_payload_size = w.options->udp_payload_size;
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
        if (w.stopping.load(std::memory_order_relaxed)) return;  // shutdown() woke us
        if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
            // Idle for kUdpIdleWakeUs: hold no Snapshot while idle, so every replaced
            // one is freed within that time without traffic (the next batch takes
            // the current one).
            r->snapshot.release();
            continue;
        }
        // Once per batch, after recvmmsg returned: this meets Server::publish()'s
        // contract. A datagram sent after publish() returned was queued on the socket
        // after the generation bump; recvmmsg took it off the queue (the socket's
        // lock orders the two), so this load, which follows it, sees that bump or a
        // later one, and the whole batch is answered from that snapshot or a newer one.
        // One atomic load per batch; the lock and the refcount only when it moved.
        const Snapshot* snap = r->snapshot.current();
        if (n < 0) {
            if (err == EINTR) continue;
            log_network_error(w, "UDP receive failed", err);
            timespec pause{0, 10000000};  // e.g. ENOMEM: do not spin
            ::nanosleep(&pause, nullptr);
            continue;
        }
        if (!snap || !snap->view) continue;  // nothing published yet
        const View& view = *snap->view;
        const QuerySettings& settings = *snap->settings;
        ci.identity = &settings.identity;
        if (settings.generation != r->rrl_generation) refresh_rrl(*r, settings);
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
            std::size_t len = udp_transfer(w, *snap, query, qlen, ci, out, r->tx_slot);
            if (len == 0 && (len = udp_explain(w, *snap, query, qlen, ci, out, r->tx_slot)) > 0)
                meta.qtype = 16;  // explain: CH TXT *.explain.signpost
            if (len == 0)
                len = answer_query(view, std::span<const uint8_t>(query, qlen), ci,
                                   std::span<uint8_t>(out, r->tx_slot), &meta);
            if (len == 0) {
                WorkerCounters::bump(r->counters.dropped);
                continue;
            }
            if (r->rrl) {
                RrlAction act = r->rrl->check(ci.address, meta, now_ms);
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
            if (settings.query_log) log_query(w, ci, query, qlen, out, len);
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

}  // namespace signpost::dns::server_detail
