#include "oauth/ClientAssertion.h"

#include <QTest>

#include <nlohmann/json.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

constexpr qint64 kNow = 1'700'000'000;
const QString kClientId = u"client-1"_qs;
const QString kIssuer = u"https://auth.example.com/tenant/"_qs;

struct KeyFree
{
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

struct BioFree
{
    void operator()(BIO *bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

// How a key is written: PKCS#8 ("PRIVATE KEY"), the type's own format (SEC1 "EC
// PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY"), PKCS#8 encrypted with a passphrase,
// or only the public key.
enum class Pem { Pkcs8, Traditional, Encrypted, PublicKey };

QByteArray pemOf(EVP_PKEY *key, Pem format)
{
    const Bio bio(BIO_new(BIO_s_mem()));
    int written = 0;
    switch (format) {
    case Pem::Pkcs8:
        written = PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
        break;
    case Pem::Traditional:
        written = PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                       nullptr);
        break;
    case Pem::Encrypted: {
        const char passphrase[] = "correct horse";
        written = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), passphrase,
                                                int(std::strlen(passphrase)), nullptr, nullptr);
        break;
    }
    case Pem::PublicKey:
        written = PEM_write_bio_PUBKEY(bio.get(), key);
        break;
    }
    if (written != 1)
        qFatal("cannot write a PEM");
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, qsizetype(size));
}

