// Key files: BIND's format, read and checked, written once with O_EXCL and a rename that
// never replaces. No secret byte reaches a message.
#include "dnssec/keys.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "dnssec/encoding.hpp"
#include "dnssec/rollover.hpp"

namespace signpost::dnssec {

namespace {

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

struct Token {
    std::string text;
    uint32_t line, column;
};

std::optional<zones::DnssecAlgorithm> algorithm_of(int number) {
    if (number == 13) return zones::DnssecAlgorithm::EcdsaP256Sha256;
    if (number == 15) return zones::DnssecAlgorithm::Ed25519;
    return std::nullopt;
}
const char* mnemonic(zones::DnssecAlgorithm a) {
    return a == zones::DnssecAlgorithm::Ed25519 ? "ED25519" : "ECDSAP256SHA256";
}
std::string unsupported(int number) {
    return "algorithm " + std::to_string(number) + " is not supported; signpost signs with 13 (ECDSAP256SHA256) or 15 (ED25519)";
}

bool all_digits(std::string_view s) {
    if (s.empty() || s.size() > 10) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
    return true;
}

std::string errno_text(int e) { return std::strerror(e); }

// The file's bytes, at most kMaxKeyFileBytes; nullopt with `why` set.
std::optional<std::string> read_small_file(const std::string& path, std::string& why) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        why = errno_text(errno);
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = errno_text(errno);
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        out.append(buf, std::size_t(n));
        if (out.size() > kMaxKeyFileBytes) {
            why = "larger than 64 KiB: not a key file";
            ::close(fd);
            return std::nullopt;
        }
    }
    ::close(fd);
    return out;
}

// Writes `content` to dir/name (mode `mode`, whatever the umask): a temporary file made
// with O_CREAT|O_EXCL, synced, then put in place. `replace`: renamed over what is there;
// otherwise linked, which fails with EEXIST instead of replacing (the rename that never
// replaces). The directory is synced after.
bool write_file(const std::string& dir, const std::string& name, const std::string& content, mode_t mode,
                bool replace, std::string& why) {
    static std::atomic<unsigned> counter{0};
    std::string tmp = dir + "/." + name + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::string path = dir + "/" + name;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        why = tmp + ": " + errno_text(errno);
        return false;
    }
    bool ok = ::fchmod(fd, mode) == 0;
    for (std::size_t done = 0; ok && done < content.size();) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else done += std::size_t(n);
    }
    ok = ok && ::fsync(fd) == 0;
    int e = errno;
    ::close(fd);
    if (!ok) {
        why = tmp + ": " + errno_text(e);
        ::unlink(tmp.c_str());
        return false;
    }
    if ((replace ? ::rename(tmp.c_str(), path.c_str()) : ::link(tmp.c_str(), path.c_str())) != 0) {
        why = path + ": " + errno_text(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    if (!replace) ::unlink(tmp.c_str());
    if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
        ::fsync(d);
        ::close(d);
    }
    return true;
}

std::string ttl_free_dnskey_line(const core::Name& zone, const std::string& rdata) {
    // flags protocol algorithm base64
    uint16_t flags = uint16_t(uint8_t(rdata[0]) << 8 | uint8_t(rdata[1]));
    return zone.to_text() + " IN DNSKEY " + std::to_string(flags) + " " + std::to_string(uint8_t(rdata[2])) + " " +
           std::to_string(uint8_t(rdata[3])) + " " + base64_encode(std::string_view(rdata).substr(4));
}

// The timing fields in the order BIND writes them.
constexpr const char* kTimingFields[] = {"Created", "Publish", "Activate", "Inactive", "Delete", "SyncPublish", "SyncDelete"};

std::optional<int64_t>* timing_slot(KeyTiming& t, std::size_t i) {
    std::optional<int64_t>* slots[] = {&t.created, &t.publish,     &t.activate,   &t.inactive,
                                       &t.remove,  &t.sync_publish, &t.sync_delete};
    return slots[i];
}

