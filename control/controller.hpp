// The control core: decides everything that moves an answer. It takes the
// catalog, the probes' health, peers' verdicts (through ClusterView), operator
// commands, reload results and the time, and returns what to do: log lines,
// numbered hook events, the next Snapshot to publish, NOTIFYs to send.
// Pure: no libuv, no sockets, no files; the daemon feeds it and carries its outputs
// out, and the time its rules read comes in `Now`. Two clocks are read here all the
// same: the wall clock for DNSSEC (signature validity and key timing must be the real
// time validators check against) and steady_clock for the durations it reports of
// its own work (evaluating services, building a View). One thread (the daemon's
// control loop) calls it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/cluster_view.hpp"
#include "control/events.hpp"
#include "control/hostnames.hpp"
#include "control/persisted_state.hpp"
#include "control/replicated_commands.hpp"
#include "control/rules.hpp"
#include "control/runtime_records.hpp"
#include "core/duration.hpp"
#include "core/health.hpp"
#include "core/resolution.hpp"
#include "dns/signing.hpp"
#include "dns/snapshot.hpp"
#include "policy/policy.hpp"
#include "probes/health_monitor.hpp"
#include "xfr/history.hpp"
#include "zones/model.hpp"

namespace signpost::control {

// The time of a step, as the daemon read it once: the monotonic clock (rules,
// TTLs, drains) and the wall clock (what people and the state file read).
struct Now {
    core::TimePoint mono{};
    int64_t unix_ms = 0;
    int64_t to_unix_ms(core::TimePoint t) const {
        return unix_ms - std::chrono::duration_cast<std::chrono::milliseconds>(mono - t).count();
    }
    core::TimePoint from_unix_ms(int64_t ms) const { return mono - std::chrono::milliseconds(unix_ms - ms); }
};

// The probes' health, indexed like the targets probe_targets() returned last: an
// address endpoint at its catalog index, each address of a hostname endpoint
// after the catalog's endpoints.
using Probes = std::span<const core::EndpointHealth>;

struct Options {
    uint64_t seed_salt = 0;                // mixed into every service's shuffle seed
    uint16_t udp_payload_size = 1232;      // for the Views
    bool explain = true;                   // snapshots carry the explain state
    // Zones that secondaries transfer: they get versions (IXFR history) and NOTIFY.
    std::function<bool(const std::string& origin)> transferred;
    std::size_t xfr_history = 32;
    // A state file older than this is not trusted for endpoint health: re-probe first.
    core::Millis state_max_age{30000};
    // This instance's cluster id: the origin of the commands made here ("" alone).
    std::string instance_id;
    // Owner names a View renders anew when it is built after a health change
    // (dns::ViewOptions::prerender_budget; the unchanged ones are copied): a flip of more
    // services publishes at once, the general renderer answers the rest (the same
    // bytes, slower), and the next tick publishes a View that renders them all. 1,000
    // names are about 3 ms of rendering in a signed zone.
    std::size_t prerender_budget = 1000;
};

struct Notify {
    core::Name origin;
    xfr::Record soa;
};

// What a step asks the daemon to do, in this order: publish `snapshot` (then call
// published()); write `log`; send `notifies`; deliver `events`; when
// `retarget`, hand probe_targets() to the monitor and hostnames() to the
// resolver; save the state file when `persist`.
struct Step {
    std::vector<LogLine> log;
    std::shared_ptr<const dns::Snapshot> snapshot;
    std::vector<Notify> notifies;
    std::vector<Event> events;
    bool retarget = false;
    bool persist = false;
    void append(Step&& other);
};

// The outcome of an operator command: `status` 200 when done, 404 when the target
// does not exist; `message` says what happened in words.
struct CommandResult {
    int status = 200;
    std::string message;
    std::string label;  // release: what the service answers now
    Step step;
};

struct OverrideInfo {
    core::Override state = core::Override::Auto;
    std::string reason;
    int64_t set_ms = 0;
    std::optional<int64_t> expires_ms;
};

struct DrainInfo {
    int64_t since_ms = 0;                          // when the operator drained it (Unix ms)
    uint32_t highest_ttl = 0;                      // the highest TTL it was served with
    std::optional<uint64_t> out_from_version;      // first snapshot without it (not yet published)
    std::optional<core::TimePoint> left_answers;   // when that snapshot was published
    std::optional<core::TimePoint> drained_at;     // when the rule was met
    bool drained() const { return drained_at.has_value(); }
};

struct ReloadStatus {
    bool ok = true;
    int64_t at_ms = 0;
    std::vector<std::string> errors;
    uint64_t count = 0, failures = 0;
    bool staged = false;  // loaded, waiting for its new endpoints' first probe results
};

class Controller {
public:
    explicit Controller(Options options);

