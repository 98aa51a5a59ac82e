// One zone file's top level: the keys a zone may have, the order they are read in,
// the origin, and owner names relative to it. Load time only; never on the query path.
#include "zones/zone_parser.hpp"

#include <cctype>

#include "zones/toml_split.hpp"

namespace signpost::zones::detail {

namespace {

const std::vector<std::string> kTopKeys = {"origin", "ttl",    "include",  "soa",
                                           "records", "checks", "pools", "services", "runtime_txt", "dnssec"};

}  // namespace

std::string origin_label(const core::Name& origin) {
    std::string t = origin.to_text();
    return t.size() > 1 ? t.substr(0, t.size() - 1) : t;
}

bool valid_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!std::isalnum(c) && c != '-' && c != '_') return false;
    return true;
}

ZoneParser::ZoneParser(std::string file, const Limits& limits, core::Diagnostics& diags)
    : file_(std::move(file)), limits_(limits), d_(diags), r_(diags) {}

std::optional<ParsedZone> ZoneParser::parse(std::string_view text) {
    // The records tables are read a part at a time (toml_split.hpp); the rest of the
    // file is one document with blank lines where they were.
    auto runs = toml_runs(text, kRecordsPartBytes);
    TomlDocument doc(without_records(text, runs), file_, d_);
    if (!doc.ok()) return std::nullopt;
    TomlNode root = doc.root();
    ParsedZone out;
    zone_.file_name = intern_file_name(file_);
    parse_origin(root, out.origin_where);
    r_.check_keys(root, zctx_, kTopKeys);
    if (auto n = root.get("ttl"))
        if (auto v = r_.integer(n, zctx_, "ttl", 0, kMaxTtl)) zone_.default_ttl = uint32_t(*v);
    if (auto n = root.get("records"))  // records = { ... } or dotted keys before the first table
        if (auto t = r_.table(n, zctx_, "records")) parse_records(doc, t);
    for (auto& run : runs) {
        if (!run.records) continue;
        // Each part is a document of its own: a table written twice in two parts is not a
        // TOML error, but the same name and type twice still is (add_set), as everywhere.
        TomlDocument part(text.substr(run.begin, run.end - run.begin), file_, d_, run.first_line);
        if (!part.ok()) return std::nullopt;
        if (auto n = part.root().get("records"))
            if (auto t = r_.table(n, zctx_, "records")) parse_records(part, t);
    }
    if (auto n = root.get("include"))
        if (auto s = r_.string(n, zctx_, "include")) parse_include(*s, n.where());
    settle_sets();
    parse_soa(root.get("soa"));
    if (auto n = root.get("checks"))
        if (auto t = r_.table(n, zctx_, "checks"))
            for (auto& e : t.entries_in_file_order()) parse_check(e.key, e.value, e.key_where);
    if (auto n = root.get("pools"))
        if (auto t = r_.table(n, zctx_, "pools"))
            for (auto& e : t.entries_in_file_order()) parse_pool(e.key, e.value, e.key_where);
    if (auto n = root.get("services"))
        if (auto t = r_.table(n, zctx_, "services"))
            for (auto& e : t.entries_in_file_order()) parse_service(e.key, e.value, e.key_where);
    if (auto n = root.get("runtime_txt")) parse_runtime_txt(n);
    check_static_data();
    build_nodes();
    check_cname_owners();
    set_probe_hosts();
    parse_dnssec(root.get("dnssec"));
    out.zone = std::move(zone_);
    return out;
}

std::optional<uint32_t> ZoneParser::ttl_value(TomlNode n, const std::string& ctx, std::string_view key) {
    auto v = r_.integer(n, ctx, key, 0, kMaxTtl);
    return v ? std::optional<uint32_t>(uint32_t(*v)) : std::nullopt;
}

