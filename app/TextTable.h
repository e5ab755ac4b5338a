#pragma once

#include <QList>
#include <QStringList>

namespace mcpbroker::app {

// Rows of text as aligned columns, two spaces apart, for terminal output.
namespace TextTable {
QStringList format(const QList<QStringList> &rows);
} // namespace TextTable

} // namespace mcpbroker::app