    // Single instance without it. The view must outlive the controller.
    void set_cluster(ClusterView* cluster) { cluster_ = cluster; }
    // A reloaded server config's options (the seed salt stays): the next snapshot
    // is built with them (explain on or off, which zones are transferred, history).
    void set_options(Options o) {
        o.seed_salt = options_.seed_salt;
        options_ = std::move(o);
    }

    // Warm restart: takes overrides, drains, serials, service states and the event
    // sequence; endpoint states only when the file is younger than state_max_age.
    std::vector<LogLine> restore(const PersistedState& state, const Now& now);
    // True when restore() took endpoint states: answer at once, before probing.
    bool warm() const noexcept { return warm_; }

    // The first catalog (nothing is published until start()).
    Step load(std::shared_ptr<const zones::Catalog> catalog, const Now& now);
    // A reload that loaded. Services are published from the new catalog only once
    // every endpoint it probes has a first result (or the first round's deadline):
    // until then the previous answers stay.
    Step reload(std::shared_ptr<const zones::Catalog> catalog, Probes probes, const Now& now);
    // A reload that did not load: the previous configuration keeps serving.
    Step reload_failed(std::vector<std::string> errors, const Now& now);

    // What the monitor probes (the newest catalog's endpoints, with the state to
    // start from: the state file's, or the cluster's on a takeover).
    std::vector<probes::ProbeTarget> probe_targets();

    // ---- endpoint hostnames ----
    // The resolver's news: every resolution that changed (an answer, a failure).
    // New or lost addresses move the probe targets (retarget) and the answers.
    Step resolved(std::span<const core::Resolution> changed, Probes probes, const Now& now);
    // The hostnames to keep resolved: the active and the staged catalogs'.
    std::vector<std::string> hostnames() const;
    // True when every hostname endpoint the monitor probes has left "resolving" and
    // each of its addresses has a first probe result (or ran out of time): the
    // start waits for this as it waits for the first probe round.
    bool hostnames_ready(Probes probes, const Now& now) const;
    const core::Resolution* resolution(const std::string& name) const;
    // The addresses probed for a hostname endpoint (active catalog index) and each
    // one's probe target key, for status pages.
    std::vector<std::pair<core::IpAddress, std::string>> probed_addresses(core::EndpointIndex index) const;
    // What the policies read of the resolutions, indexed like catalog().endpoints.
    std::span<const policy::Resolved> resolved_addresses() const { return resolved_; }

    // The start rule: whether to answer now and why (the log's words), or nullopt
    // (not yet). Without endpoints at once; after a warm restart once the names
    // resolved (`names_settled`); otherwise once the monitor's first round is done,
    // the hostnames' addresses have first results, and (cluster) the peers settled.
    struct StartInputs {
        bool first_round_done = false;  // the monitor's first round (or its deadline)
        bool names_settled = false;     // the resolver has an answer or a failure for every name
    };
    std::optional<std::string> start_reason(const StartInputs& in, Probes probes, const Now& now) const;
    // What the start waits for, in words (logged once at start when not answering at once).
    std::string start_wait() const;

