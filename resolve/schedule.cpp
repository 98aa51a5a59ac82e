// The resolver's rules, pure: server and resolv.conf parsing, how an attempt's
// outcome changes a Resolution, when to ask again. No sockets, no clocks.
#include "resolve/schedule.hpp"

#include <algorithm>
#include <charconv>

namespace signpost::resolve {

namespace {

using namespace std::chrono_literals;

std::optional<uint16_t> parse_port(std::string_view digits) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || v == 0 || v > 65535)
        return std::nullopt;
    return static_cast<uint16_t>(v);
}

// IPv4 before IPv6, then by bytes: the order every Resolution keeps.
bool address_less(const core::IpAddress& a, const core::IpAddress& b) {
    if (a.v6 != b.v6) return !a.v6;
    return a.bytes < b.bytes;
}

core::Millis clamp(core::Millis d, const Bounds& b) {
    return std::clamp(d, b.min_ttl, std::max(b.min_ttl, b.max_ttl));
}

std::string with_server(const std::string& error, const std::string& server) {
    return server.empty() ? error : error + " from " + server;
}

}  // namespace

std::string Server::to_string() const {
    return address.v6 ? "[" + address.to_string() + "]:" + std::to_string(port)
                      : address.to_string() + ":" + std::to_string(port);
}

std::optional<Server> parse_server(std::string_view text) {
    Server s;
    if (text.starts_with('[')) {  // "[V6]" or "[V6]:PORT"
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        auto addr = core::IpAddress::parse(text.substr(1, close - 1));
        if (!addr || !addr->v6) return std::nullopt;
        s.address = *addr;
        auto rest = text.substr(close + 1);
        if (rest.empty()) return s;
        if (!rest.starts_with(':')) return std::nullopt;
        auto port = parse_port(rest.substr(1));
        if (!port) return std::nullopt;
        s.port = *port;
        return s;
    }
    if (auto addr = core::IpAddress::parse(text)) {  // "V4" or a bare "V6"
        s.address = *addr;
        return s;
    }
    auto colon = text.rfind(':');  // "V4:PORT" (a bare IPv6 address with a port needs brackets)
    if (colon == std::string_view::npos) return std::nullopt;
    auto addr = core::IpAddress::parse(text.substr(0, colon));
    auto port = parse_port(text.substr(colon + 1));
    if (!addr || addr->v6 || !port) return std::nullopt;
    s.address = *addr;
    s.port = *port;
    return s;
}

std::vector<Server> parse_resolv_conf(std::string_view text) {
    // Like glibc: "nameserver ADDR" lines, '#' or ';' comments, the first three
    // servers (MAXNS). Ports cannot be written there. A scoped IPv6 address
    // ("fe80::1%eth0") is skipped: the scope cannot be kept in a Server.
    constexpr std::size_t kMaxServers = 3;
    std::vector<Server> out;
    while (!text.empty() && out.size() < kMaxServers) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (auto c = line.find_first_of("#;"); c != std::string_view::npos) line = line.substr(0, c);
        auto word = [&line]() {
            auto b = line.find_first_not_of(" \t\r");
            if (b == std::string_view::npos) return line = {}, std::string_view{};
            auto e = line.find_first_of(" \t\r", b);
            auto w = line.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
            line = e == std::string_view::npos ? std::string_view{} : line.substr(e);
            return w;
        };
        if (word() != "nameserver") continue;
        auto addr = core::IpAddress::parse(word());
        if (!addr) continue;
        Server s{*addr, 53};
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
}

void apply(core::Resolution& r, const Outcome& o, core::TimePoint now, const Bounds& bounds) {
    r.server = o.server;
    if (o.kind == Outcome::Answer && !o.addresses.empty()) {
        std::vector<core::IpAddress> addrs = o.addresses;
        std::sort(addrs.begin(), addrs.end(), address_less);
        addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
        r.state = core::ResolveState::Ok;
        r.addresses = std::move(addrs);
        r.ttl = o.ttl;
        r.resolved_at = now;
        r.next_refresh = now + refresh_after(o.ttl, bounds);
        r.error.clear();
        ++r.answers;
        return;
    }
    if (o.kind == Outcome::Failure) {
        // The last good addresses, ttl and resolved_at stay: they are still the
        // best knowledge, and flattened_ttl_cap() shrinks as they age.
        r.state = core::ResolveState::Failing;
        r.error = with_server(o.error.empty() ? std::string("no answer") : o.error, o.server);
        r.next_refresh = now + retry_after(std::max<uint64_t>(o.failed_in_a_row, 1), bounds);
        ++r.failures;
        return;
    }
    // NXDOMAIN, or NOERROR without an A or AAAA record (an Answer without
    // addresses counts as that too): the name answers nothing, for the negative TTL.
    r.state = core::ResolveState::Negative;
    r.addresses.clear();
    r.ttl = o.ttl;
    r.resolved_at = now;
    r.error = o.kind == Outcome::NxDomain ? "NXDOMAIN for " + r.name : "no A or AAAA records for " + r.name;
    r.next_refresh = now + clamp(core::Millis(uint64_t(o.ttl) * 1000), bounds);
    ++r.answers;
}

core::Millis refresh_after(uint32_t ttl, const Bounds& bounds) {
    return clamp(core::Millis(uint64_t(ttl) * 500), bounds);  // half the TTL, in ms
}

core::Millis retry_after(uint64_t failures, const Bounds& bounds) {
    const core::Millis cap = std::max<core::Millis>(1s, bounds.min_ttl);
    core::Millis d = 1s;
    for (uint64_t i = 1; i < failures && d < cap; ++i) d *= 2;
    return std::min(d, cap);
}

uint32_t flattened_ttl_cap(const core::Resolution& r) {
    if (r.addresses.empty()) return UINT32_MAX;
    const auto expires = r.resolved_at + std::chrono::seconds(r.ttl);
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(expires - r.next_refresh).count();
    return left < 1 ? 1u : static_cast<uint32_t>(std::min<int64_t>(left, UINT32_MAX - 1));
}

Outcome combine(const Outcome& a, const Outcome& aaaa) {
    // One attempt asks A and AAAA in parallel. Either family failing (timeout,
    // SERVFAIL, REFUSED, NOTIMP, a malformed reply, a CNAME loop) fails the
    // attempt, so a half answer never replaces the last good addresses. Else any
    // address makes an Answer (TTL: the lowest of both families' chains and
    // address sets); else NXDOMAIN on either query makes NxDomain; else NoData.
    // A negative TTL is the lowest the families gave.
    if (a.kind == Outcome::Failure) return a;
    if (aaaa.kind == Outcome::Failure) return aaaa;
    Outcome out;
    out.server = a.server.empty() ? aaaa.server : a.server;
    out.ttl = std::min(a.ttl, aaaa.ttl);
    out.addresses = a.addresses;
    out.addresses.insert(out.addresses.end(), aaaa.addresses.begin(), aaaa.addresses.end());
    if (!out.addresses.empty()) {
        // A family that found nothing brings no record TTL, only its CNAMEs'.
        out.kind = Outcome::Answer;
        out.ttl = UINT32_MAX;
        for (const Outcome* f : {&a, &aaaa}) out.ttl = std::min(out.ttl, f->kind == Outcome::Answer ? f->ttl : f->chain_ttl);
        return out;
    }
    out.kind = a.kind == Outcome::NxDomain || aaaa.kind == Outcome::NxDomain ? Outcome::NxDomain : Outcome::NoData;
    return out;
}

}  // namespace signpost::resolve
