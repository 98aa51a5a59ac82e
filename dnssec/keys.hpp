// DNSSEC keys of signed zones in a directory (the server config's dnssec_key_dir), in
// BIND's key file format so dnssec-* and ldns-* tools read them: K<zone>.+<alg>+<tag>.key
// (the DNSKEY record) and .private (the secret). Missing keys are generated on request
// (a CSK, or a KSK and a ZSK); files are written owner-read-only (0400), never replaced.
// Start-up, reload and the `signpost dnssec` command only; never on the query path.
// No message this module makes contains secret bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/name.hpp"
#include "dnssec/sign.hpp"
#include "zones/model.hpp"

namespace signpost::dnssec {

// Where a key file problem is: "line:col: " for messages "<path>:line:col: error: ...".
struct KeyFileError {
    uint32_t line = 0, column = 0;
    std::string message;
};

// A .key file: one DNSKEY record (comments ';' and blank lines around it).
struct PublicKeyFile {
    core::Name owner;
    uint16_t flags = 0;
    uint8_t protocol = 0;
    uint8_t algorithm = 0;
    std::string public_key;
};
std::optional<PublicKeyFile> parse_public_key_file(std::string_view text, KeyFileError& error);

// BIND's timing fields of a key (dnssec-settime(8)), Unix seconds; absent: not set.
// Publish: in the DNSKEY set from then; Activate: signs from then; Inactive: stops
// signing; Delete: leaves the DNSKEY set; SyncPublish/SyncDelete: its CDS/CDNSKEY (the
// DS the parent should hold). The rules are key_state() in dnssec/rollover.hpp.
struct KeyTiming {
    std::optional<int64_t> created, publish, activate, inactive, remove /* Delete */, sync_publish, sync_delete;
    bool operator==(const KeyTiming&) const = default;
};

// What a key does at one time (key_state()); the default is a key without timing.
struct KeyState {
    bool published = true;  // in the DNSKEY set
    bool signing = true;    // makes RRSIGs (its role's RRsets)
    bool ds = true;         // a SEP key whose DS the parent should hold: in CDS/CDNSKEY
    bool operator==(const KeyState&) const = default;
};

// A .private file ("Private-key-format: v1.2" or later, "Algorithm:", "PrivateKey:" and
// BIND's timing fields; other fields are ignored).
struct PrivateKeyFile {
    uint8_t algorithm = 0;
    std::string secret;
    KeyTiming timing;
};
std::optional<PrivateKeyFile> parse_private_key_file(std::string_view text, KeyFileError& error);

// "20261204112000" for a Unix time (UTC), as the key files write times; and back.
std::string key_file_time(int64_t unix_seconds);
std::optional<int64_t> parse_key_file_time(std::string_view text);

enum class KeyRole : uint8_t { Csk, Ksk, Zsk };
const char* to_string(KeyRole r) noexcept;  // "CSK", "KSK", "ZSK"

struct ZoneKey {
    std::string path;  // the key's files without extension: "<dir>/Kexample.com.+013+12345"
    KeyRole role = KeyRole::Csk;
    Signer signer;
    int64_t created = 0;  // Unix seconds; 0 when the file does not say
    KeyTiming timing;     // from the .private file
    KeyState state;       // at the time ZoneKeys::at() was asked; all true before
};

// The keys of one zone. DS, CDS and CDNSKEY come from the SEP keys (CSK or KSK) whose
// state says ds; DNSKEY from the published keys; RRSIGs from the signing keys.
struct ZoneKeys {
    core::Name zone;
    std::vector<ZoneKey> keys;
    std::vector<std::string> generated;  // paths of keys made by this load, for the log
    std::vector<std::string> removed;    // keys past their Delete time, left out (files stay)
    bool complete = false;               // every role the scheme needs has a key

    std::vector<std::string> dnskey_rdatas() const;
    std::vector<std::string> ds_rdatas() const;   // SHA-256, one per SEP key the parent should hold
    std::vector<std::string> cds_rdatas() const { return ds_rdatas(); }  // RFC 7344 3.1
    std::vector<std::string> cdnskey_rdatas() const;                     // RFC 7344 3.2
    // The keys that sign the apex key sets (DNSKEY, CDS, CDNSKEY: CSK or KSK) or, with
    // key_set false, everything else (CSK or ZSK); only keys whose state says signing.
    std::vector<const Signer*> signers(bool key_set) const;

    // The keys as they are at `now` (key_state()): states set, keys not published left out.
    ZoneKeys at(int64_t now) const;
    // The first time after `now` at which any key's state changes; nullopt: never.
    std::optional<int64_t> next_event(int64_t now) const;
};

// RFC 8078 4: the CDS and CDNSKEY a zone publishes to ask its parent to remove the DS
// (going insecure): CDS 0 0 0 00, CDNSKEY 0 3 0 AA==.
std::string cds_delete_rdata();
std::string cdnskey_delete_rdata();

// "Kexample.com.+013+12345": the base name BIND gives a key's files.
std::string key_base_name(const core::Name& zone, uint8_t algorithm, uint16_t tag);

class KeyStore {
public:
    explicit KeyStore(std::string dir) : dir_(std::move(dir)) {}
    const std::string& dir() const noexcept { return dir_; }

    // nullopt when the directory can be read and written by this process; else why not:
    // "dnssec_key_dir /x: cannot be read and written: Permission denied; ...".
    std::optional<std::string> check_directory() const;

    // The zone's keys in the directory, each checked (file format, owner, algorithm, tag,
    // private key matching the public one, private file not readable by group or others).
    // With `create`, keys the scheme needs and lacks are generated (and the directory
    // made, mode 0700, if missing); without, `complete` says whether they were all there.
    // nullopt with `error` ("<file>:line:col: error: ..." or "<dir>: ...") on any problem.
    std::optional<ZoneKeys> load(const core::Name& zone, const zones::DnssecSettings& settings, bool create,
                                 int64_t now_unix, std::string& error) const;

    // A new key for `zone` with `flags` (256 ZSK, 257 KSK/CSK) and `timing` written to
    // the key files, its tag unlike any in `taken`. nullopt with `error`.
    std::optional<ZoneKey> create_key(const core::Name& zone, const zones::DnssecSettings& settings, uint16_t flags,
                                      const KeyTiming& timing, const std::vector<uint16_t>& taken,
                                      std::string& error) const;

    // Writes `timing` into the key's .private file (and the comments of its .key file),
    // replacing the files whole (a new file renamed over the old, same mode 0400).
    bool write_timing(const ZoneKey& key, const KeyTiming& timing, std::string& error) const;

private:
    std::string dir_;
};

}  // namespace signpost::dnssec
