// One owner for libuv handles: non-copyable; the handle's memory lives until
// uv_close's callback runs. Loop-thread only (except where libuv says otherwise).
#pragma once

#include <uv.h>

#include <utility>

namespace signpost::dns {

template <class T>
class UvHandle {
public:
    UvHandle() : h_(new T{}) {}
    ~UvHandle() { close(); }
    UvHandle(const UvHandle&) = delete;
    UvHandle& operator=(const UvHandle&) = delete;

    T* get() const noexcept { return h_; }
    uv_handle_t* handle() const noexcept { return reinterpret_cast<uv_handle_t*>(h_); }
    // Call after a successful uv_*_init: from then on close() goes through uv_close.
    void initialized() noexcept { live_ = true; }
    bool live() const noexcept { return h_ && live_; }

    // Closes the handle; its memory is freed in the close callback. Idempotent.
    void close() noexcept {
        if (!h_) return;
        if (live_) {
            if (!uv_is_closing(handle())) uv_close(handle(), [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
        } else {
            delete h_;
        }
        h_ = nullptr;
        live_ = false;
    }

private:
    T* h_;
    bool live_ = false;
};

}  // namespace signpost::dns
