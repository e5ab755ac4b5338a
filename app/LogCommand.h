#pragma once

#include "AsyncCommand.h"

#include <QByteArray>
#include <QList>

namespace mcpbroker::app {

class LogTail;

// `mcp-broker log [-n N] [--follow] [--json]`: the last N calls from the audit log
// (store::AuditLog::defaultPath(), including the rotated "audit.log.1" when needed), one line
// each (store::AuditLog::formatLine), or with --json the log's own JSON lines. --follow then
// prints each call as it is logged, across rotations, until SIGINT or SIGTERM. With no log yet
// it says so on stderr (and with --follow waits for the first call). Exit 0; 1 when --follow
// cannot watch the log's folder.
class LogCommand : public AsyncCommand
{
    Q_OBJECT
public:
    using AsyncCommand::AsyncCommand;
    void start() override;

private:
    void print(const QList<QByteArray> &lines);

    LogTail *m_tail = nullptr;
};

} // namespace mcpbroker::app
