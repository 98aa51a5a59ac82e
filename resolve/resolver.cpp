// The resolver on the loop: per name one attempt at a time (A and AAAA in
// parallel, each following CNAME targets), each question a Query over UDP
// (TCP when truncated) to the servers in turn, one timer for the earliest
// refresh, and a check handle that hands each loop iteration's results over
// in one batch. Rules (what an outcome means, when to ask again) are in
// schedule.cpp and the wire format in message.cpp; this file only does I/O.
#include "resolve/resolver.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <random>
#include <unordered_map>

#include <sys/random.h>
#include <uv.h>

#include "io/handle.hpp"
#include "resolve/message.hpp"

namespace signpost::resolve {

namespace {

using Udp = io::Handle<uv_udp_t>;
using Check = io::Handle<uv_check_t>;

constexpr unsigned kMaxHops = 8;                 // queries for CNAME targets per family and attempt
constexpr std::size_t kMaxResolvConf = 1 << 16;  // bytes of resolv.conf read

// A query ID from the kernel's CSPRNG: an off-path attacker must guess it (and
// the random source port) to forge a reply.
uint16_t random_id() {
    uint16_t id = 0;
    if (getrandom(&id, sizeof id, 0) == static_cast<ssize_t>(sizeof id)) return id;
    static std::random_device rd;  // getrandom unavailable: the same source, another way
    return static_cast<uint16_t>(rd());
}

std::string timeout_text(core::Millis t) {
    if (t.count() % 1000 == 0) return "timeout after " + std::to_string(t.count() / 1000) + " s";
    return "timeout after " + std::to_string(t.count()) + " ms";
}

sockaddr_storage to_sockaddr(const Server& s) {
    sockaddr_storage ss{};
    if (s.address.v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(s.port);
        std::memcpy(&a->sin6_addr, s.address.bytes.data(), 16);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(s.port);
        std::memcpy(&a->sin_addr, s.address.bytes.data(), 4);
    }
    return ss;
}

bool same_endpoint(const sockaddr* from, const Server& s) {
    if (!from) return false;
    if (s.address.v6) {
        if (from->sa_family != AF_INET6) return false;
        auto* a = reinterpret_cast<const sockaddr_in6*>(from);
        return ntohs(a->sin6_port) == s.port && std::memcmp(&a->sin6_addr, s.address.bytes.data(), 16) == 0;
    }
    if (from->sa_family != AF_INET) return false;
    auto* a = reinterpret_cast<const sockaddr_in*>(from);
    return ntohs(a->sin_port) == s.port && std::memcmp(&a->sin_addr, s.address.bytes.data(), 4) == 0;
}

std::vector<Server> default_servers(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(kMaxResolvConf, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    auto servers = parse_resolv_conf(text);
    if (servers.empty()) servers.push_back(*parse_server("127.0.0.1:53"));
    return servers;
}

// What every query shares: the loop, the servers, the timeout and the counters.
struct Env {
    uv_loop_t* loop = nullptr;
    std::vector<Server> servers;
    core::Millis timeout{2000};
    uint64_t queries = 0;
    std::size_t preferred = 0;  // the server that answered last: the next query starts there
};

struct QueryResult {
    std::optional<wire::Message> reply;  // NOERROR or NXDOMAIN, matching the question
    std::string error;                   // no reply: what went wrong at the last server tried
    std::string server;                  // the server that answered or failed last
};

// One question (name, type IN) to the servers in turn, starting at the
// preferred one: UDP from a fresh socket (random port, random ID), TCP to the
// same server when the reply is truncated. A try ends with a matching reply,
// its timeout or an error; after max(2, servers) tries the query fails. `done`
// runs once, always from a libuv callback (never from start()), and may
// destroy the Query.
class Query {
public:
    using Done = std::function<void(QueryResult)>;

    Query(Env& env, std::string name, uint16_t qtype, Done done)
        : env_(env), name_(std::move(name)), qtype_(qtype), done_(std::move(done)),
          server_(env.preferred % env.servers.size()),
          max_tries_(std::max<std::size_t>(2, env.servers.size())) {}

    ~Query() { cancel_requests(); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    void start() {
        timer_.open(uv_timer_init, env_.loop);
        timer_->data = this;
        wire_ = wire::build_query(0, name_, qtype_);
        if (wire_.empty()) {
            give_up_ = true;  // no server can help: finish on the next timer tick
            defer("not a valid DNS name: " + name_);
            return;
        }
        begin_try();
    }

private:
    struct WriteReq {
        uv_write_t req;
        std::vector<uint8_t> bytes;
    };

    // Modulo: a reload may have shortened the list while this query was in flight.
    const Server& server() const { return env_.servers[server_ % env_.servers.size()]; }

    void begin_try() {
        ++tries_;
        id_ = random_id();
        wire_[0] = uint8_t(id_ >> 8);
        wire_[1] = uint8_t(id_);
        over_tcp_ = false;
        const Server& s = server();
        const sockaddr_storage to = to_sockaddr(s);
        sockaddr_storage any{};
        any.ss_family = to.ss_family;  // the family's any address, port 0: the kernel picks a random port
        int rc = udp_.open(uv_udp_init_ex, env_.loop, static_cast<unsigned>(to.ss_family));
        if (rc == 0) {
            udp_->data = this;
            rc = uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&any), 0);
        }
        if (rc == 0) rc = uv_udp_connect(udp_.get(), reinterpret_cast<const sockaddr*>(&to));
        if (rc == 0) rc = uv_udp_recv_start(udp_.get(), &Query::on_alloc, &Query::on_udp_read);
        if (rc == 0) {
            uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(wire_.data()), static_cast<unsigned>(wire_.size()));
            rc = uv_udp_try_send(udp_.get(), &buf, 1, nullptr);
            if (rc >= 0) rc = 0;
        }
        if (rc != 0) {
            defer(std::string("cannot send: ") + uv_strerror(rc));
            return;
        }
        ++env_.queries;
        arm_timeout();
    }

