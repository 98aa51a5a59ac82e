// The control core's rules (see controller.hpp). Everything here is decided from
// its inputs: no clock is read, nothing is written but the returned Step.
#include "control/controller.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "control/rules.hpp"
#include "dns/explain.hpp"
#include "dns/view.hpp"
#include "dnssec/denial.hpp"
#include "dnssec/rollover.hpp"
#include "xfr/signed_content.hpp"
#include "xfr/transfer_server.hpp"
#include "xfr/zone_content.hpp"
#include "resolve/schedule.hpp"

namespace signpost::control {

namespace {

std::string origin_of(const core::Name& n) { return n.to_key(); }
// PersistedState::zone_digests: "<origin>" holds a zone's static digest,
// "<origin> answers" the digest of the answers its transfers carried.
constexpr std::string_view kAnswersSuffix = " answers";

std::string pool_key(const zones::Catalog& c, const zones::EndpointRef& ref) {
    auto& z = c.zones[ref.zone];
    return origin_of(z.origin) + "/" + z.pools[ref.pool].name;
}

template <class... Args>
void say(Step& step, core::LogLevel level, const char* unit, fmt::format_string<Args...> f, Args&&... args) {
    step.log.push_back({level, unit, fmt::format(f, std::forward<Args>(args)...)});
}

// "pool primary endpoint 127.0.0.10 failing: HTTP 503 (still up)" or "... degraded:
// slow: 240 ms, usually 5 ms (still up)": the early warning's reason.
std::string suspects(const zones::Zone& zone, const zones::Service& service,
                     const std::vector<core::EndpointHealth>& health) {
    std::string out;
    for (auto p : service.pools)
        for (auto& ep : zone.pools[p].endpoints) {
            if (ep.index >= health.size()) continue;
            auto& h = health[ep.index];
            if (h.suspect && h.up())
                out += (out.empty() ? "" : "; ") + std::string("pool ") + zone.pools[p].name + " endpoint " + ep.name +
                       " failing: " + h.reason + " (still up)";
            else if (h.degraded && h.up())
                out += (out.empty() ? "" : "; ") + std::string("pool ") + zone.pools[p].name + " endpoint " + ep.name +
                       " degraded: " + h.warning + " (still up)";
        }
    return out.empty() ? std::string("an answered endpoint is failing") : out;
}

std::string describe_subnets(const policy::Evaluation& ev) {
    std::string out;
    for (auto& r : ev.subnets) out += (out.empty() ? "" : ", ") + r.prefix.to_string() + " → " + r.decision.label;
    for (std::size_t i = 0; i < ev.geo_rules.size(); ++i)
        out += (out.empty() ? "" : ", ") + ("geo rule " + std::to_string(i + 1)) + " → " + ev.geo_rules[i].label;
    return out + (out.empty() ? "" : ", ") + "others → " + ev.decision.label;
}

}  // namespace

void Step::append(Step&& o) {
    for (auto& l : o.log) log.push_back(std::move(l));
    if (o.snapshot) snapshot = std::move(o.snapshot);
    for (auto& n : o.notifies) notifies.push_back(std::move(n));
    for (auto& e : o.events) events.push_back(std::move(e));
    retarget |= o.retarget;
    persist |= o.persist;
}

Controller::Controller(Options options) : options_(std::move(options)) {}

// ---- restart, load, reload ---------------------------------------------------------

std::vector<LogLine> Controller::restore(const PersistedState& st, const Now& now) {
    std::vector<LogLine> log;
    int64_t age_ms = st.written_ms ? now.unix_ms - st.written_ms : -1;
    bool fresh = st.written_ms != 0 && age_ms <= options_.state_max_age.count();
    if (fresh) {
        for (auto& [k, e] : st.endpoints) {
            persisted_initial_[k] = e.state;
            persisted_endpoints_[k] = e;
            endpoint_states_[k] = {e.state, e.since_ms};
        }
        warm_ = !st.endpoints.empty();
    } else if (!st.endpoints.empty()) {
        log.push_back({core::LogLevel::Info, "daemon",
                       age_ms < 0 ? std::string("state file: no time of writing; endpoints are probed before answering")
                                  : fmt::format("state file is {:.1f} s old (state_max_age {}): endpoint states are "
                                                "not trusted, the first probe round runs before answering",
                                                double(age_ms) / 1000, core::format_duration(options_.state_max_age))});
    }
    for (auto& [k, o] : st.overrides) overrides_[k] = {o.state, o.reason, o.set_ms, o.expires_ms};
    for (auto& [k, since] : st.drains) drains_[k] = DrainInfo{since, 0, {}, {}, {}};
    if (st.has_commands) {
        commands_.restore(st.commands, st.command_clock_ms);
    } else {
        // An older file: its overrides and drains become this instance's commands.
        std::vector<ReplicatedCommand> records;
        for (auto& [k, o] : st.overrides)
            records.push_back({CommandKind::Override, k, o.state, true, o.reason, o.expires_ms,
                               std::max<int64_t>(o.set_ms, 1), options_.instance_id});
        for (auto& [k, since] : st.drains)
            records.push_back({CommandKind::Drain, k, core::Override::Auto, true, "", std::nullopt,
                               std::max<int64_t>(since, 1), options_.instance_id});
        commands_.restore(records, 0);
    }
    persisted_services_ = st.services;
    marks_.clear();
    for (auto& [origin, serial] : st.serials) marks_[origin].serial = serial;
    for (auto& [key, text] : st.zone_digests) {
        // A digest that is not hex (a hand-edited file) counts as none: the zone's data
        // then counts as changed, so its serial moves on (never back).
        uint64_t digest = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), digest, 16);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty()) continue;
        std::string_view k = key;
        if (k.size() > kAnswersSuffix.size() && k.ends_with(kAnswersSuffix))
            marks_[std::string(k.substr(0, k.size() - kAnswersSuffix.size()))].answers_digest = digest;
        else marks_[key].static_digest = digest;
    }
    seq_ = st.event_seq;
    runtime_.restore(st.runtime_txt);
    log.push_back({core::LogLevel::Info, "daemon",
                   fmt::format("state file: {} endpoint(s){}, {} override(s), {} drain(s){}", st.endpoints.size(),
                               fresh ? "" : " (not used)", st.overrides.size(), st.drains.size(),
                               runtime_.empty() ? std::string()
                                                : fmt::format(", {} runtime TXT record(s)", runtime_.size()))});
    return log;
}

// Serials never go backwards: unchanged static data keeps the serial it had,
// changed data gets max(automatic serial, previous + 1).
std::shared_ptr<const zones::Catalog> Controller::with_serials(std::shared_ptr<const zones::Catalog> loaded, Step& step) {
    // Sole owner: the catalog was made non-const (zones::load_path; const is the sharing
    // contract), so it can be moved from.
    auto cat = loaded.use_count() == 1 ? std::make_shared<zones::Catalog>(std::move(const_cast<zones::Catalog&>(*loaded)))
                                       : std::make_shared<zones::Catalog>(*loaded);
    loaded.reset();
    for (auto& z : cat->zones) {
        std::string origin = origin_of(z.origin);
        const uint64_t digest = zones::static_digest(z);
        ZoneMarks& marks = marks_[origin];
        if (marks.serial) {
            uint32_t last = *marks.serial;
            bool same = marks.static_digest == digest;
            if (z.soa.auto_serial) {
                zones::set_serial(z, same ? last : std::max(z.soa.serial, last + 1));
            } else if (int32_t(z.soa.serial - last) < 0) {
                say(step, core::LogLevel::Warning, "zones",
                    "{}: serial {} is lower than the {} served before; secondaries will not transfer it", origin,
                    z.soa.serial, last);
            }
        }
        marks.serial = z.soa.serial;
        marks.static_digest = digest;
    }
    return cat;
}

