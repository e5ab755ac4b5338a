#include "oauth/ClientAssertion.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include <array>
#include <memory>

namespace mcpbroker::oauth {

namespace {

constexpr auto kBase64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
// Far more than the PEM of a 16384-bit RSA key: anything larger is not a key.
constexpr qsizetype kMaxPemBytes = qsizetype(64) * 1024;
constexpr int kMinRsaBits = 2048;      // RFC 7518 §3.3
constexpr int kEs256IntegerBytes = 32; // R and S of a P-256 signature (RFC 7518 §3.4)
constexpr int kJwtIdBytes = 32;

template<auto Free>
struct OpenSslFree
{
    template<typename T>
    void operator()(T *object) const
    {
        Free(object);
    }
};
using Key = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using MemoryBio = std::unique_ptr<BIO, OpenSslFree<BIO_free>>;
using DigestContext = std::unique_ptr<EVP_MD_CTX, OpenSslFree<EVP_MD_CTX_free>>;
using EcdsaSignature = std::unique_ptr<ECDSA_SIG, OpenSslFree<ECDSA_SIG_free>>;

enum class Algorithm { ES256, RS256 };

Error unusableKey(const QString &why)
{
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The private key for client authentication %1").arg(why));
}

Error signingFailed()
{
    return Error::make(Error::Kind::Generic,
                       QStringLiteral("MCP Broker could not sign the client assertion: OpenSSL "
                                      "refused the private key."));
}

// OpenSSL's passphrase callback: an encrypted key is refused, never asked about
// on a terminal.
int refusePassphrase(char *, int, int, void *)
{
    return -1;
}

// Reads the key where it lies: a read-only memory BIO makes no copy of it. It
// starts at the first PEM boundary, as OpenSSL does not read one that is
// indented, as a pasted key may be.
Result<Key> readKey(const QByteArray &pem)
{
    Key key;
    const qsizetype begin = pem.indexOf("-----BEGIN ");
    if (begin >= 0 && pem.size() <= kMaxPemBytes) {
        const MemoryBio bio(BIO_new_mem_buf(pem.constData() + begin, int(pem.size() - begin)));
        if (bio)
            key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr));
    }
    if (key)
        return Result<Key>(std::move(key));
    if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || pem.contains("Proc-Type: 4,ENCRYPTED")) {
        return unusableKey(QStringLiteral("is encrypted. MCP Broker needs it without a passphrase "
                                          "(the keychain protects it)."));
    }
    return unusableKey(QStringLiteral("is not a PEM private key (PKCS#8, SEC1 or PKCS#1)."));
}

// The key type decides the algorithm: only keys that can sign ES256 or RS256
// are used.
Result<Algorithm> algorithmFor(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "EC")) {
        std::array<char, 80> curve{};
        size_t length = 0;
        if (EVP_PKEY_get_group_name(key, curve.data(), curve.size(), &length) == 1
            && (OBJ_sn2nid(curve.data()) == NID_X9_62_prime256v1
                || qstrcmp(curve.data(), "P-256") == 0))
            return Algorithm::ES256;
        return unusableKey(
                QStringLiteral("is an EC key on the curve %1, and ES256 needs the curve P-256.")
                        .arg(curve.front() ? QString::fromLatin1(curve.data())
                                           : QStringLiteral("of explicit parameters")));
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        const int bits = EVP_PKEY_get_bits(key);
        if (bits >= kMinRsaBits)
            return Algorithm::RS256;
        return unusableKey(QStringLiteral("is an RSA key of %1 bits, and RS256 needs at least %2.")
                                   .arg(bits)
                                   .arg(kMinRsaBits));
    }
    const char *type = EVP_PKEY_get0_type_name(key);
    return unusableKey(QStringLiteral("is of the type %1. MCP Broker signs client assertions "
                                      "with an EC P-256 key (ES256) or an RSA key (RS256).")
                               .arg(type ? QString::fromLatin1(type) : QStringLiteral("unknown")));
}

