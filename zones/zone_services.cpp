// Probing and routing of a zone: [checks], [pools] with their endpoints, [services]
// with their hooks, and the host each endpoint is probed as. Load time only.
#include <algorithm>
#include <cctype>
#include <utility>

#include "zones/zone_parser.hpp"

namespace signpost::zones::detail {

namespace {

using core::SourceLocation;

const std::vector<std::string> kCheckKeys = {
    "kind", "interval", "timeout", "fast_interval", "rise", "fall", "initial", "method", "path", "port", "host",
    "expect_status", "body_contains", "headers", "tls_verify", "ca_file", "cert_warning_days", "follow_redirects",
    "keepalive", "addresses", "command", "timeout_min", "timeout_max", "warn_latency", "warn_failures",
    "warn_window"};
const std::vector<std::string> kPoolKeys = {"endpoints", "checks", "check",    "min_healthy", "weight",
                                            "subnets",   "location", "bias_km", "max_km"};
const std::vector<std::string> kEndpointKeys = {"address", "hostname", "name", "check_address"};
const std::vector<std::string> kServiceKeys = {"names",     "policy",   "pools",     "ttl",
                                               "unstable_ttl", "unstable_for", "all_down", "failback",
                                               "hold_down", "failback_gate", "max_addresses", "flatten", "hooks",
                                               "rules", "nearest"};
const std::vector<std::string> kHookKeys = {"command", "url"};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower((unsigned char)c));
    return out;
}

// A text an operator meant as an address: it has a ':' (IPv6) or its last label is
// all digits (no top-level domain is). Such a text that does not parse is a broken
// address ("10.0.0.300", "2001:db8::zz"), never a hostname.
bool looks_like_address(std::string_view s) {
    if (s.find(':') != std::string_view::npos) return true;
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    auto last = s.substr(s.rfind('.') == std::string_view::npos ? 0 : s.rfind('.') + 1);
    return !last.empty() && std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c); });
}

// An endpoint hostname: absolute (a final dot optional, never completed with the
// origin), at least two labels of letters, digits, '-' and '_' (no label starts or
// ends with '-'), at most 253 characters. nullopt with `why` set otherwise.
std::optional<core::Name> endpoint_hostname(std::string_view text, std::string& why) {
    std::string_view s = text;
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    if (s.empty()) {
        why = "the name is empty";
        return std::nullopt;
    }
    if (s.size() > 253) {
        why = "longer than 253 characters";
        return std::nullopt;
    }
    int labels = 0;
    for (std::size_t start = 0; start <= s.size();) {
        auto dot = s.find('.', start);
        auto label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) {
            why = "empty label";
            return std::nullopt;
        }
        if (label.size() > 63) {
            why = "label \"" + std::string(label.substr(0, 20)) + "...\" is longer than 63 characters";
            return std::nullopt;
        }
        for (unsigned char c : label) {
            if (!std::isalnum(c) && c != '-' && c != '_') {
                why = "label " + dq(label) + " may contain only letters, digits, '-' and '_'";
                return std::nullopt;
            }
        }
        if (label.front() == '-' || label.back() == '-') {
            why = "label " + dq(label) + " may not start or end with '-'";
            return std::nullopt;
        }
        ++labels;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (looks_like_address(s)) {
        why = "its last label is all digits, as in an address";
        return std::nullopt;
    }
    if (labels < 2) {
        why = "a hostname needs at least two labels; it is absolute, never completed with the zone's origin";
        return std::nullopt;
    }
    auto name = core::Name::from_text(std::string(s) + ".", core::Name(), &why);
    return name;
}

}  // namespace

