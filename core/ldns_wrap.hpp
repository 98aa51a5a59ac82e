// The one header that includes ldns. ldns's <ldns/common.h> redefines bool/true/false
// in C++ unless <stdbool.h> came first, which breaks standard headers included later.
#pragma once

#include <stdbool.h>
#include <ldns/ldns.h>

#include "core/c_handle.hpp"

namespace signpost::core {
using LdnsRr = CHandle<ldns_rr, &ldns_rr_free>;
using LdnsRrList = CHandle<ldns_rr_list, &ldns_rr_list_deep_free>;
using LdnsRdf = CHandle<ldns_rdf, &ldns_rdf_deep_free>;
using LdnsPkt = CHandle<ldns_pkt, &ldns_pkt_free>;
using LdnsBuffer = CHandle<ldns_buffer, &ldns_buffer_free>;
using LdnsZone = CHandle<ldns_zone, &ldns_zone_deep_free>;
}  // namespace signpost::core
