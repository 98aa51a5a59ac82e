// Record data through ldns: presentation format <-> uncompressed wire, and master files.
// Runs at load time only; never on the query path.
#include "zones/rdata.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/ldns_wrap.hpp"

namespace signpost::zones::detail {

namespace {

using File = core::CHandle<FILE, &std::fclose>;

struct FreeStr {
    void operator()(char* p) const noexcept { std::free(p); }
};
using CStr = std::unique_ptr<char, FreeStr>;

core::LdnsRdf dname_rdf(const core::Name& n) {
    return core::LdnsRdf(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, n.wire().size(), n.wire().data()));
}

std::optional<std::string> rdata_wire(const ldns_rr* rr) {
    core::LdnsBuffer buf(ldns_buffer_new(LDNS_MAX_PACKETLEN));
    if (!buf || ldns_rr_rdata2buffer_wire(buf.get(), rr) != LDNS_STATUS_OK) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())), ldns_buffer_position(buf.get()));
}

std::string generic_text(std::string_view rdata) {
    static const char* hex = "0123456789abcdef";
    std::string out = "\\# " + std::to_string(rdata.size());
    if (!rdata.empty()) out += ' ';
    for (unsigned char c : rdata) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

}  // namespace

std::optional<uint16_t> type_from_name(std::string_view mnemonic) {
    if (mnemonic.empty() || mnemonic.size() > 20) return std::nullopt;
    std::string s(mnemonic);
    // "TYPEnnn" is parsed here: ldns would return any number as its enum, and a
    // value outside the enum's range is undefined behaviour (found by fuzz_zone_loader).
    if (s.size() > 4 && (s[0] == 'T' || s[0] == 't') && (s[1] == 'Y' || s[1] == 'y') && (s[2] == 'P' || s[2] == 'p') &&
        (s[3] == 'E' || s[3] == 'e')) {
        unsigned long v = 0;
        for (std::size_t i = 4; i < s.size(); ++i) {
            if (s[i] < '0' || s[i] > '9' || v > 65535) return std::nullopt;
            v = v * 10 + unsigned(s[i] - '0');
        }
        if (v == 0 || v > 65535) return std::nullopt;
        return uint16_t(v);
    }
    ldns_rr_type t = ldns_get_rr_type_by_name(s.c_str());
    if (t == 0) return std::nullopt;
    return uint16_t(t);
}

std::string type_to_name(uint16_t type) {
    CStr s(ldns_rr_type2str(ldns_rr_type(type)));
    return s ? std::string(s.get()) : "TYPE" + std::to_string(type);
}

bool is_meta_type(uint16_t type) noexcept {
    // OPT, TKEY, TSIG, IXFR, AXFR, MAILB, MAILA, ANY; 128..255 is the QTYPE/meta range.
    return type == 0 || type == 41 || (type >= 128 && type <= 255);
}