void ZoneParser::parse_check(const std::string& name, TomlNode node, const SourceLocation& where) {
    std::string ctx = zctx_ + " check '" + name + "'";
    if (!valid_identifier(name)) {
        error(where, ctx, "a check name may contain only letters, digits, '-' and '_'");
    }
    auto t = r_.table(node, ctx, "a check");
    if (!t) return;
    r_.check_keys(t, ctx, kCheckKeys);
    core::CheckSpec c;
    c.name = name;
    c.where = where;
    std::optional<std::string> kind;
    if (auto n = t.get("kind")) {
        kind = r_.choice(n, ctx, "kind", {"http", "https", "tcp", "exec"});
    } else {
        error(where, ctx, "kind is required; allowed: http, https, tcp, exec");
    }
    if (kind == "http") c.kind = core::CheckKind::Http;
    if (kind == "https") c.kind = core::CheckKind::Https;
    if (kind == "tcp") c.kind = core::CheckKind::Tcp;
    if (kind == "exec") c.kind = core::CheckKind::Exec;
    auto dur = [&](const char* key, core::Millis& field) {
        if (auto n = t.get(key))
            if (auto v = r_.duration(n, ctx, key, false)) field = *v;
    };
    dur("interval", c.interval);
    if (auto n = t.get("timeout")) {
        if (n.as_string() == std::optional<std::string>("auto")) {
            c.timeout_auto = true;
        } else if (auto v = r_.duration(n, ctx, "timeout", core::Millis{1}, core::Millis{3600000},
                                        "a duration such as \"1s\" or \"200ms\", or \"auto\"")) {
            c.timeout = *v;
        }
    }
    dur("fast_interval", c.fast_interval);
    // timeout = "auto": the timeout follows the measured latency within
    // timeout_min..timeout_max (probes/latency_stats.hpp).
    if (c.timeout_auto) {
        c.timeout = std::min(core::Millis{1000}, c.interval);
        if (auto n = t.get("timeout_max"))
            if (auto v = r_.duration(n, ctx, "timeout_max", core::Millis{1}, core::Millis{3600000},
                                     "a duration such as \"1s\" or \"500ms\""))
                c.timeout = *v;
        if (auto n = t.get("timeout_min"))
            if (auto v = r_.duration(n, ctx, "timeout_min", core::Millis{1}, core::Millis{3600000},
                                     "a duration such as \"50ms\" or \"1s\""))
                c.timeout_min = *v;
        if (c.timeout_min > c.timeout) {
            auto n = t.get("timeout_min");
            error(n ? n.where() : where, ctx,
                  "timeout_min " + core::format_duration(c.timeout_min) + " must not exceed timeout_max " +
                      core::format_duration(c.timeout));
        }
    }
    // Brownout warning: 0 turns a rule off; otherwise a factor (1.5..1000) or a share (above 0, at most 1).
    auto number = [&](const char* key, double& field, double lo, double hi, const char* want) {
        if (auto n = t.get(key)) {
            auto v = n.as_number();
            if (!v || (*v != 0 && (*v < lo || *v > hi)))
                r_.must_be(n, ctx, key, want);
            else
                field = *v;
        }
    };
    number("warn_latency", c.warn_latency, 1.5, 1000, "0 (off) or a factor from 1.5 to 1000, such as 4");
    number("warn_failures", c.warn_failures, 0.01, 1, "0 (off) or a share of probes from 0.01 to 1, such as 0.25");
    if (auto n = t.get("warn_window"))
        if (auto v = r_.integer(n, ctx, "warn_window", 2, 100)) c.warn_window = int(*v);
    if (auto n = t.get("rise"))
        if (auto v = r_.integer(n, ctx, "rise", 1, 10)) c.rise = int(*v);
    if (auto n = t.get("fall"))
        if (auto v = r_.integer(n, ctx, "fall", 1, 10)) c.fall = int(*v);
    if (auto n = t.get("initial"))
        if (auto v = r_.choice(n, ctx, "initial", {"up", "down"}))
            c.initial = *v == "up" ? core::HealthState::Up : core::HealthState::Down;
    if (auto n = t.get("method"))
        if (auto v = r_.choice(n, ctx, "method", {"GET", "HEAD"})) c.method = *v;
    if (auto n = t.get("path")) {
        if (auto v = r_.string(n, ctx, "path")) {
            if (v->empty() || (*v)[0] != '/')
                error(n.where(), ctx, "path must start with '/', got " + dq(*v));
            else
                c.path = *v;
        }
    }
    if (auto n = t.get("port"))
        if (auto v = r_.integer(n, ctx, "port", 1, 65535)) c.port = uint16_t(*v);
    if (auto n = t.get("host"))
        if (auto v = r_.string(n, ctx, "host")) c.host = *v;
    if (auto n = t.get("expect_status")) parse_status(n, ctx, c);
    if (auto n = t.get("body_contains"))
        if (auto v = r_.string(n, ctx, "body_contains")) c.body_contains = *v;
    if (auto n = t.get("headers")) {
        if (auto h = r_.table(n, ctx, "headers")) {
            for (auto& e : h.entries()) {
                if (auto v = r_.string(e.value, ctx, "header '" + e.key + "'"))
                    c.headers.emplace_back(e.key, *v);
            }
        }
    }
    if (auto n = t.get("tls_verify"))
        if (auto v = r_.boolean(n, ctx, "tls_verify")) c.tls_verify = *v;
    if (auto n = t.get("ca_file"))
        if (auto v = r_.string(n, ctx, "ca_file")) c.ca_file = *v;
    if (auto n = t.get("cert_warning_days"))
        if (auto v = r_.integer(n, ctx, "cert_warning_days", 0, 3650)) c.cert_warning_days = int(*v);
    if (auto n = t.get("follow_redirects"))
        if (auto v = r_.boolean(n, ctx, "follow_redirects")) c.follow_redirects = *v;
    if (auto n = t.get("keepalive"))
        if (auto v = r_.boolean(n, ctx, "keepalive")) c.keepalive = *v;
    if (auto n = t.get("addresses"))
        if (auto v = r_.choice(n, ctx, "addresses", {"any", "all"})) c.all_addresses = *v == "all";
    if (auto n = t.get("command")) {
        if (n.is_array() && !n.empty()) {
            for (auto& e : n.elements()) {
                if (auto s = e.as_string())
                    c.command.push_back(*s);
                else
                    error(e.where(), ctx, "command must contain only strings, got " + e.describe());
            }
        } else {
            error(n.where(), ctx,
                  "command must be a non-empty array: the program and its arguments, got " + n.describe());
        }
    }
    if (auto ti = t.get(c.timeout_auto ? "timeout_max" : "timeout"), iv = t.get("interval"); c.timeout > c.interval) {
        error(ti ? ti.where() : (iv ? iv.where() : where), ctx,
              std::string(c.timeout_auto ? "timeout_max " : "timeout ") + core::format_duration(c.timeout) +
                  " must not exceed interval " +
                  core::format_duration(c.interval));
    }
    if (kind) {
        if (*kind == "tcp" && !t.get("port")) error(where, ctx, "a tcp check needs a port (1..65535)");
        if (*kind == "exec" && !t.get("command"))
            error(where, ctx, "an exec check needs a command: an array with the program and its arguments");
        std::vector<std::string> applies = {"kind",         "interval",      "timeout",     "fast_interval",
                                            "rise",         "fall",          "initial",     "addresses",
                                            "warn_latency", "warn_failures", "warn_window"};
        if (c.timeout_auto) applies.insert(applies.end(), {"timeout_min", "timeout_max"});
        if (*kind == "http" || *kind == "https")
            applies.insert(applies.end(), {"method", "path", "port", "host", "expect_status", "body_contains",
                                           "headers", "follow_redirects", "keepalive"});
        if (*kind == "https") applies.insert(applies.end(), {"tls_verify", "ca_file", "cert_warning_days"});
        if (*kind == "tcp") applies.push_back("port");
        if (*kind == "exec") applies.push_back("command");
        for (auto& e : t.entries()) {
            bool known = std::find(kCheckKeys.begin(), kCheckKeys.end(), e.key) != kCheckKeys.end();
            if (known && std::find(applies.begin(), applies.end(), e.key) == applies.end())
                warning(e.key_where, ctx, "key '" + e.key + "' does not apply to " + *kind + " checks; ignored");
        }
    }
    zone_.checks[name] = std::move(c);
}

