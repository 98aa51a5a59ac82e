// Test helpers: our records as ldns records, so ldns (independent of the OpenSSL code
// under test) can verify signatures, digests and hashes.
#pragma once

#include <string>

#include "core/ldns_wrap.hpp"
#include "core/name.hpp"

namespace signpost::dnssec::test {

// One resource record from its parts (class IN), parsed by ldns from wire form.
inline core::LdnsRr as_ldns(const core::Name& owner, uint16_t type, uint32_t ttl, const std::string& rdata) {
    std::string w(owner.wire());
    auto put16 = [&](uint16_t v) { w.push_back(char(v >> 8)); w.push_back(char(v & 0xff)); };
    put16(type);
    put16(1);
    for (int s = 24; s >= 0; s -= 8) w.push_back(char((ttl >> s) & 0xff));
    put16(uint16_t(rdata.size()));
    w += rdata;
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    if (ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(w.data()), w.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
        return nullptr;
    return core::LdnsRr(rr);
}

inline std::string rr_text(const ldns_rr* rr) {
    char* s = ldns_rr2str(rr);
    std::string out = s ? s : "";
    free(s);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

inline std::string rdf_bytes(const ldns_rdf* rdf) {
    return std::string(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
}

inline core::Name name(const char* text) { return *core::Name::from_text(text, core::Name()); }

}  // namespace signpost::dnssec::test
