// Fuzz target: bytes in, as a DNSSEC key file. Both parsers of dnssec/keys.hpp (the .key
// DNSKEY record and the .private fields) and base64. A failed parse must say where
// (line >= 1, column >= 1) and never crash; a parsed .private key with a 32-byte secret
// goes through SigningKey::from_private (OpenSSL), matched against a parsed public key
// when the input holds both; base64 must round-trip. No files, no directories.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dnssec/encoding.hpp"
#include "dnssec/keys.hpp"

using namespace signpost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    dnssec::KeyFileError e;
    auto pub = dnssec::parse_public_key_file(text, e);
    if (!pub && (e.line == 0 || e.column == 0 || e.message.empty())) std::abort();
    e = {};
    auto priv = dnssec::parse_private_key_file(text, e);
    if (!priv && (e.line == 0 || e.column == 0 || e.message.empty())) std::abort();
    if (priv && priv->secret.size() == 32 && (priv->algorithm == 13 || priv->algorithm == 15)) {
        auto alg = priv->algorithm == 15 ? zones::DnssecAlgorithm::Ed25519 : zones::DnssecAlgorithm::EcdsaP256Sha256;
        std::string why;
        std::string public_key = pub ? pub->public_key : std::string();
        auto key = dnssec::SigningKey::from_private(alg, priv->secret, public_key, &why);
        if (!key && why.empty()) std::abort();
        if (key) {
            // A key that loads signs, and its secret comes back unchanged.
            if (key->sign("x").size() != 64) std::abort();
            if (key->private_bytes() != priv->secret) std::abort();
        }
    }
    if (auto bytes = dnssec::base64_decode(text)) {
        auto again = dnssec::base64_decode(dnssec::base64_encode(*bytes));
        if (!again || *again != *bytes) std::abort();
    }
    return 0;
}