void ZoneParser::parse_status(TomlNode node, const std::string& ctx, core::CheckSpec& c) {
    std::vector<TomlNode> items = node.is_array() ? node.elements() : std::vector<TomlNode>{node};
    const std::string allowed =
        "expect_status must be status codes or \"low-high\" ranges within 100..599, got ";
    std::vector<core::StatusRange> out;
    for (auto& n : items) {
        core::StatusRange r;
        bool ok = false;
        if (auto i = n.as_integer()) {
            r.low = r.high = int(std::clamp<int64_t>(*i, -1, 100000));
            ok = true;
        } else if (auto s = n.as_string()) {
            const std::string& text = *s;
            auto dash = text.find('-');
            auto num = [](std::string_view d, int& v) {
                if (d.empty() || d.size() > 3) return false;
                v = 0;
                for (char ch : d) {
                    if (!std::isdigit((unsigned char)ch)) return false;
                    v = v * 10 + (ch - '0');
                }
                return true;
            };
            if (dash == std::string::npos) {
                ok = num(text, r.low);
                r.high = r.low;
            } else {
                ok = num(std::string_view(text).substr(0, dash), r.low) &&
                     num(std::string_view(text).substr(dash + 1), r.high);
            }
        }
        if (!ok || r.low < 100 || r.high > 599 || r.low > r.high) {
            error(n.where(), ctx, allowed + n.describe());
            continue;
        }
        out.push_back(r);
    }
    if (items.empty()) error(node.where(), ctx, allowed + "an empty array");
    if (!out.empty()) c.expect_status = out;
}

