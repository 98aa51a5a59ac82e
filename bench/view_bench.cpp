// view_bench: what the control loop pays for a View at scale. One zone of N services
// (names s0..s<N-1>, each failover over the pools primary and secondary), built
// unsigned and signed (a CSK, ECDSA P-256): the first build, which signs every answer
// any state can produce, then a health flip (primary down: every service moves) and a
// flip back, each built with the first build's signature cache, as the daemon
// publishes them. Prints times and the heap the View holds; asserts nothing.
//
//   view_bench [--services N] [--static S] [--rounds R] [--flips F] [--budget B] [--render-budget P]
// Then the time of a DO=1 answer (answer_query, in process) from the signed View, pre-
// rendered and through the general renderer.
// --flips F: after the table, F more flips back and forth on the signed View (for perf).
// --budget B: state TXT records a View signs when built (ViewOptions::state_signature_budget;
// default the daemon's 128); the rest follow with sign_pending(), timed on its own line.
// --render-budget P: owner names a View built after a health change renders anew
// (ViewOptions::prerender_budget; default the daemon's 1000); it copies the unchanged ones,
// and the next View ("rest of the flip") renders those over the budget. Then the time of a
// View where only one service flips.
// --static S: S more names with one A record each (h0..h<S-1>), which a flip copies.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <tuple>
#include <vector>

#include "bench/evaluate_all.hpp"
#include "dns/describe.hpp"
#include "dns/signing.hpp"
#include "dns/view.hpp"
#include "dnssec/sign.hpp"
#include "policy/policy.hpp"
#include "xfr/signed_content.hpp"
#include "xfr/zone_content.hpp"
#include "zones/loader.hpp"

using namespace signpost;
using Clock = std::chrono::steady_clock;

namespace {

std::string zone_text(int services, bool sign, int statics) {
    std::string t = R"(origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[checks.health]
kind = "http"
path = "/health"
port = 8080
[pools.primary]
endpoints = ["192.0.2.10", "2001:db8::10"]
checks = ["health"]
[pools.secondary]
endpoints = ["198.51.100.10"]
checks = ["health"]
)";
    for (int i = 0; i < services; ++i)
        t += "[services.s" + std::to_string(i) + "]\nnames = [\"s" + std::to_string(i) +
             "\"]\npolicy = \"failover\"\npools = [\"primary\", \"secondary\"]\nttl = 30\n";
    for (int i = 0; i < statics; ++i)
        t += "[records.h" + std::to_string(i) + "]\nA = \"10." + std::to_string(i >> 16 & 255) + "." +
             std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255) + "\"\n";
    if (sign) t += "[dnssec]\nsign = true\n";
    return t;
}

std::shared_ptr<const dns::SigningKeys> keys() {
    auto k = std::make_shared<dns::SigningKeys>();
    dnssec::ZoneKeys zk;
    zk.zone = *core::Name::from_text("example.com.", core::Name());
    zk.keys.push_back(dnssec::ZoneKey{
        "bench", dnssec::KeyRole::Csk,
        dnssec::Signer(zk.zone, dnssec::kSepKeyFlags, dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)),
        0, {}, {}});
    zk.complete = true;
    k->emplace(zk.zone.wire(), std::move(zk));
    return k;
}

std::vector<policy::Evaluation> evaluate(const zones::Catalog& cat, bool primary_up) {
    std::vector<core::EndpointHealth> health(cat.endpoints.size());
    for (std::size_t i = 0; i < health.size(); ++i) {
        health[i].confirmed = true;
        bool primary = cat.zones[cat.endpoints[i].zone].pools[cat.endpoints[i].pool].name == "primary";
        health[i].state = primary && !primary_up ? core::HealthState::Down : core::HealthState::Up;
    }
    return bench::evaluate_all(cat, health);
}

// <label>.example.com <type> with DO=1 (EDNS 1232).
std::vector<uint8_t> do_query(const std::string& label, uint16_t type) {
    return dns::make_query(*core::Name::from_text(label + ".example.com.", core::Name()), type, std::nullopt, true);
}

