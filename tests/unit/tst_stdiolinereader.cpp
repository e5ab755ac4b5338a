// StdioLineReader: the stdio bridge's input, newline-delimited JSON-RPC read from a file
// descriptor on the event loop. Driven through a real pipe.

#include "StdioLineReader.h"

#include <QSignalSpy>
#include <QTest>

#include <unistd.h>

using namespace mcpbroker::app;

namespace {

// A pipe whose read end a reader watches; the test writes to the other end.
struct Pipe
{
    int fds[2] = {-1, -1};

    Pipe() { QVERIFY(::pipe(fds) == 0); }
    ~Pipe()
    {
        closeWriteEnd();
        if (fds[0] >= 0)
            ::close(fds[0]);
    }
    void write(const QByteArray &bytes) const
    {
        QCOMPARE(::write(fds[1], bytes.constData(), size_t(bytes.size())), ssize_t(bytes.size()));
    }
    void closeWriteEnd()
    {
        if (fds[1] >= 0)
            ::close(fds[1]);
        fds[1] = -1;
    }
};

QList<QByteArray> linesOf(const QSignalSpy &spy)
{
    QList<QByteArray> lines;
    for (const QList<QVariant> &arguments : spy)
        lines << arguments.at(0).toByteArray();
    return lines;
}

} // namespace

class TestStdioLineReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void linesSplitAnywhereComeOutWholeWithoutTheirLineBreaks()
    {
        Pipe pipe;
        StdioLineReader reader(pipe.fds[0]);
        QSignalSpy lines(&reader, &StdioLineReader::lineRead);
        QVERIFY(reader.start().ok());

        pipe.write("{\"a\":");
        pipe.write("1}\r\n{\"b\":2}\n\n{\"c\"");
        QTRY_COMPARE_WITH_TIMEOUT(lines.size(), 3, 5'000);
        pipe.write(":3}\n");
        QTRY_COMPARE_WITH_TIMEOUT(lines.size(), 4, 5'000);
        QCOMPARE(linesOf(lines), (QList<QByteArray>{"{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"}));
    }

    void endOfInputHandsOverTheLastLineWithoutItsLineBreakThenEnds()
    {
        Pipe pipe;
        StdioLineReader reader(pipe.fds[0]);
        QSignalSpy lines(&reader, &StdioLineReader::lineRead);
        QSignalSpy ended(&reader, &StdioLineReader::endOfInput);
        QVERIFY(reader.start().ok());

        pipe.write("first\nlast");
        pipe.closeWriteEnd();
        QTRY_COMPARE_WITH_TIMEOUT(ended.size(), 1, 5'000);
        QCOMPARE(linesOf(lines), (QList<QByteArray>{"first", "last"}));
    }

    void tooLongLinesAreReportedAndSkippedWhileTheNextLinesStillCome()
    {
        Pipe pipe;
        StdioLineReader reader(pipe.fds[0], 8);
        QSignalSpy lines(&reader, &StdioLineReader::lineRead);
        QSignalSpy tooLong(&reader, &StdioLineReader::lineTooLong);
        QVERIFY(reader.start().ok());

        // One complete, one arriving in pieces (reported once, as soon as it is too long).
        pipe.write("short\n0123456789abc\nok\n0123456789");
        QTRY_COMPARE_WITH_TIMEOUT(tooLong.size(), 2, 5'000);
        pipe.write("more of it\nafter\n");
        QTRY_COMPARE_WITH_TIMEOUT(lines.size(), 3, 5'000);
        QCOMPARE(linesOf(lines), (QList<QByteArray>{"short", "ok", "after"}));
        QCOMPARE(tooLong.size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestStdioLineReader)
#include "tst_stdiolinereader.moc"
