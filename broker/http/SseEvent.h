#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace mcpbroker::http {

// One text/event-stream event (HTML Living Standard, "Server-sent events").
struct SseEvent
{
    QByteArray id;    // empty: no id line
    QByteArray event; // empty: no event line (defaults to "message" for the reader)
    QByteArray data;  // may contain newlines: one "data:" line per line
    int retryMs = -1; // < 0: no retry line

    // Wire form ending in a blank line. A priming event (id, empty data) gives "id: X\ndata: \n\n"
    // style output with exactly one data line.
    QByteArray serialize() const;
};

} // namespace mcpbroker::http
