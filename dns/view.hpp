// The View: an immutable snapshot of everything the DNS path answers from —
// static zone data plus every service's current decision — and the function
// that answers one query from it. Built on the control loop, read by workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "dns/signing.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::geo {
class Databases;  // geo/database.hpp
}

namespace signpost::dns {

class View;

struct ViewOptions {
    // The EDNS UDP payload size we advertise in OPT and honour (RFC 6891); never
    // taken below 512. ClientInfo::udp_payload_size overrides it per query when set.
    uint16_t udp_payload_size = 1232;
    // A stable id per catalog zone (index = position in Catalog::zones) that
    // survives reloads, so per-zone query counters keep counting; empty: the index.
    std::vector<uint32_t> zone_ids;
    // Pre-render answers for the common shapes when the View is built (the fast
    // path); false: every query goes through the general renderer (tests compare both).
    bool prerender = true;
    // The GeoIP databases geo services locate clients with (server config
    // geoip_databases); null: every geo client gets its service's default answer.
    std::shared_ptr<const geo::Databases> geo;
    // The View this one replaces: geo services keep its answer counters (by service
    // key, while their rules keep their shape), signed zones its signing (whole while
    // nothing it was made from changed, else each unchanged signature, found by name).
    // Used by build_view only, not kept.
    std::shared_ptr<const View> previous;
    // Signed zones (zones::Zone::dnssec.sign): their keys by origin. A signed zone
    // without keys here is served unsigned, so the caller must refuse that before
    // (the daemon does). Null: nothing is signed.
    std::shared_ptr<const SigningKeys> signing;
    // Signatures kept across Views for what changes with health (a health change signs
    // nothing it signed before); the caller keeps it and builds one View at a time with
    // it. A zone's static RRsets, NSEC chain and presigned sets are not kept here but
    // come from `previous`: a View built without it signs them anew. Null: a private one.
    std::shared_ptr<SignatureCache> signatures;
    // Unix seconds signatures are made at (their inception is an hour before); 0: now.
    int64_t now_unix = 0;
    // How many state TXT records whose text differs from `previous`'s this View signs
    // (or finds in the SignatureCache) while it is built. Over it (a flip of thousands
    // of services), such a TXT keeps its previous text, which is still signed, and
    // sign_pending() signs the new text for the next View: the addresses flip at once
    // and the TXT follows. Unchanged text reuses `previous`'s signatures for free.
    std::size_t state_signature_budget = SIZE_MAX;
    // With `previous` (same catalog): a node whose answers cannot have changed (its
    // RRsets, its service's records and signatures, are the same) gets copies of
    // `previous`'s pre-rendered answers; at most this many other nodes are rendered anew.
    // The rest are answered by the general renderer (the same bytes, slower) until a View
    // built later renders them: deferred_renders() says how many wait. Without
    // `previous` every node is rendered.
    std::size_t prerender_budget = SIZE_MAX;
};

// Builds a new View for `catalog` where service i answers from `services[i]`
// (indexed by zones::Service::index). Runs on the control loop, may allocate.
// A service whose evaluation is missing (span too short) answers NODATA.
std::shared_ptr<const View> build_view(std::shared_ptr<const zones::Catalog> catalog,
                                       std::span<const policy::Evaluation> services,
                                       uint64_t generation, ViewOptions options = {});

// Who this server says it is (RFC 4892 CHAOS TXT, RFC 5001 NSID), built once when a
// server starts so that answering copies bytes: no allocation, no formatting.
class ServerIdentity {
public:
    // Nothing: id.server, hostname.bind, version.bind, version.server are REFUSED, no NSID.
    ServerIdentity() = default;
    // `identity` answers CH TXT id.server and hostname.bind and is the NSID; `version`
    // answers CH TXT version.bind and version.server. Empty: that pair is REFUSED (and
    // an empty identity sends no NSID). Throws std::invalid_argument over 255 bytes.
    ServerIdentity(std::string_view identity, std::string_view version);

