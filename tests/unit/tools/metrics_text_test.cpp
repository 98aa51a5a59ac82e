// tools/metrics_text: the /metrics page rendered from a real control core driven
// step by step (TOML catalog, health as the monitor reports it, injected time),
// checked against the Prometheus conventions of docs/operations.md "Metrics".
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "zones/loader.hpp"

#include "tools/metrics_text.hpp"

using namespace signpost;
using namespace std::chrono_literals;

namespace {

const char* kZone = R"(origin = "example.com"
ttl = 300
[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[checks.health]
kind = "http"
path = "/health"
port = 8080
interval = "1s"
timeout = "1s"
[pools.primary]
endpoints = ["192.0.2.10"]
checks = ["health"]
[pools.secondary]
endpoints = ["192.0.2.11"]
checks = ["health"]
[pools.tertiary]
endpoints = ["192.0.2.12"]
checks = ["health"]
[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "secondary", "tertiary"]
ttl = 30
[services.api]
names = ["api"]
policy = "weighted"
pools = ["secondary", "tertiary"]
ttl = 20
)";

// A control core serving kZone, with the monitor's health in `probes`.
struct Core {
    control::Controller core{control::Options{}};
    std::vector<core::EndpointHealth> probes;
    control::Now now{core::TimePoint{} + 100h, 1'800'000'000'000};

    Core() {
        auto r = zones::load_text(kZone, "example.com.toml");
        for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
        REQUIRE(r.catalog);
        core.load(r.catalog, now);
        probes.resize(core.probe_targets().size());
        for (auto& h : probes) {
            h.state = core::HealthState::Up;
            h.confirmed = true;
        }
        core.start(probes, now);
    }
    std::size_t target(const std::string& key) {
        for (auto& t : core.probe_targets())
            if (t.key == key) return t.index;
        FAIL("no probe target " << key);
        return 0;
    }
    void set(const std::string& key, core::HealthState s) {
        now.mono += 1s;
        now.unix_ms += 1000;
        auto i = target(key);
        probes::HealthChange c{core::EndpointIndex(i), probes[i], {}};
        probes[i].state = s;
        probes[i].since = now.mono;
        c.after = probes[i];
        core.health_changed(probes, std::span(&c, 1), now);
    }
    std::vector<core::EndpointHealth> health() const { return core.effective_health(probes); }
    std::string text() const { return tools::control_metrics(core, health(), {}); }
};

probes::CheckStatus check(const std::string& name, double latency_ms) {
    probes::CheckStatus c;
    c.name = name;
    c.last_latency_ms = latency_ms;
    return c;
}

// The whole page as the daemon serves it (cluster and DNS included).
std::string full_page(const Core& c) {
    std::vector<probes::EndpointStatus> status(1);
    status[0].key = "example.com/primary/192.0.2.10";
    status[0].checks_run = 3;
    status[0].checks.push_back(check("health", 2.5));
    nlohmann::json cluster = {{"peers", {{{"id", "b"}, {"live", true}}}}, {"probed_here", {"x"}}};
    dns::ServerStats st;
    st.udp_queries = 4;
    st.by_rcode = {{0, 3}, {3, 1}};
    st.by_qtype = {{"A", 4}};
    st.by_zone = {{0, 4}};
    st.latency_buckets[1] = 4;
    st.latency_sum_us = 30;
    std::vector<std::string> zones{"example.com"};
    return tools::build_info_metrics(tools::build_info()) + tools::control_metrics(c.core, c.health(), status) +
           tools::cluster_metrics(cluster) + tools::dns_metrics(st, zones) +
           tools::process_metrics(tools::read_process_stats());
}

// "name{labels}" -> value of every sample.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        auto sp = line.rfind(' ');
        out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
}

}  // namespace

