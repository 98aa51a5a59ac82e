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
    nlohmann::json drain_with_reason(const std::string& key, bool undo, const std::string& reason) override;
    nlohmann::json release_with_reason(const std::string& key, const std::string& reason) override;
    nlohmann::json events(uint64_t since, std::size_t limit) override;
    nlohmann::json history(const std::vector<std::string>& keys) override;
    nlohmann::json runtime_txt() override;
    nlohmann::json txt_set(const api::TxtRequest& r) override;
    nlohmann::json txt_del(const std::string& name, const std::optional<std::string>& value) override;
    nlohmann::json cluster() override;
    std::string cluster_verdicts() override;
    nlohmann::json reload() override;
    std::string metrics() override;

private:
    // A command's outcome: its step carried out (after the note, when there is
    // one, in the timeline), or an ApiError.
    struct Note {
        std::string kind, target, reason;  // kind "": nothing to note
    };
    nlohmann::json command(control::CommandResult r, const Note& note = {});

    DaemonParts& p_;
    std::function<bool(const char*)> reload_;
};

}  // namespace signpost::tools