    // Starts answering: evaluates everything and returns the first snapshot.
    Step start(Probes probes, const Now& now);
    bool serving() const noexcept { return serving_; }

    Step health_changed(Probes probes, std::span<const probes::HealthChange> changes, const Now& now);
    // Peers' verdicts or liveness changed (cluster only); may move the probe split.
    Step cluster_changed(Probes probes, const Now& now);
    // Time alone: override expiry, hold-downs, unstable windows, drains, staged reloads.
    Step tick(Probes probes, const Now& now);
    // The GeoIP databases geo services locate clients with (loaded at start and on
    // every successful reload of geoip_databases; null: none). Publishes a new View
    // when serving; the old databases are freed when the last query using them ends.
    Step geo_databases(std::shared_ptr<const geo::Databases> databases, Probes probes, const Now& now);
    // The keys of the signed zones (dns::ViewOptions::signing), given before the
    // load() or reload() of a catalog that signs; every View built after signs with
    // them. Signatures are kept across Views (a health change signs nothing new
    // unless its answer was never signed) and made again once less than the zone's
    // `refresh` remains: tick() builds a View for that every hour. Each View signs
    // with the keys as their timing says at the time it is built (ZoneKeys::at: a
    // pre-published key is in DNSKEY and signs nothing, a key past Inactive no longer
    // signs, ...), and tick() builds a View as soon as a key's state changes.
    void signing_keys(std::shared_ptr<const dns::SigningKeys> keys) {
        signing_ = std::move(keys);
        next_key_event_unix_ = 0;
    }
    // The next time a key's state changes (Unix seconds), 0: none.
    int64_t next_key_event() const noexcept { return next_key_event_unix_; }
    // The signature cache's figures (status): entries, signatures made, earliest expiry.
    const dns::SignatureCache& signatures() const noexcept { return *signatures_; }
    // The keys given by signing_keys(), or null.
    const dns::SigningKeys* signing() const noexcept { return signing_.get(); }
    // The daemon's publish() of the snapshot with this version returned at `now`:
    // every later query sees it.
    void published(uint64_t version, const Now& now);

    // Operator commands (API, CLI, page).
    CommandResult set_override(const std::string& target, core::Override state, const std::string& reason,
                               std::optional<core::Millis> expires_in, Probes probes, const Now& now);
    CommandResult drain(const std::string& key, bool undo, Probes probes, const Now& now);
    CommandResult release(const std::string& key, Probes probes, const Now& now);

    // Commands made at other instances (their command logs, from the peer
    // protocol): each record that wins the conflict rule (control/
    // replicated_commands.hpp) over what this instance has is applied as if made
    // here. cluster_changed() merges the ClusterView's peer_commands() itself.
    Step merge_commands(std::span<const ReplicatedCommand> records, Probes probes, const Now& now);
    // Every command this instance knows (made here or merged), with origin and stamp.
    const CommandLog& commands() const { return commands_; }

    // Runtime TXT records (signpost txt set/del, docs/acme.md): answered from the
    // next snapshot (a new View), in transfers with a new serial and NOTIFY, kept in
    // the state file; `ttl`/`for_` nullopt: the defaults (RuntimeTxtLimits).
    CommandResult txt_set(const std::string& name, const std::string& value, std::optional<uint32_t> ttl,
                          std::optional<core::Millis> for_, Probes probes, const Now& now);
    CommandResult txt_del(const std::string& name, const std::optional<std::string>& value, Probes probes,
                          const Now& now);
    const RuntimeRecords& runtime_txt() const { return runtime_; }

    // The state file's content now.
    PersistedState persisted(Probes probes, const Now& now) const;