    void arm_timeout() {
        deferred_.clear();
        uv_timer_start(timer_.get(), &Query::on_timer, static_cast<uint64_t>(env_.timeout.count()), 0);
    }

    // An error known at once: handled on the next loop turn, like a timeout.
    void defer(std::string error) {
        deferred_ = std::move(error);
        uv_timer_start(timer_.get(), &Query::on_timer, 0, 0);
    }

    static void on_timer(uv_timer_t* t) {
        auto* self = static_cast<Query*>(t->data);
        std::string why = self->deferred_.empty() ? timeout_text(self->env_.timeout) : self->deferred_;
        self->try_failed(std::move(why));
    }

    // This server did not answer usefully: the next one, or the end.
    void try_failed(std::string error) {
        close_sockets();
        if (!give_up_ && tries_ < max_tries_) {
            server_ = (server_ % env_.servers.size() + 1) % env_.servers.size();
            begin_try();
            return;
        }
        finish(QueryResult{std::nullopt, std::move(error), give_up_ ? std::string() : server().to_string()});
    }

    static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Query*>(h->data);
        *buf = uv_buf_init(reinterpret_cast<char*>(self->in_.data()), static_cast<unsigned>(self->in_.size()));
    }

    static void on_udp_read(uv_udp_t* h, ssize_t nread, const uv_buf_t*, const sockaddr* from, unsigned flags) {
        auto* self = static_cast<Query*>(h->data);
        if (nread < 0) {  // on a connected socket: this server (e.g. ICMP port unreachable)
            self->try_failed(nread == UV_ECONNREFUSED ? std::string("connection refused")
                                                      : std::string("receive error: ") + uv_strerror(int(nread)));
            return;
        }
        if (nread == 0 && !from) return;                                 // nothing more to read
        if (!same_endpoint(from, self->server()) || (flags & UV_UDP_PARTIAL)) return;  // not ours: ignore
        self->on_reply(std::span<const uint8_t>(self->in_.data(), static_cast<std::size_t>(nread)));
    }

    void on_reply(std::span<const uint8_t> bytes) {
        std::string why;
        auto m = wire::parse(bytes, &why);
        if (!m || !wire::answers_query(*m, id_, name_, qtype_)) {
            // Over UDP anyone can send to our port: a reply that is not for our
            // question is ignored and we keep waiting. Over TCP the connection
            // is ours, so it is this server's failure.
            if (over_tcp_) try_failed("malformed reply" + (why.empty() ? std::string() : ": " + why));
            return;
        }
        if (m->tc) {
            if (over_tcp_) try_failed("truncated reply over TCP");
            else start_tcp();
            return;
        }
        if (!m->error.empty()) return try_failed(m->error);
        if (m->rcode != wire::kNoError && m->rcode != wire::kNxDomain) return try_failed(wire::rcode_name(m->rcode));
        env_.preferred = server_ % env_.servers.size();
        finish(QueryResult{std::move(*m), {}, server().to_string()});
    }

