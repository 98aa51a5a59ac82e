// The incident page's memory: a bounded timeline of what happened (probe state
// changes, service moves, early warnings, reloads, operator commands, hook
// deliveries) and bounded per-key history (state bands, probe latency) over the
// last hour. Pure: no clocks, no I/O; the daemon feeds it with Unix ms times.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hooks/hook_runner.hpp"

namespace signpost::timeline {

// One thing that happened. `seq` numbers entries of this run from 1 (it restarts
// with the process); a hook event keeps its own persisted number in `event_seq`.
struct Entry {
    uint64_t seq = 0;
    int64_t time_ms = 0;   // Unix ms
    std::string kind;      // "service", "endpoint", "early-warning", "drained", "reload", "override",
                           // "drain", "release", "hook"
    std::string level = "info";  // "info", "warning" or "error": how the page colours it
    std::string zone, service, endpoint;
    std::string from, to;  // states or pool labels ("up" → "down", "primary" → "failover:secondary")
    std::string reason;    // why, in words
    uint64_t event_seq = 0;  // the hook event's seq (0: not a hook event)
};

// A hook event as a timeline entry: endpoints going down, services leaving their
// first pool and early warnings are warnings; everything else is info.
Entry from_event(const hooks::HookEvent& e);

// The outcome of one hook delivery attempt as an entry (hooks::DeliveryOutcome).
Entry from_delivery(const hooks::DeliveryOutcome& o, int64_t now_ms);

// A reload's outcome: info when it loaded (`staged`: waiting for its new
// endpoints' first probes), error with the first errors when it did not.
Entry from_reload(const std::string& trigger, bool ok, bool staged, const std::vector<std::string>& errors,
                  int64_t now_ms);

// An operator command that was carried out ("override", "drain", "release") on
// `target` (an endpoint, pool or service key): `message` is what the core said.
Entry from_command(const std::string& kind, const std::string& target, const std::string& message,
                   const std::string& reason, int64_t now_ms);

// The last `capacity` entries, oldest first.
class Timeline {
public:
    explicit Timeline(std::size_t capacity = 1000) : capacity_(capacity ? capacity : 1) {}
    // Numbers `e` (seq = last_seq() + 1), keeps it, drops the oldest past capacity.
    uint64_t add(Entry e);
    // Entries with seq > `since`, oldest first, at most `limit` (the newest ones
    // when more are there). A `since` above last_seq() is from before a restart:
    // everything kept is returned.
    std::vector<const Entry*> since(uint64_t since, std::size_t limit) const;
    uint64_t last_seq() const noexcept { return seq_; }
    // The oldest seq still kept (last_seq() + 1 when empty): a reader whose
    // `since` is below oldest_seq() - 1 missed entries.
    uint64_t oldest_seq() const noexcept { return entries_.empty() ? seq_ + 1 : entries_.front().seq; }
    std::size_t size() const noexcept { return entries_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    std::size_t capacity_;
    std::deque<Entry> entries_;
    uint64_t seq_ = 0;
};

struct HistoryOptions {
    int64_t window_ms = 3600 * 1000;  // what a history shows: the last hour
    std::size_t buckets = 120;        // latency buckets over the window (30 s each by default)
    std::size_t max_bands = 240;      // state changes kept per key within the window
};

// One latency bucket: the probe results whose time fell in [start_ms, start_ms + width).
struct LatencyBucket {
    int64_t start_ms = 0;
    uint32_t count = 0, failures = 0;
    double sum_ms = 0, max_ms = 0;
};

// A state that began at `from_ms` and lasted until the next band (or now).
struct Band {
    int64_t from_ms = 0;
    std::string state;  // "up", "down", "unknown" for endpoints; a pool label for services
};

// Per key (an endpoint key, a probe key, a service key): state bands and probe
// latency buckets over the last window. Bounded: each key keeps at most
// max_bands bands and `buckets` buckets; keys not observed for a whole window
// are dropped by prune().
class History {
public:
    explicit History(HistoryOptions options = {}) : options_(options) {}

    // The key's state at `now_ms`: a new band starts when it differs from the last.
    void state(const std::string& key, const std::string& state, int64_t now_ms);
    // A probe result: counted once per new `checks_run` (the monitor's counter), so
    // sampling the monitor more often than it probes counts nothing twice.
    void probe(const std::string& key, uint64_t checks_run, double latency_ms, bool ok, int64_t now_ms);
    // Drops what is older than the window and keys neither state() nor probe()
    // saw for a whole window.
    void prune(int64_t now_ms);

    struct Series {
        std::deque<Band> bands;
        std::deque<LatencyBucket> latency;
        uint64_t checks_run = 0;
        int64_t last_seen_ms = 0;
    };
    const Series* find(const std::string& key) const;
    const std::map<std::string, Series>& all() const noexcept { return series_; }
    int64_t bucket_ms() const noexcept;
    const HistoryOptions& options() const noexcept { return options_; }

private:
    void trim(Series& s, int64_t now_ms) const;

    HistoryOptions options_;
    std::map<std::string, Series> series_;
};

// GET /v1/events: {"last_seq", "oldest_seq", "capacity", "events": [...]}; each
// event {"seq","time","time_ms","kind","level","zone","service","endpoint","from","to","reason","event_seq"}.
nlohmann::json events_json(const Timeline& timeline, uint64_t since, std::size_t limit);
nlohmann::json entry_json(const Entry& e);

// GET /v1/history: {"now_ms","window_ms","bucket_ms","series": {key: {"bands": [{"from_ms","state"}],
// "latency": [{"start_ms","count","failures","avg_ms","max_ms"}]}}}; only `keys` when not empty.
nlohmann::json history_json(const History& history, int64_t now_ms, const std::set<std::string>& keys = {});

}  // namespace signpost::timeline
