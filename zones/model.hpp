// The zone model: what the TOML files describe, validated and immutable once loaded.
// Plain data; no toml++, no ldns, no sockets in this header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>  // not used here; files that include this header rely on it
#include <utility>
#include <vector>

#include "core/address.hpp"
#include "core/check_spec.hpp"
#include "core/diagnostics.hpp"
#include "core/duration.hpp"
#include "core/health.hpp"
#include "core/name.hpp"
#include "zones/rdata_list.hpp"

namespace signpost::zones {

// RR type numbers we refer to by name in code.
namespace rrtype {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28,
                          SRV = 33, DNAME = 39, OPT = 41, DS = 43, RRSIG = 46, NSEC = 47, DNSKEY = 48,
                          NSEC3 = 50, NSEC3PARAM = 51, CDS = 59, CDNSKEY = 60, CAA = 257, IXFR = 251, AXFR = 252,
                          ANY = 255;
}

// Where a record was defined, for diagnostics. Every record of one file shares
// one copy of the file's path (100,000 records must not hold 100,000 paths): the
// process keeps each path it has seen once, for good (intern_file_name).
struct RecordSource {
    const std::string* file_name = nullptr;  // from intern_file_name; null: unknown
    uint32_t line = 0;  // 1-based; 0 = unknown
    uint32_t column = 0;

    const std::string& file() const noexcept;
    core::SourceLocation location() const;
};
// The process's one copy of `path`, for RecordSource::file_name. Kept until the process
// ends (paths are few: the zone files a process has loaded). Any thread.
const std::string* intern_file_name(std::string_view path);

// All records of one owner and type. Rdata is uncompressed wire format, exactly
// as it goes on the wire except that names may be compressed when rendering
// the well-known types (NS, CNAME, SOA, PTR, MX).
struct RRset {
    uint16_t type = 0;
    uint32_t ttl = 0;
    RdataList rdatas;  // one entry per record, no duplicates
    RecordSource where;
};
// 56 bytes: one 64-byte malloc block in a Node's vector (a 4-byte rdata in place).
static_assert(sizeof(RRset) <= 56);

// The RRsets of one owner name; the name is its key in the zone's NodeTable.
struct Node {
    std::vector<RRset> rrsets;  // at most one per type

    const RRset* find(uint16_t type) const noexcept {
        for (auto& s : rrsets)
            if (s.type == type) return &s;
        return nullptr;
    }
};

// Every owner name of a zone with its RRsets, sorted by canonical name. Copies
// of a Zone share one table (a Catalog copy, e.g. to change serials, costs no
// record data); a change to a shared table copies it first. Catalogs are
// immutable once published, so only the control loop ever changes a table, and
// only one that no other thread can reach yet.
class NodeTable {
public:
    using value_type = std::pair<core::Name, Node>;
    using const_iterator = std::vector<value_type>::const_iterator;

    const_iterator begin() const noexcept { return entries().begin(); }
    const_iterator end() const noexcept { return entries().end(); }
    std::size_t size() const noexcept { return entries().size(); }
    bool empty() const noexcept { return entries().empty(); }
    // Binary search; end() when absent.
    const_iterator find(const core::Name& name) const noexcept;

    // The node at `name`, inserted empty when absent (sorted insert: for tests and
    // small edits; a loader builds the whole table with assign()).
    Node& operator[](const core::Name& name);
    // The node at `name` for changing it, or nullptr when absent.
    Node* find_mutable(const core::Name& name);
    // Replaces the table; `entries` must be sorted by name without duplicates.
    void assign(std::vector<value_type> entries);

