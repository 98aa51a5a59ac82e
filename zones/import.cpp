// Master file (RFC 1035) -> TOML zone in the schema of docs/zones.md, through ldns.
// Used by the CLI's import command; never by the server at run time.
#include "zones/import.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "zones/model.hpp"
#include "zones/rdata.hpp"

namespace signpost::zones {

namespace {

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n;
        uint32_t cp;
        if ((c >> 5) == 6) n = 1, cp = c & 0x1f;
        else if ((c >> 4) == 14) n = 2, cp = c & 0x0f;
        else if ((c >> 3) == 30) n = 3, cp = c & 0x07;
        else return false;
        if (i + n > s.size() - 1) return false;  // the sequence runs past the end
        for (std::size_t k = 1; k <= n; ++k) {
            unsigned char cc = s[i + k];
            if ((cc >> 6) != 2) return false;
            cp = cp << 6 | (cc & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

// A TOML string holding `s` exactly: a literal string when that needs no escapes,
// else a basic string with \" \\ and \uXXXX escapes. `s` must be valid UTF-8.
std::string toml_string(std::string_view s) {
    bool literal = s.find('\'') == std::string_view::npos;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) literal = false;
    if (literal) return "'" + std::string(s) + "'";
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    static const char* hex = "0123456789ABCDEF";
                    out += "\\u00";
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 15]);
                } else {
                    out.push_back(char(c));
                }
        }
    }
    return out + "\"";
}

std::string toml_key(std::string_view k) {
    bool bare = !k.empty();
    for (unsigned char c : k)
        if (!std::isalnum(c) && c != '-' && c != '_') bare = false;
    return bare ? std::string(k) : toml_string(k);
}

// Labels from the root down, for DNSSEC canonical order (RFC 4034 6.1).
std::vector<std::string> labels_from_root(const core::Name& n) {
    std::vector<std::string> out;
    std::string_view w = n.wire();
    for (std::size_t i = 0; w[i] != 0; i += 1 + (unsigned char)w[i]) out.emplace_back(w.substr(i + 1, (unsigned char)w[i]));
    std::reverse(out.begin(), out.end());
    return out;
}

struct ImportSet {
    uint32_t ttl = 0;
    std::vector<std::string> rdatas;
    uint32_t line = 0;
};

}  // namespace