    // ---- reads (API, metrics, explain) ----
    const zones::Catalog& catalog() const { return *catalog_; }
    std::shared_ptr<const zones::Catalog> catalog_ptr() const { return catalog_; }
    std::span<const policy::Evaluation> evaluations() const { return evaluations_; }
    std::span<const policy::ServiceState> states() const { return states_; }
    // Probes + quorum + overrides + drains, indexed like catalog().endpoints.
    std::vector<core::EndpointHealth> effective_health(Probes probes) const;
    std::shared_ptr<const geo::Databases> geo_;  // ViewOptions::geo
    std::shared_ptr<const dns::SigningKeys> signing_;      // every key of the signed zones
    std::shared_ptr<const dns::SigningKeys> signing_now_;  // ViewOptions::signing: signing_ at the View's time
    int64_t next_key_event_unix_ = 0;                      // when signing_now_ goes stale; 0: never
    std::map<std::string, dnssec::KeyState> key_states_;  // by "<zone> <tag>": what the last View did with each key
    void keys_at(int64_t now_unix, Step& step);
    std::shared_ptr<dns::SignatureCache> signatures_ = std::make_shared<dns::SignatureCache>();
    int64_t resigned_unix_ms_ = 0;  // the last View built to renew signatures (tick)
    static constexpr int64_t kResignEveryMs = 3600 * 1000;
    // State TXT records a View signs with new text when it is built; a flip of more
    // services publishes their addresses at once and their state TXT with the previous
    // text (still signed), and tick() signs the rest, kPendingPerTick at a time (about
    // 36 ms of ECDSA P-256; the budget's 128, about 5 ms), then publishes a View with them, whose budget covers them
    // (dns::ViewOptions::state_signature_budget).
    static constexpr std::size_t kStateSignatureBudget = 128;
    static constexpr std::size_t kPendingPerTick = 1024;
    std::size_t pending_done_ = 0;  // of dns::pending_signatures(*view_), signed by tick()
    std::size_t signed_ahead_ = 0;  // state TXT signed by tick() for the next View
    bool render_deferred_ = false;  // the next View renders every name Options::prerender_budget left
    // This instance's own verdicts (probes only, in `storage`): what peers hear from us.
    std::vector<LocalVerdict> local_verdicts(Probes probes, std::vector<core::EndpointHealth>& storage) const;
    // The probes' health indexed like catalog().endpoints (a staged reload probes another list).
    std::vector<core::EndpointHealth> probe_health(Probes probes) const;
    const OverrideInfo* override_for(const zones::EndpointRef& ref) const;
    const DrainInfo* drain_for(const std::string& key) const;
    // Since when the endpoint is in its effective state (Unix ms).
    int64_t endpoint_since_ms(core::EndpointIndex index, const core::EndpointHealth& h, const Now& now) const;
    const std::unordered_map<std::string, uint64_t>& transitions() const { return transitions_; }
    const std::unordered_map<std::string, uint64_t>& service_changes() const { return service_changes_; }
    const ReloadStatus& reload_status() const { return reload_; }
    uint64_t view_generation() const noexcept { return view_generation_; }
    // How long building the last View took (build_view: indexes, signing, pre-rendering),
    // and the state TXT records it serves with their previous text (DNSSEC, a large flip).
    double last_view_build_seconds() const noexcept { return view_build_seconds_; }
    std::size_t pending_state_signatures() const noexcept {
        return view_ ? dns::pending_signatures(*view_) - std::min(pending_done_, dns::pending_signatures(*view_)) : 0;
    }
    std::shared_ptr<const dns::Snapshot> snapshot() const { return snapshot_; }
    std::shared_ptr<const dns::View> view() const { return snapshot_ ? snapshot_->view : nullptr; }
    // Origins by stable zone id (per-zone counters survive reloads).
    const std::vector<std::string>& zone_names() const { return zone_names_; }
    uint64_t last_seq() const noexcept { return seq_; }

private:
    struct Staged {
        std::shared_ptr<const zones::Catalog> catalog;
        std::vector<int64_t> remap;  // active endpoint index → staged index (-1: gone)
        core::TimePoint deadline{};
    };

