// The transfer query parser (header and question, then the rest) and the order of
// work in TransferServer::handle: a client outside allow_transfer_from is
// answered from the header and question alone — its TSIG record and IXFR SOA are
// never read — while an allowed client's request is read and checked as before.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/ldns_wrap.hpp"
#include "xfr/acl.hpp"
#include "xfr/transfer_query.hpp"
#include "xfr/transfer_server.hpp"
#include "xfr/tsig.hpp"
#include "zones/model.hpp"

using namespace signpost;

namespace {

const char* kSecret = "c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";

void put16(std::vector<uint8_t>& w, uint16_t v) {
    w.push_back(uint8_t(v >> 8));
    w.push_back(uint8_t(v));
}
void put32(std::vector<uint8_t>& w, uint32_t v) {
    put16(w, uint16_t(v >> 16));
    put16(w, uint16_t(v));
}
void put_name(std::vector<uint8_t>& w, const std::string& wire) { w.insert(w.end(), wire.begin(), wire.end()); }

std::string wire(const char* text) { return std::string(core::Name::from_text(text, core::Name())->wire()); }

// A query with one question; `an`, `ns`, `ar` are the header's counts (the
// caller appends the records).
std::vector<uint8_t> query(const char* qname, uint16_t qtype, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0,
                           uint16_t id = 4242) {
    std::vector<uint8_t> w;
    put16(w, id);
    put16(w, 0);
    put16(w, 1);
    put16(w, an);
    put16(w, ns);
    put16(w, ar);
    put_name(w, wire(qname));
    put16(w, qtype);
    put16(w, 1);
    return w;
}

void append_soa(std::vector<uint8_t>& w, const char* zone, uint32_t serial) {
    put_name(w, wire(zone));
    put16(w, zones::rrtype::SOA);
    put16(w, 1);
    put32(w, 3600);
    std::vector<uint8_t> rd;
    put_name(rd, wire((std::string("ns1.") + zone).c_str()));
    put_name(rd, wire((std::string("admin.") + zone).c_str()));
    for (uint32_t v : {serial, 1u, 1u, 1u, 1u}) put32(rd, v);
    put16(w, uint16_t(rd.size()));
    w.insert(w.end(), rd.begin(), rd.end());
}

// A TSIG record that claims 200 bytes of RDATA and carries 3: ldns cannot read
// the message, so a client that gets it read is answered FORMERR.
void append_broken_tsig(std::vector<uint8_t>& w) {
    put_name(w, wire("transfer-key."));
    put16(w, 250);
    put16(w, 255);
    put32(w, 0);
    put16(w, 200);
    w.push_back(1);
    w.push_back(2);
    w.push_back(3);
}

xfr::XfrOptions options() {
    xfr::XfrOptions o;
    o.keys.push_back({"transfer-key.", "hmac-sha256.", kSecret});
    xfr::Secondary s;
    s.zones = {"example.com"};
    s.allow_transfer_from = {*core::IpPrefix::parse("127.0.0.0/8")};
    o.secondaries.push_back(s);
    return o;
}

xfr::Record record(const char* owner, uint16_t type, std::string rdata) {
    return {wire(owner), type, 300, std::move(rdata)};
}

std::shared_ptr<const xfr::TransferZones> zones_with_two_versions() {
    auto origin = *core::Name::from_text("example.com.", core::Name());
    auto soa = [&](uint32_t serial) {
        std::string rd = wire("ns1.example.com.") + wire("admin.example.com.");
        for (uint32_t v : {serial, 3600u, 600u, 86400u, 300u})
            for (int sh = 24; sh >= 0; sh -= 8) rd.push_back(char(v >> sh));
        return record("example.com.", zones::rrtype::SOA, rd);
    };
    xfr::ZoneContent c;
    c.origin = origin;
    c.soa = soa(7);
    c.records = {record("www.example.com.", 1, std::string("\xc0\x00\x02\x0a", 4))};
    xfr::ZoneHistory h;
    h.update(c);
    c.soa = soa(8);
    c.records = {record("www.example.com.", 1, std::string("\xc0\x00\x02\x0b", 4))};
    h.update(c);
    return xfr::TransferServer::make_zones({{origin, std::move(h)}});
}

struct Reply {
    int rcode = -1;
    std::size_t answers = 0;
    std::size_t additional = 0;
};

Reply first_message(const std::string& out, bool tcp) {
    std::size_t off = tcp ? 2 : 0;
    REQUIRE(out.size() > off);
    ldns_pkt* p = nullptr;
    REQUIRE(ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(out.data() + off), out.size() - off) ==
            LDNS_STATUS_OK);
    core::LdnsPkt pkt(p);
    return {int(ldns_pkt_get_rcode(pkt.get())), ldns_pkt_ancount(pkt.get()),
            std::size_t(ldns_pkt_arcount(pkt.get())) + (ldns_pkt_tsig(pkt.get()) ? 1 : 0)};
}

