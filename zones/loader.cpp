// Loading zones: the files of a directory (or one file or text), each parsed into a
// zone, the resource limits of the load ([limits]), and the Catalog built from them.
// Limits are an argument of each load. Load time only; never on the query path.
#include "zones/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "zones/zone_parser.hpp"

namespace signpost::zones {

namespace {

namespace fs = std::filesystem;
using detail::ParsedZone;
using detail::origin_label;

std::optional<ParsedZone> parse_zone(std::string_view text, const std::string& file, const Limits& lim,
                                     core::Diagnostics& d) {
    detail::ZoneParser p(file, lim, d);
    return p.parse(text);
}

// Resource limits: counted on the parsed zones, before the Catalog is built.
void check_limits(const std::vector<ParsedZone>& parsed, const Limits& lim, core::Diagnostics& diags) {
    if (lim.max_zones && parsed.size() > lim.max_zones)
        diags.error(parsed[lim.max_zones].origin_where,
                    std::to_string(parsed.size()) + " zones to load, more than the limit of " +
                        std::to_string(lim.max_zones) + "; raise [limits] max_zones in the server config");
    std::size_t endpoints = 0;
    for (auto& pz : parsed) {
        std::size_t records = 0;
        for (auto& [name, node] : pz.zone.nodes)
            for (auto& set : node.rrsets) records += set.rdatas.size();
        if (lim.max_records_per_zone && records > lim.max_records_per_zone)
            diags.error(pz.origin_where, "zone '" + origin_label(pz.zone.origin) + "' has " + std::to_string(records) +
                                             " records, more than the limit of " +
                                             std::to_string(lim.max_records_per_zone) +
                                             "; raise [limits] max_records_per_zone in the server config");
        std::size_t before = endpoints;
        for (auto& pool : pz.zone.pools) endpoints += pool.endpoints.size();
        if (lim.max_endpoints && endpoints > lim.max_endpoints && before <= lim.max_endpoints)
            diags.error(pz.origin_where, "zone '" + origin_label(pz.zone.origin) + "' brings the probed endpoints to " +
                                             std::to_string(endpoints) + ", more than the limit of " +
                                             std::to_string(lim.max_endpoints) +
                                             "; raise [limits] max_endpoints in the server config");
    }
}

bool too_big(std::size_t bytes, const std::string& file, const Limits& lim, core::Diagnostics& d) {
    if (!lim.max_file_bytes || bytes <= lim.max_file_bytes) return false;
    d.error({file, 0, 0}, "zone file is " + std::to_string(bytes) + " bytes, more than the limit of " +
                              std::to_string(lim.max_file_bytes) +
                              "; raise [limits] max_file_bytes in the server config");
    return true;
}

LoadResult finish(std::vector<ParsedZone> parsed, core::Diagnostics diags, const Limits& lim) {
    LoadResult r;
    check_limits(parsed, lim, diags);
    detail::check_hostname_loops(parsed, diags);
    // The same origin in two files.
    std::map<core::Name, const ParsedZone*> seen;
    for (auto& pz : parsed) {
        auto [it, fresh] = seen.emplace(pz.zone.origin, &pz);
        if (!fresh)
            diags.error(pz.origin_where, "zone '" + origin_label(pz.zone.origin) + "' is already defined in " +
                                             it->second->zone.file() + "; each origin may appear in one file only");
    }
    r.diagnostics = std::move(diags);
    if (r.diagnostics.has_errors()) return r;
    // The parse's temporaries are gone: lay the records out afresh (NodeTable::compact).
    std::vector<NodeTable*> tables;
    for (auto& pz : parsed) tables.push_back(&pz.zone.nodes);
    NodeTable::compact(tables);
    auto cat = std::make_shared<Catalog>();
    cat->zones.reserve(parsed.size());
    for (auto& pz : parsed) cat->zones.push_back(std::move(pz.zone));
    for (std::size_t z = 0; z < cat->zones.size(); ++z) {
        Zone& zone = cat->zones[z];
        std::string origin = origin_label(zone.origin);
        for (std::size_t p = 0; p < zone.pools.size(); ++p) {
            for (std::size_t e = 0; e < zone.pools[p].endpoints.size(); ++e) {
                Endpoint& ep = zone.pools[p].endpoints[e];
                ep.index = core::EndpointIndex(cat->endpoints.size());
                cat->endpoints.push_back({origin + "/" + zone.pools[p].name + "/" + ep.name, z, p, e});
            }
        }
        for (std::size_t s = 0; s < zone.services.size(); ++s) {
            zone.services[s].index = cat->services.size();
            cat->services.push_back({origin + "/" + zone.services[s].name, z, s});
        }
    }
    r.catalog = std::move(cat);
    return r;
}

std::optional<std::string> read_file(const std::string& path, core::Diagnostics& d) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        d.error({path, 0, 0}, "cannot read zone file: " + std::string(std::strerror(errno)));
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

LoadResult load_text(std::string_view toml_text, const std::string& file) { return load_text(toml_text, file, Limits{}); }

LoadResult load_text(std::string_view toml_text, const std::string& file, const Limits& lim) {
    core::Diagnostics d;
    std::vector<ParsedZone> zones;
    if (!too_big(toml_text.size(), file, lim, d))
        if (auto z = parse_zone(toml_text, file, lim, d)) zones.push_back(std::move(*z));
    return finish(std::move(zones), std::move(d), lim);
}

LoadResult load_path(const std::string& path) { return load_path(path, Limits{}); }

LoadResult load_path(const std::string& path, const Limits& lim) {
    core::Diagnostics d;
    std::vector<std::string> files;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (auto& entry : fs::directory_iterator(path, ec)) {
            if (entry.path().extension() == ".toml" && entry.is_regular_file(ec)) files.push_back(entry.path().string());
        }
        if (ec) d.error({path, 0, 0}, "cannot list zone directory: " + ec.message());
        std::sort(files.begin(), files.end());
        if (files.empty() && !ec) d.warning({path, 0, 0}, "no *.toml zone files in this directory");
    } else if (fs::exists(path, ec)) {
        files.push_back(path);
    } else {
        d.error({path, 0, 0}, "no such file or directory");
    }
    std::vector<ParsedZone> zones;
    for (auto& f : files) {
        std::error_code size_ec;
        auto size = fs::file_size(f, size_ec);
        if (!size_ec && too_big(std::size_t(size), f, lim, d)) continue;
        auto text = read_file(f, d);
        if (!text) continue;
        if (auto z = parse_zone(*text, f, lim, d)) zones.push_back(std::move(*z));
    }
    return finish(std::move(zones), std::move(d), lim);
}

std::vector<std::string> load_errors(const LoadResult& result, const std::string& path) {
    std::vector<std::string> errors;
    for (auto& d : result.diagnostics.items())
        if (d.severity == core::Severity::Error) errors.push_back(d.to_string());
    if (errors.empty() && (!result.catalog || result.catalog->zones.empty()))
        errors.push_back(path + ": no zone files (*.toml) to serve");
    return errors;
}

bool is_zone_change(std::string_view f, std::string_view state_file_name) {
    if (f.empty()) return true;  // the watcher did not say which: reload
    return !(f[0] == '.' || f.ends_with(".tmp") || f.ends_with("~") || f.ends_with(".swp") || f == state_file_name);
}

}  // namespace signpost::zones