void ZoneParser::parse_pool(const std::string& name, TomlNode node, const SourceLocation& where) {
    std::string ctx = zctx_ + " pool '" + name + "'";
    if (!valid_identifier(name)) error(where, ctx, "a pool name may contain only letters, digits, '-' and '_'");
    auto t = r_.table(node, ctx, "a pool");
    if (!t) return;
    r_.check_keys(t, ctx, kPoolKeys);
    Pool pool;
    pool.name = name;
    pool.where = where;
    std::vector<std::string> checks;
    auto checks_n = t.get("checks");
    auto check_n = t.get("check");
    if (checks_n && check_n) error(check_n.where(), ctx, "give either check or checks, not both");
    for (auto [n, key] : {std::pair{checks_n, "checks"}, std::pair{check_n, "check"}}) {
        if (!n) continue;
        auto list = r_.strings(n, ctx, key);
        if (!list) continue;
        for (auto& [c, w] : *list) {
            if (zone_.checks.count(c)) {
                if (std::find(checks.begin(), checks.end(), c) == checks.end()) checks.push_back(c);
                continue;
            }
            std::vector<std::string> defined;
            for (auto& [k, v] : zone_.checks) defined.push_back(k);
            error(w, ctx,
                  "unknown check '" + c + "'" + suggestion(c, defined) +
                      (defined.empty() ? "; this zone defines no [checks]" : "; defined checks: " + join(defined)));
        }
    }
    if (auto n = t.get("endpoints")) {
        if (!n.is_array()) {
            error(n.where(), ctx, "endpoints must be an array of addresses or tables, got " + n.describe());
        } else if (n.empty()) {
            error(n.where(), ctx, "endpoints is empty; a pool needs at least one endpoint");
        } else {
            for (auto& e : n.elements()) parse_endpoint(e, ctx, pool, checks);
        }
    } else {
        error(where, ctx, "endpoints is required: an array of addresses such as [\"192.0.2.10\"]");
    }
    if (auto n = t.get("min_healthy")) {
        int64_t max = std::max<int64_t>(1, int64_t(pool.endpoints.size()));
        if (auto i = n.as_integer(); i && (*i < 1 || *i > max)) {
            error(n.where(), ctx,
                  "min_healthy must be 1.." + std::to_string(max) + " (the number of endpoints), got " +
                      std::to_string(*i));
        } else if (auto v = r_.integer(n, ctx, "min_healthy", 1, max)) {
            pool.min_healthy = uint32_t(*v);
        }
    }
    if (auto n = t.get("weight"))
        if (auto v = r_.integer(n, ctx, "weight", 1, 1000)) pool.weight = uint32_t(*v);
    if (auto n = t.get("subnets")) {
        if (auto list = r_.strings(n, ctx, "subnets")) {
            for (auto& [s, w] : *list) {
                if (auto p = core::IpPrefix::parse(s))
                    pool.subnets.push_back(*p);
                else
                    error(w, ctx, "subnet must be a prefix such as \"198.51.100.0/24\" or \"2001:db8::/32\", got " + dq(s));
            }
        }
    }
    parse_geo_pool(t, ctx, pool);
    zone_.pools.push_back(std::move(pool));
}

