// Domain names as lowercased, uncompressed wire format: the one key used to
// look names up everywhere. No I/O; safe to use from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signpost::core {

// A fully qualified domain name stored as canonical (lowercase) wire bytes,
// e.g. "\3www\7example\3com\0". Equality and hashing are byte-wise, which is
// the DNS's case-insensitive comparison because the bytes are lowercased.
class Name {
public:
    Name() : wire_(1, '\0') {}  // the root

    // Parses presentation format ("www", "www.example.com.", "@", "*.x",
    // escapes \. and \DDD). Relative names are completed with `origin`;
    // returns nullopt with `error` set when the text is not a valid name.
    static std::optional<Name> from_text(std::string_view text, const Name& origin,
                                         std::string* error = nullptr);
    // Builds from wire bytes (already decompressed); lowercases them.
    // Returns nullopt if the bytes are not a well-formed name.
    static std::optional<Name> from_wire(std::string_view wire);

    const std::string& wire() const noexcept { return wire_; }
    std::size_t wire_length() const noexcept { return wire_.size(); }
    int label_count() const noexcept;  // root = 0
    bool is_root() const noexcept { return wire_.size() == 1; }
    bool is_wildcard() const noexcept { return wire_.size() > 2 && wire_[0] == 1 && wire_[1] == '*'; }
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

    bool operator==(const Name& o) const noexcept { return wire_ == o.wire_; }
    bool operator!=(const Name& o) const noexcept { return wire_ != o.wire_; }
    bool operator<(const Name& o) const noexcept { return wire_ < o.wire_; }

private:
    explicit Name(std::string wire) : wire_(std::move(wire)) {}
    std::string wire_;
};

struct NameHash {
    std::size_t operator()(const Name& n) const noexcept { return std::hash<std::string>{}(n.wire()); }
};

}  // namespace signpost::core
