// The DNS server's two hooks, wired to their owners: zone transfers (xfr/) and
// explain over DNS (dns/explain_responder). Both read the snapshot each query
// is answered from, so they see exactly what the answers do.
#pragma once

#include "tools/server_config.hpp"

namespace signpost::tools {

// Installs config.dns.transfer_handler and (unless explain_allow is empty)
// config.dns.explain_handler, and logs what is on.
void install_query_handlers(ServerConfig& config);

}  // namespace signpost::tools
