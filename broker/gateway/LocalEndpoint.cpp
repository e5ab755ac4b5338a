#include "gateway/LocalEndpoint.h"

#include "Logging.h"
#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "http/LoopbackPolicy.h"
#include "mcp/JsonRpc.h"
#include "mcp/StreamableHttpServer.h"
#include "store/ConfigStore.h"

namespace mcpbroker::gateway {

namespace {

const QString kMcpPath = QStringLiteral("/mcp");

http::HttpResponse jsonError(int status, const QString &message)
{
    return http::HttpResponse::json(
            status, mcp::jsonrpc::serialize(mcp::jsonrpc::makeError(nullptr, -32000, message)));
}

} // namespace

LocalEndpoint::LocalEndpoint(mcp::ServerMessageHandler *handler, ServerExists serverExists,
                             StatusReport statusReport, QObject *parent)
    : QObject(parent), m_transport(std::make_unique<mcp::StreamableHttpServer>(
                               handler, mcp::StreamableHttpServer::Options{})),
      m_serverExists(std::move(serverExists)), m_statusReport(std::move(statusReport))
{ }

LocalEndpoint::~LocalEndpoint()
{
    // Connections go first: their responders must not outlive the transport's streams.
    m_server.reset();
}

Result<void> LocalEndpoint::listen(quint16 port)
{
    m_server = std::make_unique<http::HttpServer>(
            [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                handle(request, responder);
            });
    return m_server->listen(port);
}

quint16 LocalEndpoint::port() const
{
    return m_server ? m_server->port() : 0;
}

void LocalEndpoint::handle(const http::HttpRequest &request, http::HttpResponder *responder)
{
    if (!http::LoopbackPolicy::isAllowedHost(request.header("Host"), port())) {
        qCWarning(lcHttp) << "Refused a request with a foreign Host header (DNS rebinding?)";
        responder->send(jsonError(403,
                                  QStringLiteral("Forbidden: this endpoint only answers "
                                                 "requests addressed to localhost.")));
        return;
    }
    if (request.hasHeader("Origin")
        && !http::LoopbackPolicy::isAllowedOrigin(request.header("Origin"))) {
        qCWarning(lcHttp) << "Refused a request from a web page of another origin";
        responder->send(jsonError(403,
                                  QStringLiteral("Forbidden: requests from web pages of other "
                                                 "origins are not allowed.")));
        return;
    }

    const QString path = request.path.endsWith(QLatin1Char('/')) && request.path.size() > 1
            ? request.path.chopped(1)
            : request.path;
    if (path == QLatin1String("/status") && request.method == "GET") {
        responder->send(http::HttpResponse::json(200, mcp::jsonrpc::serialize(m_statusReport())));
        return;
    }
    if (path == kMcpPath) {
        m_transport->handle(request, responder, QString());
        return;
    }
    if (path.startsWith(kMcpPath + QLatin1Char('/'))) {
        const QString server = path.mid(kMcpPath.size() + 1);
        if (store::ConfigStore::validateServerName(server) && m_serverExists(server)) {
            m_transport->handle(request, responder, server);
            return;
        }
        responder->send(jsonError(404,
                                  QStringLiteral("No server named '%1' is configured; "
                                                 "`mcp-broker list` shows the servers.")
                                          .arg(server.left(63))));
        return;
    }
    responder->send(
            jsonError(404, QStringLiteral("Not found: the MCP endpoint is %1.").arg(kMcpPath)));
}

} // namespace mcpbroker::gateway