// The timing field named `field`, or null.
std::optional<int64_t>* timing_field(KeyTiming& t, std::string_view field) {
    for (std::size_t i = 0; i < std::size(kTimingFields); ++i)
        if (field == kTimingFields[i]) return timing_slot(t, i);
    return nullptr;
}

// "Created: 20261204112000\nPublish: ...\n" for the fields that are set.
std::string timing_lines(const KeyTiming& timing, const char* prefix) {
    KeyTiming t = timing;
    std::string out;
    for (std::size_t i = 0; i < std::size(kTimingFields); ++i)
        if (auto* v = timing_slot(t, i); v->has_value())
            out += std::string(prefix) + kTimingFields[i] + ": " + key_file_time(**v) + "\n";
    return out;
}

}  // namespace

const char* to_string(KeyRole r) noexcept {
    switch (r) {
        case KeyRole::Csk: return "CSK";
        case KeyRole::Ksk: return "KSK";
        case KeyRole::Zsk: return "ZSK";
    }
    return "CSK";
}

std::string key_file_time(int64_t t) {
    std::time_t tt = std::time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

std::optional<int64_t> parse_key_file_time(std::string_view s) {
    if (s.size() != 14) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    auto num = [&](std::size_t at, std::size_t len) { return std::stoi(std::string(s.substr(at, len))); };
    std::tm tm{};
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(4, 2) - 1;
    tm.tm_mday = num(6, 2);
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
    tm.tm_sec = num(12, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return std::nullopt;
    return int64_t(timegm(&tm));
}

std::optional<PublicKeyFile> parse_public_key_file(std::string_view text, KeyFileError& error) {
    std::vector<Token> tokens;
    uint32_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < text.size();) {
        char c = text[i];
        if (c == '\n') {
            ++line;
            line_start = ++i;
            continue;
        }
        if (c == ';') {  // a comment to the end of the line
            while (i < text.size() && text[i] != '\n') ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '(' || c == ')') {
            ++i;
            continue;
        }
        std::size_t start = i;
        // Not strchr(): it finds a NUL byte too, which would end a token before it starts.
        auto separator = [](char s) { return s == ' ' || s == '\t' || s == '\r' || s == '\n' || s == ';' || s == '(' || s == ')'; };
        while (i < text.size() && !separator(text[i])) ++i;
        tokens.push_back({std::string(text.substr(start, i - start)), line, uint32_t(start - line_start + 1)});
    }
    auto fail = [&](uint32_t l, uint32_t col, std::string msg) -> std::optional<PublicKeyFile> {
        error = {l, col, std::move(msg)};
        return std::nullopt;
    };
    if (tokens.empty()) return fail(1, 1, "no DNSKEY record: the file is empty");
    PublicKeyFile out;
    std::string why;
    const Token& owner = tokens[0];
    if (owner.text.empty() || owner.text.back() != '.')
        return fail(owner.line, owner.column, "the owner must be an absolute name such as \"example.com.\", got \"" + owner.text + "\"");
    auto name = core::Name::from_text(owner.text, core::Name(), &why);
    if (!name) return fail(owner.line, owner.column, "bad owner name: " + why);
    out.owner = *name;
    std::size_t i = 1;
    for (int k = 0; k < 2 && i < tokens.size(); ++k) {  // [ttl] [IN], either order
        if (all_digits(tokens[i].text) || iequals(tokens[i].text, "IN")) ++i;
    }
    if (i >= tokens.size() || !iequals(tokens[i].text, "DNSKEY")) {
        const Token& t = i < tokens.size() ? tokens[i] : tokens.back();
        return fail(t.line, t.column, "expected \"<zone>. IN DNSKEY <flags> 3 <algorithm> <base64 key>\"");
    }
    const Token& type = tokens[i++];
    long fields[3];
    for (int k = 0; k < 3; ++k, ++i) {
        if (i >= tokens.size()) return fail(type.line, type.column, "DNSKEY needs flags, protocol, algorithm and a key");
        const Token& t = tokens[i];
        if (!all_digits(t.text) || std::stol(t.text) > (k == 0 ? 65535 : 255))
            return fail(t.line, t.column, std::string(k == 0 ? "flags" : k == 1 ? "protocol" : "algorithm") +
                                              " must be a number, got \"" + t.text + "\"");
        fields[k] = std::stol(t.text);
    }
    if (i >= tokens.size()) return fail(type.line, type.column, "DNSKEY needs flags, protocol, algorithm and a key");
    std::string b64;
    const Token& key_start = tokens[i];
    for (; i < tokens.size(); ++i) b64 += tokens[i].text;
    auto key = base64_decode(b64);
    if (!key || key->empty()) return fail(key_start.line, key_start.column, "the public key is not base64");
    out.flags = uint16_t(fields[0]);
    out.protocol = uint8_t(fields[1]);
    out.algorithm = uint8_t(fields[2]);
    out.public_key = std::move(*key);
    return out;
}

std::optional<PrivateKeyFile> parse_private_key_file(std::string_view text, KeyFileError& error) {
    PrivateKeyFile out;
    bool format = false, algorithm = false, key = false;
    uint32_t line = 0;
    auto fail = [&](uint32_t col, std::string msg) -> std::optional<PrivateKeyFile> {
        error = {line, col, std::move(msg)};
        return std::nullopt;
    };
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view l = text.substr(pos, end - pos);
        pos = end + 1;
        ++line;
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
        if (l.empty()) continue;
        auto colon = l.find(':');
        if (colon == std::string_view::npos) return fail(1, "expected \"Field: value\"");
        std::string_view field = l.substr(0, colon);
        std::size_t vcol = colon + 1;
        while (vcol < l.size() && (l[vcol] == ' ' || l[vcol] == '\t')) ++vcol;
        std::string_view value = l.substr(vcol);
        uint32_t col = uint32_t(vcol + 1);
        if (field == "Private-key-format") {
            if (value.size() < 3 || value.substr(0, 3) != "v1.")
                return fail(col, "unknown private key format \"" + std::string(value) + "\"; expected v1.2 or v1.3");
            format = true;
        } else if (field == "Algorithm") {
            std::size_t n = 0;
            while (n < value.size() && value[n] >= '0' && value[n] <= '9') ++n;
            if (n == 0 || n > 3) return fail(col, "Algorithm must be a number such as 13, got \"" + std::string(value) + "\"");
            out.algorithm = uint8_t(std::stoi(std::string(value.substr(0, n))) & 0xff);
            if (std::stoi(std::string(value.substr(0, n))) > 255) return fail(col, "Algorithm must be 0..255");
            algorithm = true;
        } else if (field == "PrivateKey") {
            auto bytes = base64_decode(value);
            if (!bytes || bytes->empty()) return fail(col, "PrivateKey is not base64");  // never the value itself
            out.secret = std::move(*bytes);
            key = true;
        } else if (auto* slot = timing_field(out.timing, field)) {
            // BIND writes "20261204112000" and may add " (Fri Dec  4 11:20:00 2026)" in .key comments only.
            auto t = parse_key_file_time(value);
            if (!t) return fail(col, std::string(field) + " must be a time such as 20261204112000, got \"" + std::string(value) + "\"");
            *slot = *t;
        }
        // Other fields (BIND's Revoke, DSPublish, ...) are not used.
    }
    line = line ? line : 1;
    if (!format) return fail(1, "no \"Private-key-format:\" line: not a private key file");
    if (!algorithm) return fail(1, "no \"Algorithm:\" line");
    if (!key) return fail(1, "no \"PrivateKey:\" line");
    return out;
}

