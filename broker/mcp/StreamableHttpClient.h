#pragma once

#include "Result.h"

#include <QObject>
#include <QUrl>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::mcp {

class RequestAuthorizer;

// MCP client over the Streamable HTTP transport (MCP 2025-11-25, basic/transports), talking to
// one upstream server. It owns the upstream session: initialize handshake, Mcp-Session-Id,
// MCP-Protocol-Version header, JSON and SSE replies to POSTs, the standalone GET stream for
// server-initiated messages, per-request timeouts, cancellation, and reconnection after the
// upstream restarts (HTTP 404 for our session id, or the connection dropping) by starting a new
// session on the next request. Header values (credentials) are never logged.
class StreamableHttpClient : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QUrl url;
        QList<QPair<QByteArray, QByteArray>> headers; // sent on every request (may be secret)
        nlohmann::json clientInfo = {{"name", "mcp-broker"}, {"version", MCPB_VERSION}};
        nlohmann::json capabilities = nlohmann::json::object(); // what we declare as a client
        int requestTimeoutMs = 60'000;
        int connectTimeoutMs = 10'000; // for initialize
        // Authorization of every request (OAuth); none: `headers` are all there is.
        std::shared_ptr<RequestAuthorizer> authorizer;
    };

    enum class State { Disconnected, Connecting, Ready, Failed };
    Q_ENUM(State)

    using RequestId = qint64; // our id on the upstream; > 0

    struct RequestCallbacks
    {
        // Server-to-client messages that arrive on this request's SSE stream before its
        // response: notifications (progress, logging) and requests (sampling, elicitation,
        // roots). A full JSON-RPC message object. May be empty.
        std::function<void(const nlohmann::json &message)> onMessage;
        // Exactly once, unless cancel() was called first: the `result` member of the response,
        // or an Error (kind Rpc carries the upstream's code/message/data; Timeout, Unreachable,
        // Unauthorized, Protocol otherwise).
        std::function<void(Result<nlohmann::json> result)> onResult;
    };

    // `network` carries what http::HttpClient does not carry itself (TLS, proxies).
    StreamableHttpClient(Options options, QNetworkAccessManager *network,
                         QObject *parent = nullptr);
    ~StreamableHttpClient() override;

    State state() const;
    Error lastError() const; // why the state is Failed (or the last connect failure)

    // Starts the initialize handshake if not Ready/Connecting. request() calls it too; requests
    // made while connecting are queued and sent once Ready (or fail with the connect error).
    void connectToServer();
    // Ends the session: DELETE with the session id (best effort), aborts everything in flight
    // (their onResult gets Cancelled), State -> Disconnected.
    void disconnectFromServer();

    // After Ready: what the upstream answered to initialize.
    QString protocolVersion() const;
    nlohmann::json serverCapabilities() const;
    nlohmann::json serverInfo() const;
    QString instructions() const;

    // Sends a JSON-RPC request. `timeoutMs` 0 = Options::requestTimeoutMs. On timeout the client
    // sends notifications/cancelled upstream and reports Error::Kind::Timeout.
    RequestId request(const QString &method, const nlohmann::json &params,
                      RequestCallbacks callbacks, int timeoutMs = 0);
    // Sends notifications/cancelled {requestId, reason} upstream and forgets the request: its
    // onResult is not called. Unknown ids are ignored.
    void cancel(RequestId id, const QString &reason);
    // Sends a JSON-RPC notification (fire and forget; errors are logged).
    void notify(const QString &method, const nlohmann::json &params);
    // Answers a server-to-client request (from onMessage or serverMessage): `response` is a full
    // JSON-RPC response object with the upstream's request id.
    void respond(const nlohmann::json &response);

Q_SIGNALS:
    void stateChanged(mcpbroker::mcp::StreamableHttpClient::State state);
    // Messages on the standalone GET stream (list_changed, resources/updated, logging, and
    // server requests not tied to one of our requests).
    void serverMessage(const nlohmann::json &message);

private:
    // implementation-defined members follow
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::mcp
