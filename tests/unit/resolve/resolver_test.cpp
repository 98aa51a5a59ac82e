// resolve/resolver on a real loop against a fake DNS server on 127.0.0.1 (same
// loop, UDP and TCP on one ephemeral port): answers, NXDOMAIN, CNAME to another
// zone, TC then TCP, forged replies ignored, silence moving to the next server,
// and re-resolution by TTL. Waits poll a condition until a deadline.
#include "resolve/resolver.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>

#include <unistd.h>
#include <uv.h>

#include "dns_packets.hpp"
#include "io/handle.hpp"

using namespace signpost;
using namespace std::chrono_literals;
namespace t = signpost::resolve::test;

namespace {

core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }
using Replies = std::vector<std::vector<uint8_t>>;

struct Loop {
    uv_loop_t loop{};
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        const auto deadline = core::Clock::now() + 5s;
        while (uv_run(&loop, UV_RUN_NOWAIT) != 0 && core::Clock::now() < deadline) {
        }
        CHECK(uv_loop_close(&loop) == 0);
    }
    uv_loop_t* get() { return &loop; }
};

// Runs the loop until `done` or the deadline; a ticking timer keeps it from blocking.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, core::Millis limit = 10s) {
    io::Timer tick;
    tick.open(uv_timer_init, loop);
    uv_timer_start(tick.get(), [](uv_timer_t*) {}, 10, 10);
    const auto deadline = core::Clock::now() + limit;
    while (!done() && core::Clock::now() < deadline) uv_run(loop, UV_RUN_ONCE);
    return done();
}

// A DNS server on 127.0.0.1, UDP and TCP on the same port, answering with
// `handler` (zero or more replies per question).
struct FakeDns {
    using Handler = std::function<std::vector<std::vector<uint8_t>>(const t::Question&, bool tcp)>;

    struct Conn {
        FakeDns* server;
        io::Tcp tcp;
        std::vector<uint8_t> in;
        char buf[4096];
    };

    uv_loop_t* loop;
    io::Handle<uv_udp_t> udp, other;  // `other`: a second port, for replies from the wrong place
    io::Tcp listener;
    std::vector<std::unique_ptr<Conn>> conns;
    uint16_t port = 0;
    Handler handler;
    bool silent = false;
    std::map<std::string, int> asked;  // "name/type/udp|tcp" -> count
    char buf[4096];

