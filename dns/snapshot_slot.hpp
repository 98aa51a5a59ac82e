// The one publication mechanism of the DNS server: a writer swaps in a new
// Snapshot, each query thread keeps its own reference and refreshes it with one
// atomic load. Readers never lock or touch a refcount unless a publication happened.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "dns/snapshot.hpp"

namespace signpost::dns {

class SnapshotSlot {
public:
    explicit SnapshotSlot(std::shared_ptr<const Snapshot> initial = nullptr) : current_(std::move(initial)) {}
    SnapshotSlot(const SnapshotSlot&) = delete;
    SnapshotSlot& operator=(const SnapshotSlot&) = delete;

    // Any thread. Once it returns, every Reader::current() that starts afterwards
    // returns `next` or a later snapshot: the pointer is stored and the generation
    // bumped under the mutex; the bump is a release that current()'s acquire load
    // pairs with. The previous snapshot is freed by the last reader to let go of it.
    void publish(std::shared_ptr<const Snapshot> next) {
        std::shared_ptr<const Snapshot> old;
        {
            std::lock_guard lock(mutex_);
            old = std::exchange(current_, std::move(next));
            generation_.fetch_add(1, std::memory_order_release);
        }
        // `old` (when no reader holds it) is freed here, outside the lock.
    }

    // One thread's view of the slot (a UDP receiver, a TCP worker's loop). Not
    // thread-safe itself: each thread has its own.
    class Reader {
    public:
        explicit Reader(const SnapshotSlot& slot) : slot_(&slot) {}

        // The newest snapshot (null when none was ever published). One acquire load
        // when nothing changed; when the generation moved, a copy under the slot's
        // mutex, and the replaced snapshot is freed here, outside the lock.
        // Valid until the next current() or release() on this reader.
        const Snapshot* current() noexcept {
            if (slot_->generation_.load(std::memory_order_acquire) != generation_) {
                std::shared_ptr<const Snapshot> old;
                {
                    std::lock_guard lock(slot_->mutex_);
                    old = std::exchange(held_, slot_->current_);
                    generation_ = slot_->generation_.load(std::memory_order_relaxed);
                }
            }
            return held_.get();
        }

        // Lets go of the held snapshot (an idle thread must not keep a replaced one
        // alive); the next current() takes the newest again.
        void release() noexcept {
            held_.reset();
            generation_ = kNone;
        }

        // release() when a newer snapshot was published since current(): one load,
        // no lock. For an idle thread's periodic wake-up.
        void release_if_stale() noexcept {
            if (generation_ != kNone && slot_->generation_.load(std::memory_order_relaxed) != generation_) release();
        }

    private:
        static constexpr uint64_t kNone = ~uint64_t(0);
        const SnapshotSlot* slot_;
        std::shared_ptr<const Snapshot> held_;
        uint64_t generation_ = kNone;
    };

private:
    mutable std::mutex mutex_;  // guards current_
    std::shared_ptr<const Snapshot> current_;
    std::atomic<uint64_t> generation_{0};
};

}  // namespace signpost::dns
