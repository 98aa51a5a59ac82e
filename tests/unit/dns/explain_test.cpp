// dns::explain (the pure function behind the API and CH TXT explain), the
// explain qname form, and ExplainResponder's wire answers.
#include <doctest/doctest.h>

#include <algorithm>

#include "dns/explain.hpp"
#include "dns/explain_responder.hpp"
#include "support.hpp"

using namespace dnstest;
using namespace signpost::dns;
using Strings = std::vector<std::string>;

namespace {

core::IpAddress ip(const std::string& text) { return *core::IpAddress::parse(text); }
core::IpPrefix prefix(const std::string& text) { return *core::IpPrefix::parse(text); }

zones::Pool pool(const std::string& name, const std::string& address, core::EndpointIndex index,
                 std::vector<std::string> subnets = {}) {
    zones::Pool p;
    p.name = name;
    zones::Endpoint e;
    e.name = address;
    e.address = ip(address);
    e.check_address = e.address;
    e.index = index;
    p.endpoints.push_back(e);
    for (auto& s : subnets) p.subnets.push_back(prefix(s));
    return p;
}

core::EndpointHealth health(core::HealthState state, const std::string& reason) {
    core::EndpointHealth h;
    h.state = state;
    h.confirmed = true;
    h.reason = reason;
    return h;
}

// example.com: "site" (failover, www and *.shop) over pools primary (192.0.2.1,
// down) and secondary (198.51.100.1, up), so it answers from the secondary;
// "geo" (subnet) sends 203.0.113.0/24 to the secondary, everyone else to the primary.
struct FailedOver {
    std::shared_ptr<const zones::Catalog> catalog;
    std::vector<policy::Evaluation> evaluations;
    std::vector<core::EndpointHealth> health{health_of(core::HealthState::Down, "HTTP 503"),
                                             health_of(core::HealthState::Up, "HTTP 200")};
    std::shared_ptr<const View> view;

    static core::EndpointHealth health_of(core::HealthState s, const std::string& r) { return ::health(s, r); }

    FailedOver() {
        ZoneSpec z("example.com");
        z.ns("@", "ns1.example.com").a("ns1", "192.0.2.53").a("static", "192.0.2.80");
        z.zone.pools.push_back(pool("primary", "192.0.2.1", 0));
        z.zone.pools.push_back(pool("secondary", "198.51.100.1", 1, {"203.0.113.0/24"}));
        z.service("site", {"www", "*.shop"});
        z.zone.services.back().pools = {0, 1};
        z.service("geo", {"geo"}, zones::PolicyKind::Subnet);
        z.zone.services.back().pools = {0, 1};
        catalog = make_catalog({z});
        evaluations.push_back(evaluation({variant({"198.51.100.1"})}, "failover:secondary",
                                         "endpoint 192.0.2.1 down: HTTP 503", 5));
        auto geo = evaluation({variant({"192.0.2.1"})}, "primary", "all endpoints up", 30);
        policy::SubnetRule rule;
        rule.prefix = prefix("203.0.113.0/24");
        rule.decision = evaluation({variant({"198.51.100.1"})}, "secondary", "client subnet", 30).decision;
        geo.subnets.push_back(rule);
        evaluations.push_back(geo);
        view = build_view(catalog, evaluations, 1);
    }

    Explanation run(const std::string& name, uint16_t qtype = 1, const std::string& client = "192.0.2.200",
                    std::optional<std::string> subnet = std::nullopt) const {
        ExplainQuery q;
        q.name = dnstest::name(name);
        q.qtype = qtype;
        q.type_text = qtype == 1 ? std::string("A") : std::string("AAAA");
        q.client = ip(client);
        if (subnet) {
            q.subnet = prefix(*subnet);
            q.client = q.subnet->address;
        }
        return explain(*catalog, evaluations, health, *view, q);
    }
};

bool has(const Strings& lines, const std::string& want) {
    return std::find(lines.begin(), lines.end(), want) != lines.end();
}

}  // namespace

TEST_CASE("explain: a failed-over name shows the down pool and the chosen label") {
    FailedOver w;
    auto e = w.run("www.example.com");
    CHECK(e.name == "www.example.com.");
    CHECK(e.type == "A");
    CHECK(e.zone == "example.com");
    CHECK(e.service == w.catalog->services[0].key);
    CHECK(e.policy == "failover");
    CHECK(e.label == "failover:secondary");
    CHECK(e.ttl == 5);
    CHECK(e.answered);
    CHECK(e.rcode == "NOERROR");
    CHECK(e.answer == Strings{"www.example.com. 5 IN A 198.51.100.1"});
    CHECK(e.path == Strings{"zone example.com", "service site (failover) owns www.example.com.",
                            "pool primary: down (0/1 healthy, needs 1): endpoint 192.0.2.1 down: HTTP 503",
                            "pool secondary: up (1/1 healthy, needs 1): endpoint 198.51.100.1 up: HTTP 200",
                            "decision failover:secondary (endpoint 192.0.2.1 down: HTTP 503), ttl 5"});
}

