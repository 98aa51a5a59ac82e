// A DNS worker's TCP side (RFC 7766): a libuv loop thread with one listener per
// listen address, its connections, framing, per-client limits and timeouts.
// Internal to dns/server*.cpp.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"
#include "dns/server_shared.hpp"
#include "dns/server_sockets.hpp"
#include "dns/snapshot_slot.hpp"
#include "dns/uv_handle.hpp"

namespace signpost::dns::server_detail {

// Open TCP connections per client over all workers, for
// tcp_max_connections_per_client. Touched at accept and close only, never per query.
class TcpClients {
public:
    static uint64_t key_of(const core::IpAddress& a) noexcept;
    // Counts one more connection for `key` unless it already has `limit` (0: no limit).
    bool acquire(uint64_t key, unsigned limit) noexcept;
    // True when `key` holds more than `limit` connections (admitted over the cap while
    // its connections were on other workers); the sweeps close the oldest ones.
    bool over(uint64_t key, unsigned limit) noexcept;
    void release(uint64_t key) noexcept;

private:
    std::mutex mutex_;
    std::unordered_map<uint64_t, unsigned> counts_;
};

struct Connection;  // one client connection (tcp_worker.cpp)

struct TcpWorker {
    TcpWorker(WorkerContext& c, TcpClients& clients, const SnapshotSlot& slot)
        : context(&c), clients(&clients), snapshot(slot) {}
    ~TcpWorker() {
        if (thread.joinable()) thread.join();
    }

    WorkerContext* context;
    TcpClients* clients;
    WorkerCounters counters;  // TCP; each UDP receiver counts its own
    uv_loop_t loop{};
    UvHandle<uv_async_t> wake;   // stop(): the loop closes everything and returns
    UvHandle<uv_timer_t> sweep;  // idle and query timeouts, per-client eviction
    UvHandle<uv_timer_t> idle;   // lets go of a replaced snapshot when no query comes
    std::vector<std::unique_ptr<UvHandle<uv_tcp_t>>> listeners;
    Connection* conns = nullptr;  // newest first
    unsigned nconns = 0;
    SnapshotSlot::Reader snapshot;  // the loop thread's own; read without locks
    std::thread thread;
    std::vector<uint8_t> tcp_out;
};

// Initialises the loop and its timers (no thread yet); a libuv error code, 0 on success.
int tcp_init(TcpWorker* w) noexcept;
// Listens on `fd` (a bound TCP socket, which it takes); a libuv error code, 0 on success.
int tcp_listen(TcpWorker* w, Fd fd) noexcept;
// Starts the loop thread (throws std::system_error when it cannot).
void tcp_start(TcpWorker* w);
// Any thread, after context->stopping is set: the loop closes every handle and returns.
void tcp_wake(TcpWorker* w) noexcept;
// On the loop thread, or on any thread when the loop never ran: closes every handle.
void tcp_close_all(TcpWorker* w) noexcept;

}  // namespace signpost::dns::server_detail
