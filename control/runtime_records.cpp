// Runtime TXT records: where they may be, their bounds, expiry, and how they join
// the catalog that is served (see runtime_records.hpp). No clock is read here.
#include "control/runtime_records.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace signpost::control {

namespace {

std::string where_text(const zones::RRset& set) {
    auto w = set.where.location();
    if (w.file.empty()) return "the zone file";
    return w.line ? fmt::format("{}:{}", w.file, w.line) : w.file;
}

std::string prefixes_text(const zones::Zone& zone) {
    std::string out;
    for (auto& p : zone.runtime_txt) out += (out.empty() ? "" : " or ") + p.text + ".<name>";
    return out;
}

std::string quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

uint32_t lowest_ttl(const RuntimeRecords::Values& values) {
    uint32_t ttl = RuntimeTxtLimits::max_ttl;
    for (auto& v : values) ttl = std::min(ttl, v.ttl);
    return ttl;
}

}  // namespace

std::optional<core::Name> runtime_txt_name(std::string_view text, std::string& error) {
    std::string t(text);
    if (t.empty() || t == ".") {
        error = "missing name: give an owner such as _acme-challenge.example.com";
        return std::nullopt;
    }
    if (t.back() != '.') t += '.';
    std::string why;
    auto name = core::Name::from_text(t, core::Name(), &why);
    if (!name) error = "bad name " + quoted(text) + ": " + why;
    return name;
}

std::optional<std::pair<int, std::string>> runtime_txt_refusal(const zones::Catalog& catalog, const core::Name& name) {
    const std::string shown = name.to_key();
    const zones::Zone* zone = catalog.find_zone(name);
    if (!zone) return std::pair{404, "no zone of this server contains " + shown};
    const std::string origin = zone->origin.to_key();
    if (zone->runtime_txt.empty())
        return std::pair{403, "zone " + origin + " allows no runtime TXT records: add runtime_txt = [\"_acme-challenge\"] to " +
                                  zone->file()};
    if (!zones::runtime_txt_allowed(*zone, name))
        return std::pair{403, "zone " + origin + " allows runtime TXT records only at " + prefixes_text(*zone) +
                                  " (runtime_txt in " + zone->file() + "), not at " + shown};
    if (auto reserved = core::Name::from_text("_signpost", zone->origin); reserved && name.is_subdomain_of(*reserved))
        return std::pair{409, shown + " is under " + reserved->to_key() + ", where services' state records live"};
    // Nothing between the name and the apex may delegate or redirect it away.
    for (core::Name n = name; n != zone->origin && n.is_subdomain_of(zone->origin); n = n.parent()) {
        auto* node = zone->find_node(n);
        if (!node) continue;
        if (auto* ns = node->find(zones::rrtype::NS))
            return std::pair{409, shown + " is at or below the delegation " + n.to_key() + " (" + where_text(*ns) +
                                      "): the child zone's servers answer it"};
        if (n != name)
            if (auto* dname = node->find(zones::rrtype::DNAME))
                return std::pair{409, shown + " is below the DNAME at " + n.to_key() + " (" + where_text(*dname) + ")"};
    }
    if (auto* node = zone->find_node(name)) {
        if (auto* cname = node->find(zones::rrtype::CNAME))
            return std::pair{409, shown + " has a CNAME in the zone file (" + where_text(*cname) +
                                      "); a CNAME stands alone at its name"};
        if (auto* txt = node->find(zones::rrtype::TXT))
            return std::pair{409, shown + " has TXT records in the zone file (" + where_text(*txt) +
                                      "); runtime records do not mix with them: remove them from the file first"};
    }
    for (auto& s : zone->services)
        for (auto& owner : s.owners)
            if (owner == name) return std::pair{409, shown + " is an owner of service " + origin + "/" + s.name};
    return std::nullopt;
}

