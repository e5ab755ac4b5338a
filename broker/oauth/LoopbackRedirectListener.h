#pragma once

#include "Result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <memory>

namespace mcpbroker::http {
class HttpServer;
class HttpResponder;
struct HttpRequest;
} // namespace mcpbroker::http

namespace mcpbroker::oauth {

// The redirect end of one authorization code flow (RFC 8252 §7.3, §8.3): an HTTP listener on
// 127.0.0.1 with an ephemeral port that takes exactly one GET /callback. That callback is
// checked — `state` in constant time, RFC 9207 `iss` against the issuer, an `error` from the
// authorization server — answered with a small page telling the user to close the tab, and
// reported by finished(). Any callback ends the flow, a wrong one too (state is single-use);
// other paths, methods and foreign Host headers are refused without ending it. After the
// first callback, a timeout or cancel() the listener stops listening.
class LoopbackRedirectListener : public QObject
{
    Q_OBJECT
public:
    struct Expected
    {
        QByteArray state;            // the `state` sent in the authorization request (secret)
        QString issuer;              // the AS metadata's `issuer`; empty: no iss check possible
        bool issuerRequired = false; // metadata's authorization_response_iss_parameter_supported
    };

    static constexpr int kDefaultTimeoutMs = 5 * 60 * 1000;

    explicit LoopbackRedirectListener(Expected expected, int timeoutMs = kDefaultTimeoutMs,
                                      QObject *parent = nullptr);
    ~LoopbackRedirectListener() override;

    // Binds 127.0.0.1 on `preferredPort` when it is free (the port of a kept client
    // registration, for servers that match redirect URIs exactly), else on any free port, and
    // starts the timeout. Fails when called twice or when no port can be bound.
    Result<void> listen(quint16 preferredPort = 0);
    // "http://127.0.0.1:<port>/callback"; empty before listen().
    QString redirectUri() const;
    bool isListening() const;
    // Ends the flow with a Cancelled error (no-op once finished).
    void cancel();

Q_SIGNALS:
    // Exactly once after a successful listen(), unless the listener is destroyed first: the
    // authorization code, or why there is none (Protocol for a wrong or missing state, iss or
    // code; Unauthorized for an error from the authorization server; Timeout; Cancelled).
    // Delete the listener with deleteLater() from a connected slot.
    void finished(const mcpbroker::Result<QString> &code);

private:
    void handle(const http::HttpRequest &request, http::HttpResponder *responder);
    Result<QString> evaluate(const http::HttpRequest &request) const;
    void finish(Result<QString> result, int closeDelayMs);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