Step Controller::load(std::shared_ptr<const zones::Catalog> catalog, const Now& now) {
    Step step;
    catalog_ = with_serials(std::move(catalog), step);
    file_catalog_ = catalog_;
    with_runtime_txt(true, now, step);
    states_.assign(catalog_->services.size(), {});
    for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
        auto it = persisted_services_.find(catalog_->services[i].key);
        if (it == persisted_services_.end()) continue;
        states_[i].label = it->second.label;
        states_[i].active_pool = it->second.active_pool;
        states_[i].released = it->second.released;
        // Only shown: the unstable window runs on moved_at, which a restart leaves unset.
        states_[i].since = it->second.since_ms > 0 ? now.from_unix_ms(it->second.since_ms) : now.mono;
    }
    update_resolved();
    reload_ = ReloadStatus{};
    reload_.at_ms = now.unix_ms;
    step.retarget = true;
    return step;
}

Step Controller::reload_failed(std::vector<std::string> errors, const Now& now) {
    Step step;
    ++reload_.count;
    ++reload_.failures;
    reload_.ok = false;
    reload_.at_ms = now.unix_ms;
    reload_.errors = std::move(errors);
    say(step, core::LogLevel::Error, "zones", "reload failed with {} error(s); still serving the previous configuration",
        reload_.errors.size());
    return step;
}

Step Controller::reload(std::shared_ptr<const zones::Catalog> catalog, Probes probes, const Now& now) {
    Step step;
    ++reload_.count;
    // The active catalog's health as of now (read through the staged remap when
    // a staged reload is replaced by this one); it keeps answering meanwhile.
    auto current = probe_health(probes);
    staged_.reset();
    frozen_ = std::move(current);
    Staged s;
    s.catalog = std::move(catalog);
    std::map<std::string, std::size_t> by_key;
    for (std::size_t i = 0; i < s.catalog->endpoints.size(); ++i) by_key[s.catalog->endpoints[i].key] = i;
    s.remap.assign(catalog_->endpoints.size(), -1);
    for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i)
        if (auto it = by_key.find(catalog_->endpoints[i].key); it != by_key.end()) s.remap[i] = int64_t(it->second);
    // The first round of the new endpoints: each check's timeout, and a second for the results to arrive.
    core::Millis longest{0};
    for (auto& z : s.catalog->zones)
        for (auto& [name, spec] : z.checks) longest = std::max(longest, spec.timeout);
    s.deadline = now.mono + longest + std::chrono::seconds(1);
    std::size_t kept = std::count_if(s.remap.begin(), s.remap.end(), [](int64_t j) { return j >= 0; });
    std::size_t fresh = s.catalog->endpoints.size() - kept;
    if (fresh && serving_)
        say(step, core::LogLevel::Info, "zones",
            "{} new endpoint(s) get their first probe round before the reloaded answers are published", fresh);
    staged_ = std::move(s);
    step.retarget = true;
    reload_.ok = true;
    reload_.at_ms = now.unix_ms;
    reload_.errors.clear();
    reload_.staged = true;
    if (!serving_) {
        // Not answering yet: nothing to keep serving, take it now.
        auto cat = staged_->catalog;
        staged_.reset();
        frozen_.clear();
        commit(std::move(cat), {}, now, step);
        return step;
    }
    return step;
}

// True when every endpoint the staged catalog probes has a first result, or its
// first round ran out of time. `probes` is indexed like the staged catalog.
bool Controller::staged_ready(Probes probes, const Now& now) const {
    if (!staged_) return false;
    if (now.mono >= staged_->deadline) return true;
    auto& cat = *staged_->catalog;
    for (std::size_t i = 0; i < cat.endpoints.size(); ++i) {
        if (i < probed_.size() && !probed_[i]) continue;  // a peer probes it
        if (!probed_endpoint_ready(probes, i, now)) return false;
    }
    return true;
}

void Controller::commit(std::shared_ptr<const zones::Catalog> loaded, Probes probes, const Now& now, Step& step) {
    // Carry service states over by key so a reload never flips an answer.
    std::map<std::string, policy::ServiceState> old_states;
    for (std::size_t i = 0; i < catalog_->services.size() && i < states_.size(); ++i)
        old_states[catalog_->services[i].key] = states_[i];
    catalog_ = with_serials(std::move(loaded), step);
    file_catalog_ = catalog_;
    with_runtime_txt(true, now, step);
    states_.assign(catalog_->services.size(), {});
    for (std::size_t i = 0; i < catalog_->services.size(); ++i)
        if (auto it = old_states.find(catalog_->services[i].key); it != old_states.end()) states_[i] = it->second;
    // Overrides and drains of endpoints that no longer exist are dropped; so are
    // the counters of removed endpoints and services (one that comes back starts at 0).
    std::set<std::string> keys, service_keys;
    for (auto& e : catalog_->endpoints) {
        keys.insert(e.key);
        keys.insert(pool_key(*catalog_, e));
    }
    for (auto& s : catalog_->services) service_keys.insert(s.key);
    std::erase_if(overrides_, [&](auto& kv) { return !keys.count(kv.first); });
    std::erase_if(drains_, [&](auto& kv) { return !keys.count(kv.first); });
    std::erase_if(transitions_, [&](auto& kv) { return !keys.count(kv.first); });
    std::erase_if(endpoint_states_, [&](auto& kv) { return !keys.count(kv.first); });
    std::erase_if(service_changes_, [&](auto& kv) { return !service_keys.count(kv.first); });
    // A reload may change a TTL: a drain waits for the highest one ever served.
    for (auto& [key, d] : drains_) d.highest_ttl = std::max(d.highest_ttl, highest_ttl(key));
    evaluations_.clear();
    update_resolved();
    reload_.ok = true;
    reload_.at_ms = now.unix_ms;
    reload_.errors.clear();
    reload_.staged = false;
    step.persist = true;
    // A new catalog is a new View even when no answer of a service moved (static
    // records, or zones without services).
    if (serving_) evaluate_and_publish(probes, nullptr, true, now, step, true);
    say(step, core::LogLevel::Info, "zones", "reloaded {} zone(s), {} service(s), {} endpoint(s)",
        catalog_->zones.size(), catalog_->services.size(), catalog_->endpoints.size());
}

// ---- probes ----------------------------------------------------------------------------

std::vector<probes::ProbeTarget> Controller::probe_targets() {
    auto& cat = probed_catalog();
    std::vector<probes::ProbeTarget> out;
    out.reserve(cat.endpoints.size());
    probed_.assign(cat.endpoints.size(), true);
    address_targets_.clear();
    std::set<std::string> live_address_keys;
    target_ranges_.assign(cat.endpoints.size(), {0, 0});
    probed_size_ = cat.endpoints.size();
    std::map<std::string, bool> now_probed;
    for (std::size_t i = 0; i < cat.endpoints.size(); ++i) {
        auto& ref = cat.endpoints[i];
        if (cluster_ && !cluster_->probes(ref.key)) {
            probed_[i] = false;
            takeover_initial_.erase(ref.key);
            continue;
        }
        // Taking an endpoint over from a peer: start from the cluster's verdict,
        // not from "down until proven up", so nothing flips.
        if (cluster_ && !probed_keys_.count(ref.key))
            if (auto st = cluster_->last_state(ref.key)) takeover_initial_[ref.key] = *st;
        auto& zone = cat.zones[ref.zone];
        auto& ep = cat.endpoint(core::EndpointIndex(i));
        probes::ProbeTarget t;
        t.key = ref.key;
        t.index = core::EndpointIndex(i);
        t.address = ep.check_address.to_string();
        t.host = ep.probe_host;
        auto persisted = persisted_initial_.find(ref.key);
        for (auto& name : ep.checks) {
            auto it = zone.checks.find(name);
            if (it == zone.checks.end()) continue;
            auto spec = it->second;
            // Until its first result, an endpoint is what it was when we stopped.
            if (persisted != persisted_initial_.end()) spec.initial = persisted->second;
            if (auto tk = takeover_initial_.find(ref.key); tk != takeover_initial_.end()) spec.initial = tk->second;
            t.checks.push_back(std::move(spec));
        }
        now_probed[ref.key] = true;
        if (!ep.hostname) {
            out.push_back(std::move(t));
            continue;
        }
        // Each current address of the hostname is a target of its own.
        auto r = resolutions_.find(ep.hostname->to_key());
        if (r == resolutions_.end()) continue;
        target_ranges_[i] = {uint32_t(address_targets_.size()), uint32_t(r->second.addresses.size())};
        auto current = endpoint_states_.find(ref.key);
        for (auto& a : r->second.addresses) {
            probes::ProbeTarget at = t;
            at.key = ref.key + "@" + a.to_string();
            at.address = a.to_string();
            // A new address of an endpoint whose state is known starts in that
            // state, moved by rise/fall like the endpoint itself: an "all" endpoint
            // does not go down because its load balancer got one more address, and
            // a down endpoint whose name comes back needs `rise` good results.
            // Decided once per target, so its checks stay equal across retargets.
            auto [init, fresh] = address_initial_.try_emplace(at.key);
            if (fresh && serving_ && current != endpoint_states_.end()) init->second = {current->second.first, true};
            else if (fresh) init->second = {at.checks.empty() ? core::HealthState::Down : at.checks[0].initial, false};
            for (auto& spec : at.checks) {
                spec.initial = init->second.first;
                spec.initial_known = init->second.second;
            }
            live_address_keys.insert(at.key);
            at.index = core::EndpointIndex(cat.endpoints.size() + address_targets_.size());
            address_targets_.push_back({i, a, at.key});
            out.push_back(std::move(at));
        }
    }
    probed_keys_ = std::move(now_probed);
    std::erase_if(address_initial_, [&](auto& kv) { return !live_address_keys.count(kv.first); });
    return out;
}