std::string key_base_name(const core::Name& zone, uint8_t algorithm, uint16_t tag) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "+%03u+%05u", unsigned(algorithm), unsigned(tag));
    return "K" + zone.to_text() + buf;
}

std::string cds_delete_rdata() { return std::string("\0\0\0\0\0", 5); }
std::string cdnskey_delete_rdata() { return std::string("\0\0\3\0\0", 5); }

std::vector<std::string> ZoneKeys::dnskey_rdatas() const {
    std::vector<std::string> out;
    for (auto& k : keys)
        if (k.state.published) out.push_back(k.signer.dnskey());
    return out;
}
std::vector<std::string> ZoneKeys::ds_rdatas() const {
    std::vector<std::string> out;
    for (auto& k : keys)
        if (k.signer.flags() == kSepKeyFlags && k.state.published && k.state.ds)
            out.push_back(ds_rdata(zone, k.signer.dnskey()));
    return out;
}
std::vector<std::string> ZoneKeys::cdnskey_rdatas() const {
    std::vector<std::string> out;
    for (auto& k : keys)
        if (k.signer.flags() == kSepKeyFlags && k.state.published && k.state.ds) out.push_back(k.signer.dnskey());
    return out;
}
std::vector<const Signer*> ZoneKeys::signers(bool key_set) const {
    std::vector<const Signer*> out;
    for (auto& k : keys)
        if (k.state.published && k.state.signing && (key_set ? k.role != KeyRole::Zsk : k.role != KeyRole::Ksk))
            out.push_back(&k.signer);
    return out;
}
ZoneKeys ZoneKeys::at(int64_t now) const {
    ZoneKeys out;
    out.zone = zone;
    out.complete = complete;
    for (auto& k : keys) {
        KeyState st = key_state(k.timing, k.signer.flags() == kSepKeyFlags, now);
        if (!st.published) continue;
        out.keys.push_back(k);
        out.keys.back().state = st;
    }
    return out;
}
std::optional<int64_t> ZoneKeys::next_event(int64_t now) const {
    std::optional<int64_t> out;
    for (auto& k : keys)
        if (auto t = next_key_event(k.timing, now); t && (!out || *t < *out)) out = t;
    return out;
}

