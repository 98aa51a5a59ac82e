// What the query paths answer from: one immutable Snapshot per publication,
// handed to every UDP receiver and TCP worker by dns::Server::publish().
// Holds no logic; its parts are built by their owners (dns/view, dns/explain, xfr/).
#pragma once

#include <cstdint>
#include <memory>

#include "dns/view.hpp"

namespace signpost::xfr {
struct TransferZones;  // xfr/transfer_server.hpp; forward declaration only: dns/ must not include xfr/
}

namespace signpost::dns {

struct ExplainState;   // dns/explain.hpp
struct QuerySettings;  // dns/server.hpp

// Everything the query paths read, immutable once published. The parts are
// shared_ptrs to complete or incomplete types alike: whoever creates a part knows
// its type and supplies the deleter, so dropping a Snapshot frees it correctly.
struct Snapshot {
    uint64_t version = 0;                                 // grows with every publication
    std::shared_ptr<const View> view;                     // answers; null: nothing to answer yet (queries dropped)
    std::shared_ptr<const ExplainState> explain;          // null: explain over DNS off / nothing yet
    std::shared_ptr<const xfr::TransferZones> transfers;  // null: no transfer content
    // Attached by Server::publish(): never null in a snapshot a query thread reads.
    std::shared_ptr<const QuerySettings> settings;
};

}  // namespace signpost::dns
