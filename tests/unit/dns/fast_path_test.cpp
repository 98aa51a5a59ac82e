// The fast path (answers pre-rendered when the View is built) against the general
// renderer: the same replies for every name, type and query shape of a rich fixture.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dns/view_impl.hpp"
#include "support.hpp"

using namespace dnstest;

namespace {

namespace rt = signpost::zones::rrtype;

struct Views {
    std::shared_ptr<const signpost::zones::Catalog> catalog;
    std::shared_ptr<const signpost::dns::View> fast, slow;
    Views() {
        ZoneSpec z("example.com");
        z.ns("@", "ns1.example.com").ns("@", "ns2.example.com");
        z.mx("@", 10, "mail.example.com");
        z.a("ns1", "192.0.2.53").aaaa("ns2", "2001:db8::53");
        z.a("mail", "192.0.2.25").aaaa("mail", "2001:db8::25");
        z.txt("a.b.c", "deep");
        z.cname("alias", "www.example.com");
        z.txt("*.wild", "wild");
        z.a("sub.wild", "192.0.2.7");
        z.ns("sub", "ns.sub.example.com").ns("sub", "ns.other.net");
        z.a("ns.sub", "192.0.2.100");
        z.a("deep.sub", "192.0.2.101");
        z.ns("nods", "ns.other.net");
        z.ns("child", "ns1.example.com");
        z.mx("mx", 10, "www.example.com");  // additional from a service owner
        z.srv("_sip._tcp", 0, 5, 5060, "mail.example.com");
        for (int i = 0; i < 40; ++i) z.txt("big", std::string(100, char('a' + i % 26)) + std::to_string(i));
        z.service("site", {"www", "@"});
        z.service("v4only", {"v4"});
        z.service("empty", {"nothing"});
        z.service("weighted", {"lb"});
        ZoneSpec child("child.example.com");
        child.ns("@", "ns1.example.com");
        child.a("host", "198.51.100.1");
        ZoneSpec org("example.org");
        org.ns("@", "ns1.example.com");
        org.service("geo", {"www"}, signpost::zones::PolicyKind::Subnet);
        catalog = make_catalog({z, child, org});
        std::vector<signpost::policy::Evaluation> evs;
        evs.push_back(evaluation({variant({"192.0.2.10", "2001:db8::10"})}, "primary", "all endpoints up", 30));
        evs.push_back(evaluation({variant({"192.0.2.11"})}));
        evs.push_back(evaluation({}, "all-down", "every endpoint down", 20));
        evs.push_back(evaluation({variant({"192.0.2.21"}, 3), variant({"192.0.2.22", "2001:db8::22"}, 1)}));
        auto geo = evaluation({variant({"192.0.2.99"})}, "subnet", "default");
        signpost::policy::SubnetRule eu;
        eu.prefix = *signpost::core::IpPrefix::parse("198.51.100.0/24");
        eu.decision = evaluation({variant({"192.0.2.1"})}, "eu").decision;
        geo.subnets = {eu};
        evs.push_back(geo);
        fast = signpost::dns::build_view(catalog, evs, 1);
        signpost::dns::ViewOptions off;
        off.prerender = false;
        slow = signpost::dns::build_view(catalog, evs, 1, off);
    }
};

const Views& views() {
    static Views v;
    return v;
}

std::string describe(const Reply& r) {
    std::string s = "rcode=" + std::to_string(r.rcode) + " aa=" + std::to_string(r.aa) + " tc=" +
                    std::to_string(r.tc) + " opt=" + std::to_string(r.has_opt) + "/" + std::to_string(r.opt_udp_size);
    s += " ecs=";
    for (unsigned char ch : r.ecs) s += std::to_string(ch) + ".";
    for (auto* sec : {&r.question, &r.answer, &r.authority, &r.additional}) {
        s += " |";
        for (auto& rr : *sec) s += " " + rr;
    }
    return s;
}

const std::vector<std::string> kNames = {
    "example.com",      "www.example.com",       "WwW.ExAmPlE.cOm",    "ns1.example.com",
    "ns2.example.com",  "mail.example.com",      "c.example.com",      "b.c.example.com",
    "a.b.c.example.com", "x.a.b.c.example.com",  "nope.example.com",   "deep.nope.example.com",
    "alias.example.com", "foo.wild.example.com", "sub.wild.example.com", "x.sub.wild.example.com",
    "*.wild.example.com", "sub.example.com",     "x.y.sub.example.com", "ns.sub.example.com",
    "nods.example.com",  "a.nods.example.com",   "child.example.com",  "host.child.example.com",
    "nx.child.example.com", "mx.example.com",    "_sip._tcp.example.com", "big.example.com",
    "v4.example.com",    "nothing.example.com",  "lb.example.com",     "www.example.org",
    "example.org",       "nx.example.org",       "www.example.net",
};
const std::vector<uint16_t> kTypes = {rt::A, rt::AAAA, rt::NS, rt::SOA, rt::MX, rt::TXT, rt::CNAME, rt::SRV, 99};

}  // namespace

