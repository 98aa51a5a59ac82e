#include "tools/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cluster/wire.hpp"
#include "core/log.hpp"
#include <sstream>

namespace signpost::tools {

using nlohmann::json;

int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const char* to_string(core::Override o) noexcept {
    switch (o) {
        case core::Override::Auto: return "auto";
        case core::Override::ForceUp: return "up";
        case core::Override::ForceDown: return "down";
    }
    return "auto";
}

std::optional<core::Override> parse_override(const std::string& s) noexcept {
    if (s == "auto") return core::Override::Auto;
    if (s == "up") return core::Override::ForceUp;
    if (s == "down") return core::Override::ForceDown;
    return std::nullopt;
}

std::optional<PersistedState> load_state(const std::string& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        if (error) *error = std::string("cannot open: ") + std::strerror(errno);
        return std::nullopt;
    }
    try {
        json j = json::parse(in);
        if (j.value("version", 0) != 1) {
            if (error) *error = "unknown state file version";
            return std::nullopt;
        }
        PersistedState s;
        s.written_ms = j.value("written", int64_t(0));
        s.event_seq = j.value("event_seq", uint64_t(0));
        // Named: a temporary from j.value() would die before a range-for over its items().
        const json endpoints_json = j.value("endpoints", json::object());
        const json overrides_json = j.value("overrides", json::object());
        const json drains_json = j.value("drains", json::object());
        const json services_json = j.value("services", json::object());
        const json serials_json = j.value("serials", json::object());
        const json zone_digests_json = j.value("zone_digests", json::object());
        for (auto& [k, v] : endpoints_json.items())
            s.endpoints[k] = {v.at("state").get<std::string>() == "up" ? core::HealthState::Up : core::HealthState::Down,
                              v.value("since", int64_t(0)), v.value("reason", std::string())};
        for (auto& [k, v] : overrides_json.items()) {
            auto st = parse_override(v.at("state").get<std::string>());
            if (!st) continue;
            PersistedOverride o{*st, v.value("reason", std::string()), v.value("set", int64_t(0)), std::nullopt};
            if (v.contains("expires") && !v["expires"].is_null()) o.expires_ms = v["expires"].get<int64_t>();
            s.overrides[k] = o;
        }
        for (auto& [k, v] : drains_json.items()) s.drains[k] = v.get<int64_t>();
        for (auto& [k, v] : services_json.items())
            s.services[k] = {v.value("label", std::string()), v.value("active_pool", -1), v.value("released", false),
                             v.value("since", int64_t(0))};
        for (auto& [k, v] : serials_json.items()) s.serials[k] = v.get<uint32_t>();
        for (auto& [k, v] : zone_digests_json.items()) s.zone_digests[k] = v.get<std::string>();
        // Runtime TXT records (absent in older files): owner -> [{value, ttl, set, expires}].
        const json txt_json = j.value("runtime_txt", json::object());
        for (auto& [k, list] : txt_json.items())
            for (auto& v : list)
                s.runtime_txt[k].push_back({v.at("value").get<std::string>(), v.value("ttl", uint32_t(60)),
                                            v.value("set", int64_t(0)), v.at("expires").get<int64_t>()});
        // The operator commands' log (absent in older files: the core rebuilds it).
        if (auto cmds = j.find("commands"); cmds != j.end() && cmds->is_array()) {
            s.has_commands = true;
            s.command_clock_ms = j.value("command_clock", int64_t(0));
            for (auto& v : *cmds) {
                std::string why;
                if (auto c = cluster::command_from_json(v, &why)) s.commands.push_back(std::move(*c));
                else core::log_warning("daemon", "state file {}: a command record is skipped: {}", path, why);
            }
        }
        return s;
    } catch (const std::exception& e) {
        if (error) *error = std::string("not a valid state file: ") + e.what();
        return std::nullopt;
    }
}

std::optional<PersistedState> read_state_file(const std::string& path) {
    if (path.empty()) return std::nullopt;
    std::string err;
    auto st = load_state(path, &err);
    if (!st) {
        std::error_code ec;
        if (std::filesystem::exists(path, ec))
            core::log_warning("daemon", "state file {}: {}; starting cold", path, err);
        else
            core::log_info("daemon", "no state file at {} yet; starting cold", path);
    }
    return st;
}

bool save_state(const std::string& path, const PersistedState& s, std::string* error) {
    json j;
    j["version"] = 1;
    j["written"] = s.written_ms ? s.written_ms : unix_ms_now();
    j["event_seq"] = s.event_seq;
    json eps = json::object();
    for (auto& [k, v] : s.endpoints)
        eps[k] = {{"state", v.state == core::HealthState::Up ? "up" : "down"}, {"since", v.since_ms}, {"reason", v.reason}};
    j["endpoints"] = eps;
    json ovs = json::object();
    for (auto& [k, v] : s.overrides)
        ovs[k] = {{"state", to_string(v.state)}, {"reason", v.reason}, {"set", v.set_ms},
                  {"expires", v.expires_ms ? json(*v.expires_ms) : json(nullptr)}};
    j["overrides"] = ovs;
    j["drains"] = s.drains;
    json svs = json::object();
    for (auto& [k, v] : s.services)
        svs[k] = {{"label", v.label}, {"active_pool", v.active_pool}, {"released", v.released}, {"since", v.since_ms}};
    j["services"] = svs;
    j["serials"] = s.serials;
    j["zone_digests"] = s.zone_digests;
    json txt = json::object();
    for (auto& [k, list] : s.runtime_txt)
        for (auto& v : list)
            txt[k].push_back({{"value", v.value}, {"ttl", v.ttl}, {"set", v.set_ms}, {"expires", v.expires_ms}});
    j["runtime_txt"] = txt;
    if (s.has_commands) {
        json cmds = json::array();
        for (auto& c : s.commands) cmds.push_back(cluster::command_json(c));
        j["commands"] = cmds;
        j["command_clock"] = s.command_clock_ms;
    }
    std::string text = j.dump(1) + "\n";

    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        if (error) *error = "cannot write " + tmp + ": " + std::strerror(errno);
        return false;
    }
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (error) *error = "cannot write " + tmp + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return false;
        }
        off += std::size_t(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        if (error) *error = "cannot sync " + tmp + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        if (error) *error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace signpost::tools
