#pragma once

#include "Result.h"
#include "oauth/HttpExchange.h"
#include "oauth/RegisteredClient.h"

#include <QObject>
#include <QStringList>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::oauth {

// RFC 7591 dynamic client registration of MCP Broker as a native application
// (RFC 8252) at one authorization server. Registers once; the caller keeps the
// RegisteredClient in the keychain and reuses it for every later sign-in.
// Single use: call registerClient() once.
class ClientRegistration : public QObject
{
    Q_OBJECT
public:
    static constexpr int kDefaultTimeoutMs = 30'000;

    struct Request
    {
        QStringList redirectUris; // the loopback redirect URI(s)
        QStringList scopes; // sent as `scope` when known
        // The server's token_endpoint_auth_methods_supported: "none" (a public
        // native client) is chosen unless the server lists only others; then
        // client_secret_basic, then client_secret_post. Empty: the server did not
        // say, "none" is asked for.
        QStringList authMethodsSupported;
        QString clientName = QStringLiteral("MCP Broker");
    };

    ClientRegistration(QNetworkAccessManager *network, QUrl registrationEndpoint,
                       int timeoutMs = kDefaultTimeoutMs, QObject *parent = nullptr);
    ~ClientRegistration() override;

    void registerClient(const Request &request);
    // Ends the registration with a Cancelled error (no-op once finished).
    void abort();

    // The token_endpoint_auth_method that `request` asks for, or an error when
    // the server offers none that MCP Broker can use.
    static Result<QString> chooseAuthMethod(const QStringList &supported);

Q_SIGNALS:
    // Exactly once per started registration, unless it is destroyed first.
    // Errors: Protocol for a refusal (invalid_redirect_uri,
    // invalid_client_metadata, …) or a malformed answer; Unauthorized when the
    // server wants an initial access token; Unreachable (also 5xx) and Timeout;
    // InvalidInput for an endpoint that is not https or unusable auth methods;
    // Cancelled.
    void finished(const mcpbroker::Result<mcpbroker::oauth::RegisteredClient> &client);

private:
    void onAnswer(const Result<HttpExchange::Answer> &answer);
    Result<RegisteredClient> accept(const QByteArray &body) const;
    void finish(Result<RegisteredClient> client);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
