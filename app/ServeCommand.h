#pragma once

#include "AsyncCommand.h"

namespace mcpbroker {
class Broker;
}

namespace mcpbroker::app {

// `mcp-broker serve`: runs the broker without a window until SIGTERM or SIGINT. Once the
// endpoint listens it prints exactly one line on stdout,
// "MCP Broker listening on http://127.0.0.1:<port>/mcp", which scripts and tests wait for.
class ServeCommand : public AsyncCommand
{
    Q_OBJECT
public:
    using AsyncCommand::AsyncCommand;
    ~ServeCommand() override;
    void start() override;

private:
    Broker *m_broker = nullptr;
    QString m_recordedConfigPath; // whose InstanceRecord this process wrote
};

} // namespace mcpbroker::app
