// Fuzz target: wire bytes in, as a query that may be a zone transfer. First the
// pure parser (xfr::parse_transfer_question, then parse_transfer_request), then
// xfr::TransferServer::handle against a fixed zone with two versions (IXFR has a
// difference to send) and one TSIG key, for three clients: one allowed with the
// key, one allowed without a key, one refused; over TCP and over UDP. Inputs
// without additional records are also signed with the key and handled again, so
// the signed paths (signed AXFR/IXFR/SOA answers) are reached. No sockets.
// Every handled reply must parse with ldns, echo the ID and have QR set; a
// refused client's reply is one unsigned message (its TSIG record was never read).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/ldns_wrap.hpp"
#include "core/log.hpp"
#include "xfr/acl.hpp"
#include "xfr/history.hpp"
#include "xfr/transfer_query.hpp"
#include "xfr/transfer_server.hpp"
#include "xfr/tsig.hpp"
#include "xfr/zone_content.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

const char* kZone = R"(
origin = "example.com"
ttl = 300

[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
serial = 7

[records."@"]
NS = ["ns1", "ns2.example.org."]
MX = ["10 mail"]
TXT = "v=spf1 -all"

[records.ns1]
A = "192.0.2.53"

[records.mail]
A = "192.0.2.25"

[records.alias]
CNAME = "www"

[checks.health]
kind = "tcp"
port = 80

[pools.primary]
endpoints = ["192.0.2.10"]
checks = ["health"]

[pools.secondary]
endpoints = ["198.51.100.10", "2001:db8::10"]
checks = ["health"]

[services.site]
names = ["www", "@"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)";

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_transfer_query: %s\n", what);
    std::abort();
}

policy::Evaluation evaluation(const char* address, const char* label) {
    policy::Evaluation ev;
    policy::Variant v;
    auto ip = *core::IpAddress::parse(address);
    (ip.v6 ? v.v6 : v.v4).push_back(ip);
    ev.decision.variants = {v};
    ev.decision.label = label;
    ev.decision.ttl = 30;
    return ev;
}

struct Fixture {
    xfr::XfrOptions options;
    std::unique_ptr<xfr::TransferServer> server;
    std::shared_ptr<const xfr::TransferZones> zones;

    Fixture() {
        core::set_log_level(core::LogLevel::Error);  // every transfer and refusal logs
        options.keys.push_back({"transfer-key.", "hmac-sha256.", "c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="});
        options.message_size = 256;  // several messages per AXFR
        xfr::Secondary keyed;
        keyed.zones = {"example.com"};
        keyed.allow_transfer_from = {*core::IpPrefix::parse("127.0.0.0/8")};
        keyed.key = "transfer-key.";
        options.secondaries.push_back(keyed);
        xfr::Secondary open;
        open.zones = {"*"};
        open.allow_transfer_from = {*core::IpPrefix::parse("192.0.2.0/24")};
        options.secondaries.push_back(open);
        server = std::make_unique<xfr::TransferServer>(options);

        auto loaded = zones::load_text(kZone, "fuzz/example.com.toml");
        if (!loaded.catalog) {
            std::fprintf(stderr, "%s\n", loaded.diagnostics.to_string().c_str());
            fail("the fixed zone does not load");
        }
        xfr::ZoneHistory h;
        std::vector<policy::Evaluation> first = {evaluation("192.0.2.10", "primary")};
        std::vector<policy::Evaluation> second = {evaluation("198.51.100.10", "failover:secondary")};
        h.update(xfr::render_zone(loaded.catalog->zones[0], first));   // serial 7
        h.update(xfr::render_zone(loaded.catalog->zones[0], second));  // serial 8
        zones = xfr::TransferServer::make_zones({{loaded.catalog->zones[0].origin, std::move(h)}});
    }
};

// One DNS message of a reply: parses, echoes the ID, QR set; returns ARCOUNT.
uint16_t check_message(const uint8_t* m, std::size_t n, uint16_t id) {
    if (n < 12) fail("reply message shorter than a header");
    if (uint16_t(m[0] << 8 | m[1]) != id) fail("reply ID differs from the query's");
    if (!(m[2] & 0x80)) fail("reply without QR");
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, m, n) != LDNS_STATUS_OK) fail("reply does not parse (ldns_wire2pkt)");
    ldns_pkt_free(pkt);
    return uint16_t(m[10] << 8 | m[11]);
}

