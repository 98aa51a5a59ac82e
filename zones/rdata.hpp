// Private to zones/: record data in and out of presentation format, and RFC 1035
// master files, through ldns. No ldns types leak out of this header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/name.hpp"

namespace signpost::zones::detail {

// "A", "mx", "TYPE65534" -> the type number; nullopt when ldns does not know the mnemonic.
std::optional<uint16_t> type_from_name(std::string_view mnemonic);
// 1 -> "A", 65534 -> "TYPE65534".
std::string type_to_name(uint16_t type);
// Types that describe queries or transactions and can never be zone data (OPT, ANY, AXFR...).
bool is_meta_type(uint16_t type) noexcept;

// Parses one record's rdata in presentation format ("10 mail", "\# 4 0A000001").
// Relative names are completed with `origin`. Returns the uncompressed wire rdata,
// or nullopt with `error` set to ldns's reason.
std::optional<std::string> rdata_from_text(uint16_t type, std::string_view text, const core::Name& origin,
                                           std::string* error);

// TXT rdata from strings taken literally; strings longer than 255 octets are split
// into several character-strings (an empty string gives one empty character-string).
std::string txt_rdata(const std::vector<std::string>& strings);
// The character-strings of TXT rdata; nullopt when the rdata is malformed.
std::optional<std::vector<std::string>> txt_strings(std::string_view rdata);

// Presentation format of wire rdata as ldns prints it (names absolute). Falls back to
// RFC 3597 "\# len hex" when ldns cannot print it in a form that parses back the same.
std::string rdata_to_text(uint16_t type, std::string_view rdata);

// Reads a name in wire format at `pos` (no compression); advances pos.
std::optional<core::Name> read_wire_name(std::string_view wire, std::size_t& pos);

struct MasterRecord {
    core::Name owner;
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::string rdata;  // uncompressed wire
    uint32_t line = 0;  // where the record starts
};

struct MasterFile {
    std::vector<MasterRecord> records;  // in file order
    std::optional<uint32_t> dollar_ttl; // the first $TTL directive, if any
};

// Reads an RFC 1035 master file with ldns ($ORIGIN, $TTL, relative names, parentheses).
// Every record that does not parse becomes an error "path:line: ..." and reading goes
// on with the next one. Returns false (with an error) only when the file cannot be opened.
bool read_master_file(const std::string& path, const core::Name& origin, uint32_t default_ttl,
                      core::Diagnostics& diagnostics, MasterFile& out);

}  // namespace signpost::zones::detail
