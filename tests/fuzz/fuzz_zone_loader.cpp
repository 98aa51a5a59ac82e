// Fuzz target: TOML text in, zones::load_text out. Any input must give either a
// Catalog or diagnostics; never a crash, a hang or unbounded memory. An input that
// loads is checked for the Catalog's basic invariants.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dns/view.hpp"
#include "zones/loader.hpp"

using namespace signpost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size > 256 * 1024) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    zones::Limits lim;
    lim.max_file_bytes = 1 << 20;  // includes point at files of the repo at most
    auto r = zones::load_text(text, "tests/fuzz/zone.toml", lim);
    if (r.catalog) {
        if (r.diagnostics.has_errors()) {
            std::fprintf(stderr, "fuzz_zone_loader: a catalog despite errors\n");
            std::abort();
        }
        for (std::size_t i = 0; i < r.catalog->endpoints.size(); ++i) (void)r.catalog->endpoint(core::EndpointIndex(i));
        for (auto& s : r.catalog->services)
            if (s.zone >= r.catalog->zones.size() || s.service >= r.catalog->zones[s.zone].services.size()) {
                std::fprintf(stderr, "fuzz_zone_loader: service reference out of range\n");
                std::abort();
            }
        // Whatever loaded must also build a View and answer from it.
        auto view = dns::build_view(r.catalog, {}, 1);
        static const uint8_t soa[] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1};
        static uint8_t out[65535];
        dns::ClientInfo ci;
        ci.tcp = true;
        (void)dns::answer_query(*view, soa, ci, out);
        for (auto& z : r.catalog->zones) {
            std::string q(reinterpret_cast<const char*>(soa), 12);
            q += z.origin.wire();
            q += std::string("\0\1\0\1", 4);  // A IN
            (void)dns::answer_query(*view, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(q.data()), q.size()),
                                    ci, out);
        }
    } else if (!r.diagnostics.has_errors()) {
        std::fprintf(stderr, "fuzz_zone_loader: no catalog and no error\n");
        std::abort();
    }
    for (auto& d : r.diagnostics.items()) (void)d.to_string();
    return 0;
}
