// Zone transfers: rendering the evaluated zone, IXFR history and condensed
// differences, TSIG sign/verify through ldns, transfer ACL decisions, and the
// TransferServer's answers end to end on bytes.
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>

#include "core/ldns_wrap.hpp"
#include "xfr/acl.hpp"
#include "xfr/history.hpp"
#include "xfr/tsig.hpp"
#include "xfr/transfer_server.hpp"
#include "xfr/zone_content.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

const char* kZone = R"(
origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[records.mail]
A = "192.0.2.99"
[checks.health]
kind = "tcp"
port = 80
[pools.primary]
endpoints = ["192.0.2.10"]
checks = ["health"]
[pools.secondary]
endpoints = ["192.0.2.11", "2001:db8::11"]
checks = ["health"]
[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)";

std::shared_ptr<const zones::Catalog> catalog() {
    auto r = zones::load_text(kZone, "example.com.toml");
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

policy::Evaluation answer(std::vector<std::vector<std::string>> variants, const std::string& label,
                          uint32_t ttl = 30) {
    policy::Evaluation ev;
    for (auto& v : variants) {
        policy::Variant var;
        for (auto& a : v) {
            auto ip = *core::IpAddress::parse(a);
            (ip.v6 ? var.v6 : var.v4).push_back(ip);
        }
        ev.decision.variants.push_back(var);
    }
    ev.decision.label = label;
    ev.decision.reason = "because";
    ev.decision.ttl = ttl;
    return ev;
}

std::string owner(const std::string& text) { return std::string(core::Name::from_text(text, core::Name())->wire()); }

std::size_t count(const std::vector<xfr::Record>& rs, const std::string& name, uint16_t type) {
    std::size_t n = 0;
    for (auto& r : rs) n += r.owner == owner(name) && r.type == type;
    return n;
}

xfr::ZoneContent content_with(const std::string& addr, const std::string& label, uint32_t serial = 1) {
    auto cat = catalog();
    std::vector<policy::Evaluation> evs = {answer({{addr}}, label)};
    auto c = xfr::render_zone(cat->zones[0], evs);
    c.soa = xfr::with_serial(c.soa, serial);
    return c;
}

xfr::XfrOptions options_with_key() {
    xfr::XfrOptions o;
    o.keys.push_back({"transfer-key.", "hmac-sha256.", "c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="});
    xfr::Secondary s;
    s.zones = {"example.com"};
    s.allow_transfer_from = {*core::IpPrefix::parse("127.0.0.0/8")};
    s.key = "transfer-key.";
    o.secondaries.push_back(s);
    return o;
}

std::vector<uint8_t> make_query(const std::string& qname, ldns_rr_type type, uint32_t ixfr_serial = 0) {
    ldns_pkt* p = nullptr;
    REQUIRE(ldns_pkt_query_new_frm_str(&p, qname.c_str(), type, LDNS_RR_CLASS_IN, 0) == LDNS_STATUS_OK);
    core::LdnsPkt pkt(p);
    ldns_pkt_set_id(pkt.get(), 4242);
    if (type == LDNS_RR_TYPE_IXFR) {
        ldns_rr* soa = nullptr;
        std::string text = qname + " 3600 IN SOA ns1." + qname + " admin." + qname + " " +
                           std::to_string(ixfr_serial) + " 1 1 1 1";
        REQUIRE(ldns_rr_new_frm_str(&soa, text.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK);
        ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_AUTHORITY, soa);
    }
    uint8_t* w = nullptr;
    size_t n = 0;
    REQUIRE(ldns_pkt2wire(&w, pkt.get(), &n) == LDNS_STATUS_OK);
    std::vector<uint8_t> out(w, w + n);
    free(w);
    return out;
}

struct Parsed {
    int rcode = -1;
    std::vector<std::string> answer;  // "owner type" per record, in order
    uint16_t tsig_error = 0;
    bool signed_ = false;
};

// Splits framed TCP messages and parses each with ldns.
std::vector<Parsed> parse_tcp(const std::string& out) {
    std::vector<Parsed> msgs;
    std::size_t off = 0;
    while (off + 2 <= out.size()) {
        std::size_t n = std::size_t(uint8_t(out[off]) << 8 | uint8_t(out[off + 1]));
        REQUIRE(off + 2 + n <= out.size());
        ldns_pkt* p = nullptr;
        REQUIRE(ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(out.data() + off + 2), n) == LDNS_STATUS_OK);
        core::LdnsPkt pkt(p);
        Parsed m;
        m.rcode = ldns_pkt_get_rcode(pkt.get());
        auto* list = ldns_pkt_answer(pkt.get());
        for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(list, i);
            char* o = ldns_rdf2str(ldns_rr_owner(rr));
            char* t = ldns_rr_type2str(ldns_rr_get_type(rr));
            m.answer.push_back(std::string(o) + " " + t);
            free(o);
            free(t);
        }
        if (ldns_rr* t = ldns_pkt_tsig(pkt.get())) {
            m.signed_ = ldns_rdf_size(ldns_rr_rdf(t, 3)) > 2;
            m.tsig_error = ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
        }
        msgs.push_back(m);
        off += 2 + n;
    }
    return msgs;
}

}  // namespace

