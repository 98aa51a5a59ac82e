// An HTTPS (HTTP/1.1 over TLS, OpenSSL) keep-alive server for the probes'
// keep-alive tests: one thread, poll(), non-blocking sockets, on a loopback
// address and an ephemeral port. It counts TCP connections, completed and
// failed TLS handshakes, resumed sessions and requests, so a test can tell a
// reused connection from a new one. Every counter is bumped before the client
// can see its effect (a handshake before the client's request, a request
// before its answer is written), so a test that has seen a result reads
// counters that include it. Stopped (and joined) by its destructor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace itest {

class TlsKeepAliveServer {
public:
    enum class Mode {
        Ok,           // 200 "OK", connection kept open
        Error,        // 500 "error", connection kept open
        DropReused,   // a request on a connection that already served one: closed without an answer
                      // and without close_notify (FIN); requests on new connections get 200
        ResetReused,  // the same, but the connection is reset (RST)
    };

    // Listens on `address` (IPv4, loopback) with the certificate chain and key in PEM files.
    TlsKeepAliveServer(const std::string& address, const std::string& cert_file, const std::string& key_file) {
        use_certificate(cert_file, key_file);
        auto l = listen_tcp(address, SOCK_NONBLOCK);
        listener_ = l.fd;
        port_ = l.port;
        thread_ = std::thread([this] { run(); });
    }
    ~TlsKeepAliveServer() {
        stop_ = true;
        thread_.join();
        for (auto& [fd, c] : conns_) {
            SSL_free(c.ssl);
            close(fd);
        }
        close(listener_);
    }
    TlsKeepAliveServer(const TlsKeepAliveServer&) = delete;
    TlsKeepAliveServer& operator=(const TlsKeepAliveServer&) = delete;

    uint16_t port() const { return port_; }
    void set_mode(Mode m) { mode_ = m; }

    // The certificate and key new connections get from now on (open ones keep theirs).
    void use_certificate(const std::string& cert_file, const std::string& key_file) {
        std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
        if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx.get()) != 1) {
            throw std::runtime_error("TLS keep-alive server: cannot load " + cert_file);
        }
        std::lock_guard<std::mutex> lock(ctx_mutex_);
        ctx_ = std::move(ctx);
    }

    // Closes every open connection (close_notify, then FIN), as a server does at
    // its keep-alive timeout. Returns once the server thread has done it (false
    // when it did not within `limit`).
    bool close_connections(Ms limit = Ms{5000}) {
        const int want = ++close_requested_;
        const auto deadline = SteadyClock::now() + limit;
        while (closed_upto_ < want) {
            if (SteadyClock::now() >= deadline) return false;
            usleep(1000);
        }
        return true;
    }

    int connections() const { return connections_; }             // TCP connections accepted
    int handshakes() const { return handshakes_; }               // TLS handshakes completed
    int failed_handshakes() const { return failed_handshakes_; } // TLS handshakes that failed (e.g. the client's alert)
    int resumed() const { return resumed_; }                     // completed handshakes that resumed a session
    int requests() const { return requests_; }                   // requests answered
    int reused() const { return reused_; }                       // ... of them on a connection that had answered before
    int dropped() const { return dropped_; }                     // requests closed/reset without an answer
    int open() const { return open_; }                           // connections open now

