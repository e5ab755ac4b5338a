#pragma once

#include "AsyncCommand.h"

#include <QStringList>

namespace mcpbroker::gateway {
class ClientGrants;
}

namespace mcpbroker::app {

// `mcp-broker disconnect CLIENT [--server S]... [--config-file FILE]`: takes MCP Broker's
// entries ("mcp-broker", "mcp-broker-S", pointing at a broker) out of the client's config file
// and leaves everything else as it was (backup, atomic write). A grant an entry held
// (--grant-header) is revoked, so the copy in the backup is worthless. Exit 0 when the entries
// are gone (or there were none), 1 when the file cannot be read or written, or a grant could
// not be revoked.
class DisconnectCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit DisconnectCommand(Command command, QObject *parent = nullptr);

    void start() override;

private:
    void revokeNext();

    QStringList m_grantIds; // still to revoke
    gateway::ClientGrants *m_grants = nullptr;
    bool m_revokeFailed = false;
};

} // namespace mcpbroker::app