// ---- endpoint hostnames ---------------------------------------------------------------

std::size_t Controller::endpoint_of_probe(std::size_t p) const {
    if (p < probed_size_) return p;
    std::size_t k = p - probed_size_;
    return k < address_targets_.size() ? address_targets_[k].endpoint : SIZE_MAX;
}

core::EndpointHealth Controller::probed_endpoint(Probes probes, std::size_t j) const {
    auto& cat = probed_catalog();
    auto& ep = cat.endpoint(core::EndpointIndex(j));
    if (!ep.hostname) return j < probes.size() ? probes[j] : core::EndpointHealth{};
    std::string name = ep.hostname->to_key();
    auto r = resolutions_.find(name);
    std::vector<AddressProbe> list;
    if (j < target_ranges_.size() && j < cat.endpoints.size() && probed_size_ == cat.endpoints.size()) {
        auto [first, count] = target_ranges_[j];
        for (uint32_t k = first; k < first + count && k < address_targets_.size(); ++k) {
            std::size_t p = probed_size_ + k;
            list.push_back({address_targets_[k].address, p < probes.size() ? &probes[p] : nullptr});
        }
    }
    bool all = false;
    auto& zone = cat.zones[cat.endpoints[j].zone];
    for (auto& c : ep.checks)
        if (auto it = zone.checks.find(c); it != zone.checks.end() && it->second.all_addresses) all = true;
    auto lost = lost_addresses_at_.find(name);
    return hostname_health(name, r == resolutions_.end() ? nullptr : &r->second, list, all,
                           lost == lost_addresses_at_.end() ? core::TimePoint{} : lost->second);
}

bool Controller::probed_endpoint_ready(Probes probes, std::size_t j, const Now& now) const {
    auto& cat = probed_catalog();
    auto& ep = cat.endpoint(core::EndpointIndex(j));
    if (ep.checks.empty()) return true;
    if (!ep.hostname) return j < probes.size() && probes[j].confirmed;
    auto r = resolutions_.find(ep.hostname->to_key());
    if (r == resolutions_.end() || r->second.state == core::ResolveState::Pending) return false;
    if (now.mono >= address_deadline_) return true;
    if (j >= target_ranges_.size()) return false;
    auto [first, count] = target_ranges_[j];
    for (uint32_t k = first; k < first + count; ++k) {
        std::size_t p = probed_size_ + k;
        if (p >= probes.size() || !probes[p].confirmed) return false;
    }
    return true;
}

bool Controller::hostnames_ready(Probes probes, const Now& now) const {
    if (!catalog_) return true;
    auto& cat = probed_catalog();
    for (std::size_t j = 0; j < cat.endpoints.size(); ++j) {
        if (!cat.endpoint(core::EndpointIndex(j)).hostname) continue;
        if (j < probed_.size() && !probed_[j]) continue;  // a peer probes it
        if (!probed_endpoint_ready(probes, j, now)) return false;
    }
    return true;
}

std::vector<std::string> Controller::hostnames() const {
    std::set<std::string> names;
    for (auto* cat : {catalog_.get(), staged_ ? staged_->catalog.get() : nullptr}) {
        if (!cat) continue;
        for (std::size_t i = 0; i < cat->endpoints.size(); ++i)
            if (auto& h = cat->endpoint(core::EndpointIndex(i)).hostname) names.insert(h->to_key());
    }
    return {names.begin(), names.end()};
}

const core::Resolution* Controller::resolution(const std::string& name) const {
    auto it = resolutions_.find(name);
    return it == resolutions_.end() ? nullptr : &it->second;
}

std::vector<std::pair<core::IpAddress, std::string>> Controller::probed_addresses(core::EndpointIndex index) const {
    std::vector<std::pair<core::IpAddress, std::string>> out;
    if (!catalog_ || index >= catalog_->endpoints.size()) return out;
    std::size_t j = index;
    if (staged_) {
        if (staged_->remap[index] < 0) return out;
        j = std::size_t(staged_->remap[index]);
    }
    if (j >= target_ranges_.size()) return out;
    auto [first, count] = target_ranges_[j];
    for (uint32_t k = first; k < first + count && k < address_targets_.size(); ++k)
        out.emplace_back(address_targets_[k].address, address_targets_[k].key);
    return out;
}

void Controller::update_resolved() {
    resolved_.clear();
    if (!catalog_) return;
    // Names no catalog uses any more leave with their endpoints (the resolver drops them too).
    auto names = hostnames();
    std::set<std::string> used(names.begin(), names.end());
    std::erase_if(resolutions_, [&](auto& kv) { return !used.count(kv.first); });
    std::erase_if(lost_addresses_at_, [&](auto& kv) { return !used.count(kv.first); });
    bool any = false;
    for (std::size_t i = 0; i < catalog_->endpoints.size() && !any; ++i)
        any = catalog_->endpoint(core::EndpointIndex(i)).hostname.has_value();
    if (!any) return;
    resolved_.resize(catalog_->endpoints.size());
    for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
        auto& h = catalog_->endpoint(core::EndpointIndex(i)).hostname;
        if (!h) continue;
        if (auto r = resolutions_.find(h->to_key()); r != resolutions_.end()) resolved_[i] = resolved_of(r->second);
        else resolved_[i].state = "pending";
    }
}

Step Controller::resolved(std::span<const core::Resolution> changed, Probes probes, const Now& now) {
    Step step;
    bool moved = false;  // addresses or their TTL cap changed: answers may move
    for (auto& r : changed) {
        auto [it, fresh] = resolutions_.try_emplace(r.name, r);
        core::Resolution before = fresh ? core::Resolution{} : it->second;
        it->second = r;
        if (fresh || before.addresses != r.addresses) {
            step.retarget = true;
            moved = true;
            if (!before.addresses.empty() && r.addresses.empty()) lost_addresses_at_[r.name] = now.mono;
        }
        if (resolve::flattened_ttl_cap(before) != resolve::flattened_ttl_cap(r)) moved = true;
        if (before.state != r.state) moved = true;
        // One line per change of what the name resolves to or of its state, not per refresh.
        std::string list;
        for (auto& a : r.addresses) list += (list.empty() ? "" : " ") + a.to_string();
        if (r.state == core::ResolveState::Ok && (before.addresses != r.addresses || before.state != r.state))
            say(step, core::LogLevel::Info, "resolve", "{}: {} (TTL {} s, from {})", r.name, list, r.ttl, r.server);
        else if (r.state != before.state && r.state == core::ResolveState::Failing)
            say(step, core::LogLevel::Warning, "resolve", "{}: {}{}", r.name, r.error,
                list.empty() ? std::string("; no addresses yet") : "; keeping " + list);
        else if (r.state == core::ResolveState::Negative && (before.state != r.state || before.error != r.error))
            say(step, core::LogLevel::Warning, "resolve", "{}: {}; the endpoint has no addresses", r.name, r.error);
    }
    if (step.retarget) {
        // The new addresses' first results are due within a check round.
        core::Millis longest{0};
        for (auto& z : probed_catalog().zones)
            for (auto& [name, spec] : z.checks) longest = std::max(longest, spec.timeout);
        address_deadline_ = now.mono + longest + std::chrono::seconds(1);
    }
    if (!moved || !catalog_) return step;
    update_resolved();
    if (commit_if_ready(probes, now, step)) return step;
    if (serving_) evaluate_and_publish(probes, nullptr, true, now, step);
    return step;
}

