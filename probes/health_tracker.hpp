// The one rise/fall state machine shared by every check kind, plus the per-check
// probe schedule. Pure: no I/O, no clocks, no libuv; the caller passes time in.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/check_spec.hpp"
#include "core/health.hpp"
#include "probes/latency_stats.hpp"

namespace signpost::probes {

// What one probe of any kind reports: pass/fail and a short reason.
struct ProbeResult {
    bool ok = false;
    std::string reason;         // "HTTP 200", "connection refused", "timeout after 1000 ms"
    double latency_ms = 0;
    bool timed_out = false;
    bool cert_warning = false;  // https: certificate expires within cert_warning_days
};

// One check of one endpoint: rise/fall counters, suspect/confirmed, and when the
// next probe should start. Probes may overlap (a hanging endpoint must not cost
// fall × timeout); their results are applied in the order the probes started.
class CheckTracker {
public:
    // The first probe is due at `now`. `second_delay` spreads the second probe
    // of many endpoints over the interval (0: one interval after the first).
    CheckTracker(const core::CheckSpec& spec, core::TimePoint now, core::Millis second_delay = core::Millis{0});

    // --- schedule
    // When the next probe should start: the planned time, or earlier when the
    // oldest running probe is overdue (it has run past what the endpoint's
    // measured latency lets expect, well before its timeout): a hang starts the
    // fast re-checks while that probe still runs, bounded by max_in_flight().
    core::TimePoint next_due() const noexcept;
    // False while as many probes are running as may overlap.
    bool may_start() const noexcept { return in_flight_.size() < max_in_flight_; }
    // Records a probe start at `now` (normally >= next_due()); returns its sequence
    // number. The next probe is due one interval after this one's planned time
    // (whole missed intervals skipped; after `now` when it started early).
    uint64_t start(core::TimePoint now);
    std::size_t in_flight() const noexcept { return in_flight_.size(); }
    std::size_t max_in_flight() const noexcept { return max_in_flight_; }
    // Forgets every running probe (their results will never come).
    void cancel_all() noexcept { in_flight_.clear(); }
    // A passive signal (a kept connection closed, reset or answered unasked while
    // idle): not a failure, only a reason to look now. Brings the next probe to
    // `now` and the following ones to fast_interval until a result arrives. At
    // most once per interval; returns whether the schedule moved.
    bool nudge(core::TimePoint now) noexcept;
    // The timeout of the next probe: the spec's, or with timeout = "auto" the one
    // the measured latency gives (LatencyStats::auto_timeout), doubled for each
    // timeout in a row, never above the maximum.
    core::Millis timeout() const noexcept;
    // Re-checking sooner than the interval although not suspect (nudged or overdue).
    bool hurried() const noexcept { return hurry_; }

    // --- results
    // Result of probe `seq`. Results wait until every earlier probe has finished;
    // returns how many results were applied now (0: waiting for an earlier one).
    std::size_t finish(uint64_t seq, ProbeResult result, core::TimePoint now);
    // Applies one result directly (no schedule bookkeeping): the state machine alone.
    void apply(const ProbeResult& result, core::TimePoint now);

    core::HealthState state() const noexcept { return state_; }
    bool up() const noexcept { return state_ == core::HealthState::Up; }
    bool suspect() const noexcept { return suspect_; }
    bool confirmed() const noexcept { return confirmed_; }
    core::TimePoint since() const noexcept { return since_; }
    uint32_t consecutive_ok() const noexcept { return ok_run_; }
    uint32_t consecutive_fail() const noexcept { return fail_run_; }
    uint64_t results() const noexcept { return results_; }
    const ProbeResult& last() const noexcept { return last_; }
    // Why the check is degraded while up (LatencyStats::brownout), or "".
    const std::string& degraded() const noexcept { return degraded_; }
    const LatencyStats& stats() const noexcept { return stats_; }
    const core::CheckSpec& spec() const noexcept { return spec_; }

private:
    // The rise/fall rule alone (apply() measures first, then judges the brownout).
    void apply_state(const ProbeResult& result, core::TimePoint now);

    struct Pending {
        uint64_t seq;
        core::TimePoint started;
        std::optional<ProbeResult> result;
    };

    core::CheckSpec spec_;
    core::HealthState state_;
    bool suspect_ = false;
    bool confirmed_ = false;
    core::TimePoint since_;
    uint32_t ok_run_ = 0, fail_run_ = 0;
    uint64_t results_ = 0;
    ProbeResult last_;
    LatencyStats stats_;
    std::string degraded_;
    bool hurry_ = false;
    uint32_t timeouts_run_ = 0;  // consecutive timed-out results
    bool nudged_ever_ = false;
    core::TimePoint last_nudge_{};

    core::TimePoint next_due_;
    core::TimePoint last_start_{};
    core::Millis second_delay_;
    uint64_t next_seq_ = 1;
    uint64_t starts_ = 0;
    std::size_t max_in_flight_;
    std::deque<Pending> in_flight_;
};

// One endpoint: its checks ANDed (up only when every check is up). What the
// probes see only: operators' overrides are applied by the control core.
class EndpointTracker {
public:
    EndpointTracker(std::span<const core::CheckSpec> checks, core::TimePoint now,
                    std::span<const core::Millis> second_delays = {});

    std::vector<CheckTracker>& checks() noexcept { return checks_; }
    const std::vector<CheckTracker>& checks() const noexcept { return checks_; }

    // Recomputes the endpoint's health from its checks after results were
    // applied; returns true when state, suspect, confirmed or degraded changed.
    bool update(core::TimePoint now);

    const core::EndpointHealth& health() const noexcept { return health_; }
    // True once every check has a result, or one check has decided "down".
    bool first_result_known() const noexcept;

private:
    std::vector<CheckTracker> checks_;
    core::EndpointHealth health_;
};

}  // namespace signpost::probes
