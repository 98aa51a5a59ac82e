// answer_bench: the per-query work of a geo answer inside the process, without the
// kernel's UDP path: answer_query on a geo name with ECS from many /24s, through the
// fast path (pre-rendered) and the general renderer, and with two threads answering
// from one View (shared answer counters) or from a View each; a subnet-rule name
// the same two ways; a static name and an NXDOMAIN name; and RRL's check of one
// answer (its response class hashed with the client's prefix). Prints figures only.
//
//   answer_bench --db FILE.mmdb [--queries N] [--subnets N] [--rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/evaluate_all.hpp"
#include "dns/rrl.hpp"
#include "dns/view.hpp"
#include "geo/database.hpp"
#include "policy/policy.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

// The zone and rules of bench/geo_bench.sh.
const char* kZone = R"(origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "127.0.0.1"
[pools.eu]
endpoints = ["127.0.0.21"]
subnets = ["10.0.0.0/12"]
[pools.us]
endpoints = ["127.0.0.22"]
[pools.ap]
endpoints = ["127.0.0.23"]
[services.site]
names = ["www"]
policy = "geo"
pools = ["us", "eu", "ap"]
ttl = 30
rules = [
  { continents = ["EU"], pools = ["eu", "us"] },
  { countries = ["JP"], pools = ["ap", "us"] },
]
[services.lan]
names = ["lan"]
policy = "subnet"
pools = ["eu", "us"]
ttl = 30
)";

// <label>.example.com A, EDNS 1232, ECS 10.<i>/24.
std::vector<uint8_t> query(uint32_t i, const char* label) {
    std::vector<uint8_t> q = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
    q.push_back(uint8_t(std::strlen(label)));
    q.insert(q.end(), label, label + std::strlen(label));
    const char name[] = "\7example\3com";
    q.insert(q.end(), name, name + sizeof name);  // with the root byte
    q.insert(q.end(), {0, 1, 0, 1});
    q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 11});  // OPT, 1232, rdlen 11
    q.insert(q.end(), {0, 8, 0, 7, 0, 1, 24, 0, 10, uint8_t(i >> 8), uint8_t(i)});
    return q;
}

struct Run {
    double ns_per_query;
    uint64_t answered;
};

Run answer_all(const dns::View& v, const std::vector<std::vector<uint8_t>>& qs, std::size_t n, std::size_t start) {
    std::vector<uint8_t> out(4096);
    dns::ClientInfo client;
    client.address = *core::IpAddress::parse("127.0.0.1");
    uint64_t answered = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        auto& q = qs[(start + i) % qs.size()];
        dns::AnswerMeta meta;  // as the UDP receivers ask: what they count, how RRL classes it
        answered += dns::answer_query(v, q, client, out, &meta) > 0;
    }
    auto t1 = std::chrono::steady_clock::now();
    return {std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n), answered};
}

