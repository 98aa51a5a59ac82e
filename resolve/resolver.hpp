// Resolves endpoint hostnames on the control loop (libuv UDP, TCP when an
// answer is truncated), through the configured resolvers, and re-resolves each
// name when its record TTL runs out. Never blocks the loop (no getaddrinfo).
// Knows hostnames only: not zones, endpoints or DNS answers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "core/resolution.hpp"
#include "resolve/schedule.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::resolve {

struct ResolverOptions {
    std::vector<Server> servers;  // empty: the nameservers of `resolv_conf` (127.0.0.1:53 when none)
    Bounds bounds;                // re-resolution bounds and the per-query timeout
    std::string resolv_conf = "/etc/resolv.conf";  // read once, at construction, when `servers` is empty
    bool operator==(const ResolverOptions&) const = default;
};

class Resolver {
public:
    // Loop thread only, like every member.
    Resolver(uv_loop_t* loop, ResolverOptions options);
    ~Resolver();

    // The names to keep resolved (lower case, no final dot). Names already known
    // keep their state and schedule; new ones are asked at once; removed ones stop.
    void set_names(std::vector<std::string> names);

    // A reload's servers and bounds: queries from now on use them (those in flight
    // finish with the servers they started with; resolv.conf is read again when
    // `servers` is empty). Schedules already set keep their times.
    void set_options(ResolverOptions options);

    // Called on the loop after every answer or failure, with the resolutions
    // that changed in that batch (every answer counts: resolved_at moves). A
    // batch is what one loop iteration completed; never called from inside
    // set_names(). The callback may call set_names() and stop(), but must not
    // destroy the Resolver.
    void on_change(std::function<void(std::span<const core::Resolution>)> callback);

    // Every known name, in set_names() order.
    std::vector<core::Resolution> resolutions() const;
    // True when no name is Pending (each got an answer or a failure).
    bool settled() const;

    // Queries sent (UDP and TCP, every try) since construction (metrics); answers
    // and failures are counted per name in each Resolution.
    uint64_t queries() const;

    // The servers asked, in order (the configured ones, or resolv.conf's).
    const std::vector<Server>& servers() const;

    // Cancels every query and closes every handle; the loop can then be closed
    // once it has run the close callbacks. resolutions() still answers; nothing
    // is asked again (set_names() only records the names).
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::resolve
