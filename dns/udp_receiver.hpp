// One UDP socket of a DNS worker and the thread that receives on it: recvmmsg
// and sendmmsg in batches. Internal to dns/server*.cpp.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "dns/rrl.hpp"
#include "dns/server_shared.hpp"
#include "dns/server_sockets.hpp"
#include "dns/snapshot_slot.hpp"

namespace signpost::dns::server_detail {

constexpr int kBatch = 32;
constexpr std::size_t kUdpReceive = 4096;  // larger queries are dropped

// Everything the thread writes per query is its own: snapshot reference,
// counters, RRL table, buffers.
struct UdpReceiver {
    UdpReceiver(WorkerContext& c, const SnapshotSlot& slot) : context(&c), snapshot(slot) {}

    Fd fd;
    WorkerContext* context;            // options, the shared log budgets, the stop flag
    SnapshotSlot::Reader snapshot;     // this thread's own; read without locks
    std::unique_ptr<RateLimiter> rrl;  // null: RRL off
    uint64_t rrl_generation = 0;  // the QuerySettings `rrl` follows (refreshed when they move)
    uint64_t rrl_seed = 0;
    WorkerCounters counters;
    std::thread thread;

    std::size_t tx_slot = 0;
    std::vector<uint8_t> rx, tx;
    mmsghdr rmsgs[kBatch]{}, smsgs[kBatch]{};
    iovec riov[kBatch]{}, siov[kBatch]{};
    sockaddr_storage addrs[kBatch]{};

    ~UdpReceiver() {
        if (thread.joinable()) thread.join();
    }
};

// The receiver thread's body: returns once context->stopping is set and the
// socket is shut down.
void receive_udp(UdpReceiver* r) noexcept;

}  // namespace signpost::dns::server_detail
