// Loads TOML zone files into a Catalog: the schema, every validation rule with
// file:line:col, and master-file includes. Load time only; never on the query path.
#include "zones/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "zones/rdata.hpp"

namespace signpost::zones {

namespace {

namespace fs = std::filesystem;
using core::SourceLocation;

constexpr int64_t kMaxTtl = 2147483647;

// The limits of the load in progress on this thread (includes are checked against them).
thread_local const Limits* t_limits = nullptr;

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower((unsigned char)c));
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// " (did you mean 'ttl'?)" when one allowed word is close to what was typed.
std::string suggestion(std::string_view typed, const std::vector<std::string>& allowed) {
    std::string best;
    std::size_t best_d = typed.size() >= 6 ? 3 : 2;  // at most 2 edits for long words, 1 for short ones
    for (auto& a : allowed) {
        std::size_t d = edit_distance(lower(typed), lower(a));
        if (d < best_d) best_d = d, best = a;
    }
    return best.empty() ? "" : "; did you mean '" + best + "'?";
}

std::string dq(std::string_view s) { return "\"" + std::string(s) + "\""; }

// What a value is, for "got ..." in messages.
std::string describe(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "string " + dq(n.as_string()->get());
        case toml::node_type::integer: return "integer " + std::to_string(n.as_integer()->get());
        case toml::node_type::floating_point: {
            std::ostringstream o;
            o << "float " << n.as_floating_point()->get();
            return o.str();
        }
        case toml::node_type::boolean: return std::string("boolean ") + (n.as_boolean()->get() ? "true" : "false");
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

bool valid_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!std::isalnum(c) && c != '-' && c != '_') return false;
    return true;
}

std::string origin_label(const core::Name& origin) {
    std::string t = origin.to_text();
    return t.size() > 1 ? t.substr(0, t.size() - 1) : t;
}

// A table's entries in the order they were written (toml++ keeps them sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (auto&& [k, v] : t) out.emplace_back(&k, &v);
    std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) {
        auto &x = a.first->source().begin, &y = b.first->source().begin;
        return x.line != y.line ? x.line < y.line : x.column < y.column;
    });
    return out;
}

// Where each RRset came from while a zone is assembled.
struct PendingSet {
    RRset set;
    bool from_include = false;
};

struct ParsedZone {
    Zone zone;
    SourceLocation origin_where;
};