TEST_CASE("zone content: static records, the service's current addresses and its state TXT") {
    auto cat = catalog();
    std::vector<policy::Evaluation> evs = {answer({{"192.0.2.10"}}, "primary")};
    auto c = xfr::render_zone(cat->zones[0], evs);
    CHECK(c.soa.type == 6);
    CHECK(count(c.records, "example.com.", 2) == 1);  // NS
    CHECK(count(c.records, "ns1.example.com.", 1) == 1);
    CHECK(count(c.records, "example.com.", 1) == 1);
    CHECK(count(c.records, "www.example.com.", 1) == 1);
    CHECK(count(c.records, "mail.example.com.", 1) == 1);
    for (auto& r : c.records)
        if (r.owner == owner("www.example.com.") && r.type == 1) CHECK(r.rdata == std::string("\xc0\x00\x02\x0a", 4));
    CHECK(count(c.records, "site._signpost.example.com.", 16) == 1);
    CHECK(std::is_sorted(c.records.begin(), c.records.end()));
}

TEST_CASE("zone content: weighted and multivalue answers transfer the union of every variant's addresses") {
    auto cat = catalog();
    std::vector<policy::Evaluation> evs = {answer({{"192.0.2.10"}, {"192.0.2.11", "2001:db8::11"}, {"192.0.2.10"}},
                                                  "weighted")};
    auto c = xfr::render_zone(cat->zones[0], evs);
    CHECK(count(c.records, "www.example.com.", 1) == 2);
    CHECK(count(c.records, "www.example.com.", 28) == 1);
}

TEST_CASE("zone content: a missing evaluation transfers no addresses and an 'unknown' state") {
    auto cat = catalog();
    auto c = xfr::render_zone(cat->zones[0], {});
    CHECK(count(c.records, "www.example.com.", 1) == 0);
    for (auto& r : c.records)
        if (r.type == 16) CHECK(r.rdata.find("unknown") != std::string::npos);
}

TEST_CASE("serial arithmetic follows RFC 1982 across the wrap") {
    CHECK(xfr::serial_gt(2, 1));
    CHECK_FALSE(xfr::serial_gt(1, 1));
    CHECK(xfr::serial_gt(0, 0xffffffffu));
    CHECK_FALSE(xfr::serial_gt(0xffffffffu, 0));
    auto c = content_with("192.0.2.10", "primary", 1234567);
    CHECK(xfr::serial_of(c.soa) == 1234567);
}

TEST_CASE("history: unchanged answers keep the serial, a change bumps it by one, a reload's higher serial wins") {
    xfr::ZoneHistory h(32);
    CHECK(h.update(content_with("192.0.2.10", "primary", 5)));
    CHECK(h.current().serial == 5);
    CHECK_FALSE(h.update(content_with("192.0.2.10", "primary", 5)));
    CHECK(h.update(content_with("192.0.2.11", "failover:secondary", 5)));
    CHECK(h.current().serial == 6);
    // The catalog still says 5 (lower): never backwards.
    CHECK(h.update(content_with("192.0.2.10", "primary", 5)));
    CHECK(h.current().serial == 7);
    // A reload chose 100 for new static data.
    CHECK(h.update(content_with("192.0.2.10", "primary", 100)));
    CHECK(h.current().serial == 100);
    CHECK(h.versions().size() == 4);
}

