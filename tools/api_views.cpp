#include "tools/api_views.hpp"

#include "cluster/wire.hpp"

#include "dns/describe.hpp"

#include <algorithm>
#include <map>

#include <ctime>

#include "dnssec/rollover.hpp"
#include "tools/state_store.hpp"

namespace signpost::tools {

using nlohmann::json;

namespace {

std::string iso_time(int64_t unix_ms) {
    std::time_t t = std::time_t(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::string origin_text(const core::Name& n) { return n.to_key(); }

json services_json(const zones::Catalog& catalog, std::span<const policy::Evaluation> evaluations,
                   std::span<const policy::ServiceState> states, std::span<const core::EndpointHealth> health,
                   const ToUnixMs& to_unix_ms, std::span<const dns::GeoAnswerCount> geo_answers) {
    json out = json::array();
    for (std::size_t i = 0; i < catalog.services.size(); ++i) {
        auto& ref = catalog.services[i];
        auto& zone = catalog.zones[ref.zone];
        auto& svc = zone.services[ref.service];
        const policy::Evaluation* ev = i < evaluations.size() ? &evaluations[i] : nullptr;
        json owners = json::array();
        for (auto& o : svc.owners) owners.push_back(o.to_text());
        json pools = json::array();
        for (auto p : svc.pools) {
            auto& pool = zone.pools[p];
            std::size_t healthy = 0;
            for (auto& e : pool.endpoints)
                if (e.index < health.size() && health[e.index].up()) ++healthy;
            pools.push_back({{"name", pool.name},
                             {"up", healthy > 0 && healthy >= pool.min_healthy},
                             {"healthy", healthy},
                             {"endpoints", pool.endpoints.size()}});
        }
        out.push_back({{"key", ref.key},
                       {"zone", origin_text(zone.origin)},
                       {"name", svc.name},
                       {"owners", owners},
                       {"policy", zones::to_string(svc.policy)},
                       {"label", ev ? ev->decision.label : ""},
                       {"reason", ev ? ev->decision.reason : ""},
                       {"since", i < states.size() ? iso_time(to_unix_ms(states[i].since)) : ""},
                       {"ttl", ev ? ev->decision.ttl : svc.ttl},
                       {"all_down", ev && ev->decision.all_down},
                       {"unstable", ev && ev->decision.unstable},
                       {"early_warning", ev && ev->early_warning},
                       {"failback", zones::to_string(svc.failback)},
                       {"released", i < states.size() && states[i].released},
                       {"pools", pools}});
        if (svc.policy == zones::PolicyKind::Geo) {
            json rules = json::array();
            for (auto& g : geo_answers)
                if (g.service == ref.key) rules.push_back({{"rule", g.rule}, {"answers", g.answers}});
            out.back()["geo_answers"] = rules;
        }
    }
    return out;
}

namespace {

json checks_json(const probes::EndpointStatus* st) {
    json checks = json::array();
    if (st)
        for (auto& c : st->checks)
            checks.push_back({{"name", c.name},
                              {"kind", core::to_string(c.kind)},
                              {"state", core::to_string(c.state)},
                              {"last_result", c.last_result},
                              {"latency_ms", c.last_latency_ms},
                              {"timeout_ms", c.timeout_ms},
                              {"baseline_ms", c.baseline_ms},
                              {"degraded", c.degraded},
                              {"cert_warning", c.cert_warning}});
    return checks;
}

// A hostname endpoint's resolution and the probes of each of its addresses.
json hostname_json(const EndpointFacts::Resolution& h) {
    json addresses = json::array();
    for (auto& [a, st] : h.addresses)
        addresses.push_back({{"address", a.to_string()},
                             {"state", st ? core::to_string(st->health.state) : "unknown"},
                             {"last_result", st ? st->last_result : ""},
                             {"latency_ms", st ? st->last_latency_ms : 0.0},
                             {"checks", checks_json(st)}});
    json r = {{"state", "pending"}, {"addresses", json::array()}, {"ttl", nullptr}, {"resolved", nullptr},
              {"next_refresh", nullptr}, {"error", ""}, {"server", ""}, {"answers", 0}, {"failures", 0}};
    if (auto* res = h.resolution) {
        json list = json::array();
        for (auto& a : res->addresses) list.push_back(a.to_string());
        r = {{"state", core::to_string(res->state)},
             {"addresses", list},
             {"ttl", res->ttl},
             {"resolved", h.resolved_ms ? json(iso_time(h.resolved_ms)) : json(nullptr)},
             {"next_refresh", h.next_refresh_ms ? json(iso_time(h.next_refresh_ms)) : json(nullptr)},
             {"error", res->error},
             {"server", res->server},
             {"answers", res->answers},
             {"failures", res->failures}};
    }
    return {{"resolution", r}, {"probed_addresses", addresses}};
}

}  // namespace

json endpoint_json(const zones::Catalog& catalog, core::EndpointIndex index, const core::EndpointHealth& h,
                   const EndpointFacts& facts) {
    auto& ref = catalog.endpoints[index];
    auto& zone = catalog.zones[ref.zone];
    auto& ep = catalog.endpoint(index);
    auto* st = facts.status;
    json ov = {{"state", "auto"}, {"reason", ""}, {"expires", nullptr}};
    if (auto& o = facts.override_in_force) {
        ov = {{"state", to_string(o->state)},
              {"reason", o->reason},
              {"expires", o->expires_ms ? json(iso_time(*o->expires_ms)) : json(nullptr)}};
    }
    json drain = {{"draining", false}, {"drained", false}, {"since", nullptr}};
    if (auto& d = facts.drain) {
        drain = {{"draining", true}, {"drained", d->drained}, {"since", iso_time(d->since_ms)},
                 {"highest_ttl", d->highest_ttl}, {"left_answers_monotonic", nullptr}, {"drained_monotonic", nullptr}};
        if (d->left_answers_monotonic) drain["left_answers_monotonic"] = *d->left_answers_monotonic;
        if (d->drained_monotonic) drain["drained_monotonic"] = *d->drained_monotonic;
    }
    json checks = checks_json(st);
    json out = {{"key", ref.key},
            {"zone", origin_text(zone.origin)},
            {"pool", zone.pools[ref.pool].name},
            {"name", ep.name},
            {"address", ep.hostname ? ep.hostname->to_key() : ep.address.to_string()},
            {"check_address", ep.hostname ? std::string() : ep.check_address.to_string()},
            {"state", core::to_string(h.state)},
            {"reason", h.reason},  // why: the probes' result, a quorum's tally, an override
            {"confirmed", h.confirmed},
            {"suspect", h.suspect},
            {"degraded", h.degraded},
            {"warning", h.warning},
            {"since", iso_time(facts.since_ms)},
            {"last_result", st ? st->last_result : ""},
            {"latency_ms", st ? st->last_latency_ms : 0.0},
            {"consecutive_ok", st ? st->consecutive_ok : 0},
            {"consecutive_fail", st ? st->consecutive_fail : 0},
            {"checks_run", st ? st->checks_run : 0},
            {"cert_warning", st && st->cert_warning},
            {"override", ov},
            {"drain", drain},
            {"checks", checks}};
    if (ep.hostname) {
        out["hostname"] = ep.hostname->to_key();
        // The endpoint's result is its addresses' (the reason lists them).
        out["last_result"] = h.reason;
        if (facts.hostname) {
            out.update(hostname_json(*facts.hostname));
            // The counters of its addresses together; the latency of the fastest one up.
            uint64_t runs = 0;
            std::optional<double> fastest;
            for (auto& [a, s] : facts.hostname->addresses) {
                if (!s) continue;
                runs += s->checks_run;
                if (s->health.up() && (!fastest || s->last_latency_ms < *fastest)) fastest = s->last_latency_ms;
            }
            out["checks_run"] = runs;
            if (fastest) out["latency_ms"] = *fastest;
        }
    }
    return out;
}

json zones_json(const zones::Catalog& catalog, int64_t reload_at_ms, const dns::SigningKeys* keys,
                int64_t signatures_expire) {
    json out = json::array();
    for (auto& z : catalog.zones) {
        std::size_t records = 0;
        for (auto& [n, node] : z.nodes)
            for (auto& s : node.rrsets) records += s.rdatas.size();
        json dnssec = {{"signed", false}};
        auto it = keys && z.dnssec().sign ? keys->find(z.origin.wire()) : dns::SigningKeys::const_iterator{};
        if (keys && z.dnssec().sign && it != keys->end()) {
            json list = json::array();
            const int64_t now = std::time(nullptr);
            // Each key's state now (dnssec/rollover.hpp) and its timing: nothing secret.
            for (auto& k : it->second.keys) {
                auto st = dnssec::key_state(k.timing, k.signer.flags() == dnssec::kSepKeyFlags, now);
                auto next = dnssec::next_key_event(k.timing, now);
                json timing = json::object();
                auto put = [&](const char* name, const std::optional<int64_t>& t) {
                    if (t) timing[name] = iso_time(*t * 1000);
                };
                put("publish", k.timing.publish);
                put("activate", k.timing.activate);
                put("inactive", k.timing.inactive);
                put("delete", k.timing.remove);
                put("sync_publish", k.timing.sync_publish);
                put("sync_delete", k.timing.sync_delete);
                list.push_back({{"role", dnssec::to_string(k.role)},
                                {"tag", k.signer.key_tag()},
                                {"algorithm", unsigned(uint8_t(k.signer.key().algorithm()))},
                                {"flags", k.signer.flags()},
                                {"published", st.published},
                                {"signing", st.signing},
                                {"ds", st.ds},
                                {"state", dnssec::state_text(st, k.signer.flags() == dnssec::kSepKeyFlags)},
                                {"timing", std::move(timing)},
                                {"next_event", next ? json(iso_time(*next * 1000)) : json(nullptr)}});
            }
            auto next = it->second.next_event(now);
            dnssec = {{"signed", true},
                      {"keys", std::move(list)},
                      {"next_key_event", next ? json(iso_time(*next * 1000)) : json(nullptr)},
                      {"denial", z.dnssec().denial == zones::DenialKind::Nsec ? "nsec" : "nsec3"},
                      {"signatures_expire", signatures_expire ? json(iso_time(signatures_expire * 1000)) : json(nullptr)}};
        }
        out.push_back({{"origin", origin_text(z.origin)},
                       {"file", z.file()},
                       {"serial", z.soa.serial},
                       {"records", records},
                       {"services", z.services.size()},
                       {"last_reload", iso_time(reload_at_ms)},
                       {"dnssec", std::move(dnssec)}});
    }
    return out;
}

json commands_json(const control::CommandLog& log, int64_t now_ms) {
    json out = json::array();
    for (auto& c : log.all()) {
        json j = cluster::command_json(c);
        j["at"] = iso_time(c.at_ms);
        bool in_effect = true;
        switch (c.kind) {
            case control::CommandKind::Override:
                in_effect = c.state != core::Override::Auto && (!c.expires_ms || *c.expires_ms > now_ms);
                j["expires"] = c.expires_ms ? json(iso_time(*c.expires_ms)) : json(nullptr);
                break;
            case control::CommandKind::Drain: in_effect = c.active; break;
            case control::CommandKind::Release: in_effect = false; break;  // a one-shot, done
        }
        j["in_effect"] = in_effect;
        out.push_back(std::move(j));
    }
    return out;
}

json runtime_txt_json(const zones::Catalog& catalog, const control::RuntimeRecords& records) {
    // By name as people read it (the records are kept in canonical wire order).
    std::vector<std::pair<std::string, const core::Name*>> names;
    for (auto& [name, values] : records.names()) names.emplace_back(name.to_key(), &name);
    std::sort(names.begin(), names.end());
    json out = json::array();
    for (auto& [key, name_ptr] : names) {
        auto& name = *name_ptr;
        auto& values = records.names().at(name);
        auto* zone = catalog.find_zone(name);
        for (auto& v : values)
            out.push_back({{"name", key},
                           {"zone", zone ? json(origin_text(zone->origin)) : json(nullptr)},
                           {"value", v.value},
                           {"ttl", v.ttl},
                           {"set", iso_time(v.set_ms)},
                           {"expires", iso_time(v.expires_ms)}});
    }
    return out;
}

json status_json(json services, json endpoints, json zones, bool reload_ok, int64_t reload_at_ms,
                 const std::vector<std::string>& reload_errors, uint64_t generation, bool staged) {
    return {{"services", std::move(services)},
            {"endpoints", std::move(endpoints)},
            {"zones", std::move(zones)},
            {"reload", {{"ok", reload_ok}, {"at", iso_time(reload_at_ms)}, {"errors", reload_errors}, {"staged", staged}}},
            {"generation", generation}};
}

json endpoints_json(const control::Controller& core, std::span<const probes::EndpointStatus> probes,
                    std::span<const core::EndpointHealth> health, const control::Now& now) {
    json out = json::array();
    std::map<std::string, const probes::EndpointStatus*> by_key;
    for (auto& s : probes) by_key[s.key] = &s;
    auto& cat = core.catalog();
    auto monotonic = [](core::TimePoint t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); };
    for (std::size_t i = 0; i < cat.endpoints.size() && i < health.size(); ++i) {
        auto& ref = cat.endpoints[i];
        EndpointFacts facts;
        facts.since_ms = core.endpoint_since_ms(core::EndpointIndex(i), health[i], now);
        if (auto it = by_key.find(ref.key); it != by_key.end()) facts.status = it->second;
        if (auto& host = cat.endpoint(core::EndpointIndex(i)).hostname) {
            EndpointFacts::Resolution r;
            r.resolution = core.resolution(host->to_key());
            if (r.resolution && r.resolution->answers) r.resolved_ms = now.to_unix_ms(r.resolution->resolved_at);
            if (r.resolution && r.resolution->state != core::ResolveState::Pending)
                r.next_refresh_ms = now.to_unix_ms(r.resolution->next_refresh);
            for (auto& [a, key] : core.probed_addresses(core::EndpointIndex(i))) {
                auto it = by_key.find(key);
                r.addresses.emplace_back(a, it == by_key.end() ? nullptr : it->second);
            }
            facts.hostname = std::move(r);
        }
        if (auto* o = core.override_for(ref)) facts.override_in_force = EndpointFacts::Override{o->state, o->reason, o->expires_ms};
        if (auto* d = core.drain_for(ref.key)) {
            EndpointFacts::Drain fd{d->since_ms, d->drained(), d->highest_ttl, {}, {}};
            if (d->left_answers) fd.left_answers_monotonic = monotonic(*d->left_answers);
            if (d->drained_at) fd.drained_monotonic = monotonic(*d->drained_at);
            facts.drain = fd;
        }
        out.push_back(endpoint_json(cat, core::EndpointIndex(i), health[i], facts));
    }
    return out;
}

std::optional<dns::ExplainQuery> explain_query(const std::string& name_text, const std::string& type_text,
                                               const std::string& client_text, std::string& error) {
    std::string err;
    auto name = core::Name::from_text(name_text, core::Name(), &err);
    if (!name) {
        error = "'name' is not a domain name: " + err;
        return std::nullopt;
    }
    dns::ExplainQuery q;
    q.name = *name;
    q.type_text = type_text.empty() ? "A" : type_text;
    auto type = dns::rr_type_from_text(q.type_text);
    if (!type) {
        error = "'type' is not a DNS type: " + type_text;
        return std::nullopt;
    }
    q.qtype = *type;
    q.client = *core::IpAddress::parse("127.0.0.1");
    if (!client_text.empty()) {
        q.subnet = core::IpPrefix::parse(client_text);
        if (!q.subnet) {
            error = "'client' must be an address or prefix, got '" + client_text + "'";
            return std::nullopt;
        }
        q.client = q.subnet->address;
    }
    return q;
}

json explanation_json(const dns::Explanation& e, const std::string& client_text) {
    json out = {{"name", e.name}, {"type", e.type}, {"client", client_text}};
    if (!e.zone.empty()) out["zone"] = e.zone;
    if (!e.service.empty()) {
        out["service"] = e.service;
        out["policy"] = e.policy;
        out["label"] = e.label;
        out["ttl"] = e.ttl;
        // Hostname endpoints: the CNAME target answered, or the hostname's addresses flattened.
        if (!e.cname.empty()) out["cname"] = e.cname;
        if (!e.flattened.empty()) out["flattened"] = e.flattened;
    }
    if (e.answered) {
        out["rcode"] = e.rcode;
        out["answer"] = e.answer;
        out["authority"] = e.authority;
        out["additional"] = e.additional;
    }
    out["path"] = e.path;
    return out;
}

}  // namespace signpost::tools
