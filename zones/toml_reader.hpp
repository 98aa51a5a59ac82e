// Typed reading of TOML (zone files and the server config): values with their types,
// ranges, durations, addresses and word lists, and unknown keys, every error at toml++'s
// file:line:col and all of them collected in core::Diagnostics (reading keeps going).
// Load time only. No toml++ type crosses this header: a TomlNode is an opaque handle.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/diagnostics.hpp"
#include "core/duration.hpp"

namespace signpost::zones {

struct TomlEntry;

// A value inside a TomlDocument: a non-owning handle, valid while its document lives.
// A default-constructed handle is absent: it is false, and every question on it answers
// no (not a table, no entries, no value).
class TomlNode {
public:
    TomlNode() = default;
    explicit operator bool() const noexcept { return node_ != nullptr; }

    bool is_table() const noexcept;
    bool is_array() const noexcept;
    bool is_string() const noexcept;
    bool is_integer() const noexcept;
    bool is_boolean() const noexcept;

    // Where the value starts in its file.
    core::SourceLocation where() const;
    // What the value is, for "got ..." in messages: string "x", integer 5, an array, a table...
    std::string describe() const;

    // The value when it has exactly this type (no conversions); otherwise nullopt.
    std::optional<std::string> as_string() const;
    std::optional<int64_t> as_integer() const;
    std::optional<double> as_number() const;  // an integer or a float
    std::optional<bool> as_boolean() const;

    // A table's value under `key`; absent when this is not a table or has no such key.
    TomlNode get(std::string_view key) const;
    bool contains(std::string_view key) const { return bool(get(key)); }
    // Entries of a table or elements of an array; 0 for anything else.
    std::size_t size() const noexcept;
    bool empty() const noexcept { return size() == 0; }
    // An array's elements (empty when this is not an array).
    std::vector<TomlNode> elements() const;
    // A table's entries ordered by key, as toml++ keeps them.
    std::vector<TomlEntry> entries() const;
    // A table's entries in the order they were written.
    std::vector<TomlEntry> entries_in_file_order() const;

private:
    friend class TomlDocument;
    TomlNode(const void* node, const std::string* file, uint32_t line0) noexcept
        : node_(node), file_(file), line0_(line0) {}
    const void* node_ = nullptr;         // a toml::node owned by the document
    const std::string* file_ = nullptr;  // the document's file name
    uint32_t line0_ = 0;                 // lines of the file before the document's text
};

struct TomlEntry {
    std::string key;
    core::SourceLocation key_where;  // where the key is written
    TomlNode value;
};

// A parsed TOML text. A syntax error is reported as "TOML syntax error: ..." at
// toml++'s position, and the root is then absent.
class TomlDocument {
public:
    // `file` names the text in every location; `first_line` is the file's line the text
    // starts on (a part of a file, see toml_split.hpp), so locations are the file's.
    TomlDocument(std::string_view text, std::string file, core::Diagnostics& diags, uint32_t first_line = 1);
    TomlDocument(TomlDocument&&) noexcept;
    TomlDocument& operator=(TomlDocument&&) noexcept;
    ~TomlDocument();

    bool ok() const noexcept;
    TomlNode root() const noexcept;
    const std::string& file() const noexcept;

    // Visits the entries of `table` (a table of this document) in key order, one at a
    // time, and frees each entry's subtree right after its visit; `table` is empty
    // afterwards and handles into it are dangling. For a zone's [records]: 100,000
    // owners are ~48 MB of tree, and the zone built from them never has to sit beside
    // the whole of it. No-op when `table` is not a table.
    void consume_entries(TomlNode table, const std::function<void(const TomlEntry&)>& visit);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Reads typed values and reports each problem as "<ctx>: <key> must be ..., got ..."
// (without "<ctx>: " when ctx is empty). `key` is the name as the reader should see it:
// "ttl" in a zone, "'api.listen'" in the server config. Every accessor returns nullopt
// (or an absent node) after reporting; none throws.
class TomlReader {
public:
    explicit TomlReader(core::Diagnostics& diags) noexcept : d_(diags) {}
    core::Diagnostics& diagnostics() noexcept { return d_; }

