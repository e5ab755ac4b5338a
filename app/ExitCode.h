#pragma once

namespace mcpbroker::app {

// What `mcp-broker` returns to the shell. Documented in the help text and README.md.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,     // the command was understood but did not succeed
    kExitUsage = 2,      // the command line could not be understood
    kExitNotRunning = 3, // `status`: no broker answers on the port
};

} // namespace mcpbroker::app