RuntimeTxtOutcome RuntimeRecords::set(const zones::Catalog& catalog, std::string_view name_text,
                                      std::string_view value, std::optional<uint32_t> ttl,
                                      std::optional<core::Millis> for_, int64_t now_ms) {
    RuntimeTxtOutcome r;
    auto fail = [&](int status, std::string message) {
        r.status = status;
        r.message = std::move(message);
        return r;
    };
    std::string error;
    auto name = runtime_txt_name(name_text, error);
    if (!name) return fail(400, error);
    if (value.empty()) return fail(400, "missing value: give the TXT value, e.g. the ACME challenge's digest");
    if (value.size() > RuntimeTxtLimits::max_value_bytes)
        return fail(400, fmt::format("the value is {} bytes; at most {} (one TXT string)", value.size(),
                                     RuntimeTxtLimits::max_value_bytes));
    for (unsigned char c : value)
        if (c < 0x20 || c > 0x7e)
            return fail(400, fmt::format("the value holds byte 0x{:02x}; only printable ASCII (0x20..0x7e) is allowed", c));
    uint32_t t = ttl.value_or(RuntimeTxtLimits::default_ttl);
    if (t < 1 || t > RuntimeTxtLimits::max_ttl)
        return fail(400, fmt::format("ttl must be 1..{} seconds, got {}", RuntimeTxtLimits::max_ttl, t));
    core::Millis life = for_.value_or(RuntimeTxtLimits::default_for);
    if (life.count() < 1000 || life > RuntimeTxtLimits::max_for)
        return fail(400, "'for' must be 1s..30d, got " + core::format_duration(life));
    if (auto refusal = runtime_txt_refusal(catalog, *name)) return fail(refusal->first, refusal->second);

    const std::string shown = name->to_key();
    const std::string how = fmt::format("ttl {} s, for {}", t, core::format_duration(life));
    if (auto found = names_.find(*name); found != names_.end()) {
        auto& values = found->second;
        auto it = std::find_if(values.begin(), values.end(), [&](auto& v) { return v.value == value; });
        if (it != values.end()) {
            uint32_t before = lowest_ttl(values);
            it->ttl = t;
            it->expires_ms = now_ms + life.count();
            r.changed = lowest_ttl(values) != before;
            r.message = shown + " TXT " + quoted(value) + " was set already: renewed (" + how + ")";
            return r;
        }
        if (values.size() >= RuntimeTxtLimits::max_values_per_name)
            return fail(409, fmt::format("{} has {} runtime TXT values, the most one name may hold; delete some first",
                                         shown, values.size()));
    }
    const zones::Zone* zone = catalog.find_zone(*name);
    std::size_t in_zone = 0;
    for (auto& [n, vs] : names_)
        if (catalog.find_zone(n) == zone) in_zone += vs.size();
    if (in_zone >= RuntimeTxtLimits::max_records_per_zone)
        return fail(409, fmt::format("zone {} has {} runtime TXT records, the most a zone may hold; delete some first",
                                     zone->origin.to_key(), in_zone));
    names_[*name].push_back({std::string(value), t, now_ms, now_ms + life.count()});
    r.changed = true;
    r.message = shown + " TXT " + quoted(value) + " set (" + how + ")";
    return r;
}

RuntimeTxtOutcome RuntimeRecords::del(const zones::Catalog& catalog, std::string_view name_text,
                                      const std::optional<std::string>& value) {
    RuntimeTxtOutcome r;
    std::string error;
    auto name = runtime_txt_name(name_text, error);
    if (!name) {
        r.status = 400;
        r.message = error;
        return r;
    }
    const std::string shown = name->to_key();
    auto it = names_.find(*name);
    if (it == names_.end()) {
        if (!catalog.find_zone(*name)) {
            r.status = 404;
            r.message = "no zone of this server contains " + shown;
        } else {
            r.message = "no runtime TXT records at " + shown + ": nothing to delete";
        }
        return r;
    }
    auto& values = it->second;
    if (!value) {
        r.message = fmt::format("{}: {} runtime TXT value(s) deleted", shown, values.size());
        names_.erase(it);
        r.changed = true;
        return r;
    }
    auto v = std::find_if(values.begin(), values.end(), [&](auto& x) { return x.value == *value; });
    if (v == values.end()) {
        r.message = shown + " has no runtime TXT value " + quoted(*value) + ": nothing to delete";
        return r;
    }
    values.erase(v);
    if (values.empty()) names_.erase(it);
    r.changed = true;
    r.message = shown + " TXT " + quoted(*value) + " deleted";
    return r;
}