TEST_CASE("explain: a name outside every zone is REFUSED and the path says so") {
    FailedOver w;
    auto e = w.run("www.example.org");
    CHECK(e.zone.empty());
    CHECK(e.service.empty());
    CHECK(e.rcode == "REFUSED");
    CHECK(e.path == Strings{"no served zone contains www.example.org.: REFUSED"});
}

TEST_CASE("explain: static data names no service") {
    FailedOver w;
    auto e = w.run("static.example.com");
    CHECK(e.service.empty());
    CHECK(e.answer == Strings{"static.example.com. 300 IN A 192.0.2.80"});
    CHECK(e.path == Strings{"zone example.com", "no service owns static.example.com.: static data of the zone"});
}

TEST_CASE("explain: a wildcard owner explains a name that does not exist") {
    FailedOver w;
    auto e = w.run("cart.shop.example.com");
    CHECK(e.service == w.catalog->services[0].key);
    CHECK(e.answer == Strings{"cart.shop.example.com. 5 IN A 198.51.100.1"});
}

TEST_CASE("explain: the subnet rule that matches the client is named") {
    FailedOver w;
    SUBCASE("a client in the rule's subnet") {
        auto e = w.run("geo.example.com", 1, "192.0.2.200", "203.0.113.0/24");
        CHECK(e.label == "secondary");
        CHECK(has(e.path, "client 203.0.113.0 is in 203.0.113.0/24: secondary"));
        CHECK(e.answer == Strings{"geo.example.com. 30 IN A 198.51.100.1"});
    }
    SUBCASE("a client in no subnet") {
        auto e = w.run("geo.example.com", 1, "192.0.2.200");
        CHECK(e.label == "primary");
        CHECK(has(e.path, "client 192.0.2.200 matches no subnet: default order"));
    }
}

TEST_CASE("explain: nested subnet rules: the rule named is the one whose answer the View gives") {
    FailedOver w;
    // A more specific rule inside the /24, listed first as the policy orders them.
    policy::SubnetRule inner;
    inner.prefix = prefix("203.0.113.128/25");
    inner.decision = evaluation({variant({"198.51.100.2"})}, "inner", "client subnet", 30).decision;
    auto& geo = w.evaluations[1];
    geo.subnets.insert(geo.subnets.begin(), inner);
    w.view = build_view(w.catalog, w.evaluations, 2);
    auto in = w.run("geo.example.com", 1, "192.0.2.200", "203.0.113.200/32");
    CHECK(in.label == "inner");
    CHECK(has(in.path, "client 203.0.113.200 is in 203.0.113.128/25: inner"));
    CHECK(in.answer == Strings{"geo.example.com. 30 IN A 198.51.100.2"});
    auto outer = w.run("geo.example.com", 1, "192.0.2.200", "203.0.113.7/32");
    CHECK(outer.label == "secondary");
    CHECK(has(outer.path, "client 203.0.113.7 is in 203.0.113.0/24: secondary"));
    CHECK(outer.answer == Strings{"geo.example.com. 30 IN A 198.51.100.1"});
}

TEST_CASE("explain: a service missing from the evaluations is said to be not evaluated") {
    FailedOver w;
    w.evaluations.resize(1);  // a View built before "geo" was evaluated
    w.view = build_view(w.catalog, w.evaluations, 2);
    auto e = w.run("geo.example.com");
    CHECK(e.service == w.catalog->services[1].key);
    CHECK(e.label.empty());
    CHECK(has(e.path, "service not evaluated yet: NODATA"));
}

TEST_CASE("explain: text lines give the summary then the answer then the path") {
    FailedOver w;
    ExplainQuery q;
    q.name = name("www.example.com");
    q.client = ip("127.0.0.1");
    auto lines = explanation_lines(explain(*w.catalog, w.evaluations, w.health, *w.view, q), q);
    REQUIRE(lines.size() == 7);
    CHECK(lines[0] == "query www.example.com. A for 127.0.0.1: NOERROR");
    CHECK(lines[1] == "answer www.example.com. 5 IN A 198.51.100.1");
    CHECK(lines[2] == "path zone example.com");
    q.subnet = prefix("203.0.113.0/24");
    lines = explanation_lines(explain(*w.catalog, w.evaluations, w.health, *w.view, q), q);
    CHECK(lines[0] == "query www.example.com. A for subnet 203.0.113.0/24: NOERROR");
}