TEST_CASE("metrics: the page follows the Prometheus conventions") {
    Core c;
    c.set("example.com/primary/192.0.2.10", core::HealthState::Down);
    const std::string page = full_page(c);
    REQUIRE(page.back() == '\n');

    std::map<std::string, std::string> type;  // family -> type
    std::set<std::string> help, series;
    std::istringstream in(page);
    for (std::string line; std::getline(in, line);) {
        CAPTURE(line);
        REQUIRE_FALSE(line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            auto name = line.substr(7, line.find(' ', 7) - 7);
            CHECK_MESSAGE(help.insert(name).second, "HELP twice for " << name);
            CHECK_MESSAGE(line.size() > 8 + name.size(), "empty HELP for " << name);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream f(line.substr(7));
            std::string name, t;
            f >> name >> t;
            CHECK_MESSAGE(help.count(name), "TYPE before HELP for " << name);
            CHECK_MESSAGE(type.emplace(name, t).second, "TYPE twice for " << name);
            CHECK((t == "counter" || t == "gauge" || t == "histogram"));
            if (t == "counter") CHECK_MESSAGE(name.ends_with("_total"), "counter without _total: " << name);
            else CHECK_FALSE(name.ends_with("_total"));
            CHECK_MESSAGE(name.find("_ms") == std::string::npos, "milliseconds in " << name);
            CHECK(name.find("_millis") == std::string::npos);
            continue;
        }
        REQUIRE(line[0] != '#');
        auto sp = line.rfind(' ');
        REQUIRE(sp != std::string::npos);
        auto key = line.substr(0, sp);
        CHECK_MESSAGE(series.insert(key).second, "duplicate series " << key);
        std::size_t used = 0;
        auto value = line.substr(sp + 1);
        if (value != "+Inf") {
            CHECK_NOTHROW((void)std::stod(value, &used));
            CHECK(used == value.size());
        }
        auto name = key.substr(0, key.find('{'));
        auto family = name;
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (!type.count(family) && family.ends_with(suffix)) family = family.substr(0, family.size() - std::strlen(suffix));
        REQUIRE_MESSAGE(type.count(family), "sample without TYPE: " << name);
        if (type[family] != "histogram") CHECK(name == family);
        else CHECK_MESSAGE(family.ends_with("_seconds"), "histogram not in seconds: " << family);
    }
    for (auto& name : help) CHECK_MESSAGE(type.count(name), "HELP without TYPE: " << name);

    // The families the docs promise.
    for (const char* f : {"signpost_build_info", "signpost_views_published_total", "signpost_endpoint_failing",
                          "signpost_service_pool", "signpost_service_info", "signpost_probe_latency_seconds",
                          "signpost_dns_answer_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes",
                          "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                          "process_start_time_seconds", "signpost_view_build_seconds",
                          "signpost_dnssec_state_txt_pending"})
        CHECK_MESSAGE(type.count(f), "missing family " << f);
    CHECK(type["signpost_view_build_seconds"] == "gauge");
    CHECK(type["signpost_dnssec_state_txt_pending"] == "gauge");
    CHECK(type["process_cpu_seconds_total"] == "counter");
    CHECK(type["signpost_views_published_total"] == "counter");
    CHECK(type["signpost_dns_answer_seconds"] == "histogram");
}

TEST_CASE("metrics: every endpoint, service and pool has its series from the start") {
    Core c;
    auto m = samples(c.text());
    for (const char* e : {"example.com/primary/192.0.2.10", "example.com/secondary/192.0.2.11",
                          "example.com/tertiary/192.0.2.12"}) {
        CAPTURE(e);
        CHECK(m.at(fmt::format("signpost_endpoint_up{{endpoint=\"{}\"}}", e)) == 1);
        CHECK(m.at(fmt::format("signpost_endpoint_failing{{endpoint=\"{}\"}}", e)) == 0);
        CHECK(m.at(fmt::format("signpost_endpoint_degraded{{endpoint=\"{}\"}}", e)) == 0);
        CHECK(m.at(fmt::format("signpost_endpoint_transitions_total{{endpoint=\"{}\"}}", e)) == 0);
    }
    for (const char* s : {"example.com/site", "example.com/api"}) {
        CAPTURE(s);
        CHECK(m.at(fmt::format("signpost_service_changes_total{{service=\"{}\"}}", s)) == 0);
        CHECK(m.at(fmt::format("signpost_service_all_down{{service=\"{}\"}}", s)) == 0);
        CHECK(m.at(fmt::format("signpost_service_early_warning{{service=\"{}\"}}", s)) == 0);
    }
    CHECK(m.at("signpost_services_all_down") == 0);
    // One series per pool of the service, and no other pool.
    CHECK(m.at(R"(signpost_service_pool{service="example.com/site",pool="primary"})") == 1);
    CHECK(m.at(R"(signpost_service_pool{service="example.com/site",pool="secondary"})") == 0);
    CHECK(m.at(R"(signpost_service_pool{service="example.com/site",pool="tertiary"})") == 0);
    CHECK(m.count(R"(signpost_service_pool{service="example.com/api",pool="primary"})") == 0);
    CHECK(m.at(R"(signpost_service_info{service="example.com/site",policy="failover",label="primary"})") == 1);
    CHECK(m.at("signpost_last_reload_ok") == 1);
}

TEST_CASE("metrics: a failover moves the service's pool series and counts the changes") {
    Core c;
    c.set("example.com/primary/192.0.2.10", core::HealthState::Down);
    auto m = samples(c.text());
    CHECK(m.at(R"(signpost_endpoint_up{endpoint="example.com/primary/192.0.2.10"})") == 0);
    CHECK(m.at(R"(signpost_endpoint_transitions_total{endpoint="example.com/primary/192.0.2.10"})") == 1);
    CHECK(m.at(R"(signpost_endpoint_transitions_total{endpoint="example.com/secondary/192.0.2.11"})") == 0);
    CHECK(m.at(R"(signpost_service_pool{service="example.com/site",pool="primary"})") == 0);
    CHECK(m.at(R"(signpost_service_pool{service="example.com/site",pool="secondary"})") == 1);
    CHECK(m.at(R"(signpost_service_pool{service="example.com/site",pool="tertiary"})") == 0);
    CHECK(m.at(R"(signpost_service_info{service="example.com/site",policy="failover",label="failover:secondary"})") == 1);
    CHECK(m.count(R"(signpost_service_info{service="example.com/site",policy="failover",label="primary"})") == 0);
    CHECK(m.at(R"(signpost_service_changes_total{service="example.com/site"})") == 1);
    CHECK(m.at(R"(signpost_service_changes_total{service="example.com/api"})") == 0);

    SUBCASE("a weighted service answers with every pool that is up") {
        CHECK(m.at(R"(signpost_service_pool{service="example.com/api",pool="secondary"})") == 1);
        CHECK(m.at(R"(signpost_service_pool{service="example.com/api",pool="tertiary"})") == 1);
        c.set("example.com/tertiary/192.0.2.12", core::HealthState::Down);
        auto after = samples(c.text());
        CHECK(after.at(R"(signpost_service_pool{service="example.com/api",pool="secondary"})") == 1);
        CHECK(after.at(R"(signpost_service_pool{service="example.com/api",pool="tertiary"})") == 0);
    }
}

