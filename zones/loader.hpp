// Loads TOML zone files into a Catalog, collecting every diagnostic on the way.
// Runs on the control loop or the CLI; never on the query path.
#pragma once

#include <memory>
#include <string>

#include "core/diagnostics.hpp"
#include "zones/model.hpp"

namespace signpost::zones {

// Caps on what a load may bring in, so a huge or hostile zone set is refused
// with a diagnostic instead of exhausting memory. 0 means no limit.
struct Limits {
    std::size_t max_zones = 10000;                // zones in one load
    std::size_t max_records_per_zone = 1000000;   // static records (rdatas) in one zone
    std::size_t max_endpoints = 10000;            // probed endpoints over all zones
    std::size_t max_file_bytes = 64u << 20;       // one TOML zone file
    bool operator==(const Limits&) const = default;
};

struct LoadResult {
    std::shared_ptr<const Catalog> catalog;  // null when any diagnostic is an error
    core::Diagnostics diagnostics;           // errors and warnings, all of them
};

// Loads every "*.toml" file of a directory (one zone each), or a single file.
// Without `limits`: the defaults above (the daemon passes its [limits]).
LoadResult load_path(const std::string& path);
LoadResult load_path(const std::string& path, const Limits& limits);
// Parses one zone from TOML text; `file` names it in diagnostics and resolves includes.
LoadResult load_text(std::string_view toml_text, const std::string& file);
LoadResult load_text(std::string_view toml_text, const std::string& file, const Limits& limits);

// The errors that keep a load from being served ("file:line:col: error: ..."), or
// "<path>: no zone files (*.toml) to serve"; empty when the catalog can be served.
std::vector<std::string> load_errors(const LoadResult& result, const std::string& path);

// Whether a change to `file` (a name in the zones directory, as a watcher reports
// it) may change the zones: editors' temporary files and the server's own
// state file (`state_file_name`) do not.
bool is_zone_change(std::string_view file, std::string_view state_file_name);

}  // namespace signpost::zones