// Every name, type and query shape of the fixture: `fast` answers as `slow`, byte for
// byte; returns how many replies were compared.
static int compare_all(const signpost::dns::View& fast, const signpost::dns::View& slow) {
    int compared = 0;
    for (auto& n : kNames)
        for (uint16_t t : kTypes)
            for (int shape = 0; shape < 5; ++shape) {
                QueryOptions o;
                o.edns = shape > 0;
                o.udp_size = shape == 2 ? 512 : 1232;
                // ECS: inside www.example.org's subnet rule, and outside it.
                if (shape == 3) o.options = ecs_option(1, 24, 0, std::string("\xc6\x33\x64", 3));
                if (shape == 4) o.options = ecs_option(1, 22, 0, std::string("\xc0\x00\x00", 3));
                auto query = make_query(n, t, o);
                for (bool tcp : {false, true}) {
                    Reply a = ask(fast, query, tcp);
                    Reply b = ask(slow, query, tcp);
                    if (n == "lb.example.com" && (t == rt::A || t == rt::AAAA)) continue;  // random pick
                    CAPTURE(n);
                    CAPTURE(t);
                    CAPTURE(shape);
                    CAPTURE(tcp);
                    CHECK(a.ok);
                    CHECK(describe(a) == describe(b));
                    ++compared;
                }
            }
    return compared;
}

TEST_CASE("fast path: every name and type answers as the general renderer does") {
    auto& v = views();
    CHECK(compare_all(*v.fast, *v.slow) > 1000);
}

// A View built after a health change (ViewOptions::previous) copies the answers that
// cannot have changed and renders the others; over the render budget the rest wait for
// the general renderer until a later View renders them. Each answers as a View built
// afresh. mx's additional section holds www's addresses: it is rendered anew whenever
// the View changes, never copied.
TEST_CASE("fast path: a View after a health change copies what did not change and answers as one built afresh") {
    namespace dns = signpost::dns;
    auto& v = views();
    auto evs = dns::view_evaluations(v.fast);
    REQUIRE(evs);
    auto moved = *evs;
    moved[0] = evaluation({variant({"198.51.100.10"})}, "failover:secondary", "primary down", 5);
    auto slow_of = [&](const std::vector<signpost::policy::Evaluation>& e) {
        dns::ViewOptions off;
        off.prerender = false;
        return dns::build_view(v.catalog, e, 2, off);
    };
    dns::ViewOptions o;
    o.previous = v.fast;
    auto flipped = dns::build_view(v.catalog, moved, 2, o);
    CHECK(flipped->owned_names_ == v.fast->owned_names_);  // the same catalog: its nodes taken over
    auto counts = dns::prerender_counts(*flipped);
    CHECK(counts.copied > 10);
    // www, the apex (site's owners), site's state TXT, mx (www's addresses in its additional
    // section), the geo service and its state TXT (client-dependent), and nothing else.
    CHECK(counts.rendered >= 5);
    CHECK(counts.rendered <= 8);
    CHECK(counts.deferred == 0);
    CHECK(compare_all(*flipped, *slow_of(moved)) > 1000);
    auto mx = ask(*flipped, make_query("mx.example.com", rt::MX));
    REQUIRE(mx.additional.size() == 1);
    CHECK(mx.additional[0].find("198.51.100.10") != std::string::npos);

    // Back, with room to render one name: the others changed wait, answered all the same.
    o.previous = flipped;
    o.prerender_budget = 1;
    auto back = dns::build_view(v.catalog, *evs, 3, o);
    CHECK(dns::prerender_counts(*back).rendered == 1);
    CHECK(dns::deferred_renders(*back) >= 4);
    CHECK(compare_all(*back, *v.slow) > 1000);
    // The next View renders them, and copies the name rendered before.
    o.previous = back;
    o.prerender_budget = SIZE_MAX;
    auto rest = dns::build_view(v.catalog, *evs, 4, o);
    CHECK(dns::deferred_renders(*rest) == 0);
    CHECK(dns::prerender_counts(*rest).rendered >= dns::deferred_renders(*back));
    CHECK(compare_all(*rest, *v.slow) > 1000);
    // A View of another catalog copies nothing (a reload).
    o.previous = rest;
    auto other = dns::build_view(Views().catalog, *evs, 5, o);
    CHECK(dns::prerender_counts(*other).copied == 0);
    CHECK(other->owned_names_ != rest->owned_names_);
    CHECK(compare_all(*other, *v.slow) > 1000);
}

