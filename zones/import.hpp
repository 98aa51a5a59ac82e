// Converts an RFC 1035 master file (BIND/NSD/Knot) into an equivalent TOML zone.
#pragma once

#include <optional>
#include <string>

#include "core/diagnostics.hpp"

namespace signpost::zones {

// Returns the TOML text, or nullopt with diagnostics (file:line) when the master
// file cannot be parsed. The result loads with load_text and serves the same answers.
std::optional<std::string> import_master_file(const std::string& origin, const std::string& path,
                                              core::Diagnostics& diagnostics);

}  // namespace signpost::zones
