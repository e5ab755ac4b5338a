#pragma once

#include "Result.h"

#include <QString>

#include <optional>

namespace mcpbroker::app {

// Where a running `serve` notes the port it listens on, so that `status` finds a broker started
// with --port (or --port 0) without being told. One record per config file, in the per-user
// runtime directory: $XDG_RUNTIME_DIR/mcp-broker/instance-<hash of the config path>.json.
namespace InstanceRecord {

struct Entry
{
    quint16 port = 0;
    qint64 pid = 0;
};

Result<void> write(const QString &configPath, quint16 port);
void remove(const QString &configPath);
// The record of the broker serving `configPath`, when it exists and its process lives.
std::optional<Entry> find(const QString &configPath);
// Its port.
std::optional<quint16> port(const QString &configPath);

// The per-user runtime folder of the records and of the instance sockets (InstanceChannel.h):
// $XDG_RUNTIME_DIR/mcp-broker.
QString directory();
// What names the files of one config file there: 16 hex digits of the SHA-256 of its absolute
// path, so that every spelling of one path gives the same.
QString configKey(const QString &configPath);

} // namespace InstanceRecord
} // namespace mcpbroker::app