void ZoneParser::parse_endpoint(TomlNode e, const std::string& pool_ctx, Pool& pool, const std::vector<std::string>& checks) {
    Endpoint ep;
    ep.where = e.where();
    ep.checks = checks;
    std::string address;
    bool explicit_hostname = false;  // written as hostname = "..."
    std::optional<std::string> check_address;
    SourceLocation address_where = e.where(), check_where = e.where();
    if (auto s = e.as_string()) {
        address = *s;
    } else if (e.is_table()) {
        TomlNode t = e;
        r_.check_keys(t, pool_ctx + " endpoint", kEndpointKeys);
        auto addr_n = t.get("address");
        auto host_n = t.get("hostname");
        if (addr_n && host_n) {
            error(host_n.where(), pool_ctx, "give either address or hostname, not both");
            return;
        }
        if (addr_n) {
            address_where = addr_n.where();
            if (auto v = r_.string(addr_n, pool_ctx, "address")) address = *v;
            else return;
        } else if (host_n) {
            address_where = host_n.where();
            explicit_hostname = true;
            if (auto v = r_.string(host_n, pool_ctx, "hostname")) address = *v;
            else return;
        } else {
            error(e.where(), pool_ctx,
                  "an endpoint table needs an address or a hostname, e.g. { address = \"192.0.2.10\" } or "
                  "{ hostname = \"eu.lb.example.net\" }");
            return;
        }
        if (auto n = t.get("name"))
            if (auto v = r_.string(n, pool_ctx, "name")) {
                if (v->empty() || v->find('/') != std::string::npos)
                    error(n.where(), pool_ctx, "endpoint name must be non-empty and contain no '/', got " + dq(*v));
                else
                    ep.name = *v;
            }
        if (auto n = t.get("check_address")) {
            check_where = n.where();
            check_address = r_.string(n, pool_ctx, "check_address");
        }
    } else {
        error(e.where(), pool_ctx,
              "an endpoint must be an address or hostname string or a table with address or hostname, got " +
                  e.describe());
        return;
    }
    if (auto addr = core::IpAddress::parse(address)) {
        if (explicit_hostname) {
            error(address_where, pool_ctx,
                  "hostname must be a name such as \"eu.lb.example.net\", got the address " + dq(address) +
                      "; write it as address = " + dq(address));
            return;
        }
        ep.address = *addr;
        ep.check_address = *addr;
        if (check_address) {
            auto ca = core::IpAddress::parse(*check_address);
            if (!ca) {
                error(check_where, pool_ctx, "check_address must be an IPv4 or IPv6 address, got " + dq(*check_address));
                return;
            }
            ep.check_address = *ca;
        }
    } else if (!explicit_hostname && looks_like_address(address)) {
        error(address_where, pool_ctx, "endpoint address must be an IPv4 or IPv6 address, got " + dq(address));
        return;
    } else {
        std::string why;
        auto host = endpoint_hostname(address, why);
        if (!host) {
            error(address_where, pool_ctx,
                  std::string(explicit_hostname ? "hostname must be a name"
                                                : "endpoint must be an IPv4 or IPv6 address or a hostname") +
                      " such as \"eu.lb.example.net\", got " + dq(address) + ": " + why);
            return;
        }
        if (check_address) {
            error(check_where, pool_ctx,
                  "check_address does not apply to a hostname endpoint: each address " + host->to_key() +
                      " resolves to is probed");
            return;
        }
        ep.hostname = std::move(host);
    }
    if (ep.name.empty()) ep.name = ep.hostname ? ep.hostname->to_key() : address;
    for (auto& other : pool.endpoints) {
        if (ep.hostname && other.hostname == ep.hostname) {
            error(ep.where, pool_ctx,
                  "duplicate endpoint hostname '" + ep.hostname->to_key() + "' (also at line " +
                      std::to_string(other.where.line) + "); a pool lists each hostname once");
            return;
        }
        if (other.name == ep.name) {
            error(ep.where, pool_ctx,
                  "duplicate endpoint name '" + ep.name + "' (also at line " + std::to_string(other.where.line) +
                      "); endpoint names must be unique within a pool");
            return;
        }
    }
    pool.endpoints.push_back(std::move(ep));
}

