// Test helpers for dns/: zones built by hand, queries as bytes, replies parsed
// with ldns into plain strings. No ldns in this header (support_test.cpp has it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/name.hpp"
#include "dns/view.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace dnstest {

using namespace signpost;

core::Name name(const std::string& text);
std::string wire_name(const std::string& text);  // rdata bytes for a name
std::string a_rdata(const std::string& v4);
std::string aaaa_rdata(const std::string& v6);

// A zone written by hand; rdata as wire bytes.
struct ZoneSpec {
    zones::Zone zone;
    explicit ZoneSpec(const std::string& origin, uint32_t soa_ttl = 3600, uint32_t soa_minimum = 300);
    ZoneSpec& rr(const std::string& owner, uint16_t type, uint32_t ttl, std::string rdata);
    ZoneSpec& a(const std::string& owner, const std::string& v4, uint32_t ttl = 300);
    ZoneSpec& aaaa(const std::string& owner, const std::string& v6, uint32_t ttl = 300);
    ZoneSpec& ns(const std::string& owner, const std::string& target, uint32_t ttl = 3600);
    ZoneSpec& cname(const std::string& owner, const std::string& target, uint32_t ttl = 300);
    ZoneSpec& mx(const std::string& owner, uint16_t pref, const std::string& target, uint32_t ttl = 300);
    ZoneSpec& srv(const std::string& owner, uint16_t prio, uint16_t weight, uint16_t port, const std::string& target,
                  uint32_t ttl = 300);
    ZoneSpec& txt(const std::string& owner, const std::string& text, uint32_t ttl = 300);
    // A service answering at `owners` ("www", "@", "*"); its index is assigned by make_catalog.
    ZoneSpec& service(const std::string& svc_name, std::vector<std::string> owners,
                      zones::PolicyKind policy = zones::PolicyKind::Failover);
};

std::shared_ptr<const zones::Catalog> make_catalog(std::vector<ZoneSpec> zones);

policy::Variant variant(std::vector<std::string> addrs, uint32_t weight = 1);
policy::Evaluation evaluation(std::vector<policy::Variant> variants, const std::string& label = "primary",
                              const std::string& reason = "all endpoints up", uint32_t ttl = 30);

struct QueryOptions {
    uint16_t id = 0x1234;
    bool rd = true;
    bool cd = false;
    uint8_t opcode = 0;
    uint16_t qclass = 1;
    bool edns = false;
    uint16_t udp_size = 1232;
    uint8_t version = 0;
    bool do_bit = false;
    std::string options = {};  // raw EDNS options (code, length, data)
};
std::vector<uint8_t> make_query(const std::string& qname, uint16_t qtype, const QueryOptions& o = {});
std::string ecs_option(uint16_t family, uint8_t source, uint8_t scope, std::string address_bytes);

struct Reply {
    bool ok = false;  // parsed by ldns
    std::size_t size = 0;
    std::vector<uint8_t> wire;
    uint16_t id = 0;
    int rcode = 0;  // extended rcode included
    bool qr = false, aa = false, tc = false, rd = false, ra = false, cd = false, ad = false;
    int opcode = 0;
    std::vector<std::string> question, answer, authority, additional;  // "owner ttl IN TYPE rdata"
    bool has_opt = false;
    uint16_t opt_udp_size = 0;
    bool opt_do = false;
    int opt_version = -1;
    std::string ecs;  // raw ECS option data in the reply ("" when absent)
    bool has_nsid = false;
    std::string nsid;  // the NSID option's payload (RFC 5001)
    int opt_options = 0;  // options in the reply's OPT
};
Reply parse_reply(const std::vector<uint8_t>& wire);

// Runs answer_query with a 65535-byte buffer.
Reply ask(const dns::View& view, const std::vector<uint8_t>& query, bool tcp = false,
          const std::string& client = "192.0.2.53", const dns::ServerIdentity* identity = nullptr,
          std::size_t out_size = 65535);

}  // namespace dnstest
