// The key store: generated keys in BIND's format, owner-only files, the same keys after a
// restart, and a clear refusal for every broken or unsafe file.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "dnssec/keys.hpp"
#include "ldns_support.hpp"

using namespace signpost;
using namespace signpost::dnssec;
using test::name;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kNow = 1'796'000'000;  // 2026-11-30

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/signpost-keys-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

zones::DnssecSettings settings(zones::KeyScheme scheme = zones::KeyScheme::Csk,
                               zones::DnssecAlgorithm alg = zones::DnssecAlgorithm::EcdsaP256Sha256) {
    zones::DnssecSettings s;
    s.sign = true;
    s.keys = scheme;
    s.algorithm = alg;
    return s;
}

unsigned mode_of(const std::string& p) {
    struct stat st{};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

std::string read(const std::string& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
}
void write(const std::string& p, const std::string& text, mode_t mode = 0400) {
    fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace);
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
}

}  // namespace

TEST_CASE("keys: a CSK is generated once, owner-read-only, and found again after a restart") {
    TempDir dir;
    KeyStore store(dir.path);
    std::string err;
    auto none = store.load(name("example.com."), settings(), false, kNow, err);
    REQUIRE(none);
    CHECK_FALSE(none->complete);
    CHECK(none->keys.empty());
    CHECK(fs::is_empty(dir.path));

    auto made = store.load(name("example.com."), settings(), true, kNow, err);
    REQUIRE_MESSAGE(made, err);
    REQUIRE(made->keys.size() == 1);
    CHECK(made->complete);
    auto& k = made->keys[0];
    CHECK(k.role == KeyRole::Csk);
    CHECK(k.signer.flags() == kSepKeyFlags);
    CHECK(k.path == dir.path + "/" + key_base_name(name("example.com."), 13, k.signer.key_tag()));
    CHECK(made->generated == std::vector<std::string>{k.path});
    CHECK(mode_of(k.path + ".private") == 0400);
    CHECK(mode_of(k.path + ".key") == 0400);
    // Nothing else is left in the directory (no temporary files).
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
    std::string priv = read(k.path + ".private");
    CHECK(priv.rfind("Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ", 0) == 0);
    CHECK(priv.find("Created: 20261130") != std::string::npos);

    auto again = store.load(name("example.com."), settings(), true, kNow + 60, err);
    REQUIRE_MESSAGE(again, err);
    REQUIRE(again->keys.size() == 1);
    CHECK(again->generated.empty());
    CHECK(again->keys[0].signer.key_tag() == k.signer.key_tag());
    CHECK(again->keys[0].signer.dnskey() == k.signer.dnskey());
    CHECK(again->keys[0].created == kNow);
    CHECK(again->ds_rdatas() == made->ds_rdatas());
    CHECK(again->cds_rdatas() == again->ds_rdatas());
    CHECK(again->cdnskey_rdatas() == std::vector<std::string>{k.signer.dnskey()});
}