std::vector<core::EndpointHealth> Controller::probe_health(Probes probes) const {
    const std::size_t n = catalog_ ? catalog_->endpoints.size() : 0;
    std::vector<core::EndpointHealth> out(n);
    if (staged_) {
        // The monitor probes the staged catalog's endpoints: look ours up there.
        for (std::size_t i = 0; i < n; ++i) {
            int64_t j = staged_->remap[i];
            if (j >= 0 && (std::size_t(j) < probes.size() || probed_catalog().endpoint(core::EndpointIndex(j)).hostname))
                out[i] = probed_endpoint(probes, std::size_t(j));
            else if (i < frozen_.size()) out[i] = frozen_[i];
        }
        return out;
    }
    for (std::size_t i = 0; i < n; ++i)
        if (i < probes.size() || catalog_->endpoint(core::EndpointIndex(i)).hostname) out[i] = probed_endpoint(probes, i);
    return out;
}

std::vector<LocalVerdict> Controller::local_verdicts(Probes probes, std::vector<core::EndpointHealth>& storage) const {
    storage = probe_health(probes);
    std::vector<LocalVerdict> out(storage.size());
    for (std::size_t i = 0; i < storage.size(); ++i) {
        // What the probes run on now (not the split's wish, which may be ahead
        // of a retarget): peers and GET /v1/cluster hear what is really probed here.
        out[i] = {&catalog_->endpoints[i].key, !cluster_ || probed_here(i), &storage[i]};
    }
    return out;
}

// Probes, then the cluster's quorum, then the operator's overrides.
std::vector<core::EndpointHealth> Controller::composed_health(Probes probes) const {
    auto out = probe_health(probes);
    if (!catalog_) return out;
    if (cluster_) {
        std::vector<LocalVerdict> local(out.size());
        std::vector<core::EndpointHealth> own = out;
        for (std::size_t i = 0; i < out.size(); ++i) {
            local[i] = {&catalog_->endpoints[i].key, probed_here(i), &own[i]};
        }
        cluster_->combine(local, out);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto* o = override_for(catalog_->endpoints[i]);
        if (!o || o->state == core::Override::Auto) continue;
        // An operator's word wins over every vantage point.
        bool up = o->state == core::Override::ForceUp;
        auto& h = out[i];
        h.reason = std::string(up ? "forced up by operator" : "forced down by operator") +
                   (h.reason.empty() ? "" : " (probe: " + h.reason + ")");
        h.state = up ? core::HealthState::Up : core::HealthState::Down;
        h.suspect = false;
        h.degraded = false;
        h.confirmed = true;
        // An operator's "down" is not a probe that may be wrong: even the all-down answer leaves it out.
        if (!up) h.drained = true;
    }
    return out;
}

// A drained endpoint is out of every answer.
void Controller::apply_drains(std::vector<core::EndpointHealth>& health) const {
    if (drains_.empty()) return;
    for (std::size_t i = 0; i < health.size(); ++i) {
        if (!drains_.count(catalog_->endpoints[i].key)) continue;
        auto& h = health[i];
        h.drained = true;
        h.state = core::HealthState::Down;
        h.suspect = false;
        h.degraded = false;
        h.reason = "drained by operator";
    }
}

std::vector<core::EndpointHealth> Controller::effective_health(Probes probes) const {
    auto h = composed_health(probes);
    apply_drains(h);
    return h;
}

const OverrideInfo* Controller::override_for(const zones::EndpointRef& ref) const {
    if (overrides_.empty()) return nullptr;
    if (auto it = overrides_.find(ref.key); it != overrides_.end()) return &it->second;
    if (auto it = overrides_.find(pool_key(*catalog_, ref)); it != overrides_.end()) return &it->second;
    return nullptr;
}

const DrainInfo* Controller::drain_for(const std::string& key) const {
    auto it = drains_.find(key);
    return it == drains_.end() ? nullptr : &it->second;
}

int64_t Controller::endpoint_since_ms(core::EndpointIndex index, const core::EndpointHealth& h, const Now& now) const {
    if (index < catalog_->endpoints.size())
        if (auto it = endpoint_states_.find(catalog_->endpoints[index].key);
            it != endpoint_states_.end() && it->second.first == h.state)
            return it->second.second;
    return now.to_unix_ms(h.since);
}

// Endpoint events: a change of the state after probes, quorum and overrides.
void Controller::endpoint_transitions(const std::vector<core::EndpointHealth>& composed, const Now& now, Step& step) {
    for (std::size_t i = 0; i < composed.size(); ++i) {
        auto& ref = catalog_->endpoints[i];
        auto& h = composed[i];
        auto [it, fresh] = endpoint_states_.try_emplace(ref.key, h.state, now.to_unix_ms(h.since));
        if (fresh || it->second.first == h.state) continue;
        auto before = it->second.first;
        it->second = {h.state, now.unix_ms};
        ++transitions_[ref.key];
        persisted_endpoints_.erase(ref.key);  // probed now: the file's guess is over
        step.persist = true;
        say(step, core::LogLevel::Info, "probes", "endpoint {}: {} → {} ({})", ref.key, core::to_string(before),
            core::to_string(h.state), h.reason);
        auto& zone = catalog_->zones[ref.zone];
        for (auto s : services_using(*catalog_, core::EndpointIndex(i)))
            emit(zone, zone.services[catalog_->services[s].service], "endpoint", ref.key, core::to_string(before),
                 core::to_string(h.state), h.reason, now, step);
    }
}

// ---- evaluation and publishing ----------------------------------------------------

bool Controller::evaluate(const std::vector<core::EndpointHealth>& health, const std::vector<std::size_t>* which,
                          const Now& now, Step& step) {
    bool any = false;
    if (evaluations_.size() != catalog_->services.size()) {
        evaluations_.assign(catalog_->services.size(), {});
        states_.resize(catalog_->services.size());
        which = nullptr;
        any = true;
    }
    auto one = [&](std::size_t i) {
        auto& ref = catalog_->services[i];
        auto& zone = catalog_->zones[ref.zone];
        auto& service = zone.services[ref.service];
        // A stable seed per service: shuffles change when health does, not on every tick.
        auto seed = std::hash<std::string>{}(ref.key) ^ options_.seed_salt;
        auto ev = policy::evaluate(zone, service, health, now.mono, states_[i], seed, resolved_);
        if (ev.changed) {
            bool first = states_[i].label.empty();
            std::string before = first ? std::string("(start)") : states_[i].label;
            if (before == ev.decision.label)  // only a subnet rule moved
                say(step, core::LogLevel::Info, "policy", "{}: subnet answers changed ({})", title(service),
                    describe_subnets(ev));
            else
                say(step, core::LogLevel::Info, "policy", "{}: {} → {} ({})", title(service), before,
                    ev.decision.label, ev.decision.reason);
            if (!first) {
                ++service_changes_[ref.key];
                emit(zone, service, "service", "", before, ev.decision.label, ev.decision.reason, now, step);
            }
            step.persist = true;
        }
        const bool moved = ev.changed && !states_[i].label.empty() && states_[i].label != ev.decision.label;
        auto& episode = warnings_[ref.key];
        switch (warning_step(episode, ev.early_warning, moved, now.mono)) {
            case WarningEdge::Raised: {
                auto why = suspects(zone, service, health);
                say(step, core::LogLevel::Warning, "policy", "{}: early warning: {}", title(service), why);
                emit(zone, service, "early-warning", "", ev.decision.label, ev.decision.label, why, now, step);
                break;
            }
            case WarningEdge::Cleared: {
                std::string why = "no answered endpoint failing or degraded for " + core::format_duration(kWarningCalm);
                say(step, core::LogLevel::Info, "policy", "{}: warning cleared: {}", title(service), why);
                emit(zone, service, "warning-cleared", "", ev.decision.label, ev.decision.label, why, now, step);
                break;
            }
            case WarningEdge::None: break;
        }
        if (episode.calm_since) ev.time_dependent = true;  // the tick clears it once calm long enough
        if (!same_answer(ev, evaluations_[i])) any = true;
        states_[i] = ev.state;
        evaluations_[i] = std::move(ev);
    };
    if (which) {
        for (auto i : *which)
            if (i < catalog_->services.size()) one(i);
    } else {
        for (std::size_t i = 0; i < catalog_->services.size(); ++i) one(i);
    }
    return any;
}

