// Private to zones/: one zone file's TOML into a Zone, every rule with file:line:col.
// The parts live in zone_parser.cpp (top level, origin, names), zone_records.cpp (static
// records, includes, [soa]) and zone_services.cpp (checks, pools, services). Load time only.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "zones/loader.hpp"
#include "zones/model.hpp"
#include "zones/rdata.hpp"
#include "zones/toml_reader.hpp"

namespace signpost::zones::detail {

inline constexpr int64_t kMaxTtl = 2147483647;
// Bytes of [records] tables read as one document: toml++'s tree of them is ~13 times
// as large (3.3 MB), whatever the size of the zone.
inline constexpr std::size_t kRecordsPartBytes = 256 * 1024;

// A parsed zone and where its origin is written (limit and duplicate-origin errors point there).
struct ParsedZone {
    Zone zone;
    core::SourceLocation origin_where;
};

// "example.com" for the name example.com. (the root stays ".").
std::string origin_label(const core::Name& origin);
// Letters, digits, '-' and '_' only, and not empty: check, pool and service names.
bool valid_identifier(std::string_view s);

// Catalog-wide, after every zone is parsed: a hostname endpoint that signpost answers
// itself, through services (or static CNAMEs) that lead back to it, is an error at the
// endpoint naming the loop (hostname_loops.cpp).
void check_hostname_loops(const std::vector<ParsedZone>& zones, core::Diagnostics& diags);

class ZoneParser {
public:
    // `limits` bound what an include may read (max_file_bytes); `diags` collects everything.
    ZoneParser(std::string file, const Limits& limits, core::Diagnostics& diags);
    // The zone, or nullopt when the text is not TOML; errors about its content leave a
    // zone behind and are only in the diagnostics.
    std::optional<ParsedZone> parse(std::string_view text);

private:
    // One RRset while a zone is assembled: collected in arrival order, sorted by
    // (owner, type) once every record is in (settle_sets), then moved into the zone's
    // table. One flat entry each: maps per owner and type cost three times as much.
    struct PendingSet {
        core::Name owner;
        RRset set;
        std::string written;  // the owner as written, when not its relative text ("WWW", "www.example.com.")
        uint32_t seq = 0;     // arrival order: of two, the later one is "already given"
        bool from_include = false;
    };

    void error(const core::SourceLocation& w, const std::string& ctx, const std::string& msg) { r_.error(w, ctx, msg); }
    void warning(const core::SourceLocation& w, const std::string& ctx, const std::string& msg) { r_.warning(w, ctx, msg); }
    std::optional<uint32_t> ttl_value(TomlNode n, const std::string& ctx, std::string_view key);

    // zone_parser.cpp: origin and names.
    void parse_origin(TomlNode root, core::SourceLocation& where);
    std::optional<core::Name> owner_name(const std::string& text, const core::SourceLocation& where,
                                         const std::string& ctx);
    void parse_runtime_txt(TomlNode n);
    // zone_dnssec.cpp: the [dnssec] table.
    void parse_dnssec(TomlNode n);

    // zone_records.cpp: static data.
    // Frees each owner's part of `doc` once it is read (TomlDocument::consume_entries).
    void parse_records(TomlDocument& doc, TomlNode records);
    void parse_owner(TomlNode t, const std::string& owner_text, const core::SourceLocation& where);
    void parse_rrset(const core::Name& owner, const std::string& owner_text, uint16_t type, const std::string& key,
                     TomlNode value, uint32_t ttl);
    void add_set(const core::Name& owner, const std::string& owner_text, RRset set, bool from_include);
    // Sorts sets_ and applies the rule "each name and type once" (an include's lines of
    // one RRset merge); lookups below need it done.
    void settle_sets();
    const PendingSet* find_set(const core::Name& owner, uint16_t type) const;
    std::string owner_text(const PendingSet& p) const;
    void parse_include(const std::string& rel, const core::SourceLocation& where);
    void parse_soa(TomlNode node);
    void check_static_data();
    uint32_t automatic_serial() const;
    void build_nodes();
    RecordSource source(const core::SourceLocation& where);

    // zone_services.cpp: checks, pools, services.
    void parse_check(const std::string& name, TomlNode node, const core::SourceLocation& where);
    void parse_status(TomlNode node, const std::string& ctx, core::CheckSpec& c);
    void parse_pool(const std::string& name, TomlNode node, const core::SourceLocation& where);
    void parse_endpoint(TomlNode e, const std::string& pool_ctx, Pool& pool, const std::vector<std::string>& checks);
    void parse_service(const std::string& name, TomlNode node, const core::SourceLocation& where);
    void parse_hook(TomlNode h, const std::string& ctx, Service& s);
    // zone_geo.cpp: the geo policy's pool keys (location, bias_km, max_km) and
    // service keys (rules, nearest).
    void parse_geo_pool(TomlNode t, const std::string& ctx, Pool& pool);
    void parse_geo_service(TomlNode t, const std::string& ctx, Service& s);
    std::optional<std::size_t> pool_index(const std::string& name, const core::SourceLocation& w, const std::string& ctx);
    void check_cname_owners();
    void set_probe_hosts();

    std::string file_;
    const Limits& limits_;
    std::vector<std::string> serial_sources_{file_};  // files whose mtime makes the automatic serial
    core::Diagnostics& d_;
    TomlReader r_;
    Zone zone_;
    core::Name origin_;
    std::string zctx_ = "zone";
    core::SourceLocation soa_where_;
    std::deque<PendingSet> sets_;
    uint32_t seq_ = 0;
    std::optional<MasterRecord> include_soa_;
    std::map<std::string, std::size_t> services_by_lower_;  // see parse_service
    std::size_t services_by_lower_count_ = 0;
    std::map<core::Name, std::string> service_owner_;
    std::map<core::Name, core::SourceLocation> service_owner_where_;
    const std::string* last_file_name_ = nullptr;  // see source()
};

}  // namespace signpost::zones::detail