    explicit FakeDns(uv_loop_t* l) : loop(l) {
        for (int tries = 0; tries < 20 && !port; ++tries) {
            listener.open(uv_tcp_init, loop);
            sockaddr_in sa{};
            uv_ip4_addr("127.0.0.1", 0, &sa);
            REQUIRE(uv_tcp_bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), 0) == 0);
            int len = sizeof sa;
            uv_tcp_getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sa), &len);
            udp.open(uv_udp_init, loop);
            if (uv_udp_bind(udp.get(), reinterpret_cast<sockaddr*>(&sa), 0) == 0) port = ntohs(sa.sin_port);
        }
        REQUIRE(port != 0);
        listener->data = this;
        udp->data = this;
        REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(listener.get()), 8, &FakeDns::on_accept) == 0);
        REQUIRE(uv_udp_recv_start(udp.get(), &FakeDns::on_alloc, &FakeDns::on_udp) == 0);
        other.open(uv_udp_init, loop);
        sockaddr_in any{};
        uv_ip4_addr("127.0.0.1", 0, &any);
        REQUIRE(uv_udp_bind(other.get(), reinterpret_cast<sockaddr*>(&any), 0) == 0);
    }

    resolve::Server server() const { return {ip("127.0.0.1"), port}; }
    int count(const std::string& name, uint16_t type, bool tcp = false) {
        return asked[name + "/" + std::to_string(type) + (tcp ? "/tcp" : "/udp")];
    }

    static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* self = static_cast<FakeDns*>(h->data);
        *b = uv_buf_init(self->buf, sizeof self->buf);
    }
    static void on_udp(uv_udp_t* h, ssize_t n, const uv_buf_t* b, const sockaddr* from, unsigned) {
        auto* self = static_cast<FakeDns*>(h->data);
        t::Question q;
        if (n <= 0 || !from || !t::decode_question(reinterpret_cast<uint8_t*>(b->base), size_t(n), q)) return;
        ++self->asked[q.name + "/" + std::to_string(q.type) + "/udp"];
        if (self->silent || !self->handler) return;
        for (auto& reply : self->handler(q, false)) {
            // a reply with a first byte of 0xFF... is sent from the other port (see forged())
            bool wrong_port = reply.size() > 2 && reply.back() == 0xEE && reply[reply.size() - 2] == 0xEE;
            if (wrong_port) reply.resize(reply.size() - 2);
            uv_buf_t out = uv_buf_init(reinterpret_cast<char*>(reply.data()), unsigned(reply.size()));
            uv_udp_try_send(wrong_port ? self->other.get() : h, &out, 1, from);
        }
    }
    static void on_accept(uv_stream_t* s, int status) {
        auto* self = static_cast<FakeDns*>(s->data);
        if (status != 0) return;
        auto c = std::make_unique<Conn>();
        c->server = self;
        c->tcp.open(uv_tcp_init, self->loop);
        c->tcp->data = c.get();
        if (uv_accept(s, reinterpret_cast<uv_stream_t*>(c->tcp.get())) != 0) return;
        uv_read_start(reinterpret_cast<uv_stream_t*>(c->tcp.get()),
                      [](uv_handle_t* h, size_t, uv_buf_t* b) {
                          auto* conn = static_cast<Conn*>(h->data);
                          *b = uv_buf_init(conn->buf, sizeof conn->buf);
                      },
                      &FakeDns::on_tcp);
        self->conns.push_back(std::move(c));
    }
    static void on_tcp(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        auto* conn = static_cast<Conn*>(s->data);
        FakeDns* self = conn->server;
        if (n < 0) {
            std::erase_if(self->conns, [&](auto& c) { return c.get() == conn; });
            return;
        }
        conn->in.insert(conn->in.end(), b->base, b->base + n);
        if (conn->in.size() < 2 || conn->in.size() < 2u + (conn->in[0] << 8 | conn->in[1])) return;
        t::Question q;
        if (!t::decode_question(conn->in.data() + 2, conn->in.size() - 2, q)) return;
        conn->in.clear();
        ++self->asked[q.name + "/" + std::to_string(q.type) + "/tcp"];
        if (self->silent || !self->handler) return;
        for (auto& reply : self->handler(q, true)) {
            std::vector<uint8_t> framed = {uint8_t(reply.size() >> 8), uint8_t(reply.size())};
            framed.insert(framed.end(), reply.begin(), reply.end());
            uv_buf_t out = uv_buf_init(reinterpret_cast<char*>(framed.data()), unsigned(framed.size()));
            uv_try_write(s, &out, 1);
        }
    }
};

// A reply to send from the fake server's other port.
std::vector<uint8_t> from_other_port(std::vector<uint8_t> reply) {
    reply.push_back(0xEE);
    reply.push_back(0xEE);
    return reply;
}

// Zone data for the fake server: A/AAAA per name, NXDOMAIN for nx.*, CNAMEs.
struct Zone {
    std::map<std::string, std::vector<t::Rr>> records;  // by owner
    std::map<std::string, uint8_t> rcode;               // by owner: SERVFAIL, REFUSED, ...

    std::vector<std::vector<uint8_t>> answer(const t::Question& q) const {
        t::Reply r{q.id, q.name, q.type, 0, false, {}, {}};
        if (auto it = rcode.find(q.name); it != rcode.end()) {
            r.rcode = it->second;
            return {t::encode(r)};
        }
        auto it = records.find(q.name);
        if (it == records.end()) {
            r.rcode = 3;
            r.authority.push_back(t::soa("lb.test", 600, 30));
            return {t::encode(r)};
        }
        for (auto& rr : it->second)
            if (rr.type == q.type || rr.type == 5) r.answers.push_back(rr);
        if (r.answers.empty()) r.authority.push_back(t::soa("lb.test", 45, 300));
        return {t::encode(r)};
    }
};