TEST_CASE("keys: ldns reads the key files we write") {
    TempDir dir;
    std::string err;
    for (auto alg : {zones::DnssecAlgorithm::EcdsaP256Sha256, zones::DnssecAlgorithm::Ed25519}) {
        CAPTURE(zones::to_string(alg));
        auto zone = name(alg == zones::DnssecAlgorithm::Ed25519 ? "ed.example." : "ec.example.");
        auto keys = KeyStore(dir.path).load(zone, settings(zones::KeyScheme::Csk, alg), true, kNow, err);
        REQUIRE_MESSAGE(keys, err);
        auto& k = keys->keys.at(0);
        // The .key file: the DNSKEY record.
        FILE* f = std::fopen((k.path + ".key").c_str(), "r");
        REQUIRE(f);
        ldns_rr* rr = nullptr;
        REQUIRE(ldns_rr_new_frm_fp(&rr, f, nullptr, nullptr, nullptr) == LDNS_STATUS_OK);
        std::fclose(f);
        core::LdnsRr owned(rr);
        auto mine = test::as_ldns(zone, zones::rrtype::DNSKEY, 3600, k.signer.dnskey());
        CHECK(ldns_rr_compare(rr, mine.get()) == 0);
        // The .private file: ldns derives the same public key from it.
        f = std::fopen((k.path + ".private").c_str(), "r");
        REQUIRE(f);
        ldns_key* key = nullptr;
        ldns_status st = ldns_key_new_frm_fp(&key, f);
        std::fclose(f);
        REQUIRE_MESSAGE(st == LDNS_STATUS_OK, ldns_get_errorstr_by_id(st));
        ldns_key_set_flags(key, kSepKeyFlags);
        ldns_key_set_pubkey_owner(key, ldns_rdf_clone(ldns_rr_owner(mine.get())));
        core::LdnsRr theirs(ldns_key2rr(key));
        ldns_key_deep_free(key);
        REQUIRE(theirs);
        CHECK(test::rdf_bytes(ldns_rr_rdf(theirs.get(), 3)) == k.signer.key().public_key());
        // DS as ldns computes it.
        core::LdnsRr ds(ldns_key_rr2ds(mine.get(), LDNS_SHA256));
        auto our_ds = test::as_ldns(zone, zones::rrtype::DS, 3600, keys->ds_rdatas().at(0));
        CHECK(test::rr_text(ds.get()) == test::rr_text(our_ds.get()));
    }
}

TEST_CASE("keys: KSK and ZSK on request, a CSK zone moving to ksk+zsk keeps its SEP key") {
    TempDir dir;
    KeyStore store(dir.path);
    std::string err;
    auto csk = store.load(name("example.com."), settings(), true, kNow, err);
    REQUIRE(csk);
    auto split = store.load(name("example.com."), settings(zones::KeyScheme::KskZsk), true, kNow, err);
    REQUIRE_MESSAGE(split, err);
    REQUIRE(split->keys.size() == 2);
    CHECK(split->generated.size() == 1);
    int ksk = 0, zsk = 0;
    for (auto& k : split->keys) {
        if (k.role == KeyRole::Ksk) {
            ++ksk;
            CHECK(k.signer.key_tag() == csk->keys[0].signer.key_tag());
        }
        if (k.role == KeyRole::Zsk) {
            ++zsk;
            CHECK(k.signer.flags() == kZoneKeyFlags);
            CHECK(read(k.path + ".key").find("zone-signing key (signpost ZSK)") != std::string::npos);
        }
    }
    CHECK(ksk == 1);
    CHECK(zsk == 1);
    CHECK(split->ds_rdatas().size() == 1);  // only the SEP key goes to the parent
    // Back to a CSK with a ZSK still there: refused, with what to do.
    auto back = store.load(name("example.com."), settings(), true, kNow, err);
    CHECK_FALSE(back);
    CHECK(err.find(": error: a zone-signing key (flags 256), but zone example.com has [dnssec] keys = \"csk\"; set keys = "
                   "\"ksk+zsk\" or move the key's files away") != std::string::npos);
    // Another zone in the same directory has its own keys.
    auto other = store.load(name("example.net."), settings(), false, kNow, err);
    REQUIRE(other);
    CHECK(other->keys.empty());
}

