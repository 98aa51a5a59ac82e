// Dropping root: switch to a configured user and group, keeping at most
// CAP_NET_BIND_SERVICE so that port 53 can still be bound later. Start-up only.
#pragma once

#include <string>

namespace signpost::tools {

struct PrivilegeConfig {
    std::string user;   // name or numeric uid; empty: stay who we are
    std::string group;  // name or numeric gid; empty: the user's primary group
    // Keep CAP_NET_BIND_SERVICE (permitted + effective) across the switch so
    // ports below 1024 can be bound after it; nothing else survives.
    bool keep_bind_capability = true;
};

// Switches the calling process (which must not have started threads yet, as
// capabilities are per thread) to `config.user`/`config.group`: setgroups to the
// one group, setgid, setuid, then checks that root cannot be regained. Returns
// false with `error` set when anything fails; the caller must then exit rather
// than keep running as root. With an empty user: true, nothing done.
// When already running as the target user (not root), succeeds without change.
bool drop_privileges(const PrivilegeConfig& config, std::string* error);

// "uid=65534(nobody) gid=65534(nogroup) caps=net_bind_service" for the log.
std::string describe_identity();

}  // namespace signpost::tools
