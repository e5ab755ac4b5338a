#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::gateway {
class ClientGrants;
}
namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

// `mcp-broker grant create NAME [--server S]... [--expires-in D]`: a static grant for a client
// configured by header. The token goes to stdout once, alone on its line, for the user to
// paste into the client; only its hash is kept (keychain).
// `grant list [--json]`: every grant, never a token. `grant revoke NAME_OR_ID`: a running
// broker drops the grant at once and ends its sessions.
class GrantCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit GrantCommand(Command command, QObject *parent = nullptr);

    void start() override;

private:
    void create();
    void list();
    void revoke();

    store::SecretStore *m_keychain;
    gateway::ClientGrants *m_grants = nullptr;
};

} // namespace mcpbroker::app