TEST_CASE("fast path: an exact match copies the question as sent and points to it at offset 12") {
    auto r = ask(*views().fast, make_query("WwW.ExAmPlE.cOm", rt::A));
    REQUIRE(r.ok);
    REQUIRE(r.answer.size() == 1);
    // Question at 12, then QTYPE/QCLASS; the answer's owner is the pointer 0xc00c.
    std::size_t q_end = 12 + 17 + 4;
    REQUIRE(r.wire.size() > q_end + 2);
    CHECK(std::string(r.wire.begin() + 13, r.wire.begin() + 16) == "WwW");
    CHECK(r.wire[q_end] == 0xc0);
    CHECK(r.wire[q_end + 1] == 12);
}

TEST_CASE("fast path: NXDOMAIN for names of any length moves the SOA owner's pointer") {
    auto& v = views();
    for (std::string n : {"a.example.com", "abcdefghij.example.com", "x.y.z.nope.example.com"}) {
        auto r = ask(*v.fast, make_query(n, rt::A));
        CAPTURE(n);
        CHECK(r.rcode == 3);
        REQUIRE(r.authority.size() == 1);
        CHECK(r.authority[0].rfind("example.com. 300 IN SOA ns1.example.com. hostmaster.example.com.", 0) == 0);
    }
}

TEST_CASE("fast path: weighted variants are picked per query by weight") {
    auto& v = views();
    signpost::dns::seed_variant_random(2000);
    int first = 0, second = 0;
    for (int i = 0; i < 2000; ++i) {
        auto r = ask(*v.fast, make_query("lb.example.com", rt::A));
        REQUIRE(r.answer.size() == 1);
        if (r.answer[0].find("192.0.2.21") != std::string::npos) ++first;
        else if (r.answer[0].find("192.0.2.22") != std::string::npos) ++second;
    }
    CHECK(first + second == 2000);
    CHECK(first > 1300);  // weight 3 of 4: ~1500
    CHECK(second > 300);  // ~500
    // The AAAA of a variant without IPv6 is NODATA with the TTL capped at the decision's.
    bool nodata = false, v6 = false;
    for (int i = 0; i < 200 && !(nodata && v6); ++i) {
        auto r = ask(*v.fast, make_query("lb.example.com", rt::AAAA));
        if (r.answer.empty()) nodata = r.rcode == 0 && r.authority.size() == 1 && r.authority[0].find(" 30 IN SOA") != std::string::npos;
        else v6 = r.answer[0].find("2001:db8::22") != std::string::npos;
    }
    CHECK(nodata);
    CHECK(v6);
}

TEST_CASE("fast path: a subnet service still answers by the client's address") {
    auto& v = views();
    auto in = ask(*v.fast, make_query("www.example.org", rt::A), false, "198.51.100.7");
    auto out = ask(*v.fast, make_query("www.example.org", rt::A), false, "203.0.113.7");
    REQUIRE(in.answer.size() == 1);
    REQUIRE(out.answer.size() == 1);
    CHECK(in.answer[0].find("192.0.2.1") != std::string::npos);
    CHECK(out.answer[0].find("192.0.2.99") != std::string::npos);
}

// Copied answers keep every variant: a weighted service of six variants (six blobs per
// type, with and without AAAA), copied into the View after, picks the same answers for
// the same random sequence as a View built afresh.
TEST_CASE("fast path: a copied weighted service answers every variant as a View built afresh") {
    namespace dns = signpost::dns;
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com").a("ns1", "192.0.2.53");
    z.service("moved", {"a"});
    z.service("many", {"lb", "lb2"});
    auto catalog = make_catalog({z});
    std::vector<signpost::policy::Variant> six;
    for (int i = 0; i < 6; ++i)
        six.push_back(variant(i % 2 ? std::vector<std::string>{"192.0.2." + std::to_string(30 + i)}
                                    : std::vector<std::string>{"192.0.2." + std::to_string(30 + i), "2001:db8::" + std::to_string(30 + i)},
                              uint32_t(i + 1)));
    std::vector<signpost::policy::Evaluation> evs{evaluation({variant({"192.0.2.10"})}), evaluation(six, "weighted")};
    auto first = dns::build_view(catalog, evs, 1);
    evs[0] = evaluation({variant({"192.0.2.11"})}, "failover:secondary", "primary down");
    dns::ViewOptions o;
    o.previous = first;
    auto after = dns::build_view(catalog, evs, 2, o);
    CHECK(dns::prerender_counts(*after).copied >= 2);
    auto fresh = dns::build_view(catalog, evs, 2);
    for (const char* name : {"lb.example.com", "lb2.example.com", "a.example.com"})
        for (uint16_t t : {rt::A, rt::AAAA}) {
            CAPTURE(name);
            CAPTURE(t);
            dns::seed_variant_random(11);
            std::vector<std::string> a, b;
            for (int i = 0; i < 60; ++i) a.push_back(describe(ask(*after, make_query(name, t))));
            dns::seed_variant_random(11);
            for (int i = 0; i < 60; ++i) b.push_back(describe(ask(*fresh, make_query(name, t))));
            CHECK(a == b);
        }
}