private:
    struct Conn {
        SSL* ssl = nullptr;
        bool established = false;
        bool want_write = false;
        std::string in;
        int served = 0;
    };

    void run() {
        // SIGPIPE (a write to a connection the client closed) is directed at
        // this thread: blocked here, the write just fails with EPIPE.
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
        while (!stop_) {
            if (const int want = close_requested_; closed_upto_ < want) {
                while (!conns_.empty()) drop(conns_.begin()->first, true, false);
                closed_upto_ = want;
            }
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (auto& [fd, c] : conns_) fds.push_back({fd, static_cast<short>(c.want_write ? POLLOUT : POLLIN), 0});
            if (poll(fds.data(), fds.size(), 5) <= 0) continue;
            if (fds[0].revents & POLLIN) accept_one();
            for (std::size_t i = 1; i < fds.size(); ++i)
                if (fds[i].revents) serve(fds[i].fd);
        }
        ERR_clear_error();
    }

    void accept_one() {
        const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        ++connections_;
        std::shared_ptr<SSL_CTX> ctx;
        {
            std::lock_guard<std::mutex> lock(ctx_mutex_);
            ctx = ctx_;
        }
        SSL* ssl = SSL_new(ctx.get());  // holds its own reference to the context
        if (!ssl || SSL_set_fd(ssl, fd) != 1) {
            SSL_free(ssl);
            close(fd);
            return;
        }
        SSL_set_accept_state(ssl);
        Conn c;
        c.ssl = ssl;
        conns_[fd] = std::move(c);
        ++open_;
    }

    // graceful: send close_notify first; reset: RST instead of FIN.
    void drop(int fd, bool graceful, bool reset) {
        auto it = conns_.find(fd);
        if (it == conns_.end()) return;
        ERR_clear_error();
        if (graceful && it->second.established) SSL_shutdown(it->second.ssl);
        if (reset) {
            linger l{1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        SSL_free(it->second.ssl);
        close(fd);
        conns_.erase(it);
        --open_;
        ERR_clear_error();
    }

    void serve(int fd) {
        auto it = conns_.find(fd);
        if (it == conns_.end()) return;
        Conn& c = it->second;
        c.want_write = false;
        ERR_clear_error();
        if (!c.established) {
            const int r = SSL_accept(c.ssl);
            if (r != 1) {
                const int e = SSL_get_error(c.ssl, r);
                if (e == SSL_ERROR_WANT_READ) return;
                if (e == SSL_ERROR_WANT_WRITE) {
                    c.want_write = true;
                    return;
                }
                ++failed_handshakes_;
                return drop(fd, false, false);
            }
            c.established = true;
            if (SSL_session_reused(c.ssl)) ++resumed_;
            ++handshakes_;
        }
        for (;;) {
            char buf[4096];
            ERR_clear_error();
            const int n = SSL_read(c.ssl, buf, sizeof buf);
            if (n <= 0) {
                const int e = SSL_get_error(c.ssl, n);
                if (e == SSL_ERROR_WANT_READ) return;
                if (e == SSL_ERROR_WANT_WRITE) {
                    c.want_write = true;
                    return;
                }
                return drop(fd, e == SSL_ERROR_ZERO_RETURN, false);  // the client closed (or broke) it
            }
            c.in.append(buf, static_cast<std::size_t>(n));
            for (std::size_t end; (end = c.in.find("\r\n\r\n")) != std::string::npos;) {
                const bool head = c.in.compare(0, 5, "HEAD ") == 0;  // no body in the answer
                c.in.erase(0, end + 4);
                const Mode m = mode_;
                if ((m == Mode::DropReused || m == Mode::ResetReused) && c.served > 0) {
                    ++dropped_;
                    return drop(fd, false, m == Mode::ResetReused);
                }
                if (c.served++ > 0) ++reused_;
                ++requests_;
                const bool error = m == Mode::Error;
                const std::string body = error ? "error" : "OK";
                const std::string out = std::string("HTTP/1.1 ") + (error ? "500 Internal Server Error" : "200 OK") +
                                        "\r\nContent-Length: " + std::to_string(body.size()) +
                                        "\r\nContent-Type: text/plain\r\n\r\n" + (head ? "" : body);
                ERR_clear_error();
                // A few hundred bytes always fit the socket buffer: no partial writes.
                if (SSL_write(c.ssl, out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size()))
                    return drop(fd, false, false);
            }
        }
    }

    int listener_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<Mode> mode_{Mode::Ok};
    std::atomic<int> connections_{0}, handshakes_{0}, failed_handshakes_{0}, resumed_{0}, requests_{0}, reused_{0},
        dropped_{0}, open_{0};
    std::atomic<int> close_requested_{0}, closed_upto_{0};
    std::mutex ctx_mutex_;
    std::shared_ptr<SSL_CTX> ctx_;
    std::map<int, Conn> conns_;  // server thread only
    std::thread thread_;
};

}  // namespace itest