TEST_CASE("history: the serial wraps around 2^32 without going backwards") {
    xfr::ZoneHistory h(4);
    h.update(content_with("192.0.2.10", "primary", 0xffffffffu));
    h.update(content_with("192.0.2.11", "failover:secondary", 0xffffffffu));
    CHECK(h.current().serial == 0);
    CHECK(h.plan(0xffffffffu).kind == xfr::IxfrPlan::Kind::Incremental);
}

TEST_CASE("history: keeps at most the configured number of versions") {
    xfr::ZoneHistory h(3);
    for (int i = 0; i < 6; ++i) h.update(content_with(i % 2 ? "192.0.2.11" : "192.0.2.10", "l" + std::to_string(i), 1));
    CHECK(h.versions().size() == 3);
    CHECK(h.versions().front().serial == 4);
    CHECK(h.plan(3).kind == xfr::IxfrPlan::Kind::Full);  // dropped: a full transfer
    CHECK(h.plan(4).kind == xfr::IxfrPlan::Kind::Incremental);
}

TEST_CASE("ixfr plan: up to date, one step, condensed steps, unknown serial") {
    xfr::ZoneHistory h(32);
    h.update(content_with("192.0.2.10", "primary", 10));
    h.update(content_with("192.0.2.11", "failover:secondary", 10));  // 11
    h.update(content_with("192.0.2.10", "primary", 10));             // 12
    SUBCASE("a client at the current serial or ahead is up to date") {
        CHECK(h.plan(12).kind == xfr::IxfrPlan::Kind::UpToDate);
        CHECK(h.plan(13).kind == xfr::IxfrPlan::Kind::UpToDate);
    }
    SUBCASE("one step: the old A and TXT deleted, the new ones added") {
        auto p = h.plan(11);
        REQUIRE(p.kind == xfr::IxfrPlan::Kind::Incremental);
        CHECK(xfr::serial_of(p.old_soa) == 11);
        CHECK(count(p.deleted, "www.example.com.", 1) == 1);
        CHECK(count(p.added, "www.example.com.", 1) == 1);
        CHECK(count(p.deleted, "site._signpost.example.com.", 16) == 1);
        CHECK(p.deleted.size() == 3);  // @ A, www A, TXT
        CHECK(p.added.size() == 3);
    }
    SUBCASE("two steps that undo each other condense to nothing but the SOA change") {
        auto p = h.plan(10);
        REQUIRE(p.kind == xfr::IxfrPlan::Kind::Incremental);
        CHECK(p.deleted.empty());
        CHECK(p.added.empty());
    }
    SUBCASE("a serial never served here gets a full transfer") { CHECK(h.plan(7).kind == xfr::IxfrPlan::Kind::Full); }
}

TEST_CASE("tsig: a signed query verifies, a wrong secret is BADSIG, an unknown key BADKEY") {
    auto opts = options_with_key();
    auto q = make_query("example.com.", LDNS_RR_TYPE_AXFR);
    std::string mac;
    auto signed_q = xfr::tsig_sign(q, opts.keys[0], mac);
    REQUIRE_FALSE(signed_q.empty());
    CHECK(mac.size() == 2 + 32);
    auto ok = xfr::tsig_verify(signed_q, opts, uint64_t(std::time(nullptr)));
    CHECK(ok.status == xfr::TsigStatus::Ok);
    CHECK(ok.key_name == "transfer-key.");
    CHECK(ok.mac == mac);
    CHECK(xfr::tsig_verify(q, opts, uint64_t(std::time(nullptr))).status == xfr::TsigStatus::Unsigned);

    auto wrong = opts;
    wrong.keys[0].secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=";
    CHECK(xfr::tsig_verify(signed_q, wrong, uint64_t(std::time(nullptr))).status == xfr::TsigStatus::BadSig);
    auto unknown = opts;
    unknown.keys[0].name = "other-key.";
    CHECK(xfr::tsig_verify(signed_q, unknown, uint64_t(std::time(nullptr))).status == xfr::TsigStatus::BadKey);
    CHECK(xfr::tsig_verify(signed_q, opts, uint64_t(std::time(nullptr)) + 3600).status == xfr::TsigStatus::BadTime);
}