    const zones::Catalog& probed_catalog() const { return staged_ ? *staged_->catalog : *catalog_; }
    // Endpoint `j` of the probed catalog as the probes see it (a hostname endpoint
    // from its addresses' probes).
    core::EndpointHealth probed_endpoint(Probes probes, std::size_t j) const;
    bool probed_endpoint_ready(Probes probes, std::size_t j, const Now& now) const;
    // The probed catalog's endpoint a probe index belongs to.
    std::size_t endpoint_of_probe(std::size_t probe_index) const;
    void update_resolved();
    // `loaded` with the serials this instance serves. Its Zone shells are moved, not
    // copied, when nothing else holds it (10,000 zones: a second set of shells that
    // would be freed at once and leave holes all over the heap).
    std::shared_ptr<const zones::Catalog> with_serials(std::shared_ptr<const zones::Catalog> loaded, Step& step);
    void commit(std::shared_ptr<const zones::Catalog> catalog, Probes probes, const Now& now, Step& step);
    // catalog_ = the zone files' catalog + the runtime TXT records, after dropping
    // (logged) the expired ones and, when `reloaded`, those no longer allowed; true
    // when any was dropped.
    bool with_runtime_txt(bool reloaded, const Now& now, Step& step);
    // A runtime TXT command's outcome as a CommandResult (a new View when serving).
    CommandResult runtime_txt_result(RuntimeTxtOutcome o, const char* verb, Probes probes);
    bool staged_ready(Probes probes, const Now& now) const;
    // Publishes a staged reload whose first round is over; true when it did.
    bool commit_if_ready(Probes probes, const Now& now, Step& step);
    std::vector<core::EndpointHealth> composed_health(Probes probes) const;  // before drains
    void apply_drains(std::vector<core::EndpointHealth>& health) const;
    // Re-evaluates `which` services (all when null) and publishes when an answer
    // or (with `health_moved`) what explain shows changed.
    // `new_catalog`: a reload committed, so a new View even when no answer moved.
    // How a new View comes to the zones' transfer versions (xfr_versions): before it,
    // so that its SOA has the new serial; or, for a health change, after it on the next
    // tick, so that rendering and signing every transferred zone for the secondaries
    // does not delay the flip (its SOA then moves a tick later); or not at all (done).
    enum class Xfr { Now, Later, Done };
    void evaluate_and_publish(Probes probes, const std::vector<std::size_t>* which, bool health_moved, const Now& now,
                              Step& step, bool new_catalog = false, Xfr xfr = Xfr::Now);
    bool evaluate(const std::vector<core::EndpointHealth>& health, const std::vector<std::size_t>* which,
                  const Now& now, Step& step);
    void endpoint_transitions(const std::vector<core::EndpointHealth>& composed, const Now& now, Step& step);
    void update_drains(const Now& now, bool will_publish, Step& step);
    void build_snapshot(const std::vector<core::EndpointHealth>& health, bool new_view, Step& step,
                        Xfr xfr = Xfr::Now);
    bool xfr_due_ = false;  // a View was published with Xfr::Later: tick() brings the transfers up
    double view_build_seconds_ = 0;
    void xfr_versions(int64_t now_unix, Step& step);  // now_unix: the View's signing time
    bool expire_overrides(const Now& now, Step& step);
    // The cluster's split (who probes what, ClusterView::probes) differs from
    // what the probe targets were made for: they must be made again (retarget).
    bool split_moved() const;
    // Whether the probe targets in effect include the active catalog's endpoint i.
    bool probed_here(std::size_t i) const;
    void emit(const zones::Zone& zone, const zones::Service& service, const char* kind, const std::string& endpoint,
              const std::string& from, const std::string& to, const std::string& reason, const Now& now, Step& step);
    std::vector<uint32_t> zone_ids();
    std::string title(const zones::Service& s) const;
    uint32_t highest_ttl(const std::string& endpoint_key) const;

