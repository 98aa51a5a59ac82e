// NSEC and NSEC3 chains and their proofs. Built with the View; never per query.
#include "dnssec/denial.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "core/wire.hpp"
#include "dnssec/encoding.hpp"
#include "dnssec/sign.hpp"
#include "zones/model.hpp"

namespace signpost::dnssec {

namespace {

using core::put16;

constexpr uint16_t kNsec3Param = 51;


void add_once(Proof& p, std::size_t i) {
    if (std::find(p.begin(), p.end(), i) == p.end()) p.push_back(i);
}

// The owners inside the zone, one entry per name (types merged), in canonical order.
std::vector<OwnerTypes> merged(const core::Name& apex, std::vector<OwnerTypes> owners) {
    std::map<core::Name, OwnerTypes, CanonicalLess> by;
    for (auto& o : owners) {
        if (!o.name.is_subdomain_of(apex)) continue;
        auto [it, fresh] = by.try_emplace(o.name, OwnerTypes{o.name, {}, false});
        it->second.types.insert(it->second.types.end(), o.types.begin(), o.types.end());
        it->second.delegation |= o.delegation && o.name != apex;
    }
    by.try_emplace(apex, OwnerTypes{apex, {}, false});
    std::vector<OwnerTypes> out;
    out.reserve(by.size());
    for (auto& [n, o] : by) out.push_back(std::move(o));
    return out;
}

bool has_type(const std::vector<uint16_t>& types, uint16_t t) {
    return std::find(types.begin(), types.end(), t) != types.end();
}

// An NSEC3's bit map (RFC 5155 3.2.1): the owner's types, RRSIG when it has signed data
// (not at an unsigned delegation), NSEC3PARAM at the apex; empty for an empty non-terminal.
std::string nsec3_bitmap(std::vector<uint16_t> types, bool delegation, bool apex) {
    bool signed_data = !types.empty() && (!delegation || has_type(types, zones::rrtype::DS));
    if (signed_data) types.push_back(zones::rrtype::RRSIG);
    if (apex) types.push_back(kNsec3Param);
    return type_bitmap(types);
}

}  // namespace

std::string type_bitmap(std::span<const uint16_t> in) {
    std::vector<uint16_t> types(in.begin(), in.end());
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    std::string out;
    for (std::size_t i = 0; i < types.size();) {
        uint8_t window = uint8_t(types[i] >> 8);
        unsigned char bits[32] = {};
        int len = 0;
        for (; i < types.size() && (types[i] >> 8) == window; ++i) {
            uint8_t low = uint8_t(types[i] & 0xff);
            bits[low / 8] |= uint8_t(0x80 >> (low % 8));
            len = low / 8 + 1;
        }
        out.push_back(char(window));
        out.push_back(char(len));
        out.append(reinterpret_cast<char*>(bits), std::size_t(len));
    }
    return out;
}

std::optional<std::vector<uint16_t>> bitmap_types(std::string_view b) {
    std::vector<uint16_t> out;
    int last_window = -1;
    for (std::size_t i = 0; i < b.size();) {
        if (i + 2 > b.size()) return std::nullopt;
        int window = uint8_t(b[i]), len = uint8_t(b[i + 1]);
        if (window <= last_window || len == 0 || len > 32 || i + 2 + std::size_t(len) > b.size()) return std::nullopt;
        for (int k = 0; k < len; ++k)
            for (int bit = 0; bit < 8; ++bit)
                if (uint8_t(b[i + 2 + std::size_t(k)]) & (0x80 >> bit)) out.push_back(uint16_t(window << 8 | (k * 8 + bit)));
        last_window = window;
        i += 2 + std::size_t(len);
    }
    return out;
}

uint32_t negative_ttl(uint32_t soa_minimum, uint32_t soa_ttl) noexcept { return std::min(soa_minimum, soa_ttl); }

// --- NSEC ---------------------------------------------------------------------------

NsecChain::NsecChain(const core::Name& apex, std::vector<OwnerTypes> owners) : apex_(apex) {
    auto all = merged(apex, std::move(owners));
    names_.reserve(all.size());
    for (auto& o : all) names_.push_back(o.name);
    records_.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto types = all[i].types;
        types.push_back(zones::rrtype::NSEC);
        types.push_back(zones::rrtype::RRSIG);
        std::string rdata(names_[(i + 1) % names_.size()].wire());
        rdata += type_bitmap(types);
        records_.push_back({names_[i], std::move(rdata)});
    }
}

