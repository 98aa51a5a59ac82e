// libcurl's multi-socket API driven by a libuv loop: one uv_poll_t per socket
// curl asks about, one uv_timer_t for curl's timeout (a uv_idle_t when curl
// asks for 0 ms). No threads, no polling loop.
#pragma once

#include <memory>
#include <unordered_map>

#include <curl/curl.h>
#include <uv.h>

#include "io/handle.hpp"

namespace signpost::io {

// What an easy handle added to CurlMulti points to (CURLOPT_PRIVATE).
class CurlTransfer {
public:
    virtual ~CurlTransfer() = default;
    // The transfer ended; the easy handle has already been removed from the multi.
    virtual void on_curl_done(CURLcode code) noexcept = 0;
    // True: CurlMulti::kept_socket() is filled in for on_curl_done (it costs a walk
    // of curl's connection cache, so only transfers that watch idle connections ask).
    virtual bool wants_kept_socket() const noexcept { return false; }
};

// Hears about a kept connection while it sits idle in curl's cache.
class IdleListener {
public:
    virtual ~IdleListener() = default;
    // The idle connection was closed or reset by the peer, or the peer sent
    // something unasked: `what` says which. The watch has ended.
    virtual void on_idle_event(const char* what) noexcept = 0;
};

class CurlMulti {
public:
    explicit CurlMulti(uv_loop_t* loop);
    ~CurlMulti();  // calls close()
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    // `easy` must have CURLOPT_PRIVATE set to its CurlTransfer*.
    CURLMcode add(CURL* easy) noexcept;
    // Cancels a transfer: no callback. The caller then frees the easy handle.
    void remove(CURL* easy) noexcept;
    // Idle connections kept for reuse (CURLMOPT_MAXCONNECTS); past it curl closes
    // the least recently used one. Default: 4 × the transfers added at a time.
    void set_max_connections(long n) noexcept;
    // Watches `fd`, a connection curl keeps idle for reuse, until the peer closes
    // or resets it or sends data (then `listener` hears once), or curl uses or
    // closes the socket again (then the watch ends silently). A socket curl is
    // watching itself is left alone.
    void watch_idle(curl_socket_t fd, IdleListener* listener) noexcept;
    // Ends every watch of `listener`; call before it is destroyed.
    void unwatch(IdleListener* listener) noexcept;
    std::size_t idle_watches() const noexcept { return idle_.size(); }
    // During CurlTransfer::on_curl_done of a transfer that wants_kept_socket():
    // the socket of the connection it left in curl's cache for reuse, or
    // CURL_SOCKET_BAD (closed, or not kept).
    curl_socket_t kept_socket() const noexcept { return kept_socket_; }
    // Frees the multi handle and closes every uv handle. Remove transfers first. Idempotent.
    void close() noexcept;

private:
    struct Socket;
    struct IdleWatch;
    static int on_close_socket(void* clientp, curl_socket_t fd);
    void end_idle(curl_socket_t fd) noexcept;
    static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void* socketp);
    static int on_timer(CURLM*, long timeout_ms, void* userp);
    void action(curl_socket_t s, int flags) noexcept;
    void read_done() noexcept;

    uv_loop_t* loop_;
    CURLM* multi_ = nullptr;
    Timer timer_;
    Idle soon_;  // curl's "timeout 0": run on the next loop iteration
    std::unordered_map<Socket*, std::unique_ptr<Socket>> sockets_;
    std::unordered_map<curl_socket_t, std::unique_ptr<IdleWatch>> idle_;
    curl_socket_t kept_socket_ = CURL_SOCKET_BAD;
};

}  // namespace signpost::io
