// The status/control API's Backend: an adapter over the daemon's parts (the
// control core's reads and commands, the probes' status, the server's
// counters). Wiring only: the JSON is rendered by tools/api_views, the rules
// are the core's.
#pragma once

#include <functional>

#include "api/api_server.hpp"
#include "tools/daemon_parts.hpp"

namespace signpost::tools {

class DaemonBackend final : public api::Backend {
public:
    // `reload(trigger)` reloads as SIGHUP does; true when it loaded.
    DaemonBackend(DaemonParts& parts, std::function<bool(const char*)> reload)
        : p_(parts), reload_(std::move(reload)) {}

    nlohmann::json services() override;
    nlohmann::json endpoints() override;
    nlohmann::json zones() override;
    nlohmann::json status() override;
    nlohmann::json explain(const std::string& name, const std::string& type, const std::string& client) override;
    nlohmann::json set_override(const api::OverrideRequest& r) override;
    nlohmann::json drain(const std::string& key, bool undo) override;
    nlohmann::json release(const std::string& key) override;
    nlohmann::json cluster() override;
    std::string cluster_verdicts() override;
    nlohmann::json reload() override;
    std::string metrics() override;

private:
    // A command's outcome: its step carried out, or an ApiError.
    nlohmann::json command(control::CommandResult r);

    DaemonParts& p_;
    std::function<bool(const char*)> reload_;
};

}  // namespace signpost::tools