const core::IpAddress kAllowed = *core::IpAddress::parse("127.0.0.1");
const core::IpAddress kRefused = *core::IpAddress::parse("192.0.2.7");

}  // namespace

TEST_CASE("transfer query: the question is read without the sections after it") {
    auto w = query("ExAmple.COM.", zones::rrtype::IXFR, 0, 1, 1);
    std::size_t question_end = w.size();
    append_soa(w, "example.com.", 7);
    append_broken_tsig(w);
    xfr::TransferQuestion q;
    REQUIRE(xfr::parse_transfer_question(w, q));
    CHECK(q.id == 4242);
    CHECK(q.qtype == zones::rrtype::IXFR);
    CHECK(q.qclass == 1);
    CHECK(q.nscount == 1);
    CHECK(q.arcount == 1);
    CHECK(q.question_end == question_end);
    CHECK(q.qname_wire() == wire("example.com."));  // lower case

    // The question alone parses even when what follows is cut off.
    std::vector<uint8_t> cut(w.begin(), w.begin() + long(question_end) + 3);
    REQUIRE(xfr::parse_transfer_question(cut, q));
    xfr::TransferRequest r;
    CHECK_FALSE(xfr::parse_transfer_request(cut, q, r));

    REQUIRE(xfr::parse_transfer_question(w, q));
    REQUIRE(xfr::parse_transfer_request(w, q, r));
    CHECK(r.has_ixfr_soa);
    CHECK(r.ixfr_serial == 7);
}

TEST_CASE("transfer query: responses, other opcodes, compressed or over-long names are not transfer questions") {
    xfr::TransferQuestion q;
    auto w = query("example.com.", zones::rrtype::AXFR);
    SUBCASE("QR set") { w[2] |= 0x80; }
    SUBCASE("NOTIFY") { w[2] = 4 << 3; }
    SUBCASE("two questions") { w[5] = 2; }
    SUBCASE("a pointer for a name") {
        w.resize(12);
        w.push_back(0xc0);
        w.push_back(0x0c);
        put16(w, zones::rrtype::AXFR);
        put16(w, 1);
    }
    SUBCASE("a name of 321 octets") {
        w.resize(12);
        for (int i = 0; i < 5; ++i) {
            w.push_back(63);
            w.insert(w.end(), 63, 'a');
        }
        w.push_back(0);
        put16(w, zones::rrtype::AXFR);
        put16(w, 1);
    }
    SUBCASE("no QTYPE") { w.resize(w.size() - 4); }
    CHECK_FALSE(xfr::parse_transfer_question(w, q));
}

TEST_CASE("acl: address_may_transfer looks at the address and the zone, not the key") {
    auto o = options();
    o.secondaries[0].key = "transfer-key.";
    CHECK(xfr::address_may_transfer(o, "example.com", kAllowed));
    CHECK_FALSE(xfr::address_may_transfer(o, "example.com", kRefused));
    CHECK_FALSE(xfr::address_may_transfer(o, "example.org", kAllowed));
    CHECK_FALSE(xfr::address_may_transfer(xfr::XfrOptions{}, "example.com", kAllowed));
}

TEST_CASE("transfer server: a refused client's malformed TSIG is never read: REFUSED, not FORMERR") {
    xfr::TransferServer srv(options());
    auto zones = zones_with_two_versions();
    auto w = query("example.com.", zones::rrtype::AXFR, 0, 0, 1);
    append_broken_tsig(w);

    std::string out;
    REQUIRE(srv.handle(zones.get(), w, kRefused, true, 0, out));
    auto r = first_message(out, true);
    CHECK(r.rcode == LDNS_RCODE_REFUSED);
    CHECK(r.additional == 0);

    // An allowed client's request is read in full, as before: FORMERR.
    out.clear();
    REQUIRE(srv.handle(zones.get(), w, kAllowed, true, 0, out));
    CHECK(first_message(out, true).rcode == LDNS_RCODE_FORMERR);
}