    void start_tcp() {
        close_sockets();
        over_tcp_ = true;
        const sockaddr_storage to = to_sockaddr(server());
        tcp_.open(uv_tcp_init, env_.loop);  // cannot fail: the socket is made by connect
        tcp_->data = this;
        auto* req = new uv_connect_t{};
        req->data = this;
        int rc = uv_tcp_connect(req, tcp_.get(), reinterpret_cast<const sockaddr*>(&to), &Query::on_connect);
        if (rc != 0) {
            delete req;  // never registered: no callback will come
            defer(std::string("TCP connect failed: ") + uv_strerror(rc));
            return;
        }
        connect_ = req;
        tcp_in_.clear();
        ++env_.queries;
        arm_timeout();
    }

    static void on_connect(uv_connect_t* req, int status) {
        std::unique_ptr<uv_connect_t> owned(req);
        auto* self = static_cast<Query*>(req->data);
        if (!self) return;  // the query is gone (UV_ECANCELED)
        self->connect_ = nullptr;
        if (status != 0) return self->try_failed(std::string("TCP connect failed: ") + uv_strerror(status));
        auto* w = new WriteReq{};
        w->req.data = self;
        w->bytes.resize(2 + self->wire_.size());
        w->bytes[0] = uint8_t(self->wire_.size() >> 8);
        w->bytes[1] = uint8_t(self->wire_.size());
        std::copy(self->wire_.begin(), self->wire_.end(), w->bytes.begin() + 2);
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->bytes.data()), static_cast<unsigned>(w->bytes.size()));
        auto* stream = reinterpret_cast<uv_stream_t*>(self->tcp_.get());
        int rc = uv_write(&w->req, stream, &buf, 1, &Query::on_written);
        if (rc != 0) {
            delete w;
            return self->try_failed(std::string("TCP write failed: ") + uv_strerror(rc));
        }
        self->write_ = w;
        rc = uv_read_start(stream, &Query::on_alloc, &Query::on_tcp_read);
        if (rc != 0) self->try_failed(std::string("TCP read failed: ") + uv_strerror(rc));
    }

    static void on_written(uv_write_t* req, int status) {
        std::unique_ptr<WriteReq> owned(reinterpret_cast<WriteReq*>(req));
        auto* self = static_cast<Query*>(req->data);
        if (!self) return;
        self->write_ = nullptr;
        if (status != 0) self->try_failed(std::string("TCP write failed: ") + uv_strerror(status));
    }

    static void on_tcp_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* self = static_cast<Query*>(s->data);
        if (nread < 0) {
            self->try_failed(nread == UV_EOF ? std::string("TCP connection closed before the reply")
                                             : std::string("TCP read failed: ") + uv_strerror(int(nread)));
            return;
        }
        auto& in = self->tcp_in_;  // at most 2 + 65535 bytes: the length prefix bounds it
        in.insert(in.end(), self->in_.begin(), self->in_.begin() + nread);
        if (in.size() < 2) return;
        const std::size_t len = std::size_t(in[0]) << 8 | in[1];
        if (in.size() < 2 + len) return;
        std::vector<uint8_t> reply(in.begin() + 2, in.begin() + 2 + static_cast<std::ptrdiff_t>(len));
        self->on_reply(reply);
    }

    // Pending requests outlive the sockets: closing a socket calls them back
    // with UV_ECANCELED, and those callbacks free them.
    void cancel_requests() {
        if (connect_) connect_->data = nullptr;
        if (write_) write_->req.data = nullptr;
        connect_ = nullptr;
        write_ = nullptr;
    }

    void close_sockets() {
        cancel_requests();
        udp_.close();
        tcp_.close();
    }

    void finish(QueryResult result) {
        close_sockets();
        timer_.close();
        Done done = std::move(done_);
        done(std::move(result));  // may destroy this: nothing after it
    }

    Env& env_;
    std::string name_;
    uint16_t qtype_;
    Done done_;
    std::size_t server_;
    const std::size_t max_tries_;
    std::size_t tries_ = 0;
    uint16_t id_ = 0;
    bool over_tcp_ = false, give_up_ = false;
    std::string deferred_;
    std::vector<uint8_t> wire_;
    std::array<uint8_t, 4096> in_{};
    std::vector<uint8_t> tcp_in_;
    io::Timer timer_;
    Udp udp_;
    io::Tcp tcp_;
    uv_connect_t* connect_ = nullptr;  // pending, owned by its callback
    WriteReq* write_ = nullptr;        // pending, owned by its callback
};