TEST_CASE("keys: broken, foreign and unsafe key files are refused with the file and what to do") {
    TempDir dir;
    KeyStore store(dir.path);
    std::string err;
    auto made = store.load(name("example.com."), settings(), true, kNow, err);
    REQUIRE(made);
    const std::string base = made->keys[0].path;
    const std::string priv = read(base + ".private"), pub = read(base + ".key");
    auto load = [&](zones::DnssecSettings s = settings()) {
        err.clear();
        return store.load(name("example.com."), s, true, kNow, err);
    };
    SUBCASE("algorithm mismatch") {
        CHECK_FALSE(load(settings(zones::KeyScheme::Csk, zones::DnssecAlgorithm::Ed25519)));
        CHECK(err == base + ".key:1:1: error: the key is ECDSAP256SHA256 but zone example.com has [dnssec] algorithm = "
                            "\"ed25519\"; changing the algorithm (an algorithm rollover) is not supported yet: set the "
                            "algorithm back, or move the zone's key files away to start over with new keys (and a new DS "
                            "at the registrar)");
    }
    SUBCASE("a private key that others may read") {
        ::chmod((base + ".private").c_str(), 0644);
        CHECK_FALSE(load());
        CHECK(err == base + ".private: group or others may access this private key (mode 0644); only its owner may: chmod 0400 " +
                         base + ".private");
        ::chmod((base + ".private").c_str(), 0600);
        CHECK(load());
    }
    SUBCASE("a corrupt .key file") {
        std::string bad = pub;
        bad.replace(bad.find("DNSKEY 257 3 13 ") + 16, 4, "!!!!");
        write(base + ".key", bad);
        CHECK_FALSE(load());
        CHECK(err.rfind(base + ".key:5:", 0) == 0);
        CHECK(err.find(": error: the public key is not base64") != std::string::npos);
    }
    SUBCASE("a corrupt .private file never shows the secret") {
        std::string bad = priv;
        auto at = bad.find("PrivateKey: ") + 12;
        bad[at] = '*';
        write(base + ".private", bad);
        CHECK_FALSE(load());
        CHECK(err == base + ".private:3:13: error: PrivateKey is not base64");
    }
    SUBCASE("a private key that is not the public key's") {
        TempDir other;
        auto o = KeyStore(other.path).load(name("example.com."), settings(), true, kNow, err);
        REQUIRE(o);
        write(base + ".private", read(o->keys[0].path + ".private"));
        CHECK_FALSE(load());
        CHECK(err == base + ".private:1:1: error: the private key does not match the public key");
    }
    SUBCASE("a key of another zone under this zone's file name") {
        std::string bad = pub;
        bad.replace(bad.find("\nexample.com. IN"), 16, "\nexample.org. IN");
        write(base + ".key", bad);
        CHECK_FALSE(load());
        CHECK(err == base + ".key:1:1: error: the key is for example.org., not example.com.");
    }
    SUBCASE("a .key without its .private") {
        fs::remove(base + ".private");
        CHECK_FALSE(load());
        CHECK(err == base + ".private: No such file or directory; every .key file needs its .private file");
    }
    SUBCASE("the directory") {
        KeyStore missing(dir.path + "/none/deeper");
        CHECK(missing.check_directory() == "dnssec_key_dir " + dir.path +
                                               "/none/deeper: No such file or directory; create it (mode 0700, owned by "
                                               "the user signpost runs as) or set dnssec_key_dir");
        CHECK_FALSE(missing.load(name("example.com."), settings(), true, kNow, err));
        CHECK(err == "dnssec_key_dir " + dir.path + "/none/deeper: cannot be made: No such file or directory");
        KeyStore file(base + ".key");
        CHECK(file.check_directory() == "dnssec_key_dir " + base + ".key: not a directory");
        ::chmod(dir.path.c_str(), 0777);
        CHECK(store.check_directory() == "dnssec_key_dir " + dir.path + ": anyone may write to it (mode 0777); chmod 0700 it");
        ::chmod(dir.path.c_str(), 0700);
        if (::geteuid() != 0) {  // root reads and writes anything
            ::chmod(dir.path.c_str(), 0500);
            CHECK(store.check_directory()->find(": cannot be read and written by uid ") != std::string::npos);
            ::chmod(dir.path.c_str(), 0700);
        }
        // A missing directory is made (0700) when keys are created.
        KeyStore fresh(dir.path + "/new");
        auto k = fresh.load(name("example.com."), settings(), true, kNow, err);
        REQUIRE_MESSAGE(k, err);
        CHECK(mode_of(dir.path + "/new") == 0700);
    }
}