std::optional<std::size_t> NsecChain::match(const core::Name& n) const {
    auto it = std::lower_bound(names_.begin(), names_.end(), n, CanonicalLess{});
    if (it != names_.end() && *it == n) return std::size_t(it - names_.begin());
    return std::nullopt;
}

bool NsecChain::exists(const core::Name& n) const {
    auto it = std::lower_bound(names_.begin(), names_.end(), n, CanonicalLess{});
    // An exact match, or an empty non-terminal: the next name in canonical order lies below it.
    return it != names_.end() && it->is_subdomain_of(n);
}

std::size_t NsecChain::cover(const core::Name& n) const {
    auto it = std::upper_bound(names_.begin(), names_.end(), n, CanonicalLess{});
    if (it == names_.begin()) return names_.size() - 1;  // before the apex: the last NSEC wraps
    return std::size_t(it - names_.begin()) - 1;
}

core::Name NsecChain::closest_encloser(const core::Name& qname) const {
    core::Name c = qname;
    while (c != apex_ && !c.is_root() && !exists(c)) c = c.parent();
    return c.is_subdomain_of(apex_) ? c : apex_;
}

Proof NsecChain::nxdomain(const core::Name& qname) const {
    Proof p;
    add_once(p, cover(qname));
    core::Name wildcard = closest_encloser(qname).wildcard_child();
    if (!match(wildcard)) add_once(p, cover(wildcard));
    return p;
}

Proof NsecChain::nodata(const core::Name& qname) const {
    Proof p;
    if (auto m = match(qname)) add_once(p, *m);
    else add_once(p, cover(qname));  // an empty non-terminal
    return p;
}

Proof NsecChain::wildcard_answer(const core::Name& qname) const { return {cover(qname)}; }

Proof NsecChain::wildcard_nodata(const core::Name& qname, const core::Name& wildcard) const {
    Proof p;
    if (auto m = match(wildcard)) add_once(p, *m);
    add_once(p, cover(qname));
    return p;
}

// --- NSEC3 --------------------------------------------------------------------------

std::string nsec3_hash(const core::Name& name, std::string_view salt, uint16_t iterations) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    std::string buf(name.wire());
    buf += salt;
    for (uint32_t k = 0; k <= iterations; ++k) {
        if (EVP_Digest(buf.data(), buf.size(), md, &len, EVP_sha1(), nullptr) != 1)
            throw std::runtime_error("OpenSSL: SHA-1 failed");
        buf.assign(reinterpret_cast<char*>(md), len);
        buf.append(salt);
    }
    return std::string(reinterpret_cast<char*>(md), len);
}

std::string nsec3param_rdata(const Nsec3Params& p) {
    std::string out;
    out.push_back(1);  // SHA-1
    out.push_back(0);  // flags
    put16(out, p.iterations);
    out.push_back(char(p.salt.size()));
    out.append(p.salt);
    return out;
}

