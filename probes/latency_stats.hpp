// What one check has measured of its endpoint: recent latencies and outcomes,
// and the rules read from them (the adaptive timeout, the brownout test). Pure:
// no I/O, no clocks; fed one probe result at a time by CheckTracker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/duration.hpp"

namespace signpost::probes {

class LatencyStats {
public:
    // Latencies of successful probes kept (the baseline's window).
    static constexpr std::size_t kLatencies = 120;
    // Outcomes kept (the largest warn_window).
    static constexpr std::size_t kOutcomes = 100;
    // Successful probes needed before the timeout adapts (before: the maximum)
    // and before the latency baseline counts.
    static constexpr std::size_t kMinSamples = 10;
    // The adaptive timeout: kTimeoutFactor × the 95th percentile of the last
    // kRecentForTimeout successful latencies, within min..max.
    static constexpr std::size_t kRecentForTimeout = 20;
    static constexpr double kTimeoutFactor = 4.0;
    // Brownout latency: the median of the last kRecentForLatency successes
    // against the median of the ones before (the baseline), and at least
    // kLatencyFloorMs above it (loopback jitter is not a brownout).
    static constexpr std::size_t kRecentForLatency = 3;
    static constexpr double kLatencyFloorMs = 50.0;

    // One probe result: ok with its latency, or failed (a timeout adds no latency).
    void add(bool ok, double latency_ms) noexcept;

    // Drops the outcomes (kept: latencies), when the state changes.
    void forget_outcomes() noexcept { out_count_ = 0; }

    std::size_t latency_samples() const noexcept { return lat_count_; }
    std::size_t outcomes() const noexcept { return out_count_; }

    // The timeout for the next probe of a `timeout = "auto"` check: `max` until
    // kMinSamples successes were seen, then kTimeoutFactor × p95 of recent
    // successes, clamped to min..max (whole milliseconds, rounded up).
    core::Millis auto_timeout(core::Millis min, core::Millis max) const noexcept;

    // The same estimate for a check with a fixed timeout: how long a probe may
    // run before it is "overdue" (the re-checks start while it still runs).
    // 0 when not enough is known yet.
    core::Millis expected_within(core::Millis min, core::Millis max) const noexcept;

    // The brownout rule. Returns why the endpoint is degraded ("slow: 240 ms,
    // usually 5 ms" / "failed 6 of the last 20 probes"), or "" when it is not.
    // `latency_factor` and `failure_share` 0: that half of the rule is off.
    std::string brownout(double latency_factor, double failure_share, int window) const;

    // Medians for the status page and the rule above (0 when unknown).
    double baseline_ms() const noexcept;
    double recent_ms() const noexcept;

private:
    // The i-th latest latency (0 = newest); i < lat_count_.
    double latency(std::size_t i) const noexcept { return lat_[(lat_next_ + kLatencies - 1 - i) % kLatencies]; }
    // Percentile q (0..1) of latencies [from, from+n) counted from the newest.
    double percentile(std::size_t from, std::size_t n, double q) const noexcept;

    std::array<float, kLatencies> lat_{};
    std::size_t lat_next_ = 0, lat_count_ = 0;
    std::array<bool, kOutcomes> ok_{};
    std::size_t out_next_ = 0, out_count_ = 0;
};

}  // namespace signpost::probes