TEST_CASE("explain: qname form [_TYPE.]NAME.explain.signpost") {
    SUBCASE("a name alone asks for A") {
        auto p = parse_explain_name(name("www.example.com.explain.signpost"));
        REQUIRE(p);
        CHECK(p->error.empty());
        CHECK(p->name == name("www.example.com"));
        CHECK(p->qtype == 1);
        CHECK(p->type_text == "A");
    }
    SUBCASE("a leading _TYPE label names the type in any case") {
        auto p = parse_explain_name(name("_AaAa.WWW.Example.COM.Explain.Signpost"));
        REQUIRE(p);
        CHECK(p->error.empty());
        CHECK(p->name == name("www.example.com"));
        CHECK(p->qtype == 28);
        CHECK(p->type_text == "AAAA");
    }
    SUBCASE("TYPEnnn works as a type label") {
        auto p = parse_explain_name(name("_type65534.www.example.com.explain.signpost"));
        REQUIRE(p);
        CHECK(p->qtype == 65534);
    }
    SUBCASE("a name starting with _ needs the type first") {
        auto p = parse_explain_name(name("_srv._sip._tcp.example.com.explain.signpost"));
        REQUIRE(p);
        CHECK(p->error.empty());
        CHECK(p->name == name("_sip._tcp.example.com"));
        CHECK(p->qtype == 33);
    }
    SUBCASE("an unknown type label is an error in words") {
        auto p = parse_explain_name(name("_bogus.www.example.com.explain.signpost"));
        REQUIRE(p);
        CHECK(p->error ==
              "'_bogus' is not a DNS type (a first label starting with _ names the type); use dig CH TXT "
              "NAME.explain.signpost (type A) or _TYPE.NAME.explain.signpost, e.g. "
              "_aaaa.www.example.com.explain.signpost");
    }
    SUBCASE("no name is an error") {
        for (auto* q : {"explain.signpost", "_aaaa.explain.signpost"}) {
            auto p = parse_explain_name(name(q));
            REQUIRE(p);
            CHECK(p->error.rfind("no name to explain; ", 0) == 0);
        }
    }
    SUBCASE("other names are not explain questions") {
        CHECK_FALSE(parse_explain_name(name("version.bind")));
        CHECK_FALSE(parse_explain_name(name("signpost")));
        CHECK_FALSE(parse_explain_name(name("www.example.com.explain.signpost.example")));
    }
}

// ---- ExplainResponder: the wire form ---------------------------------------------

namespace {

struct Responder {
    FailedOver w;
    ExplainResponder r{{prefix("127.0.0.0/8"), prefix("::1/128")}, 1232};
    std::shared_ptr<const ExplainState> state;  // what a published Snapshot's `explain` would hold

    Responder() {
        auto st = std::make_shared<ExplainState>();
        st->catalog = w.catalog;
        st->view = w.view;
        st->evaluations = std::make_shared<const std::vector<policy::Evaluation>>(w.evaluations);
        st->health = w.health;
        state = st;
    }

    // The reply over UDP (or TCP, unframed) from `from`; ok=false when not handled.
    Reply ask(const std::string& qname, QueryOptions o = {}, const std::string& from = "127.0.0.1",
              bool tcp = false, std::size_t udp_max = 1232) const {
        o.qclass = 3;
        auto q = make_query(qname, 16, o);
        ClientInfo ci;
        ci.address = ip(from);
        ci.tcp = tcp;
        std::string out;
        if (!r.handle(state.get(), q, ci, udp_max, out)) return Reply{};
        std::vector<uint8_t> wire(out.begin(), out.end());
        if (tcp) {
            REQUIRE(wire.size() >= 2);
            CHECK(std::size_t(wire[0] << 8 | wire[1]) == wire.size() - 2);
            wire.erase(wire.begin(), wire.begin() + 2);
        }
        return parse_reply(wire);
    }
};

// The text of each TXT record in the answer, strings joined.
Strings txts(const Reply& r) {
    Strings out;
    for (auto& rr : r.answer) {
        auto at = rr.find("TXT");
        REQUIRE(at != std::string::npos);
        std::string text, rest = rr.substr(at + 4);
        bool in = false;
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (rest[i] == '\\' && i + 1 < rest.size()) text += rest[++i];
            else if (rest[i] == '"') in = !in;
            else if (in) text += rest[i];
        }
        out.push_back(text);
    }
    return out;
}

}  // namespace

TEST_CASE("explain responder: an allowed client gets numbered TXT lines with TTL 0 and AA") {
    Responder x;
    auto r = x.ask("www.example.com.explain.signpost", {.id = 0x4242, .edns = true});
    REQUIRE(r.ok);
    CHECK(r.id == 0x4242);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK_FALSE(r.tc);
    CHECK(r.rd);
    CHECK(r.has_opt);
    auto lines = txts(r);
    REQUIRE(lines.size() == 7);
    CHECK(lines[0] == "01 query www.example.com. A for 127.0.0.1: NOERROR");
    CHECK(lines[1] == "02 answer www.example.com. 5 IN A 198.51.100.1");
    CHECK(lines[4] == "05 path pool primary: down (0/1 healthy, needs 1): endpoint 192.0.2.1 down: HTTP 503");
    CHECK(lines[6] == "07 path decision failover:secondary (endpoint 192.0.2.1 down: HTTP 503), ttl 5");
    for (auto& rr : r.answer) CHECK(rr.rfind("www.example.com.explain.signpost. 0 CH TXT", 0) == 0);
}