std::optional<std::string> KeyStore::check_directory() const {
    const std::string what = "dnssec_key_dir " + dir_;
    struct stat st{};
    if (::stat(dir_.c_str(), &st) != 0)
        return what + ": " + errno_text(errno) +
               "; create it (mode 0700, owned by the user signpost runs as) or set dnssec_key_dir";
    if (!S_ISDIR(st.st_mode)) return what + ": not a directory";
    if (::access(dir_.c_str(), R_OK | W_OK | X_OK) != 0)
        return what + ": cannot be read and written by uid " + std::to_string(::geteuid()) + ": " + errno_text(errno) +
               "; signed zones keep their keys there";
    if (st.st_mode & S_IWOTH)
        return what + ": anyone may write to it (mode " + [&] {
            char b[8];
            std::snprintf(b, sizeof b, "%04o", unsigned(st.st_mode & 07777));
            return std::string(b);
        }() + "); chmod 0700 it";
    return std::nullopt;
}

std::optional<ZoneKeys> KeyStore::load(const core::Name& zone, const zones::DnssecSettings& settings, bool create,
                                       int64_t now, std::string& error) const {
    const std::string zone_text = zone.to_text();
    if (zone_text.find('/') != std::string::npos) {
        error = "zone " + zone_text + ": a name with '/' cannot name key files";
        return std::nullopt;
    }
    if (create && ::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
        error = "dnssec_key_dir " + dir_ + ": cannot be made: " + errno_text(errno);
        return std::nullopt;
    }
    if (auto why = check_directory()) {
        error = *why;
        return std::nullopt;
    }
    const uint8_t want_alg = uint8_t(settings.algorithm);
    const bool csk = settings.keys == zones::KeyScheme::Csk;
    ZoneKeys out;
    out.zone = zone;

    // The zone's .key files, in name order (readdir's order is the filesystem's).
    std::vector<std::string> bases;
    DIR* d = ::opendir(dir_.c_str());
    if (!d) {
        error = "dnssec_key_dir " + dir_ + ": " + errno_text(errno);
        return std::nullopt;
    }
    const std::string prefix = "K" + zone_text + "+";
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        // K<zone>.+AAA+TTTTT.key
        if (n.size() != prefix.size() + 13 || n.compare(0, prefix.size(), prefix) != 0 ||
            n.compare(n.size() - 4, 4, ".key") != 0)
            continue;
        std::string tail = n.substr(prefix.size(), 9);  // AAA+TTTTT
        if (!all_digits(tail.substr(0, 3)) || tail[3] != '+' || !all_digits(tail.substr(4, 5))) continue;
        bases.push_back(n.substr(0, n.size() - 4));
    }
    ::closedir(d);
    std::sort(bases.begin(), bases.end());

    std::vector<uint16_t> taken;  // every tag in the directory, deleted keys' too
    bool deleted_sep = false, deleted_zsk = false;
    for (auto& base : bases) {
        std::string path = dir_ + "/" + base;
        int name_alg = std::stoi(base.substr(prefix.size(), 3));
        int name_tag = std::stoi(base.substr(prefix.size() + 4, 5));
        std::string why;
        auto pub_text = read_small_file(path + ".key", why);
        if (!pub_text) {
            error = path + ".key: cannot be read: " + why;
            return std::nullopt;
        }
        KeyFileError fe;
        auto pub = parse_public_key_file(*pub_text, fe);
        auto at = [&](const std::string& file, uint32_t l, uint32_t c) {
            return file + ":" + std::to_string(l) + ":" + std::to_string(c) + ": error: ";
        };
        if (!pub) {
            error = at(path + ".key", fe.line, fe.column) + fe.message;
            return std::nullopt;
        }
        std::string in_key = at(path + ".key", 1, 1);
        if (pub->owner != zone) {
            error = in_key + "the key is for " + pub->owner.to_text() + ", not " + zone_text;
            return std::nullopt;
        }
        if (pub->protocol != kDnskeyProtocol || (pub->flags != kZoneKeyFlags && pub->flags != kSepKeyFlags)) {
            error = in_key + "not a zone key: flags must be 256 (ZSK) or 257 (KSK, CSK) and protocol 3, got flags " +
                    std::to_string(pub->flags) + " protocol " + std::to_string(pub->protocol);
            return std::nullopt;
        }
        if (pub->algorithm != name_alg) {
            error = in_key + "the file name says algorithm " + std::to_string(name_alg) + ", the key is algorithm " +
                    std::to_string(pub->algorithm);
            return std::nullopt;
        }
        auto alg = algorithm_of(pub->algorithm);
        if (!alg) {
            error = in_key + unsupported(pub->algorithm);
            return std::nullopt;
        }
        if (pub->algorithm != want_alg) {
            error = in_key + "the key is " + mnemonic(*alg) + " but zone " + zone.to_key() + " has [dnssec] algorithm = \"" +
                    zones::to_string(settings.algorithm) +
                    "\"; changing the algorithm (an algorithm rollover) is not supported yet: set the algorithm back, "
                    "or move the zone's key files away to start over with new keys (and a new DS at the registrar)";
            return std::nullopt;
        }
        std::string rdata = dnskey_rdata(pub->flags, pub->algorithm, pub->public_key);
        if (key_tag(rdata) != name_tag) {
            error = in_key + "the file name says key tag " + std::to_string(name_tag) + ", the key's tag is " +
                    std::to_string(key_tag(rdata));
            return std::nullopt;
        }
        // The secret: readable by its owner only.
        std::string priv_path = path + ".private";
        struct stat st{};
        if (::stat(priv_path.c_str(), &st) != 0) {
            error = priv_path + ": " + errno_text(errno) + "; every .key file needs its .private file";
            return std::nullopt;
        }
        if (st.st_mode & 077) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
            error = priv_path + ": group or others may access this private key (mode " + mode +
                    "); only its owner may: chmod 0400 " + priv_path;
            return std::nullopt;
        }
        auto priv_text = read_small_file(priv_path, why);
        if (!priv_text) {
            error = priv_path + ": cannot be read: " + why;
            return std::nullopt;
        }
        auto priv = parse_private_key_file(*priv_text, fe);
        if (!priv) {
            error = at(priv_path, fe.line, fe.column) + fe.message;
            return std::nullopt;
        }
        if (priv->algorithm != pub->algorithm) {
            error = at(priv_path, 1, 1) + "Algorithm " + std::to_string(priv->algorithm) + " does not match the .key file's " +
                    std::to_string(pub->algorithm);
            return std::nullopt;
        }
        auto key = SigningKey::from_private(*alg, priv->secret, pub->public_key, &why);
        if (!key) {
            error = at(priv_path, 1, 1) + why;
            return std::nullopt;
        }
        KeyRole role = pub->flags == kZoneKeyFlags ? KeyRole::Zsk : csk ? KeyRole::Csk : KeyRole::Ksk;
        if (csk && role == KeyRole::Zsk) {
            error = in_key + "a zone-signing key (flags 256), but zone " + zone.to_key() +
                    " has [dnssec] keys = \"csk\"; set keys = \"ksk+zsk\" or move the key's files away";
            return std::nullopt;
        }
        ZoneKey k{path, role, Signer(zone, pub->flags, std::move(*key)), priv->timing.created.value_or(0), priv->timing, {}};
        taken.push_back(k.signer.key_tag());
        if (priv->timing.remove && *priv->timing.remove <= now) {
            // Past its Delete time: out of the zone for good; its files stay for the operator.
            out.removed.push_back(path);
            (pub->flags == kSepKeyFlags ? deleted_sep : deleted_zsk) = true;
            continue;
        }
        out.keys.push_back(std::move(k));
    }

    auto has = [&](uint16_t flags) {
        for (auto& k : out.keys)
            if (k.signer.flags() == flags) return true;
        return false;
    };
    std::vector<uint16_t> missing;
    for (uint16_t flags : {kSepKeyFlags, kZoneKeyFlags}) {
        if (flags == kZoneKeyFlags && csk) continue;
        if (has(flags)) continue;
        // Keys that were there and are all past their Delete time: a new key now would
        // not match the DS at the parent. Never made silently.
        if (flags == kSepKeyFlags ? deleted_sep : deleted_zsk) {
            error = "zone " + zone.to_key() + ": every " + (flags == kSepKeyFlags ? (csk ? "CSK" : "KSK") : "ZSK") +
                    " in " + dir_ + " is past its Delete time (" + std::to_string(out.removed.size()) +
                    " key(s), e.g. " + out.removed.front() +
                    ".private); set a later Delete, or move the files away to start over with new keys";
            return std::nullopt;
        }
        missing.push_back(flags);
    }
    if (create) {
        for (uint16_t flags : missing) {
            KeyTiming t;
            t.created = t.publish = t.activate = now;
            auto made = create_key(zone, settings, flags, t, taken, error);
            if (!made) return std::nullopt;
            taken.push_back(made->signer.key_tag());
            out.generated.push_back(made->path);
            out.keys.push_back(std::move(*made));
        }
        missing.clear();
    }
    out.complete = missing.empty();
    for (auto& k : out.keys) k.state = key_state(k.timing, k.signer.flags() == kSepKeyFlags, now);
    if (out.complete)
        if (auto why = check_key_timeline(out, settings.keys, now)) {
            error = *why;
            return std::nullopt;
        }
    return out;
}