    void error(const core::SourceLocation& at, std::string_view ctx, const std::string& message);
    void warning(const core::SourceLocation& at, std::string_view ctx, const std::string& message);
    // "<key> must be <want>, got <what n is>" at n: for rules the accessors below do not cover.
    void must_be(TomlNode n, std::string_view ctx, std::string_view key, std::string_view want);

    // Every key of `table` that is not allowed, at the key:
    // "unknown key '<prefix>k'; did you mean '<prefix>a'?; allowed: a, b, c".
    void check_keys(TomlNode table, std::string_view ctx, const std::vector<std::string>& allowed,
                    std::string_view prefix = {});

    // `n` when it is a table, else "<key> must be a table, got ...".
    TomlNode table(TomlNode n, std::string_view ctx, std::string_view key);
    // "<key> must be an integer, got ..." or "<key> must be lo..hi, got v".
    std::optional<int64_t> integer(TomlNode n, std::string_view ctx, std::string_view key, int64_t lo, int64_t hi);
    // Any wrong type or value: "<key> must be <want>, got ...".
    std::optional<int64_t> integer(TomlNode n, std::string_view ctx, std::string_view key, int64_t lo, int64_t hi,
                                   std::string_view want);
    // "<key> must be a string, got ..." (or "<key> must be <want>, got ...").
    std::optional<std::string> string(TomlNode n, std::string_view ctx, std::string_view key,
                                      std::string_view want = "a string");
    // "<key> must be true or false, got ...".
    std::optional<bool> boolean(TomlNode n, std::string_view ctx, std::string_view key);
    // A word from a fixed list: "<key> must be one of a, b, got "x"; did you mean 'a'?".
    std::optional<std::string> choice(TomlNode n, std::string_view ctx, std::string_view key,
                                      const std::vector<std::string>& allowed);
    // "1s", "200ms", "5m" or an integer number of seconds:
    // "<key> must be a duration such as "1s", "200ms" or "5m", got ..." or "<key> must be above zero, got ...".
    std::optional<core::Millis> duration(TomlNode n, std::string_view ctx, std::string_view key, bool allow_zero);
    // A duration within lo..hi; anything else: "<key> must be <want>, got ...".
    std::optional<core::Millis> duration(TomlNode n, std::string_view ctx, std::string_view key, core::Millis lo,
                                         core::Millis hi, std::string_view want);

    struct Text {
        std::string value;
        core::SourceLocation where;
    };
    // A string or an array of strings, each with its location:
    // "<key> must be a string or an array of strings, got ..." / "<key> must contain only strings, got ...".
    std::optional<std::vector<Text>> strings(TomlNode n, std::string_view ctx, std::string_view key);

    // "<key>: not an address: expected "192.0.2.1" or "2001:db8::1", got ...".
    std::optional<core::IpAddress> address(TomlNode n, std::string_view ctx, std::string_view key);
    // "<key>: not a prefix: expected "192.0.2.0/24" or "2001:db8::/32", got ...".
    std::optional<core::IpPrefix> prefix(TomlNode n, std::string_view ctx, std::string_view key);
    // An array of prefixes: the good ones (each bad element is reported as by prefix());
    // nullopt and "<key> must be <want>, got ..." when `n` is not an array.
    std::optional<std::vector<core::IpPrefix>> prefixes(TomlNode n, std::string_view ctx, std::string_view key,
                                                        std::string_view want);

private:
    core::Diagnostics& d_;
};

// "a, b, c".
std::string join(const std::vector<std::string>& items, const char* sep = ", ");
// "; did you mean 'ttl'?" when one allowed word is close to what was typed (case-insensitive), else "".
std::string suggestion(std::string_view typed, const std::vector<std::string>& allowed, std::string_view prefix = {});
// The text in double quotes: "x".
std::string dq(std::string_view s);

}  // namespace signpost::zones