const std::vector<std::string> kTopKeys = {"origin", "ttl", "include", "soa", "records", "checks", "pools", "services"};
const std::vector<std::string> kSoaKeys = {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"};
const std::vector<std::string> kCheckKeys = {
    "kind", "interval", "timeout", "fast_interval", "rise", "fall", "initial", "method", "path", "port", "host",
    "expect_status", "body_contains", "headers", "tls_verify", "ca_file", "cert_warning_days", "follow_redirects",
    "keepalive", "command"};
const std::vector<std::string> kPoolKeys = {"endpoints", "checks", "check", "min_healthy", "weight", "subnets"};
const std::vector<std::string> kEndpointKeys = {"address", "name", "check_address"};
const std::vector<std::string> kServiceKeys = {"names",     "policy",   "pools",     "ttl",
                                               "unstable_ttl", "unstable_for", "all_down", "failback",
                                               "hold_down", "failback_gate", "max_addresses", "hooks"};
const std::vector<std::string> kHookKeys = {"command", "url"};

class ZoneParser {
public:
    ZoneParser(std::string file, core::Diagnostics& d) : file_(std::move(file)), d_(d) {}

    std::optional<ParsedZone> parse(std::string_view text) {
        toml::table root;
        try {
            root = toml::parse(text, std::string_view(file_));
        } catch (const toml::parse_error& e) {
            d_.error({file_, e.source().begin.line, e.source().begin.column},
                     "TOML syntax error: " + std::string(e.description()));
            return std::nullopt;
        }
        ParsedZone out;
        zone_.file = file_;
        parse_origin(root, out.origin_where);
        check_keys(root, zctx_, kTopKeys);
        if (auto* n = root.get("ttl")) {
            if (auto v = integer(*n, zctx_, "ttl", 0, kMaxTtl)) zone_.default_ttl = uint32_t(*v);
        }
        if (auto* n = root.get("records")) {
            if (auto* t = table(*n, zctx_, "records")) parse_records(*t);
        }
        if (auto* n = root.get("include")) {
            if (auto s = string(*n, zctx_, "include")) parse_include(*s, at(*n));
        }
        parse_soa(root.get("soa"));
        if (auto* n = root.get("checks")) {
            if (auto* t = table(*n, zctx_, "checks"))
                for (auto [k, v] : in_file_order(*t)) parse_check(std::string(k->str()), *v, at(*k));
        }
        if (auto* n = root.get("pools")) {
            if (auto* t = table(*n, zctx_, "pools"))
                for (auto [k, v] : in_file_order(*t)) parse_pool(std::string(k->str()), *v, at(*k));
        }
        if (auto* n = root.get("services")) {
            if (auto* t = table(*n, zctx_, "services"))
                for (auto [k, v] : in_file_order(*t)) parse_service(std::string(k->str()), *v, at(*k));
        }
        check_static_data();
        build_nodes();
        set_probe_hosts();
        out.zone = std::move(zone_);
        return out;
    }

private:
    // ---- small typed accessors; each reports what it found and what is allowed ----

    SourceLocation at(const toml::node& n) const { return {file_, n.source().begin.line, n.source().begin.column}; }
    SourceLocation at(const toml::key& k) const { return {file_, k.source().begin.line, k.source().begin.column}; }
    void error(SourceLocation w, const std::string& ctx, const std::string& msg) { d_.error(std::move(w), ctx + ": " + msg); }
    void warning(SourceLocation w, const std::string& ctx, const std::string& msg) {
        d_.warning(std::move(w), ctx + ": " + msg);
    }

    void check_keys(const toml::table& t, const std::string& ctx, const std::vector<std::string>& allowed) {
        for (auto&& [k, v] : t) {
            if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
            error(at(k), ctx,
                  "unknown key '" + std::string(k.str()) + "'" + suggestion(k.str(), allowed) + "; allowed: " + join(allowed));
        }
    }

    const toml::table* table(const toml::node& n, const std::string& ctx, std::string_view key) {
        if (auto* t = n.as_table()) return t;
        error(at(n), ctx, std::string(key) + " must be a table, got " + describe(n));
        return nullptr;
    }

    std::optional<int64_t> integer(const toml::node& n, const std::string& ctx, std::string_view key, int64_t lo,
                                   int64_t hi) {
        if (!n.is_integer()) {
            error(at(n), ctx, std::string(key) + " must be an integer, got " + describe(n));
            return std::nullopt;
        }
        int64_t v = n.as_integer()->get();
        if (v < lo || v > hi) {
            error(at(n), ctx,
                  std::string(key) + " must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                      std::to_string(v));
            return std::nullopt;
        }
        return v;
    }

    std::optional<uint32_t> ttl_value(const toml::node& n, const std::string& ctx, std::string_view key) {
        auto v = integer(n, ctx, key, 0, kMaxTtl);
        return v ? std::optional<uint32_t>(uint32_t(*v)) : std::nullopt;
    }

    std::optional<std::string> string(const toml::node& n, const std::string& ctx, std::string_view key) {
        if (auto* s = n.as_string()) return s->get();
        error(at(n), ctx, std::string(key) + " must be a string, got " + describe(n));
        return std::nullopt;
    }

    std::optional<bool> boolean(const toml::node& n, const std::string& ctx, std::string_view key) {
        if (auto* b = n.as_boolean()) return b->get();
        error(at(n), ctx, std::string(key) + " must be true or false, got " + describe(n));
        return std::nullopt;
    }

    // A word from a fixed list.
    std::optional<std::string> choice(const toml::node& n, const std::string& ctx, std::string_view key,
                                      const std::vector<std::string>& allowed) {
        auto s = string(n, ctx, key);
        if (!s) return std::nullopt;
        if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) return s;
        error(at(n), ctx,
              std::string(key) + " must be one of " + join(allowed) + ", got " + dq(*s) + suggestion(*s, allowed));
        return std::nullopt;
    }

    // "1s", "200ms", "5m" or an integer number of seconds.
    std::optional<core::Millis> duration(const toml::node& n, const std::string& ctx, std::string_view key,
                                         bool allow_zero) {
        std::optional<core::Millis> v;
        if (n.is_integer()) {
            int64_t s = n.as_integer()->get();
            if (s >= 0 && s <= 10'000'000'000LL) v = core::Millis(s * 1000);
        } else if (auto* str = n.as_string()) {
            v = core::parse_duration(str->get());
        } else {
            error(at(n), ctx,
                  std::string(key) + " must be a duration such as \"1s\", \"200ms\" or \"5m\", got " + describe(n));
            return std::nullopt;
        }
        if (!v) {
            error(at(n), ctx,
                  std::string(key) + " must be a duration such as \"1s\", \"200ms\" or \"5m\", got " + describe(n));
            return std::nullopt;
        }
        if (!allow_zero && v->count() <= 0) {
            error(at(n), ctx, std::string(key) + " must be above zero, got " + describe(n));
            return std::nullopt;
        }
        return v;
    }

    // A string or an array of strings; each element with its location.
    std::optional<std::vector<std::pair<std::string, SourceLocation>>> strings(const toml::node& n,
                                                                               const std::string& ctx,
                                                                               std::string_view key) {
        std::vector<std::pair<std::string, SourceLocation>> out;
        if (auto* s = n.as_string()) {
            out.emplace_back(s->get(), at(n));
            return out;
        }
        auto* arr = n.as_array();
        if (!arr) {
            error(at(n), ctx, std::string(key) + " must be a string or an array of strings, got " + describe(n));
            return std::nullopt;
        }
        bool ok = true;
        for (auto& e : *arr) {
            if (auto* s = e.as_string()) {
                out.emplace_back(s->get(), at(e));
            } else {
                error(at(e), ctx, std::string(key) + " must contain only strings, got " + describe(e));
                ok = false;
            }
        }
        if (!ok) return std::nullopt;
        return out;
    }

    // ---- origin, records, include, SOA ----

    void parse_origin(const toml::table& root, SourceLocation& where) {
        auto* n = root.get("origin");
        where = {file_, 1, 1};
        if (!n) {
            d_.error(where, "origin is required, e.g. origin = \"example.com\"");
            return;
        }
        where = at(*n);
        auto s = string(*n, "zone", "origin");
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

    // Resolves an owner or target written relative to the origin; reports bad names
    // and names outside the zone.
    std::optional<core::Name> owner_name(const std::string& text, const SourceLocation& where, const std::string& ctx) {
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
        const std::string& w = name->wire();
        for (std::size_t i = 0; w[i] != 0; i += 1 + (unsigned char)w[i]) {
            if (i > 0 && w[i] == 1 && w[i + 1] == '*') {
                error(where, ctx, "bad name " + dq(text) + ": '*' is allowed only as the first label (a wildcard)");
                return std::nullopt;
            }
        }
        return name;
    }

    void parse_records(const toml::table& records) {
        for (auto&& [k, v] : records) {
            std::string owner(k.str());
            if (auto* t = v.as_table()) {
                parse_owner(*t, owner, at(k));
            } else {
                error(at(k), zctx_ + " record '" + owner + "'",
                      "expected a table of record types such as [records." + owner +
                          "] with A = \"192.0.2.1\", got " + describe(v));
            }
        }
    }

    void parse_owner(const toml::table& t, const std::string& owner_text, const SourceLocation& where) {
        std::string ctx = zctx_ + " record '" + owner_text + "'";
        std::optional<uint32_t> owner_ttl;
        if (auto* n = t.get("ttl")) owner_ttl = ttl_value(*n, ctx, "ttl");
        std::optional<core::Name> name;
        bool name_checked = false;
        for (auto&& [k, v] : t) {
            std::string key(k.str());
            if (key == "ttl") continue;
            auto type = detail::type_from_name(key);
            auto* sub = v.as_table();
            // A type key with a table value is an RRset ({ ttl, data }); any other table is a
            // name below this one. A table of only ttl under a type key is an RRset missing data.
            bool rrset_table = sub && type && (sub->contains("data") || sub->empty() ||
                                               (sub->size() == 1 && sub->contains("ttl")));
            if (sub && rrset_table && !sub->contains("data")) {
                error(at(v), ctx + " " + detail::type_to_name(*type),
                      "data is required in a table such as { ttl = 60, data = [\"...\"] }");
                continue;
            }
            if (sub && !rrset_table) {
                parse_owner(*sub, owner_text + "." + key, at(k));  // [records._sip._tcp]
                continue;
            }
            if (!type) {
                error(at(k), ctx,
                      "unknown record type '" + key + "'" +
                          suggestion(key, {"A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA", "NS", "PTR", "DS", "ttl"}) +
                          "; allowed: a record type such as A, AAAA, CNAME, MX, TXT, SRV, CAA, NS, PTR, DS or "
                          "TYPEnnn, or ttl");
                continue;
            }
            if (!name_checked) {
                name_checked = true;
                name = owner_name(owner_text, where, ctx);
            }
            if (!name) continue;
            parse_rrset(*name, owner_text, *type, key, v, owner_ttl.value_or(zone_.default_ttl));
        }
    }

    void parse_rrset(const core::Name& owner, const std::string& owner_text, uint16_t type, const std::string& key,
                     const toml::node& value, uint32_t ttl) {
        std::string ctx = zctx_ + " record '" + owner_text + "' " + detail::type_to_name(type);
        if (type == rrtype::SOA) {
            error(at(value), ctx, "the SOA record is set in the [soa] table, not in [records]");
            return;
        }
        if (detail::is_meta_type(type)) {
            error(at(value), ctx, "type " + detail::type_to_name(type) + " cannot be zone data");
            return;
        }
        const toml::node* data = &value;
        if (auto* t = value.as_table()) {
            check_keys(*t, ctx, {"ttl", "data"});
            if (auto* n = t->get("ttl")) {
                auto v = ttl_value(*n, ctx, "ttl");
                if (!v) return;
                ttl = *v;
            }
            data = t->get("data");
        }
        // TXT written as "TXT" takes strings literally; "TYPE16" takes presentation format.
        bool literal_txt = type == rrtype::TXT && lower(key).rfind("type", 0) != 0;
        std::vector<std::string> rdatas;
        bool ok = true;
        auto one = [&](const toml::node& n) {
            if (literal_txt) {
                if (auto* s = n.as_string()) {
                    rdatas.push_back(detail::txt_rdata({s->get()}));
                    return;
                }
                if (auto* arr = n.as_array(); arr && !arr->empty()) {
                    std::vector<std::string> parts;
                    for (auto& e : *arr) {
                        if (!e.is_string()) {
                            error(at(e), ctx, "the strings of one TXT record must be strings, got " + describe(e));
                            ok = false;
                            return;
                        }
                        parts.push_back(e.as_string()->get());
                    }
                    rdatas.push_back(detail::txt_rdata(parts));
                    return;
                }
                error(at(n), ctx, "a TXT record must be a string or an array of strings, got " + describe(n));
                ok = false;
                return;
            }
            auto* s = n.as_string();
            if (!s) {
                error(at(n), ctx, "record data must be a string in presentation format, got " + describe(n));
                ok = false;
                return;
            }
            std::string why;
            auto wire = detail::rdata_from_text(type, s->get(), origin_, &why);
            if (!wire) {
                error(at(n), ctx, "cannot parse " + dq(s->get()) + ": " + why);
                ok = false;
                return;
            }
            rdatas.push_back(std::move(*wire));
        };
        if (auto* arr = data->as_array()) {
            if (arr->empty()) {
                error(at(*data), ctx, "no records given; give one string or an array of them");
                return;
            }
            for (auto& e : *arr) one(e);
        } else {
            one(*data);
        }
        if (!ok) return;
        RRset set;
        set.type = type;
        set.ttl = ttl;
        set.where = source(at(value));
        for (auto& r : rdatas) {
            if (std::find(set.rdatas.begin(), set.rdatas.end(), r) != set.rdatas.end()) {
                warning(set.where.location(), ctx, "duplicate record ignored");
                continue;
            }
            set.rdatas.push_back(std::move(r));
        }
        add_set(owner, owner_text, std::move(set), false, ctx);
    }

    void add_set(const core::Name& owner, const std::string& owner_text, RRset set, bool from_include,
                 const std::string& ctx) {
        auto& by_type = sets_[owner];
        auto it = by_type.find(set.type);
        if (it == by_type.end()) {
            by_type.emplace(set.type, PendingSet{std::move(set), from_include});
            owner_text_.emplace(owner, owner_text);
            return;
        }
        PendingSet& old = it->second;
        if (from_include && old.from_include) {  // one RRset spread over several lines of a master file
            for (auto& r : set.rdatas)
                if (std::find(old.set.rdatas.begin(), old.set.rdatas.end(), r) == old.set.rdatas.end())
                    old.set.rdatas.push_back(r);
            if (set.ttl != old.set.ttl) {
                d_.warning(set.where.location(), ctx + ": records of one RRset have different TTLs (" + std::to_string(old.set.ttl) +
                                          " and " + std::to_string(set.ttl) + "); using the lower");
                old.set.ttl = std::min(old.set.ttl, set.ttl);
            }
            return;
        }
        auto& w = old.set.where;
        error(set.where.location(), ctx,
              detail::type_to_name(set.type) + " records for '" + owner.to_text() + "' are already given at " + w.file() +
                  ":" + std::to_string(w.line) + "; give each name and type once");
    }

    void parse_include(const std::string& rel, const SourceLocation& where) {
        fs::path p = rel;
        if (p.is_relative()) p = fs::path(file_).parent_path() / p;
        std::string path = p.string();
        serial_sources_.push_back(path);
        {
            // Only regular files of a bounded size: never a device or FIFO that reads forever.
            std::error_code ec;
            auto st = fs::status(p, ec);
            if (!ec && fs::exists(st) && !fs::is_regular_file(st)) {
                error(where, zctx_ + " include " + dq(rel), "not a regular file");
                return;
            }
            std::size_t cap = t_limits ? t_limits->max_file_bytes : 0;
            auto size = ec ? 0 : fs::file_size(p, ec);
            if (!ec && cap && size > cap) {
                error(where, zctx_ + " include " + dq(rel),
                      "file is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(cap) +
                          "; raise [limits] max_file_bytes in the server config");
                return;
            }
        }
        core::Diagnostics inner;
        detail::MasterFile mf;
        detail::read_master_file(path, origin_, zone_.default_ttl, inner, mf);
        for (auto d : inner.items()) {
            if (d.where.line == 0 && d.where.file == path) d.where = where;  // cannot open: point at the include key
            d.message = zctx_ + " include " + dq(rel) + ": " + d.message;
            d_.add(std::move(d));
        }
        for (auto& r : mf.records) {
            SourceLocation w{path, r.line, 0};
            std::string text = r.owner.to_relative_text(origin_);
            std::string ctx = zctx_ + " record '" + text + "' " + detail::type_to_name(r.type);
            if (!r.owner.is_subdomain_of(origin_)) {
                error(w, ctx, "name '" + r.owner.to_text() + "' is outside the zone '" + origin_.to_text() + "'");
                continue;
            }
            if (r.ttl > kMaxTtl) {
                error(w, ctx, "ttl must be 0..2147483647, got " + std::to_string(r.ttl));
                continue;
            }
            if (r.type == rrtype::SOA) {
                if (r.owner != origin_) {
                    error(w, ctx, "an SOA record is allowed only at the zone apex");
                } else if (include_soa_) {
                    error(w, ctx, "a second SOA record; a zone has exactly one");
                } else {
                    include_soa_ = r;
                }
                continue;
            }
            if (detail::is_meta_type(r.type)) {
                error(w, ctx, "type " + detail::type_to_name(r.type) + " cannot be zone data");
                continue;
            }
            RRset set;
            set.type = r.type;
            set.ttl = r.ttl;
            set.rdatas.push_back(r.rdata);
            set.where = source(w);
            add_set(r.owner, text, std::move(set), true, ctx);
        }
    }

    void parse_soa(const toml::node* node) {
        Soa& soa = zone_.soa;
        soa.mname = origin_;
        soa.rname = core::Name::from_text("hostmaster", origin_).value_or(origin_);
        // Defaults: the first apex NS target, else ns1.<origin>.
        bool mname_set = false;
        if (auto a = sets_.find(origin_); a != sets_.end()) {
            if (auto ns = a->second.find(rrtype::NS); ns != a->second.end() && !ns->second.set.rdatas.empty()) {
                std::size_t pos = 0;
                if (auto n = detail::read_wire_name(ns->second.set.rdatas.front(), pos)) {
                    soa.mname = *n;
                    mname_set = true;
                }
            }
        }
        if (!mname_set) soa.mname = core::Name::from_text("ns1", origin_).value_or(origin_);
        soa.ttl = zone_.default_ttl;
        soa.auto_serial = true;
        soa.serial = 1;
        if (include_soa_) {  // the master file's SOA gives the defaults
            const std::string& w = include_soa_->rdata;
            std::size_t pos = 0;
            auto m = detail::read_wire_name(w, pos);
            auto r = m ? detail::read_wire_name(w, pos) : std::nullopt;
            if (m && r && pos + 20 == w.size()) {
                auto u32 = [&](std::size_t off) {
                    auto b = [&](std::size_t i) { return uint32_t((unsigned char)w[pos + off + i]); };
                    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
                };
                soa.mname = *m;
                soa.rname = *r;
                soa.serial = u32(0);
                soa.auto_serial = false;
                soa.refresh = u32(4);
                soa.retry = u32(8);
                soa.expire = u32(12);
                soa.minimum = u32(16);
                soa.ttl = include_soa_->ttl;
            }
        }
        soa_where_ = {file_, 1, 1};
        if (node) {
            std::string ctx = zctx_ + " [soa]";
            auto* t = table(*node, zctx_, "soa");
            if (t) {
                soa_where_ = at(*node);
                check_keys(*t, ctx, kSoaKeys);
                for (const char* key : {"mname", "rname"}) {
                    auto* n = t->get(key);
                    if (!n) continue;
                    auto s = string(*n, ctx, key);
                    if (!s) continue;
                    if (std::string_view(key) == "rname" && s->find('@') != std::string::npos && *s != "@") {
                        error(at(*n), ctx,
                              "rname is a domain name, not an e-mail address: write " + dq("hostmaster." + origin_.to_text()) +
                                  " for hostmaster@" + origin_label(origin_) + ", got " + dq(*s));
                        continue;
                    }
                    std::string why;
                    auto name = core::Name::from_text(*s, origin_, &why);
                    if (!name) {
                        error(at(*n), ctx, std::string(key) + " " + dq(*s) + " is not a valid name: " + why);
                        continue;
                    }
                    (std::string_view(key) == "mname" ? soa.mname : soa.rname) = *name;
                }
                if (auto* n = t->get("serial")) {
                    if (auto* s = n->as_string(); s && s->get() == "auto") {
                        soa.auto_serial = true;
                        soa.serial = 1;
                    } else if (n->is_integer()) {
                        if (auto v = integer(*n, ctx, "serial", 0, 4294967295LL)) {
                            soa.serial = uint32_t(*v);
                            soa.auto_serial = false;
                        }
                    } else {
                        error(at(*n), ctx, "serial must be \"auto\" or an integer 0..4294967295, got " + describe(*n));
                    }
                }
                auto num = [&](const char* key, uint32_t& field) {
                    if (auto* n = t->get(key))
                        if (auto v = ttl_value(*n, ctx, key)) field = *v;
                };
                num("refresh", soa.refresh);
                num("retry", soa.retry);
                num("expire", soa.expire);
                num("minimum", soa.minimum);
                num("ttl", soa.ttl);
            }
        }
    }

    // ---- checks, pools, services ----

    void parse_check(const std::string& name, const toml::node& node, const SourceLocation& where) {
        std::string ctx = zctx_ + " check '" + name + "'";
        if (!valid_identifier(name)) {
            error(where, ctx, "a check name may contain only letters, digits, '-' and '_'");
        }
        auto* t = table(node, ctx, "a check");
        if (!t) return;
        check_keys(*t, ctx, kCheckKeys);
        core::CheckSpec c;
        c.name = name;
        c.where = where;
        std::optional<std::string> kind;
        if (auto* n = t->get("kind")) {
            kind = choice(*n, ctx, "kind", {"http", "https", "tcp", "exec"});
        } else {
            error(where, ctx, "kind is required; allowed: http, https, tcp, exec");
        }
        if (kind == "http") c.kind = core::CheckKind::Http;
        if (kind == "https") c.kind = core::CheckKind::Https;
        if (kind == "tcp") c.kind = core::CheckKind::Tcp;
        if (kind == "exec") c.kind = core::CheckKind::Exec;
        auto dur = [&](const char* key, core::Millis& field) {
            if (auto* n = t->get(key))
                if (auto v = duration(*n, ctx, key, false)) field = *v;
        };
        dur("interval", c.interval);
        dur("timeout", c.timeout);
        dur("fast_interval", c.fast_interval);
        if (auto* n = t->get("rise"))
            if (auto v = integer(*n, ctx, "rise", 1, 10)) c.rise = int(*v);
        if (auto* n = t->get("fall"))
            if (auto v = integer(*n, ctx, "fall", 1, 10)) c.fall = int(*v);
        if (auto* n = t->get("initial"))
            if (auto v = choice(*n, ctx, "initial", {"up", "down"}))
                c.initial = *v == "up" ? core::HealthState::Up : core::HealthState::Down;
        if (auto* n = t->get("method"))
            if (auto v = choice(*n, ctx, "method", {"GET", "HEAD"})) c.method = *v;
        if (auto* n = t->get("path")) {
            if (auto v = string(*n, ctx, "path")) {
                if (v->empty() || (*v)[0] != '/')
                    error(at(*n), ctx, "path must start with '/', got " + dq(*v));
                else
                    c.path = *v;
            }
        }
        if (auto* n = t->get("port"))
            if (auto v = integer(*n, ctx, "port", 1, 65535)) c.port = uint16_t(*v);
        if (auto* n = t->get("host"))
            if (auto v = string(*n, ctx, "host")) c.host = *v;
        if (auto* n = t->get("expect_status")) parse_status(*n, ctx, c);
        if (auto* n = t->get("body_contains"))
            if (auto v = string(*n, ctx, "body_contains")) c.body_contains = *v;
        if (auto* n = t->get("headers")) {
            if (auto* h = table(*n, ctx, "headers")) {
                for (auto&& [hk, hv] : *h) {
                    if (auto v = string(hv, ctx, "header '" + std::string(hk.str()) + "'"))
                        c.headers.emplace_back(std::string(hk.str()), *v);
                }
            }
        }
        if (auto* n = t->get("tls_verify"))
            if (auto v = boolean(*n, ctx, "tls_verify")) c.tls_verify = *v;
        if (auto* n = t->get("ca_file"))
            if (auto v = string(*n, ctx, "ca_file")) c.ca_file = *v;
        if (auto* n = t->get("cert_warning_days"))
            if (auto v = integer(*n, ctx, "cert_warning_days", 0, 3650)) c.cert_warning_days = int(*v);
        if (auto* n = t->get("follow_redirects"))
            if (auto v = boolean(*n, ctx, "follow_redirects")) c.follow_redirects = *v;
        if (auto* n = t->get("keepalive"))
            if (auto v = boolean(*n, ctx, "keepalive")) c.keepalive = *v;
        if (auto* n = t->get("command")) {
            if (auto* arr = n->as_array(); arr && !arr->empty()) {
                for (auto& e : *arr) {
                    if (auto* s = e.as_string())
                        c.command.push_back(s->get());
                    else
                        error(at(e), ctx, "command must contain only strings, got " + describe(e));
                }
            } else {
                error(at(*n), ctx,
                      "command must be a non-empty array: the program and its arguments, got " + describe(*n));
            }
        }
        if (auto *ti = t->get("timeout"), *iv = t->get("interval"); c.timeout > c.interval) {
            error(ti ? at(*ti) : (iv ? at(*iv) : where), ctx,
                  "timeout " + core::format_duration(c.timeout) + " must not exceed interval " +
                      core::format_duration(c.interval));
        }
        if (kind) {
            if (*kind == "tcp" && !t->get("port")) error(where, ctx, "a tcp check needs a port (1..65535)");
            if (*kind == "exec" && !t->get("command"))
                error(where, ctx, "an exec check needs a command: an array with the program and its arguments");
            std::vector<std::string> applies = {"kind", "interval", "timeout", "fast_interval", "rise", "fall", "initial"};
            if (*kind == "http" || *kind == "https")
                applies.insert(applies.end(), {"method", "path", "port", "host", "expect_status", "body_contains",
                                               "headers", "follow_redirects", "keepalive"});
            if (*kind == "https") applies.insert(applies.end(), {"tls_verify", "ca_file", "cert_warning_days"});
            if (*kind == "tcp") applies.push_back("port");
            if (*kind == "exec") applies.push_back("command");
            for (auto&& [k, v] : *t) {
                bool known = std::find(kCheckKeys.begin(), kCheckKeys.end(), k.str()) != kCheckKeys.end();
                if (known && std::find(applies.begin(), applies.end(), k.str()) == applies.end())
                    warning(at(k), ctx, "key '" + std::string(k.str()) + "' does not apply to " + *kind + " checks; ignored");
            }
        }
        zone_.checks[name] = std::move(c);
    }

    void parse_status(const toml::node& node, const std::string& ctx, core::CheckSpec& c) {
        std::vector<const toml::node*> items;
        if (auto* arr = node.as_array()) {
            for (auto& e : *arr) items.push_back(&e);
        } else {
            items.push_back(&node);
        }
        const std::string allowed =
            "expect_status must be status codes or \"low-high\" ranges within 100..599, got ";
        std::vector<core::StatusRange> out;
        for (auto* n : items) {
            core::StatusRange r;
            bool ok = false;
            if (n->is_integer()) {
                r.low = r.high = int(std::clamp<int64_t>(n->as_integer()->get(), -1, 100000));
                ok = true;
            } else if (auto* s = n->as_string()) {
                const std::string& text = s->get();
                auto dash = text.find('-');
                auto num = [](std::string_view d, int& v) {
                    if (d.empty() || d.size() > 3) return false;
                    v = 0;
                    for (char ch : d) {
                        if (!std::isdigit((unsigned char)ch)) return false;
                        v = v * 10 + (ch - '0');
                    }
                    return true;
                };
                if (dash == std::string::npos) {
                    ok = num(text, r.low);
                    r.high = r.low;
                } else {
                    ok = num(std::string_view(text).substr(0, dash), r.low) &&
                         num(std::string_view(text).substr(dash + 1), r.high);
                }
            }
            if (!ok || r.low < 100 || r.high > 599 || r.low > r.high) {
                error(at(*n), ctx, allowed + describe(*n));
                continue;
            }
            out.push_back(r);
        }
        if (items.empty()) error(at(node), ctx, allowed + "an empty array");
        if (!out.empty()) c.expect_status = out;
    }

    void parse_pool(const std::string& name, const toml::node& node, const SourceLocation& where) {
        std::string ctx = zctx_ + " pool '" + name + "'";
        if (!valid_identifier(name)) error(where, ctx, "a pool name may contain only letters, digits, '-' and '_'");
        auto* t = table(node, ctx, "a pool");
        if (!t) return;
        check_keys(*t, ctx, kPoolKeys);
        Pool pool;
        pool.name = name;
        pool.where = where;
        std::vector<std::string> checks;
        auto* checks_n = t->get("checks");
        auto* check_n = t->get("check");
        if (checks_n && check_n) error(at(*check_n), ctx, "give either check or checks, not both");
        for (auto* n : {checks_n, check_n}) {
            if (!n) continue;
            auto list = strings(*n, ctx, n == checks_n ? "checks" : "check");
            if (!list) continue;
            for (auto& [c, w] : *list) {
                if (zone_.checks.count(c)) {
                    if (std::find(checks.begin(), checks.end(), c) == checks.end()) checks.push_back(c);
                    continue;
                }
                std::vector<std::string> defined;
                for (auto& [k, v] : zone_.checks) defined.push_back(k);
                error(w, ctx,
                      "unknown check '" + c + "'" + suggestion(c, defined) +
                          (defined.empty() ? "; this zone defines no [checks]" : "; defined checks: " + join(defined)));
            }
        }
        if (auto* n = t->get("endpoints")) {
            auto* arr = n->as_array();
            if (!arr) {
                error(at(*n), ctx, "endpoints must be an array of addresses or tables, got " + describe(*n));
            } else if (arr->empty()) {
                error(at(*n), ctx, "endpoints is empty; a pool needs at least one endpoint");
            } else {
                for (auto& e : *arr) parse_endpoint(e, ctx, pool, checks);
            }
        } else {
            error(where, ctx, "endpoints is required: an array of addresses such as [\"192.0.2.10\"]");
        }
        if (auto* n = t->get("min_healthy")) {
            int64_t max = std::max<int64_t>(1, int64_t(pool.endpoints.size()));
            if (n->is_integer() && (n->as_integer()->get() < 1 || n->as_integer()->get() > max)) {
                error(at(*n), ctx,
                      "min_healthy must be 1.." + std::to_string(max) + " (the number of endpoints), got " +
                          std::to_string(n->as_integer()->get()));
            } else if (auto v = integer(*n, ctx, "min_healthy", 1, max)) {
                pool.min_healthy = uint32_t(*v);
            }
        }
        if (auto* n = t->get("weight"))
            if (auto v = integer(*n, ctx, "weight", 1, 1000)) pool.weight = uint32_t(*v);
        if (auto* n = t->get("subnets")) {
            if (auto list = strings(*n, ctx, "subnets")) {
                for (auto& [s, w] : *list) {
                    if (auto p = core::IpPrefix::parse(s))
                        pool.subnets.push_back(*p);
                    else
                        error(w, ctx, "subnet must be a prefix such as \"198.51.100.0/24\" or \"2001:db8::/32\", got " + dq(s));
                }
            }
        }
        zone_.pools.push_back(std::move(pool));
    }

    void parse_endpoint(const toml::node& e, const std::string& pool_ctx, Pool& pool, const std::vector<std::string>& checks) {
        Endpoint ep;
        ep.where = at(e);
        ep.checks = checks;
        std::string address;
        std::optional<std::string> check_address;
        SourceLocation address_where = at(e), check_where = at(e);
        if (auto* s = e.as_string()) {
            address = s->get();
        } else if (auto* t = e.as_table()) {
            check_keys(*t, pool_ctx + " endpoint", kEndpointKeys);
            if (auto* n = t->get("address")) {
                address_where = at(*n);
                if (auto v = string(*n, pool_ctx, "address")) address = *v;
            } else {
                error(at(e), pool_ctx, "an endpoint table needs an address, e.g. { address = \"192.0.2.10\" }");
                return;
            }
            if (auto* n = t->get("name"))
                if (auto v = string(*n, pool_ctx, "name")) {
                    if (v->empty() || v->find('/') != std::string::npos)
                        error(at(*n), pool_ctx, "endpoint name must be non-empty and contain no '/', got " + dq(*v));
                    else
                        ep.name = *v;
                }
            if (auto* n = t->get("check_address")) {
                check_where = at(*n);
                check_address = string(*n, pool_ctx, "check_address");
            }
        } else {
            error(at(e), pool_ctx, "an endpoint must be an address string or a table with address, got " + describe(e));
            return;
        }
        auto addr = core::IpAddress::parse(address);
        if (!addr) {
            error(address_where, pool_ctx, "endpoint address must be an IPv4 or IPv6 address, got " + dq(address));
            return;
        }
        ep.address = *addr;
        ep.check_address = *addr;
        if (check_address) {
            auto ca = core::IpAddress::parse(*check_address);
            if (!ca) {
                error(check_where, pool_ctx, "check_address must be an IPv4 or IPv6 address, got " + dq(*check_address));
                return;
            }
            ep.check_address = *ca;
        }
        if (ep.name.empty()) ep.name = address;
        for (auto& other : pool.endpoints) {
            if (other.name == ep.name) {
                error(ep.where, pool_ctx,
                      "duplicate endpoint name '" + ep.name + "' (also at line " + std::to_string(other.where.line) +
                          "); endpoint names must be unique within a pool");
                return;
            }
        }
        pool.endpoints.push_back(std::move(ep));
    }

    void parse_service(const std::string& name, const toml::node& node, const SourceLocation& where) {
        std::string ctx = zctx_ + " service '" + name + "'";
        if (!valid_identifier(name)) error(where, ctx, "a service name may contain only letters, digits, '-' and '_'");
        for (auto& other : zone_.services) {
            if (lower(other.name) == lower(name))
                error(where, ctx,
                      "duplicate service name (also '" + other.name + "' at line " + std::to_string(other.where.line) +
                          "); service names are compared without case");
        }
        auto* t = table(node, ctx, "a service");
        if (!t) return;
        check_keys(*t, ctx, kServiceKeys);
        Service s;
        s.name = name;
        s.where = where;
        if (auto* n = t->get("names")) {
            if (auto list = strings(*n, ctx, "names")) {
                if (list->empty()) error(at(*n), ctx, "names is empty; give the names this service answers, e.g. [\"www\"]");
                for (auto& [text, w] : *list) {
                    auto owner = owner_name(text, w, ctx);
                    if (!owner) continue;
                    if (std::find(s.owners.begin(), s.owners.end(), *owner) != s.owners.end()) {
                        error(w, ctx, "name " + dq(text) + " is listed twice");
                        continue;
                    }
                    if (auto it = service_owner_.find(*owner); it != service_owner_.end()) {
                        error(w, ctx,
                              "name " + dq(text) + " is already answered by service '" + it->second +
                                  "'; a name belongs to one service");
                        continue;
                    }
                    service_owner_.emplace(*owner, name);
                    service_owner_where_.emplace(*owner, w);
                    s.owners.push_back(*owner);
                }
            }
        } else {
            error(where, ctx, "names is required: the names this service answers, e.g. [\"@\", \"www\"]");
        }
        if (auto* n = t->get("policy")) {
            if (auto v = choice(*n, ctx, "policy", {"failover", "weighted", "multivalue", "subnet"})) {
                if (*v == "failover") s.policy = PolicyKind::Failover;
                if (*v == "weighted") s.policy = PolicyKind::Weighted;
                if (*v == "multivalue") s.policy = PolicyKind::Multivalue;
                if (*v == "subnet") s.policy = PolicyKind::Subnet;
            }
        }
        if (auto* n = t->get("pools")) {
            if (auto list = strings(*n, ctx, "pools")) {
                if (list->empty()) error(at(*n), ctx, "pools is empty; give at least one pool, in priority order");
                for (auto& [p, w] : *list) {
                    auto it = std::find_if(zone_.pools.begin(), zone_.pools.end(), [&name = p](auto& x) { return x.name == name; });
                    if (it == zone_.pools.end()) {
                        std::vector<std::string> defined;
                        for (auto& x : zone_.pools) defined.push_back(x.name);
                        error(w, ctx,
                              "unknown pool '" + p + "'" + suggestion(p, defined) +
                                  (defined.empty() ? "; this zone defines no [pools]" : "; defined pools: " + join(defined)));
                        continue;
                    }
                    std::size_t idx = std::size_t(it - zone_.pools.begin());
                    if (std::find(s.pools.begin(), s.pools.end(), idx) != s.pools.end()) {
                        error(w, ctx, "pool '" + p + "' is listed twice");
                        continue;
                    }
                    s.pools.push_back(idx);
                }
            }
        } else {
            error(where, ctx, "pools is required: the pools to answer from, in priority order");
        }
        if (auto* n = t->get("ttl")) {
            if (auto v = ttl_value(*n, ctx, "ttl")) {
                if (*v > zone_.default_ttl)
                    error(at(*n), ctx,
                          "ttl " + std::to_string(*v) + " is above the zone ttl " + std::to_string(zone_.default_ttl) +
                              "; a service ttl must be at most the zone ttl");
                else
                    s.ttl = *v;
            }
        } else if (s.ttl > zone_.default_ttl) {
            s.ttl = zone_.default_ttl;
        }
        s.unstable_ttl = std::min(s.unstable_ttl, s.ttl);
        if (auto* n = t->get("unstable_ttl")) {
            if (auto v = ttl_value(*n, ctx, "unstable_ttl")) {
                if (*v > s.ttl)
                    error(at(*n), ctx,
                          "unstable_ttl " + std::to_string(*v) + " must be at most the service ttl " + std::to_string(s.ttl));
                else
                    s.unstable_ttl = *v;
            }
        }
        if (auto* n = t->get("unstable_for"))
            if (auto v = duration(*n, ctx, "unstable_for", true)) s.unstable_for = *v;
        if (auto* n = t->get("all_down")) {
            if (auto v = choice(*n, ctx, "all_down", {"all", "primary", "nothing"})) {
                s.all_down = *v == "all" ? AllDown::All : *v == "primary" ? AllDown::Primary : AllDown::Nothing;
            }
        }
        bool failback_ok = true;
        if (auto* n = t->get("failback")) {
            auto v = choice(*n, ctx, "failback", {"auto", "hold-down", "gated", "manual"});
            failback_ok = bool(v);
            if (v == "auto") s.failback = Failback::Auto;
            if (v == "hold-down") s.failback = Failback::HoldDown;
            if (v == "gated") s.failback = Failback::Gated;
            if (v == "manual") s.failback = Failback::Manual;
        }
        if (auto* n = t->get("hold_down")) {
            if (auto v = duration(*n, ctx, "hold_down", false)) s.hold_down = *v;
            if (failback_ok && s.failback != Failback::HoldDown)
                warning(at(*n), ctx, "hold_down is used only with failback = \"hold-down\"; ignored");
        } else if (s.failback == Failback::HoldDown) {
            error(where, ctx, "failback = \"hold-down\" needs hold_down, a duration such as \"5m\"");
        }
        if (auto* n = t->get("failback_gate")) {
            if (auto v = string(*n, ctx, "failback_gate")) {
                if (failback_ok && s.failback != Failback::Gated) {
                    warning(at(*n), ctx, "failback_gate is used only with failback = \"gated\"; ignored");
                } else {
                    auto slash = v->find('/');
                    const Pool* pool = nullptr;
                    if (slash != std::string::npos)
                        for (auto& p : zone_.pools)
                            if (p.name == v->substr(0, slash)) pool = &p;
                    bool found = false;
                    if (pool)
                        for (auto& e : pool->endpoints) found = found || e.name == v->substr(slash + 1);
                    if (found)
                        s.failback_gate = *v;
                    else
                        error(at(*n), ctx,
                              "failback_gate must name an endpoint of this zone as \"pool/endpoint\", got " + dq(*v) +
                                  (pool ? "; pool '" + pool->name + "' has no such endpoint"
                                        : slash == std::string::npos ? "" : "; no such pool"));
                }
            }
        } else if (s.failback == Failback::Gated) {
            error(where, ctx, "failback = \"gated\" needs failback_gate, the endpoint that gates failback as \"pool/endpoint\"");
        }
        if (auto* n = t->get("max_addresses"))
            if (auto v = integer(*n, ctx, "max_addresses", 1, 255)) s.max_addresses = uint32_t(*v);
        if (auto* n = t->get("hooks")) {
            auto* arr = n->as_array();
            if (!arr) error(at(*n), ctx, "hooks must be an array of tables such as { url = \"http://...\" }, got " + describe(*n));
            if (arr)
                for (auto& h : *arr) parse_hook(h, ctx, s);
        }
        if (s.policy == PolicyKind::Subnet) {
            bool any = false;
            for (auto i : s.pools) any = any || !zone_.pools[i].subnets.empty();
            if (!any && !s.pools.empty())
                warning(where, ctx, "policy \"subnet\" but none of its pools lists subnets; every client gets the first pool");
        }
        zone_.services.push_back(std::move(s));
    }

    void parse_hook(const toml::node& h, const std::string& ctx, Service& s) {
        auto* t = h.as_table();
        if (!t) {
            error(at(h), ctx, "a hook must be a table with command or url, got " + describe(h));
            return;
        }
        check_keys(*t, ctx + " hook", kHookKeys);
        Hook hook;
        hook.where = at(h);
        auto* cmd = t->get("command");
        auto* url = t->get("url");
        if (!cmd == !url) {
            error(at(h), ctx, "a hook needs exactly one of command (an array) or url (a string)");
            return;
        }
        if (cmd) {
            auto* arr = cmd->as_array();
            if (!arr || arr->empty()) {
                error(at(*cmd), ctx, "hook command must be a non-empty array: the program and its arguments, got " + describe(*cmd));
                return;
            }
            for (auto& e : *arr) {
                if (!e.is_string()) {
                    error(at(e), ctx, "hook command must contain only strings, got " + describe(e));
                    return;
                }
                hook.command.push_back(e.as_string()->get());
            }
        } else {
            auto v = string(*url, ctx, "hook url");
            if (!v) return;
            if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0) {
                error(at(*url), ctx, "hook url must start with http:// or https://, got " + dq(*v));
                return;
            }
            hook.url = *v;
        }
        s.hooks.push_back(std::move(hook));
    }

    // ---- rules across records and services ----

    void check_static_data() {
        bool apex_ns = false;
        for (auto& [owner, by_type] : sets_) {
            std::string text = owner_text_.count(owner) ? owner_text_[owner] : owner.to_relative_text(origin_);
            std::string ctx = zctx_ + " record '" + text + "'";
            if (auto c = by_type.find(rrtype::CNAME); c != by_type.end()) {
                auto w = c->second.set.where.location();
                if (owner == origin_) error(w, ctx + " CNAME", "a CNAME is not allowed at the zone apex (it would hide the SOA and NS)");
                std::vector<std::string> others;
                for (auto& [type, ps] : by_type)
                    if (type != rrtype::CNAME && type != rrtype::RRSIG && type != rrtype::NSEC && type != 50)
                        others.push_back(detail::type_to_name(type));
                if (!others.empty() && owner != origin_)
                    error(w, ctx + " CNAME", "a CNAME cannot share its name with other records, found " + join(others));
                if (c->second.set.rdatas.size() > 1)
                    error(w, ctx + " CNAME",
                          "a name can have only one CNAME record, got " + std::to_string(c->second.set.rdatas.size()));
            }
            if (auto svc = service_owner_.find(owner); svc != service_owner_.end()) {
                for (uint16_t type : {rrtype::A, rrtype::AAAA, rrtype::CNAME}) {
                    auto it = by_type.find(type);
                    if (it == by_type.end()) continue;
                    auto& sw = service_owner_where_[owner];
                    error(it->second.set.where.location(), ctx + " " + detail::type_to_name(type),
                          "the name is answered by service '" + svc->second + "' (" + sw.file + ":" +
                              std::to_string(sw.line) + "); static A, AAAA and CNAME records may not share a name with a service");
                }
            }
            auto ns = by_type.find(rrtype::NS);
            if (ns == by_type.end()) continue;
            if (owner == origin_) apex_ns = true;
            for (auto& rd : ns->second.set.rdatas) {
                std::size_t pos = 0;
                auto target = detail::read_wire_name(rd, pos);
                if (!target || !target->is_subdomain_of(origin_)) continue;
                if (service_owner_.count(*target)) continue;
                auto t = sets_.find(*target);
                bool has_addr = t != sets_.end() && (t->second.count(rrtype::A) || t->second.count(rrtype::AAAA));
                if (!has_addr)
                    warning(ns->second.set.where.location(), ctx + " NS",
                            "target '" + target->to_text() + "' is inside the zone but has no A or AAAA record (glue); add [records." +
                                dq(target->to_relative_text(origin_)) + "] A = \"...\"");
            }
        }
        if (!apex_ns && zctx_ != "zone")
            d_.warning(soa_where_, zctx_ + ": no NS records at the apex; add [records.\"@\"] NS = [\"ns1\", ...]");
    }

    // An automatic serial follows the newest modification time (Unix seconds) of
    // the zone's files, so editing a zone raises it and a restart never lowers it.
    uint32_t automatic_serial() const {
        uint32_t newest = 1;
        std::error_code ec;
        for (auto& f : serial_sources_) {
            auto t = fs::last_write_time(f, ec);
            if (ec) continue;
            auto sys = std::chrono::file_clock::to_sys(t);
            auto secs = std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
            if (secs > 0 && uint64_t(secs) > newest) newest = uint32_t(uint64_t(secs) & 0xffffffffu);
        }
        return newest;
    }

    void build_nodes() {
        Soa& soa = zone_.soa;
        if (soa.auto_serial) soa.serial = automatic_serial();
        std::string rd = soa.mname.wire() + soa.rname.wire();
        for (uint32_t v : {soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum})
            for (int shift = 24; shift >= 0; shift -= 8) rd.push_back(char((v >> shift) & 0xff));
        RRset soa_set;
        soa_set.type = rrtype::SOA;
        soa_set.ttl = soa.ttl;
        soa_set.rdatas.push_back(std::move(rd));
        soa_set.where = source(soa_where_);
        sets_[origin_][rrtype::SOA] = PendingSet{std::move(soa_set), false};
        // sets_ is ordered by name, as the table is; its RRsets move, nothing is copied.
        std::vector<NodeTable::value_type> nodes;
        nodes.reserve(sets_.size());
        for (auto& [owner, by_type] : sets_) {
            Node node;
            node.rrsets.reserve(by_type.size());
            for (auto& [type, ps] : by_type) node.rrsets.push_back(std::move(ps.set));
            nodes.emplace_back(owner, std::move(node));
        }
        sets_.clear();
        zone_.nodes.assign(std::move(nodes));
    }

    // The record's location with the file's path shared by every record of the file.
    RecordSource source(const SourceLocation& where) {
        if (!last_file_name_ || *last_file_name_ != where.file) {
            auto& shared = file_names_[where.file];
            if (!shared) shared = std::make_shared<const std::string>(where.file);
            last_file_name_ = shared;
        }
        return {last_file_name_, where.line, where.column};
    }

    void set_probe_hosts() {
        for (std::size_t p = 0; p < zone_.pools.size(); ++p) {
            std::string host = origin_label(origin_);
            bool found = false;
            for (auto& s : zone_.services) {
                if (std::find(s.pools.begin(), s.pools.end(), p) == s.pools.end()) continue;
                for (auto& o : s.owners) {
                    if (o.is_wildcard()) continue;
                    host = origin_label(o);
                    found = true;
                    break;
                }
                break;  // only the first service that uses the pool
            }
            (void)found;
            for (auto& e : zone_.pools[p].endpoints) e.probe_host = host;
        }
    }

    std::string file_;
    std::vector<std::string> serial_sources_{file_};  // files whose mtime makes the automatic serial
    core::Diagnostics& d_;
    Zone zone_;
    core::Name origin_;
    std::string zctx_ = "zone";
    SourceLocation soa_where_;
    std::map<core::Name, std::map<uint16_t, PendingSet>> sets_;
    std::map<core::Name, std::string> owner_text_;
    std::optional<detail::MasterRecord> include_soa_;
    std::map<core::Name, std::string> service_owner_;
    std::map<core::Name, SourceLocation> service_owner_where_;
    std::map<std::string, std::shared_ptr<const std::string>> file_names_;  // see source()
    std::shared_ptr<const std::string> last_file_name_;
};

std::optional<ParsedZone> parse_zone(std::string_view text, const std::string& file, core::Diagnostics& d) {
    ZoneParser p(file, d);
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
    // The same origin in two files.
    std::map<core::Name, const ParsedZone*> seen;
    for (auto& pz : parsed) {
        auto [it, fresh] = seen.emplace(pz.zone.origin, &pz);
        if (!fresh)
            diags.error(pz.origin_where, "zone '" + origin_label(pz.zone.origin) + "' is already defined in " +
                                             it->second->zone.file + "; each origin may appear in one file only");
    }
    r.diagnostics = std::move(diags);
    if (r.diagnostics.has_errors()) return r;
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
    t_limits = &lim;
    struct Reset {
        ~Reset() { t_limits = nullptr; }
    } reset;
    core::Diagnostics d;
    std::vector<ParsedZone> zones;
    if (!too_big(toml_text.size(), file, lim, d))
        if (auto z = parse_zone(toml_text, file, d)) zones.push_back(std::move(*z));
    return finish(std::move(zones), std::move(d), lim);
}

LoadResult load_path(const std::string& path) { return load_path(path, Limits{}); }

LoadResult load_path(const std::string& path, const Limits& lim) {
    t_limits = &lim;
    struct Reset {
        ~Reset() { t_limits = nullptr; }
    } reset;
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
        if (auto z = parse_zone(*text, f, d)) zones.push_back(std::move(*z));
    }
    return finish(std::move(zones), std::move(d), lim);
}

}  // namespace signpost::zones
