// The TCP side of a DNS worker (RFC 7766) on its libuv loop: accepting within the
// connection caps, framing and pipelining, back-pressure on unsent answers, and the
// sweep that enforces the idle and query timeouts. Answers come from the loop's own
// snapshot reference, refreshed before each query.
#include "dns/tcp_worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <string>

namespace signpost::dns::server_detail {

constexpr std::size_t kTcpMaxPending = 256 * 1024;  // stop reading while this much is unsent
constexpr std::size_t kTcpReadMax = 2 + 65535 + 4096;
constexpr uint64_t kTcpIdleReleaseMs = 200;  // see on_idle

uint64_t TcpClients::key_of(const core::IpAddress& a) noexcept {
    // IPv4: the address; IPv6: the /64 (one host may hold a whole /64).
    uint64_t k = 0;
    if (a.v6) {
        std::memcpy(&k, a.bytes.data(), 8);
        return k ^ 0x6000000000000000ull;  // never equal to an IPv4 key below 2^32
    }
    std::memcpy(&k, a.bytes.data(), 4);
    return k & 0xffffffffull;
}

bool TcpClients::acquire(uint64_t key, unsigned limit) noexcept {
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

bool TcpClients::over(uint64_t key, unsigned limit) noexcept {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    return it != counts_.end() && it->second > limit;
}

void TcpClients::release(uint64_t key) noexcept {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    if (it == counts_.end()) return;
    if (--it->second == 0) counts_.erase(it);
}

// One TCP client connection. Like UvHandle, its memory (which embeds the
// uv_tcp_t) lives until uv_close's callback.
struct Connection {
    uv_tcp_t tcp{};
    uv_write_t write_req{};
    TcpWorker* worker = nullptr;
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

namespace {

void close_connection(Connection* c) noexcept;
void start_reading(Connection* c) noexcept;
void on_connection(uv_stream_t* listener, int status);

void close_connection(Connection* c) noexcept {
    if (c->closing) return;
    c->closing = true;
    TcpWorker* w = c->worker;
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

// Answers every complete frame in the read buffer while the write backlog allows.
void process(Connection* c) noexcept {
    TcpWorker* w = c->worker;
    std::size_t off = 0;
    while (c->rlen - off >= 2 && c->pending.size() < kTcpMaxPending) {
        std::size_t flen = std::size_t(c->rbuf[off] << 8 | c->rbuf[off + 1]);
        if (flen < 12) {  // not even a header: the stream is garbage
            close_connection(c);
            return;
        }
        if (c->rlen - off < 2 + flen) break;
        // Before each query, one atomic load: Server::publish()'s contract. These bytes
        // were read (on_read) after they arrived, so after any publish() that returned
        // before the client sent them; the load follows the read, so it sees that
        // publication or a later one.
        const Snapshot* snap = w->snapshot.current();
        if (snap) c->client.identity = &snap->settings->identity;  // a reload may change it
        // Zone transfers (xfr/ through ServerOptions::transfer_handler): AXFR/IXFR, signed SOA.
        if (snap && transfer_query(*w->context, *snap, c->rbuf.data() + off + 2, flen, c->client, 0, c->pending)) {
            WorkerCounters::bump(w->counters.tcp);
            off += 2 + flen;
            continue;
        }
        if (std::size_t at = c->pending.size();  // explain (dns/explain_responder) answers CH TXT *.explain.signpost
            snap && explain_query(*w->context, *snap, c->rbuf.data() + off + 2, flen, c->client, 0, c->pending)) {
            WorkerCounters::bump(w->counters.tcp);
            AnswerMeta em;
            em.qtype = 16;
            auto* r = reinterpret_cast<const uint8_t*>(c->pending.data()) + at + 2;
            w->counters.count(em, r, c->pending.size() - at - 2);
            if (snap->settings->query_log) log_query(*w->context, c->client, c->rbuf.data() + off + 2, flen, r, c->pending.size() - at - 2);
            off += 2 + flen;
            continue;
        }
        AnswerMeta meta;
        uint64_t t0 = monotonic_ns();
        std::size_t n = snap && snap->view
                            ? answer_query(*snap->view, std::span<const uint8_t>(c->rbuf.data() + off + 2, flen),
                                           c->client, std::span<uint8_t>(w->tcp_out.data() + 2, 65535), &meta)
                            : 0;
        WorkerCounters::bump(w->counters.tcp);
        if (n > 0) {
            w->counters.count(meta, w->tcp_out.data() + 2, n);
            if (snap->settings->query_log) log_query(*w->context, c->client, c->rbuf.data() + off + 2, flen, w->tcp_out.data() + 2, n);
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
    auto* w = static_cast<TcpWorker*>(listener->data);
    if (status < 0) log_network_error(*w->context, "TCP accept failed", -status);
    if (status < 0 || w->context->stopping.load(std::memory_order_relaxed)) return;
    auto* c = new Connection;
    c->worker = w;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
        close_connection(c);
        return;
    }
    if (w->nconns >= w->context->options->tcp_max_connections) {  // over the cap: close at once
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
    if (!w->clients->acquire(c->client_key, w->context->options->tcp_max_connections_per_client)) {
        // Over the per-client cap: the client's oldest connection on this worker makes
        // room (a stuck or abusive client evicts itself, a new query still gets in);
        // with none here, the new connection is refused.
        Connection* oldest = nullptr;
        for (Connection* o = w->conns; o; o = o->next)  // newest first: the last match is the oldest
            if (o->counted && o->client_key == c->client_key) oldest = o;
        if (oldest) close_connection(oldest);
        // None here: admit it up to twice the cap; the other workers' sweeps close
        // that client's oldest connections until it is back under the cap.
        unsigned limit = w->context->options->tcp_max_connections_per_client;
        if (!w->clients->acquire(c->client_key, oldest ? limit : 2 * limit)) {
            WorkerCounters::bump(w->counters.tcp_client_rejected);
            close_connection(c);
            return;
        }
        WorkerCounters::bump(w->counters.tcp_client_evicted);
    }
    c->counted = true;
    c->client.tcp = true;
    c->client.udp_payload_size = w->context->options->udp_payload_size;
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


void on_wake(uv_async_t* h) {
    auto* w = static_cast<TcpWorker*>(h->data);
    if (w->context->stopping.load()) tcp_close_all(w);
}

// An idle loop must not keep a replaced snapshot alive (it takes the current one
// at its next query): the same bound as the UDP receivers' SO_RCVTIMEO.
void on_idle(uv_timer_t* t) {
    static_cast<TcpWorker*>(t->data)->snapshot.release_if_stale();
}

void on_sweep(uv_timer_t* t) {
    auto* w = static_cast<TcpWorker*>(t->data);
    uv_update_time(&w->loop);
    uint64_t now = uv_now(&w->loop);
    uint64_t idle = uint64_t(w->context->options->tcp_idle_timeout.count());
    uint64_t query = uint64_t(w->context->options->tcp_query_timeout.count());
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
    if (unsigned limit = w->context->options->tcp_max_connections_per_client) {
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

void tcp_close_all(TcpWorker* w) noexcept {
    for (auto& l : w->listeners) l->close();
    while (w->conns) close_connection(w->conns);
    w->sweep.close();
    w->idle.close();
    w->wake.close();
}

int tcp_init(TcpWorker* w) noexcept {
    w->tcp_out.resize(2 + 65535);
    int rc = uv_loop_init(&w->loop);
    if (rc != 0) return rc;
    uv_async_init(&w->loop, w->wake.get(), on_wake);
    w->wake.initialized();
    w->wake.get()->data = w;
    const ServerOptions& opt = *w->context->options;
    uv_timer_init(&w->loop, w->sweep.get());
    w->sweep.initialized();
    w->sweep.get()->data = w;
    int64_t shortest = std::min(opt.tcp_idle_timeout.count(), opt.tcp_query_timeout.count());
    uint64_t every = uint64_t(std::clamp<int64_t>(shortest / 4, 10, 1000));
    uv_timer_start(w->sweep.get(), on_sweep, every, every);
    uv_unref(w->sweep.handle());
    uv_timer_init(&w->loop, w->idle.get());
    w->idle.initialized();
    w->idle.get()->data = w;
    uv_timer_start(w->idle.get(), on_idle, kTcpIdleReleaseMs, kTcpIdleReleaseMs);
    uv_unref(w->idle.handle());
    return 0;
}

int tcp_listen(TcpWorker* w, Fd socket) noexcept {
    auto l = std::make_unique<UvHandle<uv_tcp_t>>();
    uv_tcp_init(&w->loop, l->get());
    l->initialized();
    l->get()->data = w;
    int fd = socket.release();
    int rc = uv_tcp_open(l->get(), fd);
    if (rc != 0) {
        ::close(fd);
    } else if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(l->get()), 1024, on_connection)) != 0) {
        // Closing the handle closes the fd.
    }
    w->listeners.push_back(std::move(l));
    return rc;
}

void tcp_start(TcpWorker* w) {
    w->thread = std::thread([w] {
        uv_run(&w->loop, UV_RUN_DEFAULT);
        w->snapshot.release();
        uv_loop_close(&w->loop);
    });
}

void tcp_wake(TcpWorker* w) noexcept {
    if (w->thread.joinable()) uv_async_send(w->wake.get());
}

}  // namespace signpost::dns::server_detail
