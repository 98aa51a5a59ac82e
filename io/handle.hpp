// The one owner of libuv handles: a non-copyable Handle<H> per handle type.
// A handle's memory lives until its uv_close callback runs, and that callback frees it.
#pragma once

#include <cstddef>
#include <utility>

#include <uv.h>

namespace signpost::io {

// Handle memory allocated by owners and not yet freed by a close callback,
// across all loops (for tests and leak checks).
std::size_t live_handles() noexcept;

namespace detail {
void count_open() noexcept;
void count_freed() noexcept;
}  // namespace detail

// Owns one heap-allocated libuv handle of type H (uv_timer_t, uv_poll_t, ...).
// close() (or the destructor) calls uv_close; the handle is freed in the close
// callback, so an owner may be destroyed at any time on the loop thread,
// including from inside one of the handle's own callbacks: libuv never calls
// back into a closing handle. Loop thread only. Callbacks find their object
// through `get()->data`, which the caller sets.
template <class H>
class Handle {
public:
    Handle() = default;
    ~Handle() { close(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            close();
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }

    // Allocates the handle and initialises it with `init(loop, handle, args...)`
    // (uv_timer_init, uv_poll_init_socket, uv_spawn, ...), closing any handle this
    // owner held. Returns init's status; on failure the owner stays empty and the
    // handle is freed (closed first when init had already registered it with the
    // loop, as uv_spawn does).
    template <class Init, class... Args>
    int open(Init init, uv_loop_t* loop, Args&&... args) noexcept {
        close();
        H* h = new H{};  // zeroed: type stays UV_UNKNOWN_HANDLE until libuv registers it
        detail::count_open();
        int rc = init(loop, h, std::forward<Args>(args)...);
        if (rc == 0) {
            h_ = h;
            return 0;
        }
        if (reinterpret_cast<uv_handle_t*>(h)->type != UV_UNKNOWN_HANDLE) {
            uv_close(reinterpret_cast<uv_handle_t*>(h), &Handle::on_closed);
        } else {
            delete h;
            detail::count_freed();
        }
        return rc;
    }

    H* get() const noexcept { return h_; }
    H* operator->() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }

    // Lets go of the handle without closing it: the caller must close it later
    // with close_callback(), which frees it. Only for handles that must outlive
    // their owner on purpose (see abandon()).
    [[nodiscard]] H* release() noexcept { return std::exchange(h_, nullptr); }
    static uv_close_cb close_callback() noexcept { return &Handle::on_closed; }

    // Closes the handle (it stops at once; its memory goes in the close callback)
    // and leaves the owner empty. Idempotent.
    void close() noexcept {
        if (!h_) return;
        auto* base = reinterpret_cast<uv_handle_t*>(std::exchange(h_, nullptr));
        if (!uv_is_closing(base)) uv_close(base, &Handle::on_closed);
    }

private:
    static void on_closed(uv_handle_t* h) noexcept {
        delete reinterpret_cast<H*>(h);
        detail::count_freed();
    }

    H* h_ = nullptr;
};

using Timer = Handle<uv_timer_t>;
using Idle = Handle<uv_idle_t>;
using Poll = Handle<uv_poll_t>;
using Pipe = Handle<uv_pipe_t>;
using Process = Handle<uv_process_t>;
using Tcp = Handle<uv_tcp_t>;
using Signal = Handle<uv_signal_t>;

// Sends `signum` to a running child and lets go of it: the handle closes itself
// when the child has exited, so libuv reaps it (a process handle closed before
// its exit would leave a zombie: libuv waits only for children it still watches).
// The process's own exit callback is not called. Empty or exited: just closes.
void abandon(Process& process, int signum) noexcept;

}  // namespace signpost::io
