// probe_responder: the N local HTTP endpoints bench/probes.sh probes. One thread,
// one epoll set, no allocation per request; not a server for anything else.
//
// usage: probe_responder COUNT
// Listens on COUNT addresses 127.1.0.1, 127.1.0.2, ... (all of 127/8 is
// loopback on Linux), all on the same port, and prints "PORT <n>" once
// listening. Every request (a head ending in an empty line) gets
// "200 OK" with body "OK"; connections stay open (HTTP/1.1 keep-alive) until
// the client closes them, so the prober decides fresh vs reused connections.
// Stops on SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nOK";

// Listens on `addr`:`port` (0: ephemeral); returns the fd or -1.
int listen_on(uint32_t addr, uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(addr);
    sa.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

uint16_t port_of(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    return ntohs(sa.sin_port);
}

}  // namespace

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 0;
    if (count <= 0 || count > 60000) {
        std::fprintf(stderr, "usage: probe_responder COUNT (1..60000 addresses from 127.1.0.1)\n");
        return 2;
    }
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = 1; };
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    const uint32_t first = (127u << 24) | (1u << 16) | 1u;  // 127.1.0.1
    std::vector<int> listeners;
    uint16_t port = 0;
    for (int attempt = 0; attempt < 20 && static_cast<int>(listeners.size()) < count; ++attempt) {
        for (int fd : listeners) close(fd);
        listeners.clear();
        port = 0;
        for (int i = 0; i < count; ++i) {
            const int fd = listen_on(first + static_cast<uint32_t>(i), port);
            if (fd < 0) break;  // the port is taken on some address: start again with another
            if (i == 0) port = port_of(fd);
            listeners.push_back(fd);
        }
    }
    if (static_cast<int>(listeners.size()) < count) {
        std::fprintf(stderr, "probe_responder: cannot listen on %d addresses: %s\n", count, std::strerror(errno));
        return 1;
    }

    const int ep = epoll_create1(EPOLL_CLOEXEC);
    // epoll data: the fd, with bit 32 set for listeners. Per-connection state is
    // how much of "\r\n\r\n" the last read ended with, indexed by fd.
    constexpr uint64_t kListener = 1ull << 32;
    for (int fd : listeners) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kListener | static_cast<uint32_t>(fd);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    std::vector<uint8_t> matched(static_cast<size_t>(rl.rlim_cur > 0 ? rl.rlim_cur : 65536), 0);
    std::printf("PORT %u\n", port);
    std::fflush(stdout);

    std::vector<epoll_event> events(1024);
    char buf[16384];
    uint64_t requests = 0, accepted = 0;
    auto drop = [&](int fd) {
        close(fd);  // also leaves the epoll set
    };
    while (!g_stop) {
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
        for (int i = 0; i < n; ++i) {
            const uint64_t data = events[static_cast<size_t>(i)].data.u64;
            const int fd = static_cast<int>(data & 0xffffffffu);
            if (data & kListener) {
                for (;;) {
                    const int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    ++accepted;
                    if (static_cast<size_t>(c) >= matched.size()) {
                        close(c);
                        continue;
                    }
                    const int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    matched[static_cast<size_t>(c)] = 0;
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.u64 = static_cast<uint32_t>(c);
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            const ssize_t got = read(fd, buf, sizeof buf);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                drop(fd);
                continue;
            }
            // Count request heads: every "\r\n\r\n", possibly split across reads.
            static const char kEnd[] = "\r\n\r\n";
            uint8_t m = matched[static_cast<size_t>(fd)];
            int heads = 0;
            for (ssize_t k = 0; k < got; ++k) {
                const char ch = buf[k];
                if (ch == kEnd[m]) {
                    if (++m == 4) {
                        ++heads;
                        m = 0;
                    }
                } else {
                    m = ch == '\r' ? 1 : 0;
                }
            }
            matched[static_cast<size_t>(fd)] = m;
            bool ok = true;
            for (int h = 0; h < heads && ok; ++h) {
                ok = write(fd, kResponse, sizeof kResponse - 1) == static_cast<ssize_t>(sizeof kResponse - 1);
                ++requests;
            }
            if (!ok) drop(fd);
        }
    }
    std::fprintf(stderr, "probe_responder: %llu connections accepted, %llu requests answered\n",
                 static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(requests));
    return 0;
}