    // Rebuilds `tables` in heap blocks made one after another, after every block of the
    // old ones is freed and the allocator has merged its free space. A loader's records
    // are otherwise spread over pages they shared with the load's temporaries (toml++'s
    // tree, the parser's maps); those pages stay resident for good, each holding a few
    // live records (100,000 names: 36 MB in use over 80 MB of heap). The contents are
    // unchanged, only where they live. A table shared with another copy is left as it is.
    // Load time only: it copies every record twice.
    static void compact(const std::vector<NodeTable*>& tables);
    // The storage behind the table: equal for copies that share it and never changed
    // since (a change to a shared table copies it first); what a View's signing
    // compares to reuse what it signed (dns::detail::SignedZone).
    const void* identity() const noexcept { return entries_.get(); }

private:
    const std::vector<value_type>& entries() const noexcept;
    std::vector<value_type>& unshared();  // copies a shared table first
    std::shared_ptr<std::vector<value_type>> entries_;
};
struct Soa {
    core::Name mname;
    core::Name rname;
    uint32_t serial = 0;
    bool auto_serial = true;  // serial chosen by the server (never goes backwards)
    uint32_t refresh = 7200;
    uint32_t retry = 3600;
    uint32_t expire = 1209600;
    uint32_t minimum = 300;  // negative-caching TTL
    uint32_t ttl = 3600;
};

// One address (or hostname) that a pool answers with, and how it is checked.
struct Endpoint {
    std::string name;                 // unique within its pool (defaults to the address or hostname text)
    core::IpAddress address;          // what answers carry (address endpoints)
    core::IpAddress check_address;    // where probes connect (defaults to address)
    // A hostname endpoint ("eu.lb.example.net"): answered as CNAME where the owner
    // allows it, else flattened to its current addresses; each address is probed.
    // `address` and `check_address` are unused then.
    std::optional<core::Name> hostname;
    std::vector<std::string> checks;  // names of the zone's checks; all must pass
    std::string probe_host;           // Host header / SNI default: a name the pool serves
    core::EndpointIndex index = 0;    // dense index into the catalog's endpoint list
    core::SourceLocation where;
};

// A place on Earth in degrees (latitude -90..90, longitude -180..180).
struct GeoPoint {
    double latitude = 0, longitude = 0;
    bool operator==(const GeoPoint&) const = default;
};

// One rule of a geo service: clients whose ASN, subdivision, country or continent
// is listed get failover over `pools` (docs/policies.md, "geo").
struct GeoRule {
    std::vector<std::string> continents;    // "EU", "NA", ...
    std::vector<std::string> countries;     // ISO 3166-1 alpha-2, upper case: "DE"
    std::vector<std::string> subdivisions;  // ISO 3166-2, upper case: "US-CA"
    std::vector<uint32_t> asns;
    std::vector<std::size_t> pools;         // indices into Zone::pools, in priority order
    core::SourceLocation where;
};

struct Pool {
    std::string name;
    std::vector<Endpoint> endpoints;
    uint32_t min_healthy = 1;       // healthy endpoints needed for the pool to be up
    uint32_t weight = 1;            // weighted policy: 1..1000
    std::vector<core::IpPrefix> subnets;  // subnet policy: clients this pool prefers
    // Geo policy, `nearest`: where the pool is (degrees); a client's distance to it
    // counts `bias_km` more (negative: less); clients farther than `max_km` (0: no
    // limit) never get it by distance.
    std::optional<GeoPoint> location;
    double bias_km = 0;
    double max_km = 0;
    core::SourceLocation where;
};

enum class PolicyKind : uint8_t { Failover, Weighted, Multivalue, Subnet, Geo };
const char* to_string(PolicyKind k) noexcept;

// What a service answers when no pool has enough healthy endpoints.
enum class AllDown : uint8_t {
    All,      // every address of every pool (default: probes may be what failed)
    Primary,  // the first pool's addresses
    Nothing,  // NODATA: the operator prefers no answer
};
const char* to_string(AllDown a) noexcept;

enum class Failback : uint8_t {
    Auto,      // back to a better pool as soon as it is up (default)
    HoldDown,  // the better pool must stay up for `hold_down` first
    Gated,     // the better pool must be up and `failback_gate` endpoint must be up
    Manual,    // stay until an operator releases it
};
const char* to_string(Failback f) noexcept;

struct Hook {
    std::vector<std::string> command;  // argv; run with the event as JSON on stdin and in env
    std::string url;                   // POSTed the event as JSON
    core::SourceLocation where;
};

struct Service {
    std::string name;                 // unique within the zone; names the state TXT record
    std::vector<core::Name> owners;   // absolute names answered ("www", "@", "*" resolved)
    PolicyKind policy = PolicyKind::Failover;
    std::vector<std::size_t> pools;   // indices into Zone::pools, in priority order
    uint32_t ttl = 30;                // never above the zone's default TTL
    uint32_t unstable_ttl = 5;        // used while the answer is unstable (suspect/just changed)
    core::Millis unstable_for{60000}; // how long after a change the answer counts as unstable
    AllDown all_down = AllDown::All;
    Failback failback = Failback::Auto;
    core::Millis hold_down{0};
    std::string failback_gate;        // "pool/endpoint" whose health gates failback
    uint32_t max_addresses = 8;       // multivalue: addresses per answer
    // Answer hostname endpoints as their addresses at every owner (the apex always
    // does: a CNAME cannot sit beside SOA and NS), instead of CNAME <hostname>.
    bool flatten = false;
    // Geo policy: the rules, in file order; clients matching none get `pools`
    // (or, with `nearest`, the closest pool with a location that is up).
    std::vector<GeoRule> geo_rules;
    bool nearest = false;
    std::vector<Hook> hooks;
    std::size_t index = 0;            // dense index into the catalog's service list
    core::SourceLocation where;
};

// One `runtime_txt` entry: an owner prefix under which `signpost txt set` may add
// TXT records at run time ("_acme-challenge" allows _acme-challenge.<any name at or
// below the origin>).
struct RuntimeTxtPrefix {
    std::string text;    // lowercased, as the zone file spells it ("_acme-challenge")
    std::string labels;  // its labels in wire form, without the root byte
    core::SourceLocation where;
};

// DNSSEC algorithms signpost signs with (IANA numbers, RFC 8624 "MUST" for signers).
enum class DnssecAlgorithm : uint8_t { EcdsaP256Sha256 = 13, Ed25519 = 15 };
// "ecdsap256sha256", "ed25519": as the zone file spells them.
const char* to_string(DnssecAlgorithm a) noexcept;

// How a signed zone proves that a name or type does not exist.
enum class DenialKind : uint8_t { Nsec, Nsec3 };
const char* to_string(DenialKind d) noexcept;  // "nsec", "nsec3"

// Which keys sign: one combined signing key (CSK, flags 257, signs everything), or
// a key-signing key (257, signs the DNSKEY RRset) and a zone-signing key (256, the rest).
enum class KeyScheme : uint8_t { Csk, KskZsk };
const char* to_string(KeyScheme k) noexcept;  // "csk", "ksk+zsk"

// A zone's `[dnssec]` table (docs/dnssec.md). Defaults are the values used when a key is absent.
struct DnssecSettings {
    bool sign = false;
    DnssecAlgorithm algorithm = DnssecAlgorithm::EcdsaP256Sha256;
    // A signature is valid from `now - kInceptionBackdate` (resolvers with a slow
    // clock) to `now + lifetime`; it is made again once less than `refresh` remains.
    core::Millis lifetime{14LL * 86400 * 1000};
    core::Millis refresh{7LL * 86400 * 1000};
    DenialKind denial = DenialKind::Nsec;
    std::string nsec3_salt;         // raw bytes; empty: no salt (RFC 9276)
    uint16_t nsec3_iterations = 0;  // always 0: RFC 9276 (the loader refuses anything else)
    KeyScheme keys = KeyScheme::Csk;
    // Key rollovers (`signpost dnssec rollover`): how long a change takes to reach every
    // server of the zone, plus a margin; and the parent's DS TTL.
    core::Millis propagation{3600LL * 1000};
    core::Millis ds_ttl{86400LL * 1000};
    core::SourceLocation where;     // the [dnssec] table; empty when absent
};
// The settings of a zone without a [dnssec] table (unsigned; `where` empty). One object
// for the process, never destroyed.
const std::shared_ptr<const DnssecSettings>& default_dnssec_settings();
// How far back a signature's inception is set, for validators whose clock is behind.
inline constexpr core::Millis kInceptionBackdate{3600LL * 1000};

struct Zone {
    core::Name origin;
    const std::string* file_name = nullptr;  // the TOML file it came from (intern_file_name)
    uint32_t default_ttl = 3600;
    Soa soa;
    // Every owner name with static data (apex included), keyed by canonical name.
    NodeTable nodes;
    std::map<std::string, core::CheckSpec> checks;
    std::vector<Pool> pools;
    std::vector<Service> services;
    std::vector<RuntimeTxtPrefix> runtime_txt;  // empty: no runtime TXT records
    // [dnssec]; sign false: unsigned. Zones without the table share one default (an
    // unsigned zone holds a pointer, not 128 bytes); copies of a zone share theirs.
    std::shared_ptr<const DnssecSettings> dnssec_settings = default_dnssec_settings();
    const DnssecSettings& dnssec() const noexcept { return *dnssec_settings; }

