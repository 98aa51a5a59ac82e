// The per-query choice (policy/choice.hpp): the subnet rule for a client with the
// bits that decide it, and the weighted pick from a random number.
#include <map>

#include "policy/choice.hpp"
#include "policy/random.hpp"
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

namespace {
// Most specific first, as Evaluation::subnets and the View keep them.
std::vector<core::IpPrefix> rules() {
    return {prefix("198.51.100.128/25"), prefix("198.51.100.0/24"), prefix("2001:db8:1::/48"),
            prefix("198.51.0.0/16")};
}
}  // namespace

TEST_CASE("match_subnet: the most specific rule containing the client wins") {
    auto r = rules();
    CHECK(policy::match_subnet(r, ip("198.51.100.200")).rule == 0);
    CHECK(policy::match_subnet(r, ip("198.51.100.7")).rule == 1);
    CHECK(policy::match_subnet(r, ip("198.51.7.7")).rule == 3);
    CHECK(policy::match_subnet(r, ip("2001:db8:1::53")).rule == 2);
    SUBCASE("no rule: the rule count") {
        CHECK(policy::match_subnet(r, ip("192.0.2.1")).rule == r.size());
        CHECK(policy::match_subnet(r, ip("2001:db8:2::1")).rule == r.size());
        CHECK(policy::match_subnet(std::span<const core::IpPrefix>{}, ip("192.0.2.1")).rule == 0);
    }
}

TEST_CASE("match_subnet: the scope covers the matched rule and excludes every other rule") {
    auto r = rules();
    SUBCASE("inside the /24 but not the /25: 25 bits tell them apart") {
        CHECK(int(policy::match_subnet(r, ip("198.51.100.7")).scope) == 25);
    }
    SUBCASE("inside the /25: its own length") { CHECK(int(policy::match_subnet(r, ip("198.51.100.200")).scope) == 25); }
    SUBCASE("inside the /16 only: up to where it leaves the /24") {
        // 198.51.7.x and 198.51.100.x share 17 bits (7 = 00000111, 100 = 01100100 share 1).
        CHECK(int(policy::match_subnet(r, ip("198.51.7.7")).scope) == 18);
    }
    SUBCASE("no rule: the first bit where the client leaves each rule") {
        // 192.x and 198.x share 5 bits.
        CHECK(int(policy::match_subnet(r, ip("192.0.2.1")).scope) == 6);
    }
    SUBCASE("other families do not count") {
        CHECK(int(policy::match_subnet(r, ip("2001:db8:1::53")).scope) == 48);
        CHECK(int(policy::match_subnet(r, ip("2001:db8:2::1")).scope) == 47);
    }
}

TEST_CASE("match_subnet: Evaluation::subnets and decision_for agree with the plain list") {
    World w;
    w.pool("eu", {"192.0.2.1"}, 1, 1, {"198.51.0.0/16"})
        .pool("us", {"198.51.100.1"}, 1, 1, {"198.51.100.0/24", "2001:db8:100::/48"});
    w.service(zones::PolicyKind::Subnet);
    auto ev = w.eval();
    std::vector<core::IpPrefix> plain;
    for (auto& rule : ev.subnets) plain.push_back(rule.prefix);
    for (auto client : {"198.51.100.7", "198.51.7.7", "2001:db8:100::1", "192.0.2.53"}) {
        CAPTURE(client);
        auto m = policy::match_subnet(plain, ip(client));
        CHECK(policy::subnet_rule_for(ev, ip(client)) == m.rule);
        auto& d = policy::decision_for(ev, ip(client));
        CHECK(&d == (m.rule < ev.subnets.size() ? &ev.subnets[m.rule].decision : &ev.decision));
    }
}

TEST_CASE("pick_variant: running totals pick by weight, skip weight 0, uniform when all are 0") {
    SUBCASE("each random number lands in its variant's range") {
        std::vector<uint64_t> cumulative{1, 4, 4, 10};  // weights 1, 3, 0, 6
        CHECK(policy::pick_variant(cumulative, 0) == 0);
        CHECK(policy::pick_variant(cumulative, 1) == 1);
        CHECK(policy::pick_variant(cumulative, 3) == 1);
        CHECK(policy::pick_variant(cumulative, 4) == 3);  // weight 0 never picked
        CHECK(policy::pick_variant(cumulative, 9) == 3);
        CHECK(policy::pick_variant(cumulative, 10) == 0);  // modulo the total
    }
    SUBCASE("every weight 0: uniform") {
        std::vector<uint64_t> zero{0, 0, 0};
        std::map<std::size_t, int> count;
        policy::SplitMix64 rng(7);
        for (int i = 0; i < 3000; ++i) ++count[policy::pick_variant(zero, rng.next())];
        CHECK(count.size() == 3);
        for (auto& [i, n] : count) CHECK(std::abs(n - 1000) < 150);
    }
    SUBCASE("cumulative_weights: the running totals of the decision's weights") {
        policy::Decision d;
        d.variants.resize(3);
        d.variants[0].weight = 2;
        d.variants[1].weight = 0;
        d.variants[2].weight = 5;
        CHECK(policy::cumulative_weights(d) == std::vector<uint64_t>{2, 2, 7});
    }
}