std::vector<std::string> RuntimeRecords::expire(int64_t now_ms) {
    std::vector<std::string> gone;
    for (auto it = names_.begin(); it != names_.end();) {
        auto& values = it->second;
        std::erase_if(values, [&](const RuntimeTxtValue& v) {
            if (v.expires_ms > now_ms) return false;
            gone.push_back(it->first.to_key() + " TXT " + quoted(v.value));
            return true;
        });
        it = values.empty() ? names_.erase(it) : std::next(it);
    }
    return gone;
}

std::vector<std::string> RuntimeRecords::retain(const zones::Catalog& catalog) {
    std::vector<std::string> dropped;
    for (auto it = names_.begin(); it != names_.end();) {
        auto refusal = runtime_txt_refusal(catalog, it->first);
        if (!refusal) {
            ++it;
            continue;
        }
        dropped.push_back(fmt::format("{} ({} value(s)): {}", it->first.to_key(), it->second.size(), refusal->second));
        it = names_.erase(it);
    }
    return dropped;
}

std::shared_ptr<const zones::Catalog> RuntimeRecords::apply(std::shared_ptr<const zones::Catalog> base) const {
    if (names_.empty() || !base) return base;
    auto cat = std::make_shared<zones::Catalog>(*base);  // zones share their node tables until changed
    static const std::string* const source = zones::intern_file_name("(runtime: signpost txt set)");
    for (auto& [name, values] : names_) {
        const zones::Zone* z = cat->find_zone(name);
        if (!z || values.empty()) continue;
        auto& zone = cat->zones[std::size_t(z - cat->zones.data())];
        if (auto* node = zone.find_node(name); node && node->find(zones::rrtype::TXT)) continue;  // the file's win
        zones::RRset set;
        set.type = zones::rrtype::TXT;
        set.ttl = lowest_ttl(values);
        set.where.file_name = source;
        for (auto& v : values) {
            std::string rd(1, char(v.value.size()));
            rd += v.value;
            set.rdatas.push_back(std::move(rd));
        }
        zone.nodes[name].rrsets.push_back(std::move(set));
    }
    return cat;
}

std::size_t RuntimeRecords::size() const noexcept {
    std::size_t n = 0;
    for (auto& [name, values] : names_) n += values.size();
    return n;
}

std::map<std::string, std::vector<PersistedTxt>> RuntimeRecords::persisted() const {
    std::map<std::string, std::vector<PersistedTxt>> out;
    for (auto& [name, values] : names_) {
        auto& list = out[name.to_key()];
        for (auto& v : values) list.push_back({v.value, v.ttl, v.set_ms, v.expires_ms});
    }
    return out;
}

void RuntimeRecords::restore(const std::map<std::string, std::vector<PersistedTxt>>& saved) {
    names_.clear();
    for (auto& [key, list] : saved) {
        std::string error;
        auto name = runtime_txt_name(key, error);
        if (!name) continue;
        auto& values = names_[*name];
        for (auto& p : list) {
            bool valid = !p.value.empty() && p.value.size() <= RuntimeTxtLimits::max_value_bytes && p.ttl >= 1 &&
                         p.ttl <= RuntimeTxtLimits::max_ttl &&
                         std::all_of(p.value.begin(), p.value.end(), [](unsigned char c) { return c >= 0x20 && c <= 0x7e; });
            bool dup = std::any_of(values.begin(), values.end(), [&](auto& v) { return v.value == p.value; });
            if (valid && !dup && values.size() < RuntimeTxtLimits::max_values_per_name)
                values.push_back({p.value, p.ttl, p.set_ms, p.expires_ms});
        }
        if (values.empty()) names_.erase(*name);
    }
}

}  // namespace signpost::control
