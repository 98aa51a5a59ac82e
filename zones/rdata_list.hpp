// The rdatas of one RRset, packed into one string: each record is a 2-byte length
// (host order) followed by its bytes. One A record (6 bytes) fits in the string's own
// 15 bytes, so the usual RRset holds its data without a heap block of its own; a
// std::vector<std::string> took 24 bytes in place plus a 48-byte block per record set.
// Reads as a forward range of std::string_view, in the order the records were added.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace signpost::zones {

class RdataList {
public:
    // Rdata is at most 65,535 bytes (RFC 1035 3.2.1: RDLENGTH is 16 bits).
    static constexpr std::size_t kMaxRdata = 0xffff;

    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        iterator() = default;
        std::string_view operator*() const noexcept { return {p_ + 2, length()}; }
        iterator& operator++() noexcept {
            p_ += 2 + length();
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.p_ == b.p_; }

    private:
        friend class RdataList;
        explicit iterator(const char* p) noexcept : p_(p) {}
        std::size_t length() const noexcept {
            uint16_t n;
            std::memcpy(&n, p_, 2);
            return n;
        }
        const char* p_ = nullptr;
    };
    using const_iterator = iterator;
    using value_type = std::string_view;

    RdataList() = default;
    RdataList(std::initializer_list<std::string_view> rdatas) {
        for (auto rd : rdatas) push_back(rd);
    }
    // Implicit: signing and comparing take a list, and rdata built at load time (key
    // sets, a service's address sets, transfers) comes as strings.
    RdataList(const std::vector<std::string>& rdatas) {  // NOLINT(google-explicit-constructor)
        for (const auto& rd : rdatas) push_back(rd);
    }

    iterator begin() const noexcept { return iterator(bytes_.data()); }
    iterator end() const noexcept { return iterator(bytes_.data() + bytes_.size()); }
    bool empty() const noexcept { return bytes_.empty(); }
    // The number of records: a walk over them.
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (auto it = begin(), e = end(); it != e; ++it) ++n;
        return n;
    }
    // The first record; the list must not be empty.
    std::string_view front() const noexcept { return *begin(); }
    // Record i < size(), by a walk from the first (use iteration to visit them all).
    std::string_view operator[](std::size_t i) const noexcept {
        auto it = begin();
        while (i-- > 0) ++it;
        return *it;
    }
    std::string_view at(std::size_t i) const {
        for (auto it = begin(), e = end(); it != e; ++it, --i)
            if (i == 0) return *it;
        throw std::out_of_range("RdataList::at");
    }
    bool contains(std::string_view rd) const noexcept {
        for (auto r : *this)
            if (r == rd) return true;
        return false;
    }
    // Appends a record (duplicates are the caller's to refuse). Throws
    // std::length_error past kMaxRdata bytes.
    void push_back(std::string_view rd) {
        if (rd.size() > kMaxRdata) throw std::length_error("rdata over 65535 bytes");
        if (!rd.empty() && rd.data() >= bytes_.data() && rd.data() < bytes_.data() + bytes_.size()) {
            push_back(std::string(rd));  // a record of this list: copied before the bytes may move
            return;
        }
        const auto n = uint16_t(rd.size());
        const std::size_t at = bytes_.size();
        bytes_.resize(at + 2 + rd.size());
        std::memcpy(bytes_.data() + at, &n, 2);
        if (!rd.empty()) std::memcpy(bytes_.data() + at + 2, rd.data(), rd.size());
    }
    void clear() noexcept { bytes_.clear(); }
    // The packed form, for copying a list whole (NodeTable::compact).
    std::string_view packed() const noexcept { return bytes_; }
    // A list from packed(); `bytes` must come from packed(). Its heap block (over 15
    // bytes) is exactly as large as the bytes: a string built whole, not grown.
    static RdataList from_packed(std::string_view bytes) {
        RdataList l;
        l.bytes_ = std::string(bytes);
        return l;
    }

    friend bool operator==(const RdataList& a, const RdataList& b) noexcept { return a.bytes_ == b.bytes_; }

private:
    std::string bytes_;
};

}  // namespace signpost::zones
