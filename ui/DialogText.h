#pragma once

#include <QString>

class QLabel;

namespace mcpbroker::ui {

// Text that a client or an upstream server chose, made safe to show: newlines and bidi
// overrides could fake lines or reorder text, so control and format characters become spaces,
// runs of white space one space, and text longer than `maxChars` (at least 2) is cut with "…".
QString shownText(const QString &text, qsizetype maxChars);

// A wrapping label that shows `text` literally: never read as rich text.
QLabel *plainLabel(const QString &text, const QString &objectName);

} // namespace mcpbroker::ui
