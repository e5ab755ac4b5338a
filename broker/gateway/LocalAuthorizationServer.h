#pragma once

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace mcpbroker::http {
struct HttpRequest;
class HttpResponder;
} // namespace mcpbroker::http

namespace mcpbroker::gateway {

class ClientGrants;

// A local OAuth client asking the user for access: shown in the tray and on the browser page.
// `clientName` is whatever the client registered: self-declared, never verified.
struct ConsentRequest
{
    QString id; // a secret of the consent page and the tray: never logged
    QString clientName;
    QString clientId;
    QString redirectUri;
    QStringList requestedServers; // empty: every server (the aggregated endpoint)
    QDateTime requestedAt;        // UTC
};

// The broker as an OAuth 2.1 authorization server for its own endpoint, so that MCP clients
// which run the MCP authorization flow (MCP 2025-11-25) get a grant without copy-paste:
//
//   GET  /.well-known/oauth-protected-resource/mcp[/<server>]  RFC 9728
//   GET  /.well-known/oauth-authorization-server               RFC 8414 (issuer = origin)
//   POST /oauth/register                                       RFC 7591, public loopback clients
//   GET  /oauth/authorize                                      code + PKCE S256, RFC 9207 iss
//   POST /oauth/consent, GET /oauth/consent/status             the browser consent page
//   POST /oauth/token                                          authorization_code, refresh_token
//   POST /oauth/revoke                                         RFC 7009
//
// The origin in every URL is "http://" + the request's Host (localhost or 127.0.0.1: the one the
// client used). Redirect URIs are http loopback with a port and match exactly. Authorization
// codes (32 random bytes) live 60 s, in memory and hashed, are single use (a second use
// revokes the grant the first one got) and are bound to client, redirect URI, PKCE challenge
// and resource. The user answers each authorization in the tray (approve()/deny()) or on the
// consent page, which has a CSRF token, refuses cross-site posts and cannot be framed.
// LocalEndpoint checks Host and Origin before handing requests here.
class LocalAuthorizationServer : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int codeLifetimeMs = 60'000;
        int consentLifetimeMs = 10 * 60'000;
        int maxPendingConsents = 32; // the oldest is dropped (denied) beyond this
    };

    LocalAuthorizationServer(ClientGrants *grants, std::function<QStringList()> serverNames,
                             Options options, QObject *parent = nullptr);
    LocalAuthorizationServer(ClientGrants *grants, std::function<QStringList()> serverNames,
                             QObject *parent = nullptr);
    ~LocalAuthorizationServer() override;

    // Paths under /.well-known/ and /oauth/: every one is answered here (404 for unknown ones).
    bool handles(const http::HttpRequest &request) const;
    void handle(const http::HttpRequest &request, http::HttpResponder *responder);

    // For the 401 answer's WWW-Authenticate (RFC 9728 §5.1): the metadata URL of /mcp (empty
    // `server`) or /mcp/<server>, at the origin `request` was sent to.
    static QString resourceMetadataUrl(const http::HttpRequest &request,
                                       const QString &server = QString());

    QList<ConsentRequest> pendingConsents() const; // oldest first
    // The user's answer from the tray. `servers` empty: every server, including ones added
    // later; names that are not configured are left out. The consent page notices the answer
    // and takes the browser back to the client. Unknown or answered ids are ignored.
    // `remember`: the client's next requests get the same answer without asking (an approval
    // only for the same or fewer servers), until its grants are revoked.
    void approve(const QString &consentId, const QStringList &servers, bool remember = false);
    void deny(const QString &consentId, bool remember = false);

Q_SIGNALS:
    void consentRequested(const mcpbroker::gateway::ConsentRequest &request);
    // Approved, denied (also on the page), expired or dropped.
    void consentFinished(const QString &consentId, bool approved);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::gateway

Q_DECLARE_METATYPE(mcpbroker::gateway::ConsentRequest)