Nsec3Chain::Nsec3Chain(const core::Name& apex, std::vector<OwnerTypes> owners, Nsec3Params params)
    : apex_(apex), params_(std::move(params)) {
    auto all = merged(apex, std::move(owners));
    // Empty non-terminals: every ancestor between an owner and the apex that has no data.
    std::map<core::Name, OwnerTypes, CanonicalLess> names;
    for (auto& o : all) names.emplace(o.name, o);
    for (auto& o : all)
        for (core::Name c = o.name; c != apex_ && !c.is_root(); c = c.parent())
            names.try_emplace(c, OwnerTypes{c, {}, false});
    struct Hashed {
        std::string hash;
        std::string bitmap;
    };
    std::vector<Hashed> hashed;
    hashed.reserve(names.size());
    apex_hash_ = nsec3_hash(apex_, params_.salt, params_.iterations);
    for (auto& [n, o] : names)
        hashed.push_back({nsec3_hash(n, params_.salt, params_.iterations), nsec3_bitmap(o.types, o.delegation, n == apex_)});
    std::sort(hashed.begin(), hashed.end(), [](auto& a, auto& b) { return a.hash < b.hash; });
    // Two names with one hash (SHA-1 collision) cannot be chained (RFC 5155 7.1).
    for (std::size_t i = 1; i < hashed.size(); ++i)
        if (hashed[i].hash == hashed[i - 1].hash) throw std::runtime_error("NSEC3 hash collision in " + apex_.to_text());
    hashes_.reserve(hashed.size());
    records_.reserve(hashed.size());
    for (std::size_t i = 0; i < hashed.size(); ++i) {
        std::string rdata = nsec3param_rdata(params_);
        rdata[1] = 0;  // flags: no opt-out
        const std::string& next = hashed[(i + 1) % hashed.size()].hash;
        rdata.push_back(char(next.size()));
        rdata += next;
        rdata += hashed[i].bitmap;
        auto owner = core::Name::from_text(base32hex_encode(hashed[i].hash), apex_);
        records_.push_back({*owner, std::move(rdata)});
        hashes_.push_back(hashed[i].hash);
    }
}

std::string Nsec3Chain::rdata_with(std::size_t i, std::vector<uint16_t> types, bool delegation) const {
    // Algorithm, flags, iterations, salt length and salt, hash length and next hash.
    const std::size_t fixed = 5 + params_.salt.size() + 1 + hashes_[i].size();
    return records_[i].rdata.substr(0, fixed) + nsec3_bitmap(std::move(types), delegation, hashes_[i] == apex_hash_);
}

std::optional<std::size_t> Nsec3Chain::match(const core::Name& n) const {
    std::string h = nsec3_hash(n, params_.salt, params_.iterations);
    auto it = std::lower_bound(hashes_.begin(), hashes_.end(), h);
    if (it != hashes_.end() && *it == h) return std::size_t(it - hashes_.begin());
    return std::nullopt;
}

std::size_t Nsec3Chain::cover(const core::Name& n) const {
    std::string h = nsec3_hash(n, params_.salt, params_.iterations);
    auto it = std::upper_bound(hashes_.begin(), hashes_.end(), h);
    if (it == hashes_.begin()) return hashes_.size() - 1;  // below the first hash: the last wraps
    return std::size_t(it - hashes_.begin()) - 1;
}

core::Name Nsec3Chain::closest_encloser(const core::Name& qname) const {
    core::Name c = qname;
    while (c != apex_ && !c.is_root() && !match(c)) c = c.parent();
    return c.is_subdomain_of(apex_) ? c : apex_;
}

core::Name Nsec3Chain::next_closer(const core::Name& qname, const core::Name& encloser) const {
    core::Name c = qname;
    while (c.label_count() > encloser.label_count() + 1) c = c.parent();
    return c;
}

Proof Nsec3Chain::nxdomain(const core::Name& qname) const {
    Proof p;
    core::Name ce = closest_encloser(qname);
    if (auto m = match(ce)) add_once(p, *m);
    add_once(p, cover(next_closer(qname, ce)));
    add_once(p, cover(ce.wildcard_child()));
    return p;
}

Proof Nsec3Chain::nodata(const core::Name& qname) const {
    Proof p;
    if (auto m = match(qname)) add_once(p, *m);
    return p;
}

Proof Nsec3Chain::wildcard_answer(const core::Name& qname, const core::Name& wildcard) const {
    return {cover(next_closer(qname, wildcard.parent()))};
}

Proof Nsec3Chain::wildcard_nodata(const core::Name& qname, const core::Name& wildcard) const {
    Proof p;
    core::Name ce = wildcard.parent();
    if (auto m = match(ce)) add_once(p, *m);
    add_once(p, cover(next_closer(qname, ce)));
    if (auto m = match(wildcard)) add_once(p, *m);
    return p;
}

}  // namespace signpost::dnssec
