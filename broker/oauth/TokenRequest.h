#pragma once

#include "Result.h"
#include "oauth/ClientAuthentication.h"
#include "oauth/TokenSet.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::oauth {

// A successful access token response (RFC 6749 §5.1). Secrets: hold it only as
// long as needed.
struct TokenResponse
{
    QByteArray accessToken;
    QByteArray refreshToken; // empty when none was issued: a refresh then keeps
                             // the old one
    QString tokenType;       // always "Bearer"
    qint64 expiresAtMs = 0;  // ms since the epoch, from expires_in counted from
                             // the request's start; 0 when the server did not say
    QStringList scopes;      // the response's scope, else the scope this request asked for

    // What the keychain keeps of this response: the tokens `issuer` issued for `resource`.
    // Moves the secrets out of this response.
    TokenSet takeTokenSet(const QString &issuer, const QString &resource);
};

// One call to an authorization server's token endpoint (RFC 6749 §3.2): the
// authorization code grant with PKCE (§4.1.3, RFC 7636 §4.5), a refresh (§6) or
// the client credentials grant (§4.4), each with the RFC 8707 `resource` the
// token is for, and the client authentication of ClientAuthentication. Single
// use: call one of the grant functions once.
class TokenRequest : public QObject
{
    Q_OBJECT
public:
    static constexpr int kDefaultTimeoutMs = 30'000;

    TokenRequest(QNetworkAccessManager *network, QUrl tokenEndpoint, ClientAuthentication client,
                 int timeoutMs = kDefaultTimeoutMs, QObject *parent = nullptr);
    ~TokenRequest() override;

    // grant_type=authorization_code with code, redirect_uri (exactly as in the
    // authorization request), code_verifier and resource.
    void exchangeCode(const QString &code, const QString &redirectUri,
                      const QByteArray &codeVerifier, const QUrl &resource);
    // grant_type=refresh_token with resource, and scope when `scopes` is not
    // empty.
    void refresh(const QByteArray &refreshToken, const QUrl &resource,
                 const QStringList &scopes = {});
    // grant_type=client_credentials with scope (when not empty) and resource.
    void requestClientCredentials(const QStringList &scopes, const QUrl &resource);
    // Ends the request with a Cancelled error (no-op once finished).
    void abort();

    // The RFC 6749 §5.2 error code of a refused request ("invalid_grant", …);
    // empty otherwise.
    QString oauthError() const;

Q_SIGNALS:
    // Exactly once per started request, unless the request is destroyed first.
    // Errors: Unauthorized for invalid_grant, invalid_client and
    // unauthorized_client (sign in again); Unreachable (also for HTTP 5xx and
    // 429) and Timeout for trouble worth retrying later; Protocol for any other
    // refusal or a malformed answer; Cancelled.
    void finished(const mcpbroker::Result<mcpbroker::oauth::TokenResponse> &response);

private:
    void send(HttpExchange::FormFields fields, const QUrl &resource);
    void onAnswer(const Result<HttpExchange::Answer> &answer);
    Result<TokenResponse> parseSuccess(const QByteArray &body) const;
    Error refusal(const HttpExchange::Answer &answer);
    void finish(Result<TokenResponse> response);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