// One family (A or AAAA) of one attempt: asks for the name, then for the end
// of a CNAME chain that the reply did not resolve (the server is authoritative
// for another zone), at most kMaxHops times, never a name twice.
class Lookup {
public:
    Lookup(Env& env, std::string name, uint16_t qtype, std::function<void()> done)
        : env_(env), qtype_(qtype), current_(std::move(name)), done_(std::move(done)) {
        seen_.push_back(current_);
    }

    void start() { ask(); }
    bool finished() const { return finished_; }
    const Outcome& outcome() const { return outcome_; }

private:
    void ask() {
        query_ = std::make_unique<Query>(env_, current_, qtype_, [this](QueryResult r) { on_result(std::move(r)); });
        query_->start();
    }

    void on_result(QueryResult r) {
        outcome_.server = r.server;
        if (!r.reply) return fail(std::move(r.error));
        const wire::Message& m = *r.reply;
        wire::Chain chain = wire::follow(m, current_, qtype_);
        if (!chain.error.empty()) return fail(chain.error);
        outcome_.chain_ttl = std::min(outcome_.chain_ttl, chain.cname_ttl);
        if (!chain.addresses.empty()) {
            outcome_.kind = Outcome::Answer;
            outcome_.addresses = std::move(chain.addresses);
            outcome_.ttl = std::min(chain.ttl, outcome_.chain_ttl);
            return complete();
        }
        if (m.rcode == wire::kNoError && chain.end != current_) {  // a CNAME to a name the reply did not resolve
            if (std::find(seen_.begin(), seen_.end(), chain.end) != seen_.end())
                return fail("CNAME loop at " + chain.end);
            if (++hops_ > kMaxHops)
                return fail("CNAME chain from " + seen_.front() + " needs more than " + std::to_string(kMaxHops) +
                            " further queries");
            current_ = chain.end;
            seen_.push_back(current_);
            ask();  // replaces the finished query (its callback returns at once)
            return;
        }
        outcome_.kind = m.rcode == wire::kNxDomain ? Outcome::NxDomain : Outcome::NoData;
        outcome_.ttl = wire::negative_ttl(m);
        complete();
    }

    void fail(std::string error) {
        outcome_.kind = Outcome::Failure;
        outcome_.error = std::move(error);
        complete();
    }

    void complete() {
        finished_ = true;
        done_();  // the owner frees this later, not from inside the callback
    }

    Env& env_;
    uint16_t qtype_;
    std::string current_;
    std::vector<std::string> seen_;
    unsigned hops_ = 0;
    std::function<void()> done_;
    std::unique_ptr<Query> query_;
    Outcome outcome_;
    bool finished_ = false;
};

}  // namespace

struct Resolver::Impl {
    // One name: its Resolution and at most one attempt (the A and AAAA pair) in flight.
    struct Name {
        core::Resolution res;
        std::unique_ptr<Lookup> a, aaaa;  // the attempt in flight, or none
        uint64_t failed_in_a_row = 0;
        bool completed = false;           // both families done, waiting for the batch
        bool in_flight() const { return a != nullptr; }
    };

    Env env;
    Bounds bounds;
    std::vector<std::unique_ptr<Name>> names;  // set_names() order
    std::vector<Name*> completed;              // attempts done this iteration (at most one per name)
    std::function<void(std::span<const core::Resolution>)> callback;
    io::Timer timer;  // the earliest next_refresh of a name not in flight
    Check check;      // runs after the loop's I/O: hands the iteration's results over in one batch
    bool stopped = false;

    Impl(uv_loop_t* loop, ResolverOptions options) : bounds(options.bounds) {
        env.loop = loop;
        env.servers = options.servers.empty() ? default_servers(options.resolv_conf) : std::move(options.servers);
        env.timeout = bounds.timeout;
        timer.open(uv_timer_init, loop);
        timer->data = this;
        check.open(uv_check_init, loop);
        check->data = this;
    }

    void start_attempt(Name& n) {
        n.completed = false;
        auto done = [this, &n] { family_done(n); };
        n.a = std::make_unique<Lookup>(env, n.res.name, wire::kTypeA, done);
        n.aaaa = std::make_unique<Lookup>(env, n.res.name, wire::kTypeAaaa, done);
        n.a->start();
        n.aaaa->start();
    }

    void family_done(Name& n) {
        if (!n.a->finished() || !n.aaaa->finished() || n.completed) return;
        n.completed = true;
        completed.push_back(&n);
        uv_check_start(check.get(), &Impl::on_check);
    }