TEST_CASE("explain responder: clients outside the allow list and other CH names take the normal path") {
    Responder x;
    CHECK_FALSE(x.ask("www.example.com.explain.signpost", {}, "192.0.2.9").ok);
    CHECK_FALSE(x.ask("www.example.com.explain.signpost", {}, "2001:db8::9").ok);
    CHECK(x.ask("www.example.com.explain.signpost", {}, "::1").ok);
    CHECK_FALSE(x.ask("version.bind").ok);
    CHECK_FALSE(x.ask("www.example.com.explain.signpost", {.edns = true, .version = 1}).ok);  // BADVERS there
    ExplainResponder nobody({}, 1232);
    auto q = make_query("www.example.com.explain.signpost", 16, {.qclass = 3});
    ClientInfo ci;
    ci.address = ip("127.0.0.1");
    std::string out;
    CHECK_FALSE(nobody.handle(x.state.get(), q, ci, 1232, out));
    // No explain state in the snapshot (explain off, or nothing published): the normal path.
    CHECK_FALSE(x.r.handle(nullptr, q, ci, 1232, out));
    CHECK(out.empty());
}

TEST_CASE("explain responder: malformed questions get a TXT that says why") {
    Responder x;
    auto lines = txts(x.ask("_bogus.www.example.com.explain.signpost"));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("01 error: '_bogus' is not a DNS type", 0) == 0);
    lines = txts(x.ask("www.example.org.explain.signpost"));
    CHECK(lines == Strings{"01 query www.example.org. A for 127.0.0.1: REFUSED",
                           "02 path no served zone contains www.example.org.: REFUSED"});
    ExplainResponder empty({prefix("127.0.0.1/32")}, 1232);
    auto q = make_query("www.example.com.explain.signpost", 16, {.qclass = 3});
    ClientInfo ci;
    ci.address = ip("127.0.0.1");
    std::string out;
    ExplainState nothing_yet;  // published before the first evaluation
    REQUIRE(empty.handle(&nothing_yet, q, ci, 1232, out));
    auto r = parse_reply(std::vector<uint8_t>(out.begin(), out.end()));
    CHECK(txts(r) == Strings{"01 error: not serving yet: the first probe round is running"});
}

TEST_CASE("explain responder: the client subnet option asks for that subnet's answer") {
    Responder x;
    auto r = x.ask("geo.example.com.explain.signpost",
                   {.edns = true, .options = ecs_option(1, 24, 0, std::string("\xcb\x00\x71", 3))});
    auto lines = txts(r);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0] == "01 query geo.example.com. A for subnet 203.0.113.0/24: NOERROR");
    CHECK(lines[1] == "02 answer geo.example.com. 30 IN A 198.51.100.1");
    CHECK(r.ecs == std::string("\x00\x01\x18\x18\xcb\x00\x71", 7));
}

TEST_CASE("explain responder: too big for UDP is TC with no records and whole over TCP") {
    Responder x;
    // Without EDNS a UDP answer holds 512 bytes: the seven lines do not fit.
    auto udp = x.ask("www.example.com.explain.signpost");
    REQUIRE(udp.ok);
    CHECK(udp.tc);
    CHECK(udp.answer.empty());
    CHECK(udp.size <= 512);
    auto tcp = x.ask("www.example.com.explain.signpost", {}, "127.0.0.1", true);
    CHECK_FALSE(tcp.tc);
    CHECK(txts(tcp).size() == 7);
}

TEST_CASE("explain responder: a line over 255 bytes is split into character strings") {
    Responder x;
    x.w.health[0].reason = std::string(600, 'x');
    auto st = std::make_shared<ExplainState>();
    st->catalog = x.w.catalog;
    st->view = x.w.view;
    st->evaluations = std::make_shared<const std::vector<policy::Evaluation>>(x.w.evaluations);
    st->health = x.w.health;
    x.state = st;
    auto r = x.ask("www.example.com.explain.signpost", {.edns = true, .udp_size = 4096}, "127.0.0.1", false, 4096);
    auto lines = txts(r);
    REQUIRE(lines.size() == 7);
    CHECK(lines[4].size() > 600);
    CHECK(lines[4].ends_with(std::string(600, 'x')));
    CHECK(r.answer[4].find("\" \"") != std::string::npos);  // several strings in one record
}
