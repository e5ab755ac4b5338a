#pragma once

#include "Result.h"
#include "gateway/ToolAccess.h"
#include "gateway/Upstream.h"
#include "mcp/ServerSession.h"
#include "mcp/StreamableHttpClient.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <nlohmann/json.hpp>

#include <map>

namespace mcpbroker::mcp {
class StreamableHttpServer;
}

namespace mcpbroker::gateway {

class ToolAccess;
class UpstreamRegistry;

// The MCP server behind the local endpoint. Answers initialize, ping and the lists itself
// (CatalogListing), routes tools/call, prompts/get, resources/*, completion/complete to the
// upstream that owns the name (Namespacing), carries what the upstream sends during a call
// (progress, logging, sampling and elicitation requests) back to the client that made it, and
// fans upstream notifications (list_changed, resources/updated, logging) out to the sessions
// that can see that upstream.
class Router : public QObject, public mcp::ServerMessageHandler
{
    Q_OBJECT
public:
    explicit Router(UpstreamRegistry *registry, QObject *parent = nullptr);
    ~Router() override;

    // Where server-initiated notifications go. Set once, before the first request.
    void setTransport(mcp::StreamableHttpServer *transport) { m_transport = transport; }
    // Which tools each client sees and may call, and the audit log; none: every tool, no log.
    void setToolAccess(ToolAccess *access) { m_access = access; }

    void handleRequest(mcp::ServerSession &session, const nlohmann::json &request,
                       std::shared_ptr<mcp::ReplyChannel> reply) override;
    void handleNotification(mcp::ServerSession &session,
                            const nlohmann::json &notification) override;
    void handleResponse(mcp::ServerSession &session, const nlohmann::json &response) override;
    void sessionClosed(const mcp::ServerSession &session) override;

private:
    // Which upstream a name or URI of a session's endpoint belongs to, and its own name there.
    struct Target
    {
        Upstream *upstream = nullptr;
        QString name;
    };
    // A downstream request being answered by an upstream.
    struct Call
    {
        QString sessionId;
        nlohmann::json downstreamId;
        QPointer<Upstream> upstream;
        mcp::StreamableHttpClient::RequestId upstreamId = 0;
        std::shared_ptr<mcp::ReplyChannel> reply;
        nlohmann::json progressToken; // the client's, when it asked for progress
        QString upstreamProgressToken;
    };
    // A server-to-client request (sampling, elicitation) passed on to a downstream client.
    struct RelayedRequest
    {
        QPointer<Upstream> upstream;
        nlohmann::json upstreamId;
        QString sessionId;
        QString callKey;
    };
    using ResultRewriter = std::function<nlohmann::json(nlohmann::json result)>;

    void initialize(mcp::ServerSession &session, const nlohmann::json &request,
                    std::shared_ptr<mcp::ReplyChannel> reply);
    nlohmann::json initializeResult(const mcp::ServerSession &session) const;
    void list(mcp::ServerSession &session, CatalogKind kind, const nlohmann::json &request,
              std::shared_ptr<mcp::ReplyChannel> reply);
    void answerSignInNeeded(Upstream *upstream, bool urlElicitation, bool asToolResult,
                            const nlohmann::json &id, std::shared_ptr<mcp::ReplyChannel> reply);
    void setLogLevel(mcp::ServerSession &session, const nlohmann::json &request,
                     std::shared_ptr<mcp::ReplyChannel> reply);
    void subscribe(mcp::ServerSession &session, const nlohmann::json &request,
                   std::shared_ptr<mcp::ReplyChannel> reply, bool on);
    // Forwards the request to `target`, with `params` rewritten for the upstream.
    void forward(mcp::ServerSession &session, const nlohmann::json &request, const Target &target,
                 nlohmann::json params, std::shared_ptr<mcp::ReplyChannel> reply,
                 ResultRewriter rewrite = {});
    void callTool(mcp::ServerSession &session, const nlohmann::json &request, const Target &target,
                  nlohmann::json params, std::shared_ptr<mcp::ReplyChannel> reply);
    void relayDuringCall(const QString &callKey, const nlohmann::json &message);

    Result<Target> targetForName(const mcp::ServerSession &session, const QString &name,
                                 const QString &what) const;
    Result<Target> targetForUri(const mcp::ServerSession &session, const QString &uri) const;
    QList<Upstream *> upstreamsIn(const mcp::ServerSession &session) const;
    bool sees(const mcp::ServerSession &session, const QString &server) const;
    static QString uriFor(bool qualify, const QString &server, const QString &uri);

    void onCatalogChanged(const QString &server, CatalogKind kind);
    void onUpstreamsChanged();
    void onServerMessage(const QString &server, const nlohmann::json &message);
    void notifySessions(const std::function<bool(const mcp::ServerSession &)> &wanted,
                        const std::function<nlohmann::json(const mcp::ServerSession &)> &message);
    void endCall(const QString &callKey);
    static QString callKey(const QString &sessionId, const nlohmann::json &id);

    UpstreamRegistry *m_registry;
    mcp::StreamableHttpServer *m_transport = nullptr;
    QPointer<ToolAccess> m_access;
    std::map<QString, Call> m_calls;               // by callKey
    std::map<QString, RelayedRequest> m_relayed;   // by the id we gave the client
    QHash<QString, QString> m_callByProgressToken; // upstream token -> callKey
    QHash<QString, QSet<QString>> m_subscribers;   // "server\nuri" -> session ids
    quint64 m_nextId = 1;
};

} // namespace mcpbroker::gateway