TEST_CASE("transfer server: a refused client's IXFR is refused without reading its SOA, even a broken one") {
    xfr::TransferServer srv(options());
    auto zones = zones_with_two_versions();
    auto w = query("example.com.", zones::rrtype::IXFR, 0, 1);
    append_soa(w, "example.com.", 7);
    w.resize(w.size() - 10);  // the SOA's RDATA runs past the end

    std::string out;
    REQUIRE(srv.handle(zones.get(), w, kRefused, true, 0, out));
    CHECK(first_message(out, true).rcode == LDNS_RCODE_REFUSED);
    // An allowed client's broken request goes to the normal path, as before.
    out.clear();
    CHECK_FALSE(srv.handle(zones.get(), w, kAllowed, true, 0, out));
    CHECK(out.empty());
}

TEST_CASE("transfer server: a refused client's TSIG, valid or not, is not checked, its reply is unsigned") {
    auto o = options();
    xfr::TransferServer srv(o);
    auto zones = zones_with_two_versions();
    std::string mac;
    auto signed_axfr = xfr::tsig_sign(query("example.com.", zones::rrtype::AXFR), o.keys[0], mac);
    REQUIRE_FALSE(signed_axfr.empty());
    std::string out;
    REQUIRE(srv.handle(zones.get(), signed_axfr, kRefused, true, 0, out));
    auto r = first_message(out, true);
    CHECK(r.rcode == LDNS_RCODE_REFUSED);
    CHECK(r.additional == 0);

    // A signed SOA query from outside the ACL is left to the normal path (as an unsigned one is).
    mac.clear();
    auto signed_soa = xfr::tsig_sign(query("example.com.", zones::rrtype::SOA), o.keys[0], mac);
    out.clear();
    CHECK_FALSE(srv.handle(zones.get(), signed_soa, kRefused, false, 1232, out));
    // ... and answered, signed, for an allowed client.
    mac.clear();
    out.clear();
    REQUIRE(srv.handle(zones.get(), signed_soa, kAllowed, false, 1232, out));
    r = first_message(out, false);
    CHECK(r.rcode == LDNS_RCODE_NOERROR);
    CHECK(r.answers == 1);
    CHECK(r.additional == 1);  // the TSIG record
}

TEST_CASE("transfer server: allowed clients are answered as before the reordering") {
    auto o = options();
    auto zones = zones_with_two_versions();

    SUBCASE("IXFR from serial 7: the difference") {
        xfr::TransferServer srv(o);
        auto w = query("example.com.", zones::rrtype::IXFR, 0, 1);
        append_soa(w, "example.com.", 7);
        std::string out;
        REQUIRE(srv.handle(zones.get(), w, kAllowed, true, 0, out));
        auto r = first_message(out, true);
        CHECK(r.rcode == LDNS_RCODE_NOERROR);
        CHECK(r.answers == 6);  // SOA 8, SOA 7, old A, SOA 8, new A, SOA 8
    }
    SUBCASE("IXFR without the client's SOA: FORMERR") {
        xfr::TransferServer srv(o);
        std::string out;
        REQUIRE(srv.handle(zones.get(), query("example.com.", zones::rrtype::IXFR), kAllowed, true, 0, out));
        CHECK(first_message(out, true).rcode == LDNS_RCODE_FORMERR);
    }
    SUBCASE("a key required and none sent: NOTAUTH") {
        o.secondaries[0].key = "transfer-key.";
        xfr::TransferServer srv(o);
        std::string out;
        REQUIRE(srv.handle(zones.get(), query("example.com.", zones::rrtype::AXFR), kAllowed, true, 0, out));
        CHECK(first_message(out, true).rcode == LDNS_RCODE_NOTAUTH);
    }
    SUBCASE("a wrong MAC: NOTAUTH with BADSIG") {
        xfr::TransferServer srv(o);
        auto wrong = o.keys[0];
        wrong.secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=";
        std::string mac, out;
        auto w = xfr::tsig_sign(query("example.com.", zones::rrtype::AXFR), wrong, mac);
        REQUIRE(srv.handle(zones.get(), w, kAllowed, true, 0, out));
        auto r = first_message(out, true);
        CHECK(r.rcode == LDNS_RCODE_NOTAUTH);
        CHECK(r.additional == 1);  // the TSIG error record
    }
    SUBCASE("an unknown zone: NOTAUTH, for the refused as well") {
        o.secondaries[0].zones = {"*"};
        xfr::TransferServer srv(o);
        std::string out;
        REQUIRE(srv.handle(zones.get(), query("example.org.", zones::rrtype::AXFR), kAllowed, true, 0, out));
        CHECK(first_message(out, true).rcode == LDNS_RCODE_NOTAUTH);
        out.clear();
        REQUIRE(srv.handle(zones.get(), query("example.org.", zones::rrtype::AXFR), kRefused, true, 0, out));
        CHECK(first_message(out, true).rcode == LDNS_RCODE_NOTAUTH);
    }
}