void ZoneParser::parse_service(const std::string& name, TomlNode node, const SourceLocation& where) {
    std::string ctx = zctx_ + " service '" + name + "'";
    if (!valid_identifier(name)) error(where, ctx, "a service name may contain only letters, digits, '-' and '_'");
    // By lowered name, kept up to date with zone_.services (10,000 services compared each
    // with all before it took 4.6 s).
    for (; services_by_lower_count_ < zone_.services.size(); ++services_by_lower_count_)
        services_by_lower_.emplace(lower(zone_.services[services_by_lower_count_].name), services_by_lower_count_);
    if (auto it = services_by_lower_.find(lower(name)); it != services_by_lower_.end()) {
        auto& other = zone_.services[it->second];
        error(where, ctx,
              "duplicate service name (also '" + other.name + "' at line " + std::to_string(other.where.line) +
                  "); service names are compared without case");
    }
    auto t = r_.table(node, ctx, "a service");
    if (!t) return;
    r_.check_keys(t, ctx, kServiceKeys);
    Service s;
    s.name = name;
    s.where = where;
    if (auto n = t.get("names")) {
        if (auto list = r_.strings(n, ctx, "names")) {
            if (list->empty()) error(n.where(), ctx, "names is empty; give the names this service answers, e.g. [\"www\"]");
            for (auto& [text, w] : *list) {
                auto owner = owner_name(text, w, ctx);
                if (!owner) continue;
                if (std::find(s.owners.begin(), s.owners.end(), *owner) != s.owners.end()) {
                    error(w, ctx, "name " + dq(text) + " is listed twice");
                    continue;
                }
                if (auto it = service_owner_.find(*owner); it != service_owner_.end()) {
                    error(w, ctx,
                          "name " + dq(text) + " is already answered by service '" + it->second +
                              "'; a name belongs to one service");
                    continue;
                }
                service_owner_.emplace(*owner, name);
                service_owner_where_.emplace(*owner, w);
                s.owners.push_back(*owner);
            }
        }
    } else {
        error(where, ctx, "names is required: the names this service answers, e.g. [\"@\", \"www\"]");
    }
    if (auto n = t.get("policy")) {
        if (auto v = r_.choice(n, ctx, "policy", {"failover", "weighted", "multivalue", "subnet", "geo"})) {
            if (*v == "failover") s.policy = PolicyKind::Failover;
            if (*v == "weighted") s.policy = PolicyKind::Weighted;
            if (*v == "multivalue") s.policy = PolicyKind::Multivalue;
            if (*v == "subnet") s.policy = PolicyKind::Subnet;
            if (*v == "geo") s.policy = PolicyKind::Geo;
        }
    }
    if (auto n = t.get("pools")) {
        if (auto list = r_.strings(n, ctx, "pools")) {
            if (list->empty()) error(n.where(), ctx, "pools is empty; give at least one pool, in priority order");
            for (auto& [p, w] : *list) {
                auto it = std::find_if(zone_.pools.begin(), zone_.pools.end(), [&name = p](auto& x) { return x.name == name; });
                if (it == zone_.pools.end()) {
                    std::vector<std::string> defined;
                    for (auto& x : zone_.pools) defined.push_back(x.name);
                    error(w, ctx,
                          "unknown pool '" + p + "'" + suggestion(p, defined) +
                              (defined.empty() ? "; this zone defines no [pools]" : "; defined pools: " + join(defined)));
                    continue;
                }
                std::size_t idx = std::size_t(it - zone_.pools.begin());
                if (std::find(s.pools.begin(), s.pools.end(), idx) != s.pools.end()) {
                    error(w, ctx, "pool '" + p + "' is listed twice");
                    continue;
                }
                s.pools.push_back(idx);
            }
        }
    } else {
        error(where, ctx, "pools is required: the pools to answer from, in priority order");
    }
    if (auto n = t.get("ttl")) {
        if (auto v = ttl_value(n, ctx, "ttl")) {
            if (*v > zone_.default_ttl)
                error(n.where(), ctx,
                      "ttl " + std::to_string(*v) + " is above the zone ttl " + std::to_string(zone_.default_ttl) +
                          "; a service ttl must be at most the zone ttl");
            else
                s.ttl = *v;
        }
    } else if (s.ttl > zone_.default_ttl) {
        s.ttl = zone_.default_ttl;
    }
    s.unstable_ttl = std::min(s.unstable_ttl, s.ttl);
    if (auto n = t.get("unstable_ttl")) {
        if (auto v = ttl_value(n, ctx, "unstable_ttl")) {
            if (*v > s.ttl)
                error(n.where(), ctx,
                      "unstable_ttl " + std::to_string(*v) + " must be at most the service ttl " + std::to_string(s.ttl));
            else
                s.unstable_ttl = *v;
        }
    }
    if (auto n = t.get("unstable_for"))
        if (auto v = r_.duration(n, ctx, "unstable_for", true)) s.unstable_for = *v;
    if (auto n = t.get("all_down")) {
        if (auto v = r_.choice(n, ctx, "all_down", {"all", "primary", "nothing"})) {
            s.all_down = *v == "all" ? AllDown::All : *v == "primary" ? AllDown::Primary : AllDown::Nothing;
        }
    }
    bool failback_ok = true;
    if (auto n = t.get("failback")) {
        auto v = r_.choice(n, ctx, "failback", {"auto", "hold-down", "gated", "manual"});
        failback_ok = bool(v);
        if (v == "auto") s.failback = Failback::Auto;
        if (v == "hold-down") s.failback = Failback::HoldDown;
        if (v == "gated") s.failback = Failback::Gated;
        if (v == "manual") s.failback = Failback::Manual;
    }
    if (auto n = t.get("hold_down")) {
        if (auto v = r_.duration(n, ctx, "hold_down", false)) s.hold_down = *v;
        if (failback_ok && s.failback != Failback::HoldDown)
            warning(n.where(), ctx, "hold_down is used only with failback = \"hold-down\"; ignored");
    } else if (s.failback == Failback::HoldDown) {
        error(where, ctx, "failback = \"hold-down\" needs hold_down, a duration such as \"5m\"");
    }
    if (auto n = t.get("failback_gate")) {
        if (auto v = r_.string(n, ctx, "failback_gate")) {
            if (failback_ok && s.failback != Failback::Gated) {
                warning(n.where(), ctx, "failback_gate is used only with failback = \"gated\"; ignored");
            } else {
                auto slash = v->find('/');
                const Pool* pool = nullptr;
                if (slash != std::string::npos)
                    for (auto& p : zone_.pools)
                        if (p.name == v->substr(0, slash)) pool = &p;
                bool found = false;
                if (pool)
                    for (auto& e : pool->endpoints) found = found || e.name == v->substr(slash + 1);
                if (found)
                    s.failback_gate = *v;
                else
                    error(n.where(), ctx,
                          "failback_gate must name an endpoint of this zone as \"pool/endpoint\", got " + dq(*v) +
                              (pool ? "; pool '" + pool->name + "' has no such endpoint"
                                    : slash == std::string::npos ? "" : "; no such pool"));
            }
        }
    } else if (s.failback == Failback::Gated) {
        error(where, ctx, "failback = \"gated\" needs failback_gate, the endpoint that gates failback as \"pool/endpoint\"");
    }
    if (auto n = t.get("max_addresses"))
        if (auto v = r_.integer(n, ctx, "max_addresses", 1, 255)) s.max_addresses = uint32_t(*v);
    if (auto n = t.get("flatten"))
        if (auto v = r_.boolean(n, ctx, "flatten")) s.flatten = *v;
    if (auto n = t.get("hooks")) {
        if (!n.is_array()) error(n.where(), ctx, "hooks must be an array of tables such as { url = \"http://...\" }, got " + n.describe());
        for (auto& h : n.elements()) parse_hook(h, ctx, s);
    }
    parse_geo_service(t, ctx, s);
    if (s.policy == PolicyKind::Subnet) {
        bool any = false;
        for (auto i : s.pools) any = any || !zone_.pools[i].subnets.empty();
        if (!any && !s.pools.empty())
            warning(where, ctx, "policy \"subnet\" but none of its pools lists subnets; every client gets the first pool");
    }
    zone_.services.push_back(std::move(s));
}

