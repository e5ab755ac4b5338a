#include "DialogText.h"

#include <QLabel>
#include <QRegularExpression>

namespace mcpbroker::ui {

QString shownText(const QString &text, qsizetype maxChars)
{
    static const QRegularExpression hidden(QStringLiteral("[\\p{Cc}\\p{Cf}]+"));
    QString shown = QString(text).replace(hidden, QStringLiteral(" ")).simplified();
    if (shown.size() > maxChars) {
        // Never cut a surrogate pair in half.
        shown.truncate(maxChars - (shown.at(maxChars - 2).isHighSurrogate() ? 2 : 1));
        shown.append(QChar(0x2026));
    }
    return shown;
}

QLabel *plainLabel(const QString &text, const QString &objectName)
{
    auto *label = new QLabel(text);
    label->setTextFormat(Qt::PlainText);
    label->setWordWrap(true);
    label->setObjectName(objectName);
    return label;
}

} // namespace mcpbroker::ui
