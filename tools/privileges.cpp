// Dropping root: setgroups, setgid, setuid with PR_SET_KEEPCAPS so that only
// CAP_NET_BIND_SERVICE survives; verified afterwards. Never on the query path.
#include "tools/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

namespace signpost::tools {

namespace {

std::optional<unsigned long> number(const std::string& s) {
    unsigned long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::string errno_text(int e) { return std::strerror(e); }

bool get_caps(__user_cap_data_struct (&data)[2]) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    return ::syscall(SYS_capget, &hdr, data) == 0;
}

bool set_caps(uint32_t permitted_low, uint32_t effective_low) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    data[0].permitted = permitted_low;
    data[0].effective = effective_low;
    return ::syscall(SYS_capset, &hdr, data) == 0;
}

}  // namespace

bool drop_privileges(const PrivilegeConfig& config, std::string* error) {
    auto fail = [&](std::string why) {
        if (error) *error = std::move(why);
        return false;
    };
    if (config.user.empty()) {
        if (!config.group.empty()) return fail("'group' is set without 'user'; set both (or neither)");
        return true;
    }
    // Look the user and group up before anything changes.
    std::vector<char> buf(16384);
    passwd pw{}, *pwp = nullptr;
    uid_t uid;
    gid_t gid;
    if (auto n = number(config.user)) {
        uid = uid_t(*n);
        gid = gid_t(*n);
        if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &pwp) == 0 && pwp) gid = pw.pw_gid;
    } else {
        if (::getpwnam_r(config.user.c_str(), &pw, buf.data(), buf.size(), &pwp) != 0 || !pwp)
            return fail("unknown user '" + config.user + "' (not in the passwd database)");
        uid = pw.pw_uid;
        gid = pw.pw_gid;
    }
    if (!config.group.empty()) {
        if (auto n = number(config.group)) {
            gid = gid_t(*n);
        } else {
            std::vector<char> gbuf(16384);
            group gr{}, *grp = nullptr;
            if (::getgrnam_r(config.group.c_str(), &gr, gbuf.data(), gbuf.size(), &grp) != 0 || !grp)
                return fail("unknown group '" + config.group + "' (not in the group database)");
            gid = grp->gr_gid;
        }
    }
    if (uid == 0) return fail("refusing to 'drop' privileges to user '" + config.user + "': it is root (uid 0)");

    if (::geteuid() != 0) {
        // Not root: fine if we already are that user (e.g. started by systemd as it).
        if (::getuid() == uid && ::geteuid() == uid && ::getgid() == gid && ::getegid() == gid) return true;
        return fail("cannot switch to user '" + config.user + "': not running as root (uid " +
                    std::to_string(::geteuid()) + "); start as root or as that user");
    }

    if (config.keep_bind_capability && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return fail("prctl(PR_SET_KEEPCAPS): " + errno_text(errno));
    if (::setgroups(1, &gid) != 0) return fail("setgroups(" + std::to_string(gid) + "): " + errno_text(errno));
    if (::setresgid(gid, gid, gid) != 0) return fail("setgid(" + std::to_string(gid) + "): " + errno_text(errno));
    if (::setresuid(uid, uid, uid) != 0) return fail("setuid(" + std::to_string(uid) + "): " + errno_text(errno));
    if (config.keep_bind_capability) {
        ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        const uint32_t bind = 1u << CAP_NET_BIND_SERVICE;
        if (!set_caps(bind, bind)) return fail("capset(CAP_NET_BIND_SERVICE): " + errno_text(errno));
    }

    // Verify: every id switched, root cannot come back, no capability but the one kept.
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    ::getresuid(&ru, &eu, &su);
    ::getresgid(&rg, &eg, &sg);
    if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
        return fail("user/group switch did not take effect");
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return fail("root could be regained after the switch; refusing to run");
    __user_cap_data_struct caps[2]{};
    if (!get_caps(caps)) return fail("capget: " + errno_text(errno));
    uint32_t allowed = config.keep_bind_capability ? (1u << CAP_NET_BIND_SERVICE) : 0;
    if ((caps[0].permitted & ~allowed) || caps[1].permitted || (caps[0].effective & ~allowed) || caps[1].effective)
        return fail("capabilities other than CAP_NET_BIND_SERVICE remain after the switch");
    return true;
}

std::string describe_identity() {
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    std::vector<char> buf(16384);
    passwd pw{}, *pwp = nullptr;
    group gr{}, *grp = nullptr;
    std::string out = "uid=" + std::to_string(uid);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &pwp) == 0 && pwp) out += "(" + std::string(pw.pw_name) + ")";
    out += " gid=" + std::to_string(gid);
    if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &grp) == 0 && grp) out += "(" + std::string(gr.gr_name) + ")";
    __user_cap_data_struct caps[2]{};
    if (get_caps(caps)) {
        if (caps[0].effective == 0 && caps[1].effective == 0) out += " caps=none";
        else if (caps[0].effective == (1u << CAP_NET_BIND_SERVICE) && caps[1].effective == 0) out += " caps=net_bind_service";
        else out += " caps=many";
    }
    return out;
}

}  // namespace signpost::tools
