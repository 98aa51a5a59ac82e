// Listen addresses and the DNS server's sockets: parsing "host:port", binding
// SO_REUSEPORT sockets with the options the receivers rely on (and why).
#include "dns/server_sockets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace signpost::dns {

// ---------------------------------------------------------------------------
// ListenAddress

std::optional<ListenAddress> ListenAddress::parse(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<ListenAddress> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    ListenAddress out;
    std::string_view host = text, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return fail("missing ']' in \"" + std::string(text) + "\"");
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail("expected ':port' after ']' in \"" + std::string(text) + "\"");
            port = rest.substr(1);
            if (port.empty()) return fail("missing port after ':' in \"" + std::string(text) + "\"");
        }
    } else {
        auto colon = text.find(':');
        if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (port.empty()) return fail("missing port after ':' in \"" + std::string(text) + "\"");
        }
        // Several colons and no brackets: a bare IPv6 address, port 53.
    }
    auto ip = core::IpAddress::parse(host);
    if (!ip) return fail("not an IP address: \"" + std::string(host) + "\" (use e.g. 127.0.0.1:53 or [::1]:53)");
    if (!port.empty()) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v > 65535)
            return fail("port must be 0..65535, got \"" + std::string(port) + "\"");
        out.port = uint16_t(v);
    }
    out.host = ip->to_string();
    return out;
}

std::string ListenAddress::to_string() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace server_detail {

void Fd::reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

SockAddr make_sockaddr(const ListenAddress& la) {
    SockAddr a;
    auto ip = core::IpAddress::parse(la.host);
    if (!ip) throw std::runtime_error("cannot listen on " + la.to_string() + ": not an IP address");
    if (ip->v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(la.port);
        std::memcpy(&s6->sin6_addr, ip->bytes.data(), 16);
        a.len = sizeof(sockaddr_in6);
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&a.ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(la.port);
        std::memcpy(&s4->sin_addr, ip->bytes.data(), 4);
        a.len = sizeof(sockaddr_in);
    }
    return a;
}

void set_port(SockAddr& a, uint16_t port) {
    if (a.family() == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port = htons(port);
    else
        reinterpret_cast<sockaddr_in*>(&a.ss)->sin_port = htons(port);
}

bool to_ip(const sockaddr* sa, core::IpAddress& ip, uint16_t& port) noexcept {
    if (sa->sa_family == AF_INET) {
        auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
        ip = core::IpAddress{};
        std::memcpy(ip.bytes.data(), &s4->sin_addr, 4);
        port = ntohs(s4->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
        ip = core::IpAddress{};
        ip.v6 = true;
        std::memcpy(ip.bytes.data(), &s6->sin6_addr, 16);
        port = ntohs(s6->sin6_port);
        return true;
    }
    return false;
}

void claim_exclusive(const SockAddr& addr, int type) {
    Fd probe(::socket(addr.family(), type | SOCK_CLOEXEC, 0));
    if (probe.fd < 0) throw BindError{errno};
    int one = 1;
    // TCP: SO_REUSEADDR passes TIME_WAIT connections, never a listener.
    if (type == SOCK_STREAM) ::setsockopt(probe.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.family() == AF_INET6) ::setsockopt(probe.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(probe.fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) != 0)
        throw BindError{errno, errno == EADDRINUSE};
}

Fd bound_socket(const SockAddr& addr, int type) {
    Fd fd(::socket(addr.family(), type | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC, 0));
    if (fd.fd < 0) throw BindError{errno};
    int one = 1;
    if (::setsockopt(fd.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) throw BindError{errno};
    if (type == SOCK_STREAM) ::setsockopt(fd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.family() == AF_INET6 &&
        ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        throw BindError{errno};
    if (type == SOCK_DGRAM) {
        // A saturated worker must not drop bursts the kernel could have queued:
        // the default ~208 KiB receive buffer holds only a few hundred queries.
        // SO_RCVBUFFORCE (root, CAP_NET_ADMIN) passes net.core.rmem_max; without it
        // the size is capped there, and the server says so once it has started.
        if (::setsockopt(fd.fd, SOL_SOCKET, SO_RCVBUFFORCE, &kUdpReceiveBuffer, sizeof kUdpReceiveBuffer) != 0)
            ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVBUF, &kUdpReceiveBuffer, sizeof kUdpReceiveBuffer);
        // An idle receiver wakes this often to let go of its Snapshot (so a replaced
        // one is freed within this time, however often the daemon publishes);
        // stop() wakes it at once with shutdown().
        timeval wake{0, kUdpIdleWakeUs};
        ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
        // No path MTU discovery on answers (as BIND, Knot, NSD and gdnsd): a spoofed
        // ICMP "fragmentation needed" must not be able to make the kernel fragment
        // answers at a tiny MTU, which is what fragment-injection cache poisoning
        // needs. Answers up to udp_payload_size (default 1232) fit every path; a
        // larger setting is fragmented by the kernel: IPv4 at the interface MTU
        // (routers may fragment further), IPv6 at 1280, which every IPv6 link carries.
        if (addr.family() == AF_INET) {
            int omit = IP_PMTUDISC_OMIT;
            ::setsockopt(fd.fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof omit);
        } else {
            int omit = IPV6_PMTUDISC_OMIT, min_mtu = 1280;
            ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit, sizeof omit);
            ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_MTU, &min_mtu, sizeof min_mtu);
        }
    }
    if (::bind(fd.fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) != 0) throw BindError{errno};
    return fd;
}

uint16_t local_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    core::IpAddress ip;
    uint16_t port = 0;
    to_ip(reinterpret_cast<sockaddr*>(&ss), ip, port);
    return port;
}

std::optional<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text) {
    auto skip_space = [&] {
        while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n'))
            text.remove_prefix(1);
    };
    uint16_t v[2];
    for (auto& x : v) {
        skip_space();
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
        if (ec != std::errc{}) return std::nullopt;
        text.remove_prefix(size_t(end - text.data()));
    }
    skip_space();
    if (!text.empty() || v[0] == 0 || v[0] > v[1]) return std::nullopt;
    return std::pair{v[0], v[1]};
}

std::optional<std::pair<uint16_t, uint16_t>> ephemeral_port_range() {
    std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (!f) return std::nullopt;
    char buf[64];
    size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    return parse_port_range(std::string_view(buf, n));
}

}  // namespace server_detail
}  // namespace signpost::dns
