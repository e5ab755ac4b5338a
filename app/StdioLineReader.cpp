#include "StdioLineReader.h"

#include <QPointer>
#include <QSocketNotifier>

#include <utility>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <unistd.h>
#endif

namespace mcpbroker::app {

namespace {

constexpr qsizetype kChunkBytes = 64 * 1024;

QByteArray withoutCarriageReturn(QByteArray line)
{
    if (line.endsWith('\r'))
        line.chop(1);
    return line;
}

} // namespace

StdioLineReader::StdioLineReader(int fd, QObject *parent)
    : StdioLineReader(fd, kMaxLineBytes, parent)
{ }

StdioLineReader::StdioLineReader(int fd, qsizetype maxLineBytes, QObject *parent)
    : QObject(parent), m_fd(fd), m_maxLineBytes(maxLineBytes)
{ }

StdioLineReader::~StdioLineReader() = default;

#ifdef Q_OS_UNIX

Result<void> StdioLineReader::start()
{
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &StdioLineReader::onReadable);
    return {};
}

void StdioLineReader::onReadable()
{
    char chunk[kChunkBytes];
    const ssize_t count = ::read(m_fd, chunk, sizeof chunk);
    if (count < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (count <= 0) {
        end();
        return;
    }
    m_buffer.append(chunk, count);
    takeLines();
}

#else

Result<void> StdioLineReader::start()
{
    return Error::make(Error::Kind::Generic,
                       QStringLiteral("The stdio bridge is not supported on this system yet."));
}

void StdioLineReader::onReadable() { }

#endif

void StdioLineReader::takeLines()
{
    QPointer<StdioLineReader> guard(this);
    qsizetype from = 0;
    while (guard && !m_ended) {
        const qsizetype newline = m_buffer.indexOf('\n', from);
        if (newline < 0)
            break;
        const qsizetype length = newline - from;
        const qsizetype start = std::exchange(from, newline + 1);
        if (std::exchange(m_skippingLongLine, false))
            continue; // the end of a line already reported
        if (length > m_maxLineBytes)
            Q_EMIT lineTooLong();
        else
            Q_EMIT lineRead(withoutCarriageReturn(m_buffer.mid(start, length)));
    }
    if (!guard)
        return;
    m_buffer.remove(0, from);
    if (m_skippingLongLine) {
        m_buffer.clear();
    } else if (m_buffer.size() > m_maxLineBytes) {
        // Keep reading, but not this line: the next LF ends it.
        m_buffer.clear();
        m_skippingLongLine = true;
        Q_EMIT lineTooLong();
    }
}

void StdioLineReader::end()
{
    if (m_ended)
        return;
    if (m_notifier) {
        m_notifier->setEnabled(false); // this may run inside its signal
        m_notifier->deleteLater();
        m_notifier = nullptr;
    }
    QPointer<StdioLineReader> guard(this);
    if (!m_buffer.isEmpty() && !m_skippingLongLine)
        Q_EMIT lineRead(withoutCarriageReturn(std::exchange(m_buffer, {})));
    if (!guard)
        return;
    m_ended = true;
    Q_EMIT endOfInput();
}

} // namespace mcpbroker::app