TEST_CASE("tsig: a multi-message answer chains MACs (RFC 8945 §5.3.1) and verifies message by message") {
    auto opts = options_with_key();
    auto q = make_query("example.com.", LDNS_RR_TYPE_AXFR);
    std::string mac;
    auto signed_q = xfr::tsig_sign(q, opts.keys[0], mac);
    std::string query_mac = mac;
    auto r1 = xfr::tsig_sign(make_query("example.com.", LDNS_RR_TYPE_SOA), opts.keys[0], mac, false);
    std::string mac1 = mac;
    auto r2 = xfr::tsig_sign(make_query("www.example.com.", LDNS_RR_TYPE_A), opts.keys[0], mac, true);
    uint64_t now = uint64_t(std::time(nullptr));
    CHECK(xfr::tsig_verify(r1, opts, now, query_mac).status == xfr::TsigStatus::Ok);
    CHECK(xfr::tsig_verify(r2, opts, now, mac1, true).status == xfr::TsigStatus::Ok);
    CHECK(xfr::tsig_verify(r2, opts, now, query_mac, true).status == xfr::TsigStatus::BadSig);
}

TEST_CASE("acl: refused without a [[secondaries]] entry, for other addresses, the key when one is required") {
    auto lo = *core::IpAddress::parse("127.0.0.1");
    xfr::XfrOptions none;
    CHECK(xfr::check_transfer(none, "example.com", lo, "").verdict == xfr::AclVerdict::Refused);
    auto opts = options_with_key();
    auto other = *core::IpAddress::parse("192.0.2.7");
    auto d = xfr::check_transfer(opts, "example.com", other, "transfer-key.");
    CHECK(d.verdict == xfr::AclVerdict::Refused);
    CHECK(d.reason == "192.0.2.7 is not in allow_transfer_from of example.com");
    CHECK(xfr::check_transfer(opts, "example.org", lo, "transfer-key.").verdict == xfr::AclVerdict::Refused);
    d = xfr::check_transfer(opts, "example.com", lo, "");
    CHECK(d.verdict == xfr::AclVerdict::NeedKey);
    CHECK(d.reason == "no TSIG; key transfer-key. required");
    CHECK(xfr::check_transfer(opts, "example.com", lo, "Transfer-Key").verdict == xfr::AclVerdict::Allow);
    opts.secondaries[0].key.clear();
    opts.secondaries[0].zones = {"*"};
    CHECK(xfr::check_transfer(opts, "example.org", lo, "").verdict == xfr::AclVerdict::Allow);
}

TEST_CASE("transfer server: AXFR with the key is signed, SOA first and last, without it NOTAUTH") {
    auto opts = options_with_key();
    opts.message_size = 128;  // force several messages
    xfr::TransferServer srv(opts);
    xfr::ZoneHistory h;
    h.update(content_with("192.0.2.10", "primary", 7));
    auto zones = xfr::TransferServer::make_zones({{core::Name::from_text("example.com.", core::Name()).value(), h}});
    auto lo = *core::IpAddress::parse("127.0.0.1");

    std::string mac;
    auto q = xfr::tsig_sign(make_query("example.com.", LDNS_RR_TYPE_AXFR), opts.keys[0], mac);
    std::string out;
    REQUIRE(srv.handle(zones.get(), q, lo, true, 0, out));
    auto msgs = parse_tcp(out);
    REQUIRE(msgs.size() >= 2);
    std::vector<std::string> all;
    for (auto& m : msgs) {
        CHECK(m.rcode == 0);
        CHECK(m.signed_);
        all.insert(all.end(), m.answer.begin(), m.answer.end());
    }
    CHECK(all.front() == "example.com. SOA");
    CHECK(all.back() == "example.com. SOA");

    out.clear();
    REQUIRE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_AXFR), lo, true, 0, out));
    msgs = parse_tcp(out);
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].rcode == LDNS_RCODE_NOTAUTH);
    CHECK(msgs[0].answer.empty());

    out.clear();
    REQUIRE(srv.handle(zones.get(), q, *core::IpAddress::parse("192.0.2.7"), true, 0, out));
    CHECK(parse_tcp(out)[0].rcode == LDNS_RCODE_REFUSED);

    auto bad = opts;
    bad.keys[0].secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=";
    std::string mac2;
    auto badq = xfr::tsig_sign(make_query("example.com.", LDNS_RR_TYPE_AXFR), bad.keys[0], mac2);
    out.clear();
    REQUIRE(srv.handle(zones.get(), badq, lo, true, 0, out));
    msgs = parse_tcp(out);
    CHECK(msgs[0].rcode == LDNS_RCODE_NOTAUTH);
    CHECK(msgs[0].tsig_error == 16);  // BADSIG
}

