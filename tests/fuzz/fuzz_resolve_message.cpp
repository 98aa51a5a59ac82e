// Fuzz target: bytes from the network in, as a reply to the resolver's query.
// Every input goes through resolve::wire::parse (with and without a reason), the
// question check (answers_query) with the expected ID, name and type of the reply
// itself and with others, and, when it parses, the way resolve/resolver.cpp reads
// a reply (Query::on_reply, Lookup::on_result): follow() the CNAME chain for A and
// for AAAA, the negative TTL, then resolve::combine and resolve::apply on a
// Resolution. Invariants checked: a query built for the parsed name parses back,
// apply() keeps its Resolution well-formed (sorted unique addresses, the right
// state, a refresh not in the past, a flattened TTL cap of at least 1).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/resolution.hpp"
#include "resolve/message.hpp"
#include "resolve/schedule.hpp"

using namespace signpost;
using namespace signpost::resolve;

namespace {

constexpr unsigned kMaxHops = 8;  // resolver.cpp: queries for CNAME targets per family

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_resolve_message: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

Outcome failure(std::string error, const std::string& server) {
    Outcome o;
    o.kind = Outcome::Failure;
    o.error = std::move(error);
    o.server = server;
    return o;
}

// One family's outcome for `reply` (nullopt: it did not parse, the reason in
// `why`) to a query (id, name, qtype), read the way resolver.cpp reads it. A reply
// that does not answer the question is ignored over UDP (the query then times
// out) and fails the server over TCP. A CNAME to a name the reply does not
// resolve is asked again; the same reply stands for the next answer (at most
// kMaxHops times, never a name twice, as the resolver does).
Outcome lookup(const std::optional<wire::Message>& reply, const std::string& why, uint16_t id, std::string name,
               uint16_t qtype, bool tcp) {
    const std::string server = tcp ? "192.0.2.53:53" : "[2001:db8::53]:5353";
    Outcome out;
    out.server = server;
    std::vector<std::string> seen = {name};
    for (unsigned hops = 0;;) {
        if (!reply || !wire::answers_query(*reply, id, name, qtype))
            return tcp ? failure("malformed reply" + (why.empty() ? std::string() : ": " + why), server)
                       : failure("timeout after 2 s", server);
        const wire::Message& m = *reply;
        if (m.tc) return failure(tcp ? "truncated reply over TCP" : "no answer over TCP", server);
        if (!m.error.empty()) return failure(m.error, server);
        if (m.rcode != wire::kNoError && m.rcode != wire::kNxDomain) return failure(wire::rcode_name(m.rcode), server);

        wire::Chain chain = wire::follow(m, name, qtype);
        if (chain.cnames > 16 + 1) fail("follow() went past its chain limit", std::to_string(chain.cnames));
        if (!chain.error.empty()) return failure(chain.error, server);
        if (chain.cname_ttl != UINT32_MAX && chain.ttl > chain.cname_ttl) fail("chain TTL above its CNAMEs' TTL");
        for (auto& a : chain.addresses)
            if (a.v6 != (qtype == wire::kTypeAaaa)) fail("follow() returned an address of the other family");
        out.chain_ttl = std::min(out.chain_ttl, chain.cname_ttl);
        if (!chain.addresses.empty()) {
            out.kind = Outcome::Answer;
            out.addresses = std::move(chain.addresses);
            out.ttl = std::min(chain.ttl, out.chain_ttl);
            return out;
        }
        if (m.rcode == wire::kNoError && chain.end != name) {
            if (std::find(seen.begin(), seen.end(), chain.end) != seen.end())
                return failure("CNAME loop at " + chain.end, server);
            if (++hops > kMaxHops) return failure("CNAME chain needs too many queries", server);
            name = chain.end;
            seen.push_back(name);
            continue;
        }
        out.kind = m.rcode == wire::kNxDomain ? Outcome::NxDomain : Outcome::NoData;
        out.ttl = wire::negative_ttl(m);
        return out;
    }
}

bool address_less(const core::IpAddress& a, const core::IpAddress& b) {
    if (a.v6 != b.v6) return !a.v6;
    return a.bytes < b.bytes;
}

// apply() and checks on what it leaves.
void apply_checked(core::Resolution& r, const Outcome& o, core::TimePoint now, const Bounds& bounds) {
    const std::vector<core::IpAddress> before = r.addresses;
    apply(r, o, now, bounds);
    for (std::size_t i = 1; i < r.addresses.size(); ++i)
        if (!address_less(r.addresses[i - 1], r.addresses[i])) fail("Resolution addresses not sorted and unique");
    if (r.next_refresh < now) fail("next refresh in the past");
    if (r.server != o.server) fail("apply() did not record the server");
    switch (o.kind) {
        case Outcome::Answer:
            if (!o.addresses.empty()) {
                if (r.state != core::ResolveState::Ok || r.addresses.empty()) fail("an answer did not set addresses");
                for (auto& a : o.addresses)
                    if (!std::binary_search(r.addresses.begin(), r.addresses.end(), a, address_less))
                        fail("an answered address was lost");
                break;
            }
            [[fallthrough]];
        case Outcome::NxDomain:
        case Outcome::NoData:
            if (r.state != core::ResolveState::Negative || !r.addresses.empty()) fail("a negative answer kept addresses");
            break;
        case Outcome::Failure:
            if (r.state != core::ResolveState::Failing || r.addresses != before) fail("a failure changed the addresses");
            if (r.error.empty()) fail("a failure without an error");
            break;
    }
    if (flattened_ttl_cap(r) < 1) fail("flattened TTL cap below 1 s");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size > 65535) return 0;  // larger than any DNS message (UDP or TCP)
    // A copy of exactly `size` bytes so that over-reads hit the sanitizer.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
    if (size) std::memcpy(copy.get(), data, size);
    std::span<const uint8_t> bytes(copy.get(), size);
    const uint8_t knobs = size ? data[size - 1] : 0;

