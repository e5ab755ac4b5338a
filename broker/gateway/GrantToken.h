#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>

namespace mcpbroker::gateway {

// The bearer tokens the broker gives local clients: "<prefix>_<grant id>_<secret>", the secret
// 32 bytes from the system CSPRNG in base64url. The grant id in the token lets the broker find
// the one hash to compare; only that SHA-256 is ever kept.
struct GrantToken
{
    enum class Use { Static, Access, Refresh };

    Use use = Use::Static;
    QString grantId;

    static QByteArray generate(Use use, const QString &grantId);
    // nullopt for anything not shaped like one of ours (never an error message with the text).
    static std::optional<GrantToken> parse(QByteArrayView token);
    // Hex SHA-256: what the keychain keeps.
    static QByteArray hash(QByteArrayView token);
    // Constant-time comparison of two hashes (CRYPTO_memcmp).
    static bool hashesEqual(QByteArrayView a, QByteArrayView b);
    // "g" + 12 hex digits, random: names a grant in files, logs and tokens.
    static QString newGrantId();
    // A random identifier for OAuth clients, codes and CSRF tokens: 32 bytes, base64url.
    static QByteArray randomString();
};

} // namespace mcpbroker::gateway