TEST_CASE("transfer server: IXFR answers the condensed difference, or a full transfer for an unknown serial") {
    auto opts = options_with_key();
    opts.secondaries[0].key.clear();
    xfr::TransferServer srv(opts);
    xfr::ZoneHistory h;
    h.update(content_with("192.0.2.10", "primary", 7));
    h.update(content_with("192.0.2.11", "failover:secondary", 7));  // 8
    auto zones = xfr::TransferServer::make_zones({{core::Name::from_text("example.com.", core::Name()).value(), h}});
    auto lo = *core::IpAddress::parse("127.0.0.1");
    std::string out;
    REQUIRE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_IXFR, 7), lo, true, 0, out));
    auto msgs = parse_tcp(out);
    REQUIRE(msgs.size() == 1);
    auto& a = msgs[0].answer;
    REQUIRE(a.size() == 10);  // SOA 8, SOA 7, 3 deleted, SOA 8, 3 added, SOA 8
    CHECK(a[0] == "example.com. SOA");
    CHECK(a[1] == "example.com. SOA");
    CHECK(a[5] == "example.com. SOA");
    CHECK(a[9] == "example.com. SOA");

    out.clear();
    REQUIRE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_IXFR, 3), lo, true, 0, out));
    auto full = parse_tcp(out)[0].answer;
    CHECK(full.size() == h.current().records->size() + 2);

    out.clear();
    REQUIRE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_IXFR, 8), lo, true, 0, out));
    CHECK(parse_tcp(out)[0].answer.size() == 1);  // up to date: the SOA alone

    // UDP with no room: the current SOA only (RFC 1995 §2).
    out.clear();
    REQUIRE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_IXFR, 7), lo, false, 120, out));
    ldns_pkt* p = nullptr;
    REQUIRE(ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(out.data()), out.size()) == LDNS_STATUS_OK);
    core::LdnsPkt pkt(p);
    CHECK(ldns_pkt_ancount(pkt.get()) == 1);
}

TEST_CASE("transfer server: a plain SOA or A query is not a transfer") {
    xfr::TransferServer srv(options_with_key());
    xfr::ZoneHistory h;
    h.update(content_with("192.0.2.10", "primary", 7));
    auto zones = xfr::TransferServer::make_zones({{core::Name::from_text("example.com.", core::Name()).value(), h}});
    std::string out;
    CHECK_FALSE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_SOA),
                           *core::IpAddress::parse("127.0.0.1"), false, 1232, out));
    CHECK_FALSE(srv.handle(zones.get(), make_query("example.com.", LDNS_RR_TYPE_A), *core::IpAddress::parse("127.0.0.1"),
                           true, 0, out));
    // No transfer content in the snapshot: an AXFR is refused as for an unknown zone, never a crash.
    CHECK(srv.handle(nullptr, make_query("example.com.", LDNS_RR_TYPE_AXFR), *core::IpAddress::parse("127.0.0.1"),
                     true, 0, out));
    out.clear();
    CHECK(out.empty());
}