TEST_CASE("metrics: an endpoint that is up but suspect is failing, a down one is not") {
    Core c;
    auto health = c.health();
    health[0].suspect = true;  // up, a failure seen, fall not reached
    health[1].state = core::HealthState::Down;
    health[1].suspect = true;  // down, a success seen, rise not reached
    auto m = samples(tools::control_metrics(c.core, health, {}));
    auto& cat = c.core.catalog();
    CHECK(m.at("signpost_endpoint_failing{endpoint=\"" + cat.endpoints[0].key + "\"}") == 1);
    CHECK(m.at("signpost_endpoint_up{endpoint=\"" + cat.endpoints[0].key + "\"}") == 1);
    CHECK(m.at("signpost_endpoint_failing{endpoint=\"" + cat.endpoints[1].key + "\"}") == 0);
    CHECK(m.at("signpost_endpoint_failing{endpoint=\"" + cat.endpoints[2].key + "\"}") == 0);
}

TEST_CASE("metrics: probe latency is in seconds") {
    Core c;
    std::vector<probes::EndpointStatus> status(1);
    status[0].key = "example.com/primary/192.0.2.10";
    status[0].checks_run = 7;
    status[0].checks.push_back(check("health", 1.422));
    status[0].checks.push_back(check("tcp", 0));  // not run yet
    auto text = tools::control_metrics(c.core, c.health(), status);
    CHECK(text.find("# TYPE signpost_probe_latency_seconds gauge\n") != std::string::npos);
    CHECK(text.find("signpost_probe_latency_seconds{endpoint=\"example.com/primary/192.0.2.10\",check=\"health\"} "
                    "0.001422\n") != std::string::npos);
    CHECK(text.find("signpost_probe_latency_seconds{endpoint=\"example.com/primary/192.0.2.10\",check=\"tcp\"} "
                    "0.000000\n") != std::string::npos);
    CHECK(text.find("signpost_probe_checks_total{endpoint=\"example.com/primary/192.0.2.10\"} 7\n") !=
          std::string::npos);
}

TEST_CASE("metrics: build info is one series with the version and the compiler") {
    CHECK(tools::build_info_metrics({"0.1.0", "gcc 13.2.0"}) ==
          "# HELP signpost_build_info Always 1; the labels say which build is running.\n"
          "# TYPE signpost_build_info gauge\n"
          "signpost_build_info{version=\"0.1.0\",compiler=\"gcc 13.2.0\"} 1\n");
    CHECK_FALSE(tools::build_info().version.empty());
    CHECK_FALSE(tools::build_info().compiler.empty());
}

TEST_CASE("metrics: process families as the Prometheus client libraries name them") {
    SUBCASE("rendered from the numbers") {
        tools::ProcessStats st;
        st.cpu_seconds = 1.25;
        st.resident_bytes = 4096;
        st.open_fds = 0;
        st.start_time_seconds = 1800000000.5;
        CHECK(tools::process_metrics(st) ==
              "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
              "# TYPE process_cpu_seconds_total counter\n"
              "process_cpu_seconds_total 1.250000\n"
              "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
              "# TYPE process_resident_memory_bytes gauge\n"
              "process_resident_memory_bytes 4096\n"
              "# HELP process_open_fds Number of open file descriptors.\n"
              "# TYPE process_open_fds gauge\n"
              "process_open_fds 0\n"
              "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
              "# TYPE process_start_time_seconds gauge\n"
              "process_start_time_seconds 1800000000.50\n");
        CHECK(tools::process_metrics({}).empty());
    }
    SUBCASE("read from this process") {
        auto st = tools::read_process_stats();
        REQUIRE(st.cpu_seconds);
        REQUIRE(st.resident_bytes);
        REQUIRE(st.virtual_bytes);
        REQUIRE(st.open_fds);
        REQUIRE(st.max_fds);
        REQUIRE(st.start_time_seconds);
        CHECK(*st.cpu_seconds >= 0);
        CHECK(*st.resident_bytes > 0);
        CHECK(*st.virtual_bytes >= *st.resident_bytes);
        CHECK(*st.open_fds >= 3);
        CHECK(*st.max_fds >= *st.open_fds);
        double now = double(std::time(nullptr));
        CHECK(*st.start_time_seconds <= now + 1);
        CHECK(*st.start_time_seconds > now - 3600);  // this test binary started moments ago
    }
}
