#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::app {

class RunningBroker;

// `mcp-broker serve`: runs the broker without a window until SIGTERM or SIGINT. Once the
// endpoint listens it prints exactly one line on stdout,
// "MCP Broker listening on http://127.0.0.1:<port>/mcp", which scripts and tests wait for.
// One broker per config file: a second `serve` (or the tray) for it exits 1 with a sentence
// before it touches the port; `login` and `logout` reach this one (InstanceService).
class ServeCommand : public AsyncCommand
{
    Q_OBJECT
public:
    using AsyncCommand::AsyncCommand;
    void start() override;

private:
    RunningBroker *m_running = nullptr;
};

} // namespace mcpbroker::app
