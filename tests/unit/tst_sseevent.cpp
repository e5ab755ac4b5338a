#include "http/SseEvent.h"

#include <QTest>

using mcpbroker::http::SseEvent;

namespace {

QByteArray wire(QByteArray id, QByteArray event, QByteArray data, int retryMs)
{
    return SseEvent{std::move(id), std::move(event), std::move(data), retryMs}.serialize();
}

} // namespace

class TestSseEvent : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dataOnlyEventIsOneDataLineAndABlankLine();
    void allFieldsAreWrittenInOrder();
    void multiLineDataBecomesOneDataLinePerLine();
    void primingEventHasExactlyOneEmptyDataLine();
    void lineBreaksInIdAndEventAreStripped();
};

void TestSseEvent::dataOnlyEventIsOneDataLineAndABlankLine()
{
    QCOMPARE(wire({}, {}, R"({"jsonrpc":"2.0"})", -1),
             QByteArray("data: {\"jsonrpc\":\"2.0\"}\n\n"));
}

void TestSseEvent::allFieldsAreWrittenInOrder()
{
    QCOMPARE(wire("42", "message", "x", 3000),
             QByteArray("id: 42\nevent: message\nretry: 3000\ndata: x\n\n"));
    QCOMPARE(wire({}, {}, "x", 0), QByteArray("retry: 0\ndata: x\n\n"));
}

void TestSseEvent::multiLineDataBecomesOneDataLinePerLine()
{
    QCOMPARE(wire({}, {}, "a\nb\r\nc\rd", -1),
             QByteArray("data: a\ndata: b\ndata: c\ndata: d\n\n"));
    // A trailing newline survives the round trip as an empty last line.
    QCOMPARE(wire({}, {}, "a\n", -1), QByteArray("data: a\ndata: \n\n"));
}

void TestSseEvent::primingEventHasExactlyOneEmptyDataLine()
{
    QCOMPARE(wire("stream-1:0", {}, {}, -1),
             QByteArray("id: stream-1:0\ndata: \n\n"));
}

void TestSseEvent::lineBreaksInIdAndEventAreStripped()
{
    QCOMPARE(wire("1\r\ndata: injected", "mes\nsage", "x", -1),
             QByteArray("id: 1data: injected\nevent: message\ndata: x\n\n"));
}

QTEST_APPLESS_MAIN(TestSseEvent)
#include "tst_sseevent.moc"
