#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

namespace mcpbroker::oauth {

// A client registered at an authorization server by RFC 7591 dynamic
// registration (§3.2.1): kept in the keychain (toJson() holds the secret) and
// reused for every sign-in at that server.
struct RegisteredClient
{
    QString clientId;
    QByteArray clientSecret; // secret; empty for a public client
    QString tokenEndpointAuthMethod; // "none", "client_secret_basic" or
                                     // "client_secret_post"
    qint64 clientSecretExpiresAt = 0; // seconds since the epoch; 0: never
    QStringList redirectUris;
    nlohmann::json raw = nlohmann::json::object(); // the server's whole answer

    // True when the secret has expired at `nowSecs` (seconds since the epoch):
    // register again.
    bool isExpired(qint64 nowSecs) const;

    // The keychain form: the server's answer with the fields above filled in.
    QByteArray toJson() const;
    // Reads toJson()'s form, or a registration response; Protocol error when
    // client_id is missing or a field has the wrong type.
    static Result<RegisteredClient> fromJson(const QByteArray &json);
    static Result<RegisteredClient> fromObject(const nlohmann::json &object);
};

} // namespace mcpbroker::oauth
