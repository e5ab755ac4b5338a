#pragma once

#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <memory>

namespace mcpbroker::mcp {

// Who opened a session: the local client's grant. A session answers only to the grant that
// opened it, and ends when that grant is revoked.
struct SessionOwner
{
    QString grantId;
    QString clientName;
    QStringList servers; // the servers the grant allows; empty: every server

    bool allowsServer(const QString &server) const
    {
        return servers.isEmpty() || servers.contains(server);
    }
};

// One downstream client's MCP session on the local endpoint: what the transport and the
// request handler both need to know about it.
struct ServerSession
{
    QString id;              // Mcp-Session-Id: 32 random bytes, base64url
    QString scope;           // "" = every upstream (aggregated), else one server's name
    QString protocolVersion; // negotiated by initialize
    nlohmann::json clientInfo;
    nlohmann::json clientCapabilities;
    QString logLevel; // set by logging/setLevel; "" = not set
    SessionOwner owner;
};

// The way back for one downstream request: messages related to it (progress, logging,
// sampling/elicitation requests) and, exactly once, its response. Safe to use after the client
// went away (the transport keeps the events for resumption or drops them).
class ReplyChannel
{
public:
    virtual ~ReplyChannel() = default;
    virtual void send(const nlohmann::json &message) = 0;
    virtual void respond(const nlohmann::json &response) = 0;
    // The request was cancelled by the client: no response will follow.
    virtual void abandon() = 0;
};

// What the endpoint does with the messages a downstream client sends.
class ServerMessageHandler
{
public:
    virtual ~ServerMessageHandler() = default;
    virtual void handleRequest(ServerSession &session, const nlohmann::json &request,
                               std::shared_ptr<ReplyChannel> reply)
            = 0;
    virtual void handleNotification(ServerSession &session, const nlohmann::json &notification) = 0;
    virtual void handleResponse(ServerSession &session, const nlohmann::json &response) = 0;
    virtual void sessionClosed(const ServerSession &session) = 0;
};

} // namespace mcpbroker::mcp