void Controller::evaluate_and_publish(Probes probes, const std::vector<std::size_t>* which, bool health_moved,
                                      const Now& now, Step& step, bool new_catalog, Xfr xfr) {
    auto composed = composed_health(probes);
    if (serving_) endpoint_transitions(composed, now, step);
    auto health = composed;
    apply_drains(health);
    const auto started = std::chrono::steady_clock::now();
    bool changed = evaluate(health, which, now, step);
    if (changed && core::log_level() <= core::LogLevel::Debug)
        say(step, core::LogLevel::Debug, "policy", "{} service(s) evaluated in {:.1f} ms",
            which ? which->size() : catalog_->services.size(),
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    update_drains(now, changed, step);
    if (changed || new_catalog) build_snapshot(health, true, step, new_catalog ? Xfr::Now : xfr);
    else if (health_moved && options_.explain) build_snapshot(health, false, step);  // explain shows health too
}

void Controller::build_snapshot(const std::vector<core::EndpointHealth>& health, bool new_view, Step& step, Xfr xfr) {
    if (new_view || !view_) {
        const int64_t now_unix = std::time(nullptr);
        keys_at(now_unix, step);
        if (xfr == Xfr::Later && view_ && options_.transferred) {
            xfr_due_ = true;
        } else if (xfr != Xfr::Done) {
            xfr_versions(now_unix, step);  // may bump serials (a new catalog_) before the View is built
            xfr_due_ = false;
        }
        dns::ViewOptions vo;
        vo.now_unix = now_unix;
        vo.udp_payload_size = options_.udp_payload_size;
        vo.zone_ids = zone_ids();
        vo.geo = geo_;
        vo.signing = signing_now_;
        vo.signatures = signatures_;
        vo.previous = view_;  // geo answer counters and signing carry over
        vo.state_signature_budget = kStateSignatureBudget + signed_ahead_;
        vo.prerender_budget = render_deferred_ ? SIZE_MAX : options_.prerender_budget;
        const auto started = std::chrono::steady_clock::now();
        view_ = dns::build_view(catalog_, evaluations_, ++view_generation_, vo);
        view_build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (core::log_level() <= core::LogLevel::Debug) {
            const auto made = dns::prerender_counts(*view_);
            say(step, core::LogLevel::Debug, "dns",
                "View {} built in {:.1f} ms: {} owner name(s) pre-rendered, {} copied from the View before, {} left "
                "to the general renderer",
                view_generation_, view_build_seconds_ * 1000, made.rendered, made.copied, made.deferred);
        }
        pending_done_ = signed_ahead_ = 0;
        render_deferred_ = false;
    }
    auto snap = std::make_shared<dns::Snapshot>();
    snap->version = ++snapshot_version_;
    snap->view = view_;
    snap->transfers = transfers_;
    if (options_.explain) {
        auto st = std::make_shared<dns::ExplainState>();
        st->catalog = catalog_;
        st->view = view_;
        st->evaluations = dns::view_evaluations(view_);  // no copy: the View's own
        st->health = health;
        snap->explain = std::move(st);
    }
    snapshot_ = snap;
    step.snapshot = std::move(snap);
}

// The keys as their timing says at `now_unix` (what the next View and transfer sign
// with), and when that changes next.
void Controller::keys_at(int64_t now_unix, Step& step) {
    next_key_event_unix_ = 0;
    if (!signing_) {
        signing_now_ = nullptr;
        return;
    }
    auto now_keys = std::make_shared<dns::SigningKeys>();
    std::map<std::string, dnssec::KeyState> states;
    for (auto& [origin, keys] : *signing_) {
        // Say what changed for each key since the last View (a rollover's steps).
        for (auto& k : keys.keys) {
            const bool sep = k.signer.flags() == dnssec::kSepKeyFlags;
            auto st = dnssec::key_state(k.timing, sep, now_unix);
            std::string id = keys.zone.to_key() + " " + std::to_string(k.signer.key_tag());
            auto was = key_states_.find(id);
            if (was != key_states_.end() && !(was->second == st))
                say(step, core::LogLevel::Info, "dnssec", "zone {}: {} {} is now {}{}", keys.zone.to_key(),
                    dnssec::to_string(k.role), k.signer.key_tag(), dnssec::state_text(st, sep),
                    st.published ? "" : " (past its Delete time: left out of the zone; its files stay)");
            states[id] = st;
        }
        now_keys->emplace(origin, keys.at(now_unix));
        if (auto t = keys.next_event(now_unix); t && (next_key_event_unix_ == 0 || *t < next_key_event_unix_))
            next_key_event_unix_ = *t;
    }
    signing_now_ = std::move(now_keys);
    key_states_ = std::move(states);
}

// Every published change: render each transferred zone, add a version (new
// serial, RFC 1982, never backwards) when it changed, queue a NOTIFY, and make
// the View's SOA carry the same serial. The serial and a digest of the answers
// go to the state file, so a restart that serves other answers bumps the serial.
void Controller::xfr_versions(int64_t now_unix, Step& step) {
    if (!options_.transferred) return;
    std::map<std::string, xfr::ZoneHistory> next;
    std::vector<std::pair<core::Name, xfr::ZoneHistory>> served;
    std::shared_ptr<zones::Catalog> patched;
    for (std::size_t zi = 0; zi < catalog_->zones.size(); ++zi) {
        auto& z = catalog_->zones[zi];
        std::string origin = origin_of(z.origin);
        // Only zones that secondaries transfer need versions: the others cost
        // nothing per health change (10,000 zones are not rendered per probe result).
        if (!options_.transferred(origin)) continue;
        auto content = xfr::render_zone(z, evaluations_);
        // A signed zone goes out signed: the secondaries serve what they receive.
        const dnssec::ZoneKeys* keys = nullptr;
        if (z.dnssec().sign && signing_now_)
            if (auto k = signing_now_->find(z.origin.wire()); k != signing_now_->end() && !k->second.keys.empty())
                keys = &k->second;
        xfr::RrsigFn rrsig = [&](const dnssec::Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                                 const zones::RdataList& rdatas) {
            return dns::transfer_signature(view_.get(), *signatures_, z.dnssec(), signer, owner, type, ttl, rdatas,
                                           now_unix);
        };
        std::optional<dnssec::Nsec3Params> nsec3;
        if (z.dnssec().denial == zones::DenialKind::Nsec3) nsec3 = dnssec::Nsec3Params{z.dnssec().nsec3_salt, z.dnssec().nsec3_iterations};
        if (keys) xfr::sign_content(content, *keys, dnssec::negative_ttl(z.soa.minimum, z.soa.ttl), rrsig, nsec3);
        const uint64_t digest = xfr::content_digest(content);
        auto it = histories_.find(origin);
        xfr::ZoneHistory h = it != histories_.end() ? it->second : xfr::ZoneHistory(options_.xfr_history);
        if (h.empty()) {
            // After a restart that serves other answers, secondaries still hold the
            // old version under the old serial: move on.
            auto m = marks_.find(origin);
            if (m != marks_.end() && m->second.answers_digest && *m->second.answers_digest != digest)
                content.soa = xfr::with_serial(content.soa, z.soa.serial + 1);
        }
        bool added = h.update(content);
        if (keys && (added || h.current().soa_signatures.empty()))
            h.sign_current_soa(xfr::soa_signatures(h.current().soa, *keys, rrsig));
        if (added) {
            say(step, core::LogLevel::Info, "xfr", "{}: serial {} ({} record(s){})", origin, h.current().serial,
                content.records.size() + 1, h.versions().size() > 1 ? ", answers changed" : "");
            step.notifies.push_back({z.origin, h.current().soa});
            step.persist = true;
        }
        uint32_t serial = h.current().serial;
        if (serial != z.soa.serial) {
            if (!patched) patched = std::make_shared<zones::Catalog>(*catalog_);
            // The model only: the View and the transfers take the SOA from it. The node
            // table stays shared with the catalog before (its apex SOA record keeps the
            // serial it had), so a flip copies no records and the View's signing of the
            // zone carries over (dns::detail::SignedZone); only the SOA is signed anew.
            patched->zones[zi].soa.serial = serial;
        }
        ZoneMarks& marks = marks_[origin];
        marks.serial = serial;
        marks.answers_digest = digest;
        served.emplace_back(z.origin, h);
        next.emplace(origin, std::move(h));
    }
    if (patched) catalog_ = patched;
    histories_ = std::move(next);
    transfers_ = xfr::TransferServer::make_zones(std::move(served));
}

// Stable per-zone ids across reloads, so per-zone counters keep counting.
std::vector<uint32_t> Controller::zone_ids() {
    std::vector<uint32_t> ids;
    for (auto& z : catalog_->zones) {
        std::string origin = origin_of(z.origin);
        auto it = std::find(zone_names_.begin(), zone_names_.end(), origin);
        if (it == zone_names_.end()) {
            zone_names_.push_back(origin);
            it = zone_names_.end() - 1;
        }
        ids.push_back(uint32_t(it - zone_names_.begin()));
    }
    return ids;
}

std::optional<std::string> Controller::start_reason(const StartInputs& in, Probes probes, const Now& now) const {
    if (serving_ || !catalog_) return std::nullopt;
    if (catalog_->endpoints.empty()) return "no endpoints to probe";
    if (warm_) {
        // The state file has endpoint states, not addresses: resolve first (bounded by the timeout).
        if (!in.names_settled) return std::nullopt;
        return "warm restart from the state file; answers use the short TTL until probes confirm them";
    }
    if (!in.first_round_done || !hostnames_ready(probes, now)) return std::nullopt;
    if (cluster_ && !cluster_->settled()) return std::nullopt;  // peers' verdicts first, or their timeout
    return cluster_ ? "first probe round complete, peers heard from" : "first probe round complete";
}

std::string Controller::start_wait() const {
    auto names = hostnames().size();
    return fmt::format("first probe round of {} endpoint(s){} before answering", catalog_->endpoints.size(),
                       names ? fmt::format(" (resolving {} hostname(s) first)", names) : std::string());
}

Step Controller::start(Probes probes, const Now& now) {
    Step step;
    if (serving_) return step;
    serving_ = true;
    // Commands the peers made while this instance was away apply from the first answer.
    if (cluster_) merge_into(cluster_->peer_commands(), now, step);
    // Peers' verdicts heard before the first answer may already have narrowed
    // the split (cluster_changed() is not called before serving); their polls
    // may bring nothing new later, so apply it now: instances started together
    // would otherwise each keep probing everything.
    if (split_moved()) step.retarget = true;
    // Seed the endpoint states silently: the start is not a change.
    auto composed = composed_health(probes);
    for (std::size_t i = 0; i < composed.size(); ++i) {
        auto& key = catalog_->endpoints[i].key;
        auto it = endpoint_states_.find(key);
        if (it == endpoint_states_.end() || it->second.first != composed[i].state)
            endpoint_states_[key] = {composed[i].state, now.to_unix_ms(composed[i].since)};
    }
    evaluations_.clear();
    evaluate_and_publish(probes, nullptr, true, now, step);
    if (!step.snapshot) build_snapshot(effective_health(probes), true, step);
    return step;
}

void Controller::published(uint64_t version, const Now& now) {
    for (auto& [key, d] : drains_)
        if (d.out_from_version && !d.left_answers && version >= *d.out_from_version) d.left_answers = now.mono;
}

// ---- drains -----------------------------------------------------------------------------

uint32_t Controller::highest_ttl(const std::string& key) const {
    uint32_t ttl = 0;
    for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
        if (catalog_->endpoints[i].key != key) continue;
        auto& zone = catalog_->zones[catalog_->endpoints[i].zone];
        for (auto s : services_using(*catalog_, core::EndpointIndex(i)))
            ttl = std::max(ttl, zone.services[catalog_->services[s].service].ttl);
    }
    return ttl;
}

