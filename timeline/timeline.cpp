#include "timeline/timeline.hpp"

#include <algorithm>

namespace signpost::timeline {

namespace {

// What a hook target shows: a URL without its query and user info (they may carry secrets).
std::string shown_target(const std::string& target) {
    auto scheme = target.find("://");
    if (scheme == std::string::npos) return target;  // a command
    std::string out = target.substr(0, target.find_first_of("?#"));
    auto host_start = scheme + 3;
    auto path = out.find('/', host_start);
    auto at = out.rfind('@', path == std::string::npos ? out.size() : path);
    if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
    return out;
}

int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Entry from_event(const hooks::HookEvent& e) {
    Entry out;
    out.time_ms = unix_ms(e.time);
    out.kind = e.event;
    out.zone = e.zone;
    out.service = e.service;
    out.endpoint = e.endpoint;
    out.from = e.from;
    out.to = e.to;
    out.reason = e.reason;
    out.event_seq = e.seq;
    bool warn = false;
    if (e.event == "endpoint") warn = e.to == "down";
    else if (e.event == "service") warn = e.to.rfind("failover:", 0) == 0 || e.to == "all-down";
    else if (e.event == "early-warning") warn = true;
    out.level = warn ? "warning" : "info";
    return out;
}

Entry from_delivery(const hooks::DeliveryOutcome& o, int64_t now_ms) {
    Entry out;
    out.time_ms = now_ms;
    out.kind = "hook";
    out.zone = o.event.zone;
    out.service = o.event.service;
    out.endpoint = o.event.endpoint;
    out.event_seq = o.event.seq;
    out.to = o.ok ? "delivered" : (o.final ? "gave up" : "retrying");
    out.level = o.ok ? "info" : (o.final ? "error" : "warning");
    std::string what = "event " + std::to_string(o.event.seq) + " (" + o.event.event + ") to " + shown_target(o.target);
    if (o.ok)
        out.reason = what + (o.attempt > 1 ? " after " + std::to_string(o.attempt) + " attempts" : "");
    else
        out.reason = what + ": attempt " + std::to_string(o.attempt) + " failed: " + o.error +
                     (o.final ? "; giving up" : "; retrying");
    return out;
}

Entry from_reload(const std::string& trigger, bool ok, bool staged, const std::vector<std::string>& errors,
                  int64_t now_ms) {
    Entry out;
    out.time_ms = now_ms;
    out.kind = "reload";
    out.level = ok ? "info" : "error";
    out.to = ok ? (staged ? "staged" : "loaded") : "failed";
    if (ok) {
        out.reason = trigger + ": " + (staged ? "loaded; waiting for the new endpoints' first probes" : "loaded");
    } else {
        out.reason = trigger + ": still serving the previous configuration";
        std::size_t shown = std::min<std::size_t>(errors.size(), 3);
        for (std::size_t i = 0; i < shown; ++i) out.reason += (i ? "; " : ": ") + errors[i];
        if (errors.size() > shown) out.reason += "; " + std::to_string(errors.size() - shown) + " more";
    }
    return out;
}

Entry from_command(const std::string& kind, const std::string& target, const std::string& message,
                   const std::string& reason, int64_t now_ms) {
    Entry out;
    out.time_ms = now_ms;
    out.kind = kind;
    out.level = "warning";  // a person changed what is answered
    out.endpoint = target;
    out.reason = message + (reason.empty() ? "" : " (" + reason + ")");
    return out;
}

uint64_t Timeline::add(Entry e) {
    e.seq = ++seq_;
    entries_.push_back(std::move(e));
    while (entries_.size() > capacity_) entries_.pop_front();
    return seq_;
}

std::vector<const Entry*> Timeline::since(uint64_t since, std::size_t limit) const {
    if (since > seq_) since = 0;  // numbered by an earlier run
    std::vector<const Entry*> out;
    // Entries are in seq order: find the first one past `since`.
    auto it = std::upper_bound(entries_.begin(), entries_.end(), since,
                               [](uint64_t s, const Entry& e) { return s < e.seq; });
    std::size_t n = std::size_t(entries_.end() - it);
    if (n > limit) it += std::ptrdiff_t(n - limit);
    for (; it != entries_.end(); ++it) out.push_back(&*it);
    return out;
}

int64_t History::bucket_ms() const noexcept {
    int64_t b = options_.window_ms / int64_t(std::max<std::size_t>(options_.buckets, 1));
    return b > 0 ? b : 1;
}

void History::trim(Series& s, int64_t now_ms) const {
    int64_t horizon = now_ms - options_.window_ms;
    // Keep the band that was in force at the window's start (the second starts after it).
    while (s.bands.size() > 1 && s.bands[1].from_ms <= horizon) s.bands.pop_front();
    while (s.bands.size() > options_.max_bands) s.bands.pop_front();
    while (!s.latency.empty() && s.latency.front().start_ms + bucket_ms() <= horizon) s.latency.pop_front();
    while (s.latency.size() > options_.buckets) s.latency.pop_front();
}

void History::state(const std::string& key, const std::string& state, int64_t now_ms) {
    auto& s = series_[key];
    s.last_seen_ms = std::max(s.last_seen_ms, now_ms);
    if (s.bands.empty() || s.bands.back().state != state) s.bands.push_back({now_ms, state});
    trim(s, now_ms);
}

void History::probe(const std::string& key, uint64_t checks_run, double latency_ms, bool ok, int64_t now_ms) {
    auto& s = series_[key];
    s.last_seen_ms = std::max(s.last_seen_ms, now_ms);
    if (checks_run == 0 || checks_run == s.checks_run) return;
    s.checks_run = checks_run;
    int64_t start = now_ms - ((now_ms % bucket_ms()) + bucket_ms()) % bucket_ms();
    if (s.latency.empty() || s.latency.back().start_ms < start) s.latency.push_back({start, 0, 0, 0, 0});
    auto& b = s.latency.back();  // a result dated before the last bucket counts in it
    ++b.count;
    if (!ok) ++b.failures;
    b.sum_ms += latency_ms;
    b.max_ms = std::max(b.max_ms, latency_ms);
    trim(s, now_ms);
}

void History::prune(int64_t now_ms) {
    for (auto it = series_.begin(); it != series_.end();) {
        if (it->second.last_seen_ms + options_.window_ms <= now_ms) {
            it = series_.erase(it);
        } else {
            trim(it->second, now_ms);
            ++it;
        }
    }
}

const History::Series* History::find(const std::string& key) const {
    auto it = series_.find(key);
    return it == series_.end() ? nullptr : &it->second;
}

nlohmann::json entry_json(const Entry& e) {
    return {{"seq", e.seq},
            {"time", hooks::format_time(std::chrono::system_clock::time_point(std::chrono::milliseconds(e.time_ms)))},
            {"time_ms", e.time_ms},
            {"kind", e.kind},
            {"level", e.level},
            {"zone", e.zone},
            {"service", e.service},
            {"endpoint", e.endpoint},
            {"from", e.from},
            {"to", e.to},
            {"reason", e.reason},
            {"event_seq", e.event_seq}};
}

nlohmann::json events_json(const Timeline& timeline, uint64_t since, std::size_t limit) {
    nlohmann::json list = nlohmann::json::array();
    for (auto* e : timeline.since(since, limit)) list.push_back(entry_json(*e));
    return {{"last_seq", timeline.last_seq()},
            {"oldest_seq", timeline.oldest_seq()},
            {"capacity", timeline.capacity()},
            {"events", std::move(list)}};
}

nlohmann::json history_json(const History& history, int64_t now_ms, const std::set<std::string>& keys) {
    nlohmann::json series = nlohmann::json::object();
    int64_t horizon = now_ms - history.options().window_ms;
    for (auto& [key, s] : history.all()) {
        if (!keys.empty() && !keys.count(key)) continue;
        nlohmann::json bands = nlohmann::json::array(), latency = nlohmann::json::array();
        for (auto& b : s.bands) bands.push_back({{"from_ms", std::max(b.from_ms, horizon)}, {"state", b.state}});
        for (auto& b : s.latency) {
            if (b.start_ms + history.bucket_ms() <= horizon) continue;
            latency.push_back({{"start_ms", b.start_ms},
                               {"count", b.count},
                               {"failures", b.failures},
                               {"avg_ms", b.count ? b.sum_ms / b.count : 0.0},
                               {"max_ms", b.max_ms}});
        }
        series[key] = {{"bands", std::move(bands)}, {"latency", std::move(latency)}};
    }
    return {{"now_ms", now_ms},
            {"window_ms", history.options().window_ms},
            {"bucket_ms", history.bucket_ms()},
            {"series", std::move(series)}};
}

}  // namespace signpost::timeline
