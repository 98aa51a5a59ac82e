#include "control/hook_gate.hpp"

#include <algorithm>

namespace signpost::control {

std::string hook_emitter(const std::vector<std::string>& live) {
    if (live.empty()) return {};
    return *std::min_element(live.begin(), live.end());
}

HookGate::HookGate(std::string self, int64_t grace_ms, std::size_t max_held)
    : self_(std::move(self)), grace_ms_(grace_ms), max_held_(max_held) {}

void HookGate::track(const Event& e, int64_t at_ms) {
    if (!e.hooks.empty()) in_delivery_[e.payload.seq] = {at_ms, e.hooks.size()};
}

std::optional<Event> HookGate::admit(Event e, int64_t at_ms) {
    if (emitting_) {
        track(e, at_ms);
        return e;
    }
    if (held_.size() >= max_held_) {
        held_.pop_front();
        ++dropped_;
    }
    held_.push_back({std::move(e), at_ms});
    return std::nullopt;
}

void HookGate::sink_done(uint64_t seq) {
    auto it = in_delivery_.find(seq);
    if (it == in_delivery_.end()) return;
    if (--it->second.second == 0) in_delivery_.erase(it);
}

std::vector<Event> HookGate::update(const std::vector<std::string>& live, std::optional<int64_t> emitter_watermark_ms,
                                    int64_t now_ms) {
    (void)now_ms;
    std::vector<Event> out;
    bool now_emitting = hook_emitter(live) == self_ || live.empty();
    if (now_emitting) {
        // Taking over (or alone again): what the old emitter may not have delivered goes out now.
        for (auto& h : held_) {
            track(h.event, h.at_ms);
            out.push_back(std::move(h.event));
        }
        held_.clear();
    } else if (emitter_watermark_ms) {
        while (!held_.empty() && held_.front().at_ms + grace_ms_ <= *emitter_watermark_ms) held_.pop_front();
        // Events are held in the order they were decided, but the bound above
        // is on the oldest: drop any others covered too.
        std::erase_if(held_, [&](auto& h) { return h.at_ms + grace_ms_ <= *emitter_watermark_ms; });
    }
    emitting_ = now_emitting;
    return out;
}

int64_t HookGate::watermark(int64_t now_ms) const {
    int64_t w = now_ms;
    for (auto& [seq, v] : in_delivery_) w = std::min(w, v.first - 1);
    return w;
}

}  // namespace signpost::control
