#pragma once

#include "Result.h"

#include <QByteArray>
#include <QObject>

class QSocketNotifier;

namespace mcpbroker::app {

// Reads newline-delimited lines from a file descriptor (standard input) on the event loop: a
// QSocketNotifier, never a blocking read. A line is handed over without its LF and a trailing
// CR; the last line may lack its LF. A longer line than the limit (kMaxLineBytes) is skipped
// up to its end and reported. Unix only for now; elsewhere start() fails.
class StdioLineReader : public QObject
{
    Q_OBJECT
public:
    static constexpr qsizetype kMaxLineBytes = 64 * 1024 * 1024;

    explicit StdioLineReader(int fd = 0, QObject *parent = nullptr);
    StdioLineReader(int fd, qsizetype maxLineBytes, QObject *parent = nullptr);
    ~StdioLineReader() override;

    Result<void> start();

Q_SIGNALS:
    void lineRead(const QByteArray &line);
    void lineTooLong();
    // End of file, or a read error (also the end of what will ever come): emitted once.
    void endOfInput();

private:
    void onReadable();
    void takeLines();
    void end();

    int m_fd;
    qsizetype m_maxLineBytes;
    QSocketNotifier *m_notifier = nullptr;
    QByteArray m_buffer;
    bool m_skippingLongLine = false;
    bool m_ended = false;
};

} // namespace mcpbroker::app
