// Test helpers for dns/ (see support.hpp) and a check of the helpers themselves.
#include "support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <stdexcept>

#include "core/ldns_wrap.hpp"

namespace dnstest {

core::Name name(const std::string& text) {
    auto n = core::Name::from_text(text, core::Name());
    if (!n) throw std::runtime_error("bad name in test: " + text);
    return *n;
}
std::string wire_name(const std::string& text) { return std::string(name(text).wire()); }
std::string a_rdata(const std::string& v4) {
    auto a = core::IpAddress::parse(v4);
    return std::string(reinterpret_cast<const char*>(a->bytes.data()), 4);
}
std::string aaaa_rdata(const std::string& v6) {
    auto a = core::IpAddress::parse(v6);
    return std::string(reinterpret_cast<const char*>(a->bytes.data()), 16);
}
static std::string u16s(uint16_t v) { return std::string{char(v >> 8), char(v & 0xff)}; }

ZoneSpec::ZoneSpec(const std::string& origin, uint32_t soa_ttl, uint32_t soa_minimum) {
    zone.origin = name(origin);
    zone.soa.mname = name("ns1." + origin);
    zone.soa.rname = name("hostmaster." + origin);
    zone.soa.serial = 2024010101;
    zone.soa.ttl = soa_ttl;
    zone.soa.minimum = soa_minimum;
    zone.nodes[zone.origin];  // the apex exists even without records
}
ZoneSpec& ZoneSpec::rr(const std::string& owner, uint16_t type, uint32_t ttl, std::string rdata) {
    auto n = *core::Name::from_text(owner, zone.origin);
    auto& node = zone.nodes[n];
    for (auto& s : node.rrsets) {
        if (s.type == type) {
            s.rdatas.push_back(std::move(rdata));
            return *this;
        }
    }
    zones::RRset s;
    s.type = type;
    s.ttl = ttl;
    s.rdatas.push_back(std::move(rdata));
    node.rrsets.push_back(std::move(s));
    return *this;
}
ZoneSpec& ZoneSpec::a(const std::string& o, const std::string& v4, uint32_t ttl) { return rr(o, 1, ttl, a_rdata(v4)); }
ZoneSpec& ZoneSpec::aaaa(const std::string& o, const std::string& v6, uint32_t ttl) {
    return rr(o, 28, ttl, aaaa_rdata(v6));
}
ZoneSpec& ZoneSpec::ns(const std::string& o, const std::string& t, uint32_t ttl) { return rr(o, 2, ttl, wire_name(t)); }
ZoneSpec& ZoneSpec::cname(const std::string& o, const std::string& t, uint32_t ttl) {
    return rr(o, 5, ttl, wire_name(t));
}
ZoneSpec& ZoneSpec::mx(const std::string& o, uint16_t pref, const std::string& t, uint32_t ttl) {
    return rr(o, 15, ttl, u16s(pref) + wire_name(t));
}
ZoneSpec& ZoneSpec::srv(const std::string& o, uint16_t prio, uint16_t weight, uint16_t port, const std::string& t,
                        uint32_t ttl) {
    return rr(o, 33, ttl, u16s(prio) + u16s(weight) + u16s(port) + wire_name(t));
}
ZoneSpec& ZoneSpec::txt(const std::string& o, const std::string& text, uint32_t ttl) {
    return rr(o, 16, ttl, std::string(1, char(text.size())) + text);
}
ZoneSpec& ZoneSpec::service(const std::string& svc_name, std::vector<std::string> owners, zones::PolicyKind policy) {
    zones::Service s;
    s.name = svc_name;
    s.policy = policy;
    for (auto& o : owners) s.owners.push_back(*core::Name::from_text(o, zone.origin));
    zone.services.push_back(std::move(s));
    return *this;
}

std::shared_ptr<const zones::Catalog> make_catalog(std::vector<ZoneSpec> specs) {
    auto cat = std::make_shared<zones::Catalog>();
    for (auto& s : specs) cat->zones.push_back(std::move(s.zone));
    for (std::size_t z = 0; z < cat->zones.size(); ++z) {
        for (std::size_t i = 0; i < cat->zones[z].services.size(); ++i) {
            auto& svc = cat->zones[z].services[i];
            svc.index = cat->services.size();
            cat->services.push_back({cat->zones[z].origin.to_text() + "/" + svc.name, z, i});
        }
    }
    return cat;
}

policy::Variant variant(std::vector<std::string> addrs, uint32_t weight) {
    policy::Variant v;
    v.weight = weight;
    for (auto& a : addrs) {
        auto ip = *core::IpAddress::parse(a);
        (ip.v6 ? v.v6 : v.v4).push_back(ip);
    }
    return v;
}
policy::Evaluation evaluation(std::vector<policy::Variant> variants, const std::string& label,
                              const std::string& reason, uint32_t ttl) {
    policy::Evaluation e;
    e.decision.variants = std::move(variants);
    e.decision.label = label;
    e.decision.reason = reason;
    e.decision.ttl = ttl;
    e.state.label = label;
    return e;
}

std::vector<uint8_t> make_query(const std::string& qname, uint16_t qtype, const QueryOptions& o) {
    std::string q;
    q += u16s(o.id);
    q.push_back(char((o.opcode << 3) | (o.rd ? 1 : 0)));
    q.push_back(char(o.cd ? 0x10 : 0));
    q += u16s(1) + u16s(0) + u16s(0) + u16s(o.edns ? 1 : 0);
    // Keep the case of qname as written.
    std::string wire;
    if (qname != ".") {
        std::size_t start = 0;
        std::string text = qname;
        if (!text.empty() && text.back() == '.') text.pop_back();
        while (start <= text.size()) {
            auto dot = text.find('.', start);
            if (dot == std::string::npos) dot = text.size();
            wire.push_back(char(dot - start));
            wire += text.substr(start, dot - start);
            start = dot + 1;
        }
    }
    wire.push_back('\0');
    q += wire + u16s(qtype) + u16s(o.qclass);
    if (o.edns) {
        q.push_back('\0');
        q += u16s(41) + u16s(o.udp_size);
        q.push_back(0);  // extended rcode
        q.push_back(char(o.version));
        q += u16s(o.do_bit ? 0x8000 : 0);
        q += u16s(uint16_t(o.options.size())) + o.options;
    }
    return std::vector<uint8_t>(q.begin(), q.end());
}

std::string ecs_option(uint16_t family, uint8_t source, uint8_t scope, std::string address_bytes) {
    std::string data = u16s(family) + std::string{char(source), char(scope)} + address_bytes;
    return u16s(8) + u16s(uint16_t(data.size())) + data;
}

static std::vector<std::string> section(ldns_rr_list* list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
        char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
        std::string t = s ? s : "";
        free(s);
        for (auto& c : t)
            if (c == '\t') c = ' ';
        while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
        out.push_back(t);
    }
    return out;
}

