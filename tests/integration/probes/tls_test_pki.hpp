// Test certificates made at run time with OpenSSL (never committed): a CA and
// a server certificate it signs, written as PEM files into a test's TempDir.
// P-256 keys, valid from an hour ago for 10 days.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "support.hpp"

namespace itest {

struct TestPki {
    std::string ca;    // the CA certificate (what a check's ca_file names)
    std::string cert;  // the server certificate, signed by the CA
    std::string key;   // the server's private key
};

namespace pki_detail {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

inline PKey ec_key() {
    PKey k(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    if (!k) throw std::runtime_error("test PKI: cannot generate a key");
    return k;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error(std::string("test PKI: bad extension ") + value);
    const int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok) throw std::runtime_error("test PKI: cannot add an extension");
}

// A CA certificate when `issuer` is null (self-signed), else a server
// certificate for `dns_name` signed by issuer / issuer_key.
inline Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                      const std::string& dns_name, long serial) {
    Cert c(X509_new(), &X509_free);
    if (!c) throw std::runtime_error("test PKI: X509_new failed");
    X509* x = c.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509* signer = issuer ? issuer : x;
    X509_set_issuer_name(x, X509_get_subject_name(signer));
    add_ext(x, signer, NID_subject_key_identifier, "hash");
    if (!issuer) {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
        add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, signer, NID_ext_key_usage, "serverAuth");
        add_ext(x, signer, NID_subject_alt_name, ("DNS:" + dns_name).c_str());
    }
    if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) == 0) throw std::runtime_error("test PKI: cannot sign");
    return c;
}

inline void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("test PKI: cannot write " + path);
    const int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    if (!ok) throw std::runtime_error("test PKI: cannot write " + path);
}

}  // namespace pki_detail

// Writes <prefix>-ca.pem, <prefix>-cert.pem and <prefix>-key.pem into `dir`:
// a CA named "<prefix> test CA" and a certificate for `dns_name` it signs.
inline TestPki make_test_pki(const TempDir& dir, const std::string& prefix, const std::string& dns_name) {
    using namespace pki_detail;
    PKey ca_key = ec_key();
    Cert ca = make_cert(ca_key.get(), prefix + " test CA", nullptr, nullptr, "", 1);
    PKey key = ec_key();
    Cert cert = make_cert(key.get(), dns_name, ca.get(), ca_key.get(), dns_name, 2);
    TestPki out{dir.file(prefix + "-ca.pem"), dir.file(prefix + "-cert.pem"), dir.file(prefix + "-key.pem")};
    write_pem(out.ca, ca.get(), nullptr);
    write_pem(out.cert, cert.get(), nullptr);
    write_pem(out.key, nullptr, key.get());
    return out;
}

}  // namespace itest
