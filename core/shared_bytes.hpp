// Immutable bytes shared by reference count, in one allocation (a count, a size and the
// bytes; empty: no allocation): for data kept by several owners at once, such as an RRSIG rdata that the
// signature cache, a zone's signing and each View's signature sets all hold (one copy
// instead of a std::string each). Copies share; nothing changes the bytes after
// construction. The count is atomic, so owners on different threads may drop their
// copies; reading is lock-free and allocation-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>

namespace signpost::core {

class SharedBytes {
public:
    SharedBytes() noexcept = default;
    // Throws std::length_error past 4 GiB (the size is 32 bits), std::bad_alloc.
    explicit SharedBytes(std::string_view bytes) {
        if (bytes.empty()) return;
        if (bytes.size() > UINT32_MAX) throw std::length_error("SharedBytes: over 4 GiB");
        void* mem = ::operator new(sizeof(Head) + bytes.size());
        head_ = new (mem) Head{{1}, uint32_t(bytes.size())};
        std::memcpy(reinterpret_cast<char*>(head_ + 1), bytes.data(), bytes.size());
    }
    SharedBytes(const SharedBytes& o) noexcept : head_(o.head_) {
        if (head_) head_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    SharedBytes(SharedBytes&& o) noexcept : head_(o.head_) { o.head_ = nullptr; }
    SharedBytes& operator=(const SharedBytes& o) noexcept {
        SharedBytes copy(o);
        std::swap(head_, copy.head_);
        return *this;
    }
    SharedBytes& operator=(SharedBytes&& o) noexcept {
        std::swap(head_, o.head_);
        return *this;
    }
    ~SharedBytes() { release(); }

    const char* data() const noexcept { return head_ ? reinterpret_cast<const char*>(head_ + 1) : ""; }
    std::size_t size() const noexcept { return head_ ? head_->size : 0; }
    bool empty() const noexcept { return head_ == nullptr; }
    std::string_view view() const noexcept { return {data(), size()}; }
    // The same bytes (shared or not).
    friend bool operator==(const SharedBytes& a, const SharedBytes& b) noexcept {
        return a.head_ == b.head_ || a.view() == b.view();
    }

private:
    struct Head {
        std::atomic<uint32_t> refs;
        uint32_t size;
    };
    void release() noexcept {
        if (head_ && head_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            head_->~Head();
            ::operator delete(head_);
        }
        head_ = nullptr;
    }
    Head* head_ = nullptr;
};

}  // namespace signpost::core
