#pragma once

#include "PeerProcess.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace mcpbroker::integration {

// A real authorization server (oidc-provider, tests/peers/oauth-authorization-server.mjs) and
// the MCP server it protects (tests/peers/oauth-protected-server.mjs), run by the pinned
// Node 22, plus their test hooks: counters of what the broker asked for, and "revoke every
// grant" to play a user who cut the app off upstream.
class OAuthPeers
{
public:
    static constexpr int kStartTimeoutMs = 20'000;

    OAuthPeers() = default;
    ~OAuthPeers();

    // Lets the authorization server go down and come back (tests/peers/listen-toggle.mjs is
    // preloaded into it). Call before start().
    void allowOutages() { m_outages = true; }

    // Starts the authorization server with `serverArguments`, then the protected MCP server
    // (its issuer set) with `resourceArguments`. False, with the reason in `why`, on failure.
    bool start(const QStringList &serverArguments, const QStringList &resourceArguments,
               QString *why);

    QString issuer() const; // http://127.0.0.1:<port>
    QUrl mcpUrl() const;    // http://127.0.0.1:<port>/mcp of the protected server

    // GET /_test/stats of each (empty object when it does not answer).
    QJsonObject authorizationStats() const;
    QJsonObject resourceStats() const;
    // Token requests of `grantType` the authorization server received.
    int tokenRequests(const QString &grantType) const;
    bool resetStats() const;
    // Drops every refresh token and grant: the next refresh is invalid_grant.
    bool revokeAll() const;
    void stopAuthorizationServer();
    // With allowOutages(): it stops listening (connections are refused) or listens again on its
    // port, its registrations, grants and tokens intact, as a server restarted with its database.
    bool takeAuthorizationServerOffline();
    bool bringAuthorizationServerBack();

    // The "browser" that completes sign-ins by plain HTTP (for $BROWSER).
    static QString browserScript();

    QString diagnostics() const;

private:
    QJsonObject getJson(const QUrl &url) const;
    bool post(const QUrl &url) const;
    // Sends `signalNumber` and waits for listen-toggle.mjs's next line saying `state`.
    bool toggleListening(int signalNumber, const QByteArray &state);

    std::unique_ptr<PeerProcess> m_authorizationServer;
    std::unique_ptr<PeerProcess> m_resourceServer;
    quint16 m_issuerPort = 0;
    quint16 m_mcpPort = 0;
    bool m_outages = false;
};

} // namespace mcpbroker::integration
