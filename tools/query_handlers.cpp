#include "tools/query_handlers.hpp"

#include <memory>

#include "core/log.hpp"
#include "dns/explain_responder.hpp"
#include "dns/snapshot.hpp"
#include "xfr/transfer_server.hpp"

namespace signpost::tools {

void install_query_handlers(ServerConfig& config) {
    auto xfr_server = std::make_shared<const xfr::TransferServer>(config.xfr);
    config.dns.transfer_handler = [xfr_server](const dns::Snapshot& s, std::span<const uint8_t> q,
                                               const dns::ClientInfo& ci, std::size_t udp_max, std::string& out) {
        return xfr_server->handle(s.transfers.get(), q, ci.address, ci.tcp, udp_max, out);
    };
    if (config.xfr.secondaries.empty())
        core::log_info("xfr", "zone transfers refused to everyone: no [[secondaries]] in the server config");
    else
        core::log_info("xfr", "{} secondary entr{}, {} TSIG key(s), IXFR history of {} version(s) per zone",
                       config.xfr.secondaries.size(), config.xfr.secondaries.size() == 1 ? "y" : "ies",
                       config.xfr.keys.size(), config.xfr.history);
    if (config.explain_allow.empty()) {
        core::log_info("dns", "explain over DNS disabled (explain_allow = [])");
        return;
    }
    auto responder = std::make_shared<const dns::ExplainResponder>(config.explain_allow, config.dns.udp_payload_size);
    config.dns.explain_handler = [responder](const dns::Snapshot& s, std::span<const uint8_t> q,
                                             const dns::ClientInfo& ci, std::size_t udp_max, std::string& out) {
        return responder->handle(s.explain.get(), q, ci, udp_max, out);
    };
}

}  // namespace signpost::tools
