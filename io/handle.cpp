// The handle owners' shared pieces: the live-handle count and abandon().
// Loop thread only, except the count, which any thread may read.
#include "io/handle.hpp"

#include <atomic>

namespace signpost::io {

namespace {
std::atomic<std::size_t> live{0};
}  // namespace

std::size_t live_handles() noexcept { return live.load(std::memory_order_relaxed); }

namespace detail {
void count_open() noexcept { live.fetch_add(1, std::memory_order_relaxed); }
void count_freed() noexcept { live.fetch_sub(1, std::memory_order_relaxed); }
}  // namespace detail

void abandon(Process& process, int signum) noexcept {
    uv_process_t* p = process.get();
    if (!p) return;
    if (uv_process_kill(p, signum) != 0) {  // already exited (ESRCH): nothing to wait for
        process.close();
        return;
    }
    p = process.release();
    p->data = nullptr;
    p->exit_cb = [](uv_process_t* h, int64_t, int) {
        uv_close(reinterpret_cast<uv_handle_t*>(h), Process::close_callback());
    };
}

}  // namespace signpost::io
