// Hooks once per cluster: which instance delivers hook events, and what the
// others do with the events they computed too. Pure: no I/O, no clocks; the
// daemon feeds it the live instances, the emitter's published watermark and
// the wall time, and delivers what it returns. docs/cluster.md "Hooks once per cluster".
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/events.hpp"

namespace signpost::control {

// The emitter: the lowest id (byte order) among the live instances (this one
// included). Empty `live`: nobody.
std::string hook_emitter(const std::vector<std::string>& live);

class HookGate {
public:
    // `grace_ms`: how much later than here the emitter may decide the same
    // change (the cluster's peer_timeout: instances flip on the same votes at
    // most a poll apart). `max_held`: a bound on the events held here.
    HookGate(std::string self, int64_t grace_ms, std::size_t max_held = 1000);

    // An event this instance's core emitted at `at_ms` (its wall time). Returns
    // it when this instance is the emitter (deliver it now), else holds it.
    std::optional<Event> admit(Event e, int64_t at_ms);

    // One sink's final outcome for the event with `seq` (delivered or given up).
    void sink_done(uint64_t seq);

    // The live instances or the emitter's watermark changed (a poll), or time
    // passed. `emitter_watermark_ms`: what the current emitter published (nullopt
    // when this instance is the emitter or the emitter published none). Returns
    // the held events to deliver now: all of them when this instance has just
    // become the emitter (an event may then be delivered twice, never lost).
    // Drops held events the emitter's watermark covers (at_ms + grace <= watermark).
    std::vector<Event> update(const std::vector<std::string>& live, std::optional<int64_t> emitter_watermark_ms,
                              int64_t now_ms);

    bool emitting() const noexcept { return emitting_; }
    // Published to the peers while emitting: every event this instance decided at
    // or before it has been delivered or given up.
    int64_t watermark(int64_t now_ms) const;
    std::size_t held() const noexcept { return held_.size(); }
    std::size_t dropped() const noexcept { return dropped_; }  // held events dropped for the bound

private:
    struct Held {
        Event event;
        int64_t at_ms = 0;
    };
    std::string self_;
    int64_t grace_ms_;
    std::size_t max_held_;
    bool emitting_ = false;  // until the first update(): events are held, not lost
    std::deque<Held> held_;
    std::map<uint64_t, std::pair<int64_t, std::size_t>> in_delivery_;  // seq -> (at_ms, sinks not done)
    std::size_t dropped_ = 0;
    void track(const Event& e, int64_t at_ms);
};

}  // namespace signpost::control
