// Weighted and multivalue answers counted over many queries through the real
// answer function (fast path and general renderer): the shares users see.
// The services are evaluated by policy::evaluate, the per-query pick is seeded.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support.hpp"
#include "unit/policy/policy_fixture.hpp"

using namespace dnstest;

namespace {

namespace rt = signpost::zones::rrtype;
using signpost::policy::test::World;

constexpr int kQueries = 1000;

// The View answering www.example.com from `ev` (a service of kind `kind`).
std::shared_ptr<const signpost::dns::View> view_of(const signpost::policy::Evaluation& ev,
                                                   signpost::zones::PolicyKind kind, bool prerender) {
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com").a("ns1", "192.0.2.53");
    z.service("site", {"www"}, kind);
    signpost::dns::ViewOptions options;
    options.prerender = prerender;
    return signpost::dns::build_view(make_catalog({z}), std::vector<signpost::policy::Evaluation>{ev}, 1, options);
}

std::string address_of(const std::string& rr) { return rr.substr(rr.rfind(' ') + 1); }

struct Counts {
    std::map<std::string, int> first;  // how often each address came first
    std::map<std::string, int> in;     // how often each address was in the answer
    std::set<std::size_t> sizes;       // the answer sizes seen
    bool duplicates = false;
};

Counts ask_many(const signpost::dns::View& view, uint16_t type, int n = kQueries) {
    Counts c;
    for (int i = 0; i < n; ++i) {
        auto r = ask(view, make_query("www.example.com", type));
        REQUIRE(r.rcode == 0);
        REQUIRE(!r.answer.empty());
        c.first[address_of(r.answer[0])]++;
        std::set<std::string> seen;
        for (auto& rr : r.answer) {
            if (!seen.insert(address_of(rr)).second) c.duplicates = true;
            c.in[address_of(rr)]++;
        }
        c.sizes.insert(r.answer.size());
    }
    return c;
}

std::vector<std::string> v4_addresses(int n) {
    std::vector<std::string> out;
    for (int i = 1; i <= n; ++i) out.push_back("192.0.2." + std::to_string(i));
    return out;
}
std::vector<std::string> v6_addresses(int n) {
    std::vector<std::string> out;
    for (int i = 1; i <= n; ++i) out.push_back("2001:db8::" + std::to_string(i));
    return out;
}

// Every address of `addresses` comes first in 1/N of the answers (±5 points), is
// in max/N of them (±5 points), and every answer has min(N, max) distinct addresses.
void check_fair(const Counts& c, const std::vector<std::string>& addresses, std::size_t max, int n = kQueries) {
    const double share = 1.0 / double(addresses.size());
    const std::size_t per_answer = std::min(addresses.size(), max);
    CHECK(c.sizes == std::set<std::size_t>{per_answer});
    CHECK_FALSE(c.duplicates);
    CHECK(c.first.size() == addresses.size());
    for (auto& a : addresses) {
        CAPTURE(a);
        double first = c.first.count(a) ? c.first.at(a) / double(n) : 0.0;
        double in = c.in.count(a) ? c.in.at(a) / double(n) : 0.0;
        CAPTURE(first);
        CAPTURE(in);
        CHECK(std::abs(first - share) <= 0.05);
        CHECK(std::abs(in - double(per_answer) * share) <= 0.05);
    }
}

World multivalue(int v4, int v6, uint32_t max_addresses, uint64_t seed) {
    World w;
    auto a4 = v4_addresses(v4), a6 = v6_addresses(v6);
    std::vector<std::string> all(a4);
    all.insert(all.end(), a6.begin(), a6.end());
    w.pool("eu", all);
    w.service(signpost::zones::PolicyKind::Multivalue).max_addresses = max_addresses;
    w.seed = seed;
    return w;
}

}  // namespace

TEST_CASE("answers: multivalue puts each of N healthy addresses first in 1/N of 1,000 answers") {
    for (bool prerender : {true, false}) {
        for (int n : {3, 4, 5}) {
            for (uint64_t seed : {1, 2, 3}) {
                CAPTURE(prerender);
                CAPTURE(n);
                CAPTURE(seed);
                signpost::dns::seed_variant_random(42 + seed);
                World w = multivalue(n, 0, 8, seed);
                auto view = view_of(w.eval(), signpost::zones::PolicyKind::Multivalue, prerender);
                check_fair(ask_many(*view, rt::A), v4_addresses(n), 8);
            }
        }
    }
}