resolve::ResolverOptions options(std::vector<resolve::Server> servers, core::Millis timeout = 300ms) {
    resolve::ResolverOptions o;
    o.servers = std::move(servers);
    o.bounds.timeout = timeout;
    return o;
}

core::Resolution only(const std::vector<core::Resolution>& rs) {
    REQUIRE(rs.size() == 1);
    return rs[0];
}

}  // namespace

TEST_CASE("resolver: a name's A and AAAA records, with the lowest TTL and a refresh at half of it") {
    const auto live = io::live_handles();
    {
        Loop loop;
        FakeDns dns(loop.get());
        Zone zone;
        zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 30), t::a("eu.lb.test", "::1", 20)};
        dns.handler = [&](const t::Question& q, bool) { return zone.answer(q); };

        resolve::Resolver resolver(loop.get(), options({dns.server()}));
        std::vector<std::vector<core::Resolution>> batches;
        resolver.on_change([&](std::span<const core::Resolution> rs) { batches.emplace_back(rs.begin(), rs.end()); });
        resolver.set_names({"EU.lb.test."});
        CHECK_FALSE(resolver.settled());
        CHECK(batches.empty());  // never from inside set_names()
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));

        auto r = only(resolver.resolutions());
        CHECK(r.name == "eu.lb.test");
        CHECK(r.state == core::ResolveState::Ok);
        CHECK(r.addresses == std::vector{ip("127.0.0.10"), ip("::1")});
        CHECK(r.ttl == 20);
        CHECK(r.next_refresh - r.resolved_at == 10s);
        CHECK(r.server == "127.0.0.1:" + std::to_string(dns.port));
        CHECK(r.answers == 1);
        CHECK(resolver.queries() == 2);
        REQUIRE(batches.size() == 1);
        CHECK(only(batches[0]) == r);
        CHECK(dns.count("eu.lb.test", 1) == 1);
        CHECK(dns.count("eu.lb.test", 28) == 1);
    }
    CHECK(io::live_handles() == live);
}

TEST_CASE("resolver: NXDOMAIN and a name without addresses are negative, with the SOA's TTL") {
    Loop loop;
    FakeDns dns(loop.get());
    Zone zone;
    zone.records["mail.lb.test"] = {{"mail.lb.test", 15 /* MX */, 60, {0, 10, 0}}};
    dns.handler = [&](const t::Question& q, bool) { return zone.answer(q); };
    resolve::Resolver resolver(loop.get(), options({dns.server()}));
    resolver.set_names({"nx.lb.test", "mail.lb.test"});
    REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
    auto rs = resolver.resolutions();
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].state == core::ResolveState::Negative);
    CHECK(rs[0].error == "NXDOMAIN for nx.lb.test");
    CHECK(rs[0].next_refresh - rs[0].resolved_at == 30s);  // min(SOA TTL 600, minimum 30)
    CHECK(rs[1].state == core::ResolveState::Negative);
    CHECK(rs[1].error == "no A or AAAA records for mail.lb.test");
    CHECK(rs[1].next_refresh - rs[1].resolved_at == 45s);
    CHECK(rs[1].addresses.empty());
}

TEST_CASE("resolver: a CNAME into another zone is followed with a query for its target") {
    Loop loop;
    FakeDns dns(loop.get());
    Zone zone;
    zone.records["www.site.test"] = {t::cname("www.site.test", "eu.lb.test", 300)};
    zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 30)};
    zone.records["loop1.test"] = {t::cname("loop1.test", "loop2.test", 300)};
    zone.records["loop2.test"] = {t::cname("loop2.test", "loop1.test", 300)};
    dns.handler = [&](const t::Question& q, bool) -> Replies {
        auto replies = zone.answer(q);
        if (q.name == "loop2.test") {  // answer only the one link, so the loop spans two queries
            t::Reply r{q.id, q.name, q.type, 0, false, {t::cname("loop2.test", "loop1.test")}, {}};
            return Replies{t::encode(r)};
        }
        return replies;
    };
    resolve::Resolver resolver(loop.get(), options({dns.server()}));
    resolver.set_names({"www.site.test", "loop1.test"});
    REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
    auto rs = resolver.resolutions();
    CHECK(rs[0].state == core::ResolveState::Ok);
    CHECK(rs[0].addresses == std::vector{ip("127.0.0.10")});
    CHECK(rs[0].ttl == 30);
    CHECK(dns.count("eu.lb.test", 1) == 1);
    CHECK(dns.count("eu.lb.test", 28) == 1);
    CHECK(rs[1].state == core::ResolveState::Failing);
    CHECK(rs[1].error.starts_with("CNAME loop at loop1.test from 127.0.0.1:"));
}