    std::string_view identity() const noexcept { return identity_; }
    std::string_view version() const noexcept { return version_; }
    // The whole answer record behind a question at offset 12: owner a pointer to the
    // question's name, TXT, CH, TTL 0, the one string. Empty when not answered.
    std::span<const uint8_t> identity_record() const noexcept { return identity_rr_; }
    std::span<const uint8_t> version_record() const noexcept { return version_rr_; }

private:
    std::string identity_, version_;
    std::vector<uint8_t> identity_rr_, version_rr_;
};

struct ClientInfo {
    core::IpAddress address;  // the resolver (or stub) that sent the query
    bool tcp = false;
    uint16_t udp_payload_size = 0;  // 0: the View's ViewOptions::udp_payload_size
    // CHAOS TXT answers and NSID; null: CH is REFUSED and no NSID is sent. Outlives the query.
    const ServerIdentity* identity = nullptr;
};

// Answers one query. Writes the response to `out` and returns its length, or 0
// when nothing must be sent (QR=1, no header to echo). `out` must hold 65535
// bytes for TCP; for UDP the answer is truncated to the client's limit.
// Runs once per query on a DNS worker: no locks, no syscalls.
// How response rate limiting classes an answer (dns/rrl.hpp, docs/hardening.md), as
// BIND's and Knot's RRL do: by rcode class, then by the name in AnswerMeta::class_name.
enum class ResponseClass : uint8_t {
    error,     // an error rcode (REFUSED, FORMERR, ...) or an answer outside any zone: by zone origin, or none
    answer,    // NOERROR with records in the answer section: by qname (or wildcard owner) and qtype
    nodata,    // NOERROR, nothing in the answer section: by qname (or wildcard owner)
    nxdomain,  // by zone origin, so random names in one zone share one class
    referral,  // by the zone cut's name
};
const char* to_string(ResponseClass c) noexcept;

// What a worker counts about an answer (metrics, RRL).
struct AnswerMeta {
    uint16_t qtype = 0;
    int32_t zone_id = -1;  // ViewOptions::zone_ids of the zone that answered; -1: none
    ResponseClass response = ResponseClass::error;
    // The wire name that keys the response class: the qname as the query spelled it
    // (a pointer into the query), a wildcard owner, a zone cut or a zone origin (into
    // the View). Compare it case-insensitively. Valid while the query and the View
    // live; null: no name (an answer outside any zone).
    const uint8_t* class_name = nullptr;
    uint8_t class_name_len = 0;
};

std::size_t answer_query(const View& view, std::span<const uint8_t> query, const ClientInfo& client,
                         std::span<uint8_t> out, AnswerMeta* meta = nullptr) noexcept;

// Seeds the calling thread's generator for the per-query variant pick (weighted
// and multivalue answers), so that a test's run of answers is reproducible.
// Workers need not call it: an unseeded thread seeds itself.
void seed_variant_random(uint64_t seed) noexcept;

uint64_t view_generation(const View& view) noexcept;

// The evaluations the View answers from (indexed by zones::Service::index), kept alive
// by the View: explain reads them without a copy of its own.
std::shared_ptr<const std::vector<policy::Evaluation>> view_evaluations(std::shared_ptr<const View> view);

// Owner names whose answers this View left to the general renderer (over
// ViewOptions::prerender_budget): a View built after it with a larger budget renders them.
std::size_t deferred_renders(const View& view) noexcept;

// How a View's pre-rendered answers were made: nodes rendered, nodes copied from the
// View before (ViewOptions::previous), nodes deferred (benchmarks, tests).
struct PrerenderCounts {
    std::size_t rendered = 0, copied = 0, deferred = 0;
};
PrerenderCounts prerender_counts(const View& view) noexcept;

// DNSSEC: the state TXT records this View serves with their previous text because
// their new text was over ViewOptions::state_signature_budget.
std::size_t pending_signatures(const View& view) noexcept;
// Signs pending state TXT records [from, from + budget) into `cache` (the one the View
// was built with); returns where to go on, pending_signatures() when done. A View built
// after that finds their signatures. Control loop only; may sign (OpenSSL).
std::size_t sign_pending(const View& view, SignatureCache& cache, std::size_t from, std::size_t budget);

// DNSSEC: the RRSIG `signer` made over (owner, type, original TTL `ttl`, rdatas) that the
// View serves in a signed zone's static RRsets, presigned address sets or NSEC/NSEC3
// chain, and that is more than `refresh` seconds from expiring at `now`; empty: none. A
// transfer of the zone (xfr::sign_content) takes it instead of signing again. Control
// loop only; no signing.
core::SharedBytes served_signature(const View& view, const dnssec::Signer& signer, const core::Name& owner,
                                   uint16_t type, uint32_t ttl, const zones::RdataList& rdatas, int64_t now,
                                   int64_t refresh);

// The RRSIG a transfer of a signed zone carries (xfr::RrsigFn): the one `view` serves
// (served_signature; null: none), else `cache`'s, which keeps it for the next transfer.
std::string transfer_signature(const View* view, SignatureCache& cache, const zones::DnssecSettings& settings,
                               const dnssec::Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                               const zones::RdataList& rdatas, int64_t now);

// Answers per geo rule (metrics): `rule` is "1".."N" (zones::Service::geo_rules
// order), "nearest:<pool>" or "default"; counted since the service's counters
// began (carried across Views through ViewOptions::previous). Any thread.
struct GeoAnswerCount {
    std::string service;  // "example.com/site"
    std::string rule;
    uint64_t answers = 0;
};
std::vector<GeoAnswerCount> geo_answer_counts(const View& view);

}  // namespace signpost::dns