// After an evaluation: a drained endpoint that no answer carries any more leaves
// the answers when the snapshot without it is published (now, when the current
// one already lacks it); it is drained once the highest TTL served has passed.
void Controller::update_drains(const Now& now, bool will_publish, Step& step) {
    for (auto& [key, d] : drains_) {
        if (d.drained()) continue;
        if (!d.left_answers && !d.out_from_version) {
            bool answered = false;
            for (std::size_t i = 0; i < catalog_->endpoints.size() && !answered; ++i) {
                if (catalog_->endpoints[i].key != key) continue;
                auto& ep = catalog_->endpoint(core::EndpointIndex(i));
                for (auto s : services_using(*catalog_, core::EndpointIndex(i)))
                    if (s < evaluations_.size() && answers_endpoint(evaluations_[s], ep)) answered = true;
            }
            if (!answered) {
                if (will_publish || !snapshot_) d.out_from_version = snapshot_version_ + 1;
                else d.left_answers = now.mono;  // the published answers already lack it
            }
        }
        if (drain_complete(d.left_answers, d.highest_ttl, now.mono)) {
            d.drained_at = now.mono;
            step.persist = true;
            say(step, core::LogLevel::Info, "daemon",
                "endpoint {} is drained: out of every answer for {} s, the highest TTL it was served with", key,
                d.highest_ttl);
            for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
                if (catalog_->endpoints[i].key != key) continue;
                auto& zone = catalog_->zones[catalog_->endpoints[i].zone];
                for (auto s : services_using(*catalog_, core::EndpointIndex(i)))
                    emit(zone, zone.services[catalog_->services[s].service], "drained", key, "draining", "drained",
                         fmt::format("out of every answer for {} s (the highest TTL served)", d.highest_ttl), now,
                         step);
            }
        }
    }
}

// ---- health, cluster, time --------------------------------------------------------

bool Controller::commit_if_ready(Probes probes, const Now& now, Step& step) {
    if (!staged_ || !staged_ready(probes, now)) return false;
    auto cat = staged_->catalog;
    staged_.reset();
    frozen_.clear();
    commit(std::move(cat), probes, now, step);
    return true;
}

Step Controller::health_changed(Probes probes, std::span<const probes::HealthChange> changes, const Now& now) {
    Step step;
    if (!catalog_ || commit_if_ready(probes, now, step)) return step;
    if (!serving_) return step;  // the first round decides the start state in one go
    if (staged_ || cluster_) {
        // Indices are the staged catalog's, or a quorum may move any endpoint: all.
        evaluate_and_publish(probes, nullptr, !changes.empty(), now, step, false, Xfr::Later);
        return step;
    }
    std::vector<std::size_t> affected;
    for (auto& c : changes)
        for (auto s : services_touched(*catalog_, core::EndpointIndex(endpoint_of_probe(c.index)))) affected.push_back(s);
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
    evaluate_and_publish(probes, &affected, true, now, step, false, Xfr::Later);
    return step;
}

Step Controller::cluster_changed(Probes probes, const Now& now) {
    Step step;
    if (!catalog_ || !cluster_) return step;
    // Commands made at peers first, so this evaluation already applies them.
    merge_into(cluster_->peer_commands(), now, step);
    // Who probes what follows who is alive.
    if (split_moved()) step.retarget = true;
    if (serving_) evaluate_and_publish(probes, nullptr, true, now, step);
    return step;
}

bool Controller::probed_here(std::size_t i) const {
    // probed_ follows the probed catalog; while staged, ask by key.
    return !staged_ ? (i < probed_.size() && probed_[i]) : probed_keys_.count(catalog_->endpoints[i].key) > 0;
}

