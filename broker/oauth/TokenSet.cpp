#include "oauth/TokenSet.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <openssl/crypto.h>

#include <cmath>

namespace mcpbroker::oauth {

namespace {

// Bumped when the entry's meaning changes; an entry of another version is refused, not guessed.
constexpr int kFormatVersion = 1;
// Integers up to 2^53 survive a JSON number (a double) exactly.
constexpr double kMaxExactInteger = 9007199254740992.0;

// Tokens are bytes; JSON strings are text. Latin-1 maps every byte to one code point and back,
// so any token survives the round trip byte for byte (real tokens are printable ASCII anyway).
QString bytesToText(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes);
}

Error malformed(const QString &reason)
{
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The OAuth tokens saved in the keychain cannot be read (%1). "
                                      "Sign in to the server again to replace them.")
                               .arg(reason));
}

// Reads an optional string field; a present field of another type is an error.
bool readText(const QJsonObject &object, QLatin1String key, QString &out, QString &reason)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return true;
    if (!value.isString()) {
        reason = QStringLiteral("\"%1\" is not a string").arg(key);
        return false;
    }
    out = value.toString();
    return true;
}

bool readToken(const QJsonObject &object, QLatin1String key, QByteArray &out, QString &reason)
{
    QString text;
    if (!readText(object, key, text, reason))
        return false;
    for (const QChar c : std::as_const(text)) {
        if (c.unicode() > 0xff) {
            reason = QStringLiteral("\"%1\" is not a token toJson() wrote").arg(key);
            return false;
        }
    }
    out = text.toLatin1();
    return true;
}

} // namespace

QByteArray TokenSet::toJson() const
{
    QJsonObject object{
            {QStringLiteral("version"), kFormatVersion},
            {QStringLiteral("issuer"), issuer},
            {QStringLiteral("resource"), resource},
            {QStringLiteral("access_token"), bytesToText(accessToken)},
            {QStringLiteral("expires_at_ms"), static_cast<double>(expiresAtMs)},
            {QStringLiteral("scopes"), QJsonArray::fromStringList(scopes)},
    };
    if (!refreshToken.isEmpty())
        object.insert(QStringLiteral("refresh_token"), bytesToText(refreshToken));
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

Result<TokenSet> TokenSet::fromJson(const QByteArray &json)
{
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return malformed(QStringLiteral("not a JSON object"));
    const QJsonObject object = document.object();

    const QJsonValue version = object.value(QLatin1String("version"));
    if (!version.isDouble() || version.toDouble() != kFormatVersion) {
        return malformed(QStringLiteral("format version %1 instead of %2; was it written by "
                                        "another version of MCP Broker?")
                                 .arg(version.isDouble() ? QString::number(version.toDouble())
                                                         : QStringLiteral("unknown"))
                                 .arg(kFormatVersion));
    }

    TokenSet tokens;
    QString reason;
    if (!readText(object, QLatin1String("issuer"), tokens.issuer, reason)
        || !readText(object, QLatin1String("resource"), tokens.resource, reason)
        || !readToken(object, QLatin1String("access_token"), tokens.accessToken, reason)
        || !readToken(object, QLatin1String("refresh_token"), tokens.refreshToken, reason)) {
        tokens.wipe();
        return malformed(reason);
    }
    if (tokens.issuer.isEmpty() || tokens.resource.isEmpty()) {
        tokens.wipe();
        return malformed(QStringLiteral("no issuer or resource"));
    }
    if (tokens.accessToken.isEmpty() && tokens.refreshToken.isEmpty())
        return malformed(QStringLiteral("no token"));

    const QJsonValue expiresAt = object.value(QLatin1String("expires_at_ms"));
    if (!expiresAt.isUndefined() && !expiresAt.isNull()) {
        const double value = expiresAt.toDouble(-1);
        if (!expiresAt.isDouble() || value < 0 || value > kMaxExactInteger
            || std::floor(value) != value) {
            tokens.wipe();
            return malformed(QStringLiteral("\"expires_at_ms\" is not a time"));
        }
        tokens.expiresAtMs = static_cast<qint64>(value);
    }

    const QJsonValue scopes = object.value(QLatin1String("scopes"));
    if (!scopes.isUndefined() && !scopes.isNull()) {
        if (!scopes.isArray()) {
            tokens.wipe();
            return malformed(QStringLiteral("\"scopes\" is not a list"));
        }
        for (const QJsonValue &scope : scopes.toArray()) {
            if (!scope.isString()) {
                tokens.wipe();
                return malformed(QStringLiteral("\"scopes\" holds something else than names"));
            }
            tokens.scopes.append(scope.toString());
        }
    }
    return tokens;
}

void TokenSet::wipe()
{
    wipe(accessToken);
    wipe(refreshToken);
}

void TokenSet::wipe(QByteArray &secret)
{
    // Only a buffer we alone hold: wiping a shared one would zero a copy someone still uses.
    // constData(), not data(): data() would detach and wipe a fresh copy instead.
    if (secret.isDetached() && !secret.isEmpty())
        OPENSSL_cleanse(const_cast<char *>(secret.constData()), static_cast<size_t>(secret.size()));
    secret.clear();
}

} // namespace mcpbroker::oauth
