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

// A .private file ("Private-key-format: v1.2" or later, "Algorithm:", "PrivateKey:" and
// BIND's timing fields; other fields are ignored).
struct PrivateKeyFile {
    uint8_t algorithm = 0;
    std::string secret;
    std::optional<int64_t> created, publish, activate;  // Unix seconds
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
};

// The keys of one zone. DS, CDS and CDNSKEY come from the SEP keys (CSK or KSK).
struct ZoneKeys {
    core::Name zone;
    std::vector<ZoneKey> keys;
    std::vector<std::string> generated;  // paths of keys made by this load, for the log
    bool complete = false;               // every role the scheme needs has a key

    std::vector<std::string> dnskey_rdatas() const;
    std::vector<std::string> ds_rdatas() const;   // SHA-256, one per SEP key
    std::vector<std::string> cds_rdatas() const { return ds_rdatas(); }  // RFC 7344 3.1
    std::vector<std::string> cdnskey_rdatas() const;                     // RFC 7344 3.2
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

private:
    std::string dir_;
};

}  // namespace signpost::dnssec
