// Small helpers for libuv handles owned by probes: a handle's memory lives until
// its close callback has run, never less. Loop thread only.
#pragma once

#include <uv.h>

namespace signpost::probes {

// Closes a heap-allocated handle (or a struct whose first member is the handle)
// and deletes it in the close callback. Safe to call twice.
template <class H>
void close_and_delete(H* h) noexcept {
    auto* base = reinterpret_cast<uv_handle_t*>(h);
    if (!h || uv_is_closing(base)) return;
    uv_close(base, [](uv_handle_t* p) { delete reinterpret_cast<H*>(p); });
}

}  // namespace signpost::probes
