// libcurl multi-socket on libuv (the pattern of curl's docs/examples/multi-uv.c).
// Every C callback here is noexcept; transfers finish through CurlTransfer.
#include "io/curl_multi.hpp"

#include <cerrno>
#include <cstdio>

#include <sys/socket.h>
#include <unistd.h>

namespace signpost::io {

// One socket curl asked us to watch. Freed when curl says CURL_POLL_REMOVE; its
// poll handle's memory lives on until the close callback.
struct CurlMulti::Socket {
    Poll poll;
    curl_socket_t fd;
    CurlMulti* owner;
};

// A kept connection curl holds idle: one poll handle while nobody else watches it.
struct CurlMulti::IdleWatch {
    Poll poll;
    curl_socket_t fd;
    IdleListener* listener;
    CurlMulti* owner;
};

CurlMulti::CurlMulti(uv_loop_t* loop) : loop_(loop) {
    static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    (void)curl_ready;
    multi_ = curl_multi_init();
    timer_.open(uv_timer_init, loop_);
    timer_->data = this;
    soon_.open(uv_idle_init, loop_);
    soon_->data = this;
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti() { close(); }

CURLMcode CurlMulti::add(CURL* easy) noexcept {
    if (!multi_) return CURLM_BAD_HANDLE;
    // Connections made for this transfer tell us before they close, so an idle
    // watch never outlives its socket (the descriptor number may come back).
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
    return curl_multi_add_handle(multi_, easy);
}

void CurlMulti::set_max_connections(long n) noexcept {
    if (multi_) curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, n);
}

void CurlMulti::remove(CURL* easy) noexcept {
    if (multi_) curl_multi_remove_handle(multi_, easy);
}

void CurlMulti::close() noexcept {
    if (multi_) {
        curl_multi_cleanup(multi_);  // may still report sockets as removed
        multi_ = nullptr;
    }
    sockets_.clear();
    idle_.clear();
    timer_.close();
    soon_.close();
}

int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) {
    auto* self = static_cast<CurlMulti*>(userp);
    auto* sock = static_cast<Socket*>(socketp);
    if (what == CURL_POLL_REMOVE) {
        if (sock) {
            self->sockets_.erase(sock);  // closes its poll handle
            if (self->multi_) curl_multi_assign(self->multi_, fd, nullptr);
        }
        return 0;
    }
    self->end_idle(fd);  // curl uses the connection again: it watches it itself
    if (!sock) {
        auto owned = std::make_unique<Socket>();
        if (int rc = owned->poll.open(uv_poll_init_socket, self->loop_, fd); rc != 0) {
            std::fprintf(stderr, "io: cannot watch socket %d: %s\n", static_cast<int>(fd), uv_strerror(rc));
            return -1;
        }
        sock = owned.get();
        sock->fd = fd;
        sock->owner = self;
        sock->poll->data = sock;
        self->sockets_.emplace(sock, std::move(owned));
        curl_multi_assign(self->multi_, fd, sock);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(sock->poll.get(), events, [](uv_poll_t* h, int status, int ev) {
        auto* s = static_cast<Socket*>(h->data);
        int flags = 0;
        if (status < 0) flags = CURL_CSELECT_ERR;
        if (ev & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (ev & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
        // curl may free `s` during the call: read what we need first.
        CurlMulti* owner = s->owner;
        owner->action(s->fd, flags);
    });
    return 0;
}

int CurlMulti::on_close_socket(void* clientp, curl_socket_t fd) {
    static_cast<CurlMulti*>(clientp)->end_idle(fd);
    return ::close(fd);
}

void CurlMulti::end_idle(curl_socket_t fd) noexcept {
    if (idle_.empty()) return;
    idle_.erase(fd);  // closes its poll handle; the socket stays curl's
}

void CurlMulti::unwatch(IdleListener* listener) noexcept {
    for (auto it = idle_.begin(); it != idle_.end();) {
        if (it->second->listener == listener) it = idle_.erase(it);
        else ++it;
    }
}

void CurlMulti::watch_idle(curl_socket_t fd, IdleListener* listener) noexcept {
    if (!multi_ || fd == CURL_SOCKET_BAD || idle_.count(fd)) return;
    for (const auto& [p, sock] : sockets_)
        if (sock->fd == fd) return;  // curl still watches it (another transfer uses it)
    try {
        auto w = std::make_unique<IdleWatch>();
        if (w->poll.open(uv_poll_init_socket, loop_, fd) != 0) return;
        w->fd = fd;
        w->listener = listener;
        w->owner = this;
        w->poll->data = w.get();
        uv_poll_start(w->poll.get(), UV_READABLE | UV_DISCONNECT, [](uv_poll_t* h, int status, int) {
            auto* w = static_cast<IdleWatch*>(h->data);
            const char* what = nullptr;
            char byte = 0;
            const ssize_t n = ::recv(w->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n == 0) what = "closed by the endpoint";
            else if (n > 0) what = "data while idle";
            else if (errno == ECONNRESET) what = "reset by the endpoint";
            else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) what = status < 0 ? "error while idle" : nullptr;
            else what = "error while idle";
            if (!what) return;  // nothing to read after all: keep watching
            IdleListener* listener = w->listener;
            w->owner->end_idle(w->fd);  // frees `w`
            listener->on_idle_event(what);
        });
        idle_[fd] = std::move(w);
    } catch (...) {
        // Out of memory: no watch; the next probe still finds out.
    }
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<CurlMulti*>(userp);
    if (!self->timer_ || !self->soon_) return 0;
    if (timeout_ms < 0) {
        uv_timer_stop(self->timer_.get());
        uv_idle_stop(self->soon_.get());
    } else if (timeout_ms == 0) {
        // "Call soon": on the next loop iteration, after the loop has polled
        // sockets, and never from inside this callback. A 0 ms timer would not
        // do: libuv 1.44 runs a timer that is due again within the same timer
        // pass, and curl asks for 0 again while anything is due by its own
        // clock, so at thousands of transfers the loop would never poll.
        uv_timer_stop(self->timer_.get());
        uv_idle_start(self->soon_.get(), [](uv_idle_t* h) {
            uv_idle_stop(h);
            static_cast<CurlMulti*>(h->data)->action(CURL_SOCKET_TIMEOUT, 0);
        });
    } else {
        uv_idle_stop(self->soon_.get());
        uv_timer_start(self->timer_.get(), [](uv_timer_t* t) {
            static_cast<CurlMulti*>(t->data)->action(CURL_SOCKET_TIMEOUT, 0);
        }, static_cast<uint64_t>(timeout_ms), 0);
    }
    return 0;
}

void CurlMulti::action(curl_socket_t fd, int flags) noexcept {
    if (!multi_) return;
    int running = 0;
    curl_multi_socket_action(multi_, fd, flags, &running);
    read_done();
}

void CurlMulti::read_done() noexcept {
    int left = 0;
    while (multi_) {
        CURLMsg* msg = curl_multi_info_read(multi_, &left);
        if (!msg) break;
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        CurlTransfer* transfer = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &transfer);
        // Asked before the removal: curl 7.88 finds the kept connection only
        // while the transfer is still in its multi handle.
        kept_socket_ = CURL_SOCKET_BAD;
        if (transfer && transfer->wants_kept_socket() &&
            curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &kept_socket_) != CURLE_OK)
            kept_socket_ = CURL_SOCKET_BAD;
        curl_multi_remove_handle(multi_, easy);
        if (transfer) transfer->on_curl_done(code);
        kept_socket_ = CURL_SOCKET_BAD;
    }
}

}  // namespace signpost::io
