#include "gateway/LocalEndpoint.h"

#include "Logging.h"
#include "gateway/ClientGrants.h"
#include "gateway/LocalAuthorizationServer.h"
#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "http/LoopbackPolicy.h"
#include "mcp/JsonRpc.h"
#include "mcp/StreamableHttpServer.h"
#include "store/ConfigStore.h"

#include <QPointer>

namespace mcpbroker::gateway {

namespace {

const QString kMcpPath = QStringLiteral("/mcp");

http::HttpResponse jsonError(int status, const QString &message)
{
    return http::HttpResponse::json(
            status, mcp::jsonrpc::serialize(mcp::jsonrpc::makeError(nullptr, -32000, message)));
}

// RFC 6750 §3: a quoted-string parameter value (no quotes or backslashes inside).
QByteArray quoted(const QString &value)
{
    QString clean = value;
    clean.remove(QLatin1Char('"')).remove(QLatin1Char('\\'));
    return '"' + clean.toUtf8() + '"';
}

// The token of "Authorization: Bearer <token>" (the scheme is case-insensitive), or empty.
QByteArray bearerToken(const http::HttpRequest &request)
{
    const QByteArray value = request.header("Authorization").trimmed();
    const qsizetype space = value.indexOf(' ');
    if (space < 0 || value.left(space).toLower() != "bearer")
        return {};
    return value.mid(space + 1).trimmed();
}

} // namespace

LocalEndpoint::LocalEndpoint(mcp::ServerMessageHandler *handler, ClientGrants *grants,
                             LocalAuthorizationServer *authorizationServer,
                             ServerExists serverExists, StatusReport statusReport, QObject *parent)
    : QObject(parent), m_transport(std::make_unique<mcp::StreamableHttpServer>(
                               handler, mcp::StreamableHttpServer::Options{})),
      m_grants(grants), m_authorizationServer(authorizationServer),
      m_serverExists(std::move(serverExists)), m_statusReport(std::move(statusReport))
{
    connect(grants, &ClientGrants::grantRevoked, this, [this](const QString &grantId) {
        m_transport->closeSessions([&](const mcp::ServerSession &session) {
            return session.owner.grantId == grantId;
        });
    });
}

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

void LocalEndpoint::setPaused(bool paused)
{
    m_paused = paused;
    if (paused)
        m_transport->closeSessions([](const mcp::ServerSession &) { return true; });
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

    if (m_authorizationServer && m_authorizationServer->handles(request)) {
        m_authorizationServer->handle(request, responder);
        return;
    }
    const QString path = request.path.endsWith(QLatin1Char('/')) && request.path.size() > 1
            ? request.path.chopped(1)
            : request.path;
    if (path == QLatin1String("/status") && request.method == "GET") {
        responder->send(http::HttpResponse::json(200, mcp::jsonrpc::serialize(m_statusReport())));
        return;
    }
    if (path == kMcpPath || path.startsWith(kMcpPath + QLatin1Char('/'))) {
        // Grants are read from the keychain at start; a request that comes first waits.
        QPointer<http::HttpResponder> guard(responder);
        m_grants->whenReady(this, [this, guard, request, path] {
            if (guard)
                handleMcp(request, guard, path);
        });
        return;
    }
    responder->send(
            jsonError(404, QStringLiteral("Not found: the MCP endpoint is %1.").arg(kMcpPath)));
}

void LocalEndpoint::handleMcp(const http::HttpRequest &request, http::HttpResponder *responder,
                              const QString &path)
{
    if (m_paused) {
        responder->send(jsonError(503,
                                  QStringLiteral("MCP Broker is paused: the user stopped all "
                                                 "access from its tray menu. Ask them to choose "
                                                 "\"Pause all access\" again to resume."))
                                .withHeader("Retry-After", "60"));
        return;
    }
    const QByteArray token = bearerToken(request);
    if (token.isEmpty())
        return refuseUnauthenticated(request, responder, path, nullptr);
    const auto grant = m_grants->authenticate(token);
    if (!grant)
        return refuseUnauthenticated(request, responder, path, &grant.error());

    const mcp::SessionOwner owner{grant.value().id, grant.value().clientName,
                                  grant.value().servers};
    if (path == kMcpPath) {
        m_transport->handle(request, responder, QString(), owner);
        return;
    }
    const QString server = path.mid(kMcpPath.size() + 1);
    if (!store::ConfigStore::validateServerName(server) || !m_serverExists(server)) {
        responder->send(jsonError(404,
                                  QStringLiteral("No server named '%1' is configured; "
                                                 "`mcp-broker list` shows the servers.")
                                          .arg(server.left(63))));
        return;
    }
    if (!owner.allowsServer(server)) {
        responder->send(
                jsonError(403,
                          QStringLiteral("Client '%1' has no access to server '%2'; its grant "
                                         "allows: %3.")
                                  .arg(owner.clientName, server, owner.servers.join(", ")))
                        .withHeader("WWW-Authenticate",
                                    "Bearer error=\"insufficient_scope\", resource_metadata="
                                            + quoted(LocalAuthorizationServer::resourceMetadataUrl(
                                                    request, server))
                                            + ", error_description="
                                            + quoted(QStringLiteral("This grant does not "
                                                                    "include server '%1'.")
                                                             .arg(server))));
        return;
    }
    m_transport->handle(request, responder, server, owner);
}

// RFC 6750 §3 and RFC 9728 §5.1: the challenge names the protected resource metadata, so that
// an MCP client can find the broker's authorization server and get a grant by itself.
void LocalEndpoint::refuseUnauthenticated(const http::HttpRequest &request,
                                          http::HttpResponder *responder, const QString &path,
                                          const Error *error)
{
    const QString server = path == kMcpPath ? QString() : path.mid(kMcpPath.size() + 1);
    QByteArray challenge = "Bearer resource_metadata="
            + quoted(LocalAuthorizationServer::resourceMetadataUrl(request, server));
    QString message = QStringLiteral(
            "MCP Broker needs an access grant: connect this client with `mcp-broker connect "
            "<client>`, let it sign in to the broker (OAuth), or create one with `mcp-broker "
            "grant create NAME` and send it as \"Authorization: Bearer <token>\".");
    if (error) {
        challenge += ", error=\"invalid_token\", error_description=" + quoted(error->message);
        message = error->message + QLatin1Char(' ') + message;
    }
    responder->send(jsonError(401, message).withHeader("WWW-Authenticate", challenge));
}

} // namespace mcpbroker::gateway