bool Controller::split_moved() const {
    if (!cluster_) return false;
    auto& cat = probed_catalog();
    std::vector<bool> want(cat.endpoints.size());
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = cluster_->probes(cat.endpoints[i].key);
    return want != probed_;
}

bool Controller::expire_overrides(const Now& now, Step& step) {
    bool any = false;
    for (auto it = overrides_.begin(); it != overrides_.end();) {
        if (it->second.expires_ms && *it->second.expires_ms <= now.unix_ms) {
            say(step, core::LogLevel::Info, "daemon", "override of {} expired; back to automatic", it->first);
            it = overrides_.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    if (any) step.persist = true;
    return any;
}

Step Controller::tick(Probes probes, const Now& now) {
    Step step;
    if (!catalog_) return step;
    commit_if_ready(probes, now, step);
    bool all = expire_overrides(now, step);
    if (commands_.prune(now.unix_ms, kCommandRetentionMs)) step.persist = true;
    if (!runtime_.empty() && with_runtime_txt(false, now, step) && serving_)
        build_snapshot(effective_health(probes), true, step);
    if (!serving_) return step;
    // Signatures are made again once less than the zone's refresh remains (the cache
    // decides which); a View built every hour at least gets them made in time.
    if (signing_ && view_ && now.unix_ms - resigned_unix_ms_ >= kResignEveryMs) {
        if (resigned_unix_ms_ != 0) build_snapshot(effective_health(probes), true, step);
        resigned_unix_ms_ = now.unix_ms;
    }
    // A health change published its View first: now the transfers (and, when a zone's
    // answers changed, its new serial in a View of its own, and the NOTIFY).
    if (xfr_due_ && view_) {
        xfr_due_ = false;
        auto before = catalog_;
        xfr_versions(std::time(nullptr), step);
        build_snapshot(effective_health(probes), catalog_ != before, step, Xfr::Done);
    }
    // Answers a flip left to the general renderer (over Options::prerender_budget): rendered now.
    if (view_ && dns::deferred_renders(*view_) > 0) {
        say(step, core::LogLevel::Info, "dns",
            "{} owner name(s) answered by the general renderer since the flip, which published them first: "
            "pre-rendering them",
            dns::deferred_renders(*view_));
        render_deferred_ = true;
        build_snapshot(effective_health(probes), true, step);
    }
    // State TXT records a flip left with their previous text: signed a slice per tick,
    // then published.
    if (signing_ && view_ && pending_done_ < dns::pending_signatures(*view_)) {
        pending_done_ = dns::sign_pending(*view_, *signatures_, pending_done_, kPendingPerTick);
        if (pending_done_ >= dns::pending_signatures(*view_)) {
            say(step, core::LogLevel::Info, "dnssec",
                "{} state TXT record(s) signed after the flip, which published the addresses first: publishing them",
                pending_done_);
            signed_ahead_ = pending_done_;
            build_snapshot(effective_health(probes), true, step);
        }
    }
    // A key's timing (Publish, Activate, Inactive, Delete, SyncPublish, SyncDelete) came
    // due: the next View publishes, signs and asks for DS with the keys as they are now.
    // The key files' times are wall-clock seconds, so is this check.
    if (signing_ && view_ && next_key_event_unix_ != 0 && std::time(nullptr) >= next_key_event_unix_) {
        say(step, core::LogLevel::Info, "dnssec", "key timing event at {}: signing with the keys as they are now",
            dnssec::iso_utc(next_key_event_unix_));
        build_snapshot(effective_health(probes), true, step);
    }
    // Health changes are evaluated as they arrive; the tick only serves answers
    // that move with time alone (a hold-down running out, an unstable window
    // closing). Evaluating 10,000 services four times a second costs a tenth of a core.
    std::vector<std::size_t> timed;
    for (std::size_t i = 0; i < evaluations_.size(); ++i)
        if (evaluations_[i].time_dependent) timed.push_back(i);
    bool draining = std::any_of(drains_.begin(), drains_.end(), [](auto& kv) { return !kv.second.drained(); });
    if (all || !timed.empty() || draining) evaluate_and_publish(probes, all ? nullptr : &timed, all, now, step);
    return step;
}

Step Controller::geo_databases(std::shared_ptr<const geo::Databases> databases, Probes probes, const Now& now) {
    (void)now;
    Step step;
    geo_ = std::move(databases);
    if (catalog_ && serving_) build_snapshot(effective_health(probes), true, step);
    return step;
}

// ---- operator commands --------------------------------------------------------------

CommandResult Controller::set_override(const std::string& target, core::Override state, const std::string& reason,
                                       std::optional<core::Millis> expires_in, Probes probes, const Now& now) {
    CommandResult r;
    bool known = false;
    for (auto& e : probed_catalog().endpoints)
        if (e.key == target || pool_key(probed_catalog(), e) == target) known = true;
    if (!known) {
        r.status = 404;
        r.message = "no endpoint or pool '" + target +
                    "'; use a key such as example.com/primary/127.0.0.10 or example.com/primary";
        return r;
    }
    auto c = stamped(CommandKind::Override, target, now);
    c.state = state;
    c.reason = reason;
    if (state != core::Override::Auto && expires_in) c.expires_ms = c.at_ms + expires_in->count();
    apply_command(commands_.record(c), now, r.step);
    if (state == core::Override::Auto) {
        r.message = target + " back to automatic (probes decide)";
    } else {
        r.message = target + " forced " + (state == core::Override::ForceUp ? "up" : "down") +
                    (expires_in ? " for " + core::format_duration(*expires_in) : std::string(" until changed"));
    }
    say(r.step, core::LogLevel::Info, "api", "override: {}{}", r.message, reason.empty() ? "" : " (" + reason + ")");
    r.step.persist = true;
    if (serving_) evaluate_and_publish(probes, nullptr, true, now, r.step);
    return r;
}

CommandResult Controller::drain(const std::string& key, bool undo, Probes probes, const Now& now) {
    CommandResult r;
    bool known = false;
    for (auto& e : probed_catalog().endpoints) known |= e.key == key;
    if (!known) {
        r.status = 404;
        r.message = "no endpoint '" + key + "'; use a key such as example.com/primary/127.0.0.10";
        return r;
    }
    if (undo) {
        auto c = stamped(CommandKind::Drain, key, now);
        c.active = false;
        apply_command(commands_.record(c), now, r.step);
        r.message = key + " is back in answers (when healthy)";
    } else if (!drains_.count(key)) {
        apply_command(commands_.record(stamped(CommandKind::Drain, key, now)), now, r.step);
        r.message = key + " is draining: out of answers now, drained once resolvers' caches expire";
    } else {
        r.message = key + " was already draining";
    }
    say(r.step, core::LogLevel::Info, "api", "drain: {}", r.message);
    r.step.persist = true;
    if (serving_) evaluate_and_publish(probes, nullptr, true, now, r.step);
    return r;
}

CommandResult Controller::release(const std::string& key, Probes probes, const Now& now) {
    CommandResult r;
    for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
        if (catalog_->services[i].key != key) continue;
        apply_command(commands_.record(stamped(CommandKind::Release, key, now)), now, r.step);
        say(r.step, core::LogLevel::Info, "api", "release: {} may return to its first pool", key);
        r.step.persist = true;
        if (serving_) evaluate_and_publish(probes, nullptr, true, now, r.step);
        r.message = key + " released: it returns to the best healthy pool";
        if (i < evaluations_.size()) r.label = evaluations_[i].decision.label;
        return r;
    }
    r.status = 404;
    r.message = "no service '" + key + "'; use a key such as example.com/site";
    return r;
}

// ---- replicated commands (docs/cluster.md "Replicated commands") ----------------------

ReplicatedCommand Controller::stamped(CommandKind kind, const std::string& target, const Now& now) {
    ReplicatedCommand c;
    c.kind = kind;
    c.target = target;
    c.at_ms = commands_.stamp(now.unix_ms);
    c.origin = options_.instance_id;
    return c;
}

bool Controller::apply_command(const ReplicatedCommand& c, const Now& now, Step& step) {
    switch (c.kind) {
        case CommandKind::Override: {
            bool known = false;
            for (auto& e : probed_catalog().endpoints)
                if (e.key == c.target || pool_key(probed_catalog(), e) == c.target) known = true;
            if (!known) return false;
            // Expiry is an absolute time: a record that arrives after it is spent.
            if (c.state == core::Override::Auto || (c.expires_ms && *c.expires_ms <= now.unix_ms))
                overrides_.erase(c.target);
            else
                overrides_[c.target] = {c.state, c.reason, c.at_ms, c.expires_ms};
            return true;
        }
        case CommandKind::Drain: {
            bool known = false;
            for (auto& e : probed_catalog().endpoints) known |= e.key == c.target;
            if (!known) return false;
            if (!c.active) {
                drains_.erase(c.target);
            } else if (!drains_.count(c.target)) {
                DrainInfo d;
                d.since_ms = c.at_ms;
                d.highest_ttl = highest_ttl(c.target);
                drains_[c.target] = d;
            }
            return true;
        }
        case CommandKind::Release:
            for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
                if (catalog_->services[i].key != c.target) continue;
                // A release frees the hold that began before it: a service that
                // moved after the command was made is not released by it.
                if (i < states_.size() && (c.origin == options_.instance_id ||
                                           c.at_ms >= now.to_unix_ms(states_[i].since)))
                    states_[i].released = true;
                else
                    say(step, core::LogLevel::Info, "cluster",
                        "release of {} from {} is older than its current answer; not applied", c.target, c.origin);
                return true;
            }
            return false;
    }
    return false;
}

