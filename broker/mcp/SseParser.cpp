#include "mcp/SseParser.h"

#include <algorithm>
#include <limits>

namespace mcpbroker::mcp {

namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr qsizetype kBomSize = 3;

bool isAsciiDigits(QByteArrayView value)
{
    return !value.isEmpty()
            && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

SseParser::SseParser(qsizetype maxBufferedBytes) : m_maxBufferedBytes(maxBufferedBytes) { }

QList<SseParser::Event> SseParser::feed(QByteArrayView bytes)
{
    QList<Event> events;
    if (m_failed || bytes.isEmpty())
        return events;

    m_buffer.append(bytes.data(), bytes.size());

    // The UTF-8 decoder strips one leading BOM; it may arrive split across feeds.
    if (m_expectBom) {
        const qsizetype n = std::min(m_buffer.size(), kBomSize);
        if (QByteArrayView(m_buffer).first(n) != QByteArrayView(kBom, n)) {
            m_expectBom = false;
        } else if (n == kBomSize) {
            m_buffer.remove(0, kBomSize);
            m_scanFrom = 0;
            m_expectBom = false;
        } else {
            return events; // a prefix of the BOM: wait for more
        }
    }

    qsizetype lineStart = 0;
    const char *const begin = m_buffer.constData();
    const qsizetype size = m_buffer.size();
    qsizetype i = m_scanFrom;
    while (i < size) {
        if (m_skipLf) {
            m_skipLf = false;
            if (begin[i] == '\n') {
                lineStart = ++i;
                continue;
            }
        }
        const char *found = std::find_if(begin + i, begin + size,
                                         [](char c) { return c == '\r' || c == '\n'; });
        if (found == begin + size)
            break;
        const qsizetype end = found - begin;
        processLine(QByteArrayView(begin + lineStart, end - lineStart), events);
        m_skipLf = (*found == '\r');
        i = lineStart = end + 1;
    }

    m_buffer.remove(0, lineStart);
    m_scanFrom = m_buffer.size();

    if (m_buffer.size() + m_data.size() > m_maxBufferedBytes) {
        m_failed = true;
        m_buffer.clear();
        m_data.clear();
        m_eventType.clear();
        m_scanFrom = 0;
    }
    return events;
}

void SseParser::restartStream()
{
    m_buffer.clear();
    m_scanFrom = 0;
    m_expectBom = true;
    m_skipLf = false;
    m_failed = false;
    m_data.clear();
    m_eventType.clear();
    // Like browsers, a new connection continues from the last event ID string, so an event
    // without an id on the new stream does not erase it.
    m_idBuffer = m_lastEventId.toUtf8();
}

void SseParser::processLine(QByteArrayView line, QList<Event> &events)
{
    if (line.isEmpty()) {
        dispatch(events);
        return;
    }
    if (line.front() == ':')
        return; // a comment

    QByteArrayView field = line;
    QByteArrayView value;
    if (const qsizetype colon = line.indexOf(':'); colon >= 0) {
        field = line.first(colon);
        value = line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
    }

    if (field == "event") {
        m_eventType = value.toByteArray();
    } else if (field == "data") {
        m_data.append(value.data(), value.size());
        m_data.append('\n');
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_idBuffer = value.toByteArray();
    } else if (field == "retry") {
        if (isAsciiDigits(value)) {
            // Saturate instead of overflowing: a huge value means "wait very long".
            qint64 ms = 0;
            for (const char c : value) {
                if (ms > (std::numeric_limits<qint64>::max() - 9) / 10) {
                    ms = std::numeric_limits<qint64>::max();
                    break;
                }
                ms = ms * 10 + (c - '0');
            }
            m_retryMs = ms;
        }
    }
    // Any other field is ignored.
}

void SseParser::dispatch(QList<Event> &events)
{
    m_lastEventId = QString::fromUtf8(m_idBuffer);
    if (m_data.isEmpty()) {
        m_eventType.clear();
        return;
    }
    if (m_data.endsWith('\n'))
        m_data.chop(1);

    Event event;
    if (!m_eventType.isEmpty())
        event.type = QString::fromUtf8(m_eventType);
    event.data = std::move(m_data);
    event.lastEventId = m_lastEventId;
    events.append(std::move(event));

    m_data = QByteArray();
    m_eventType.clear();
}

} // namespace mcpbroker::mcp
