#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>

namespace mcpbroker::mcp {

// Incremental reader of a text/event-stream (HTML Living Standard, "Server-sent events",
// section "Interpreting an event stream"): feed it bytes as they arrive, in chunks of any size
// split anywhere, and it returns the events those bytes completed. Handles the id, event, data
// and retry fields, comments, CR / LF / CRLF line endings (also split across feeds), one leading
// BOM and multi-line data. It never throws and bounds what it buffers.
class SseParser
{
public:
    struct Event
    {
        QString type = QStringLiteral("message"); // the "event" field, "message" when absent
        QByteArray data; // UTF-8, data lines joined with LF
        QString lastEventId; // the stream's last event ID at dispatch
    };

    // Above `maxBufferedBytes` of one pending line plus event data, the parser stops (failed()).
    explicit SseParser(qsizetype maxBufferedBytes = kDefaultMaxBufferedBytes);

    // Parses `bytes` and returns the events they completed, in order.
    QList<Event> feed(QByteArrayView bytes);
    // The stream was reconnected: drops the partial line and event (as the standard does at the
    // end of a stream) and expects a new BOM, but keeps the last event ID and reconnection time.
    void restartStream();

    // The last event ID string: what a reconnecting client sends as Last-Event-ID.
    QString lastEventId() const { return m_lastEventId; }
    // The reconnection time in ms from the last valid "retry" field, if any.
    std::optional<qint64> retryMs() const { return m_retryMs; }
    // The stream exceeded the buffer bound; nothing more is parsed until restartStream().
    bool failed() const { return m_failed; }

    static constexpr qsizetype kDefaultMaxBufferedBytes = 64 * 1024 * 1024;

private:
    void processLine(QByteArrayView line, QList<Event> &events);
    void dispatch(QList<Event> &events);

    qsizetype m_maxBufferedBytes;
    QByteArray m_buffer; // bytes of the line not yet terminated
    qsizetype m_scanFrom = 0; // m_buffer up to here holds no line terminator
    bool m_expectBom = true; // at the start of the stream
    bool m_skipLf = false; // the previous line ended with CR: an LF now belongs to it
    bool m_failed = false;

    QByteArray m_data; // the data buffer
    QByteArray m_eventType; // the event type buffer
    QByteArray m_idBuffer; // the last event ID buffer
    QString m_lastEventId; // the last event ID string
    std::optional<qint64> m_retryMs;
};

} // namespace mcpbroker::mcp