TEST_CASE("resolver: a truncated reply is asked again over TCP") {
    Loop loop;
    FakeDns dns(loop.get());
    Zone zone;
    for (int i = 1; i <= 40; ++i) {
        std::string addr = "127.0.1." + std::to_string(i);
        zone.records["big.lb.test"].push_back(t::a("big.lb.test", addr, 60));
    }
    dns.handler = [&](const t::Question& q, bool tcp) -> Replies {
        if (!tcp && q.type == 1) {
            t::Reply r{q.id, q.name, q.type, 0, true, {}, {}};
            return Replies{t::encode(r)};
        }
        return zone.answer(q);
    };
    resolve::Resolver resolver(loop.get(), options({dns.server()}));
    resolver.set_names({"big.lb.test"});
    REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
    auto r = only(resolver.resolutions());
    CHECK(r.state == core::ResolveState::Ok);
    CHECK(r.addresses.size() == 40);
    CHECK(dns.count("big.lb.test", 1, true) == 1);
    CHECK(dns.count("big.lb.test", 28, true) == 0);
    CHECK(resolver.queries() == 3);
}

TEST_CASE("resolver: replies with a wrong ID, another question or from another port are ignored") {
    Loop loop;
    FakeDns dns(loop.get());
    Zone zone;
    zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 30)};
    SUBCASE("forgeries first, then the real reply") {
        dns.handler = [&](const t::Question& q, bool) -> Replies {
            Replies out;
            t::Reply bad{uint16_t(q.id ^ 0x5A5A), q.name, q.type, 0, false, {t::a(q.name, "127.0.0.66")}, {}};
            if (q.type == 28) bad.answers = {t::a(q.name, "2001:db8::66")};
            out.push_back(t::encode(bad));
            t::Reply other = bad;
            other.id = q.id;
            other.qname = "evil.test";
            other.answers = {t::a("evil.test", "127.0.0.67")};
            out.push_back(t::encode(other));
            bad.id = q.id;
            out.push_back(from_other_port(t::encode(bad)));
            for (auto& r : zone.answer(q)) out.push_back(r);
            return out;
        };
        resolve::Resolver resolver(loop.get(), options({dns.server()}));
        resolver.set_names({"eu.lb.test"});
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
        auto r = only(resolver.resolutions());
        CHECK(r.state == core::ResolveState::Ok);
        CHECK(r.addresses == std::vector{ip("127.0.0.10")});
    }
    SUBCASE("only forgeries: a timeout") {
        dns.handler = [&](const t::Question& q, bool) {
            t::Reply bad{uint16_t(q.id + 1), q.name, q.type, 0, false, {t::a(q.name, "127.0.0.66")}, {}};
            return Replies{t::encode(bad)};
        };
        resolve::Resolver resolver(loop.get(), options({dns.server()}, 150ms));
        resolver.set_names({"eu.lb.test"});
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
        auto r = only(resolver.resolutions());
        CHECK(r.state == core::ResolveState::Failing);
        CHECK(r.addresses.empty());
        CHECK(r.error == "timeout after 150 ms from 127.0.0.1:" + std::to_string(dns.port));
    }
}

