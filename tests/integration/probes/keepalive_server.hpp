// A small HTTP/1.1 server with keep-alive for the probes' keepalive tests: one
// thread, poll(), 127.0.0.1 on an ephemeral port. It counts connections and
// requests and remembers the last peer address, so tests can tell a reused
// connection from a new one. Stopped (and joined) by its destructor.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace itest {

class KeepAliveServer {
public:
    enum class Mode {
        Ok,           // 200 "OK", connection kept open
        Error,        // 500 "error", connection kept open
        ResetReused,  // a request on a connection that already served one: RST, no answer; new ones get 200
        CloseAfter,   // 200, then the server closes the connection (no Connection: close header)
        Hang,         // read the request, never answer
    };

    KeepAliveServer() {
        auto l = listen_tcp("127.0.0.1");
        listener_ = l.fd;
        port_ = l.port;
        thread_ = std::thread([this] { run(); });
    }
    ~KeepAliveServer() {
        stop_ = true;
        thread_.join();
        for (auto& [fd, c] : conns_) close(fd);
        close(listener_);
    }
    KeepAliveServer(const KeepAliveServer&) = delete;
    KeepAliveServer& operator=(const KeepAliveServer&) = delete;

    uint16_t port() const { return port_; }
    void set_mode(Mode m) { mode_ = m; }
    // Closes every open connection from the server side, idle or not: with an
    // RST (reset) or a plain close (FIN, as a keep-alive timeout does).
    void drop_all(bool reset) { drop_request_ = reset ? 2 : 1; }
    int open_connections() const { return open_; }
    int connections() const { return connections_; }
    int requests() const { return requests_; }
    std::string last_peer() const {
        std::lock_guard<std::mutex> lock(peer_mutex_);
        return last_peer_;
    }

private:
    struct Conn {
        std::string in;
        int served = 0;
    };

    void run() {
        while (!stop_) {
            if (const int d = drop_request_.exchange(0)) {
                while (!conns_.empty()) drop(conns_.begin()->first, d == 2);
            }
            open_ = static_cast<int>(conns_.size());
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (auto& [fd, c] : conns_) fds.push_back({fd, POLLIN, 0});
            if (poll(fds.data(), fds.size(), 20) <= 0) continue;
            if (fds[0].revents & POLLIN) accept_one();
            for (std::size_t i = 1; i < fds.size(); ++i)
                if (fds[i].revents) serve(fds[i].fd);
        }
    }

    void accept_one() {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (fd < 0) return;
        char text[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
        {
            std::lock_guard<std::mutex> lock(peer_mutex_);
            last_peer_ = text;
        }
        ++connections_;
        conns_[fd] = Conn{};
    }

    void drop(int fd, bool reset) {
        if (reset) {
            linger l{1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        close(fd);
        conns_.erase(fd);
    }

    void serve(int fd) {
        char buf[4096];
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return drop(fd, false);
        Conn& c = conns_[fd];
        c.in.append(buf, static_cast<std::size_t>(n));
        for (std::size_t end; (end = c.in.find("\r\n\r\n")) != std::string::npos;) {
            const bool head = c.in.compare(0, 5, "HEAD ") == 0;  // no body in the answer
            c.in.erase(0, end + 4);
            const Mode m = mode_;
            if (m == Mode::Hang) continue;  // never answered; the client gives up
            if (m == Mode::ResetReused && c.served > 0) return drop(fd, true);
            ++requests_;
            ++c.served;
            const std::string status = m == Mode::Error ? "500 Internal Server Error" : "200 OK";
            const std::string body = m == Mode::Error ? "error" : "OK";
            const std::string out = "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) +
                                    "\r\nContent-Type: text/plain\r\n\r\n" + (head ? "" : body);
            if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return drop(fd, false);
            if (m == Mode::CloseAfter) return drop(fd, false);
        }
    }

    int listener_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<Mode> mode_{Mode::Ok};
    std::atomic<int> connections_{0}, requests_{0}, open_{0}, drop_request_{0};
    mutable std::mutex peer_mutex_;
    std::string last_peer_;
    std::map<int, Conn> conns_;  // server thread only
    std::thread thread_;
};

}  // namespace itest
