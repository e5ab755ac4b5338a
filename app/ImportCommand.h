#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::app {

// `mcp-broker import FILE`: adds the remote servers of an MCP client's JSON config to MCP
// Broker's config (ClientServerImport decides which, and never copies a secret). Prints each
// server added and a note for each one skipped or added without its headers. Exit 0 when
// servers were added or there was nothing to add, 1 when the file cannot be read or parsed, or
// the config cannot be loaded or saved.
class ImportCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit ImportCommand(Command command, QObject *parent = nullptr);

    void start() override;

private:
    void fail(const QString &message);
};

} // namespace mcpbroker::app
