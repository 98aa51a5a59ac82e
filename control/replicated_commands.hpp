// Operator commands (override, drain, release and their undo) as a cluster
// shares them: one record per (kind, target), merged by one deterministic rule
// so every instance that has seen the same records applies the same commands.
// Pure: no I/O, no clocks (the caller passes the wall time in).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/health.hpp"

namespace signpost::control {

enum class CommandKind : uint8_t { Override, Drain, Release };
const char* to_string(CommandKind k);
std::optional<CommandKind> command_kind_from(std::string_view s);

// The last command on one target, made at `origin` at `at_ms`.
//   override: `state` (Auto = back to automatic, a record that undoes);
//   drain:    `active` (false = --undo);
//   release:  a one-shot; each newer release record releases the service once.
struct ReplicatedCommand {
    CommandKind kind = CommandKind::Override;
    std::string target;                  // endpoint or pool key (override), endpoint key (drain), service key (release)
    core::Override state = core::Override::Auto;
    bool active = true;
    std::string reason;
    std::optional<int64_t> expires_ms;   // override only: an absolute time (Unix ms), the same everywhere
    int64_t at_ms = 0;                   // the command's stamp (Unix ms, hybrid-logical: see CommandLog::stamp)
    std::string origin;                  // the instance it was made at ("" on a single instance)

    std::string key() const;  // "<kind> <target>": one record per key
    bool operator==(const ReplicatedCommand&) const = default;
};

// The conflict rule: `a` replaces `b` (same key) when its stamp is later, or
// on equal stamps when its origin sorts later (byte order); on equal stamp and
// origin (the same command seen twice, or a corrupt peer) the content breaks
// the tie, so the outcome never depends on the order records arrive in.
bool supersedes(const ReplicatedCommand& a, const ReplicatedCommand& b);

// A record is well-formed: a target, a stamp, a known state.
// nullopt when fine, else what is wrong (for the log).
std::optional<std::string> invalid(const ReplicatedCommand& c);

class CommandLog {
public:
    // The stamp for a command made here now: the wall time, but never at or
    // below any stamp already seen (made here or merged from a peer), so a
    // command made after seeing another one on the same target wins over it
    // even when this instance's clock is behind (a hybrid logical clock).
    int64_t stamp(int64_t now_ms);

    // Records a command made here (its stamp from stamp()). Returns the record.
    const ReplicatedCommand& record(ReplicatedCommand c);

    // Merges a peer's records; returns those that won (replaced what this log
    // had, or were new), in key order: the caller applies them. Records that
    // lose or are equal change nothing; malformed records are skipped and
    // described in `rejected` (if given).
    std::vector<ReplicatedCommand> merge(std::span<const ReplicatedCommand> incoming,
                                         std::vector<std::string>* rejected = nullptr);

    // Restores a state file's records without applying anything (their effect
    // is in the state file's overrides, drains and services already).
    void restore(std::span<const ReplicatedCommand> records, int64_t clock_ms);

    // Forgets records that no longer matter: overrides back to automatic and
    // expired overrides, undone drains and releases, whose stamp is older than
    // `retention_ms` before `now_ms`. They are kept that long so an instance
    // that was down with an older record on the same target learns it was
    // undone. Returns how many were forgotten.
    std::size_t prune(int64_t now_ms, int64_t retention_ms);

    const ReplicatedCommand* find(CommandKind kind, const std::string& target) const;
    std::vector<ReplicatedCommand> all() const;
    int64_t clock_ms() const noexcept { return clock_ms_; }
    std::size_t size() const noexcept { return by_key_.size(); }
    bool empty() const noexcept { return by_key_.empty(); }

private:
    std::map<std::string, ReplicatedCommand> by_key_;
    int64_t clock_ms_ = 0;  // the highest stamp seen
};

// How long undone and expired records are kept (see prune): 7 days.
inline constexpr int64_t kCommandRetentionMs = 7LL * 24 * 3600 * 1000;

}  // namespace signpost::control