std::optional<std::string> rdata_from_text(uint16_t type, std::string_view text, const core::Name& origin,
                                           std::string* error) {
    auto fail = [&](std::string why) -> std::optional<std::string> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return fail("no data");
    if (text.find('\0') != std::string_view::npos) return fail("NUL character in record data");
    std::string line = origin.to_text() + " 0 IN " + type_to_name(type) + " " + std::string(text);
    for (auto& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    auto origin_rdf = dname_rdf(origin);
    ldns_rr* raw = nullptr;
    ldns_status st = ldns_rr_new_frm_str(&raw, line.c_str(), 0, origin_rdf.get(), nullptr);
    core::LdnsRr rr(raw);
    if (st != LDNS_STATUS_OK || !rr) return fail(ldns_get_errorstr_by_id(st));
    if (ldns_rr_get_type(rr.get()) != type) return fail("record type does not match");
    const ldns_rr_descriptor* desc = ldns_rr_descript(type);
    if (desc && ldns_rr_rd_count(rr.get()) < ldns_rr_descriptor_minimum(desc)) return fail("too few fields");
    auto wire = rdata_wire(rr.get());
    if (!wire) return fail("cannot convert to wire format");
    if (wire->size() > 65535) return fail("record data longer than 65535 octets");
    return wire;
}

std::string txt_rdata(const std::vector<std::string>& strings) {
    std::string out;
    for (auto& s : strings) {
        std::size_t pos = 0;
        do {
            std::size_t n = std::min<std::size_t>(255, s.size() - pos);
            out.push_back(char(n));
            out.append(s, pos, n);
            pos += n;
        } while (pos < s.size());
    }
    return out;
}

std::optional<std::vector<std::string>> txt_strings(std::string_view rdata) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < rdata.size()) {
        std::size_t n = (unsigned char)rdata[i];
        if (i + 1 + n > rdata.size()) return std::nullopt;
        out.emplace_back(rdata.substr(i + 1, n));
        i += 1 + n;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

std::string rdata_to_text(uint16_t type, std::string_view rdata) {
    if (rdata.size() > 65535) return generic_text(rdata);
    std::string wire;
    wire.push_back('\0');  // owner: the root
    wire.push_back(char(type >> 8));
    wire.push_back(char(type & 0xff));
    wire.append("\0\1\0\0\0\0", 6);  // class IN, ttl 0
    wire.push_back(char(rdata.size() >> 8));
    wire.push_back(char(rdata.size() & 0xff));
    wire.append(rdata);
    ldns_rr* raw = nullptr;
    size_t pos = 0;
    if (ldns_wire2rr(&raw, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos, LDNS_SECTION_ANSWER) !=
            LDNS_STATUS_OK ||
        !raw)
        return generic_text(rdata);
    core::LdnsRr rr(raw);
    std::string text;
    for (size_t i = 0; i < ldns_rr_rd_count(rr.get()); ++i) {
        CStr s(ldns_rdf2str(ldns_rr_rdf(rr.get(), i)));
        if (!s) return generic_text(rdata);
        if (i) text += ' ';
        text += s.get();
    }
    auto back = rdata_from_text(type, text, core::Name(), nullptr);
    if (!back || *back != rdata) return generic_text(rdata);
    return text;
}

std::optional<core::Name> read_wire_name(std::string_view wire, std::size_t& pos) {
    std::size_t start = pos, i = pos;
    while (true) {
        if (i >= wire.size()) return std::nullopt;
        unsigned len = (unsigned char)wire[i];
        if (len > 63) return std::nullopt;
        i += 1 + len;
        if (len == 0) break;
    }
    auto n = core::Name::from_wire(wire.substr(start, i - start));
    if (n) pos = i;
    return n;
}

bool read_master_file(const std::string& path, const core::Name& origin, uint32_t default_ttl,
                      core::Diagnostics& diagnostics, MasterFile& out) {
    File fp(std::fopen(path.c_str(), "r"));
    if (!fp) {
        diagnostics.error({path, 0, 0}, "cannot open master file: " + std::string(std::strerror(errno)));
        return false;
    }
    ldns_rdf* cur_origin = ldns_rdf_clone(dname_rdf(origin).get());
    ldns_rdf* prev = ldns_rdf_clone(cur_origin);
    uint32_t ttl = default_ttl;
    int line = 0;
    while (!std::feof(fp.get())) {
        int before = line;
        long offset = std::ftell(fp.get());
        ldns_rr* raw = nullptr;
        ldns_status st = ldns_rr_new_frm_fp_l(&raw, fp.get(), &ttl, &cur_origin, &prev, &line);
        core::LdnsRr rr(raw);
        uint32_t start = uint32_t(before + 1);
        if (st == LDNS_STATUS_SYNTAX_TTL) {
            if (!out.dollar_ttl) out.dollar_ttl = ttl;
            continue;
        }
        if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_ORIGIN) continue;
        if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
            diagnostics.error({path, start, 0}, "$INCLUDE is not supported; list the records in this file");
            continue;
        }
        if (st != LDNS_STATUS_OK || !rr) {
            diagnostics.error({path, start, 0}, std::string("cannot parse record: ") + ldns_get_errorstr_by_id(st));
            if (line == before && std::ftell(fp.get()) == offset) break;  // no progress: give up
            continue;
        }
        const ldns_rdf* owner = ldns_rr_owner(rr.get());
        auto name = owner ? core::Name::from_wire(std::string_view(
                                reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner)))
                          : std::nullopt;
        auto wire = rdata_wire(rr.get());
        if (!name || !wire) {
            diagnostics.error({path, start, 0}, "cannot convert record to wire format");
            continue;
        }
        if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
            diagnostics.error({path, start, 0}, "only class IN records are supported");
            continue;
        }
        out.records.push_back({*name, uint16_t(ldns_rr_get_type(rr.get())), ldns_rr_ttl(rr.get()), std::move(*wire), start});
    }
    ldns_rdf_deep_free(cur_origin);
    ldns_rdf_deep_free(prev);
    return true;
}

}  // namespace signpost::zones::detail

namespace signpost::zones {
std::optional<uint16_t> type_from_mnemonic(std::string_view mnemonic) { return detail::type_from_name(mnemonic); }
}  // namespace signpost::zones