Step Controller::merge_commands(std::span<const ReplicatedCommand> records, Probes probes, const Now& now) {
    Step step;
    if (merge_into(records, now, step) && serving_) evaluate_and_publish(probes, nullptr, true, now, step);
    return step;
}

bool Controller::merge_into(std::span<const ReplicatedCommand> records, const Now& now, Step& step) {
    if (!catalog_ || records.empty()) return false;  // merged once there is a catalog to apply them to
    std::vector<std::string> rejected;
    auto won = commands_.merge(records, &rejected);
    for (auto& why : rejected) say(step, core::LogLevel::Warning, "cluster", "ignored a peer's command: {}", why);
    if (won.empty()) return false;
    for (auto& c : won) {
        std::string what;
        switch (c.kind) {
            case CommandKind::Override:
                what = c.state == core::Override::Auto ? "back to automatic"
                       : std::string(c.state == core::Override::ForceUp ? "forced up" : "forced down") +
                             (c.expires_ms ? " until " + std::to_string(*c.expires_ms) + " (Unix ms)" : "");
                break;
            case CommandKind::Drain: what = c.active ? "drained" : "undrained"; break;
            case CommandKind::Release: what = "released"; break;
        }
        if (apply_command(c, now, step))
            say(step, core::LogLevel::Info, "cluster", "{} {}: {} by {} at {} (Unix ms){}", to_string(c.kind), c.target,
                what, c.origin.empty() ? "?" : c.origin, c.at_ms, c.reason.empty() ? "" : " (" + c.reason + ")");
        else
            say(step, core::LogLevel::Warning, "cluster",
                "{} {} from {}: no such target here (are the zones the same on every instance?); kept, not applied",
                to_string(c.kind), c.target, c.origin);
    }
    step.persist = true;
    return true;
}

// ---- runtime TXT records ---------------------------------------------------------------

bool Controller::with_runtime_txt(bool reloaded, const Now& now, Step& step) {
    bool dropped = false;
    for (auto& line : runtime_.expire(now.unix_ms)) {
        say(step, core::LogLevel::Info, "api", "txt expired: {}", line);
        dropped = true;
    }
    if (reloaded && file_catalog_)
        for (auto& line : runtime_.retain(*file_catalog_)) {
            say(step, core::LogLevel::Warning, "zones", "txt dropped: {}", line);
            dropped = true;
        }
    if (dropped) step.persist = true;
    // Unchanged on a tick: catalog_ keeps the serials xfr_versions gave it.
    if (reloaded || dropped) catalog_ = runtime_.apply(file_catalog_);
    return dropped;
}

CommandResult Controller::runtime_txt_result(RuntimeTxtOutcome o, const char* verb, Probes probes) {
    CommandResult r;
    r.status = o.status;
    r.message = std::move(o.message);
    if (r.status != 200) return r;
    say(r.step, core::LogLevel::Info, "api", "txt {}: {}", verb, r.message);
    r.step.persist = true;
    if (!o.changed || !file_catalog_) return r;
    catalog_ = runtime_.apply(file_catalog_);
    // Answered at once: a new View (and, for transferred zones, a new serial and NOTIFY).
    if (serving_) build_snapshot(effective_health(probes), true, r.step);
    return r;
}

CommandResult Controller::txt_set(const std::string& name, const std::string& value, std::optional<uint32_t> ttl,
                                  std::optional<core::Millis> for_, Probes probes, const Now& now) {
    if (!file_catalog_) return {503, "no zones loaded yet", "", {}};
    return runtime_txt_result(runtime_.set(*file_catalog_, name, value, ttl, for_, now.unix_ms), "set", probes);
}

CommandResult Controller::txt_del(const std::string& name, const std::optional<std::string>& value, Probes probes,
                                  const Now& /*now*/) {
    if (!file_catalog_) return {503, "no zones loaded yet", "", {}};
    return runtime_txt_result(runtime_.del(*file_catalog_, name, value), "del", probes);
}

// ---- state file ---------------------------------------------------------------------

PersistedState Controller::persisted(Probes probes, const Now& now) const {
    PersistedState s;
    s.written_ms = now.unix_ms;
    s.event_seq = seq_;
    if (catalog_) {
        auto own = probe_health(probes);
        for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
            auto& key = catalog_->endpoints[i].key;
            auto& h = own[i];
            if (!h.confirmed) {
                // Not probed since start: keep what the file said rather than the guess.
                if (auto it = persisted_endpoints_.find(key); it != persisted_endpoints_.end())
                    s.endpoints[key] = it->second;
                continue;
            }
            int64_t since = now.to_unix_ms(h.since);
            if (auto it = endpoint_states_.find(key); it != endpoint_states_.end() && it->second.first == h.state)
                since = it->second.second;
            s.endpoints[key] = {h.state, since, h.reason};
        }
        for (std::size_t i = 0; i < catalog_->services.size() && i < states_.size(); ++i)
            s.services[catalog_->services[i].key] = {states_[i].label, states_[i].active_pool, states_[i].released,
                                                     now.to_unix_ms(states_[i].since)};
    }
    for (auto& [k, o] : overrides_) s.overrides[k] = {o.state, o.reason, o.set_ms, o.expires_ms};
    for (auto& [k, d] : drains_) s.drains[k] = d.since_ms;
    for (auto& [origin, m] : marks_) {
        if (m.serial) s.serials[origin] = *m.serial;
        if (m.static_digest) s.zone_digests[origin] = fmt::format("{:016x}", *m.static_digest);
        if (m.answers_digest) s.zone_digests[origin + std::string(kAnswersSuffix)] = fmt::format("{:016x}", *m.answers_digest);
    }
    s.runtime_txt = runtime_.persisted();
    s.commands = commands_.all();
    s.command_clock_ms = commands_.clock_ms();
    s.has_commands = true;
    return s;
}

// ---- events ---------------------------------------------------------------------------

void Controller::emit(const zones::Zone& zone, const zones::Service& service, const char* kind,
                      const std::string& endpoint, const std::string& from, const std::string& to,
                      const std::string& reason, const Now& now, Step& step) {
    Event e;
    auto& p = e.payload;
    p.seq = ++seq_;
    p.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(now.unix_ms));
    p.event = kind;
    p.zone = origin_of(zone.origin);
    p.service = service.name;
    p.endpoint = endpoint;
    p.from = from;
    p.to = to;
    p.reason = reason;
    e.hooks = service.hooks;
    step.events.push_back(std::move(e));
    step.persist = true;
}

std::string Controller::title(const zones::Service& s) const {
    std::string owner = s.owners.empty() ? std::string("?") : s.owners.front().to_text();
    if (owner.size() > 1 && owner.back() == '.') owner.pop_back();
    return "service " + catalog_->services[s.index].key + " (" + owner + ")";
}

}  // namespace signpost::control
