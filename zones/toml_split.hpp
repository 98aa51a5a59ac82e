// A zone file's text cut so that its [records] tables can be read a part at a time:
// toml++ builds a tree of the whole text it is given (about 13 bytes per byte of a
// records table), and 100,000 owners read at once made that tree half of a load's
// peak. The cut follows TOML's line structure (strings, comments, arrays and inline
// tables that span lines), so every part is the file's own text. Load time only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace signpost::zones {

// A run of whole lines of the text: [begin, end) in bytes, starting on line `first_line`.
struct TomlRun {
    std::size_t begin = 0, end = 0;
    uint32_t first_line = 1;
    bool records = false;  // a run of tables whose header starts with "records" ([records], [records.www]...)
};

// The text as runs that alternate between records tables and everything else (the top
// level keys and every other table). A records run is cut, only between two tables,
// once it holds `part_bytes` or more. The runs cover the text in order, end to end.
std::vector<TomlRun> toml_runs(std::string_view text, std::size_t part_bytes);

// The text with every records run replaced by its newlines only: what is left of the
// file is read as one document whose positions are still the file's.
std::string without_records(std::string_view text, const std::vector<TomlRun>& runs);

}  // namespace signpost::zones