    static void on_check(uv_check_t* h) {
        auto* self = static_cast<Impl*>(h->data);
        uv_check_stop(h);
        self->flush();
    }

    // Applies the iteration's outcomes, re-arms the timer, then tells the owner.
    void flush() {
        std::vector<core::Resolution> changed;
        const core::TimePoint now = core::Clock::now();
        for (Name* n : completed) {
            Outcome o = combine(n->a->outcome(), n->aaaa->outcome());
            n->failed_in_a_row = o.kind == Outcome::Failure ? n->failed_in_a_row + 1 : 0;
            o.failed_in_a_row = n->failed_in_a_row;
            n->a.reset();  // the queries have finished: this frees their memory
            n->aaaa.reset();
            n->completed = false;
            apply(n->res, o, now, bounds);
            changed.push_back(n->res);
        }
        completed.clear();
        schedule();
        if (callback && !changed.empty()) callback(changed);
    }

    static void on_timer(uv_timer_t* t) {
        auto* self = static_cast<Impl*>(t->data);
        const core::TimePoint now = core::Clock::now();
        for (auto& n : self->names)
            if (!n->in_flight() && n->res.next_refresh <= now) self->start_attempt(*n);
        self->schedule();
    }

    void schedule() {
        if (stopped) return;
        std::optional<core::TimePoint> next;
        for (auto& n : names)
            if (!n->in_flight() && (!next || n->res.next_refresh < *next)) next = n->res.next_refresh;
        if (!next) {
            uv_timer_stop(timer.get());
            return;
        }
        // Loop time can lag the clock: refresh it so the timer never fires early.
        uv_update_time(env.loop);
        const auto wait = std::chrono::ceil<core::Millis>(*next - core::Clock::now());
        uv_timer_start(timer.get(), &Impl::on_timer, static_cast<uint64_t>(std::max<int64_t>(wait.count(), 0)), 0);
    }

    void set_names(std::vector<std::string> list) {
        std::unordered_map<std::string, std::unique_ptr<Name>> old;
        for (auto& n : names) old.emplace(n->res.name, std::move(n));
        names.clear();
        const core::TimePoint now = core::Clock::now();
        for (auto& raw : list) {
            std::string name = wire::normalize_name(raw);
            if (std::any_of(names.begin(), names.end(), [&](auto& n) { return n->res.name == name; })) continue;
            if (auto it = old.find(name); it != old.end()) {
                names.push_back(std::move(it->second));
                old.erase(it);
                continue;
            }
            auto n = std::make_unique<Name>();
            n->res.name = name;
            n->res.next_refresh = now;  // asked at once (from the timer: never inside this call)
            names.push_back(std::move(n));
        }
        // Removed names: their queries close with them; a finished attempt of
        // theirs waiting for the batch is dropped.
        std::erase_if(completed, [&](Name* p) { return old.contains(p->res.name); });
        old.clear();
        schedule();
    }

    void stop() {
        stopped = true;
        for (auto& n : names) {
            n->a.reset();
            n->aaaa.reset();
            n->completed = false;
        }
        completed.clear();
        timer.close();
        check.close();
    }
};

Resolver::Resolver(uv_loop_t* loop, ResolverOptions options) : impl_(std::make_unique<Impl>(loop, std::move(options))) {}

Resolver::~Resolver() { stop(); }

void Resolver::set_names(std::vector<std::string> names) { impl_->set_names(std::move(names)); }

void Resolver::on_change(std::function<void(std::span<const core::Resolution>)> callback) {
    impl_->callback = std::move(callback);
}

std::vector<core::Resolution> Resolver::resolutions() const {
    std::vector<core::Resolution> out;
    out.reserve(impl_->names.size());
    for (auto& n : impl_->names) out.push_back(n->res);
    return out;
}

bool Resolver::settled() const {
    return std::none_of(impl_->names.begin(), impl_->names.end(),
                        [](auto& n) { return n->res.state == core::ResolveState::Pending; });
}

uint64_t Resolver::queries() const { return impl_->env.queries; }

const std::vector<Server>& Resolver::servers() const { return impl_->env.servers; }

void Resolver::set_options(ResolverOptions options) {
    auto& i = *impl_;
    i.env.servers = options.servers.empty() ? default_servers(options.resolv_conf) : std::move(options.servers);
    i.env.preferred = 0;
    i.bounds = options.bounds;
    i.env.timeout = i.bounds.timeout;
}

void Resolver::stop() { impl_->stop(); }

}  // namespace signpost::resolve
