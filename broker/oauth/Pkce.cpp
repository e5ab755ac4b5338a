#include "oauth/Pkce.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

namespace mcpbroker::oauth {

namespace {

constexpr auto kBase64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

// 32 bytes from the operating system's CSPRNG, base64url without padding: 43 characters.
QByteArray random32Base64Url()
{
    std::array<quint32, 8> words{};
    QRandomGenerator::system()->generate(words.begin(), words.end());
    const QByteArray encoded =
            QByteArray::fromRawData(reinterpret_cast<const char *>(words.data()), sizeof(words))
                    .toBase64(kBase64Url);
    OPENSSL_cleanse(words.data(), sizeof(words));
    return encoded;
}

bool isUnreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
            || c == '.' || c == '_' || c == '~';
}

} // namespace

Pkce Pkce::generate()
{
    Pkce pkce;
    pkce.verifier = random32Base64Url();
    pkce.challenge = s256Challenge(pkce.verifier);
    return pkce;
}

QByteArray Pkce::s256Challenge(QByteArrayView verifier)
{
    // RFC 7636 §4.2: the verifier's ASCII octets are hashed as they are.
    return QCryptographicHash::hash(verifier, QCryptographicHash::Sha256).toBase64(kBase64Url);
}

bool Pkce::isValidVerifier(QByteArrayView verifier)
{
    if (verifier.size() < 43 || verifier.size() > 128)
        return false;
    return std::all_of(verifier.begin(), verifier.end(), isUnreserved);
}

QByteArray Pkce::randomState()
{
    return random32Base64Url();
}

} // namespace mcpbroker::oauth
