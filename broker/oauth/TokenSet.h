#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace mcpbroker::oauth {

// The tokens one authorization server (`issuer`) issued for one protected resource (`resource`,
// the RFC 8707 audience), as kept in one keychain entry. The tokens are secrets: never logged,
// held only while used, wiped with wipe() when dropped.
struct TokenSet
{
    QByteArray accessToken;
    QByteArray refreshToken; // empty when the server issued none
    qint64 expiresAtMs = 0;  // when the access token expires, ms since the epoch; 0: not said
    QStringList scopes;      // the scopes granted
    QString issuer;          // the authorization server's `issuer`, exactly as published
    QString resource;        // the resource the tokens are for (RFC 8707 / RFC 9728 `resource`)

    // The keychain entry: a JSON object. It contains the tokens: wipe it after use.
    QByteArray toJson() const;
    // Reads what toJson() wrote. Anything else (not JSON, wrong types, missing issuer, resource
    // or tokens, another format version) is an InvalidInput error, never a crash.
    static Result<TokenSet> fromJson(const QByteArray &json);

    // Overwrites both tokens (where this TokenSet is their only holder) and empties them.
    void wipe();
    // Overwrites `secret`'s bytes in place, unless another QByteArray shares them (a reply still
    // being sent, a caller's copy): those keep their bytes. Then empties `secret`.
    static void wipe(QByteArray &secret);
};

} // namespace mcpbroker::oauth
