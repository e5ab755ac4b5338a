// The text/event-stream parser against the HTML Living Standard's rules ("Interpreting an event
// stream"), including input split at every byte boundary.

#include "mcp/SseParser.h"

#include <QRandomGenerator>
#include <QTest>

using mcpbroker::mcp::SseParser;

namespace {

QList<SseParser::Event> parseAll(QByteArrayView stream)
{
    SseParser parser;
    return parser.feed(stream);
}

QList<SseParser::Event> parseInPieces(QByteArrayView stream, const QList<qsizetype> &cuts,
                                      SseParser &parser)
{
    QList<SseParser::Event> events;
    qsizetype from = 0;
    for (const qsizetype cut : cuts) {
        events += parser.feed(stream.sliced(from, cut - from));
        from = cut;
    }
    events += parser.feed(stream.sliced(from));
    return events;
}

// A stream with every feature the standard describes: BOM, comments, all three line endings,
// multi-line data, event types, ids (carried over, reset, with NUL), retry, unknown fields.
const QByteArray kRichStream = QByteArrayLiteral(
        "\xEF\xBB\xBF"
        ": a comment\r\n"
        "retry: 1500\n"
        "id: 1\r"
        "data: first\r\n"
        "\r\n"
        "event: progress\n"
        "data:second line one\r"
        "data:  second line two\n"
        "data\n"
        "\n"
        "id\n"
        "data: third\n"
        "\r"
        "id: 4\0bad\n"
        "foo: bar\n"
        "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"text\":\"caf\xC3\xA9 \xE2\x9C\x93\"}}\n"
        "\n"
        "data: unfinished\n");

void compareEvents(const QList<SseParser::Event> &actual, const QList<SseParser::Event> &expected)
{
    QCOMPARE(actual.size(), expected.size());
    for (qsizetype i = 0; i < actual.size(); ++i) {
        QCOMPARE(actual[i].type, expected[i].type);
        QCOMPARE(actual[i].data, expected[i].data);
        QCOMPARE(actual[i].lastEventId, expected[i].lastEventId);
    }
}

} // namespace

class TestSseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eventWithoutTypeIsAMessageEvent()
    {
        const auto events = parseAll("data: hello\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].type, QStringLiteral("message"));
        QCOMPARE(events[0].data, QByteArray("hello"));
        QCOMPARE(events[0].lastEventId, QString());
    }

    void eventFieldSetsTheTypeForOneEventOnly()
    {
        const auto events = parseAll("event: ping\ndata: 1\n\ndata: 2\n\n");
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].type, QStringLiteral("ping"));
        QCOMPARE(events[1].type, QStringLiteral("message"));
    }

    void eventTypeWithoutDataIsDiscardedWithTheEvent()
    {
        const auto events = parseAll("event: ping\n\ndata: x\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].type, QStringLiteral("message"));
    }

    void multipleDataLinesAreJoinedWithLineFeeds()
    {
        const auto events = parseAll("data: a\ndata: b\ndata:\ndata: c\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("a\nb\n\nc"));
    }

    void onlyOneSpaceAfterTheColonIsRemoved()
    {
        const auto events = parseAll("data:  two spaces\ndata:none\n\n");
        QCOMPARE(events[0].data, QByteArray(" two spaces\nnone"));
    }

    void lineWithoutColonIsAFieldWithAnEmptyValue()
    {
        // "data" alone appends an empty line: the data buffer is "\n", so an event with empty
        // data is dispatched (unlike a block with no data line at all).
        const auto events = parseAll("data\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray());
    }

    void commentsAreIgnored()
    {
        const auto events = parseAll(": keep-alive\n:\ndata: x\n: inside\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("x"));
    }

    void unknownFieldsAreIgnored()
    {
        const auto events = parseAll("foo: bar\nDATA: upper\ndata: x\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("x"));
    }

    void lfCrAndCrlfAllEndLines()
    {
        const auto events = parseAll("data: a\rdata: b\r\ndata: c\n\r\n"
                                     "data: d\r\r"
                                     "data: e\n\n");
        QCOMPARE(events.size(), 3);
        QCOMPARE(events[0].data, QByteArray("a\nb\nc"));
        QCOMPARE(events[1].data, QByteArray("d"));
        QCOMPARE(events[2].data, QByteArray("e"));
    }

    void crlfSplitAcrossFeedsIsOneLineEnding()
    {
        SseParser parser;
        QVERIFY(parser.feed("data: a\r").isEmpty());
        // Were the LF a second line ending, it would end the event and dispatch "a" alone.
        QVERIFY(parser.feed("\ndata: b\r").isEmpty());
        const auto events = parser.feed("\n\r\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("a\nb"));
    }

    void leadingBomIsStrippedOnce()
    {
        const auto events = parseAll("\xEF\xBB\xBF"
                                     "data: x\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("x"));

        // A second BOM is part of the field name, so the line is an unknown field.
        const auto twice = parseAll("\xEF\xBB\xBF\xEF\xBB\xBF"
                                    "data: x\n\n");
        QCOMPARE(twice.size(), 0);
    }

    void bomSplitAcrossFeedsIsStripped()
    {
        SseParser parser;
        QVERIFY(parser.feed("\xEF").isEmpty());
        QVERIFY(parser.feed("\xBB").isEmpty());
        const auto events = parser.feed("\xBF"
                                        "data: x\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("x"));
    }

    void bomPrefixThatIsNotABomIsKept()
    {
        SseParser parser;
        QVERIFY(parser.feed("\xEF\xBB").isEmpty());
        // Not a BOM: the bytes start an (unknown) field name, and parsing continues.
        const auto events = parser.feed("x\ndata: y\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("y"));
    }

    void idIsCarriedToLaterEventsUntilChanged()
    {
        SseParser parser;
        const auto events = parser.feed("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n");
        QCOMPARE(events.size(), 3);
        QCOMPARE(events[0].lastEventId, QStringLiteral("1"));
        QCOMPARE(events[1].lastEventId, QStringLiteral("1"));
        QCOMPARE(events[2].lastEventId, QStringLiteral("2"));
        QCOMPARE(parser.lastEventId(), QStringLiteral("2"));
    }

    void emptyIdResetsTheLastEventId()
    {
        SseParser parser;
        const auto events = parser.feed("id: 1\ndata: a\n\nid\ndata: b\n\n");
        QCOMPARE(events[1].lastEventId, QString());
        QCOMPARE(parser.lastEventId(), QString());
    }

    void idContainingNulIsIgnored()
    {
        SseParser parser;
        const QByteArray stream
                = QByteArray("id: 1\ndata: a\n\nid: 2") + QByteArray(1, '\0') + "x\ndata: b\n\n";
        const auto events = parser.feed(stream);
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[1].lastEventId, QStringLiteral("1"));
    }

    void eventWithIdButNoDataUpdatesLastEventIdWithoutDispatching()
    {
        // The SEP-1699 priming event written without a data line.
        SseParser parser;
        QVERIFY(parser.feed("id: prime-1\n\n").isEmpty());
        QCOMPARE(parser.lastEventId(), QStringLiteral("prime-1"));
    }

    void idOfAnUnfinishedEventIsNotYetTheLastEventId()
    {
        SseParser parser;
        parser.feed("id: 1\ndata: a\n\nid: 2\ndata: b\n");
        QCOMPARE(parser.lastEventId(), QStringLiteral("1"));
    }

    void retryAcceptsOnlyAsciiDigits()
    {
        SseParser parser;
        QVERIFY(!parser.retryMs().has_value());
        parser.feed("retry: 2500\n");
        QCOMPARE(parser.retryMs().value_or(-1), 2500);
        parser.feed("retry: 10s\nretry: -5\nretry:\nretry: 1 0\nretry: \xD9\xA1\n");
        QCOMPARE(parser.retryMs().value_or(-1), 2500);
        parser.feed("retry:0\n");
        QCOMPARE(parser.retryMs().value_or(-1), 0);
    }

    void hugeRetrySaturatesInsteadOfOverflowing()
    {
        SseParser parser;
        parser.feed("retry: 99999999999999999999999999999999\n");
        QVERIFY(parser.retryMs().value_or(-1) > 0);
    }

    void retryDoesNotDispatchAnEvent() { QVERIFY(parseAll("retry: 100\n\n").isEmpty()); }

    void unfinishedEventAtTheEndIsNotDispatched()
    {
        QVERIFY(parseAll("data: a\n").isEmpty());
        QVERIFY(parseAll("data: a").isEmpty());
    }

    void restartDropsThePartialEventButKeepsIdAndRetry()
    {
        SseParser parser;
        parser.feed("retry: 700\nid: 5\ndata: done\n\nevent: x\ndata: partial\ndata: mor");
        parser.restartStream();
        // A BOM is allowed again at the start of the new stream; an event without an id keeps
        // the last event ID.
        const auto events = parser.feed("\xEF\xBB\xBF"
                                        "data: new\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].type, QStringLiteral("message"));
        QCOMPARE(events[0].data, QByteArray("new"));
        QCOMPARE(events[0].lastEventId, QStringLiteral("5"));
        QCOMPARE(parser.retryMs().value_or(-1), 700);
    }

    void utf8IsPassedThroughAndSplitCharactersSurvive()
    {
        const QByteArray stream = "data: caf\xC3\xA9 \xF0\x9F\x98\x80\n\n";
        SseParser parser;
        QList<SseParser::Event> events;
        for (const char byte : stream)
            events += parser.feed(QByteArrayView(&byte, 1));
        QCOMPARE(events.size(), 1);
        QCOMPARE(QString::fromUtf8(events[0].data), QStringLiteral("caf\u00e9 \U0001F600"));
    }

    void richStreamGivesTheStandardsEvents()
    {
        SseParser parser;
        const auto events = parser.feed(kRichStream);
        SseParser::Event first {QStringLiteral("message"), "first", QStringLiteral("1")};
        SseParser::Event second {QStringLiteral("progress"), "second line one\n second line two\n",
                                 QStringLiteral("1")};
        SseParser::Event third {QStringLiteral("message"), "third", QString()};
        SseParser::Event fourth {
                QStringLiteral("message"),
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"text\":\"caf\xC3\xA9 \xE2\x9C\x93\"}}",
                QString()};
        compareEvents(events, {first, second, third, fourth});
        QCOMPARE(parser.retryMs().value_or(-1), 1500);
    }

    void splitAtEveryByteBoundaryGivesTheSameEvents()
    {
        const auto whole = parseAll(kRichStream);
        QCOMPARE(whole.size(), 4);
        for (qsizetype cut = 0; cut <= kRichStream.size(); ++cut) {
            SseParser parser;
            const auto events = parseInPieces(kRichStream, {cut}, parser);
            compareEvents(events, whole);
            if (QTest::currentTestFailed())
                QFAIL(qPrintable(QStringLiteral("differs when split at byte %1").arg(cut)));
        }
    }

    void splitAtEveryPairOfBoundariesGivesTheSameEvents()
    {
        const auto whole = parseAll(kRichStream);
        for (qsizetype a = 0; a <= kRichStream.size(); ++a) {
            for (qsizetype b = a; b <= kRichStream.size(); ++b) {
                SseParser parser;
                compareEvents(parseInPieces(kRichStream, {a, b}, parser), whole);
                if (QTest::currentTestFailed())
                    QFAIL(qPrintable(
                            QStringLiteral("differs when split at %1 and %2").arg(a).arg(b)));
            }
        }
    }

    void byteAtATimeGivesTheSameEventsAndState()
    {
        SseParser whole;
        const auto expected = whole.feed(kRichStream);
        SseParser parser;
        QList<SseParser::Event> events;
        for (const char byte : kRichStream)
            events += parser.feed(QByteArrayView(&byte, 1));
        compareEvents(events, expected);
        QCOMPARE(parser.lastEventId(), whole.lastEventId());
        QCOMPARE(parser.retryMs(), whole.retryMs());
    }

    void oversizedLineStopsTheParser()
    {
        SseParser parser(64);
        QVERIFY(parser.feed("data: " + QByteArray(100, 'x')).isEmpty());
        QVERIFY(parser.failed());
        QVERIFY(parser.feed("\n\n").isEmpty());
        parser.restartStream();
        QVERIFY(!parser.failed());
        QCOMPARE(parser.feed("data: ok\n\n").size(), 1);
    }

    void oversizedEventDataStopsTheParser()
    {
        SseParser parser(64);
        for (int i = 0; i < 20 && !parser.failed(); ++i)
            QVERIFY(parser.feed("data: 0123456789\n").isEmpty());
        QVERIFY(parser.failed());
    }

    void randomBytesNeverBreakTheInvariants()
    {
        // A cheap in-tree fuzz: arbitrary bytes (biased towards the syntax) in random chunks.
        QRandomGenerator random(20251125);
        const QByteArray alphabet
                = QByteArrayLiteral("data:id:event:retry: \r\n\n:0123\xEF\xBB\xBF\x00\xFF");
        for (int round = 0; round < 300; ++round) {
            QByteArray stream;
            const int length = int(random.bounded(400));
            for (int i = 0; i < length; ++i)
                stream.append(alphabet.at(random.bounded(alphabet.size())));
            const auto whole = parseAll(stream);
            SseParser parser;
            QList<SseParser::Event> events;
            qsizetype from = 0;
            while (from < stream.size()) {
                const qsizetype n
                        = std::min<qsizetype>(random.bounded(8) + 1, stream.size() - from);
                events += parser.feed(QByteArrayView(stream).sliced(from, n));
                from += n;
            }
            compareEvents(events, whole);
            for (const auto &event : events) {
                QVERIFY(!event.type.isEmpty());
                QVERIFY(!event.data.contains('\r'));
                QVERIFY(!event.lastEventId.contains(QChar(0)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
