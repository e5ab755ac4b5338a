#include "TextTable.h"

#include <algorithm>

namespace mcpbroker::app {

QStringList TextTable::format(const QList<QStringList> &rows)
{
    QList<qsizetype> widths;
    for (const QStringList &row : rows) {
        for (qsizetype column = 0; column < row.size(); ++column) {
            if (column == widths.size())
                widths.append(0);
            widths[column] = std::max(widths.at(column), row.at(column).size());
        }
    }
    QStringList lines;
    for (const QStringList &row : rows) {
        QString line;
        for (qsizetype column = 0; column < row.size(); ++column) {
            if (column > 0)
                line += QStringLiteral("  ");
            line += row.at(column).leftJustified(widths.at(column));
        }
        lines.append(line.trimmed());
    }
    return lines;
}

} // namespace mcpbroker::app
