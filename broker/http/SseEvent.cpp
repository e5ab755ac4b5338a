#include "http/SseEvent.h"

namespace mcpbroker::http {

namespace {

// A CR or LF inside a field would end the line early and let the value inject other fields;
// NUL makes a reader ignore an id, so it goes too.
QByteArray singleLine(const QByteArray &value)
{
    QByteArray out;
    out.reserve(value.size());
    for (char c : value) {
        if (c != '\r' && c != '\n' && c != '\0')
            out += c;
    }
    return out;
}

} // namespace

QByteArray SseEvent::serialize() const
{
    QByteArray out;
    if (!id.isEmpty())
        out += "id: " + singleLine(id) + '\n';
    if (!event.isEmpty())
        out += "event: " + singleLine(event) + '\n';
    if (retryMs >= 0)
        out += "retry: " + QByteArray::number(retryMs) + '\n';

    // A reader treats CRLF, CR and LF alike as line ends, so split on all three.
    qsizetype lineStart = 0;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const char c = data.at(i);
        if (c != '\r' && c != '\n')
            continue;
        out += "data: " + data.mid(lineStart, i - lineStart) + '\n';
        if (c == '\r' && i + 1 < data.size() && data.at(i + 1) == '\n')
            ++i;
        lineStart = i + 1;
    }
    out += "data: " + data.mid(lineStart) + '\n';
    out += '\n';
    return out;
}

} // namespace mcpbroker::http
