// Fuzz target: wire bytes in, answer out, against a fixed zone (static data, a
// wildcard, CNAMEs, a delegation, a failover service with a subnet rule).
// Every input is answered as UDP (three payload limits) and as TCP; the reply must
// fit its buffer exactly, be parseable, echo the ID, and never answer QR=1.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "core/ldns_wrap.hpp"
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
NS = ["ns1", "ns2"]
MX = ["10 mail", "20 mx.example.org."]
TXT = ["v=spf1 -all", ["two", "strings"]]
CAA = '0 issue "letsencrypt.org"'

[records.ns1]
A = "192.0.2.53"
AAAA = "2001:db8::53"

[records.ns2]
A = "198.51.100.53"

[records.mail]
A = "192.0.2.25"

[records.static]
A = ["192.0.2.1", "192.0.2.2"]
AAAA = "2001:db8::1"

[records.alias]
CNAME = "static"

[records.chain1]
CNAME = "chain2"

[records.chain2]
CNAME = "www"

[records.loop1]
CNAME = "loop2"

[records.loop2]
CNAME = "loop1"

[records.outside]
CNAME = "www.example.org."

[records."*.wild"]
A = "192.0.2.77"
TXT = "wildcard"

[records.big]
TXT = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
       "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
       "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
       "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
       "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"]

[records.child]
NS = ["ns1.child", "ns.example.org."]

[records."ns1.child"]
A = "192.0.2.60"
AAAA = "2001:db8::60"

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

policy::Variant variant(std::initializer_list<const char*> addrs) {
    policy::Variant v;
    for (auto* a : addrs) {
        auto ip = *core::IpAddress::parse(a);
        (ip.v6 ? v.v6 : v.v4).push_back(ip);
    }
    return v;
}

std::shared_ptr<const dns::View> make_view() {
    auto loaded = zones::load_text(kZone, "fuzz/example.com.toml");
    if (!loaded.catalog) {
        std::fprintf(stderr, "fuzz_answer: the fixed zone does not load:\n%s\n", loaded.diagnostics.to_string().c_str());
        std::abort();
    }
    std::vector<policy::Evaluation> evals(loaded.catalog->services.size());
    for (auto& e : evals) {
        e.decision.variants = {variant({"192.0.2.10", "2001:db8::10"})};
        e.decision.label = e.state.label = "primary";
        e.decision.ttl = 30;
        policy::SubnetRule rule;
        rule.prefix = *core::IpPrefix::parse("203.0.113.0/24");
        rule.decision.variants = {variant({"198.51.100.10"}), variant({"198.51.100.11"})};
        rule.decision.label = "subnet";
        e.subnets.push_back(rule);
    }
    return dns::build_view(loaded.catalog, evals, 1);
}

[[noreturn]] void fail(const char* what, std::size_t len, std::size_t limit) {
    std::fprintf(stderr, "fuzz_answer: %s (reply %zu bytes, buffer %zu)\n", what, len, limit);
    std::abort();
}

void check_reply(const uint8_t* q, std::size_t qlen, const uint8_t* r, std::size_t len, std::size_t limit) {
    if (len > limit) fail("reply longer than its buffer", len, limit);
    if (len == 0) return;
    if (qlen >= 3 && (q[2] & 0x80)) fail("answered a packet with QR=1", len, limit);
    if (len < 12) fail("reply shorter than a header", len, limit);
    if (qlen >= 2 && (r[0] != q[0] || r[1] != q[1])) fail("reply ID differs from the query's", len, limit);
    if (!(r[2] & 0x80)) fail("reply without QR", len, limit);
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, r, len) != LDNS_STATUS_OK) fail("reply does not parse (ldns_wire2pkt)", len, limit);
    ldns_pkt_free(pkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const std::shared_ptr<const dns::View> view = make_view();
    static const core::IpAddress clients[] = {*core::IpAddress::parse("192.0.2.99"),
                                              *core::IpAddress::parse("203.0.113.5"),
                                              *core::IpAddress::parse("2001:db8:1::5")};
    if (size > 65535) return 0;  // larger than any DNS message
    // A copy of exactly `size` bytes so that over-reads hit the sanitizer.
    std::unique_ptr<uint8_t[]> query(new uint8_t[size ? size : 1]);
    if (size) std::memcpy(query.get(), data, size);
    std::span<const uint8_t> q(query.get(), size);
    std::size_t pick = size ? data[size - 1] % 3 : 0;

    for (uint16_t limit : {uint16_t(512), uint16_t(1232), uint16_t(4096)}) {
        dns::ClientInfo ci;
        ci.address = clients[pick];
        ci.udp_payload_size = limit;
        std::unique_ptr<uint8_t[]> out(new uint8_t[limit]);
        dns::AnswerMeta meta;
        std::size_t n = dns::answer_query(*view, q, ci, std::span<uint8_t>(out.get(), limit), &meta);
        check_reply(query.get(), size, out.get(), n, limit);
    }
    dns::ClientInfo tcp;
    tcp.address = clients[pick];
    tcp.tcp = true;
    std::unique_ptr<uint8_t[]> out(new uint8_t[65535]);
    std::size_t n = dns::answer_query(*view, q, tcp, std::span<uint8_t>(out.get(), 65535));
    check_reply(query.get(), size, out.get(), n, 65535);
    return 0;
}