TEST_CASE("answers: multivalue with max_addresses below N is fair in first place and in presence") {
    for (bool prerender : {true, false}) {
        for (auto [n, max] : {std::pair{4, 2u}, std::pair{5, 3u}, std::pair{3, 1u}, std::pair{5, 1u}}) {
            CAPTURE(prerender);
            CAPTURE(n);
            CAPTURE(max);
            signpost::dns::seed_variant_random(7);
            World w = multivalue(n, 0, max, 9);
            auto view = view_of(w.eval(), signpost::zones::PolicyKind::Multivalue, prerender);
            check_fair(ask_many(*view, rt::A), v4_addresses(n), max);
        }
    }
}

TEST_CASE("answers: multivalue is fair in both families when they have different counts") {
    for (bool prerender : {true, false}) {
        CAPTURE(prerender);
        signpost::dns::seed_variant_random(11);
        World w = multivalue(4, 3, 8, 5);
        auto view = view_of(w.eval(), signpost::zones::PolicyKind::Multivalue, prerender);
        check_fair(ask_many(*view, rt::A), v4_addresses(4), 8);
        check_fair(ask_many(*view, rt::AAAA), v6_addresses(3), 8);
    }
}

TEST_CASE("answers: multivalue stays fair when an address goes down") {
    for (bool prerender : {true, false}) {
        CAPTURE(prerender);
        signpost::dns::seed_variant_random(13);
        World w = multivalue(5, 0, 8, 4);
        w.eval();
        w.down("eu", 2);  // 192.0.2.3
        auto view = view_of(w.eval(), signpost::zones::PolicyKind::Multivalue, prerender);
        check_fair(ask_many(*view, rt::A), {"192.0.2.1", "192.0.2.2", "192.0.2.4", "192.0.2.5"}, 8);
    }
}

TEST_CASE("answers: weighted pools get their weight's share of 10,000 answers") {
    for (bool prerender : {true, false}) {
        CAPTURE(prerender);
        signpost::dns::seed_variant_random(3);
        World w;
        w.pool("eu", {"192.0.2.1", "2001:db8::1"}, 1, 1)
            .pool("us", {"198.51.100.1"}, 1, 3)
            .pool("ap", {"203.0.113.1"}, 1, 6);
        w.service(signpost::zones::PolicyKind::Weighted);
        auto view = view_of(w.eval(), signpost::zones::PolicyKind::Weighted, prerender);
        constexpr int kDraws = 10000;
        auto c = ask_many(*view, rt::A, kDraws);
        CHECK(c.first.size() == 3);
        // Binomial: n*p, within 5 standard deviations.
        for (auto [addr, p] : {std::pair{"192.0.2.1", 0.1}, std::pair{"198.51.100.1", 0.3},
                               std::pair{"203.0.113.1", 0.6}}) {
            CAPTURE(addr);
            int got = c.first[addr];
            CAPTURE(got);
            CHECK(std::abs(got - kDraws * p) < 5 * std::sqrt(kDraws * p * (1 - p)));
        }
    }
}

TEST_CASE("answers: a weight-0 variant is never answered, the others keep their ratio") {
    for (bool prerender : {true, false}) {
        CAPTURE(prerender);
        signpost::dns::seed_variant_random(5);
        auto ev = evaluation({variant({"192.0.2.1"}, 1), variant({"192.0.2.2"}, 0), variant({"192.0.2.3"}, 1)},
                             "weighted");
        auto view = view_of(ev, signpost::zones::PolicyKind::Weighted, prerender);
        auto c = ask_many(*view, rt::A, 2000);
        CHECK(c.first.count("192.0.2.2") == 0);
        CHECK(std::abs(c.first["192.0.2.1"] - 1000) < 5 * std::sqrt(2000 * 0.25));
    }
}

TEST_CASE("answers: the same seed gives the same run of answers") {
    World w = multivalue(4, 0, 8, 1);
    auto view = view_of(w.eval(), signpost::zones::PolicyKind::Multivalue, true);
    auto run = [&] {
        signpost::dns::seed_variant_random(99);
        std::vector<std::string> firsts;
        for (int i = 0; i < 50; ++i) firsts.push_back(ask(*view, make_query("www.example.com", rt::A)).answer.at(0));
        return firsts;
    };
    CHECK(run() == run());
}
