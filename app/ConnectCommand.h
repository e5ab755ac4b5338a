#pragma once

#include "AsyncCommand.h"
#include "ClientConfigs.h"

#include <memory>

namespace mcpbroker::gateway {
class ClientGrants;
struct ClientGrant;
} // namespace mcpbroker::gateway

namespace mcpbroker::app {

class ClientConfigFile;

// `mcp-broker connect CLIENT [--all-servers | --server S...] [--grant-header]
// [--config-file FILE]`: puts MCP Broker's entry (or one per server) into an MCP client's
// config file (ClientConfigFile: merged, backed up, atomic, idempotent). Clients that sign in
// with OAuth get the URL only; Claude Desktop gets `mcp-broker stdio`. --grant-header creates a
// static grant named after the client and writes it as "Authorization: Bearer" instead; the
// token is never printed. Exit 0 when connected (or already), 1 when not (the file is then as
// it was), 2 for usage errors.
class ConnectCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit ConnectCommand(Command command, QObject *parent = nullptr);
    ~ConnectCommand() override;

    void start() override;

private:
    struct Target
    {
        QString entryName; // "mcp-broker", "mcp-broker-github"
        QString server;    // empty: every server
    };

    Result<void> prepare();
    void connectWithoutGrant();
    Result<void> checkNoForeignEntries() const;
    bool connectedWithGrant(const gateway::ClientGrant &grant) const;
    void decideGrant();
    void writeWithToken(QByteArray token, const QString &grantId);
    Result<void> writeEntries(const QByteArray &token);
    void revokeAndFail(const QString &grantId, const QString &message);
    void fail(const QString &message);
    QString describe(const Target &target) const;

    const ClientProfile *m_client = nullptr;
    BrokerEndpoint m_endpoint;
    QList<Target> m_targets;
    QStringList m_grantServers;
    QString m_path;
    std::unique_ptr<ClientConfigFile> m_file;
    gateway::ClientGrants *m_grants = nullptr;
};

} // namespace mcpbroker::app
