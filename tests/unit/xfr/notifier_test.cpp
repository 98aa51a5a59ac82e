// The NOTIFY sender against a real UDP "secondary" on loopback: the source
// address it leaves from, retries, and TSIG on the answer of a signed NOTIFY.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "xfr/notifier.hpp"
#include "xfr/tsig.hpp"

using namespace signpost;

namespace {

const char* kSecret = "c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";

// A secondary on 127.0.0.1:<ephemeral>; `reply` builds the answer to each NOTIFY (empty: none).
struct FakeSecondary {
    uv_udp_t udp{};
    uint16_t port = 0;
    std::vector<std::string> sources;  // sender address of each NOTIFY
    std::vector<std::vector<uint8_t>> received;
    std::function<std::vector<uint8_t>(const std::vector<uint8_t>&)> reply;

    explicit FakeSecondary(uv_loop_t* loop) {
        uv_udp_init(loop, &udp);
        udp.data = this;
        sockaddr_in a{};
        uv_ip4_addr("127.0.0.1", 0, &a);
        REQUIRE(uv_udp_bind(&udp, reinterpret_cast<const sockaddr*>(&a), 0) == 0);
        sockaddr_storage bound{};
        int len = sizeof bound;
        uv_udp_getsockname(&udp, reinterpret_cast<sockaddr*>(&bound), &len);
        port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        uv_udp_recv_start(
            &udp, [](uv_handle_t*, size_t, uv_buf_t* b) {
                static char storage[65536];
                *b = uv_buf_init(storage, sizeof storage);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* b, const sockaddr* from, unsigned) {
                if (n <= 0 || !from) return;
                auto* self = static_cast<FakeSecondary*>(h->data);
                char text[INET_ADDRSTRLEN] = "";
                inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(from)->sin_addr, text, sizeof text);
                self->sources.push_back(text);
                std::vector<uint8_t> msg(b->base, b->base + n);
                self->received.push_back(msg);
                if (!self->reply) return;
                auto out = self->reply(msg);
                if (out.empty()) return;
                uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(out.data()), unsigned(out.size()));
                uv_udp_try_send(h, &buf, 1, from);
            });
    }
    void close() { uv_close(reinterpret_cast<uv_handle_t*>(&udp), nullptr); }
};

// The answer to a NOTIFY: same id and question, QR and AA set, no TSIG.
std::vector<uint8_t> plain_answer(const std::vector<uint8_t>& q) {
    std::size_t off = 12;
    while (off < q.size() && q[off] != 0) off += 1 + q[off];
    off += 1 + 4;  // root label, type, class
    std::vector<uint8_t> a(q.begin(), q.begin() + std::min(off, q.size()));
    a[2] |= 0x80;
    a[3] = 0;
    a[6] = a[7] = a[8] = a[9] = a[10] = a[11] = 0;  // only the question
    return a;
}

xfr::XfrOptions options(uint16_t port, bool with_key) {
    xfr::XfrOptions o;
    o.keys.push_back({"notify-key.", "hmac-sha256.", kSecret});
    xfr::Secondary s;
    s.zones = {"example.com"};
    s.notify_address = core::IpAddress::parse("127.0.0.1");
    s.notify_port = port;
    if (with_key) s.key = "notify-key.";
    o.secondaries.push_back(s);
    o.notify_first_retry_ms = 50;
    o.notify_tries = 6;
    return o;
}

xfr::Record soa(uint32_t serial) {
    xfr::Record r;
    r.owner = core::Name::from_text("example.com.", core::Name())->wire();
    r.type = 6;
    r.ttl = 300;
    std::string mname(core::Name::from_text("ns1.example.com.", core::Name())->wire());
    std::string rname(core::Name::from_text("admin.example.com.", core::Name())->wire());
    r.rdata.assign(mname.begin(), mname.end());
    r.rdata.insert(r.rdata.end(), rname.begin(), rname.end());
    for (uint32_t v : {serial, 3600u, 600u, 86400u, 60u})
        for (int sh = 24; sh >= 0; sh -= 8) r.rdata.push_back(uint8_t(v >> sh));
    return r;
}

// Runs the loop until `done()` or 3 s.
void run_until(uv_loop_t* loop, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done() && std::chrono::steady_clock::now() < deadline) uv_run(loop, UV_RUN_NOWAIT), uv_sleep(1);
}

void finish(uv_loop_t* loop, xfr::Notifier& n, FakeSecondary& sec) {
    n.close();
    sec.close();
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(loop) == 0);
}

}  // namespace

TEST_CASE("notifier: NOTIFY leaves from notify_source and the answer acknowledges it") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    FakeSecondary sec(&loop);
    sec.reply = plain_answer;
    auto o = options(sec.port, false);
    o.notify_source_v4 = "127.0.0.2";
    xfr::Notifier n(&loop, o);
    n.notify(*core::Name::from_text("example.com.", core::Name()), soa(7));
    run_until(&loop, [&] { return n.stats().acknowledged == 1; });
    CHECK(n.stats().acknowledged == 1);
    REQUIRE(!sec.received.empty());
    CHECK(sec.sources.front() == "127.0.0.2");
    CHECK(((sec.received.front()[2] >> 3) & 0x0f) == 4);  // opcode NOTIFY
    finish(&loop, n, sec);
}

TEST_CASE("notifier: a signed NOTIFY ignores an unsigned answer and takes a correctly signed one") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    FakeSecondary sec(&loop);
    auto o = options(sec.port, true);
    int answered = 0;
    sec.reply = [&](const std::vector<uint8_t>& q) {
        auto v = xfr::tsig_verify(q, o, uint64_t(std::time(nullptr)));
        CHECK(v.status == xfr::TsigStatus::Ok);  // the NOTIFY itself is signed
        auto a = plain_answer(q);
        if (++answered == 1) return a;  // a forger's (or a misconfigured) unsigned answer
        std::string mac = v.mac;
        return xfr::tsig_sign(a, o.keys[0], mac);
    };
    xfr::Notifier n(&loop, o);
    n.notify(*core::Name::from_text("example.com.", core::Name()), soa(8));
    run_until(&loop, [&] { return n.stats().acknowledged == 1; });
    CHECK(n.stats().bad_responses == 1);
    CHECK(n.stats().acknowledged == 1);
    CHECK(n.stats().sent == 2);
    finish(&loop, n, sec);
}

TEST_CASE("notifier: an answer signed with another key is not an acknowledgement") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    FakeSecondary sec(&loop);
    auto o = options(sec.port, true);
    o.keys.push_back({"other-key.", "hmac-sha256.", kSecret});
    o.notify_tries = 2;
    sec.reply = [&](const std::vector<uint8_t>& q) {
        std::string mac = xfr::tsig_verify(q, o, uint64_t(std::time(nullptr))).mac;
        return xfr::tsig_sign(plain_answer(q), o.keys[1], mac);
    };
    xfr::Notifier n(&loop, o);
    n.notify(*core::Name::from_text("example.com.", core::Name()), soa(9));
    run_until(&loop, [&] { return n.stats().given_up == 1; });
    CHECK(n.stats().acknowledged == 0);
    CHECK(n.stats().bad_responses == 2);
    CHECK(n.stats().given_up == 1);
    finish(&loop, n, sec);
}