    const std::string& file() const noexcept;  // "" when not from a file

    const Node* find_node(const core::Name& n) const noexcept {
        auto it = nodes.find(n);
        return it == nodes.end() ? nullptr : &it->second;
    }
};

// Sets the zone's SOA serial (the model and the apex SOA record).
void set_serial(Zone& zone, uint32_t serial);
// A digest of the zone's static data (records, SOA fields but the serial): two
// loads with the same digest serve the same static answers.
uint64_t static_digest(const Zone& zone);

// True when a `runtime_txt` prefix of the zone allows runtime TXT records at `name`:
// `name` is <prefix>.<a name at or below the origin>.
bool runtime_txt_allowed(const Zone& zone, const core::Name& name);

// Where a catalog-wide endpoint index points.
struct EndpointRef {
    std::string key;  // "example.com/primary/127.0.0.10": stable across reloads
    std::size_t zone = 0, pool = 0, endpoint = 0;
};
struct ServiceRef {
    std::string key;  // "example.com/site"
    std::size_t zone = 0, service = 0;
};

// Everything loaded from the zones directory. Immutable once built; shared by
// pointer between the control loop and the DNS workers.
struct Catalog {
    std::vector<Zone> zones;
    std::vector<EndpointRef> endpoints;  // index = core::EndpointIndex
    std::vector<ServiceRef> services;    // index = Service::index

    // The most specific zone containing `qname`, or nullptr.
    const Zone* find_zone(const core::Name& qname) const noexcept;
    const Endpoint& endpoint(core::EndpointIndex i) const {
        auto& r = endpoints[i];
        return zones[r.zone].pools[r.pool].endpoints[r.endpoint];
    }
};

// "A", "mx", "TYPE65534" -> the type number (nullopt when unknown): the one
// parser of type mnemonics, for the loader and for queries typed by people (explain).
std::optional<uint16_t> type_from_mnemonic(std::string_view mnemonic);

}  // namespace signpost::zones