    std::string why;
    const std::optional<wire::Message> m = wire::parse(bytes, &why);
    const std::optional<wire::Message> quiet = wire::parse(bytes);
    if (m.has_value() != quiet.has_value()) fail("parse() differs with and without a reason");
    if (!m && why.empty()) fail("parse() failed without a reason");
    if (m && !why.empty()) fail("parse() succeeded with a reason", why);

    // The expected ID from the first bytes (the reply's own), and one that differs.
    const uint16_t id = size >= 2 ? uint16_t(data[0] << 8 | data[1]) : 0;
    if (m) {
        if (m->id != id || m->qdcount != 1) fail("header read wrong");
        if (wire::normalize_name(m->qname) != m->qname) fail("qname not normalized", m->qname);
        if (m->tc && (!m->answers.empty() || !m->authority.empty())) fail("records read from a TC reply");
        (void)wire::rcode_name(m->rcode);
        const bool ok = m->qr && m->qclass == wire::kClassIn;
        if (wire::answers_query(*m, id, m->qname, m->qtype) != ok) fail("answers_query() on its own question");
        std::string upper = m->qname;
        for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
        if (wire::answers_query(*m, id, upper + ".", m->qtype) != ok) fail("answers_query() is case or dot sensitive");
        if (wire::answers_query(*m, uint16_t(id ^ 1), m->qname, m->qtype)) fail("answers_query() with another ID");
        if (wire::answers_query(*m, id, m->qname, uint16_t(m->qtype ^ 1))) fail("answers_query() with another type");
        if (wire::answers_query(*m, id, m->qname + "x", m->qtype)) fail("answers_query() with another name");

        // A query for the name read back: it parses to the same question.
        auto q = wire::build_query(id, m->qname, m->qtype);
        if (!q.empty()) {
            std::string qwhy;
            auto back = wire::parse(q, &qwhy);
            if (!back) fail("build_query() made a query that does not parse", qwhy);
            if (back->qr || back->id != id || back->qtype != m->qtype || back->qclass != wire::kClassIn ||
                !back->error.empty())
                fail("build_query() round trip");
            if (m->qname.find('\\') == std::string::npos && back->qname != m->qname)
                fail("build_query() round trip of the name", m->qname + " / " + back->qname);
        }
        (void)wire::negative_ttl(*m);
    }

    // The resolver's reading: A and AAAA families for the reply's own question,
    // then for a fixed question (matching only when the reply is for it).
    const bool tcp = knobs & 1;
    static const Bounds bounds_table[] = {
        Bounds{},
        Bounds{core::Millis(1000), core::Millis(60000), core::Millis(500)},
        Bounds{core::Millis(0), core::Millis(0), core::Millis(1)},
        Bounds{core::Millis(30000), core::Millis(1000), core::Millis(2000)},  // max below min
    };
    const Bounds& bounds = bounds_table[(knobs >> 1) & 3];
    const core::TimePoint now = core::TimePoint(std::chrono::hours(24 * 365));

    const std::string own_name = m ? m->qname : std::string("eu.lb.test");
    for (const std::string& name : {own_name, std::string("eu.lb.test")}) {
        Outcome a = lookup(m, why, id, name, wire::kTypeA, tcp);
        Outcome aaaa = lookup(m, why, id, name, wire::kTypeAaaa, tcp);
        // A reply is for one type only: the other family's reply is the same bytes
        // read for its own type (when its question matches), or a fixed result.
        Outcome* other = m && m->qtype == wire::kTypeAaaa ? &a : &aaaa;
        const uint16_t other_type = other == &a ? wire::kTypeA : wire::kTypeAaaa;
        switch ((knobs >> 3) & 3) {
            case 0: {
                auto swapped = m;
                if (swapped) swapped->qtype = other_type;
                *other = lookup(swapped, why, id, name, other_type, tcp);
                break;
            }
            case 1: other->kind = Outcome::NoData, other->ttl = 60, other->error.clear(); break;
            case 2: other->kind = Outcome::NxDomain, other->ttl = 0, other->error.clear(); break;
            case 3: break;  // as read: a failure unless the reply matched
        }
        const Outcome both = combine(a, aaaa);
        if (both.kind == Outcome::Answer && both.addresses.size() != a.addresses.size() + aaaa.addresses.size())
            fail("combine() lost addresses");

        core::Resolution r;
        r.name = name;
        if (knobs & 0x20) {  // a name that answered before
            Outcome v4, v6;
            v4.kind = Outcome::Answer;
            v4.addresses = {*core::IpAddress::parse("192.0.2.1")};
            v4.ttl = 300;
            v6.kind = Outcome::NoData;
            apply_checked(r, combine(v4, v6), now - std::chrono::seconds(100), bounds);
        }
        apply_checked(r, both, now, bounds);
        Outcome again = failure("timeout after 2 s", "127.0.0.53:53");
        again.failed_in_a_row = 1 + (knobs >> 6);
        apply_checked(r, again, now + std::chrono::seconds(1), bounds);
    }
    return 0;
}
