// Prometheus text format pieces the daemon's /metrics is made of.
#pragma once

#include <span>
#include <string>

#include "dns/server.hpp"

namespace signpost::tools {

// A label value with '"', '\' and newlines escaped.
std::string escape_label(const std::string& s);

// The DNS workers' counters: queries, responses by rcode/type/zone, TCP, RRL,
// the answer latency histogram. `zone_names` maps the stable zone ids.
std::string dns_metrics(const dns::ServerStats& st, std::span<const std::string> zone_names);

}  // namespace signpost::tools