TEST_CASE("keys: the key file parsers report line and column") {
    KeyFileError e;
    auto ok = parse_public_key_file("; comment\n\nexample.com. 3600 IN DNSKEY 257 3 13 ( AAAA\n BBBB )\n", e);
    REQUIRE(ok);
    CHECK(ok->owner == name("example.com."));
    CHECK(ok->flags == 257);
    CHECK(ok->public_key.size() == 6);
    CHECK_FALSE(parse_public_key_file("", e));
    CHECK(e.message == "no DNSKEY record: the file is empty");
    CHECK_FALSE(parse_public_key_file("example.com IN DNSKEY 257 3 13 AAAA\n", e));
    CHECK(e.message == "the owner must be an absolute name such as \"example.com.\", got \"example.com\"");
    CHECK_FALSE(parse_public_key_file("example.com. IN DS 1 2 3 AAAA\n", e));
    CHECK((e.line == 1 && e.column == 17));
    CHECK_FALSE(parse_public_key_file("example.com. IN DNSKEY x 3 13 AAAA\n", e));
    CHECK(e.message == "flags must be a number, got \"x\"");
    CHECK_FALSE(parse_public_key_file("example.com. IN DNSKEY 257 3 13\n", e));
    CHECK(e.message == "DNSKEY needs flags, protocol, algorithm and a key");

    auto p = parse_private_key_file("Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: AAAA\n"
                                    "Created: 20261204112000\nUnknown: x\n", e);
    REQUIRE(p);
    CHECK(p->algorithm == 15);
    CHECK(p->secret == std::string(3, '\0'));
    CHECK(p->timing.created == 1796383200);
    CHECK_FALSE(parse_private_key_file("Algorithm: 13\nPrivateKey: AAAA\n", e));
    CHECK(e.message == "no \"Private-key-format:\" line: not a private key file");
    CHECK_FALSE(parse_private_key_file("Private-key-format: v2.0\n", e));
    CHECK((e.line == 1 && e.column == 21));
    CHECK_FALSE(parse_private_key_file("Private-key-format: v1.3\nAlgorithm: RSA\n", e));
    CHECK(e.message == "Algorithm must be a number such as 13, got \"RSA\"");
    CHECK_FALSE(parse_private_key_file("Private-key-format: v1.3\nCreated: yesterday\n", e));
    CHECK((e.line == 2 && e.column == 10));
    CHECK(key_file_time(1796383200) == "20261204112000");
    CHECK(parse_key_file_time("20261304112000") == std::nullopt);
}

TEST_CASE("keys: a NUL byte in a .key file is an error, not an endless token") {
    KeyFileError e;
    CHECK_FALSE(parse_public_key_file(std::string("example.com. IN DNSKEY 257 3 13 AA\0AA\n", 37), e));
    CHECK(e.message == "the public key is not base64");
    CHECK_FALSE(parse_public_key_file(std::string("\0", 1), e));
}

TEST_CASE("keys: CDS and CDNSKEY, and RFC 8078's delete records, as ldns reads them") {
    TempDir dir;
    std::string err;
    auto keys = KeyStore(dir.path).load(name("example.com."), settings(zones::KeyScheme::KskZsk), true, kNow, err);
    REQUIRE_MESSAGE(keys, err);
    CHECK(keys->dnskey_rdatas().size() == 2);
    REQUIRE(keys->cds_rdatas().size() == 1);
    REQUIRE(keys->cdnskey_rdatas().size() == 1);
    auto cdnskey = test::as_ldns(name("example.com."), 60, 3600, keys->cdnskey_rdatas()[0]);
    REQUIRE(cdnskey);
    CHECK(test::rr_text(cdnskey.get()).find("CDNSKEY\t257 3 13 ") != std::string::npos);
    auto del = test::as_ldns(name("example.com."), 59, 3600, cds_delete_rdata());
    REQUIRE(del);
    CHECK(test::rr_text(del.get()) == "example.com.\t3600\tIN\tCDS\t0 0 0 00");
    auto kdel = test::as_ldns(name("example.com."), 60, 3600, cdnskey_delete_rdata());
    REQUIRE(kdel);
    CHECK(test::rr_text(kdel.get()) == "example.com.\t3600\tIN\tCDNSKEY\t0 3 0 AA==");
}
