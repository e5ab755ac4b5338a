#pragma once

#include "mcp/ServerSession.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>

namespace mcpbroker::http {
struct HttpRequest;
class HttpResponder;
} // namespace mcpbroker::http

namespace mcpbroker::mcp {

// The server side of MCP's Streamable HTTP transport (2025-11-25 basic/transports) for the
// local endpoint: sessions (Mcp-Session-Id), POST with JSON or SSE answers, the standalone GET
// stream, resumption with Last-Event-ID, DELETE, MCP-Protocol-Version checks and the batching
// rule of each protocol version. What the messages mean is the handler's business.
// Host/Origin checks happen before a request gets here (LocalEndpoint).
class StreamableHttpServer : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int maxSessions = 512;
        int sessionIdleTimeoutMs = 30 * 60 * 1000; // no request and no open stream
        int retryMs = 1000;                        // "retry:" of priming events
        // A finished stream can still be resumed for this long, and a session keeps only its
        // last few finished streams: memory stays bounded whatever the request rate.
        int finishedStreamRetentionMs = 60'000;
        int maxFinishedStreamsPerSession = 16;
        int maxStoredEventsPerStream = 256;
    };

    StreamableHttpServer(ServerMessageHandler *handler, Options options, QObject *parent = nullptr);
    ~StreamableHttpServer() override;

    // One request to the endpoint path of `scope` ("" = aggregated, else a server name), from
    // `owner` (authenticated before it gets here). Another owner's session is "not found".
    void handle(const http::HttpRequest &request, http::HttpResponder *responder,
                const QString &scope, const SessionOwner &owner = {});
    // Ends the sessions `which` picks at once: their open streams close, their calls are
    // cancelled (revocation).
    void closeSessions(const std::function<bool(const ServerSession &)> &which);

    // Sends a server-initiated message on a session's standalone (GET) stream. Returns false
    // when the session has no such stream (the message is then kept for a resuming client only).
    bool sendToSession(const QString &sessionId, const nlohmann::json &message);
    ServerSession *findSession(const QString &sessionId);
    // Calls `visit` for each live session.
    void forEachSession(const std::function<void(ServerSession &)> &visit);
    int sessionCount() const;

private:
    friend class StreamReply;
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::mcp
