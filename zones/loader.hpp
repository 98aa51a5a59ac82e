// Loads TOML zone files into a Catalog, collecting every diagnostic on the way.
// Runs on the control loop or the CLI; never on the query path.
#pragma once

#include <memory>
#include <string>

#include "core/diagnostics.hpp"
#include "zones/model.hpp"

namespace signpost::zones {

struct LoadResult {
    std::shared_ptr<const Catalog> catalog;  // null when any diagnostic is an error
    core::Diagnostics diagnostics;           // errors and warnings, all of them
};

// Loads every "*.toml" file of a directory (one zone each), or a single file.
LoadResult load_path(const std::string& path);
// Parses one zone from TOML text; `file` names it in diagnostics and resolves includes.
LoadResult load_text(std::string_view toml_text, const std::string& file);

}  // namespace signpost::zones
