#include "zones/model.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include "core/memory.hpp"

namespace signpost::zones {

const char* to_string(PolicyKind k) noexcept {
    switch (k) {
        case PolicyKind::Failover: return "failover";
        case PolicyKind::Weighted: return "weighted";
        case PolicyKind::Multivalue: return "multivalue";
        case PolicyKind::Subnet: return "subnet";
        case PolicyKind::Geo: return "geo";
    }
    return "failover";
}
const char* to_string(DnssecAlgorithm a) noexcept {
    switch (a) {
        case DnssecAlgorithm::EcdsaP256Sha256: return "ecdsap256sha256";
        case DnssecAlgorithm::Ed25519: return "ed25519";
    }
    return "ecdsap256sha256";
}
const char* to_string(DenialKind d) noexcept { return d == DenialKind::Nsec3 ? "nsec3" : "nsec"; }
const char* to_string(KeyScheme k) noexcept { return k == KeyScheme::KskZsk ? "ksk+zsk" : "csk"; }
const char* to_string(AllDown a) noexcept {
    switch (a) {
        case AllDown::All: return "all";
        case AllDown::Primary: return "primary";
        case AllDown::Nothing: return "nothing";
    }
    return "all";
}
const char* to_string(Failback f) noexcept {
    switch (f) {
        case Failback::Auto: return "auto";
        case Failback::HoldDown: return "hold-down";
        case Failback::Gated: return "gated";
        case Failback::Manual: return "manual";
    }
    return "auto";
}

namespace {
const std::string& file_or_empty(const std::string* file_name) noexcept {
    static const std::string unknown;
    return file_name ? *file_name : unknown;
}
}  // namespace

const std::string& RecordSource::file() const noexcept { return file_or_empty(file_name); }
const std::string& Zone::file() const noexcept { return file_or_empty(file_name); }

core::SourceLocation RecordSource::location() const { return {file(), line, column}; }

const std::string* intern_file_name(std::string_view path) {
    static std::mutex mutex;
    // Nodes never move; never destroyed, so that no static destructor at exit leaves
    // a record's path dangling.
    static auto* const paths = new std::set<std::string, std::less<>>;
    std::lock_guard lock(mutex);
    auto it = paths->find(path);
    if (it == paths->end()) it = paths->emplace(path).first;
    return &*it;
}

const std::shared_ptr<const DnssecSettings>& default_dnssec_settings() {
    // Never destroyed: a Zone in a static destroyed after it would drop its last count.
    static const auto* const settings = new std::shared_ptr<const DnssecSettings>(std::make_shared<DnssecSettings>());
    return *settings;
}

const std::vector<NodeTable::value_type>& NodeTable::entries() const noexcept {
    static const std::vector<value_type> none;
    return entries_ ? *entries_ : none;
}

std::vector<NodeTable::value_type>& NodeTable::unshared() {
    if (!entries_) entries_ = std::make_shared<std::vector<value_type>>();
    else if (entries_.use_count() > 1) entries_ = std::make_shared<std::vector<value_type>>(*entries_);
    return *entries_;
}

NodeTable::const_iterator NodeTable::find(const core::Name& name) const noexcept {
    auto& e = entries();
    auto it = std::lower_bound(e.begin(), e.end(), name, [](const value_type& v, const core::Name& n) { return v.first < n; });
    return it != e.end() && it->first == name ? it : e.end();
}

Node& NodeTable::operator[](const core::Name& name) {
    auto& e = unshared();
    auto it = std::lower_bound(e.begin(), e.end(), name, [](const value_type& v, const core::Name& n) { return v.first < n; });
    if (it == e.end() || it->first != name) it = e.insert(it, value_type{name, Node{}});
    return it->second;
}

Node* NodeTable::find_mutable(const core::Name& name) {
    if (find(name) == end()) return nullptr;
    return &(*this)[name];
}

void NodeTable::assign(std::vector<value_type> entries) {
    entries_ = std::make_shared<std::vector<value_type>>(std::move(entries));
}

namespace {

// The flat form compact() passes records through: every field in host order, lengths
// before bytes. Only this file writes and reads it, within one call.
class Flat {
public:
    template <class T> void put(T v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void put_bytes(std::string_view b) {
        put(uint32_t(b.size()));
        out_.append(b);
    }
    template <class T> T get() {
        T v;
        std::memcpy(&v, out_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }
    std::string_view get_bytes() {
        auto n = get<uint32_t>();
        std::string_view b(out_.data() + pos_, n);
        pos_ += n;
        return b;
    }
    void reserve(std::size_t n) { out_.reserve(n); }

private:
    std::string out_;
    std::size_t pos_ = 0;
};

}  // namespace

void NodeTable::compact(const std::vector<NodeTable*>& tables) {
    std::vector<NodeTable*> mine;
    std::size_t bytes = 0;
    for (auto* t : tables) {
        if (!t || !t->entries_ || t->entries_.use_count() > 1 || t->entries_->empty()) continue;
        mine.push_back(t);
        for (auto& [name, node] : *t->entries_) {
            bytes += name.wire_length() + 8;
            for (auto& set : node.rrsets) {
                bytes += 32 + set.rdatas.packed().size();
            }
        }
    }
    if (mine.empty()) return;
    Flat flat;
    flat.reserve(bytes);
    for (auto* t : mine) {
        flat.put(uint64_t(t->entries_->size()));
        for (auto& [name, node] : *t->entries_) {
            flat.put_bytes(name.wire());
            flat.put(uint32_t(node.rrsets.size()));
            for (auto& set : node.rrsets) {
                flat.put(set.type);
                flat.put(set.ttl);
                flat.put(set.where.file_name);  // interned: lives as long as the process
                flat.put(set.where.line);
                flat.put(set.where.column);
                flat.put_bytes(set.rdatas.packed());
            }
        }
        t->entries_.reset();  // frees every block of the old table
    }
    core::release_free_memory();  // merge the freed blocks: the new ones are carved in order
    for (auto* t : mine) {
        auto entries = std::make_shared<std::vector<value_type>>();
        auto n = flat.get<uint64_t>();
        entries->reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
            auto name = core::Name::from_wire(flat.get_bytes());
            Node node;
            node.rrsets.resize(flat.get<uint32_t>());
            for (auto& set : node.rrsets) {
                set.type = flat.get<uint16_t>();
                set.ttl = flat.get<uint32_t>();
                set.where.file_name = flat.get<const std::string*>();
                set.where.line = flat.get<uint32_t>();
                set.where.column = flat.get<uint32_t>();
                set.rdatas = RdataList::from_packed(flat.get_bytes());
            }
            entries->emplace_back(std::move(*name), std::move(node));
        }
        t->entries_ = std::move(entries);
    }
}

void set_serial(Zone& zone, uint32_t serial) {
    zone.soa.serial = serial;
    // Unchanged: leave a table shared with other copies of the zone as it is.
    auto apex = zone.nodes.find(zone.origin);
    if (apex == zone.nodes.end()) return;
    auto* current = apex->second.find(rrtype::SOA);
    if (!current || current->rdatas.empty() || current->rdatas.front().size() < 20) return;
    char wire[4];
    for (int i = 0; i < 4; ++i) wire[i] = char((serial >> (24 - 8 * i)) & 0xff);
    auto rd = current->rdatas.front();
    if (std::equal(wire, wire + 4, rd.end() - 20)) return;
    for (auto& set : zone.nodes.find_mutable(zone.origin)->rrsets) {
        if (set.type != rrtype::SOA || set.rdatas.empty()) continue;
        std::string r(set.rdatas.front());
        if (r.size() < 20) continue;
        // SERIAL is the first of the five 32-bit fields that end the rdata.
        std::copy(wire, wire + 4, r.end() - 20);
        set.rdatas = RdataList{r};
    }
}

uint64_t static_digest(const Zone& zone) {
    // FNV-1a over a canonical walk (owners sorted, types sorted, serial zeroed).
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* p, std::size_t n) {
        auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    for (auto& [name, node] : zone.nodes) {  // sorted by name
        mix(name.wire().data(), name.wire().size());
        std::vector<const RRset*> sets;
        for (auto& s : node.rrsets) sets.push_back(&s);
        std::sort(sets.begin(), sets.end(), [](auto* a, auto* b) { return a->type < b->type; });
        for (auto* s : sets) {
            mix(&s->type, sizeof s->type);
            mix(&s->ttl, sizeof s->ttl);
            for (auto view : s->rdatas) {
                std::string rd(view);
                if (s->type == rrtype::SOA && rd.size() >= 20) std::fill(rd.end() - 20, rd.end() - 16, '\0');
                uint32_t len = uint32_t(rd.size());
                mix(&len, sizeof len);
                mix(rd.data(), rd.size());
            }
        }
    }
    return h;
}

bool runtime_txt_allowed(const Zone& zone, const core::Name& name) {
    std::string_view w = name.wire();
    for (auto& p : zone.runtime_txt) {
        if (p.labels.empty() || w.size() <= p.labels.size() || w.compare(0, p.labels.size(), p.labels) != 0) continue;
        // The prefix is whole labels from the start, so what follows is a name.
        auto rest = core::Name::from_wire(std::string_view(w).substr(p.labels.size()));
        if (rest && rest->is_subdomain_of(zone.origin)) return true;
    }
    return false;
}

const Zone* Catalog::find_zone(const core::Name& qname) const noexcept {
    const Zone* best = nullptr;
    for (auto& z : zones) {
        if (qname.is_subdomain_of(z.origin) && (!best || z.origin.wire_length() > best->origin.wire_length()))
            best = &z;
    }
    return best;
}

}  // namespace signpost::zones