std::optional<ZoneKey> KeyStore::create_key(const core::Name& zone, const zones::DnssecSettings& settings,
                                            uint16_t flags, const KeyTiming& timing,
                                            const std::vector<uint16_t>& taken, std::string& error) const {
    const uint8_t want_alg = uint8_t(settings.algorithm);
    const bool csk = settings.keys == zones::KeyScheme::Csk;
    const std::string zone_text = zone.to_text();
    std::optional<Signer> made;
    for (int tries = 0; tries < 16 && !made; ++tries) {
        Signer s(zone, flags, SigningKey::generate(settings.algorithm));
        if (std::find(taken.begin(), taken.end(), s.key_tag()) == taken.end()) made.emplace(std::move(s));
    }
    if (!made) {
        error = "zone " + zone.to_key() + ": no new key with an unused key tag after 16 tries";
        return std::nullopt;
    }
    std::string base = key_base_name(zone, want_alg, made->key_tag());
    KeyRole role = flags == kZoneKeyFlags ? KeyRole::Zsk : csk ? KeyRole::Csk : KeyRole::Ksk;
    std::string secret = made->key().private_bytes();
    std::string priv = "Private-key-format: v1.3\nAlgorithm: " + std::to_string(want_alg) + " (" +
                       mnemonic(settings.algorithm) + ")\nPrivateKey: " + base64_encode(secret) + "\n" +
                       timing_lines(timing, "");
    std::fill(secret.begin(), secret.end(), '\0');
    std::string pub = "; This is a " + std::string(role == KeyRole::Zsk ? "zone-signing" : "key-signing") +
                      " key (signpost " + to_string(role) + "), keyid " + std::to_string(made->key_tag()) + ", for " +
                      zone_text + "\n" + timing_lines(timing, "; ") + ttl_free_dnskey_line(zone, made->dnskey()) + "\n";
    std::string why;
    bool wrote = write_file(dir_, base + ".private", priv, 0400, false, why);
    std::fill(priv.begin(), priv.end(), '\0');
    if (!wrote) {
        error = "dnssec_key_dir " + dir_ + ": cannot write a new key: " + why;
        return std::nullopt;
    }
    if (!write_file(dir_, base + ".key", pub, 0400, false, why)) {
        ::unlink((dir_ + "/" + base + ".private").c_str());
        error = "dnssec_key_dir " + dir_ + ": cannot write a new key: " + why;
        return std::nullopt;
    }
    return ZoneKey{dir_ + "/" + base, role, std::move(*made), timing.created.value_or(0), timing, {}};
}