// ns per answer_query of `q` (median of 5 runs of n).
double answer_ns(const dns::View& v, const std::vector<uint8_t>& q, int n) {
    std::vector<uint8_t> out(4096);
    dns::ClientInfo client;
    client.address = *core::IpAddress::parse("127.0.0.1");
    std::vector<double> runs;
    std::size_t bytes = 0;
    for (int r = 0; r < 5; ++r) {
        auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) bytes += dns::answer_query(v, q, client, out);
        runs.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n);
    }
    if (bytes == 0) std::fprintf(stderr, "view_bench: no answer\n");
    std::sort(runs.begin(), runs.end());
    return runs[2];
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
double heap_mb() { return double(mallinfo2().uordblks) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
    int services = 10000, rounds = 3, flips = 0, statics = 0;
    std::size_t budget = 128;          // the daemon's (control/controller.cpp kStateSignatureBudget)
    std::size_t render_budget = 1000;  // the daemon's (kPrerenderBudget)
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--services")) services = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--static")) statics = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--flips")) flips = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--budget")) budget = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--render-budget")) render_budget = std::strtoull(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr,
                         "usage: view_bench [--services N] [--static S] [--rounds R] [--flips F] [--budget B] "
                         "[--render-budget P]\n");
            return 2;
        }
    }
    std::printf("# view_bench: one zone, %d failover services (A+AAAA primary, A secondary), %d static names; ms "
                "per View build\n",
                services, statics);
    std::printf("| signed | first build | flip (primary down) | rest of the flip | state TXT follow | flip back | one "
                "service flips | View heap |\n"
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    zones::Limits limits;
    limits.max_endpoints = 0;
    std::vector<std::string> answers;
    for (bool sign : {false, true}) {
        auto loaded = zones::load_text(zone_text(services, sign, statics), "bench.toml", limits);
        if (!loaded.catalog) {
            std::fprintf(stderr, "%s\n", loaded.diagnostics.to_string().c_str());
            return 1;
        }
        auto up = evaluate(*loaded.catalog, true), down = evaluate(*loaded.catalog, false);
        auto signing = sign ? keys() : nullptr;
        std::vector<double> first, flip, rest, follow, back, one, heap;
        dns::PrerenderCounts flip_counts, one_counts;
        uint64_t signed_first = 0, signed_flip = 0, signed_follow = 0, signed_back = 0;
        std::size_t pending = 0;
        for (int r = 0; r < rounds; ++r) {
            dns::ViewOptions o;
            o.signing = signing;
            o.signatures = std::make_shared<dns::SignatureCache>();
            o.state_signature_budget = budget;
            o.prerender_budget = render_budget;
            double before = heap_mb();
            auto t0 = Clock::now();
            auto v = dns::build_view(loaded.catalog, up, 1, o);
            first.push_back(ms_since(t0));
            heap.push_back(heap_mb() - before);
            signed_first = o.signatures->signatures_made();
            o.previous = v;
            t0 = Clock::now();
            auto v2 = dns::build_view(loaded.catalog, down, 2, o);
            flip.push_back(ms_since(t0));
            signed_flip = o.signatures->signatures_made() - signed_first;
            flip_counts = dns::prerender_counts(*v2);
            // The next tick: the names over the render budget, pre-rendered.
            o.previous = v2;
            o.prerender_budget = SIZE_MAX;
            t0 = Clock::now();
            v2 = dns::build_view(loaded.catalog, down, 2, o);
            rest.push_back(ms_since(t0));
            o.prerender_budget = render_budget;
            // The state TXT records over the budget follow: signed, then one more View.
            pending = dns::pending_signatures(*v2);
            t0 = Clock::now();
            dns::sign_pending(*v2, *o.signatures, 0, pending);
            o.previous = v2;
            o.state_signature_budget = budget + pending;  // as the daemon's follow-up View
            v2 = dns::build_view(loaded.catalog, down, 2, o);
            o.state_signature_budget = budget;
            follow.push_back(ms_since(t0));
            signed_follow = o.signatures->signatures_made() - signed_first - signed_flip;
            o.previous = v2;
            v.reset();
            t0 = Clock::now();
            auto v3 = dns::build_view(loaded.catalog, up, 3, o);
            back.push_back(ms_since(t0));
            signed_back = o.signatures->signatures_made() - signed_first - signed_flip - signed_follow;
            if (dns::deferred_renders(*v3) > 0) {  // the flip back's rest, untimed here (as "rest")
                o.previous = v3;
                o.prerender_budget = SIZE_MAX;
                v3 = dns::build_view(loaded.catalog, up, 3, o);
                o.prerender_budget = render_budget;
            }
            // One service (s0) fails over; the other services' answers are copied.
            auto one_down = up;
            one_down[0] = down[0];
            o.previous = v3;
            t0 = Clock::now();
            auto v4 = dns::build_view(loaded.catalog, one_down, 4, o);
            one.push_back(ms_since(t0));
            one_counts = dns::prerender_counts(*v4);
            v4.reset();
            if (sign && r + 1 == rounds && flips > 0) {
                auto t1 = Clock::now();
                for (int f = 0; f < flips; ++f) {
                    o.previous = v3;
                    v3 = dns::build_view(loaded.catalog, f % 2 ? up : down, 4 + uint64_t(f), o);
                }
                std::printf("# %d more flips: %.1f ms each\n", flips, ms_since(t1) / flips);
            }
        }
        auto med = [](std::vector<double> x) {
            std::sort(x.begin(), x.end());
            return x[x.size() / 2];
        };
        if (sign) {
            // What a publication adds for a zone that secondaries transfer (the controller's
            // xfr_versions, before it builds the View): the zone rendered in the new state and
            // signed as the controller signs it, taking what the first View serves.
            auto cache = std::make_shared<dns::SignatureCache>();
            std::shared_ptr<const dns::View> served;
            {
                dns::ViewOptions o;
                o.signing = signing;
                o.signatures = cache;
                served = dns::build_view(loaded.catalog, up, 1, o);
            }
            const zones::Zone& zone = loaded.catalog->zones[0];
            const dnssec::ZoneKeys& zk = signing->begin()->second;
            xfr::RrsigFn rrsig = [&](const dnssec::Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                                     const zones::RdataList& rdatas) {
                return dns::transfer_signature(served.get(), *cache, zone.dnssec(), signer, owner, type, ttl, rdatas,
                                               std::time(nullptr));
            };
            const uint32_t nsec_ttl = dnssec::negative_ttl(zone.soa.minimum, zone.soa.ttl);
            double xfr_ms[3];
            uint64_t xfr_signed[3];
            int k = 0;
            for (auto* evs : {&up, &down, &up}) {
                const uint64_t made = cache->signatures_made();
                auto t0 = Clock::now();
                auto content = xfr::render_zone(zone, *evs);
                xfr::sign_content(content, zk, nsec_ttl, rrsig);
                xfr_ms[k] = ms_since(t0);
                xfr_signed[k++] = cache->signatures_made() - made;
            }
            answers.push_back("# transferred zone, content for the secondaries: first " + std::to_string(int(xfr_ms[0])) +
                              " ms (" + std::to_string(xfr_signed[0]) + " signed), flip " +
                              std::to_string(int(xfr_ms[1])) + " ms (" + std::to_string(xfr_signed[1]) +
                              " signed), flip back " + std::to_string(int(xfr_ms[2])) + " ms (" +
                              std::to_string(xfr_signed[2]) + " signed)");
            // DO=1 answers of the signed View: pre-rendered (fast path) and by the general renderer.
            dns::ViewOptions o;
            o.signing = signing;
            o.signatures = std::make_shared<dns::SignatureCache>();
            auto fast = dns::build_view(loaded.catalog, up, 1, o);
            o.prerender = false;
            auto slow = dns::build_view(loaded.catalog, up, 1, o);
            for (auto [label, type, what] : {std::tuple{"s0", 1, "service A"}, std::tuple{"ns1", 1, "static A"},
                                            std::tuple{"nx", 1, "NXDOMAIN (a denial: never pre-rendered)"}})
                answers.push_back(std::string("# DO=1 ") + what + ": " +
                                  std::to_string(int(answer_ns(*fast, do_query(label, uint16_t(type)), 200000))) +
                                  " ns with pre-rendering, " +
                                  std::to_string(int(answer_ns(*slow, do_query(label, uint16_t(type)), 200000))) +
                                  " ns without (per answer_query, median of 5)");
        }
        std::printf("| %s | %.1f (%llu signed) | %.1f (%llu signed; %zu names rendered, %zu copied, %zu deferred) | "
                    "%.1f | %.1f (%zu pending, %llu signed) | %.1f (%llu) | %.1f (%zu rendered, %zu copied) | %.1f MB |\n",
                    sign ? "yes" : "no", med(first), (unsigned long long)signed_first, med(flip),
                    (unsigned long long)signed_flip, flip_counts.rendered, flip_counts.copied, flip_counts.deferred,
                    med(rest), med(follow), pending, (unsigned long long)signed_follow, med(back),
                    (unsigned long long)signed_back, med(one), one_counts.rendered, one_counts.copied, med(heap));
    }
    std::printf("(medians of %d rounds; render budget %zu names, state TXT budget %zu; \"rest of the flip\": the "
                "View after the flip, which renders the names over the render budget; \"state TXT follow\": "
                "sign_pending() and the View after it; \"View heap\": heap in use after the first build minus "
                "before it, signature cache included)\n",
                rounds, render_budget, budget);
    for (auto& a : answers) std::printf("%s\n", a.c_str());
    return 0;
}
