// Domain names as lowercased, uncompressed wire format: the one key used to
// look names up everywhere. No I/O; safe to use from any thread.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace signpost::core {

// A fully qualified domain name stored as canonical (lowercase) wire bytes,
// e.g. "\3www\7example\3com\0". Equality and hashing are byte-wise, which is
// the DNS's case-insensitive comparison because the bytes are lowercased.
class Name {
public:
    Name() noexcept : len_(1) { raw_[0] = '\0'; }  // the root
    Name(const Name& o) : len_(0) { assign(o.wire()); }
    Name(Name&& o) noexcept : len_(o.len_) {
        std::memcpy(raw_, o.raw_, sizeof raw_);
        o.len_ = 1;  // o's heap block, if any, is ours now; o is the root
        o.raw_[0] = '\0';
    }
    Name& operator=(const Name& o) {
        if (this != &o) {
            Name copy(o);
            swap(copy);
        }
        return *this;
    }
    Name& operator=(Name&& o) noexcept {
        if (this != &o) {
            Name moved(std::move(o));
            swap(moved);
        }
        return *this;
    }
    ~Name() {
        if (!is_inline()) std::free(heap());
    }
    void swap(Name& o) noexcept {
        char t[sizeof raw_];
        std::memcpy(t, raw_, sizeof raw_);
        std::memcpy(raw_, o.raw_, sizeof raw_);
        std::memcpy(o.raw_, t, sizeof raw_);
        std::swap(len_, o.len_);
    }

    // Parses presentation format ("www", "www.example.com.", "@", "*.x",
    // escapes \. and \DDD). Relative names are completed with `origin`;
    // returns nullopt with `error` set when the text is not a valid name.
    static std::optional<Name> from_text(std::string_view text, const Name& origin,
                                         std::string* error = nullptr);
    // Builds from wire bytes (already decompressed); lowercases them.
    // Returns nullopt if the bytes are not a well-formed name.
    static std::optional<Name> from_wire(std::string_view wire);

    std::string_view wire() const noexcept { return {data(), len_}; }
    std::size_t wire_length() const noexcept { return len_; }
    int label_count() const noexcept;  // root = 0
    bool is_root() const noexcept { return len_ == 1; }
    bool is_wildcard() const noexcept { return len_ > 2 && data()[0] == 1 && data()[1] == '*'; }
    // True when this name equals `ancestor` or lies below it.
    bool is_subdomain_of(const Name& ancestor) const noexcept;
    // The name without its first label; the root's parent is the root.
    Name parent() const;
    // "*." + this name.
    Name wildcard_child() const;
    // Presentation format with a trailing dot ("www.example.com.").
    std::string to_text() const;
    // As keys, metrics and the API spell a zone: "example.com" (no final dot; the root stays ".").
    std::string to_key() const;
    // Presentation format relative to `origin` ("www", "@"), absolute otherwise.
    std::string to_relative_text(const Name& origin) const;

    bool operator==(const Name& o) const noexcept { return wire() == o.wire(); }
    bool operator!=(const Name& o) const noexcept { return wire() != o.wire(); }
    bool operator<(const Name& o) const noexcept { return wire() < o.wire(); }

    // Wire names up to this many bytes are held in the object itself (most names
    // a zone has: "www.example.com." is 17); longer ones in one heap block.
    static constexpr std::size_t kInline = 30;

private:
    explicit Name(std::string_view wire) : len_(0) { assign(wire); }
    bool is_inline() const noexcept { return len_ <= kInline; }
    char* heap() const noexcept {
        char* p;
        std::memcpy(&p, raw_, sizeof p);
        return p;
    }
    const char* data() const noexcept { return is_inline() ? raw_ : heap(); }
    // Only on a Name holding no heap block (len_ <= kInline).
    void assign(std::string_view wire) {
        if (wire.size() > UINT16_MAX) throw std::length_error("name too long");
        if (wire.size() <= kInline) {
            std::memcpy(raw_, wire.data(), wire.size());
        } else {
            char* p = static_cast<char*>(std::malloc(wire.size()));
            if (!p) throw std::bad_alloc();
            std::memcpy(p, wire.data(), wire.size());
            std::memcpy(raw_, &p, sizeof p);
        }
        len_ = uint16_t(wire.size());
    }

    char raw_[kInline];  // the bytes, or (longer names) a pointer to them
    uint16_t len_;       // wire length: 1 (the root) to 255 for valid names
};
// The size of a std::string, which held the bytes before: 15 of them in place.
static_assert(sizeof(Name) == 32);

struct NameHash {
    std::size_t operator()(const Name& n) const noexcept { return std::hash<std::string_view>{}(n.wire()); }
};

}  // namespace signpost::core
