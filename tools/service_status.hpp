// The one-line state systemd shows in `systemctl status` (sd_notify STATUS=):
// zones, services, how many are failed over or all down. Pure; header only so
// unit_tools tests it without libsystemd.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "policy/policy.hpp"

namespace signpost::tools {

struct ServiceSummary {
    bool serving = false;          // false until the first snapshot is published
    std::size_t zones = 0;
    std::size_t services = 0;
    std::size_t in_failover = 0;   // answering from a pool other than their first
    std::size_t all_down = 0;      // every pool down
    bool reload_failed = false;    // the last reload failed (the previous configuration serves)
};

// A service is in failover when its answer comes from a later pool ("failover:<pool>",
// the failover and subnet policies' label for it).
inline bool in_failover(const policy::Decision& d) { return d.label.rfind("failover:", 0) == 0; }

inline ServiceSummary summarize(bool serving, std::size_t zones, std::span<const policy::Evaluation> evaluations,
                                bool reload_failed) {
    ServiceSummary s;
    s.serving = serving;
    s.zones = zones;
    s.services = evaluations.size();
    s.reload_failed = reload_failed;
    for (auto& e : evaluations) {
        if (e.decision.all_down) ++s.all_down;
        else if (in_failover(e.decision)) ++s.in_failover;
    }
    return s;
}

// "serving 2 zone(s), 5 service(s); 1 in failover; 1 all down"; "starting: first probe round" before.
inline std::string status_text(const ServiceSummary& s) {
    if (!s.serving) return "starting: waiting for the first probe round";
    std::string out = "serving " + std::to_string(s.zones) + " zone(s), " + std::to_string(s.services) + " service(s)";
    if (s.in_failover) out += "; " + std::to_string(s.in_failover) + " in failover";
    if (s.all_down) out += "; " + std::to_string(s.all_down) + " all down";
    if (s.reload_failed) out += "; last reload failed, serving the previous configuration";
    return out;
}

}  // namespace signpost::tools