void ZoneParser::parse_origin(TomlNode root, core::SourceLocation& where) {
    auto n = root.get("origin");
    where = {file_, 1, 1};
    if (!n) {
        d_.error(where, "origin is required, e.g. origin = \"example.com\"");
        return;
    }
    where = n.where();
    auto s = r_.string(n, "zone", "origin");
    if (!s) return;
    std::string text = *s;
    if (text.empty() || text == "@") {
        d_.error(where, "origin must be a domain name such as \"example.com\", got " + dq(text));
        return;
    }
    if (text.back() != '.') text += '.';
    std::string why;
    auto name = core::Name::from_text(text, core::Name(), &why);
    if (!name) {
        d_.error(where, "origin " + dq(*s) + " is not a valid domain name: " + why);
        return;
    }
    origin_ = *name;
    zone_.origin = *name;
    zctx_ = "zone '" + origin_label(origin_) + "'";
}

// `runtime_txt = ["_acme-challenge", ...]`: owner prefixes, relative, without wildcards.
void ZoneParser::parse_runtime_txt(TomlNode n) {
    const std::string ctx = zctx_ + " runtime_txt";
    auto list = r_.strings(n, zctx_, "runtime_txt");
    if (!list) return;
    for (auto& t : *list) {
        std::string text = t.value;
        for (auto& c : text) c = char(std::tolower((unsigned char)c));
        auto bad = [&](const std::string& why) {
            error(t.where, ctx, "bad entry " + dq(t.value) + ": " + why +
                                    "; write an owner prefix relative to any name of the zone, such as \"_acme-challenge\"");
        };
        if (text.empty() || text == "@") {
            bad("empty");
            continue;
        }
        if (text.back() == '.') {
            bad("a prefix is relative: no final dot");
            continue;
        }
        std::string why;
        auto name = core::Name::from_text(text + ".", core::Name(), &why);
        if (!name) {
            bad(why);
            continue;
        }
        std::string labels(name->wire().substr(0, name->wire().size() - 1));
        bool reserved = false, wildcard = false;
        for (std::size_t i = 0; i < labels.size(); i += 1 + (unsigned char)labels[i]) {
            std::string_view label(labels.data() + i + 1, (unsigned char)labels[i]);
            if (label == "*") wildcard = true;
            if (label == "_signpost") reserved = true;
        }
        if (wildcard) {
            bad("'*' is not allowed in a prefix");
            continue;
        }
        if (reserved) {
            bad("'_signpost' names the services' state records");
            continue;
        }
        if (labels.size() + origin_.wire_length() > 255) {
            bad("with the origin it is longer than 255 bytes");
            continue;
        }
        bool dup = false;
        for (auto& p : zone_.runtime_txt) dup |= p.labels == labels;
        if (dup) {
            warning(t.where, ctx, "entry " + dq(t.value) + " is listed twice");
            continue;
        }
        zone_.runtime_txt.push_back({text, std::move(labels), t.where});
    }
}

// Resolves an owner or target written relative to the origin; reports bad names
// and names outside the zone.
std::optional<core::Name> ZoneParser::owner_name(const std::string& text, const core::SourceLocation& where,
                                                 const std::string& ctx) {
    std::string why;
    auto name = core::Name::from_text(text, origin_, &why);
    if (!name) {
        error(where, ctx, "bad name " + dq(text) + ": " + why);
        return std::nullopt;
    }
    if (text != "@" && (text.rfind("@.", 0) == 0 || text.find(".@.") != std::string::npos ||
                        (text.size() > 2 && text.compare(text.size() - 2, 2, ".@") == 0))) {
        error(where, ctx, "bad name " + dq(text) + ": '@' stands alone for the apex and cannot be part of a name");
        return std::nullopt;
    }
    if (!name->is_subdomain_of(origin_)) {
        error(where, ctx,
              "name " + dq(text) + " is outside the zone; write names relative to the origin or ending in '" +
                  origin_.to_text() + "'");
        return std::nullopt;
    }
    // '*' is a wildcard only as the leftmost label.
    std::string_view w = name->wire();
    for (std::size_t i = 0; w[i] != 0; i += 1 + (unsigned char)w[i]) {
        if (i > 0 && w[i] == 1 && w[i + 1] == '*') {
            error(where, ctx, "bad name " + dq(text) + ": '*' is allowed only as the first label (a wildcard)");
            return std::nullopt;
        }
    }
    return name;
}

}  // namespace signpost::zones::detail
