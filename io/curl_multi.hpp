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
    // Frees the multi handle and closes every uv handle. Remove transfers first. Idempotent.
    void close() noexcept;

private:
    struct Socket;
    static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void* socketp);
    static int on_timer(CURLM*, long timeout_ms, void* userp);
    void action(curl_socket_t s, int flags) noexcept;
    void read_done() noexcept;

    uv_loop_t* loop_;
    CURLM* multi_ = nullptr;
    Timer timer_;
    Idle soon_;  // curl's "timeout 0": run on the next loop iteration
    std::unordered_map<Socket*, std::unique_ptr<Socket>> sockets_;
};

}  // namespace signpost::io