TEST_CASE("resolver: a silent server times out and the next one is asked") {
    Loop loop;
    FakeDns quiet(loop.get()), dns(loop.get());
    quiet.silent = true;
    Zone zone;
    zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 30)};
    dns.handler = [&](const t::Question& q, bool) { return zone.answer(q); };

    SUBCASE("the second answers") {
        resolve::Resolver resolver(loop.get(), options({quiet.server(), dns.server()}, 200ms));
        resolver.set_names({"eu.lb.test"});
        const auto started = core::Clock::now();
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
        CHECK(core::Clock::now() - started >= 190ms);  // libuv timers count whole milliseconds
        auto r = only(resolver.resolutions());
        CHECK(r.state == core::ResolveState::Ok);
        CHECK(r.server == dns.server().to_string());
        CHECK(quiet.count("eu.lb.test", 1) + quiet.count("eu.lb.test", 28) >= 1);
        CHECK(resolver.queries() >= 3);
    }
    SUBCASE("all silent: a failure after two tries of one server") {
        resolve::Resolver resolver(loop.get(), options({quiet.server()}, 100ms));
        resolver.set_names({"eu.lb.test"});
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
        auto r = only(resolver.resolutions());
        CHECK(r.state == core::ResolveState::Failing);
        CHECK(r.error == "timeout after 100 ms from " + quiet.server().to_string());
        CHECK(quiet.count("eu.lb.test", 1) == 2);
        CHECK(resolver.queries() == 4);
        CHECK(r.next_refresh - core::Clock::now() <= 1s);  // retried after 1 s
    }
}

TEST_CASE("resolver: SERVFAIL and a closed port are failures that name the server") {
    Loop loop;
    FakeDns dns(loop.get());
    Zone zone;
    zone.rcode["eu.lb.test"] = 2;
    dns.handler = [&](const t::Question& q, bool) { return zone.answer(q); };
    // a port with nothing behind it (bound, then closed)
    uint16_t closed = 0;
    {
        int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sa{};
        uv_ip4_addr("127.0.0.1", 0, &sa);
        socklen_t len = sizeof sa;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        closed = ntohs(sa.sin_port);
        ::close(fd);
    }
    resolve::Resolver servfail(loop.get(), options({dns.server()}));
    resolve::Resolver refused(loop.get(), options({{ip("127.0.0.1"), closed}}, 5s));
    servfail.set_names({"eu.lb.test"});
    refused.set_names({"eu.lb.test"});
    REQUIRE(run_until(loop.get(), [&] { return servfail.settled() && refused.settled(); }, 4s));
    CHECK(only(servfail.resolutions()).error == "SERVFAIL from " + dns.server().to_string());
    CHECK(only(refused.resolutions()).error == "connection refused from 127.0.0.1:" + std::to_string(closed));
}

TEST_CASE("resolver: re-resolves by TTL, keeps the last good addresses while failing, follows a change") {
    Loop loop;
    FakeDns dns(loop.get());
    Zone zone;
    zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 1)};
    dns.handler = [&](const t::Question& q, bool) { return zone.answer(q); };
    auto opts = options({dns.server()});
    opts.bounds.min_ttl = 200ms;
    resolve::Resolver resolver(loop.get(), opts);
    std::vector<core::Resolution> seen;
    resolver.on_change([&](std::span<const core::Resolution> rs) { seen.insert(seen.end(), rs.begin(), rs.end()); });
    resolver.set_names({"eu.lb.test"});
    REQUIRE(run_until(loop.get(), [&] { return seen.size() == 1; }));
    CHECK(seen[0].next_refresh - seen[0].resolved_at == 500ms);  // half of 1 s

    // the TTL changes: the next refresh follows it
    zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 2)};
    REQUIRE(run_until(loop.get(), [&] { return seen.size() == 2; }));
    CHECK(seen[1].ttl == 2);
    CHECK(seen[1].resolved_at - seen[0].resolved_at >= 500ms);
    CHECK(seen[1].next_refresh - seen[1].resolved_at == 1s);

    // the server fails: the addresses stay, the state says so
    zone.rcode["eu.lb.test"] = 5;
    REQUIRE(run_until(loop.get(), [&] { return seen.size() == 3; }));
    CHECK(seen[2].state == core::ResolveState::Failing);
    CHECK(seen[2].addresses == std::vector{ip("127.0.0.10")});
    CHECK(seen[2].error == "REFUSED from " + dns.server().to_string());
    CHECK(seen[2].resolved_at == seen[1].resolved_at);

    // it recovers with another address
    zone.rcode.clear();
    zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.11", 60)};
    REQUIRE(run_until(loop.get(), [&] { return seen.size() == 4; }));
    CHECK(seen[3].state == core::ResolveState::Ok);
    CHECK(seen[3].addresses == std::vector{ip("127.0.0.11")});
    CHECK(seen[3].error.empty());
    CHECK(seen[3].answers == 3);
    CHECK(seen[3].failures == 1);
}

