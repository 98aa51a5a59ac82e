// The catalog-wide check on hostname endpoints: a hostname that signpost itself
// answers, through services (and static CNAMEs) that lead back to it, is a loop.
// Load time only, after every zone is parsed; never on the query path.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "zones/zone_parser.hpp"

namespace signpost::zones::detail {

namespace {

using core::Name;

// Where a name is answered within the served zones, as far as loops are concerned.
struct Target {
    std::size_t service = SIZE_MAX;  // global service number; SIZE_MAX: not answered by a service
    bool flattened = false;          // the service answers addresses there, not a CNAME
    std::vector<Name> via;           // names whose static CNAME led on, in order
    Name name;                       // the name the service answers
};

// An edge of the service graph: a service's hostname endpoint answered by another service.
struct Edge {
    std::size_t from = 0, to = 0;
    const Endpoint* endpoint = nullptr;
    std::size_t zone = 0;
    const Pool* pool = nullptr;
    Target target;
};

// What the loop check needs to know about one zone's names, built when a hostname
// lands in the zone.
struct ZoneNames {
    bool built = false;
    std::map<Name, std::size_t> owner_service;  // service owner -> service index in the zone
    std::set<Name> existing;                    // owners of data, and every name between them and the origin
    std::set<Name> cuts;                        // delegations (NS below the apex)
};

class LoopCheck {
public:
    LoopCheck(const std::vector<ParsedZone>& zones, core::Diagnostics& d) : zones_(zones), d_(d), names_(zones.size()) {
        for (std::size_t z = 0; z < zones_.size(); ++z) {
            origins_.emplace(zones_[z].zone.origin, z);  // a duplicate origin is reported elsewhere
            first_service_.push_back(service_count_);
            service_count_ += zones_[z].zone.services.size();
        }
    }

    void run() {
        build_edges();
        if (edges_.empty()) return;
        components();
        std::set<std::size_t> reported;
        for (auto& e : edges_) {
            if (comp_[e.from] != comp_[e.to] || reported.count(comp_[e.from])) continue;
            reported.insert(comp_[e.from]);
            report(e, path(e.to, e.from));
        }
    }

private:
    const Service& service(std::size_t global, std::size_t* zone_out = nullptr) const {
        auto z = std::size_t(std::upper_bound(first_service_.begin(), first_service_.end(), global) -
                             first_service_.begin()) - 1;
        if (zone_out) *zone_out = z;
        return zones_[z].zone.services[global - first_service_[z]];
    }

    // The most specific served zone containing `n`, or SIZE_MAX.
    std::size_t zone_of(const Name& n) const {
        for (Name a = n;; a = a.parent()) {
            if (auto it = origins_.find(a); it != origins_.end()) return it->second;
            if (a.is_root()) return SIZE_MAX;
        }
    }

    ZoneNames& names(std::size_t z) {
        auto& zn = names_[z];
        if (zn.built) return zn;
        zn.built = true;
        const Zone& zone = zones_[z].zone;
        auto add = [&](const Name& n) {
            for (Name a = n; a.is_subdomain_of(zone.origin) && zn.existing.insert(a).second && a != zone.origin;
                 a = a.parent()) {
            }
        };
        for (std::size_t s = 0; s < zone.services.size(); ++s)
            for (auto& o : zone.services[s].owners) {
                zn.owner_service.emplace(o, s);
                add(o);
            }
        for (auto& [n, node] : zone.nodes) {
            add(n);
            if (n != zone.origin && node.find(rrtype::NS)) zn.cuts.insert(n);
        }
        return zn;
    }

    static std::optional<Name> static_cname(const Node* node) {
        if (!node) return std::nullopt;
        auto* set = node->find(rrtype::CNAME);
        if (!set || set->rdatas.empty()) return std::nullopt;
        return Name::from_wire(set->rdatas.front());
    }

    // Follows `n` through the served zones the way a resolver asking signpost would,
    // until a service answers it or the chain ends (outside, at static data, NXDOMAIN).
    Target resolve(const Name& n) {
        Target t;
        Name cur = n;
        for (int step = 0; step < 16; ++step) {
            auto z = zone_of(cur);
            if (z == SIZE_MAX) return t;
            const Zone& zone = zones_[z].zone;
            auto& zn = names(z);
            for (Name a = cur; a != zone.origin; a = a.parent())
                if (zn.cuts.count(a)) return t;  // delegated: answered elsewhere
            auto answered = [&](const Name& owner, std::size_t s) {
                t.service = first_service_[z] + s;
                t.flattened = owner == zone.origin || zone.services[s].flatten;
                t.name = cur;
                return t;
            };
            if (auto it = zn.owner_service.find(cur); it != zn.owner_service.end()) return answered(cur, it->second);
            std::optional<Name> next;
            if (zn.existing.count(cur)) {
                next = static_cname(zone.find_node(cur));
            } else {
                // Not in the zone: the wildcard at the closest encloser answers, if any.
                Name encloser = cur.parent();
                while (encloser != zone.origin && !zn.existing.count(encloser)) encloser = encloser.parent();
                Name w = encloser.wildcard_child();
                if (auto it = zn.owner_service.find(w); it != zn.owner_service.end()) return answered(w, it->second);
                next = static_cname(zone.find_node(w));
            }
            if (!next) return t;
            t.via.push_back(cur);
            cur = *next;
        }
        return t;  // a long static chain: not ours to judge here
    }

