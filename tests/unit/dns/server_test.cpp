// The UDP/TCP server on 127.0.0.1 with an ephemeral port: real sockets, deadlines, no sleeps.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "dns/server.hpp"
#include "dns/server_sockets.hpp"
#include "support.hpp"

using namespace dnstest;
using namespace std::chrono_literals;

namespace {

struct Sock {
    int fd = -1;
    explicit Sock(int f) : fd(f) {}
    Sock(const Sock&) = delete;
    Sock& operator=(const Sock&) = delete;
    ~Sock() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

// One UDP query; empty when nothing came back within the deadline.
std::vector<uint8_t> udp_query(uint16_t port, const std::vector<uint8_t>& q, int ms = 2000) {
    Sock s(::socket(AF_INET, SOCK_DGRAM, 0));
    auto a = loopback(port);
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
    if (::send(s.fd, q.data(), q.size(), 0) != ssize_t(q.size())) return {};
    if (!wait_readable(s.fd, ms)) return {};
    std::vector<uint8_t> buf(65535);
    ssize_t n = ::recv(s.fd, buf.data(), buf.size(), 0);
    if (n <= 0) return {};
    buf.resize(std::size_t(n));
    return buf;
}

int tcp_connect(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto a = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::vector<uint8_t>& b) {
    std::size_t off = 0;
    while (off < b.size()) {
        ssize_t n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += std::size_t(n);
    }
    return true;
}

// Reads exactly n bytes before the deadline.
bool recv_exact(int fd, uint8_t* out, std::size_t n, std::chrono::steady_clock::time_point deadline) {
    std::size_t got = 0;
    while (got < n) {
        int ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
        if (ms <= 0 || !wait_readable(fd, ms)) return false;
        ssize_t r = ::recv(fd, out + got, n - got, 0);
        if (r <= 0) return false;
        got += std::size_t(r);
    }
    return true;
}

std::vector<uint8_t> tcp_read_message(int fd, int ms = 2000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    uint8_t len[2];
    if (!recv_exact(fd, len, 2, deadline)) return {};
    std::vector<uint8_t> msg(std::size_t(len[0] << 8 | len[1]));
    if (!recv_exact(fd, msg.data(), msg.size(), deadline)) return {};
    return msg;
}

std::vector<uint8_t> framed(const std::vector<uint8_t>& q) {
    // Sized once: growing a 2-byte vector by insert trips GCC 12's -Warray-bounds.
    std::vector<uint8_t> out(2 + q.size());
    out[0] = uint8_t(q.size() >> 8);
    out[1] = uint8_t(q.size());
    std::copy(q.begin(), q.end(), out.begin() + 2);
    return out;
}

// Closed by the peer (EOF) before the deadline.
bool peer_closed(int fd, int ms) {
    if (!wait_readable(fd, ms)) return false;
    uint8_t b;
    return ::recv(fd, &b, 1, 0) <= 0;
}

std::shared_ptr<const signpost::dns::View> view_with(const std::string& addr, uint64_t generation) {
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com");
    z.a("ns1", "192.0.2.53");
    for (int i = 0; i < 40; ++i) z.txt("big", std::string(100, 'x') + std::to_string(i));
    z.service("site", {"www"});
    auto cat = make_catalog({z});
    std::vector<signpost::policy::Evaluation> evs{evaluation({variant({addr})})};
    return signpost::dns::build_view(cat, evs, generation);
}

// A snapshot with only a View (no explain state, no transfer content).
std::shared_ptr<const signpost::dns::Snapshot> snapshot_with(const std::string& addr, uint64_t version) {
    auto s = std::make_shared<signpost::dns::Snapshot>();
    s->version = version;
    s->view = view_with(addr, version);
    return s;
}

signpost::dns::ServerOptions options(unsigned workers = 2) {
    signpost::dns::ServerOptions o;
    o.listen.push_back(*signpost::dns::ListenAddress::parse("127.0.0.1:0"));
    o.workers = workers;
    return o;
}

}  // namespace

TEST_CASE("server: answers UDP and TCP then takes new views and closes its port on stop") {
    signpost::dns::Server server(options(), snapshot_with("192.0.2.1", 1));
    auto bound = server.bound();
    REQUIRE(bound.size() == 1);
    uint16_t port = bound[0].port;
    REQUIRE(port != 0);
    CHECK(bound[0].to_string() == "127.0.0.1:" + std::to_string(port));

    // Several UDP queries: with two workers sharing the port, all get answers.
    for (int i = 0; i < 20; ++i) {
        auto r = parse_reply(udp_query(port, make_query("www.example.com", 1, {.id = uint16_t(i)})));
        REQUIRE(r.ok);
        CHECK(r.id == i);
        CHECK(r.answer == std::vector<std::string>{"www.example.com. 30 IN A 192.0.2.1"});
    }
    // UDP truncation, then the same over TCP in full.
    auto big = parse_reply(udp_query(port, make_query("big.example.com", 16)));
    CHECK(big.tc);

    {
        Sock t(tcp_connect(port));
        REQUIRE(t.fd >= 0);
        // Two pipelined queries in one write, answered in order.
        auto q1 = framed(make_query("www.example.com", 1, {.id = 1}));
        auto q2 = framed(make_query("big.example.com", 16, {.id = 2}));
        std::vector<uint8_t> both = q1;
        both.insert(both.end(), q2.begin(), q2.end());
        REQUIRE(send_all(t.fd, both));
        auto r1 = parse_reply(tcp_read_message(t.fd));
        auto r2 = parse_reply(tcp_read_message(t.fd));
        CHECK(r1.id == 1);
        CHECK(r1.answer.size() == 1);
        CHECK(r2.id == 2);
        CHECK_FALSE(r2.tc);
        CHECK(r2.answer.size() == 40);
        // A query split across writes (length prefix alone first).
        auto q3 = framed(make_query("www.example.com", 1, {.id = 3}));
        REQUIRE(send_all(t.fd, {q3[0]}));
        REQUIRE(send_all(t.fd, std::vector<uint8_t>(q3.begin() + 1, q3.begin() + 7)));
        REQUIRE(send_all(t.fd, std::vector<uint8_t>(q3.begin() + 7, q3.end())));
        CHECK(parse_reply(tcp_read_message(t.fd)).id == 3);
    }

    // A new view: every worker picks it up.
    server.publish(snapshot_with("192.0.2.2", 2));
    auto deadline = std::chrono::steady_clock::now() + 3s;
    int fresh = 0;
    while (fresh < 20 && std::chrono::steady_clock::now() < deadline) {
        auto r = parse_reply(udp_query(port, make_query("www.example.com", 1)));
        if (r.ok && r.answer == std::vector<std::string>{"www.example.com. 30 IN A 192.0.2.2"})
            ++fresh;
        else
            fresh = 0;
    }
    CHECK(fresh == 20);
    // Each UDP receiver counts its own queries; stats() sums them with the TCP ones.
    auto stats = server.stats();
    CHECK(stats.udp_queries >= 41);
    CHECK(stats.tcp_queries == 3);

    // stop() wakes the receivers blocked in recvmmsg (shutdown) and joins every
    // thread: it returns promptly rather than hanging.
    auto stop_started = std::chrono::steady_clock::now();
    server.stop();
    CHECK(std::chrono::steady_clock::now() - stop_started < 900ms);
    server.stop();  // idempotent
    CHECK(tcp_connect(port) < 0);
    CHECK(udp_query(port, make_query("www.example.com", 1), 200).empty());
}

TEST_CASE("server: once publish() returns, the next UDP query and the next query on an open TCP connection see it") {
    // The explain hook holds the TCP loop inside a read callback on every other
    // round, so the query sent after publish() is read in that same callback:
    // a loop that swapped snapshots asynchronously (uv_async) would answer it
    // from the old one. The other rounds check the plain case.
    struct Hold {
        std::atomic<bool> armed{false}, entered{false}, release{false};
    } hold;
    auto o = options(1);
    o.explain_handler = [&hold](const signpost::dns::Snapshot&, std::span<const uint8_t>,
                                const signpost::dns::ClientInfo&, std::size_t, std::string&) {
        if (!hold.armed.exchange(false)) return false;
        hold.entered = true;
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!hold.release.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        return false;  // the normal path answers: CH is REFUSED
    };
    signpost::dns::Server server(o, snapshot_with("192.0.2.1", 1));
    uint16_t port = server.bound()[0].port;
    Sock t(tcp_connect(port));
    REQUIRE(t.fd >= 0);
    for (int round = 0; round < 100; ++round) {
        std::string addr = "198.51.100." + std::to_string(round % 200 + 1);
        std::vector<std::string> expected{"www.example.com. 30 IN A " + addr};
        auto next = snapshot_with(addr, uint64_t(round) + 2);
        bool held = round % 2 == 0;
        if (held) {
            hold.entered = false;
            hold.release = false;
            hold.armed = true;
            REQUIRE(send_all(t.fd, framed(make_query("hold.explain.signpost", 16, {.id = 7, .qclass = 3}))));
            auto deadline = std::chrono::steady_clock::now() + 5s;
            while (!hold.entered.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
            REQUIRE(hold.entered.load());
        }
        server.publish(next);
        REQUIRE(send_all(t.fd, framed(make_query("www.example.com", 1, {.id = uint16_t(round)}))));
        auto udp = parse_reply(udp_query(port, make_query("www.example.com", 1, {.id = uint16_t(round)})));
        hold.release = true;
        if (held) CHECK(parse_reply(tcp_read_message(t.fd)).rcode == 5);  // the held CH query: REFUSED
        auto tcp = parse_reply(tcp_read_message(t.fd));
        REQUIRE(tcp.ok);
        REQUIRE(udp.ok);
        CHECK(tcp.id == round);
        CHECK(tcp.answer == expected);
        CHECK(udp.answer == expected);
        if (tcp.answer != expected || udp.answer != expected) break;
    }
}

TEST_CASE("server: TCP idle connections are closed after the timeout and the connection cap holds") {
    auto o = options(1);
    o.tcp_idle_timeout = std::chrono::milliseconds(200);
    o.tcp_max_connections = 2;
    signpost::dns::Server server(o, snapshot_with("192.0.2.1", 1));
    uint16_t port = server.bound()[0].port;
    Sock a(tcp_connect(port)), b(tcp_connect(port));
    REQUIRE(a.fd >= 0);
    REQUIRE(b.fd >= 0);
    // Make sure both are accepted before the third arrives.
    REQUIRE(send_all(a.fd, framed(make_query("www.example.com", 1))));
    REQUIRE(send_all(b.fd, framed(make_query("www.example.com", 1))));
    CHECK(parse_reply(tcp_read_message(a.fd)).ok);
    CHECK(parse_reply(tcp_read_message(b.fd)).ok);
    Sock c(tcp_connect(port));
    REQUIRE(c.fd >= 0);
    CHECK(peer_closed(c.fd, 2000));  // over the cap
    CHECK(peer_closed(a.fd, 3000));  // idle
    CHECK(peer_closed(b.fd, 3000));
    // Once they are gone, new connections are served again.
    auto deadline = std::chrono::steady_clock::now() + 3s;
    bool served = false;
    while (!served && std::chrono::steady_clock::now() < deadline) {
        Sock d(tcp_connect(port));
        if (d.fd >= 0 && send_all(d.fd, framed(make_query("www.example.com", 1))))
            served = parse_reply(tcp_read_message(d.fd, 500)).ok;
    }
    CHECK(served);
}

TEST_CASE("server: a TCP frame shorter than a header closes the connection") {
    signpost::dns::Server server(options(1), snapshot_with("192.0.2.1", 1));
    Sock t(tcp_connect(server.bound()[0].port));
    REQUIRE(send_all(t.fd, {0, 3, 1, 2, 3}));
    CHECK(peer_closed(t.fd, 2000));
}

TEST_CASE("server: ServerOptions::identity answers CH TXT and NSID over UDP and TCP") {
    auto o = options(1);
    o.identity = signpost::dns::ServerIdentity("ns7.test", "");
    signpost::dns::Server server(o, snapshot_with("192.0.2.1", 1));
    uint16_t port = server.bound()[0].port;
    const std::string nsid("\x00\x03\x00\x00", 4);
    auto id = parse_reply(udp_query(port, make_query("id.server", 16, {.qclass = 3, .edns = true, .options = nsid})));
    CHECK(id.answer == std::vector<std::string>{"id.server. 0 CH TXT \"ns7.test\""});
    CHECK(id.nsid == "ns7.test");
    auto www = parse_reply(udp_query(port, make_query("www.example.com", 1, {.edns = true, .options = nsid})));
    CHECK(www.answer.size() == 1);
    CHECK(www.nsid == "ns7.test");
    CHECK(parse_reply(udp_query(port, make_query("version.bind", 16, {.qclass = 3}))).rcode == 5);  // hidden
    Sock t(tcp_connect(port));
    REQUIRE(t.fd >= 0);
    REQUIRE(send_all(t.fd, framed(make_query("hostname.bind", 16, {.qclass = 3, .edns = true, .options = nsid}))));
    auto tcp = parse_reply(tcp_read_message(t.fd));
    CHECK(tcp.answer == std::vector<std::string>{"hostname.bind. 0 CH TXT \"ns7.test\""});
    CHECK(tcp.nsid == "ns7.test");
}

TEST_CASE("server: a bind failure names the address and the error") {
    // A plain socket without SO_REUSEPORT holds the port.
    Sock holder(::socket(AF_INET, SOCK_DGRAM, 0));
    auto a = loopback(0);
    REQUIRE(::bind(holder.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(holder.fd, reinterpret_cast<sockaddr*>(&a), &len);
    uint16_t port = ntohs(a.sin_port);
    signpost::dns::ServerOptions o;
    o.listen.push_back({"127.0.0.1", port});
    o.workers = 1;
    CHECK_THROWS_WITH_AS(signpost::dns::Server(o, nullptr),
                         ("cannot bind UDP 127.0.0.1:" + std::to_string(port) +
                          ": Address already in use (another process serves it; two servers on one address would "
                          "split its queries)")
                             .c_str(),
                         std::runtime_error);
}

TEST_CASE("server: a second server cannot join the SO_REUSEPORT group of a running one") {
    // Both servers set SO_REUSEPORT and run as the same user: without the check the
    // kernel would spread queries over the two, each answering from its own zones.
    signpost::dns::ServerOptions o;
    o.listen.push_back({"127.0.0.1", 0});
    o.workers = 2;
    signpost::dns::Server first(o, nullptr);
    uint16_t port = first.bound().at(0).port;
    signpost::dns::ServerOptions again;
    again.listen.push_back({"127.0.0.1", port});
    again.workers = 1;
    CHECK_THROWS_WITH_AS(signpost::dns::Server(again, nullptr),
                         ("cannot bind UDP 127.0.0.1:" + std::to_string(port) +
                          ": Address already in use (another process serves it; two servers on one address would "
                          "split its queries)")
                             .c_str(),
                         std::runtime_error);
    first.stop();
}

TEST_CASE("server: our own overlapping listen addresses (0.0.0.0 and 127.0.0.1) bind together") {
    // A port free a moment ago; another test may take it in between: then try another.
    for (int attempt = 0;; ++attempt) {
        signpost::dns::ServerOptions probe;
        probe.listen.push_back({"127.0.0.1", 0});
        probe.workers = 1;
        uint16_t port = 0;
        {
            signpost::dns::Server s(probe, nullptr);
            port = s.bound().at(0).port;
            s.stop();
        }
        signpost::dns::ServerOptions o;
        o.listen.push_back({"0.0.0.0", port});
        o.listen.push_back({"127.0.0.1", port});
        o.workers = 1;
        try {
            signpost::dns::Server both(o, nullptr);
            CHECK(both.bound().size() == 2);
            both.stop();
            return;
        } catch (const std::runtime_error& e) {
            INFO(e.what());
            REQUIRE(attempt < 5);
        }
    }
}

TEST_CASE("server: a TCP listener of another process holds the port, TIME_WAIT of a restart does not") {
    // A listener without SO_REUSEPORT on a port whose UDP side is free.
    Sock listener(::socket(AF_INET, SOCK_STREAM, 0));
    int one = 1;
    ::setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = loopback(0);
    REQUIRE(::bind(listener.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener.fd, 4) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&a), &len);
    uint16_t port = ntohs(a.sin_port);
    signpost::dns::ServerOptions o;
    o.listen.push_back({"127.0.0.1", port});
    o.workers = 1;
    CHECK_THROWS_WITH_AS(signpost::dns::Server(o, nullptr),
                         ("cannot bind TCP 127.0.0.1:" + std::to_string(port) +
                          ": Address already in use (another process serves it; two servers on one address would "
                          "split its queries)")
                             .c_str(),
                         std::runtime_error);
    // The listener closes a connection first (as a server does): its side waits in
    // TIME_WAIT on the port. A server started now (a restart) binds anyway.
    {
        Sock client(tcp_connect(port));
        REQUIRE(client.fd >= 0);
        Sock accepted(::accept(listener.fd, nullptr, nullptr));
        REQUIRE(accepted.fd >= 0);
        accepted.reset();
        char byte;
        CHECK(::recv(client.fd, &byte, 1, 0) == 0);  // the server's FIN arrived
    }
    listener.reset();
    signpost::dns::Server restarted(o, nullptr);
    CHECK(restarted.bound().at(0).port == port);
    restarted.stop();
}

TEST_CASE("server: the kernel's ephemeral port range parses, and nothing else does") {
    using signpost::dns::server_detail::parse_port_range;
    auto r = parse_port_range("32768\t60999\n");
    REQUIRE(r);
    CHECK(r->first == 32768);
    CHECK(r->second == 60999);
    CHECK(parse_port_range("1024 65535"));
    CHECK_FALSE(parse_port_range(""));
    CHECK_FALSE(parse_port_range("32768"));
    CHECK_FALSE(parse_port_range("60999 32768"));  // low above high
    CHECK_FALSE(parse_port_range("0 100"));
    CHECK_FALSE(parse_port_range("1 70000"));
    CHECK_FALSE(parse_port_range("1 2 3"));
    CHECK_FALSE(parse_port_range("a b"));
}

TEST_CASE("server: listen addresses parse and print") {
    using signpost::dns::ListenAddress;
    std::string err;
    auto v4 = ListenAddress::parse("127.0.0.1:8053");
    REQUIRE(v4);
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 8053);
    auto v6 = ListenAddress::parse("[::1]:8053");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->to_string() == "[::1]:8053");
    CHECK(ListenAddress::parse("192.0.2.1")->port == 53);
    CHECK(ListenAddress::parse("2001:db8::1")->to_string() == "[2001:db8::1]:53");
    CHECK_FALSE(ListenAddress::parse("localhost:53", &err));
    CHECK(err == "not an IP address: \"localhost\" (use e.g. 127.0.0.1:53 or [::1]:53)");
    CHECK_FALSE(ListenAddress::parse("127.0.0.1:99999", &err));
    CHECK(err == "port must be 0..65535, got \"99999\"");
    CHECK_FALSE(ListenAddress::parse("[::1", &err));
    CHECK(err == "missing ']' in \"[::1\"");
}

TEST_CASE("server: IPv6 loopback is served when available") {
    Sock probe(::socket(AF_INET6, SOCK_DGRAM, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    if (probe.fd < 0 || ::bind(probe.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;  // no ::1 here
    signpost::dns::ServerOptions o;
    o.listen.push_back(*signpost::dns::ListenAddress::parse("[::1]:0"));
    o.workers = 1;
    signpost::dns::Server server(o, snapshot_with("192.0.2.1", 1));
    uint16_t port = server.bound()[0].port;
    Sock s(::socket(AF_INET6, SOCK_DGRAM, 0));
    a.sin6_port = htons(port);
    REQUIRE(::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    auto q = make_query("www.example.com", 1);
    REQUIRE(::send(s.fd, q.data(), q.size(), 0) == ssize_t(q.size()));
    REQUIRE(wait_readable(s.fd, 2000));
    std::vector<uint8_t> buf(4096);
    ssize_t n = ::recv(s.fd, buf.data(), buf.size(), 0);
    REQUIRE(n > 0);
    buf.resize(std::size_t(n));
    CHECK(parse_reply(buf).answer.size() == 1);
}