void ZoneParser::parse_hook(TomlNode h, const std::string& ctx, Service& s) {
    if (!h.is_table()) {
        error(h.where(), ctx, "a hook must be a table with command or url, got " + h.describe());
        return;
    }
    r_.check_keys(h, ctx + " hook", kHookKeys);
    Hook hook;
    hook.where = h.where();
    auto cmd = h.get("command");
    auto url = h.get("url");
    if (!cmd == !url) {
        error(h.where(), ctx, "a hook needs exactly one of command (an array) or url (a string)");
        return;
    }
    if (cmd) {
        if (!cmd.is_array() || cmd.empty()) {
            error(cmd.where(), ctx, "hook command must be a non-empty array: the program and its arguments, got " + cmd.describe());
            return;
        }
        for (auto& e : cmd.elements()) {
            if (!e.is_string()) {
                error(e.where(), ctx, "hook command must contain only strings, got " + e.describe());
                return;
            }
            hook.command.push_back(*e.as_string());
        }
    } else {
        auto v = r_.string(url, ctx, "hook url");
        if (!v) return;
        if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0) {
            error(url.where(), ctx, "hook url must start with http:// or https://, got " + dq(*v));
            return;
        }
        hook.url = *v;
    }
    s.hooks.push_back(std::move(hook));
}

