#include "control/replicated_commands.hpp"

#include <algorithm>
#include <tuple>

namespace signpost::control {

const char* to_string(CommandKind k) {
    switch (k) {
        case CommandKind::Override: return "override";
        case CommandKind::Drain: return "drain";
        case CommandKind::Release: return "release";
    }
    return "override";
}

std::optional<CommandKind> command_kind_from(std::string_view s) {
    if (s == "override") return CommandKind::Override;
    if (s == "drain") return CommandKind::Drain;
    if (s == "release") return CommandKind::Release;
    return std::nullopt;
}

std::string ReplicatedCommand::key() const { return std::string(to_string(kind)) + " " + target; }

bool supersedes(const ReplicatedCommand& a, const ReplicatedCommand& b) {
    auto content = [](const ReplicatedCommand& c) {
        return std::make_tuple(int(c.state), c.active, c.expires_ms.value_or(-1), std::string_view(c.reason));
    };
    if (a.at_ms != b.at_ms) return a.at_ms > b.at_ms;
    if (a.origin != b.origin) return a.origin > b.origin;
    return content(a) > content(b);
}

std::optional<std::string> invalid(const ReplicatedCommand& c) {
    if (c.target.empty()) return std::string("a command without a target");
    if (c.at_ms <= 0) return "command on " + c.target + " has no time";
    if (c.kind == CommandKind::Override && c.state != core::Override::Auto && c.state != core::Override::ForceUp &&
        c.state != core::Override::ForceDown)
        return "override of " + c.target + " has an unknown state";
    if (c.target.size() > 1024 || c.reason.size() > 4096 || c.origin.size() > 63)
        return "command on " + c.target.substr(0, 64) + " is oversized";
    return std::nullopt;
}

int64_t CommandLog::stamp(int64_t now_ms) {
    clock_ms_ = std::max(now_ms, clock_ms_ + 1);
    return clock_ms_;
}

const ReplicatedCommand& CommandLog::record(ReplicatedCommand c) {
    clock_ms_ = std::max(clock_ms_, c.at_ms);
    auto key = c.key();
    auto& slot = by_key_[key];
    slot = std::move(c);
    return slot;
}

std::vector<ReplicatedCommand> CommandLog::merge(std::span<const ReplicatedCommand> incoming,
                                                 std::vector<std::string>* rejected) {
    std::map<std::string, ReplicatedCommand> won;
    for (auto& c : incoming) {
        if (auto why = invalid(c)) {
            if (rejected) rejected->push_back(*why);
            continue;
        }
        auto key = c.key();
        auto it = by_key_.find(key);
        if (it != by_key_.end() && !supersedes(c, it->second)) continue;
        by_key_[key] = c;
        won[key] = c;
        clock_ms_ = std::max(clock_ms_, c.at_ms);
    }
    std::vector<ReplicatedCommand> out;
    out.reserve(won.size());
    for (auto& [k, c] : won) out.push_back(std::move(c));
    return out;
}

void CommandLog::restore(std::span<const ReplicatedCommand> records, int64_t clock_ms) {
    by_key_.clear();
    clock_ms_ = clock_ms;
    merge(records);
}

std::size_t CommandLog::prune(int64_t now_ms, int64_t retention_ms) {
    return std::erase_if(by_key_, [&](auto& kv) {
        auto& c = kv.second;
        bool spent = false;
        switch (c.kind) {
            case CommandKind::Override:
                spent = c.state == core::Override::Auto || (c.expires_ms && *c.expires_ms <= now_ms);
                break;
            case CommandKind::Drain: spent = !c.active; break;
            case CommandKind::Release: spent = true; break;
        }
        int64_t done_ms = c.at_ms;
        if (c.kind == CommandKind::Override && c.expires_ms && c.state != core::Override::Auto)
            done_ms = std::max(done_ms, *c.expires_ms);
        return spent && now_ms - done_ms > retention_ms;
    });
}

const ReplicatedCommand* CommandLog::find(CommandKind kind, const std::string& target) const {
    auto it = by_key_.find(std::string(to_string(kind)) + " " + target);
    return it == by_key_.end() ? nullptr : &it->second;
}

std::vector<ReplicatedCommand> CommandLog::all() const {
    std::vector<ReplicatedCommand> out;
    out.reserve(by_key_.size());
    for (auto& [k, c] : by_key_) out.push_back(c);
    return out;
}

}  // namespace signpost::control
