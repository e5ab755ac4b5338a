#pragma once

#include <QString>

namespace mcpbroker::app {

// What the command line says to the person or script that ran it: UTF-8 lines, flushed at once
// (scripts and tests wait for them). Logs are separate: Qt logging, on stderr.
namespace Console {
void out(const QString &text); // stdout; adds a newline unless `text` ends with one
void err(const QString &text); // stderr; likewise
// `text` with a full stop at the end, for messages (such as QtKeychain's) that may lack one and
// are followed by another sentence.
QString sentence(QString text);
} // namespace Console

} // namespace mcpbroker::app
