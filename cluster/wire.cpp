#include "cluster/wire.hpp"

#include <nlohmann/json.hpp>

namespace signpost::cluster {

std::string encode_verdicts(const PeerVerdicts& v) {
    nlohmann::json list = nlohmann::json::array();
    for (auto& [key, vote] : v.by_endpoint)
        list.push_back({{"endpoint", key},
                        {"state", core::to_string(vote.state)},
                        {"suspect", vote.suspect},
                        {"reason", vote.reason}});
    nlohmann::json j = {{"instance", v.instance}, {"verdicts", list}};
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
    return out;
}

}  // namespace signpost::cluster