// Returns the number of messages; every one checked.
std::size_t check_reply(const std::string& out, bool tcp, uint16_t id, uint16_t* first_arcount) {
    auto* b = reinterpret_cast<const uint8_t*>(out.data());
    if (!tcp) {
        if (out.empty()) return 0;
        *first_arcount = check_message(b, out.size(), id);
        return 1;
    }
    std::size_t off = 0, count = 0;
    while (off < out.size()) {
        if (off + 2 > out.size()) fail("TCP reply ends inside a length prefix");
        std::size_t n = std::size_t(b[off] << 8 | b[off + 1]);
        if (off + 2 + n > out.size()) fail("TCP reply shorter than its length prefix");
        uint16_t ar = check_message(b + off + 2, n, id);
        if (count == 0) *first_arcount = ar;
        off += 2 + n;
        ++count;
    }
    return count;
}

void run(const Fixture& f, std::span<const uint8_t> q, const core::IpAddress& client, bool refused) {
    for (bool tcp : {true, false}) {
        std::string out;
        std::size_t udp_max = tcp ? 0 : 1232;
        bool handled = f.server->handle(f.zones.get(), q, client, tcp, udp_max, out);
        if (!handled) {
            if (!out.empty()) fail("not handled, but `out` was written");
            continue;
        }
        xfr::TransferQuestion tq;
        if (!xfr::parse_transfer_question(q, tq)) fail("handled a query whose question does not parse");
        uint16_t ar = 0;
        std::size_t messages = check_reply(out, tcp, tq.id, &ar);
        if (refused) {
            // Answered from the header and question alone: one unsigned message.
            if (messages != 1) fail("a refused client got other than one message");
            if (ar != 0) fail("a refused client's reply carries a TSIG record");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const Fixture f;
    static const core::IpAddress keyed = *core::IpAddress::parse("127.0.0.1");
    static const core::IpAddress open = *core::IpAddress::parse("192.0.2.5");
    static const core::IpAddress refused = *core::IpAddress::parse("203.0.113.9");
    if (size > 65535) return 0;  // larger than any DNS message
    // A copy of exactly `size` bytes so that over-reads hit the sanitizer.
    std::unique_ptr<uint8_t[]> query(new uint8_t[size ? size : 1]);
    if (size) std::memcpy(query.get(), data, size);
    std::span<const uint8_t> q(query.get(), size);

    // The pure parser on its own.
    xfr::TransferQuestion tq;
    if (xfr::parse_transfer_question(q, tq)) {
        if (tq.question_end > size || tq.qname_len == 0 || tq.qname_len > 255) fail("question bounds");
        if (tq.qname[tq.qname_len - 1] != 0) fail("question name without its root label");
        for (std::size_t i = 0; i < tq.qname_len; ++i)
            if (tq.qname[i] >= 'A' && tq.qname[i] <= 'Z') fail("question name not lower case");
        xfr::TransferRequest req;
        (void)xfr::parse_transfer_request(q, tq, req);
        // The ACL decision the server makes between the two.
        std::string origin = core::Name::from_wire(tq.qname_wire()).value_or(core::Name()).to_text();
        if (origin.size() > 1 && origin.back() == '.') origin.pop_back();
        if (xfr::address_may_transfer(f.options, origin, refused)) fail("the refused client passes the ACL");
    }

    run(f, q, keyed, false);
    run(f, q, open, false);
    run(f, q, refused, true);

    // The same query signed with the key (when ldns can read it and it has no
    // additional records yet): reaches the signed answers for the keyed client.
    if (size >= 12 && query[10] == 0 && query[11] == 0) {
        std::string mac;
        auto signed_query = xfr::tsig_sign(q, f.options.keys[0], mac);
        if (!signed_query.empty()) {
            std::unique_ptr<uint8_t[]> sq(new uint8_t[signed_query.size()]);
            std::memcpy(sq.get(), signed_query.data(), signed_query.size());
            std::span<const uint8_t> s(sq.get(), signed_query.size());
            run(f, s, keyed, false);
            run(f, s, refused, true);
        }
    }
    return 0;
}
