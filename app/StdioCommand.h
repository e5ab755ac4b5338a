#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

class StdioBridge;
class StdioBridgeGrant;
class TerminationSignals;

// `mcp-broker stdio [--server NAME]`: an MCP server on standard input/output (newline-delimited
// JSON-RPC, MCP stdio transport) that forwards everything to the running broker's endpoint
// (/mcp, or /mcp/NAME) over Streamable HTTP, for clients that only launch commands (Claude
// Desktop). It authenticates with a grant of its own, kept in the keychain; nothing secret is
// on its command line or in the client's config.
//
// Exit 0 when the input ends (or on SIGTERM/SIGINT), after ending the session. Exit 1, with a
// sentence on stderr, when no broker runs for the config file (InstanceRecord), when the grant
// cannot be had, or when the broker goes away, revokes the grant or ends the session while the
// client is connected (requests still waiting are answered with a JSON-RPC error first). The
// grant: StdioBridgeGrant; the forwarding: StdioBridge.
class StdioCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit StdioCommand(Command command, QObject *parent = nullptr);
    ~StdioCommand() override;

    void start() override;

private:
    void startBridge(quint16 port);
    void fail(const QString &message);

    store::SecretStore *m_keychain = nullptr;
    StdioBridgeGrant *m_grant = nullptr;
    StdioBridge *m_bridge = nullptr;
    TerminationSignals *m_signals = nullptr;
};

} // namespace mcpbroker::app
