#include "cluster/wire.hpp"

#include <nlohmann/json.hpp>

namespace signpost::cluster {

namespace {
const char* override_text(core::Override o) {
    switch (o) {
        case core::Override::ForceUp: return "up";
        case core::Override::ForceDown: return "down";
        default: return "auto";
    }
}
}  // namespace

nlohmann::json command_json(const control::ReplicatedCommand& c) {
    nlohmann::json j = {{"kind", control::to_string(c.kind)}, {"target", c.target}, {"reason", c.reason},
                        {"at_ms", c.at_ms},  {"origin", c.origin}};
    if (c.kind == control::CommandKind::Override) {
        j["state"] = override_text(c.state);
        j["expires_ms"] = c.expires_ms ? nlohmann::json(*c.expires_ms) : nlohmann::json(nullptr);
    }
    if (c.kind == control::CommandKind::Drain) j["active"] = c.active;
    return j;
}

std::optional<control::ReplicatedCommand> command_from_json(const nlohmann::json& j, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<control::ReplicatedCommand> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (!j.is_object()) return fail("a command is not an object");
    auto str = [&](const char* k) -> const nlohmann::json* {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? &*it : nullptr;
    };
    auto* kind = str("kind");
    auto* target = str("target");
    auto at = j.find("at_ms");
    if (!kind || !target || at == j.end() || !at->is_number_integer())
        return fail("a command lacks 'kind', 'target' or 'at_ms'");
    control::ReplicatedCommand c;
    auto k = control::command_kind_from(kind->get<std::string>());
    if (!k) return fail("command kind '" + kind->get<std::string>() + "' is not override, drain or release");
    c.kind = *k;
    c.target = target->get<std::string>();
    c.at_ms = at->get<int64_t>();
    if (auto* o = str("origin")) c.origin = o->get<std::string>();
    if (auto* r = str("reason")) c.reason = r->get<std::string>();
    if (c.kind == control::CommandKind::Override) {
        auto* st = str("state");
        if (!st) return fail("override of " + c.target + " has no 'state'");
        auto v = st->get<std::string>();
        if (v == "up") c.state = core::Override::ForceUp;
        else if (v == "down") c.state = core::Override::ForceDown;
        else if (v == "auto") c.state = core::Override::Auto;
        else return fail("override state '" + v + "' is not up, down or auto");
        if (auto e = j.find("expires_ms"); e != j.end() && !e->is_null()) {
            if (!e->is_number_integer()) return fail("override of " + c.target + ": 'expires_ms' is not an integer");
            c.expires_ms = e->get<int64_t>();
        }
    }
    if (c.kind == control::CommandKind::Drain) {
        auto a = j.find("active");
        if (a == j.end() || !a->is_boolean()) return fail("drain of " + c.target + " has no boolean 'active'");
        c.active = a->get<bool>();
    }
    if (auto why = control::invalid(c)) return fail(*why);
    return c;
}

std::string encode_verdicts(const PeerVerdicts& v) {
    nlohmann::json list = nlohmann::json::array();
    for (auto& [key, vote] : v.by_endpoint)
        list.push_back({{"endpoint", key},
                        {"state", core::to_string(vote.state)},
                        {"suspect", vote.suspect},
                        {"reason", vote.reason}});
    nlohmann::json commands = nlohmann::json::array();
    for (auto& c : v.commands) commands.push_back(command_json(c));
    nlohmann::json j = {{"instance", v.instance}, {"verdicts", list}, {"commands", commands}};
    if (v.hook_watermark_ms) j["hooks"] = {{"watermark_ms", *v.hook_watermark_ms}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<PeerVerdicts> decode_verdicts(std::string_view body, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<PeerVerdicts> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("answer is not a JSON object");
    auto inst = j.find("instance");
    auto list = j.find("verdicts");
    if (inst == j.end() || !inst->is_string() || inst->get<std::string>().empty())
        return fail("answer has no 'instance'");
    if (list == j.end() || !list->is_array()) return fail("answer has no 'verdicts' array");
    PeerVerdicts out;
    out.instance = inst->get<std::string>();
    for (auto& item : *list) {
        if (!item.is_object()) return fail("a verdict is not an object");
        auto key = item.find("endpoint");
        auto state = item.find("state");
        if (key == item.end() || !key->is_string() || state == item.end() || !state->is_string())
            return fail("a verdict lacks 'endpoint' or 'state'");
        Vote v;
        v.instance = out.instance;
        auto s = state->get<std::string>();
        if (s == "up") v.state = core::HealthState::Up;
        else if (s == "down") v.state = core::HealthState::Down;
        else return fail("verdict state '" + s + "' is neither up nor down");
        if (auto it = item.find("suspect"); it != item.end() && it->is_boolean()) v.suspect = it->get<bool>();
        if (auto it = item.find("reason"); it != item.end() && it->is_string()) v.reason = it->get<std::string>();
        out.by_endpoint[key->get<std::string>()] = std::move(v);
    }
    if (auto h = j.find("hooks"); h != j.end() && h->is_object())
        if (auto w = h->find("watermark_ms"); w != h->end() && w->is_number_integer())
            out.hook_watermark_ms = w->get<int64_t>();
    // Commands are optional (an older peer sends none); a malformed list is
    // reported and ignored as a whole, never half applied.
    if (auto cmds = j.find("commands"); cmds != j.end()) {
        std::vector<control::ReplicatedCommand> got;
        std::string why;
        if (!cmds->is_array()) why = "'commands' is not an array";
        else
            for (auto& item : *cmds) {
                auto c = command_from_json(item, &why);
                if (!c) break;
                got.push_back(std::move(*c));
            }
        if (why.empty()) out.commands = std::move(got);
        else out.commands_error = why;
    }
    return out;
}

}  // namespace signpost::cluster
