#include "gateway/GrantToken.h"

#include "SecretCompare.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

namespace mcpbroker::gateway {

namespace {

QByteArrayView prefixOf(GrantToken::Use use)
{
    switch (use) {
    case GrantToken::Use::Static:
        return "mcpb";
    case GrantToken::Use::Access:
        return "mcpb-at";
    case GrantToken::Use::Refresh:
        return "mcpb-rt";
    }
    return "mcpb";
}

constexpr qsizetype kGrantIdLength = 13;
constexpr qsizetype kSecretLength = 43;

QByteArray randomBytes(int count)
{
    QByteArray bytes(count, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(bytes.data()),
                                         reinterpret_cast<quint32 *>(bytes.data() + count));
    return bytes;
}

bool isGrantId(QByteArrayView id)
{
    if (id.size() != kGrantIdLength || id.front() != 'g')
        return false;
    for (char c : id.sliced(1)) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

} // namespace

QByteArray GrantToken::generate(Use use, const QString &grantId)
{
    QByteArray secret = randomString();
    QByteArray token = prefixOf(use).toByteArray() + '_' + grantId.toLatin1() + '_' + secret;
    OPENSSL_cleanse(secret.data(), size_t(secret.size()));
    return token;
}

std::optional<GrantToken> GrantToken::parse(QByteArrayView token)
{
    for (Use use : {Use::Static, Use::Access, Use::Refresh}) {
        const QByteArrayView prefix = prefixOf(use);
        if (token.size() != prefix.size() + 1 + kGrantIdLength + 1 + kSecretLength
            || !token.startsWith(prefix) || token[prefix.size()] != '_')
            continue;
        const QByteArrayView id = token.sliced(prefix.size() + 1, kGrantIdLength);
        if (!isGrantId(id) || token[prefix.size() + 1 + kGrantIdLength] != '_')
            continue;
        const QByteArrayView secret = token.last(kSecretLength);
        if (!std::all_of(secret.begin(), secret.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_';
            }))
            continue;
        return GrantToken{use, QString::fromLatin1(id)};
    }
    return std::nullopt;
}

QByteArray GrantToken::hash(QByteArrayView token)
{
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex();
}

bool GrantToken::hashesEqual(QByteArrayView a, QByteArrayView b)
{
    return secretsEqual(a, b);
}

QString GrantToken::newGrantId()
{
    return QLatin1Char('g') + QString::fromLatin1(randomBytes(8).toHex().left(12));
}

QByteArray GrantToken::randomString()
{
    QByteArray bytes = randomBytes(32);
    QByteArray text
            = bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    OPENSSL_cleanse(bytes.data(), size_t(bytes.size()));
    return text;
}

} // namespace mcpbroker::gateway