// A service with hostname endpoints answers CNAME <hostname> at every owner but the
// apex unless it flattens; a CNAME cannot share its name with other data, so static
// records at such an owner are an error at the owner in the service's names.
void ZoneParser::check_cname_owners() {
    for (auto& s : zone_.services) {
        if (s.flatten) continue;
        const Pool* hostname_pool = nullptr;
        for (auto p : s.pools) {
            for (auto& e : zone_.pools[p].endpoints)
                if (e.hostname) hostname_pool = &zone_.pools[p];
            if (hostname_pool) break;
        }
        if (!hostname_pool) continue;
        for (auto& owner : s.owners) {
            if (owner == origin_) continue;
            auto* node = zone_.find_node(owner);
            if (!node || node->rrsets.empty()) continue;
            std::vector<std::string> found;
            for (auto& set : node->rrsets) {
                std::string at = set.where.file() == file_ ? "line " + std::to_string(set.where.line)
                                                           : set.where.file() + ":" + std::to_string(set.where.line);
                found.push_back(type_to_name(set.type) + " (" + at + ")");
            }
            auto w = service_owner_where_.count(owner) ? service_owner_where_[owner] : s.where;
            error(w, zctx_ + " service '" + s.name + "'",
                  "name " + dq(owner.to_relative_text(origin_)) + " is answered with a CNAME (pool '" +
                      hostname_pool->name + "' has hostname endpoints), which cannot share its name with static records: " +
                      join(found) + "; set flatten = true to answer with addresses instead, or move the records to another name");
        }
    }
}

void ZoneParser::set_probe_hosts() {
    for (std::size_t p = 0; p < zone_.pools.size(); ++p) {
        std::string host = origin_label(origin_);
        bool found = false;
        for (auto& s : zone_.services) {
            if (std::find(s.pools.begin(), s.pools.end(), p) == s.pools.end()) continue;
            for (auto& o : s.owners) {
                if (o.is_wildcard()) continue;
                host = origin_label(o);
                found = true;
                break;
            }
            break;  // only the first service that uses the pool
        }
        (void)found;
        // A hostname endpoint is probed as itself: the load balancer's name is what its
        // certificate and virtual hosts know.
        for (auto& e : zone_.pools[p].endpoints) e.probe_host = e.hostname ? e.hostname->to_key() : host;
    }
}


}  // namespace signpost::zones::detail