std::optional<std::string> import_master_file(const std::string& origin, const std::string& path,
                                              core::Diagnostics& diagnostics) {
    std::string text = origin;
    if (!text.empty() && text.back() != '.') text += '.';
    std::string why;
    auto apex = text.empty() ? std::nullopt : core::Name::from_text(text, core::Name(), &why);
    if (!apex) {
        diagnostics.error({path, 0, 0}, "origin " + std::string("\"") + origin + "\" is not a valid domain name" +
                                             (why.empty() ? "" : ": " + why));
        return std::nullopt;
    }
    std::size_t errors_before = diagnostics.error_count();
    detail::MasterFile mf;
    if (!detail::read_master_file(path, *apex, 3600, diagnostics, mf)) return std::nullopt;

    std::optional<detail::MasterRecord> soa;
    std::map<core::Name, std::map<uint16_t, ImportSet>> sets;
    for (auto& r : mf.records) {
        core::SourceLocation w{path, r.line, 0};
        if (!r.owner.is_subdomain_of(*apex)) {
            diagnostics.error(w, "record '" + r.owner.to_text() + "' is outside the zone '" + apex->to_text() + "'");
            continue;
        }
        if (r.type == rrtype::SOA) {
            if (r.owner != *apex)
                diagnostics.error(w, "an SOA record is allowed only at the zone apex");
            else if (soa)
                diagnostics.error(w, "a second SOA record; a zone has exactly one");
            else
                soa = r;
            continue;
        }
        if (detail::is_meta_type(r.type)) {
            diagnostics.error(w, "type " + detail::type_to_name(r.type) + " cannot be zone data");
            continue;
        }
        auto [it, fresh] = sets[r.owner].try_emplace(r.type);
        ImportSet& set = it->second;
        if (fresh) {
            set.ttl = r.ttl;
            set.line = r.line;
        } else if (r.ttl != set.ttl) {
            diagnostics.warning(w, "records of one RRset have different TTLs (" + std::to_string(set.ttl) + " and " +
                                       std::to_string(r.ttl) + "); using the lower");
            set.ttl = std::min(set.ttl, r.ttl);
        }
        if (std::find(set.rdatas.begin(), set.rdatas.end(), r.rdata) == set.rdatas.end()) set.rdatas.push_back(r.rdata);
    }
    if (diagnostics.error_count() > errors_before) return std::nullopt;

    // SOA fields: mname, rname, then five 32-bit numbers.
    std::optional<core::Name> mname, rname;
    uint32_t nums[5] = {};
    if (soa) {
        std::size_t pos = 0;
        mname = detail::read_wire_name(soa->rdata, pos);
        if (mname) rname = detail::read_wire_name(soa->rdata, pos);
        if (!rname || pos + 20 != soa->rdata.size()) {
            diagnostics.error({path, soa->line, 0}, "malformed SOA record");
            return std::nullopt;
        }
        for (int i = 0; i < 5; ++i) {
            uint32_t v = 0;
            for (int k = 0; k < 4; ++k) v = v << 8 | (unsigned char)soa->rdata[pos + i * 4 + k];
            nums[i] = v;
        }
    }
    uint32_t default_ttl = mf.dollar_ttl ? *mf.dollar_ttl : soa ? nums[4] : 3600;
    if (default_ttl > 2147483647u) default_ttl = 3600;

    std::string out;
    out += "# Imported from " + path + " by signpost; rdata in presentation format, names absolute.\n";
    std::string apex_text = apex->to_text();
    out += "origin = " + toml_string(apex_text.size() > 1 ? apex_text.substr(0, apex_text.size() - 1) : apex_text) + "\n";
    out += "ttl = " + std::to_string(default_ttl) + "\n";
    if (soa) {
        out += "\n[soa]\n";
        out += "mname = " + toml_string(mname->to_text()) + "\n";
        out += "rname = " + toml_string(rname->to_text()) + "\n";
        const char* keys[5] = {"serial", "refresh", "retry", "expire", "minimum"};
        for (int i = 0; i < 5; ++i) out += std::string(keys[i]) + " = " + std::to_string(nums[i]) + "\n";
        out += "ttl = " + std::to_string(std::min<uint32_t>(soa->ttl, 2147483647u)) + "\n";
    }

    std::vector<core::Name> owners;
    for (auto& [n, s] : sets) owners.push_back(n);
    std::sort(owners.begin(), owners.end(),
              [](const core::Name& a, const core::Name& b) { return labels_from_root(a) < labels_from_root(b); });
    for (auto& owner : owners) {
        out += "\n[records." + toml_key(owner.to_relative_text(*apex)) + "]\n";
        for (auto& [type, set] : sets[owner]) {
            std::string key = detail::type_to_name(type);
            std::vector<std::string> items;
            bool literal_txt = type == rrtype::TXT;
            if (literal_txt) {
                for (auto& rd : set.rdatas) {
                    auto strs = detail::txt_strings(rd);
                    bool ok = bool(strs);
                    if (ok)
                        for (auto& s : *strs) ok = ok && valid_utf8(s);
                    if (!ok) {
                        literal_txt = false;
                        break;
                    }
                    if (strs->size() == 1) {
                        items.push_back(toml_string(strs->front()));
                    } else {
                        std::string arr = "[";
                        for (std::size_t i = 0; i < strs->size(); ++i) arr += (i ? ", " : "") + toml_string((*strs)[i]);
                        items.push_back(arr + "]");
                    }
                }
            }
            if (type == rrtype::TXT && !literal_txt) {  // bytes TOML cannot hold: presentation format under TYPE16
                key = "TYPE16";
                items.clear();
            }
            if (!literal_txt)
                for (auto& rd : set.rdatas) items.push_back(toml_string(detail::rdata_to_text(type, rd)));
            std::string data = "[";
            for (std::size_t i = 0; i < items.size(); ++i) data += (i ? ", " : "") + items[i];
            data += "]";
            out += toml_key(key) + " = ";
            if (set.ttl == default_ttl)
                out += data + "\n";
            else
                out += "{ ttl = " + std::to_string(std::min<uint32_t>(set.ttl, 2147483647u)) + ", data = " + data + " }\n";
        }
    }
    return out;
}

}  // namespace signpost::zones
