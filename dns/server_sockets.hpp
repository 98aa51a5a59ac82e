// The DNS server's sockets: listen addresses as sockaddrs, SO_REUSEPORT sockets
// bound with the options the receivers rely on, and an owning Fd. No threads here.
// Internal to dns/server*.cpp.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "core/address.hpp"
#include "dns/server.hpp"

namespace signpost::dns::server_detail {

constexpr int kUdpReceiveBuffer = 4 << 20;  // bytes asked for per UDP socket
constexpr long kUdpIdleWakeUs = 200000;     // SO_RCVTIMEO of the UDP receivers

// An owned file descriptor, closed on destruction.
struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd = std::exchange(o.fd, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    void reset() noexcept;
    int release() noexcept { return std::exchange(fd, -1); }
};

struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family() const { return ss.ss_family; }
};

// Throws std::runtime_error when `la.host` is not an IP address.
SockAddr make_sockaddr(const ListenAddress& la);
void set_port(SockAddr& a, uint16_t port);
// The address and port of an AF_INET/AF_INET6 sockaddr; false for other families.
bool to_ip(const sockaddr* sa, core::IpAddress& ip, uint16_t& port) noexcept;

struct BindError {
    int err;
    bool taken = false;  // another process's sockets hold the address (see claim_exclusive)
};

// Throws BindError{EADDRINUSE, true} when another socket already serves `addr`
// (UDP, or a TCP listener). SO_REUSEPORT would let a second daemon of the same
// user join the port and silently take a share of its queries; a plain bind
// without SO_REUSEPORT cannot join, so it fails exactly then. The probe socket is
// closed before returning. TCP connections in TIME_WAIT (a restart) do not count.
void claim_exclusive(const SockAddr& addr, int type);

// The kernel's ephemeral port range ("32768\t60999\n" from
// /proc/sys/net/ipv4/ip_local_port_range, which IPv6 shares); nullopt when the
// text is not two ports low..high.
std::optional<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text);
std::optional<std::pair<uint16_t, uint16_t>> ephemeral_port_range();

// A socket with SO_REUSEPORT bound to `addr`; throws BindError. TCP sockets are
// non-blocking (libuv); UDP sockets block (their receiver thread waits in recvmmsg).
Fd bound_socket(const SockAddr& addr, int type);
// The port a socket is bound to (0 when unknown).
uint16_t local_port(int fd);

}  // namespace signpost::dns::server_detail
