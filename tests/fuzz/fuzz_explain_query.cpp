// Fuzz target: wire bytes in, as an explain question (CH TXT
// "[_TYPE.]NAME.explain.signpost."). First the pure parser
// (dns::parse_explain_question, then parse_explain_request), then
// dns::ExplainResponder::handle against a fixed zone, evaluation and health, for
// an allowed client over UDP (512, 1232 and 4096-byte limits) and TCP, and for a
// client outside `allow` (never answered). No sockets. Every reply must fit its
// limit, parse with ldns, echo the ID and question, have QR set.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/ldns_wrap.hpp"
#include "dns/explain.hpp"
#include "dns/explain_responder.hpp"
#include "dns/view.hpp"
#include "policy/policy.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

const char* kZone = R"(
origin = "example.com"
ttl = 3600

[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
serial = 2024010101
minimum = 300

[records."@"]
NS = ["ns1"]
MX = ["10 mail"]

[records.ns1]
A = "192.0.2.53"

[records.mail]
A = "192.0.2.25"

[records.alias]
CNAME = "www"

[records."*.wild"]
A = "192.0.2.77"

[records.child]
NS = ["ns1.child"]

[records."ns1.child"]
A = "192.0.2.60"

[checks.health]
kind = "http"
path = "/health"

[pools.primary]
endpoints = ["192.0.2.10", "2001:db8::10"]
checks = ["health"]

[pools.secondary]
endpoints = ["198.51.100.10"]
checks = ["health"]

[services.site]
names = ["www", "@", "*.svc"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)";

[[noreturn]] void fail(const char* what, std::size_t len, std::size_t limit) {
    std::fprintf(stderr, "fuzz_explain_query: %s (reply %zu bytes, limit %zu)\n", what, len, limit);
    std::abort();
}

std::shared_ptr<const dns::ExplainState> make_state() {
    auto loaded = zones::load_text(kZone, "fuzz/example.com.toml");
    if (!loaded.catalog) {
        std::fprintf(stderr, "fuzz_explain_query: the fixed zone does not load:\n%s\n",
                     loaded.diagnostics.to_string().c_str());
        std::abort();
    }
    auto evals = std::make_shared<std::vector<policy::Evaluation>>(loaded.catalog->services.size());
    for (auto& e : *evals) {
        policy::Variant v;
        v.v4.push_back(*core::IpAddress::parse("198.51.100.10"));
        e.decision.variants = {v};
        e.decision.label = e.state.label = "failover:secondary";
        e.decision.ttl = 30;
        policy::SubnetRule rule;
        rule.prefix = *core::IpPrefix::parse("203.0.113.0/24");
        policy::Variant w;
        w.v4.push_back(*core::IpAddress::parse("192.0.2.10"));
        rule.decision.variants = {w};
        rule.decision.label = "subnet";
        e.subnets.push_back(rule);
    }
    auto st = std::make_shared<dns::ExplainState>();
    st->health.resize(loaded.catalog->endpoints.size());
    for (std::size_t i = 0; i < st->health.size(); ++i) {
        st->health[i].state = i == 0 ? core::HealthState::Down : core::HealthState::Up;
        st->health[i].confirmed = true;
        st->health[i].reason = i == 0 ? "HTTP 503" : "HTTP 200";
    }
    st->view = dns::build_view(loaded.catalog, *evals, 1);
    st->catalog = loaded.catalog;
    st->evaluations = evals;
    return st;
}

void check_reply(const uint8_t* q, std::size_t qlen, const dns::ExplainQuestion& question, const std::string& out,
                 bool tcp, std::size_t limit) {
    auto* r = reinterpret_cast<const uint8_t*>(out.data());
    std::size_t len = out.size();
    if (tcp) {
        if (len < 2 || std::size_t(r[0] << 8 | r[1]) != len - 2) fail("TCP reply's length prefix is wrong", len, limit);
        r += 2;
        len -= 2;
    }
    if (len > limit) fail("reply longer than its limit", len, limit);
    if (len < 12) fail("reply shorter than a header", len, limit);
    if (r[0] != q[0] || r[1] != q[1]) fail("reply ID differs from the query's", len, limit);
    if (!(r[2] & 0x80)) fail("reply without QR", len, limit);
    if (len < question.question_end || std::memcmp(r + 12, q + 12, question.question_end - 12) != 0 ||
        qlen < question.question_end)
        fail("reply does not echo the question", len, limit);
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, r, len) != LDNS_STATUS_OK) fail("reply does not parse (ldns_wire2pkt)", len, limit);
    ldns_pkt_free(pkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const std::shared_ptr<const dns::ExplainState> state = make_state();
    static const dns::ExplainResponder responder({*core::IpPrefix::parse("127.0.0.0/8"),
                                                  *core::IpPrefix::parse("2001:db8:1::/48")},
                                                 1232);
    static const core::IpAddress allowed[] = {*core::IpAddress::parse("127.0.0.1"),
                                              *core::IpAddress::parse("2001:db8:1::5")};
    static const core::IpAddress outsider = *core::IpAddress::parse("192.0.2.99");
    if (size > 65535) return 0;  // larger than any DNS message
    // A copy of exactly `size` bytes so that over-reads hit the sanitizer.
    std::unique_ptr<uint8_t[]> query(new uint8_t[size ? size : 1]);
    if (size) std::memcpy(query.get(), data, size);
    std::span<const uint8_t> q(query.get(), size);

    // The pure parser on its own.
    dns::ExplainQuestion question;
    bool question_ok = dns::parse_explain_question(q, question);
    if (question_ok) {
        if (question.question_end > size || question.qname_len == 0 || question.qname_len > 255 ||
            question.question_end != 12 + question.qname_len + 4)
            fail("question bounds", question.question_end, size);
        dns::ExplainRequest req;
        if (dns::parse_explain_request(q, question, req)) {
            if (req.has_ecs && req.ecs_address_len != (req.ecs_source + 7u) / 8u) fail("ECS address length", 0, 0);
            if (req.has_opt && req.udp_size < 512) fail("EDNS size under 512", 0, 0);
        }
    }

    std::size_t pick = size ? data[size - 1] % 2 : 0;
    for (std::size_t limit : {std::size_t(512), std::size_t(1232), std::size_t(4096)}) {
        dns::ClientInfo ci;
        ci.address = allowed[pick];
        std::string out;
        if (responder.handle(state.get(), q, ci, limit, out)) {
            if (!question_ok) fail("answered a query whose question does not parse", out.size(), limit);
            check_reply(query.get(), size, question, out, false, limit);
        }
    }
    dns::ClientInfo tcp;
    tcp.address = allowed[pick];
    tcp.tcp = true;
    std::string out;
    if (responder.handle(state.get(), q, tcp, 65535, out)) {
        if (!question_ok) fail("answered a query whose question does not parse", out.size(), 65535);
        check_reply(query.get(), size, question, out, true, 65535);
    }
    dns::ClientInfo other;
    other.address = outsider;
    out.clear();
    if (responder.handle(state.get(), q, other, 1232, out)) fail("answered a client outside `allow`", out.size(), 1232);
    return 0;
}
