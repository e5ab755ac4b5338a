#pragma once

#include "Result.h"

#include <QObject>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>

namespace mcpbroker::http {
class HttpServer;
struct HttpRequest;
class HttpResponder;
} // namespace mcpbroker::http

namespace mcpbroker::mcp {
class StreamableHttpServer;
class ServerMessageHandler;
} // namespace mcpbroker::mcp

namespace mcpbroker::gateway {

class ClientGrants;
class LocalAuthorizationServer;

// The broker's localhost HTTP face: refuses foreign Host and Origin headers (DNS rebinding),
// sends the OAuth paths to the broker's own authorization server, lets only clients with a
// grant reach /mcp and /mcp/<server> (the MCP transport), and answers /status.
class LocalEndpoint : public QObject
{
    Q_OBJECT
public:
    using StatusReport = std::function<nlohmann::json()>;
    using ServerExists = std::function<bool(const QString &name)>;

    // `grants` and `authorizationServer` outlive the endpoint. A revoked grant's sessions end
    // at once.
    LocalEndpoint(mcp::ServerMessageHandler *handler, ClientGrants *grants,
                  LocalAuthorizationServer *authorizationServer, ServerExists serverExists,
                  StatusReport statusReport, QObject *parent = nullptr);
    ~LocalEndpoint() override;

    Result<void> listen(quint16 port);
    quint16 port() const;
    mcp::StreamableHttpServer *transport() const { return m_transport.get(); }

    // While paused every request to /mcp gets 503 with a sentence, and pausing ends the open
    // sessions (their streams close). The OAuth and status paths keep answering.
    void setPaused(bool paused);

private:
    void handle(const http::HttpRequest &request, http::HttpResponder *responder);
    void handleMcp(const http::HttpRequest &request, http::HttpResponder *responder,
                   const QString &path);
    void refuseUnauthenticated(const http::HttpRequest &request, http::HttpResponder *responder,
                               const QString &path, const Error *error);

    std::unique_ptr<mcp::StreamableHttpServer> m_transport;
    std::unique_ptr<http::HttpServer> m_server;
    ClientGrants *m_grants;
    LocalAuthorizationServer *m_authorizationServer;
    ServerExists m_serverExists;
    StatusReport m_statusReport;
    bool m_paused = false;
};

} // namespace mcpbroker::gateway
