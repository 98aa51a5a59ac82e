// The rise/fall state machine and per-check probe schedule (see health_tracker.hpp).
// Pure: no I/O, no clocks.
#include "probes/health_tracker.hpp"

#include <algorithm>

namespace signpost::probes {

using core::HealthState;
using core::Millis;
using core::TimePoint;

CheckTracker::CheckTracker(const core::CheckSpec& spec, TimePoint now, Millis second_delay)
    : spec_(spec),
      state_(spec.initial),
      since_(now),
      next_due_(now),
      second_delay_(second_delay) {
    spec_.rise = std::max(1, spec_.rise);
    spec_.fall = std::max(1, spec_.fall);
    if (spec_.interval <= Millis{0}) spec_.interval = Millis{1000};
    if (spec_.fast_interval <= Millis{0} || spec_.fast_interval > spec_.interval) {
        spec_.fast_interval = spec_.interval;
    }
    // Enough overlapping probes to reach fall (or rise) within one timeout.
    max_in_flight_ = static_cast<std::size_t>(std::clamp(std::max(spec_.rise, spec_.fall), 2, 16));
    confirmed_ = spec_.initial_known;
}

Millis CheckTracker::timeout() const noexcept {
    if (!spec_.timeout_auto) return spec_.timeout;
    // Each timeout in a row doubles the next one (up to the maximum): a region
    // that suddenly answers ten times slower is suspected at once, but it takes
    // `fall` ever longer silences to call it down, not three short ones.
    const Millis base = stats_.auto_timeout(spec_.timeout_min, spec_.timeout);
    return std::min(spec_.timeout, base * (int64_t{1} << std::min<uint32_t>(timeouts_run_, 8)));
}

TimePoint CheckTracker::next_due() const noexcept {
    if (suspect_ || hurry_ || in_flight_.empty() || !may_start()) return next_due_;
    const Millis t = timeout();
    const Millis expected = stats_.expected_within(spec_.timeout_min, t);
    if (expected <= Millis{0} || expected >= t) return next_due_;
    return std::min(next_due_, in_flight_.front().started + expected);
}

bool CheckTracker::nudge(TimePoint now) noexcept {
    if (nudged_ever_ && now - last_nudge_ < spec_.interval) return false;
    nudged_ever_ = true;
    last_nudge_ = now;
    hurry_ = true;
    next_due_ = std::min(next_due_, now);
    return true;
}

uint64_t CheckTracker::start(TimePoint now) {
    // Started because the oldest running probe is overdue: re-check fast from now on.
    if (now >= next_due() && next_due() < next_due_) hurry_ = true;
    const uint64_t seq = next_seq_++;
    in_flight_.push_back(Pending{seq, now, std::nullopt});
    last_start_ = now;
    ++starts_;
    Millis delay = suspect_ || hurry_ ? spec_.fast_interval : spec_.interval;
    if (starts_ == 1 && second_delay_ > Millis{0}) delay = std::min(second_delay_, spec_.interval);
    // Keep the cadence: count from when this probe was planned, so a late start
    // does not shift the schedule (thousands of checks would otherwise drift
    // into clumps behind every busy moment of the loop). A start an interval
    // late or more skips the missed beats but keeps the phase; an early start
    // counts from now.
    if (now < next_due_) {
        next_due_ = now + delay;
    } else {
        const auto missed = (now - next_due_) / delay;  // whole intervals
        next_due_ += delay * (missed + 1);
    }
    return seq;
}

std::size_t CheckTracker::finish(uint64_t seq, ProbeResult result, TimePoint now) {
    auto it = std::find_if(in_flight_.begin(), in_flight_.end(), [&](const Pending& p) { return p.seq == seq; });
    if (it == in_flight_.end()) return 0;  // cancelled
    it->result = std::move(result);
    std::size_t applied = 0;
    while (!in_flight_.empty() && in_flight_.front().result) {
        apply(*in_flight_.front().result, now);
        in_flight_.pop_front();
        ++applied;
    }
    // While a change is suspected, re-check soon: at most fast_interval after
    // the latest start, even when that probe is still running.
    if (applied && (suspect_ || hurry_)) next_due_ = std::min(next_due_, last_start_ + spec_.fast_interval);
    return applied;
}

void CheckTracker::apply(const ProbeResult& r, TimePoint now) {
    ++results_;
    last_ = r;
    // A result answers the question a nudge or an overdue probe asked; a failure
    // keeps the pace through suspect_.
    hurry_ = false;
    timeouts_run_ = r.timed_out ? timeouts_run_ + 1 : 0;
    stats_.add(r.ok, r.latency_ms);
    apply_state(r, now);
    degraded_ = state_ == HealthState::Up && confirmed_
                    ? stats_.brownout(spec_.warn_latency, spec_.warn_failures, spec_.warn_window)
                    : std::string();
}

void CheckTracker::apply_state(const ProbeResult& r, TimePoint now) {
    auto set_state = [&](HealthState s) {
        if (s != state_) {
            state_ = s;
            since_ = now;
            // Failures from before a change of state are no brownout of the new one.
            stats_.forget_outcomes();
        }
    };
    if (!confirmed_) {
        // Start-up rule: the first result decides the state directly.
        confirmed_ = true;
        set_state(r.ok ? HealthState::Up : HealthState::Down);
        ok_run_ = r.ok ? 1 : 0;
        fail_run_ = r.ok ? 0 : 1;
        suspect_ = false;
        return;
    }
    if (r.ok) {
        ++ok_run_;
        fail_run_ = 0;
        if (state_ == HealthState::Down) {
            if (ok_run_ >= static_cast<uint32_t>(spec_.rise)) {
                set_state(HealthState::Up);
                suspect_ = false;
            } else {
                suspect_ = true;
            }
        } else {
            suspect_ = false;
        }
    } else {
        ++fail_run_;
        ok_run_ = 0;
        if (state_ == HealthState::Up) {
            if (fail_run_ >= static_cast<uint32_t>(spec_.fall)) {
                set_state(HealthState::Down);
                suspect_ = false;
            } else {
                suspect_ = true;
            }
        } else {
            suspect_ = false;
        }
    }
}

EndpointTracker::EndpointTracker(std::span<const core::CheckSpec> checks, TimePoint now,
                                 std::span<const Millis> second_delays) {
    checks_.reserve(checks.size());
    for (std::size_t i = 0; i < checks.size(); ++i) {
        checks_.emplace_back(checks[i], now, i < second_delays.size() ? second_delays[i] : Millis{0});
    }
    health_.since = now;
    update(now);
    health_.since = now;
}

bool EndpointTracker::first_result_known() const noexcept {
    bool all = true;
    for (const auto& c : checks_) {
        if (c.confirmed() && !c.up()) return true;
        all = all && c.confirmed();
    }
    return all;
}

bool EndpointTracker::update(TimePoint now) {
    core::EndpointHealth h;
    const bool named = checks_.size() > 1;
    auto label = [&](const CheckTracker& c) {
        const std::string& r = c.last().reason.empty() ? std::string("no result yet") : c.last().reason;
        return named && !c.spec().name.empty() ? c.spec().name + ": " + r : r;
    };
    if (checks_.empty()) {
        h.state = HealthState::Up;
        h.confirmed = true;
        h.reason = "no health check";
    } else {
        bool all_up = true, all_confirmed = true, down_confirmed = false;
        bool any_suspect = false, every_down_suspect = true;
        const CheckTracker* first_down = nullptr;
        const CheckTracker* first_suspect = nullptr;
        for (const auto& c : checks_) {
            all_up = all_up && c.up();
            all_confirmed = all_confirmed && c.confirmed();
            if (!c.up()) {
                if (!first_down) first_down = &c;
                down_confirmed = down_confirmed || c.confirmed();
                every_down_suspect = every_down_suspect && c.suspect();
            }
            if (c.suspect()) {
                any_suspect = true;
                if (!first_suspect) first_suspect = &c;
            }
        }
        h.state = all_up ? HealthState::Up : HealthState::Down;
        h.confirmed = all_confirmed || down_confirmed;
        h.suspect = all_up ? any_suspect : every_down_suspect;
        const CheckTracker& shown = first_down ? *first_down : first_suspect ? *first_suspect : checks_.front();
        h.reason = label(shown);
        if (all_up) {
            for (const auto& c : checks_) {
                if (c.degraded().empty()) continue;
                h.degraded = true;
                h.warning = named && !c.spec().name.empty() ? c.spec().name + ": " + c.degraded() : c.degraded();
                break;
            }
        }
    }
    const bool changed = h.state != health_.state || h.suspect != health_.suspect ||
                         h.confirmed != health_.confirmed || h.degraded != health_.degraded;
    h.since = h.state != health_.state ? now : health_.since;
    health_ = std::move(h);
    return changed;
}

}  // namespace signpost::probes
