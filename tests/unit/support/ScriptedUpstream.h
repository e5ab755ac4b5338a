// ScriptedUpstream: an upstream MCP server in the test process whose catalogs the test sets and
// changes. It is the broker's own server side of Streamable HTTP (http::HttpServer +
// mcp::StreamableHttpServer, real sockets) with a handler that answers initialize, ping and the
// four list methods from the catalogs it holds (one page each), and can announce a change with
// notifications/…/list_changed on each session's standalone stream, as an SDK server does.

#pragma once

#include "gateway/Upstream.h"
#include "http/HttpRequest.h"
#include "http/HttpServer.h"
#include "mcp/JsonRpc.h"
#include "mcp/ProtocolVersion.h"
#include "mcp/ServerSession.h"
#include "mcp/StreamableHttpServer.h"

#include <QUrl>

#include <map>
#include <memory>

class ScriptedUpstream : public mcpbroker::mcp::ServerMessageHandler
{
public:
    using CatalogKind = mcpbroker::gateway::CatalogKind;
    using json = nlohmann::json;

    // `announcesChanges`: the capabilities say listChanged (the broker then trusts its cache
    // until told); without, the broker lists again once its copy is a little old.
    explicit ScriptedUpstream(bool announcesChanges = true)
        : m_announcesChanges(announcesChanges),
          m_transport(this, mcpbroker::mcp::StreamableHttpServer::Options{}),
          m_http([this](const mcpbroker::http::HttpRequest &request,
                        mcpbroker::http::HttpResponder *responder) {
              if (request.method == "GET")
                  ++m_getStreams;
              m_transport.handle(request, responder, QString());
          })
    {
        for (CatalogKind kind : {CatalogKind::Tools, CatalogKind::Prompts, CatalogKind::Resources,
                                 CatalogKind::ResourceTemplates})
            m_items[kind] = json::array();
    }

    // A tool for setItems(Tools, …): name, an input schema, and the annotations if given.
    static json tool(const char *name, json annotations = nullptr)
    {
        json made = {{"name", name}, {"inputSchema", {{"type", "object"}}}};
        if (!annotations.is_null())
            made["annotations"] = std::move(annotations);
        return made;
    }

    bool listen() { return m_http.listen(0).ok(); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_http.port())); }

    // What the next list of `kind` answers.
    void setItems(CatalogKind kind, json items) { m_items[kind] = std::move(items); }
    int listRequests(CatalogKind kind) const
    {
        const auto it = m_listRequests.find(kind);
        return it == m_listRequests.end() ? 0 : it->second;
    }
    // Whether a client opened its standalone GET stream (where list_changed goes).
    bool hasListener() const { return m_getStreams > 0; }
    // Sends list_changed for `kind` to every session; false when none has a standalone stream.
    bool announce(CatalogKind kind)
    {
        const QString method = kind == CatalogKind::Tools ? QStringLiteral("tools")
                : kind == CatalogKind::Prompts            ? QStringLiteral("prompts")
                                                          : QStringLiteral("resources");
        const json message = mcpbroker::mcp::jsonrpc::makeNotification(
                QStringLiteral("notifications/%1/list_changed").arg(method), nullptr);
        bool sent = false;
        QStringList sessions;
        m_transport.forEachSession(
                [&](mcpbroker::mcp::ServerSession &session) { sessions.append(session.id); });
        for (const QString &id : sessions)
            sent = m_transport.sendToSession(id, message) || sent;
        return sent;
    }

    void handleRequest(mcpbroker::mcp::ServerSession &session, const json &request,
                       std::shared_ptr<mcpbroker::mcp::ReplyChannel> reply) override
    {
        namespace jsonrpc = mcpbroker::mcp::jsonrpc;
        const QString method = jsonrpc::method(request);
        const json id = request["id"];
        if (method == QLatin1String("initialize")) {
            session.protocolVersion = mcpbroker::mcp::ProtocolVersion::kLatest;
            const json listChanged = {{"listChanged", m_announcesChanges}};
            reply->respond(jsonrpc::makeResult(
                    id,
                    {{"protocolVersion", jsonrpc::toStd(session.protocolVersion)},
                     {"capabilities",
                      {{"tools", listChanged},
                       {"prompts", listChanged},
                       {"resources", listChanged}}},
                     {"serverInfo", {{"name", "scripted"}, {"version", "1"}}}}));
            return;
        }
        for (const auto &[kind, items] : m_items) {
            if (method == mcpbroker::gateway::Upstream::listMethod(kind)) {
                ++m_listRequests[kind];
                reply->respond(jsonrpc::makeResult(
                        id, {{mcpbroker::gateway::Upstream::itemsKey(kind), items}}));
                return;
            }
        }
        if (method == QLatin1String("ping")) {
            reply->respond(jsonrpc::makeResult(id, json::object()));
            return;
        }
        reply->respond(jsonrpc::makeError(id, jsonrpc::ErrorCode::kMethodNotFound,
                                          QStringLiteral("Method not found.")));
    }
    void handleNotification(mcpbroker::mcp::ServerSession &, const json &) override { }
    void handleResponse(mcpbroker::mcp::ServerSession &, const json &) override { }
    void sessionClosed(const mcpbroker::mcp::ServerSession &) override { }

private:
    bool m_announcesChanges;
    std::map<CatalogKind, json> m_items;
    std::map<CatalogKind, int> m_listRequests;
    int m_getStreams = 0;
    mcpbroker::mcp::StreamableHttpServer m_transport;
    mcpbroker::http::HttpServer m_http;
};
