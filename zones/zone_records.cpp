// Static data of a zone: [records] owners and RRsets, the master file an include names,
// [soa], the rules across records (CNAME, glue, service names), and the node table.
// Load time only; never on the query path.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "zones/zone_parser.hpp"

namespace signpost::zones::detail {

namespace {

namespace fs = std::filesystem;
using core::SourceLocation;

const std::vector<std::string> kSoaKeys = {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"};

bool starts_with_type(std::string_view key) {
    return key.size() >= 4 && std::tolower((unsigned char)key[0]) == 't' && std::tolower((unsigned char)key[1]) == 'y' &&
           std::tolower((unsigned char)key[2]) == 'p' && std::tolower((unsigned char)key[3]) == 'e';
}

}  // namespace

void ZoneParser::parse_records(TomlDocument& doc, TomlNode records) {
    doc.consume_entries(records, [&](const TomlEntry& e) {
        const std::string& owner = e.key;
        if (e.value.is_table()) {
            parse_owner(e.value, owner, e.key_where);
        } else {
            error(e.key_where, zctx_ + " record '" + owner + "'",
                  "expected a table of record types such as [records." + owner +
                      "] with A = \"192.0.2.1\", got " + e.value.describe());
        }
    });
}

void ZoneParser::parse_owner(TomlNode t, const std::string& owner_text, const SourceLocation& where) {
    std::string ctx = zctx_ + " record '" + owner_text + "'";
    std::optional<uint32_t> owner_ttl;
    if (auto n = t.get("ttl")) owner_ttl = ttl_value(n, ctx, "ttl");
    std::optional<core::Name> name;
    bool name_checked = false;
    for (auto& e : t.entries()) {
        const std::string& key = e.key;
        if (key == "ttl") continue;
        auto type = type_from_name(key);
        TomlNode sub = e.value.is_table() ? e.value : TomlNode();
        // A type key with a table value is an RRset ({ ttl, data }); any other table is a
        // name below this one. A table of only ttl under a type key is an RRset missing data.
        bool rrset_table = sub && type && (sub.contains("data") || sub.empty() ||
                                           (sub.size() == 1 && sub.contains("ttl")));
        if (sub && rrset_table && !sub.contains("data")) {
            error(e.value.where(), ctx + " " + type_to_name(*type),
                  "data is required in a table such as { ttl = 60, data = [\"...\"] }");
            continue;
        }
        if (sub && !rrset_table) {
            parse_owner(sub, owner_text + "." + key, e.key_where);  // [records._sip._tcp]
            continue;
        }
        if (!type) {
            error(e.key_where, ctx,
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
        parse_rrset(*name, owner_text, *type, key, e.value, owner_ttl.value_or(zone_.default_ttl));
    }
}

void ZoneParser::parse_rrset(const core::Name& owner, const std::string& owner_text, uint16_t type, const std::string& key,
                             TomlNode value, uint32_t ttl) {
    std::string ctx = zctx_ + " record '" + owner_text + "' " + type_to_name(type);
    if (type == rrtype::SOA) {
        error(value.where(), ctx, "the SOA record is set in the [soa] table, not in [records]");
        return;
    }
    if (is_meta_type(type)) {
        error(value.where(), ctx, "type " + type_to_name(type) + " cannot be zone data");
        return;
    }
    TomlNode data = value;
    if (value.is_table()) {
        r_.check_keys(value, ctx, {"ttl", "data"});
        if (auto n = value.get("ttl")) {
            auto v = ttl_value(n, ctx, "ttl");
            if (!v) return;
            ttl = *v;
        }
        data = value.get("data");
    }
    // TXT written as "TXT" takes strings literally; "TYPE16" takes presentation format.
    bool literal_txt = type == rrtype::TXT && !starts_with_type(key);
    std::vector<std::string> rdatas;
    bool ok = true;
    auto one = [&](TomlNode n) {
        if (literal_txt) {
            if (auto s = n.as_string()) {
                rdatas.push_back(txt_rdata({*s}));
                return;
            }
            if (n.is_array() && !n.empty()) {
                std::vector<std::string> parts;
                for (auto& e : n.elements()) {
                    auto s = e.as_string();
                    if (!s) {
                        error(e.where(), ctx, "the strings of one TXT record must be strings, got " + e.describe());
                        ok = false;
                        return;
                    }
                    parts.push_back(*s);
                }
                rdatas.push_back(txt_rdata(parts));
                return;
            }
            error(n.where(), ctx, "a TXT record must be a string or an array of strings, got " + n.describe());
            ok = false;
            return;
        }
        auto s = n.as_string();
        if (!s) {
            error(n.where(), ctx, "record data must be a string in presentation format, got " + n.describe());
            ok = false;
            return;
        }
        std::string why;
        auto wire = rdata_from_text(type, *s, origin_, &why);
        if (!wire) {
            error(n.where(), ctx, "cannot parse " + dq(*s) + ": " + why);
            ok = false;
            return;
        }
        rdatas.push_back(std::move(*wire));
    };
    if (data.is_array()) {
        if (data.empty()) {
            error(data.where(), ctx, "no records given; give one string or an array of them");
            return;
        }
        for (auto& e : data.elements()) one(e);
    } else {
        one(data);
    }
    if (!ok) return;
    RRset set;
    set.type = type;
    set.ttl = ttl;
    set.where = source(value.where());
    for (auto& r : rdatas) {
        if (set.rdatas.contains(r)) {
            warning(set.where.location(), ctx, "duplicate record ignored");
            continue;
        }
        set.rdatas.push_back(std::move(r));
    }
    add_set(owner, owner_text, std::move(set), false);
}

void ZoneParser::add_set(const core::Name& owner, const std::string& owner_text, RRset set, bool from_include) {
    PendingSet p{owner, std::move(set), {}, seq_++, from_include};
    if (owner_text != owner.to_relative_text(origin_)) p.written = owner_text;
    sets_.push_back(std::move(p));
}

namespace {

bool by_owner_type(const core::Name& a_owner, uint16_t a_type, const core::Name& b_owner, uint16_t b_type) {
    return a_owner != b_owner ? a_owner < b_owner : a_type < b_type;
}

}  // namespace

std::string ZoneParser::owner_text(const PendingSet& p) const {
    return p.written.empty() ? p.owner.to_relative_text(origin_) : p.written;
}

void ZoneParser::settle_sets() {
    // In place (a stable sort would take a buffer as large as sets_): seq keeps arrival order.
    std::sort(sets_.begin(), sets_.end(), [](const PendingSet& a, const PendingSet& b) {
        if (a.owner != b.owner || a.set.type != b.set.type) return by_owner_type(a.owner, a.set.type, b.owner, b.set.type);
        return a.seq < b.seq;
    });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < sets_.size(); ++i) {
        PendingSet& cur = sets_[i];
        if (kept > 0 && sets_[kept - 1].owner == cur.owner && sets_[kept - 1].set.type == cur.set.type) {
            PendingSet& old = sets_[kept - 1];
            std::string ctx = zctx_ + " record '" + owner_text(cur) + "' " + type_to_name(cur.set.type);
            if (cur.from_include && old.from_include) {  // one RRset spread over several lines of a master file
                for (auto r : cur.set.rdatas)
                    if (!old.set.rdatas.contains(r)) old.set.rdatas.push_back(r);
                if (cur.set.ttl != old.set.ttl) {
                    d_.warning(cur.set.where.location(), ctx + ": records of one RRset have different TTLs (" +
                                                             std::to_string(old.set.ttl) + " and " +
                                                             std::to_string(cur.set.ttl) + "); using the lower");
                    old.set.ttl = std::min(old.set.ttl, cur.set.ttl);
                }
                continue;
            }
            auto& w = old.set.where;
            error(cur.set.where.location(), ctx,
                  type_to_name(cur.set.type) + " records for '" + cur.owner.to_text() + "' are already given at " +
                      w.file() + ":" + std::to_string(w.line) + "; give each name and type once");
            continue;
        }
        if (kept != i) sets_[kept] = std::move(cur);
        ++kept;
    }
    sets_.resize(kept);
}

const ZoneParser::PendingSet* ZoneParser::find_set(const core::Name& owner, uint16_t type) const {
    auto it = std::lower_bound(sets_.begin(), sets_.end(), std::pair{&owner, type}, [](const PendingSet& p, auto key) {
        return by_owner_type(p.owner, p.set.type, *key.first, key.second);
    });
    return it != sets_.end() && it->owner == owner && it->set.type == type ? &*it : nullptr;
}

void ZoneParser::parse_include(const std::string& rel, const SourceLocation& where) {
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
        std::size_t cap = limits_.max_file_bytes;
        auto size = ec ? 0 : fs::file_size(p, ec);
        if (!ec && cap && size > cap) {
            error(where, zctx_ + " include " + dq(rel),
                  "file is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(cap) +
                      "; raise [limits] max_file_bytes in the server config");
            return;
        }
    }
    core::Diagnostics inner;
    MasterFile mf;
    read_master_file(path, origin_, zone_.default_ttl, inner, mf);
    for (auto d : inner.items()) {
        if (d.where.line == 0 && d.where.file == path) d.where = where;  // cannot open: point at the include key
        d.message = zctx_ + " include " + dq(rel) + ": " + d.message;
        d_.add(std::move(d));
    }
    for (auto& r : mf.records) {
        SourceLocation w{path, r.line, 0};
        std::string text = r.owner.to_relative_text(origin_);
        std::string ctx = zctx_ + " record '" + text + "' " + type_to_name(r.type);
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
        if (is_meta_type(r.type)) {
            error(w, ctx, "type " + type_to_name(r.type) + " cannot be zone data");
            continue;
        }
        RRset set;
        set.type = r.type;
        set.ttl = r.ttl;
        set.rdatas.push_back(r.rdata);
        set.where = source(w);
        add_set(r.owner, text, std::move(set), true);
    }
}

void ZoneParser::parse_soa(TomlNode node) {
    Soa& soa = zone_.soa;
    soa.mname = origin_;
    soa.rname = core::Name::from_text("hostmaster", origin_).value_or(origin_);
    // Defaults: the first apex NS target, else ns1.<origin>.
    bool mname_set = false;
    if (auto ns = find_set(origin_, rrtype::NS); ns && !ns->set.rdatas.empty()) {
        std::size_t pos = 0;
        if (auto n = read_wire_name(ns->set.rdatas.front(), pos)) {
            soa.mname = *n;
            mname_set = true;
        }
    }
    if (!mname_set) soa.mname = core::Name::from_text("ns1", origin_).value_or(origin_);
    soa.ttl = zone_.default_ttl;
    soa.auto_serial = true;
    soa.serial = 1;
    if (include_soa_) {  // the master file's SOA gives the defaults
        const std::string& w = include_soa_->rdata;
        std::size_t pos = 0;
        auto m = read_wire_name(w, pos);
        auto r = m ? read_wire_name(w, pos) : std::nullopt;
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
        if (auto t = r_.table(node, zctx_, "soa")) {
            soa_where_ = node.where();
            r_.check_keys(t, ctx, kSoaKeys);
            for (const char* key : {"mname", "rname"}) {
                auto n = t.get(key);
                if (!n) continue;
                auto s = r_.string(n, ctx, key);
                if (!s) continue;
                if (std::string_view(key) == "rname" && s->find('@') != std::string::npos && *s != "@") {
                    error(n.where(), ctx,
                          "rname is a domain name, not an e-mail address: write " + dq("hostmaster." + origin_.to_text()) +
                              " for hostmaster@" + origin_label(origin_) + ", got " + dq(*s));
                    continue;
                }
                std::string why;
                auto name = core::Name::from_text(*s, origin_, &why);
                if (!name) {
                    error(n.where(), ctx, std::string(key) + " " + dq(*s) + " is not a valid name: " + why);
                    continue;
                }
                (std::string_view(key) == "mname" ? soa.mname : soa.rname) = *name;
            }
            if (auto n = t.get("serial")) {
                if (auto s = n.as_string(); s && *s == "auto") {
                    soa.auto_serial = true;
                    soa.serial = 1;
                } else if (n.is_integer()) {
                    if (auto v = r_.integer(n, ctx, "serial", 0, 4294967295LL)) {
                        soa.serial = uint32_t(*v);
                        soa.auto_serial = false;
                    }
                } else {
                    error(n.where(), ctx, "serial must be \"auto\" or an integer 0..4294967295, got " + n.describe());
                }
            }
            auto num = [&](const char* key, uint32_t& field) {
                if (auto n = t.get(key))
                    if (auto v = ttl_value(n, ctx, key)) field = *v;
            };
            num("refresh", soa.refresh);
            num("retry", soa.retry);
            num("expire", soa.expire);
            num("minimum", soa.minimum);
            num("ttl", soa.ttl);
        }
    }
}

// ---- rules across records and services ----

void ZoneParser::check_static_data() {
    bool apex_ns = false;
    for (std::size_t b = 0, e = 0; b < sets_.size(); b = e) {
        const core::Name& owner = sets_[b].owner;
        const PendingSet* first = &sets_[b];  // the owner's text as first written
        for (e = b; e < sets_.size() && sets_[e].owner == owner; ++e)
            if (sets_[e].seq < first->seq) first = &sets_[e];
        auto of_type = [&](uint16_t type) -> const PendingSet* {
            for (std::size_t k = b; k < e; ++k)
                if (sets_[k].set.type == type) return &sets_[k];
            return nullptr;
        };
        std::string text = owner_text(*first);
        std::string ctx = zctx_ + " record '" + text + "'";
        if (auto c = of_type(rrtype::CNAME)) {
            auto w = c->set.where.location();
            if (owner == origin_) error(w, ctx + " CNAME", "a CNAME is not allowed at the zone apex (it would hide the SOA and NS)");
            std::vector<std::string> others;
            for (std::size_t k = b; k < e; ++k) {
                uint16_t type = sets_[k].set.type;
                if (type != rrtype::CNAME && type != rrtype::RRSIG && type != rrtype::NSEC && type != 50)
                    others.push_back(type_to_name(type));
            }
            if (!others.empty() && owner != origin_)
                error(w, ctx + " CNAME", "a CNAME cannot share its name with other records, found " + join(others));
            if (c->set.rdatas.size() > 1)
                error(w, ctx + " CNAME",
                      "a name can have only one CNAME record, got " + std::to_string(c->set.rdatas.size()));
        }
        if (auto svc = service_owner_.find(owner); svc != service_owner_.end()) {
            for (uint16_t type : {rrtype::A, rrtype::AAAA, rrtype::CNAME}) {
                auto it = of_type(type);
                if (!it) continue;
                auto& sw = service_owner_where_[owner];
                error(it->set.where.location(), ctx + " " + type_to_name(type),
                      "the name is answered by service '" + svc->second + "' (" + sw.file + ":" +
                          std::to_string(sw.line) + "); static A, AAAA and CNAME records may not share a name with a service");
            }
        }
        auto ns = of_type(rrtype::NS);
        if (!ns) continue;
        if (owner == origin_) apex_ns = true;
        for (auto rd : ns->set.rdatas) {
            std::size_t pos = 0;
            auto target = read_wire_name(rd, pos);
            if (!target || !target->is_subdomain_of(origin_)) continue;
            if (service_owner_.count(*target)) continue;
            bool has_addr = find_set(*target, rrtype::A) || find_set(*target, rrtype::AAAA);
            if (!has_addr)
                warning(ns->set.where.location(), ctx + " NS",
                        "target '" + target->to_text() + "' is inside the zone but has no A or AAAA record (glue); add [records." +
                            dq(target->to_relative_text(origin_)) + "] A = \"...\"");
        }
    }
    if (!apex_ns && zctx_ != "zone")
        d_.warning(soa_where_, zctx_ + ": no NS records at the apex; add [records.\"@\"] NS = [\"ns1\", ...]");
}

// An automatic serial follows the newest modification time (Unix seconds) of
// the zone's files, so editing a zone raises it and a restart never lowers it.
uint32_t ZoneParser::automatic_serial() const {
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

void ZoneParser::build_nodes() {
    Soa& soa = zone_.soa;
    if (soa.auto_serial) soa.serial = automatic_serial();
    std::string rd(soa.mname.wire());
    rd += soa.rname.wire();
    for (uint32_t v : {soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum})
        for (int shift = 24; shift >= 0; shift -= 8) rd.push_back(char((v >> shift) & 0xff));
    RRset soa_set;
    soa_set.type = rrtype::SOA;
    soa_set.ttl = soa.ttl;
    soa_set.rdatas.push_back(std::move(rd));
    soa_set.where = source(soa_where_);
    PendingSet soa_pending{origin_, std::move(soa_set), {}, seq_++, false};
    auto at = std::lower_bound(sets_.begin(), sets_.end(), soa_pending, [](const PendingSet& a, const PendingSet& b) {
        return by_owner_type(a.owner, a.set.type, b.owner, b.set.type);
    });
    if (at != sets_.end() && at->owner == origin_ && at->set.type == rrtype::SOA) *at = std::move(soa_pending);
    else sets_.insert(at, std::move(soa_pending));
    // sets_ is ordered by name, as the table is; names and RRsets move, nothing is copied.
    std::size_t owners = 0;
    for (std::size_t i = 0; i < sets_.size(); ++i) owners += i == 0 || sets_[i].owner != sets_[i - 1].owner;
    std::vector<NodeTable::value_type> nodes;
    nodes.reserve(owners);
    for (std::size_t b = 0, e = 0; b < sets_.size(); b = e) {
        for (e = b; e < sets_.size() && sets_[e].owner == sets_[b].owner; ++e) {
        }
        Node node;
        node.rrsets.reserve(e - b);
        for (std::size_t k = b; k < e; ++k) node.rrsets.push_back(std::move(sets_[k].set));
        nodes.emplace_back(std::move(sets_[b].owner), std::move(node));
    }
    std::deque<PendingSet>().swap(sets_);
    zone_.nodes.assign(std::move(nodes));
}

// The record's location with the file's path shared by every record of the file.
RecordSource ZoneParser::source(const SourceLocation& where) {
    if (!last_file_name_ || *last_file_name_ != where.file) last_file_name_ = intern_file_name(where.file);
    return {last_file_name_, where.line, where.column};
}


}  // namespace signpost::zones::detail