bool KeyStore::write_timing(const ZoneKey& key, const KeyTiming& timing, std::string& error) const {
    const auto slash = key.path.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string(".") : key.path.substr(0, slash);
    const std::string base = slash == std::string::npos ? key.path : key.path.substr(slash + 1);
    std::string why;
    // Every line but the timing fields as it is, then the timing fields (BIND reads them anywhere).
    auto rewrite = [&](const std::string& file, const char* prefix) -> std::optional<std::string> {
        auto text = read_small_file(key.path + file, why);
        if (!text) {
            error = key.path + file + ": cannot be read: " + why;
            return std::nullopt;
        }
        std::string kept, record;
        for (std::size_t pos = 0; pos < text->size();) {
            std::size_t end = text->find('\n', pos);
            if (end == std::string::npos) end = text->size();
            std::string_view l(text->data() + pos, end - pos);
            pos = end + 1;
            std::string_view f = l;
            if (*prefix && f.substr(0, 2) == "; ") f.remove_prefix(2);
            auto colon = f.find(':');
            KeyTiming scratch;
            bool timing_line = (*prefix ? l.substr(0, 2) == "; " : true) && colon != std::string_view::npos &&
                               timing_field(scratch, f.substr(0, colon)) != nullptr;
            if (timing_line) continue;
            // In the .key file the DNSKEY record comes last, after the comments.
            if (*prefix && !l.empty() && l[0] != ';') (record += l) += '\n';
            else (kept += l) += '\n';
        }
        std::fill(text->begin(), text->end(), '\0');
        while (kept.size() >= 2 && kept[kept.size() - 1] == '\n' && kept[kept.size() - 2] == '\n') kept.pop_back();
        return kept + timing_lines(timing, prefix) + record;
    };
    auto priv = rewrite(".private", "");
    if (!priv) return false;
    bool ok = write_file(dir, base + ".private", *priv, 0400, true, why);
    std::fill(priv->begin(), priv->end(), '\0');
    if (!ok) {
        error = "cannot write the new timing: " + why;
        return false;
    }
    auto pub = rewrite(".key", "; ");
    if (!pub) return false;
    if (!write_file(dir, base + ".key", *pub, 0400, true, why)) {
        error = "cannot write the new timing: " + why + " (the .private file has it)";
        return false;
    }
    return true;
}

}  // namespace signpost::dnssec
