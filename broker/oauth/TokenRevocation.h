#pragma once

#include "Result.h"
#include "oauth/ClientAuthentication.h"

#include <QByteArray>
#include <QObject>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::oauth {

// One RFC 7009 revocation request: tells the authorization server that a token
// is no longer needed (sign-out), with the same client authentication as the
// token endpoint. A 200 (any 2xx) answer is success, also when the server did
// not know the token (RFC 7009 §2.2). Single use.
class TokenRevocation : public QObject
{
    Q_OBJECT
public:
    enum class TokenTypeHint { RefreshToken, AccessToken };

    static constexpr int kDefaultTimeoutMs = 30'000;

    TokenRevocation(QNetworkAccessManager *network, QUrl revocationEndpoint,
                    ClientAuthentication client, int timeoutMs = kDefaultTimeoutMs,
                    QObject *parent = nullptr);
    ~TokenRevocation() override;

    // POSTs token and token_type_hint (RFC 7009 §2.1).
    void revoke(const QByteArray &token, TokenTypeHint hint);
    // Ends the request with a Cancelled error (no-op once finished).
    void abort();

Q_SIGNALS:
    // Exactly once per started request, unless it is destroyed first. Errors:
    // Unreachable (also HTTP 5xx, e.g. 503 with Retry-After) and Timeout;
    // Unauthorized for invalid_client; Protocol for any other refusal
    // (unsupported_token_type, …); InvalidInput for an endpoint that is not
    // https; Cancelled.
    void finished(const mcpbroker::Result<void> &result);

private:
    void onAnswer(const Result<HttpExchange::Answer> &answer);
    void finish(Result<void> result);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
