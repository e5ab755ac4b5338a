#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>

namespace mcpbroker::gateway {

// A local client's permission to use the endpoint: who it is, since when, which servers. The
// bearer token that proves it is never kept: the keychain holds its SHA-256 only.
struct ClientGrant
{
    enum class Kind { Static, OAuth };

    QString id;         // public ("g" + 12 hex digits): logs, `grant list`, revoke
    QString clientName; // "cursor", or the client_name an OAuth client registered
    Kind kind = Kind::Static;
    QDateTime createdAt;
    QDateTime lastUsedAt;  // invalid: never used
    QDateTime expiresAt;   // static grants made with --expires-in; invalid: no end
    QStringList servers;   // empty: every server, including ones added later
    QString oauthClientId; // OAuth grants: the registered local client

    bool allowsServer(const QString &server) const
    {
        return servers.isEmpty() || servers.contains(server);
    }
};

// A local OAuth client registered with the broker's authorization server (RFC 7591).
struct LocalClientRegistration
{
    QString clientId; // public client: no secret (token_endpoint_auth_method "none")
    QString clientName;
    QStringList redirectUris; // loopback only, matched exactly
    QDateTime createdAt;

    // The user's answer to keep for this client's next authorization requests ("Remember this
    // decision" in the tray). Allow covers `rememberedServers` (empty: every server); revoking
    // the client's grants forgets it.
    enum class RememberedConsent { None, Allow, Deny };
    RememberedConsent remembered = RememberedConsent::None;
    QStringList rememberedServers;
};

} // namespace mcpbroker::gateway