// RRL's check per answer: the static name's class (with its name) or no class at
// all (every answer of a prefix in one class, as before response classes).
double rrl_check_ns(const dns::View& v, const std::vector<uint8_t>& q, std::size_t n, bool with_class) {
    dns::RrlOptions o;
    o.allow.clear();
    o.rate = 1000000;
    dns::RateLimiter rl(o, 1);
    std::vector<uint8_t> out(4096);
    dns::ClientInfo client;
    client.address = *core::IpAddress::parse("192.0.2.1");
    dns::AnswerMeta meta;
    dns::answer_query(v, q, client, out, &meta);
    if (!with_class) meta = dns::AnswerMeta{};
    uint64_t sent = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) sent += rl.check(client.address, meta, i / 1000) == dns::RrlAction::send;
    auto t1 = std::chrono::steady_clock::now();
    if (sent == 0) std::fprintf(stderr, "answer_bench: RRL sent nothing\n");
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::string db_path;
    std::size_t queries = 2'000'000, subnets = 65536, rounds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        if (k == "--db") db_path = argv[i + 1];
        else if (k == "--queries") queries = std::strtoull(argv[i + 1], nullptr, 10);
        else if (k == "--subnets") subnets = std::strtoull(argv[i + 1], nullptr, 10);
        else if (k == "--rounds") rounds = std::strtoull(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr, "answer_bench: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (db_path.empty() || subnets == 0 || rounds == 0) {
        std::fprintf(stderr, "usage: answer_bench --db FILE.mmdb [--queries N] [--subnets N] [--rounds N]\n");
        return 2;
    }
    auto loaded = zones::load_text(kZone, "bench/example.com.toml");
    if (!loaded.catalog) {
        std::fprintf(stderr, "%s\n", loaded.diagnostics.to_string().c_str());
        return 1;
    }
    auto& cat = *loaded.catalog;
    std::vector<core::EndpointHealth> health(cat.endpoints.size());
    for (auto& h : health) {
        h.state = core::HealthState::Up;
        h.confirmed = true;
    }
    auto evs = bench::evaluate_all(cat, health);
    std::string error;
    dns::ViewOptions fast_options, slow_options;
    fast_options.geo = slow_options.geo = geo::Databases::open({db_path}, error);
    if (!fast_options.geo) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    slow_options.prerender = false;
    auto fast = dns::build_view(loaded.catalog, evs, 1, fast_options);
    auto fast2 = dns::build_view(loaded.catalog, evs, 1, fast_options);  // its own counters
    auto slow = dns::build_view(loaded.catalog, evs, 1, slow_options);
    std::vector<std::vector<uint8_t>> qs, lan, fixed, nx;
    for (uint32_t i = 0; i < subnets; ++i) qs.push_back(query(i % 65536, "www"));
    for (uint32_t i = 0; i < subnets; ++i) lan.push_back(query(i % 65536, "lan"));
    fixed.push_back(query(0, "ns1"));
    nx.push_back(query(0, "nothing"));

    std::vector<double> f, s, shared, own, lf, ls, sf, ss, nf, ns, rc, r0;
    for (std::size_t r = 0; r < rounds; ++r) {
        f.push_back(answer_all(*fast, qs, queries, 0).ns_per_query);
        s.push_back(answer_all(*slow, qs, queries, 0).ns_per_query);
        lf.push_back(answer_all(*fast, lan, queries, 0).ns_per_query);
        ls.push_back(answer_all(*slow, lan, queries, 0).ns_per_query);
        sf.push_back(answer_all(*fast, fixed, queries, 0).ns_per_query);
        ss.push_back(answer_all(*slow, fixed, queries, 0).ns_per_query);
        nf.push_back(answer_all(*fast, nx, queries, 0).ns_per_query);
        ns.push_back(answer_all(*slow, nx, queries, 0).ns_per_query);
        rc.push_back(rrl_check_ns(*fast, fixed[0], queries, true));
        r0.push_back(rrl_check_ns(*fast, fixed[0], queries, false));
        // Two threads: one View (shared counters) or a View each (counters apart).
        for (bool one_view : {true, false}) {
            Run a{}, b{};
            std::thread t1([&] { a = answer_all(*fast, qs, queries, 0); });
            std::thread t2([&] { b = answer_all(one_view ? *fast : *fast2, qs, queries, qs.size() / 2); });
            t1.join();
            t2.join();
            (one_view ? shared : own).push_back((a.ns_per_query + b.ns_per_query) / 2);
        }
    }
    std::printf("answer_query, geo name, ECS from %zu /24s, %zu queries x %zu rounds (medians, ns/query):\n", subnets,
                queries, rounds);
    std::printf("  fast path (pre-rendered)   %7.1f\n", median(f));
    std::printf("  general renderer           %7.1f\n", median(s));
    std::printf("  2 threads, one View        %7.1f (shared answer counters)\n", median(shared));
    std::printf("  2 threads, a View each     %7.1f (counters apart)\n", median(own));
    std::printf("subnet name (policy subnet, ECS 10.<n>.0/24 in and out of 10.0.0.0/12), ns/query:\n");
    std::printf("  fast path (pre-rendered)   %7.1f\n", median(lf));
    std::printf("  general renderer           %7.1f\n", median(ls));
    std::printf("static name (ns1 A), ns/query:\n");
    std::printf("  fast path (pre-rendered)   %7.1f\n", median(sf));
    std::printf("  general renderer           %7.1f\n", median(ss));
    std::printf("NXDOMAIN name (nothing), ns/query:\n");
    std::printf("  fast path (pre-rendered)   %7.1f\n", median(nf));
    std::printf("  general renderer           %7.1f\n", median(ns));
    std::printf("RRL check per answer (rate not reached), ns:\n");
    std::printf("  class of ns1.example.com A %7.1f\n", median(rc));
    std::printf("  no class (one per prefix)  %7.1f\n", median(r0));
    uint64_t total = 0;
    for (auto& c : dns::geo_answer_counts(*fast)) {
        std::printf("  rule %-8s %llu answers\n", c.rule.c_str(), (unsigned long long)c.answers);
        total += c.answers;
    }
    return total > 0 ? 0 : 1;
}
