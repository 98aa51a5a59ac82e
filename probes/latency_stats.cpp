// The adaptive timeout and brownout rules over one check's recent results (see
// latency_stats.hpp). Pure: no I/O, no clocks.
#include "probes/latency_stats.hpp"

#include <algorithm>
#include <cmath>

namespace signpost::probes {

void LatencyStats::add(bool ok, double latency_ms) noexcept {
    ok_[out_next_] = ok;
    out_next_ = (out_next_ + 1) % kOutcomes;
    out_count_ = std::min(out_count_ + 1, kOutcomes);
    if (!ok) return;
    lat_[lat_next_] = static_cast<float>(std::max(0.0, latency_ms));
    lat_next_ = (lat_next_ + 1) % kLatencies;
    lat_count_ = std::min(lat_count_ + 1, kLatencies);
}

double LatencyStats::percentile(std::size_t from, std::size_t n, double q) const noexcept {
    if (from >= lat_count_) return 0;
    n = std::min(n, lat_count_ - from);
    if (n == 0) return 0;
    std::array<float, kLatencies> v;
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(latency(from + i));
    const auto k = static_cast<std::size_t>(std::floor(q * static_cast<double>(n - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.begin() + static_cast<std::ptrdiff_t>(n));
    return v[k];
}

core::Millis LatencyStats::expected_within(core::Millis min, core::Millis max) const noexcept {
    if (lat_count_ < kMinSamples) return core::Millis{0};
    const double high = percentile(0, kRecentForTimeout, 0.95) * kTimeoutFactor;
    const auto ms = static_cast<int64_t>(std::ceil(high));
    return std::clamp(core::Millis{ms}, min, std::max(min, max));
}

core::Millis LatencyStats::auto_timeout(core::Millis min, core::Millis max) const noexcept {
    if (lat_count_ < kMinSamples) return std::max(min, max);
    return expected_within(min, max);
}

double LatencyStats::recent_ms() const noexcept {
    if (lat_count_ == 0) return 0;
    return percentile(0, kRecentForLatency, 0.5);
}

double LatencyStats::baseline_ms() const noexcept {
    if (lat_count_ < kMinSamples + kRecentForLatency) return 0;
    return percentile(kRecentForLatency, kLatencies, 0.5);
}

namespace {
std::string whole_ms(double ms) { return std::to_string(static_cast<long long>(std::llround(ms))) + " ms"; }
}  // namespace

std::string LatencyStats::brownout(double latency_factor, double failure_share, int window) const {
    if (failure_share > 0 && window > 0) {
        const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(window), kOutcomes);
        // Judged once the window is half full (and at least a few probes ran).
        if (out_count_ >= std::max<std::size_t>(std::min<std::size_t>(n, 10), (n + 1) / 2)) {
            const std::size_t seen = std::min(n, out_count_);
            std::size_t failed = 0;
            for (std::size_t i = 0; i < seen; ++i)
                if (!ok_[(out_next_ + kOutcomes - 1 - i) % kOutcomes]) ++failed;
            // Two failures at least: a single one is the suspect rule's business.
            if (failed >= 2 && static_cast<double>(failed) >= failure_share * static_cast<double>(seen))
                return "failed " + std::to_string(failed) + " of the last " + std::to_string(seen) + " probes";
        }
    }
    if (latency_factor > 0) {
        const double base = baseline_ms();
        if (base > 0 || lat_count_ >= kMinSamples + kRecentForLatency) {
            const double recent = recent_ms();
            if (recent > base * latency_factor && recent - base >= kLatencyFloorMs)
                return "slow: " + whole_ms(recent) + ", usually " + whole_ms(base);
        }
    }
    return {};
}

}  // namespace signpost::probes
