// Text encodings DNSSEC files and records use: base64 (key files, DNSKEY), base32hex
// (NSEC3 owner labels, RFC 4648 section 7) and hex (DS digests, salts). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace signpost::dnssec {

std::string base64_encode(std::string_view bytes);
// Standard alphabet with '=' padding; spaces, tabs and line breaks between groups are
// skipped (key files and zone files split long keys). nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);
// Lowercase base32hex without padding, as NSEC3 owner names spell hashes.
std::string base32hex_encode(std::string_view bytes);
std::string hex_encode(std::string_view bytes, bool upper = true);

}  // namespace signpost::dnssec
