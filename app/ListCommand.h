#pragma once

namespace mcpbroker::app {

struct Command;

// `mcp-broker list [--json]`: the configured servers, from the config file alone (never the
// keychain). Returns the exit code.
namespace ListCommand {
int run(const Command &command);
} // namespace ListCommand

} // namespace mcpbroker::app