// RFC 7518 §3.4: an ES256 signature is R and S as 32-byte big-endian integers,
// one after the other, where OpenSSL gives the DER of an ECDSA-Sig-Value (RFC
// 3279 §2.2.3), whose integers are as short as their values.
Result<QByteArray> jwsEcdsaSignature(const QByteArray &der)
{
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    const EcdsaSignature signature(d2i_ECDSA_SIG(nullptr, &cursor, long(der.size())));
    if (!signature)
        return signingFailed();
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(signature.get(), &r, &s);
    QByteArray raw(qsizetype(2) * kEs256IntegerBytes, '\0');
    auto *out = reinterpret_cast<unsigned char *>(raw.data());
    if (BN_bn2binpad(r, out, kEs256IntegerBytes) != kEs256IntegerBytes
        || BN_bn2binpad(s, out + kEs256IntegerBytes, kEs256IntegerBytes) != kEs256IntegerBytes)
        return signingFailed();
    return raw;
}

// SHA-256 with the key: PKCS#1 v1.5 for RSA (RS256), ECDSA for P-256 (ES256).
Result<QByteArray> sign(EVP_PKEY *key, Algorithm algorithm, const QByteArray &input)
{
    const auto *data = reinterpret_cast<const unsigned char *>(input.constData());
    const DigestContext context(EVP_MD_CTX_new());
    size_t length = 0;
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1
        || EVP_DigestSign(context.get(), nullptr, &length, data, size_t(input.size())) != 1)
        return signingFailed();
    QByteArray signature(qsizetype(length), '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char *>(signature.data()), &length,
                       data, size_t(input.size()))
        != 1)
        return signingFailed();
    signature.truncate(qsizetype(length));
    if (algorithm == Algorithm::ES256)
        return jwsEcdsaSignature(signature);
    return signature;
}

// jti (RFC 7519 §4.1.7): 32 bytes from the CSPRNG, base64url, so that the
// authorization server can refuse a replayed assertion.
Result<QByteArray> randomJwtId()
{
    std::array<unsigned char, kJwtIdBytes> bytes{};
    if (RAND_bytes(bytes.data(), int(bytes.size())) != 1) {
        return Error::make(Error::Kind::Generic,
                           QStringLiteral("MCP Broker could not sign the client assertion: the "
                                          "system's random number generator failed."));
    }
    return QByteArray(reinterpret_cast<const char *>(bytes.data()), qsizetype(bytes.size()))
            .toBase64(kBase64Url);
}

QByteArray base64UrlJson(const nlohmann::ordered_json &object)
{
    return QByteArray::fromStdString(
                   object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
            .toBase64(kBase64Url);
}

Result<QByteArray> signedAssertion(const QByteArray &privateKeyPem, const QString &clientId,
                                   const QString &audience, qint64 nowSecs)
{
    Result<Key> key = readKey(privateKeyPem);
    if (!key)
        return key.error();
    const Result<Algorithm> algorithm = algorithmFor(key.value().get());
    if (!algorithm)
        return algorithm.error();
    const Result<QByteArray> jwtId = randomJwtId();
    if (!jwtId)
        return jwtId.error();

    const nlohmann::ordered_json header{
            {"alg", algorithm.value() == Algorithm::ES256 ? "ES256" : "RS256"},
            {"typ", "JWT"},
    };
    // RFC 7523 §3: iss and sub are the client id, aud the authorization server.
    const nlohmann::ordered_json claims{
            {"iss", clientId.toStdString()},
            {"sub", clientId.toStdString()},
            {"aud", audience.toStdString()},
            {"iat", nowSecs},
            {"exp", nowSecs + ClientAssertion::kLifetimeSecs},
            {"jti", jwtId.value().toStdString()},
    };
    const QByteArray signingInput = base64UrlJson(header) + '.' + base64UrlJson(claims);
    const Result<QByteArray> signature = sign(key.value().get(), algorithm.value(), signingInput);
    if (!signature)
        return signature.error();
    return signingInput + '.' + signature.value().toBase64(kBase64Url);
}

} // namespace

Result<QByteArray> ClientAssertion::create(const QByteArray &privateKeyPem, const QString &clientId,
                                           const QString &audience, qint64 nowSecs)
{
    if (clientId.isEmpty() || audience.isEmpty()) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("A client assertion needs the client id and the issuer "
                                          "of the authorization server, and one of them is "
                                          "missing."));
    }
    // What OpenSSL adds to this thread's error queue stays here: Qt's TLS code
    // reads the same queue.
    ERR_set_mark();
    Result<QByteArray> assertion = signedAssertion(privateKeyPem, clientId, audience, nowSecs);
    ERR_pop_to_mark();
    return assertion;
}

} // namespace mcpbroker::oauth