TEST_CASE("resolver: set_names keeps known names, asks new ones, stops asking removed ones") {
    const auto live = io::live_handles();
    {
        Loop loop;
        FakeDns dns(loop.get());
        Zone zone;
        zone.records["eu.lb.test"] = {t::a("eu.lb.test", "127.0.0.10", 600)};
        zone.records["us.lb.test"] = {t::a("us.lb.test", "127.0.0.11", 600)};
        zone.records["ap.lb.test"] = {t::a("ap.lb.test", "127.0.0.12", 600)};
        dns.handler = [&](const t::Question& q, bool) { return zone.answer(q); };
        resolve::Resolver resolver(loop.get(), options({dns.server()}));
        resolver.set_names({"eu.lb.test", "us.lb.test", "eu.lb.test"});
        CHECK(resolver.resolutions().size() == 2);
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
        auto before = resolver.resolutions();

        resolver.set_names({"ap.lb.test", "eu.lb.test"});
        auto now = resolver.resolutions();
        REQUIRE(now.size() == 2);
        CHECK(now[0].name == "ap.lb.test");
        CHECK(now[0].state == core::ResolveState::Pending);
        CHECK(now[1] == before[0]);  // kept as it was
        REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
        CHECK(dns.count("eu.lb.test", 1) == 1);  // not asked again: its TTL has not run out
        CHECK(dns.count("ap.lb.test", 1) == 1);

        // a name removed while its query is in flight: the query is dropped
        dns.silent = true;
        resolver.set_names({"gone.lb.test"});
        REQUIRE(run_until(loop.get(), [&] { return dns.count("gone.lb.test", 1) == 1; }));
        resolver.set_names({});
        CHECK(resolver.resolutions().empty());
        CHECK(resolver.settled());
        resolver.stop();
    }
    CHECK(io::live_handles() == live);
}

TEST_CASE("resolver: without servers it reads resolv.conf, and falls back to 127.0.0.1:53") {
    Loop loop;
    auto dir = std::filesystem::temp_directory_path() / ("signpost-resolver-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "resolv.conf") << "search example.com\nnameserver 127.0.0.53\nnameserver ::1\n";
    resolve::ResolverOptions o;
    o.resolv_conf = (dir / "resolv.conf").string();
    resolve::Resolver from_file(loop.get(), o);
    REQUIRE(from_file.servers().size() == 2);
    CHECK(from_file.servers()[0].to_string() == "127.0.0.53:53");
    CHECK(from_file.servers()[1].to_string() == "[::1]:53");
    o.resolv_conf = (dir / "missing.conf").string();
    resolve::Resolver fallback(loop.get(), o);
    REQUIRE(fallback.servers().size() == 1);
    CHECK(fallback.servers()[0].to_string() == "127.0.0.1:53");
    std::filesystem::remove_all(dir);
}

TEST_CASE("resolver: a name that is not a DNS name fails without asking anyone") {
    Loop loop;
    FakeDns dns(loop.get());
    resolve::Resolver resolver(loop.get(), options({dns.server()}));
    resolver.set_names({"a..b.test"});
    REQUIRE(run_until(loop.get(), [&] { return resolver.settled(); }));
    auto r = only(resolver.resolutions());
    CHECK(r.state == core::ResolveState::Failing);
    CHECK(r.error == "not a valid DNS name: a..b.test");
    CHECK(resolver.queries() == 0);
}
