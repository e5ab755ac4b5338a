#pragma once

#include "Result.h"

#include <QString>

#include <optional>

namespace mcpbroker::app {

// Where a running `serve` notes the port it listens on, so that `status` finds a broker started
// with --port (or --port 0) without being told. One record per config file, in the per-user
// runtime directory: $XDG_RUNTIME_DIR/mcp-broker/instance-<hash of the config path>.json.
namespace InstanceRecord {

Result<void> write(const QString &configPath, quint16 port);
void remove(const QString &configPath);
// The port of the broker serving `configPath`, when its record exists and its process lives.
std::optional<quint16> port(const QString &configPath);

} // namespace InstanceRecord
} // namespace mcpbroker::app
