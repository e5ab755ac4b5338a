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

// The broker's localhost HTTP face: refuses foreign Host and Origin headers (DNS rebinding),
// and sends /mcp and /mcp/<server> to the MCP transport and /status to the status report.
class LocalEndpoint : public QObject
{
    Q_OBJECT
public:
    using StatusReport = std::function<nlohmann::json()>;
    using ServerExists = std::function<bool(const QString &name)>;

    LocalEndpoint(mcp::ServerMessageHandler *handler, ServerExists serverExists,
                  StatusReport statusReport, QObject *parent = nullptr);
    ~LocalEndpoint() override;

    Result<void> listen(quint16 port);
    quint16 port() const;
    mcp::StreamableHttpServer *transport() const { return m_transport.get(); }

private:
    void handle(const http::HttpRequest &request, http::HttpResponder *responder);

    std::unique_ptr<mcp::StreamableHttpServer> m_transport;
    std::unique_ptr<http::HttpServer> m_server;
    ServerExists m_serverExists;
    StatusReport m_statusReport;
};

} // namespace mcpbroker::gateway