    Options options_;
    ClusterView* cluster_ = nullptr;
    std::shared_ptr<const zones::Catalog> catalog_;
    std::shared_ptr<const zones::Catalog> file_catalog_;  // catalog_ without the runtime TXT records
    RuntimeRecords runtime_;
    std::optional<Staged> staged_;
    std::vector<core::EndpointHealth> frozen_;  // the active catalog's last probe health while staged
    std::vector<policy::ServiceState> states_;
    std::vector<policy::Evaluation> evaluations_;
    // By service key: survives reloads. Hashed: a flip of 10,000 services looks up each
    // (a std::map's compares of keys with long common prefixes took 10 ms of it).
    std::unordered_map<std::string, WarningEpisode> warnings_;
    std::shared_ptr<const dns::View> view_;
    std::shared_ptr<const dns::Snapshot> snapshot_;
    std::shared_ptr<const xfr::TransferZones> transfers_;  // of the last versions
    uint64_t view_generation_ = 0, snapshot_version_ = 0;
    bool serving_ = false;
    bool warm_ = false;

    // Applies a command record (made here or merged) to overrides_, drains_ or
    // states_; false when its target is unknown here.
    bool apply_command(const ReplicatedCommand& c, const Now& now, Step& step);
    // Merges peers' records and applies the winners (logged); true when any won.
    bool merge_into(std::span<const ReplicatedCommand> records, const Now& now, Step& step);
    ReplicatedCommand stamped(CommandKind kind, const std::string& target, const Now& now);

    CommandLog commands_;
    std::map<std::string, OverrideInfo> overrides_;
    std::map<std::string, DrainInfo> drains_;
    // Effective (pre-drain) state per endpoint key and since when (Unix ms), for
    // endpoint events and the API; seeded from the state file.
    std::map<std::string, std::pair<core::HealthState, int64_t>> endpoint_states_;
    std::map<std::string, core::HealthState> persisted_initial_;  // state file: where probes start from
    std::map<std::string, PersistedEndpoint> persisted_endpoints_;  // kept until probed
    std::map<std::string, PersistedService> persisted_services_;
    std::vector<bool> probed_;                                    // by probed-catalog index: probed here
    std::map<std::string, core::HealthState> takeover_initial_;   // taken over from a peer
    std::map<std::string, bool> probed_keys_;

    // Hostname endpoints: the resolver's results by name, and the probe targets
    // of their addresses (probe index probed_size_ + k) as probe_targets() made them.
    struct AddressTarget {
        std::size_t endpoint = 0;  // in the probed catalog
        core::IpAddress address;
        std::string key;           // "<endpoint key>@<address>"
    };
    std::map<std::string, core::Resolution> resolutions_;
    std::map<std::string, core::TimePoint> lost_addresses_at_;  // when a name last lost its addresses
    std::vector<AddressTarget> address_targets_;
    // Each address target's starting state, decided when it first appeared (and
    // whether it is known rather than a guess).
    std::map<std::string, std::pair<core::HealthState, bool>> address_initial_;
    std::vector<std::pair<uint32_t, uint32_t>> target_ranges_;  // per probed endpoint: first k, count
    std::size_t probed_size_ = 0;
    std::vector<policy::Resolved> resolved_;  // indexed like catalog_->endpoints; empty without hostnames
    core::TimePoint address_deadline_{};      // first results of new address targets due by then

    // Per zone origin (as persisted: PersistedState::serials and ::zone_digests, whose
    // "<origin> answers" keys are answers_digest here): the serial served last, the
    // digest of the zone's static data at it and of the answers transfers carried.
    // One entry a zone, kept for zones no longer loaded (their serials never go back).
    struct ZoneMarks {
        std::optional<uint32_t> serial;
        std::optional<uint64_t> static_digest, answers_digest;  // the state file: 16 hex digits
    };
    std::map<std::string, ZoneMarks, std::less<>> marks_;
    std::map<std::string, xfr::ZoneHistory> histories_;
    std::unordered_map<std::string, uint64_t> transitions_, service_changes_;
    std::vector<std::string> zone_names_;
    ReloadStatus reload_;
    uint64_t seq_ = 0;
};

}  // namespace signpost::control
