#include "zones/model.hpp"

namespace signpost::zones {

const char* to_string(PolicyKind k) noexcept {
    switch (k) {
        case PolicyKind::Failover: return "failover";
        case PolicyKind::Weighted: return "weighted";
        case PolicyKind::Multivalue: return "multivalue";
        case PolicyKind::Subnet: return "subnet";
    }
    return "failover";
}
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

const Zone* Catalog::find_zone(const core::Name& qname) const noexcept {
    const Zone* best = nullptr;
    for (auto& z : zones) {
        if (qname.is_subdomain_of(z.origin) && (!best || z.origin.wire_length() > best->origin.wire_length()))
            best = &z;
    }
    return best;
}

}  // namespace signpost::zones
