// DNSSEC wiring: the key directory a config names, the start-up check of signed zones,
// and `signpost dnssec ds`. Keys, formats and checks are dnssec/'s.
#include "tools/dnssec_command.hpp"

#include "dns/signing.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "dnssec/encoding.hpp"
#include "dnssec/keys.hpp"
#include "dnssec/rollover.hpp"
#include "zones/loader.hpp"

namespace signpost::tools {

namespace {

struct DsState {
    CLI::App* dnssec = nullptr;
    CLI::App* ds = nullptr;
    CLI::App* rollover = nullptr;
    CLI::App* ds_seen = nullptr;
    std::string zone, zones_dir, config_file, key_dir;
    bool create = false;
    // rollover, ds-seen
    bool zsk = false, ksk = false, csk = false, no_reload = false;
    uint16_t tag = 0;
    std::string api, token;
    ReloadFn reload = nullptr;
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

// A signed zone of the config and its keys (all of them, states at `now`).
struct Loaded {
    ServerConfig cfg;
    zones::LoadResult zones;
    const zones::Zone* zone = nullptr;
    std::string dir;
    std::optional<dnssec::ZoneKeys> keys;
};

// Loads the config, the zone and its keys; prints why not (prefixed by `cmd`) and
// returns false. `create`: make missing keys (dnssec ds --create).
bool load_zone_keys(const DsState& s, const char* cmd, bool create, int64_t now, Loaded& out) {
    auto fail = [&](const std::string& why) {
        std::cerr << "signpost dnssec " << cmd << ": " << why << '\n';
        return false;
    };
    if (!s.config_file.empty()) {
        core::Diagnostics diags;
        auto loaded = load_server_config(s.config_file, diags);
        for (auto& d : diags.items()) std::cerr << d.to_string() << '\n';
        if (!loaded) return false;
        out.cfg = std::move(*loaded);
    }
    ServerConfig& cfg = out.cfg;
    if (!s.zones_dir.empty()) cfg.zones_dir = s.zones_dir;
    if (!s.key_dir.empty()) cfg.dnssec_key_dir = s.key_dir;
    if (cfg.zones_dir.empty()) return fail("no zones: give --zones DIR (or --config FILE with 'zones')");
    std::string why;
    std::string text = s.zone;
    if (text.empty() || text.back() != '.') text += '.';
    auto zone_name = core::Name::from_text(text, core::Name(), &why);
    if (!zone_name) return fail("'" + s.zone + "' is not a domain name: " + why);

    out.zones = zones::load_path(cfg.zones_dir, cfg.limits);
    if (auto errors = zones::load_errors(out.zones, cfg.zones_dir); !errors.empty()) {
        for (auto& d : out.zones.diagnostics.items()) std::cerr << d.to_string() << '\n';
        return fail(cfg.zones_dir + ": the zones do not load; fix them first (signpost check " + cfg.zones_dir + ")");
    }
    for (auto& z : out.zones.catalog->zones)
        if (z.origin == *zone_name) out.zone = &z;
    const zones::Zone* zone = out.zone;
    if (!zone) return fail("no zone " + zone_name->to_key() + " in " + cfg.zones_dir);
    if (!zone->dnssec().sign)
        return fail("zone " + zone->origin.to_key() + " is not signed ([dnssec] sign = true is not set in " + zone->file() +
                    "): a DS record at the parent of an unsigned zone makes it fail validation");
    out.dir = dnssec_key_dir(cfg);
    if (out.dir.empty()) return fail("no key directory: give --key-dir DIR, or --config FILE with dnssec_key_dir or state_file");

    if (!create && !std::filesystem::exists(out.dir))
        return fail("zone " + zone->origin.to_key() + " has no keys: the key directory " + out.dir + " does not exist" +
                    (std::string(cmd) == "ds" ? "; add --create to generate them" : "; start the server (or run signpost dnssec ds --create) first"));
    dnssec::KeyStore store(out.dir);
    out.keys = store.load(zone->origin, zone->dnssec(), create, now, why);
    if (!out.keys) return fail(why);
    for (auto& g : out.keys->generated)
        for (auto& k : out.keys->keys)
            if (k.path == g)
                std::cerr << "signpost dnssec " << cmd << ": generated " << dnssec::to_string(k.role) << " "
                          << k.signer.key_tag() << " (" << algorithm_mnemonic(uint8_t(zone->dnssec().algorithm)) << ") for "
                          << zone->origin.to_key() << ": " << g << ".key and .private\n";
    for (auto& r : out.keys->removed)
        std::cerr << "signpost dnssec " << cmd << ": " << r << " is past its Delete time: left out (its files stay)\n";
    if (!out.keys->complete)
        return fail("zone " + zone->origin.to_key() + " has no " +
                    (zone->dnssec().keys == zones::KeyScheme::Csk ? std::string("CSK") : std::string("KSK and ZSK")) + " in " +
                    out.dir + ": add --create to generate " +
                    (zone->dnssec().keys == zones::KeyScheme::Csk ? "it" : "them") +
                    (std::string(cmd) == "ds" ? "" : " (signpost dnssec ds --create), or start the server"));
    return true;
}

// The DS (and DNSKEY) of every key whose DS the parent should hold at `now`.
void print_ds(const Loaded& l, int64_t now) {
    const std::string owner = l.zone->origin.to_text();
    const std::string ttl = std::to_string(l.zone->soa.ttl);
    bool any = false;
    for (auto& k : l.keys->keys) {
        if (k.signer.flags() != dnssec::kSepKeyFlags) continue;
        if (!dnssec::key_state(k.timing, true, now).ds) continue;
        any = true;
        std::cout << "; " << dnssec::to_string(k.role) << " " << k.signer.key_tag() << ", algorithm "
                  << unsigned(uint8_t(k.signer.key().algorithm())) << " ("
                  << algorithm_mnemonic(uint8_t(k.signer.key().algorithm())) << "), " << k.path << ".key\n";
        std::cout << owner << " " << ttl << " IN DS " << ds_text(dnssec::ds_rdata(l.zone->origin, k.signer.dnskey())) << '\n';
        std::cout << owner << " " << ttl << " IN DNSKEY " << dnskey_text(k.signer.dnskey()) << '\n';
    }
    if (!any) std::cout << "; no key of " << l.zone->origin.to_key() << " wants a DS at the parent now\n";
}

int run_ds(const DsState& s) {
    const int64_t now = std::time(nullptr);
    Loaded l;
    if (!load_zone_keys(s, "ds", s.create, now, l)) return 1;
    print_ds(l, now);
    return 0;
}

// Asks the running daemon to read the keys again (like `signpost reload`).
int ask_reload(const DsState& s, const ServerConfig& cfg) {
    if (s.no_reload) {
        std::cout << "reload: not asked (--no-reload); run `signpost reload` or send SIGHUP to the daemon\n";
        return 0;
    }
    std::string api = s.api;
    if (api.empty())
        if (const char* env = std::getenv("SIGNPOST_API"); env && *env) api = env;
    if (api.empty() && !s.config_file.empty()) {
        if (!cfg.api_enabled) {
            std::cout << "reload: the config has no API; run `signpost reload` or send SIGHUP to the daemon now\n";
            return 0;
        }
        api = (cfg.api.host.find(':') != std::string::npos ? "[" + cfg.api.host + "]" : cfg.api.host) + ":" +
              std::to_string(cfg.api.port);
    }
    std::string token = s.token;
    if (token.empty())
        if (const char* env = std::getenv("SIGNPOST_TOKEN"); env && *env) token = env;
    if (token.empty()) token = cfg.api.token;
    std::cout << "reload: asking the server (API " << (api.empty() ? std::string("default") : api) << "): " << std::flush;
    if (!s.reload) {
        std::cout << "not built in; run `signpost reload` or send SIGHUP to the server\n";
        return 0;
    }
    int rc = s.reload(api, token);
    if (rc != 0)
        std::cout << "failed (above); the key files are written: run `signpost reload` or send SIGHUP to the server "
                     "(a server started later reads them anyway)\n";
    return rc;
}

int run_rollover(const DsState& s) {
    const int64_t now = std::time(nullptr);
    const char* cmd = "rollover";
    if (int(s.zsk) + int(s.ksk) + int(s.csk) != 1) {
        std::cerr << "signpost dnssec rollover: give one of --zsk, --ksk, --csk\n";
        return 1;
    }
    Loaded l;
    if (!load_zone_keys(s, cmd, false, now, l)) return 1;
    const zones::Zone& zone = *l.zone;
    const auto kind = s.zsk ? dnssec::RollKind::Zsk : s.ksk ? dnssec::RollKind::Ksk : dnssec::RollKind::Csk;
    const auto times = dnssec::rollover_times(zone);
    auto plan = dnssec::plan_rollover(*l.keys, zone.dnssec().keys, kind, now, times);
    if (!plan.error.empty()) {
        std::cerr << "signpost dnssec rollover: " << plan.error << '\n';
        return 1;
    }
    dnssec::KeyStore store(l.dir);
    std::string why;
    std::vector<uint16_t> taken;
    for (auto& k : l.keys->keys) taken.push_back(k.signer.key_tag());
    // The old keys' new timing first: if the new key cannot be made, nothing depends on it.
    for (auto& c : plan.changes)
        if (!store.write_timing(l.keys->keys[c.key], c.timing, why)) {
            std::cerr << "signpost dnssec rollover: " << l.keys->keys[c.key].path << ": " << why << '\n';
            return 1;
        }
    auto made = store.create_key(zone.origin, zone.dnssec(), *plan.new_flags, plan.new_timing, taken, why);
    if (!made) {
        std::cerr << "signpost dnssec rollover: " << why << '\n';
        for (auto& c : plan.changes)  // put the old timing back
            store.write_timing(l.keys->keys[c.key], l.keys->keys[c.key].timing, why);
        return 1;
    }
    const std::string z = zone.origin.to_key();
    const std::string tag = std::to_string(made->signer.key_tag());
    if (kind == dnssec::RollKind::Zsk) {
        std::cout << "zone " << z << ": ZSK rollover (pre-publish, RFC 7583 3.2)\n";
        std::cout << "  new ZSK " << tag << " (" << made->path << "): in the DNSKEY set from now ("
                  << dnssec::iso_utc(now) << "), signs from " << dnssec::iso_utc(*plan.new_timing.activate)
                  << " (DNSKEY TTL " << times.dnskey_ttl << "s + propagation " << times.propagation << "s)\n";
        for (auto& c : plan.changes) {
            auto& k = l.keys->keys[c.key];
            std::cout << "  old ZSK " << k.signer.key_tag() << ": signs until " << dnssec::iso_utc(*c.timing.inactive)
                      << ", leaves the DNSKEY set at " << dnssec::iso_utc(*c.timing.remove) << " (largest TTL "
                      << times.max_ttl << "s + propagation " << times.propagation << "s)\n";
        }
        int rc = ask_reload(s, l.cfg);
        std::cout << "next: nothing to do; the server switches at those times (signpost status shows each key's state)\n";
        return rc == 0 ? 0 : 3;
    }
    const char* role = dnssec::to_string(made->role);
    std::cout << "zone " << z << ": " << role << " rollover (double-DS, RFC 7583 3.3.2; CDS/CDNSKEY, RFC 7344)\n";
    std::cout << "  new " << role << " " << tag << " (" << made->path
              << "): in the DNSKEY set from now (" << dnssec::iso_utc(now)
              << "), its DS wanted at the parent (CDS/CDNSKEY), signs nothing until you run ds-seen\n";
    for (auto& k : l.keys->keys)
        if (k.signer.flags() == dnssec::kSepKeyFlags && dnssec::key_state(k.timing, true, now).signing)
            std::cout << "  old " << dnssec::to_string(k.role) << " " << k.signer.key_tag()
                      << ": keeps signing, its DS stays wanted\n";
    int rc = ask_reload(s, l.cfg);
    std::cout << "next: give the parent the new DS (below; a parent that reads CDS finds both), wait until the parent "
                 "serves it, then run:\n  signpost dnssec ds-seen "
              << z << " " << tag << (s.config_file.empty() ? "" : " --config " + s.config_file) << "\n";
    l.keys->keys.push_back(std::move(*made));
    print_ds(l, now);
    return rc == 0 ? 0 : 3;
}

int run_ds_seen(const DsState& s) {
    const int64_t now = std::time(nullptr);
    Loaded l;
    if (!load_zone_keys(s, "ds-seen", false, now, l)) return 1;
    const zones::Zone& zone = *l.zone;
    const auto times = dnssec::rollover_times(zone);
    auto plan = dnssec::plan_ds_seen(*l.keys, zone.dnssec().keys, s.tag, now, times);
    if (!plan.error.empty()) {
        std::cerr << "signpost dnssec ds-seen: " << plan.error << '\n';
        return 1;
    }
    dnssec::KeyStore store(l.dir);
    std::string why;
    // The old keys first (they keep signing until their Inactive), then the new one.
    std::vector<dnssec::KeyChange> order(plan.changes.begin() + 1, plan.changes.end());
    order.push_back(plan.changes.front());
    for (auto& c : order)
        if (!store.write_timing(l.keys->keys[c.key], c.timing, why)) {
            std::cerr << "signpost dnssec ds-seen: " << l.keys->keys[c.key].path << ": " << why << '\n';
            return 1;
        }
    const std::string z = zone.origin.to_key();
    auto& fresh = l.keys->keys[plan.changes.front().key];
    const char* role = dnssec::to_string(fresh.role);
    std::cout << "zone " << z << ": the parent has the DS of " << role << " " << fresh.signer.key_tag() << "\n";
    std::cout << "  " << role << " " << fresh.signer.key_tag() << ": signs from now (" << dnssec::iso_utc(now)
              << "); CDS/CDNSKEY name it alone\n";
    int64_t last = now;
    for (std::size_t i = 1; i < plan.changes.size(); ++i) {
        auto& c = plan.changes[i];
        auto& k = l.keys->keys[c.key];
        std::cout << "  old " << dnssec::to_string(k.role) << " " << k.signer.key_tag() << ": DS no longer wanted, signs until "
                  << dnssec::iso_utc(*c.timing.inactive) << " (DS TTL " << times.ds_ttl << "s + propagation "
                  << times.propagation << "s), leaves the DNSKEY set at " << dnssec::iso_utc(*c.timing.remove) << '\n';
        last = std::max(last, *c.timing.remove);
    }
    int rc = ask_reload(s, l.cfg);
    std::cout << "next: remove the old DS at the parent (a parent that reads CDS does it itself); the rollover ends at "
              << dnssec::iso_utc(last) << "\n";
    for (auto& c : plan.changes) l.keys->keys[c.key].timing = c.timing;
    print_ds(l, now);
    return rc == 0 ? 0 : 3;
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
        if (!z.dnssec().sign) continue;
        auto at = [&](const std::string& what) {
            return core::Diagnostic{core::Severity::Error, z.dnssec().where, "zone '" + z.origin.to_key() + "' [dnssec]: " + what}
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
        auto loaded = store.load(z.origin, z.dnssec(), create, now_unix, why);
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

void add_dnssec_commands(CLI::App& app, ReloadFn reload) {
    auto& s = state();
    s.reload = reload;
    s.dnssec = app.add_subcommand("dnssec", "DNSSEC keys of signed zones (docs/dnssec.md)");
    s.dnssec->require_subcommand(1);
    s.ds = s.dnssec->add_subcommand("ds", "Print the DS (and DNSKEY) records of a signed zone for its registrar");
    s.ds->add_option("ZONE", s.zone, "The zone, e.g. example.com")->required();
    s.ds->add_option("--zones", s.zones_dir, "Directory of TOML zone files (default: 'zones' in --config)");
    s.ds->add_option("--config", s.config_file, "Server config file: its zones, dnssec_key_dir and state_file")
        ->check(CLI::ExistingFile);
    s.ds->add_option("--key-dir", s.key_dir, "Key directory (default: dnssec_key_dir, else the state file's directory)");
    s.ds->add_flag("--create", s.create, "Generate the zone's keys when it has none (a CSK, or a KSK and a ZSK)");

    auto common = [&](CLI::App* c) {
        c->add_option("--zones", s.zones_dir, "Directory of TOML zone files (default: 'zones' in --config)");
        c->add_option("--config", s.config_file, "Server config file: its zones, dnssec_key_dir, state_file and API")
            ->check(CLI::ExistingFile);
        c->add_option("--key-dir", s.key_dir, "Key directory (default: dnssec_key_dir, else the state file's directory)");
        c->add_option("--api", s.api, "The running server's API to reload (default: $SIGNPOST_API, else the config's [api])");
        c->add_option("--token", s.token, "API token (default: $SIGNPOST_TOKEN, else the config's [api] token)");
        c->add_flag("--no-reload", s.no_reload, "Only write the key files; reload the server yourself");
    };
    s.rollover = s.dnssec->add_subcommand(
        "rollover", "Roll a key of a signed zone: --zsk (pre-publish) or --ksk/--csk (double-DS; then ds-seen)");
    s.rollover->add_option("ZONE", s.zone, "The zone, e.g. example.com")->required();
    s.rollover->add_flag("--zsk", s.zsk, "Roll the ZSK (keys = \"ksk+zsk\"): new ZSK published now, signs after DNSKEY TTL + propagation");
    s.rollover->add_flag("--ksk", s.ksk, "Roll the KSK (or a CSK zone's CSK): new key published with its DS wanted; signs after ds-seen");
    s.rollover->add_flag("--csk", s.csk, "Roll the CSK (keys = \"csk\"), as --ksk");
    common(s.rollover);
    s.ds_seen = s.dnssec->add_subcommand(
        "ds-seen", "Confirm that the parent serves the DS of a rollover's new KSK/CSK: it signs, the old key retires");
    s.ds_seen->add_option("ZONE", s.zone, "The zone, e.g. example.com")->required();
    s.ds_seen->add_option("KEYTAG", s.tag, "The new key's tag (rollover printed it)")->required();
    common(s.ds_seen);
}

std::optional<int> run_dnssec_commands() {
    auto& s = state();
    if (s.ds && *s.ds) return run_ds(s);
    if (s.rollover && *s.rollover) return run_rollover(s);
    if (s.ds_seen && *s.ds_seen) return run_ds_seen(s);
    return std::nullopt;
}

}  // namespace signpost::tools