Reply parse_reply(const std::vector<uint8_t>& wire) {
    Reply r;
    r.size = wire.size();
    r.wire = wire;
    if (wire.size() < 12) return r;
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) return r;
    core::LdnsPkt pkt(raw);
    r.ok = true;
    r.id = ldns_pkt_id(raw);
    r.qr = ldns_pkt_qr(raw);
    r.aa = ldns_pkt_aa(raw);
    r.tc = ldns_pkt_tc(raw);
    r.rd = ldns_pkt_rd(raw);
    r.ra = ldns_pkt_ra(raw);
    r.cd = ldns_pkt_cd(raw);
    r.ad = ldns_pkt_ad(raw);
    r.opcode = ldns_pkt_get_opcode(raw);
    r.rcode = ldns_pkt_get_rcode(raw);
    r.question = section(ldns_pkt_question(raw));
    r.answer = section(ldns_pkt_answer(raw));
    r.authority = section(ldns_pkt_authority(raw));
    r.additional = section(ldns_pkt_additional(raw));
    r.has_opt = ldns_pkt_edns(raw) || ldns_pkt_edns_udp_size(raw) > 0;
    if (r.has_opt) {
        r.rcode |= int(ldns_pkt_edns_extended_rcode(raw)) << 4;
        r.opt_udp_size = ldns_pkt_edns_udp_size(raw);
        r.opt_do = ldns_pkt_edns_do(raw);
        r.opt_version = ldns_pkt_edns_version(raw);
        if (ldns_rdf* data = ldns_pkt_edns_data(raw)) {
            const uint8_t* d = ldns_rdf_data(data);
            std::size_t n = ldns_rdf_size(data), off = 0;
            while (off + 4 <= n) {
                uint16_t code = uint16_t(d[off] << 8 | d[off + 1]), len = uint16_t(d[off + 2] << 8 | d[off + 3]);
                if (code == 8 && off + 4 + len <= n) r.ecs.assign(reinterpret_cast<const char*>(d + off + 4), len);
                if (code == 3 && off + 4 + len <= n) {
                    r.has_nsid = true;
                    r.nsid.assign(reinterpret_cast<const char*>(d + off + 4), len);
                }
                ++r.opt_options;
                off += 4 + len;
            }
        }
    }
    return r;
}

Reply ask(const dns::View& view, const std::vector<uint8_t>& query, bool tcp, const std::string& client,
          const dns::ServerIdentity* identity, std::size_t out_size) {
    std::vector<uint8_t> out(out_size);
    dns::ClientInfo ci;
    ci.address = *core::IpAddress::parse(client);
    ci.tcp = tcp;
    ci.identity = identity;
    std::size_t n = dns::answer_query(view, query, ci, out);
    out.resize(n);
    return parse_reply(out);
}

}  // namespace dnstest

TEST_CASE("support: hand-built queries parse with ldns") {
    auto q = dnstest::make_query("WwW.Example.COM", 1, {.edns = true});
    auto r = dnstest::parse_reply(q);
    REQUIRE(r.ok);
    CHECK(r.question == std::vector<std::string>{"WwW.Example.COM. IN A"});
    CHECK(r.has_opt);
    CHECK(r.opt_udp_size == 1232);
}

