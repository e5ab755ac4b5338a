#pragma once

#include "Result.h"
#include "oauth/AuthorizationServerMetadata.h"
#include "oauth/ClientIdentity.h"
#include "oauth/TokenSet.h"

#include <QObject>
#include <QStringList>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::oauth {

class BrowserLauncher;

// One sign-in in the browser (OAuth 2.1 authorization code grant, as MCP 2025-11-25 wants it):
// a loopback redirect listener (RFC 8252) → the client identity (ClientIdentity, registering
// if needed) → PKCE S256 and a fresh `state` → the authorization URL with `resource` (RFC
// 8707) and the scopes, opened in the browser → the redirect, checked (state, RFC 9207 iss)
// → the code exchanged for tokens with the same redirect URI, verifier and resource.
// Single use: start() once; finished() comes exactly once, unless the flow is destroyed.
class AuthorizationCodeFlow : public QObject
{
    Q_OBJECT
public:
    struct Request
    {
        QString serverName;
        AuthorizationServerMetadata server;
        QUrl resource;                 // the RFC 8707 resource: the MCP server (canonical form)
        QStringList scopes;            // empty: no scope parameter
        int timeoutMs = 5 * 60 * 1000; // for the user to finish in the browser
    };

    // `network`, `identity` and `browser` must outlive the flow.
    AuthorizationCodeFlow(QNetworkAccessManager *network, ClientIdentity *identity,
                          BrowserLauncher *browser, QObject *parent = nullptr);
    ~AuthorizationCodeFlow() override;

    void start(Request request);
    // Ends the flow with a Cancelled error (no-op once finished).
    void cancel();
    // The page the user signs in on; empty until authorizationUrlReady().
    QUrl authorizationUrl() const;

Q_SIGNALS:
    // The sign-in page is `url`; `browserOpened` says whether a browser was started for it
    // (if not, the user may open the URL by hand until the flow times out).
    void authorizationUrlReady(const QUrl &url, bool browserOpened);
    void finished(const mcpbroker::Result<mcpbroker::oauth::TokenSet> &tokens);

private:
    void onIdentity(Result<ClientIdentity::Identity> identity);
    void onCode(const Result<QString> &code);
    void finish(Result<TokenSet> tokens);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
