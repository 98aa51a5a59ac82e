// DNSSEC wiring: the key directory a config names, the start-up check of signed zones,
// and `signpost dnssec ds`. Keys, formats and checks are dnssec/'s.
#include "tools/dnssec_command.hpp"

#include "dns/signing.hpp"

#include <CLI/CLI.hpp>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "dnssec/encoding.hpp"
#include "dnssec/keys.hpp"
#include "zones/loader.hpp"

namespace signpost::tools {

namespace {

struct DsState {
    CLI::App* dnssec = nullptr;
    CLI::App* ds = nullptr;
    std::string zone, zones_dir, config_file, key_dir;
    bool create = false;
};
DsState& state() {
    static DsState s;
    return s;
}

const char* algorithm_mnemonic(uint8_t a) { return a == 15 ? "ED25519" : "ECDSAP256SHA256"; }

std::string ds_text(const std::string& rdata) {
    unsigned tag = unsigned(uint8_t(rdata[0])) << 8 | uint8_t(rdata[1]);
    return std::to_string(tag) + " " + std::to_string(uint8_t(rdata[2])) + " " + std::to_string(uint8_t(rdata[3])) + " " +
           dnssec::hex_encode(std::string_view(rdata).substr(4));
}
std::string dnskey_text(const std::string& rdata) {
    unsigned flags = unsigned(uint8_t(rdata[0])) << 8 | uint8_t(rdata[1]);
    return std::to_string(flags) + " " + std::to_string(uint8_t(rdata[2])) + " " + std::to_string(uint8_t(rdata[3])) + " " +
           dnssec::base64_encode(std::string_view(rdata).substr(4));
}

int run_ds(const DsState& s) {
    auto fail = [](const std::string& why) {
        std::cerr << "signpost dnssec ds: " << why << '\n';
        return 1;
    };
    ServerConfig cfg;
    if (!s.config_file.empty()) {
        core::Diagnostics diags;
        auto loaded = load_server_config(s.config_file, diags);
        for (auto& d : diags.items()) std::cerr << d.to_string() << '\n';
        if (!loaded) return 1;
        cfg = std::move(*loaded);
    }
    if (!s.zones_dir.empty()) cfg.zones_dir = s.zones_dir;
    if (!s.key_dir.empty()) cfg.dnssec_key_dir = s.key_dir;
    if (cfg.zones_dir.empty()) return fail("no zones: give --zones DIR (or --config FILE with 'zones')");
    std::string why;
    std::string text = s.zone;
    if (text.empty() || text.back() != '.') text += '.';
    auto zone_name = core::Name::from_text(text, core::Name(), &why);
    if (!zone_name) return fail("'" + s.zone + "' is not a domain name: " + why);

    auto loaded = zones::load_path(cfg.zones_dir, cfg.limits);
    if (auto errors = zones::load_errors(loaded, cfg.zones_dir); !errors.empty()) {
        for (auto& d : loaded.diagnostics.items()) std::cerr << d.to_string() << '\n';
        return fail(cfg.zones_dir + ": the zones do not load; fix them first (signpost check " + cfg.zones_dir + ")");
    }
    const zones::Zone* zone = nullptr;
    for (auto& z : loaded.catalog->zones)
        if (z.origin == *zone_name) zone = &z;
    if (!zone) return fail("no zone " + zone_name->to_key() + " in " + cfg.zones_dir);
    if (!zone->dnssec.sign)
        return fail("zone " + zone->origin.to_key() + " is not signed ([dnssec] sign = true is not set in " + zone->file +
                    "): a DS record at the parent of an unsigned zone makes it fail validation");
    std::string dir = dnssec_key_dir(cfg);
    if (dir.empty()) return fail("no key directory: give --key-dir DIR, or --config FILE with dnssec_key_dir or state_file");

    if (!s.create && !std::filesystem::exists(dir))
        return fail("zone " + zone->origin.to_key() + " has no keys: the key directory " + dir +
                    " does not exist; add --create to generate them");
    dnssec::KeyStore store(dir);
    auto keys = store.load(zone->origin, zone->dnssec, s.create, int64_t(std::time(nullptr)), why);
    if (!keys) return fail(why);
    for (auto& g : keys->generated)
        for (auto& k : keys->keys)
            if (k.path == g)
                std::cerr << "signpost dnssec ds: generated " << dnssec::to_string(k.role) << " " << k.signer.key_tag()
                          << " (" << algorithm_mnemonic(uint8_t(zone->dnssec.algorithm)) << ") for " << zone->origin.to_key()
                          << ": " << g << ".key and .private\n";
    if (!keys->complete)
        return fail("zone " + zone->origin.to_key() + " has no " +
                    (zone->dnssec.keys == zones::KeyScheme::Csk ? std::string("CSK") : std::string("KSK and ZSK")) + " in " +
                    dir + ": add --create to generate " +
                    (zone->dnssec.keys == zones::KeyScheme::Csk ? "it" : "them"));
    const std::string owner = zone->origin.to_text();
    const std::string ttl = std::to_string(zone->soa.ttl);
    for (auto& k : keys->keys) {
        if (k.signer.flags() != dnssec::kSepKeyFlags) continue;
        std::cout << "; " << dnssec::to_string(k.role) << " " << k.signer.key_tag() << ", algorithm "
                  << unsigned(uint8_t(k.signer.key().algorithm())) << " ("
                  << algorithm_mnemonic(uint8_t(k.signer.key().algorithm())) << "), " << k.path << ".key\n";
        std::cout << owner << " " << ttl << " IN DS " << ds_text(dnssec::ds_rdata(zone->origin, k.signer.dnskey())) << '\n';
        std::cout << owner << " " << ttl << " IN DNSKEY " << dnskey_text(k.signer.dnskey()) << '\n';
    }
    return 0;
}

}  // namespace

std::string dnssec_key_dir(const ServerConfig& cfg) {
    if (!cfg.dnssec_key_dir.empty()) return cfg.dnssec_key_dir;
    if (cfg.state_file.empty()) return {};
    auto dir = std::filesystem::path(cfg.state_file).parent_path();
    return dir.empty() ? std::string(".") : dir.string();
}

DnssecKeys dnssec_load_keys(const zones::Catalog& catalog, const ServerConfig& cfg, int64_t now_unix, bool create) {
    DnssecKeys out;
    auto keys = std::make_shared<dns::SigningKeys>();
    const std::string dir = dnssec_key_dir(cfg);
    bool dir_checked = false;
    for (auto& z : catalog.zones) {
        if (!z.dnssec.sign) continue;
        auto at = [&](const std::string& what) {
            return core::Diagnostic{core::Severity::Error, z.dnssec.where, "zone '" + z.origin.to_key() + "' [dnssec]: " + what}
                .to_string();
        };
        if (dir.empty()) {
            out.errors.push_back(at("sign = true needs a key directory: set dnssec_key_dir (or state_file) in the server config"));
            continue;
        }
        dnssec::KeyStore store(dir);
        if (!dir_checked) {
            dir_checked = true;
            if (auto why = store.check_directory()) {
                out.errors.push_back(*why);
                return out;
            }
        }
        std::string why;
        auto loaded = store.load(z.origin, z.dnssec, create, now_unix, why);
        if (!loaded) {
            out.errors.push_back(why);
            continue;
        }
        for (auto& g : loaded->generated) out.generated.push_back(g);
        keys->emplace(z.origin.wire(), std::move(*loaded));
    }
    if (out.errors.empty()) out.keys = std::move(keys);
    return out;
}

void add_dnssec_commands(CLI::App& app) {
    auto& s = state();
    s.dnssec = app.add_subcommand("dnssec", "DNSSEC keys of signed zones (docs/dnssec.md)");
    s.dnssec->require_subcommand(1);
    s.ds = s.dnssec->add_subcommand("ds", "Print the DS (and DNSKEY) records of a signed zone for its registrar");
    s.ds->add_option("ZONE", s.zone, "The zone, e.g. example.com")->required();
    s.ds->add_option("--zones", s.zones_dir, "Directory of TOML zone files (default: 'zones' in --config)");
    s.ds->add_option("--config", s.config_file, "Server config file: its zones, dnssec_key_dir and state_file")
        ->check(CLI::ExistingFile);
    s.ds->add_option("--key-dir", s.key_dir, "Key directory (default: dnssec_key_dir, else the state file's directory)");
    s.ds->add_flag("--create", s.create, "Generate the zone's keys when it has none (a CSK, or a KSK and a ZSK)");
}

std::optional<int> run_dnssec_commands() {
    auto& s = state();
    if (s.ds && *s.ds) return run_ds(s);
    return std::nullopt;
}

}  // namespace signpost::tools
