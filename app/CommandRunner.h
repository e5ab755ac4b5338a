#pragma once

namespace mcpbroker::app {

struct Command;

// Runs a parsed command to its end and returns the process's exit code. Commands that wait for
// the keychain, the network or signals run on the QCoreApplication's event loop.
namespace CommandRunner {
int run(const Command &command);
} // namespace CommandRunner

} // namespace mcpbroker::app
