#pragma once

#include "Result.h"
#include "oauth/AuthorizationServerMetadata.h"
#include "oauth/ClientAuthentication.h"
#include "store/ServerConfig.h"

#include <QObject>
#include <QPointer>

#include <functional>

class QNetworkAccessManager;

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::oauth {

// Who MCP Broker is at the authorization server of one upstream, in the order MCP 2025-11-25
// gives: a client registered by hand (id in the config, secret in the keychain); else, where
// the server supports them, a Client ID Metadata Document URL from the config; else the
// client MCP Broker registered there by RFC 7591, kept in the keychain per authorization
// server and reused by every sign-in and every server behind it.
class ClientIdentity : public QObject
{
    Q_OBJECT
public:
    enum class Source { Configured, MetadataDocument, Registered };

    struct Identity
    {
        ClientAuthentication client; // secret inside: drop it when done
        Source source = Source::Configured;
        QStringList redirectUris; // those of a kept registration; empty otherwise
    };
    using Callback = std::function<void(Result<Identity>)>;

    // `secrets` and `network` must outlive the identity.
    ClientIdentity(QString serverName, store::OAuthSettings settings, store::SecretStore *secrets,
                   QNetworkAccessManager *network, QObject *parent = nullptr);

    // The identity to use at `server` as things stand: NotFound when MCP Broker would have to
    // register first. Answers once, on the event loop.
    void current(const AuthorizationServerMetadata &server, Callback done);
    // The identity for a sign-in that redirects to `redirectUri`: current(), or a fresh
    // registration when there is none, it expired, or it does not list `redirectUri`.
    void forSignIn(const AuthorizationServerMetadata &server, const QString &redirectUri,
                   Callback done);
    // Forgets the registration kept for `issuer` (the server no longer knows the client).
    void forgetRegistration(const QString &issuer);

    // The keychain key of the client registered at `issuer`: "oauth/client/<32 hex digits>".
    static QString registrationKey(const QString &issuer);
    // The token endpoint authentication for a client registered by hand: the configured one,
    // else basic or post (whichever the server lists, basic first) with a secret, else none.
    static Result<ClientAuthentication::Method>
    configuredMethod(const store::OAuthSettings &settings,
                     const AuthorizationServerMetadata &server);

private:
    void configured(const AuthorizationServerMetadata &server, Callback done);
    void registered(const AuthorizationServerMetadata &server, Callback done);
    void registerAt(const AuthorizationServerMetadata &server, const QString &redirectUri,
                    Callback done);
    bool usesMetadataDocument(const AuthorizationServerMetadata &server) const;

    QString m_serverName;
    store::OAuthSettings m_settings;
    QPointer<store::SecretStore> m_secrets;
    QNetworkAccessManager *m_network;
};

} // namespace mcpbroker::oauth