    void build_edges() {
        for (std::size_t z = 0; z < zones_.size(); ++z) {
            const Zone& zone = zones_[z].zone;
            for (std::size_t s = 0; s < zone.services.size(); ++s) {
                for (auto p : zone.services[s].pools) {
                    if (p >= zone.pools.size()) continue;
                    for (auto& ep : zone.pools[p].endpoints) {
                        if (!ep.hostname) continue;
                        Target t = resolve(*ep.hostname);
                        if (t.service == SIZE_MAX) continue;
                        edges_.push_back({first_service_[z] + s, t.service, &ep, z, &zone.pools[p], std::move(t)});
                    }
                }
            }
        }
        out_.assign(service_count_, {});
        for (std::size_t i = 0; i < edges_.size(); ++i) out_[edges_[i].from].push_back(i);
    }

    // Strongly connected components (Tarjan, iterative); a service with an edge to
    // itself is its own component and still a loop.
    void components() {
        const std::size_t n = service_count_;
        comp_.assign(n, SIZE_MAX);
        std::vector<std::size_t> index(n, SIZE_MAX), low(n, 0), stack;
        std::vector<bool> on_stack(n, false);
        std::size_t counter = 0, comps = 0;
        struct Frame {
            std::size_t v, next_edge;
        };
        for (std::size_t root = 0; root < n; ++root) {
            if (index[root] != SIZE_MAX || out_[root].empty()) continue;
            std::vector<Frame> frames{{root, 0}};
            index[root] = low[root] = counter++;
            stack.push_back(root);
            on_stack[root] = true;
            while (!frames.empty()) {
                auto& f = frames.back();
                if (f.next_edge < out_[f.v].size()) {
                    auto w = edges_[out_[f.v][f.next_edge++]].to;
                    if (index[w] == SIZE_MAX) {
                        index[w] = low[w] = counter++;
                        stack.push_back(w);
                        on_stack[w] = true;
                        frames.push_back({w, 0});
                    } else if (on_stack[w]) {
                        low[f.v] = std::min(low[f.v], index[w]);
                    }
                    continue;
                }
                auto v = f.v;
                frames.pop_back();
                if (!frames.empty()) low[frames.back().v] = std::min(low[frames.back().v], low[v]);
                if (low[v] == index[v]) {
                    while (true) {
                        auto w = stack.back();
                        stack.pop_back();
                        on_stack[w] = false;
                        comp_[w] = comps;
                        if (w == v) break;
                    }
                    ++comps;
                }
            }
        }
    }

    // The edges of a shortest path from `from` to `to` (empty when from == to).
    std::vector<std::size_t> path(std::size_t from, std::size_t to) const {
        std::vector<std::size_t> via_edge(service_count_, SIZE_MAX);
        std::vector<bool> seen(service_count_, false);
        std::vector<std::size_t> queue{from};
        seen[from] = true;
        for (std::size_t qi = 0; qi < queue.size() && !seen[to]; ++qi) {
            for (auto ei : out_[queue[qi]]) {
                auto w = edges_[ei].to;
                if (seen[w] || comp_[w] != comp_[from]) continue;
                seen[w] = true;
                via_edge[w] = ei;
                queue.push_back(w);
            }
        }
        std::vector<std::size_t> edges;
        for (auto v = to; v != from && via_edge[v] != SIZE_MAX; v = edges_[via_edge[v]].from) edges.push_back(via_edge[v]);
        std::reverse(edges.begin(), edges.end());
        return edges;
    }

    std::string hop(const Edge& e) const {
        std::string out;
        for (auto& v : e.target.via) out += v.to_key() + " (static CNAME) -> ";
        std::size_t z = 0;
        auto& s = service(e.to, &z);
        out += e.target.name.to_key() + (e.target.flattened ? " (flattened by service '" : " (CNAME by service '") +
               origin_label(zones_[z].zone.origin) + "/" + s.name + "')";
        return out;
    }

    void report(const Edge& first, const std::vector<std::size_t>& rest) {
        std::string chain = hop(first);
        for (auto ei : rest) chain += " -> " + hop(edges_[ei]);
        chain += " -> " + first.endpoint->hostname->to_key();
        d_.error(first.endpoint->where,
                 "zone '" + origin_label(zones_[first.zone].zone.origin) + "' pool '" + first.pool->name +
                     "': hostname endpoint " + dq(first.endpoint->hostname->to_key()) + " loops back to itself: " +
                     chain + "; a hostname endpoint must lead to addresses, so point one endpoint of the loop at a name "
                             "outside it");
    }

    const std::vector<ParsedZone>& zones_;
    core::Diagnostics& d_;
    std::vector<ZoneNames> names_;
    std::map<Name, std::size_t> origins_;
    std::vector<std::size_t> first_service_;  // per zone: global number of its first service
    std::size_t service_count_ = 0;
    std::vector<Edge> edges_;
    std::vector<std::vector<std::size_t>> out_;  // per service: its edges
    std::vector<std::size_t> comp_;              // per service: its component
};

}  // namespace

void check_hostname_loops(const std::vector<ParsedZone>& zones, core::Diagnostics& d) {
    bool any = false;
    for (auto& pz : zones)
        for (auto& p : pz.zone.pools)
            for (auto& e : p.endpoints) any = any || e.hostname.has_value();
    if (any) LoopCheck(zones, d).run();
}

}  // namespace signpost::zones::detail
