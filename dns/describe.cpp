#include "dns/describe.hpp"

#include "core/ldns_wrap.hpp"
#include "core/wire.hpp"
#include "zones/model.hpp"

namespace signpost::dns {

namespace {

using core::put16;

std::vector<std::string> section(ldns_rr_list* list) {
    std::vector<std::string> out;
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
        char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
        if (!s) continue;
        std::string line(s);
        free(s);
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
        for (auto& c : line)
            if (c == '\t') c = ' ';
        out.push_back(line);
    }
    return out;
}
}  // namespace

std::vector<uint8_t> make_query(const core::Name& qname, uint16_t qtype,
                                const std::optional<core::IpPrefix>& client_subnet, bool dnssec) {
    std::vector<uint8_t> q;
    put16(q, 0x5350);  // id
    put16(q, 0);       // flags: QUERY, RD clear
    put16(q, 1);       // QDCOUNT
    put16(q, 0);
    put16(q, 0);
    put16(q, 1);       // ARCOUNT: OPT
    q.insert(q.end(), qname.wire().begin(), qname.wire().end());
    put16(q, qtype);
    put16(q, 1);  // IN
    std::vector<uint8_t> opts;
    if (client_subnet) {
        auto& p = *client_subnet;
        std::size_t bytes = (p.length + 7) / 8;
        put16(opts, 8);  // EDNS Client Subnet
        put16(opts, uint16_t(4 + bytes));
        put16(opts, p.address.v6 ? 2 : 1);
        opts.push_back(p.length);
        opts.push_back(0);
        opts.insert(opts.end(), p.address.bytes.begin(), p.address.bytes.begin() + bytes);
    }
    q.push_back(0);  // root owner
    put16(q, 41);
    put16(q, 1232);
    put16(q, 0);                        // ext rcode, version
    put16(q, dnssec ? 0x8000 : 0);      // flags: DO
    put16(q, uint16_t(opts.size()));
    q.insert(q.end(), opts.begin(), opts.end());
    return q;
}

std::optional<DescribedResponse> describe_response(const std::vector<uint8_t>& wire) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK || !raw) return std::nullopt;
    core::LdnsPkt pkt(raw);
    DescribedResponse r;
    ldns_lookup_table* lt = ldns_lookup_by_id(ldns_rcodes, int(ldns_pkt_get_rcode(pkt.get())));
    r.rcode = lt ? lt->name : std::to_string(int(ldns_pkt_get_rcode(pkt.get())));
    r.authoritative = ldns_pkt_aa(pkt.get());
    r.truncated = ldns_pkt_tc(pkt.get());
    r.answer = section(ldns_pkt_answer(pkt.get()));
    r.authority = section(ldns_pkt_authority(pkt.get()));
    r.additional = section(ldns_pkt_additional(pkt.get()));
    return r;
}

std::optional<uint16_t> rr_type_from_text(const std::string& text) {
    return zones::type_from_mnemonic(text);  // one parser of type mnemonics and TYPEnnn
}

}  // namespace signpost::dns
