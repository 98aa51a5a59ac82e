// TSIG through ldns (ldns_pkt_tsig_verify_next / ldns_pkt_tsig_sign_next).
// Runs on DNS workers for transfers and on the control loop for NOTIFY.
#include "xfr/tsig.hpp"

#include <cctype>
#include <cstdlib>

#include "core/ldns_wrap.hpp"
#include "core/wire.hpp"

namespace signpost::xfr {

namespace {

using core::put16;

std::string rdf_text(const ldns_rdf* r) {
    if (!r) return {};
    char* s = ldns_rdf2str(r);
    std::string out = s ? s : "";
    std::free(s);
    for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

uint64_t time48(const ldns_rdf* r) {
    if (!r || ldns_rdf_size(r) != 6) return 0;
    const uint8_t* p = ldns_rdf_data(r);
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = v << 8 | p[i];
    return v;
}


void put_name(std::vector<uint8_t>& w, const std::string& text) {
    core::LdnsRdf d(ldns_dname_new_frm_str(text.c_str()));
    if (!d) {
        w.push_back(0);
        return;
    }
    const uint8_t* p = ldns_rdf_data(d.get());
    w.insert(w.end(), p, p + ldns_rdf_size(d.get()));
}

}  // namespace

const char* to_string(TsigStatus s) noexcept {
    switch (s) {
        case TsigStatus::Unsigned: return "unsigned";
        case TsigStatus::Ok: return "ok";
        case TsigStatus::BadKey: return "BADKEY";
        case TsigStatus::BadSig: return "BADSIG";
        case TsigStatus::BadTime: return "BADTIME";
        case TsigStatus::Malformed: return "malformed";
    }
    return "?";
}

uint16_t tsig_error_code(TsigStatus s) noexcept {
    switch (s) {
        case TsigStatus::BadSig: return 16;
        case TsigStatus::BadKey: return 17;
        case TsigStatus::BadTime: return 18;
        default: return 0;
    }
}

TsigResult tsig_verify(std::span<const uint8_t> wire, const XfrOptions& keys, uint64_t now,
                       const std::string& prior_mac, bool timers_only) {
    TsigResult r;
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) {
        r.status = TsigStatus::Malformed;
        return r;
    }
    core::LdnsPkt pkt(raw);
    ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
    if (!tsig) return r;
    if (ldns_rr_rd_count(tsig) < 7) {
        r.status = TsigStatus::Malformed;
        return r;
    }
    r.key_name = rdf_text(ldns_rr_owner(tsig));
    r.algorithm = rdf_text(ldns_rr_rdf(tsig, 0));
    r.time_signed = time48(ldns_rr_rdf(tsig, 1));
    const ldns_rdf* mac = ldns_rr_rdf(tsig, 3);
    r.mac.assign(reinterpret_cast<const char*>(ldns_rdf_data(mac)), ldns_rdf_size(mac));
    const TsigKey* key = keys.find_key(r.key_name);
    auto alg = canonical_algorithm(r.algorithm);
    if (!key || !alg || *alg != key->algorithm) {
        r.status = TsigStatus::BadKey;
        return r;
    }
    core::LdnsRdf prior;
    if (!prior_mac.empty())
        prior.reset(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, prior_mac.size(), prior_mac.data()));
    if (!ldns_pkt_tsig_verify_next(pkt.get(), wire.data(), wire.size(), key->name.c_str(), key->secret.c_str(),
                                   prior.get(), timers_only ? 1 : 0)) {
        r.status = TsigStatus::BadSig;
        return r;
    }
    uint16_t fudge = uint16_t(ldns_rdf2native_int16(ldns_rr_rdf(tsig, 2)));
    uint64_t diff = now > r.time_signed ? now - r.time_signed : r.time_signed - now;
    r.status = diff > fudge ? TsigStatus::BadTime : TsigStatus::Ok;
    return r;
}

std::vector<uint8_t> tsig_sign(std::span<const uint8_t> wire, const TsigKey& key, std::string& mac,
                               bool timers_only, uint16_t fudge) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) return {};
    core::LdnsPkt pkt(raw);
    core::LdnsRdf prior;
    if (!mac.empty()) prior.reset(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, mac.size(), mac.data()));
    if (ldns_pkt_tsig_sign_next(pkt.get(), key.name.c_str(), key.secret.c_str(), fudge, key.algorithm.c_str(),
                                prior.get(), timers_only ? 1 : 0) != LDNS_STATUS_OK)
        return {};
    uint8_t* out = nullptr;
    size_t n = 0;
    if (ldns_pkt2wire(&out, pkt.get(), &n) != LDNS_STATUS_OK) return {};
    std::vector<uint8_t> signed_wire(out, out + n);
    std::free(out);
    ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
    if (tsig && ldns_rr_rd_count(tsig) >= 4) {
        const ldns_rdf* m = ldns_rr_rdf(tsig, 3);
        mac.assign(reinterpret_cast<const char*>(ldns_rdf_data(m)), ldns_rdf_size(m));
    }
    return signed_wire;
}

void append_tsig_error(std::vector<uint8_t>& w, const std::string& key_name, const std::string& algorithm,
                       uint16_t original_id, uint16_t error, uint64_t now) {
    if (w.size() < 12) return;
    put_name(w, key_name.empty() ? std::string(".") : key_name);
    put16(w, 250);  // TSIG
    put16(w, 255);  // class ANY
    for (int i = 0; i < 4; ++i) w.push_back(0);  // TTL 0
    std::vector<uint8_t> rd;
    put_name(rd, algorithm.empty() ? std::string("hmac-sha256.") : algorithm);
    for (int sh = 40; sh >= 0; sh -= 8) rd.push_back(uint8_t(now >> sh));
    put16(rd, 300);  // fudge
    put16(rd, 0);    // MAC size: none (RFC 8945 §5.2)
    put16(rd, original_id);
    put16(rd, error);
    put16(rd, 0);  // other len
    put16(w, uint16_t(rd.size()));
    w.insert(w.end(), rd.begin(), rd.end());
    uint16_t ar = uint16_t(w[10] << 8 | w[11]) + 1;
    w[10] = uint8_t(ar >> 8);
    w[11] = uint8_t(ar);
}

}  // namespace signpost::xfr