// The public half of `key`, read back from its PEM: what an authorization
// server registered for the client.
Key publicKeyOf(EVP_PKEY *key)
{
    const QByteArray pem = pemOf(key, Pem::PublicKey);
    const Bio bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return Key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

// A compact JWS taken apart.
struct Jws
{
    QByteArray signingInput;
    nlohmann::json header;
    nlohmann::json claims;
    QByteArray signature;
};

std::optional<QByteArray> base64UrlDecoded(const QByteArray &part)
{
    if (part.contains('=') || part.contains('+') || part.contains('/'))
        return std::nullopt;
    auto decoded = QByteArray::fromBase64Encoding(
            part, QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return *decoded;
}

std::optional<Jws> parse(const QByteArray &compact)
{
    const QList<QByteArray> parts = compact.split('.');
    if (parts.size() != 3)
        return std::nullopt;
    const auto header = base64UrlDecoded(parts[0]);
    const auto claims = base64UrlDecoded(parts[1]);
    const auto signature = base64UrlDecoded(parts[2]);
    if (!header || !claims || !signature)
        return std::nullopt;
    Jws jws{parts[0] + '.' + parts[1],
            nlohmann::json::parse(header->cbegin(), header->cend(), nullptr, false),
            nlohmann::json::parse(claims->cbegin(), claims->cend(), nullptr, false), *signature};
    if (!jws.header.is_object() || !jws.claims.is_object())
        return std::nullopt;
    return jws;
}

// An ES256 signature (R || S, 32 bytes each) as the DER that OpenSSL verifies.
QByteArray derOfEs256(const QByteArray &raw)
{
    const auto *bytes = reinterpret_cast<const unsigned char *>(raw.constData());
    ECDSA_SIG *signature = ECDSA_SIG_new();
    ECDSA_SIG_set0(signature, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
    unsigned char *der = nullptr;
    const int size = i2d_ECDSA_SIG(signature, &der);
    QByteArray result(reinterpret_cast<const char *>(der), size);
    OPENSSL_free(der);
    ECDSA_SIG_free(signature);
    return result;
}

bool verifies(EVP_PKEY *publicKey, const Jws &jws)
{
    const bool es256 = jws.header.value("alg", "") == "ES256";
    if (es256 && jws.signature.size() != 64)
        return false;
    const QByteArray signature = es256 ? derOfEs256(jws.signature) : jws.signature;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, publicKey) == 1
            && EVP_DigestVerify(context, reinterpret_cast<const unsigned char *>(signature.data()),
                                size_t(signature.size()),
                                reinterpret_cast<const unsigned char *>(jws.signingInput.data()),
                                size_t(jws.signingInput.size()))
                    == 1;
    EVP_MD_CTX_free(context);
    return ok;
}

template<typename T>
QString why(const Result<T> &result)
{
    return result.ok() ? QString() : result.error().message;
}

} // namespace

class TestClientAssertion : public QObject
{
    Q_OBJECT

private:
    Key m_ecKey;
    Key m_rsaKey;

private Q_SLOTS:
    void initTestCase()
    {
        m_ecKey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        m_rsaKey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048)));
        QVERIFY(m_ecKey && m_rsaKey);
    }

    void theKeyChoosesTheAlgorithm_data()
    {
        QTest::addColumn<bool>("rsa");
        QTest::addColumn<int>("format");
        QTest::addColumn<QByteArray>("pemType");
        QTest::addColumn<QByteArray>("algorithm");
        QTest::newRow("EC P-256, PKCS#8")
                << false << int(Pem::Pkcs8) << QByteArray("PRIVATE KEY") << QByteArray("ES256");
        QTest::newRow("EC P-256, SEC1") << false << int(Pem::Traditional)
                                        << QByteArray("EC PRIVATE KEY") << QByteArray("ES256");
        QTest::newRow("RSA 2048, PKCS#8")
                << true << int(Pem::Pkcs8) << QByteArray("PRIVATE KEY") << QByteArray("RS256");
        QTest::newRow("RSA 2048, PKCS#1") << true << int(Pem::Traditional)
                                          << QByteArray("RSA PRIVATE KEY") << QByteArray("RS256");
    }

    void theKeyChoosesTheAlgorithm()
    {
        QFETCH(bool, rsa);
        QFETCH(int, format);
        QFETCH(QByteArray, pemType);
        QFETCH(QByteArray, algorithm);
        EVP_PKEY *key = rsa ? m_rsaKey.get() : m_ecKey.get();
        const QByteArray pem = pemOf(key, Pem(format));
        QVERIFY(pem.startsWith("-----BEGIN " + pemType + "-----"));

        const Result<QByteArray> assertion = ClientAssertion::create(pem, kClientId, kIssuer, kNow);
        QVERIFY2(assertion.ok(), qPrintable(why(assertion)));
        const std::optional<Jws> jws = parse(assertion.value());
        QVERIFY2(jws, assertion.value().constData());
        QVERIFY2(jws->header == nlohmann::json({{"alg", algorithm.toStdString()}, {"typ", "JWT"}}),
                 jws->header.dump().c_str());
        QCOMPARE(jws->signature.size(), rsa ? 256 : 64);
        const Key publicKey = publicKeyOf(key);
        QVERIFY(verifies(publicKey.get(), *jws));

        // A changed claim breaks the signature.
        Jws forged = *jws;
        forged.signingInput.chop(1);
        forged.signingInput.append(jws->signingInput.endsWith('A') ? 'B' : 'A');
        QVERIFY(!verifies(publicKey.get(), forged));
    }

    void pastedPemsAreRead()
    {
        const QByteArray pem = pemOf(m_ecKey.get(), Pem::Pkcs8);
        QByteArray windows = pem;
        windows.replace("\n", "\r\n");
        for (const QByteArray &pasted : {windows, pem.trimmed(), "\n  " + pem + "\n\n"}) {
            const Result<QByteArray> assertion
                    = ClientAssertion::create(pasted, kClientId, kIssuer, kNow);
            QVERIFY2(assertion.ok(), qPrintable(why(assertion)));
        }
    }

    void claimsNameTheClientAndTheIssuerExactly()
    {
        const QString clientId = u"client \"1\"/\u00e9"_qs;
        const Result<QByteArray> assertion = ClientAssertion::create(
                pemOf(m_ecKey.get(), Pem::Pkcs8), clientId, kIssuer, kNow);
        QVERIFY2(assertion.ok(), qPrintable(why(assertion)));
        const std::optional<Jws> jws = parse(assertion.value());
        QVERIFY(jws);
        const nlohmann::json &claims = jws->claims;
        QCOMPARE(claims.size(), size_t(6));
        QCOMPARE(claims.value("iss", ""), clientId.toStdString());
        QCOMPARE(claims.value("sub", ""), clientId.toStdString());
        // A string, and the issuer as published: trailing slash and all.
        QVERIFY(claims["aud"].is_string());
        QCOMPARE(claims.value("aud", ""), kIssuer.toStdString());
        QCOMPARE(claims.value("iat", qint64(0)), kNow);
        QCOMPARE(claims.value("exp", qint64(0)), kNow + ClientAssertion::kLifetimeSecs);
        QVERIFY(ClientAssertion::kLifetimeSecs > 0 && ClientAssertion::kLifetimeSecs <= 300);
        const QByteArray jti = QByteArray::fromStdString(claims.value("jti", ""));
        QCOMPARE(jti.size(), 43); // 32 bytes, base64url
        QCOMPARE(base64UrlDecoded(jti).value_or(QByteArray()).size(), 32);
    }

    void jwtIdsNeverRepeat()
    {
        const QByteArray pem = pemOf(m_ecKey.get(), Pem::Pkcs8);
        std::set<std::string> jwtIds;
        for (int i = 0; i < 50; ++i) {
            const Result<QByteArray> assertion
                    = ClientAssertion::create(pem, kClientId, kIssuer, kNow);
            QVERIFY2(assertion.ok(), qPrintable(why(assertion)));
            jwtIds.insert(parse(assertion.value())->claims.value("jti", ""));
        }
        QCOMPARE(jwtIds.size(), size_t(50));
    }

    void es256KeepsTheLeadingZeroBytesOfRAndS()
    {
        // One signature in 128 has an R or S below 2^248, which DER writes
        // shorter: JWS wants 32 bytes each all the same.
        const QByteArray pem = pemOf(m_ecKey.get(), Pem::Pkcs8);
        const Key publicKey = publicKeyOf(m_ecKey.get());
        for (int i = 0; i < 5000; ++i) {
            const Result<QByteArray> assertion
                    = ClientAssertion::create(pem, kClientId, kIssuer, kNow);
            QVERIFY2(assertion.ok(), qPrintable(why(assertion)));
            const std::optional<Jws> jws = parse(assertion.value());
            QVERIFY(jws);
            QCOMPARE(jws->signature.size(), 64);
            if (jws->signature.at(0) == '\0' || jws->signature.at(32) == '\0') {
                QVERIFY(verifies(publicKey.get(), *jws));
                return;
            }
        }
        QFAIL("no signature with a short R or S in 5000");
    }

    void unusableKeysAreRefusedWithoutEchoingThem_data()
    {
        QTest::addColumn<QByteArray>("pem");
        QTest::addColumn<QString>("says");
        const Key ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        const Key p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
        const Key rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
        QVERIFY(ed25519 && p384 && rsa1024);
        const QString notPem = u"is not a PEM private key"_qs;
        QTest::newRow("empty") << QByteArray() << notPem;
        QTest::newRow("garbage") << QByteArray("SECRET-NOT-A-KEY-0123456789") << notPem;
        QTest::newRow("bad base64")
                << QByteArray("-----BEGIN PRIVATE KEY-----\nSECRET+not*base64!0123456789\n"
                              "-----END PRIVATE KEY-----\n")
                << notPem;
        QTest::newRow("truncated") << pemOf(m_ecKey.get(), Pem::Pkcs8).left(120) << notPem;
        QTest::newRow("public key") << pemOf(m_ecKey.get(), Pem::PublicKey) << notPem;
        QTest::newRow("encrypted") << pemOf(m_ecKey.get(), Pem::Encrypted) << u"passphrase"_qs;
        QTest::newRow("Ed25519") << pemOf(ed25519.get(), Pem::Pkcs8) << u"ED25519"_qs;
        QTest::newRow("EC P-384") << pemOf(p384.get(), Pem::Pkcs8) << u"P-256"_qs;
        QTest::newRow("RSA 1024") << pemOf(rsa1024.get(), Pem::Traditional) << u"1024 bits"_qs;
    }

    void unusableKeysAreRefusedWithoutEchoingThem()
    {
        QFETCH(QByteArray, pem);
        QFETCH(QString, says);
        ERR_clear_error();
        const Result<QByteArray> assertion = ClientAssertion::create(pem, kClientId, kIssuer, kNow);
        QVERIFY(!assertion.ok());
        const QString &message = assertion.error().message;
        QCOMPARE(assertion.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(message.contains(says), qPrintable(message));
        QVERIFY2(message.endsWith(u'.'), qPrintable(message));
        for (const QByteArray &line : pem.split('\n')) {
            if (line.size() >= 8 && !line.startsWith("-----"))
                QVERIFY2(!message.contains(QString::fromLatin1(line)), qPrintable(message));
        }
        // What OpenSSL complained about stays out of the queue that Qt's TLS
        // code reads.
        QCOMPARE(ERR_peek_error(), 0ul);
    }

    void aClientIdAndAnAudienceAreNeeded()
    {
        const QByteArray pem = pemOf(m_ecKey.get(), Pem::Pkcs8);
        for (const auto &[clientId, audience] :
             {std::pair{QString(), kIssuer}, std::pair{kClientId, QString()}}) {
            const Result<QByteArray> assertion
                    = ClientAssertion::create(pem, clientId, audience, kNow);
            QVERIFY(!assertion.ok());
            QCOMPARE(assertion.error().kind, Error::Kind::InvalidInput);
        }
    }
};

QTEST_GUILESS_MAIN(TestClientAssertion)
#include "tst_clientassertion.moc"
