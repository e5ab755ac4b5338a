#include "http/HttpResponseParser.h"

#include <QTest>

using mcpbroker::http::HttpResponseParser;
using State = HttpResponseParser::State;

class TestHttpResponseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void contentLengthBodyInOnePieceIsComplete();
    void contentLengthBodyFedByteByByteIsAssembled();
    void chunkedBodyWithExtensionsAndTrailersFedByteByByteIsDechunked();
    void streamedBodyIsHandedOutBeforeTheResponseEnds();
    void closeDelimitedBodyCompletesAtEof();
    void unfinishedResponsesAreErrorsAtEof_data();
    void unfinishedResponsesAreErrorsAtEof();
    void finishAtEofChangesNothingAfterCompleteOrError();
    void interimResponsesAreSkipped();
    void responsesWithoutBodyCompleteAfterTheHead_data();
    void responsesWithoutBodyCompleteAfterTheHead();
    void keepAliveFollowsVersionConnectionAndFraming_data();
    void keepAliveFollowsVersionConnectionAndFraming();
    void keepAliveIsFalseUntilComplete();
    void transferEncodingWinsOverContentLength();
    void otherFinalTransferCodingIsDelimitedByTheClose();
    void identicalDuplicateContentLengthsAreAccepted();
    void headerLookupIsCaseInsensitiveAndRepeatedFieldsAreJoined();
    void headIsUnavailableBeforeItIsParsed();
    void statusLineVariantsAreAccepted_data();
    void statusLineVariantsAreAccepted();
    void bareLfLineEndingsAreTolerated();
    void backToBackResponsesAreParsedAfterExpectResponseTo();
    void bytesFedAfterCompleteWaitForTheNextResponse();
    void malformedResponsesAreErrors_data();
    void malformedResponsesAreErrors();
    void oversizedHeadIsAnErrorBeforeItEnds();
    void tooManyHeaderFieldsAreAnError();
    void trailersCountAgainstTheHeaderLimit();
    void interimResponsesCountAgainstTheHeaderLimit();
    void errorIsStickyUntilTheNextResponse();
    void bodyDecodedBeforeAnErrorStaysAvailable();
    void incompleteResponsesOnlyWait();
    void longHeadLineFedByteByByteIsScannedOnce();
};

namespace {

// Feeds `bytes` in pieces of `step` bytes until the response is complete or fails; returns
// the last state and appends what the body handed out to `body` when given.
State feedInPieces(HttpResponseParser &parser, QByteArrayView bytes, qsizetype step,
                   QByteArray *body = nullptr)
{
    State state = parser.state();
    for (qsizetype i = 0; i < bytes.size(); i += step) {
        state = parser.feed(bytes.sliced(i, qMin(step, bytes.size() - i)));
        if (body)
            *body += parser.takeBody();
        if (state == State::Complete || state == State::Error)
            break;
    }
    return state;
}

} // namespace

void TestHttpResponseParser::contentLengthBodyInOnePieceIsComplete()
{
    HttpResponseParser parser;
    parser.expectResponseTo("POST");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: 10\r\n\r\n{\"id\":1}\r\n"),
             State::Complete);
    QCOMPARE(parser.state(), State::Complete);
    QCOMPARE(parser.status(), 200);
    QCOMPARE(parser.reasonPhrase(), QByteArray("OK"));
    QCOMPARE(parser.header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(parser.bodyBytesAvailable(), 10);
    QCOMPARE(parser.takeBody(), QByteArray("{\"id\":1}\r\n"));
    QCOMPARE(parser.bodyBytesAvailable(), 0);
    QVERIFY(parser.takeBody().isEmpty());
    QVERIFY(parser.keepAlive());
    QVERIFY(parser.errorReason().isEmpty());
}

void TestHttpResponseParser::contentLengthBodyFedByteByByteIsAssembled()
{
    const QByteArray body = R"({"jsonrpc":"2.0","id":1,"result":{}})";
    const QByteArray wire = "HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size())
            + "\r\n\r\n" + body;
    const qsizetype headSize = wire.size() - body.size();
    HttpResponseParser parser;
    parser.expectResponseTo("POST");
    for (qsizetype i = 0; i + 1 < wire.size(); ++i) {
        // Head until its last byte, Body from then on.
        QCOMPARE(parser.feed(wire.sliced(i, 1)), i + 1 < headSize ? State::Head : State::Body);
    }
    QCOMPARE(parser.feed(wire.sliced(wire.size() - 1)), State::Complete);
    QCOMPARE(parser.takeBody(), body);
}

void TestHttpResponseParser::chunkedBodyWithExtensionsAndTrailersFedByteByByteIsDechunked()
{
    const QByteArray wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5;name=value\r\nhello\r\n"
                            "7 ; ext ; other=\"quoted\"\r\n, world\r\n"
                            "00A\r\n0123456789\r\n"
                            "0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=53\r\n\r\n";
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QByteArray body;
    QCOMPARE(feedInPieces(parser, wire, 1, &body), State::Complete);
    QCOMPARE(body, QByteArray("hello, world0123456789"));
    QVERIFY(parser.header("X-Checksum").isEmpty()); // trailers are dropped, not merged
    QVERIFY(parser.keepAlive());

    HttpResponseParser whole;
    whole.expectResponseTo("GET");
    QCOMPARE(whole.feed(wire), State::Complete);
    QCOMPARE(whole.takeBody(), body);
}

void TestHttpResponseParser::streamedBodyIsHandedOutBeforeTheResponseEnds()
{
    // An MCP server answering a POST with an SSE stream: each event arrives as it is sent.
    HttpResponseParser parser;
    parser.expectResponseTo("POST");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"),
             State::Body);
    QCOMPARE(parser.bodyBytesAvailable(), 0);

    const QByteArray progress = "event: message\ndata: {\"method\":\"notifications/progress\"}\n\n";
    QCOMPARE(parser.feed(QByteArray::number(progress.size(), 16) + "\r\n" + progress + "\r\n"),
             State::Body);
    QCOMPARE(parser.takeBody(), progress);

    // Half a chunk is handed out without waiting for the other half.
    const QByteArray result = "event: message\ndata: {\"id\":1,\"result\":{}}\n\n";
    QCOMPARE(parser.feed(QByteArray::number(result.size(), 16) + "\r\n" + result.first(10)),
             State::Body);
    QCOMPARE(parser.takeBody(), result.first(10));
    QCOMPARE(parser.feed(result.sliced(10) + "\r\n"), State::Body);
    QCOMPARE(parser.takeBody(), result.sliced(10));

    QCOMPARE(parser.feed("0\r\n\r\n"), State::Complete);
    QCOMPARE(parser.bodyBytesAvailable(), 0);
    QVERIFY(parser.keepAlive());

    // The same with a stream delimited by the close.
    HttpResponseParser unframed;
    unframed.expectResponseTo("GET");
    QCOMPARE(unframed.feed("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                           "data: one\n\n"),
             State::Body);
    QCOMPARE(unframed.takeBody(), QByteArray("data: one\n\n"));
    QCOMPARE(unframed.feed("data: two\n\n"), State::Body);
    QCOMPARE(unframed.takeBody(), QByteArray("data: two\n\n"));
}

void TestHttpResponseParser::closeDelimitedBodyCompletesAtEof()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome"), State::Body);
    QCOMPARE(parser.feed(" text\r\n\r\nHTTP/1.1 200 OK\r\n"), State::Body);
    QCOMPARE(parser.finishAtEof(), State::Complete);
    QCOMPARE(parser.state(), State::Complete);
    // Everything until the close is body, whatever it looks like.
    QCOMPARE(parser.takeBody(), QByteArray("some text\r\n\r\nHTTP/1.1 200 OK\r\n"));
    QVERIFY(!parser.keepAlive());
}

void TestHttpResponseParser::unfinishedResponsesAreErrorsAtEof_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<State>("before");

    QTest::newRow("nothing received") << QByteArray() << State::Head;
    QTest::newRow("half a status line") << QByteArray("HTTP/1.1 2") << State::Head;
    QTest::newRow("head without its empty line")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n") << State::Head;
    QTest::newRow("only an interim response")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\n") << State::Head;
    QTest::newRow("body shorter than its Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345") << State::Body;
    QTest::newRow("in the middle of a chunk")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
            << State::Body;
    QTest::newRow("without the last chunk")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n")
            << State::Body;
    QTest::newRow("in the trailers")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n")
            << State::Body;
}

void TestHttpResponseParser::unfinishedResponsesAreErrorsAtEof()
{
    QFETCH(QByteArray, wire);
    QFETCH(State, before);

    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed(wire), before);
    QCOMPARE(parser.finishAtEof(), State::Error);
    QCOMPARE(parser.state(), State::Error);
    QCOMPARE(parser.errorReason(),
             QByteArray("the connection closed before the response was complete"));
    QVERIFY(!parser.keepAlive());
}

void TestHttpResponseParser::finishAtEofChangesNothingAfterCompleteOrError()
{
    HttpResponseParser complete;
    complete.expectResponseTo("GET");
    QCOMPARE(complete.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1"),
             State::Complete);
    QCOMPARE(complete.finishAtEof(), State::Complete);
    QCOMPARE(complete.takeBody(), QByteArray("ok"));
    // What the response allowed; that the connection is gone the caller knows.
    QVERIFY(complete.keepAlive());

    HttpResponseParser failed;
    failed.expectResponseTo("GET");
    QCOMPARE(failed.feed("garbage\r\n"), State::Error);
    QCOMPARE(failed.finishAtEof(), State::Error);
    QCOMPARE(failed.errorReason(), QByteArray("malformed status line"));
}

void TestHttpResponseParser::interimResponsesAreSkipped()
{
    HttpResponseParser parser;
    parser.expectResponseTo("POST");
    QCOMPARE(parser.feed("HTTP/1.1 100 Continue\r\n\r\n"), State::Head);
    QCOMPARE(parser.status(), 0); // no final head yet
    QCOMPARE(parser.feed("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                         "HTTP/1.1 102 Processing\r\n\r\n"
                         "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
             State::Complete);
    QCOMPARE(parser.status(), 201);
    QCOMPARE(parser.reasonPhrase(), QByteArray("Created"));
    QVERIFY(parser.header("Link").isEmpty()); // the interim response's fields are gone
    QCOMPARE(parser.takeBody(), QByteArray("ok"));

    // Byte by byte, and an interim Content-Length frames nothing.
    HttpResponseParser bytewise;
    bytewise.expectResponseTo("POST");
    QByteArray body;
    QCOMPARE(feedInPieces(bytewise,
                          "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
                          1, &body),
             State::Complete);
    QCOMPARE(bytewise.status(), 200);
    QCOMPARE(body, QByteArray("abc"));
}

void TestHttpResponseParser::responsesWithoutBodyCompleteAfterTheHead_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("head");

    QTest::newRow("204 No Content")
            << QByteArray("DELETE") << QByteArray("HTTP/1.1 204 No Content\r\n\r\n");
    QTest::newRow("304 Not Modified with Content-Length")
            << QByteArray("GET")
            << QByteArray("HTTP/1.1 304 Not Modified\r\nContent-Length: 512\r\n\r\n");
    QTest::newRow("HEAD with Content-Length")
            << QByteArray("HEAD") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
    QTest::newRow("HEAD with chunked")
            << QByteArray("HEAD")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    QTest::newRow("HEAD without framing")
            << QByteArray("HEAD") << QByteArray("HTTP/1.1 404 Not Found\r\n\r\n");
    QTest::newRow("Content-Length 0") << QByteArray("POST")
                                      << QByteArray("HTTP/1.1 202 Accepted\r\n"
                                                    "Content-Length: 0\r\n\r\n");
}

void TestHttpResponseParser::responsesWithoutBodyCompleteAfterTheHead()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, head);

    // What follows the head is the next response, not this one's body.
    const QByteArray next = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext";
    HttpResponseParser parser;
    parser.expectResponseTo(method);
    QCOMPARE(parser.feed(head + next), State::Complete);
    QCOMPARE(parser.bodyBytesAvailable(), 0);
    QVERIFY(parser.keepAlive());

    parser.expectResponseTo("GET");
    QCOMPARE(parser.state(), State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("next"));

    HttpResponseParser bytewise;
    bytewise.expectResponseTo(method);
    QCOMPARE(feedInPieces(bytewise, head, 1), State::Complete);
}

void TestHttpResponseParser::keepAliveFollowsVersionConnectionAndFraming_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<bool>("keepAlive");

    QTest::newRow("HTTP/1.1 by default")
            << QByteArray("GET") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            << true;
    QTest::newRow("HTTP/1.1 chunked")
            << QByteArray("GET")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") << true;
    QTest::newRow("HTTP/1.1 Connection: close")
            << QByteArray("GET")
            << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            << false;
    QTest::newRow("HTTP/1.1 close in a list, any case")
            << QByteArray("GET")
            << QByteArray("HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nconnection: x, CLOSE\r\n"
                          "Content-Length: 0\r\n\r\n")
            << false;
    QTest::newRow("HTTP/1.1 close-delimited")
            << QByteArray("GET") << QByteArray("HTTP/1.1 200 OK\r\n\r\nbody") << false;
    QTest::newRow("HTTP/1.1 Transfer-Encoding and Content-Length")
            << QByteArray("GET")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
                          "\r\n0\r\n\r\n")
            << false;
    QTest::newRow("HTTP/1.1 204") << QByteArray("DELETE")
                                  << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << true;
    QTest::newRow("HTTP/1.0 by default")
            << QByteArray("GET") << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            << false;
    QTest::newRow("HTTP/1.0 Connection: keep-alive")
            << QByteArray("GET")
            << QByteArray("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n"
                          "\r\nok")
            << true;
    QTest::newRow("HTTP/1.0 keep-alive but close-delimited")
            << QByteArray("GET")
            << QByteArray("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nok") << false;
    QTest::newRow("HTTP/1.0 keep-alive and close")
            << QByteArray("GET")
            << QByteArray("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
                          "Content-Length: 2\r\n\r\nok")
            << false;
    QTest::newRow("HTTP/1.0 HEAD with Transfer-Encoding")
            << QByteArray("HEAD")
            << QByteArray("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n")
            << false;
}

void TestHttpResponseParser::keepAliveFollowsVersionConnectionAndFraming()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, wire);
    QFETCH(bool, keepAlive);

    HttpResponseParser parser;
    parser.expectResponseTo(method);
    State state = parser.feed(wire);
    if (state == State::Body)
        state = parser.finishAtEof();
    QCOMPARE(state, State::Complete);
    QCOMPARE(parser.keepAlive(), keepAlive);
}

void TestHttpResponseParser::keepAliveIsFalseUntilComplete()
{
    HttpResponseParser parser;
    QVERIFY(!parser.keepAlive());
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no"), State::Body);
    QVERIFY(!parser.keepAlive());
    QCOMPARE(parser.feed("k"), State::Complete);
    QVERIFY(parser.keepAlive());
    parser.expectResponseTo("GET");
    QVERIFY(!parser.keepAlive());
}

void TestHttpResponseParser::transferEncodingWinsOverContentLength()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
             State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("abc"));
    QVERIFY(!parser.keepAlive());
}

void TestHttpResponseParser::otherFinalTransferCodingIsDelimitedByTheClose()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    // chunked not last: the body is whatever comes until the close, framing included.
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
                         "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
             State::Body);
    QCOMPARE(parser.finishAtEof(), State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("3\r\nabc\r\n0\r\n\r\n"));
    QVERIFY(!parser.keepAlive());

    // chunked last after another coding: de-chunked, the other coding left to the caller.
    HttpResponseParser gzip;
    gzip.expectResponseTo("GET");
    QCOMPARE(gzip.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked"
                       "\r\n\r\n2\r\n\x1f\x8b\r\n0\r\n\r\n"),
             State::Complete);
    QCOMPARE(gzip.takeBody(), QByteArray("\x1f\x8b"));
    QCOMPARE(gzip.header("transfer-encoding"), QByteArray("gzip, Chunked"));
    QVERIFY(gzip.keepAlive());
}

void TestHttpResponseParser::identicalDuplicateContentLengthsAreAccepted()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2 , 02\r\n"
                         "\r\nok"),
             State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("ok"));
    QVERIFY(parser.keepAlive());
}

void TestHttpResponseParser::headerLookupIsCaseInsensitiveAndRepeatedFieldsAreJoined()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 401 Unauthorized\r\n"
                         "WWW-Authenticate: Bearer resource_metadata=\"https://x/.well-known\"\r\n"
                         "mcp-session-id: \t abc123 \t\r\n"
                         "www-authenticate: Basic realm=\"x\"\r\n"
                         "X-Empty:\r\n"
                         "X-Obs-Text: caf\xc3\xa9\r\n"
                         "Content-Length: 0\r\n\r\n"),
             State::Complete);
    QCOMPARE(parser.header("Mcp-Session-Id"), QByteArray("abc123")); // OWS trimmed
    QCOMPARE(parser.header("MCP-SESSION-ID"), QByteArray("abc123"));
    QCOMPARE(parser.header("WWW-Authenticate"),
             QByteArray("Bearer resource_metadata=\"https://x/.well-known\", Basic realm=\"x\""));
    QVERIFY(parser.header("X-Empty").isEmpty());
    QCOMPARE(parser.header("x-obs-text"), QByteArray("caf\xc3\xa9"));
    QVERIFY(parser.header("Missing").isEmpty());
    QVERIFY(parser.header("Mcp-Session").isEmpty()); // a prefix is another name
}

void TestHttpResponseParser::headIsUnavailableBeforeItIsParsed()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.state(), State::Head);
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nX-A: 1\r\n"), State::Head);
    QCOMPARE(parser.status(), 0);
    QVERIFY(parser.reasonPhrase().isEmpty());
    QVERIFY(parser.header("X-A").isEmpty());
    QCOMPARE(parser.feed("\r\n"), State::Body);
    QCOMPARE(parser.status(), 200);
    QCOMPARE(parser.header("X-A"), QByteArray("1"));
}

void TestHttpResponseParser::statusLineVariantsAreAccepted_data()
{
    QTest::addColumn<QByteArray>("statusLine");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");

    QTest::newRow("reason") << QByteArray("HTTP/1.1 404 Not Found") << 404
                            << QByteArray("Not Found");
    QTest::newRow("empty reason") << QByteArray("HTTP/1.1 200 ") << 200 << QByteArray();
    QTest::newRow("no space after the code") << QByteArray("HTTP/1.1 200") << 200 << QByteArray();
    QTest::newRow("HTTP/1.0") << QByteArray("HTTP/1.0 500 Internal Server Error") << 500
                              << QByteArray("Internal Server Error");
    QTest::newRow("unknown code of an unknown class")
            << QByteArray("HTTP/1.1 999 Whatever") << 999 << QByteArray("Whatever");
    QTest::newRow("reason with tabs, spaces and obs-text")
            << QByteArray("HTTP/1.1 200 \tD\xc3\xa9j\xc3\xa0  vu ") << 200
            << QByteArray("\tD\xc3\xa9j\xc3\xa0  vu ");
}

void TestHttpResponseParser::statusLineVariantsAreAccepted()
{
    QFETCH(QByteArray, statusLine);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);

    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed(statusLine + "\r\nContent-Length: 0\r\n\r\n"), State::Complete);
    QCOMPARE(parser.status(), status);
    QCOMPARE(parser.reasonPhrase(), reason);
}

void TestHttpResponseParser::bareLfLineEndingsAreTolerated()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\nX-A: 1\r\nTransfer-Encoding: chunked\n\n"
                         "2\nhi\n3;x\r\n!!!\n0\nT: 1\n\n"),
             State::Complete);
    QCOMPARE(parser.header("X-A"), QByteArray("1"));
    QCOMPARE(parser.takeBody(), QByteArray("hi!!!"));
}

void TestHttpResponseParser::backToBackResponsesAreParsedAfterExpectResponseTo()
{
    HttpResponseParser parser;
    parser.expectResponseTo("POST");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                         "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "2\r\nde\r\n0\r\n\r\n"
                         "HTTP/1.1 404 Not"),
             State::Complete);
    QCOMPARE(parser.status(), 200);
    QCOMPARE(parser.takeBody(), QByteArray("abc"));

    // The buffered response is parsed at once; feed({}) says the same.
    parser.expectResponseTo("POST");
    QCOMPARE(parser.state(), State::Complete);
    QCOMPARE(parser.feed({}), State::Complete);
    QCOMPARE(parser.status(), 202);
    QCOMPARE(parser.takeBody(), QByteArray("de"));

    parser.expectResponseTo("DELETE");
    QCOMPARE(parser.state(), State::Head);
    QCOMPARE(parser.feed(" Found\r\nContent-Length: 0\r\n\r\n"), State::Complete);
    QCOMPARE(parser.status(), 404);
    QCOMPARE(parser.reasonPhrase(), QByteArray("Not Found"));
    QVERIFY(parser.takeBody().isEmpty());
}

void TestHttpResponseParser::bytesFedAfterCompleteWaitForTheNextResponse()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"), State::Complete);
    // A server should not send before the next request, but nothing it sends is lost.
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"), State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("first"));
    parser.expectResponseTo("GET");
    QCOMPARE(parser.state(), State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("second"));
}

void TestHttpResponseParser::malformedResponsesAreErrors_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<QByteArray>("reason");

    const QByteArray chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const QByteArray longChunkLine = "2;" + QByteArray(5000, 'x');

    QTest::newRow("not HTTP") << QByteArray("ICY 200 OK\r\n\r\n")
                              << QByteArray("malformed status line");
    QTest::newRow("lower-case version")
            << QByteArray("http/1.1 200 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("malformed version")
            << QByteArray("HTTP/1.10 200 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("HTTP/2") << QByteArray("HTTP/2 200\r\n\r\n")
                            << QByteArray("unsupported http version");
    QTest::newRow("HTTP/1.2") << QByteArray("HTTP/1.2 200 OK\r\n\r\n")
                              << QByteArray("unsupported http version");
    QTest::newRow("HTTP/0.9") << QByteArray("HTTP/0.9 200 OK\r\n\r\n")
                              << QByteArray("unsupported http version");
    QTest::newRow("version alone")
            << QByteArray("HTTP/1.1\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("two-digit status")
            << QByteArray("HTTP/1.1 20 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("four-digit status")
            << QByteArray("HTTP/1.1 2000 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("status below 100")
            << QByteArray("HTTP/1.1 099 Low\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("status not digits")
            << QByteArray("HTTP/1.1 2x0 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("two spaces before the status")
            << QByteArray("HTTP/1.1  200 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("tab before the status")
            << QByteArray("HTTP/1.1\t200 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("bare CR in the reason")
            << QByteArray("HTTP/1.1 200 O\rK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("control character in the reason")
            << QByteArray("HTTP/1.1 200 O\x01K\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("empty line before the status line")
            << QByteArray("\r\nHTTP/1.1 200 OK\r\n\r\n") << QByteArray("malformed status line");
    QTest::newRow("101 Switching Protocols")
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\n\r\n")
            << QByteArray("unexpected protocol switch");
    QTest::newRow("obs-fold") << QByteArray("HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n")
                              << QByteArray("obsolete line folding in a header field");
    QTest::newRow("obs-fold with a tab") << QByteArray("HTTP/1.1 200 OK\r\nX-A: 1\r\n\t2\r\n\r\n")
                                         << QByteArray("obsolete line folding in a header field");
    QTest::newRow("whitespace before the first field")
            << QByteArray("HTTP/1.1 200 OK\r\n X-A: 1\r\n\r\n")
            << QByteArray("obsolete line folding in a header field");
    QTest::newRow("field without a colon") << QByteArray("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n")
                                           << QByteArray("header field without a colon");
    QTest::newRow("space before the colon")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n")
            << QByteArray("whitespace before a header field's colon");
    QTest::newRow("tab before the colon") << QByteArray("HTTP/1.1 200 OK\r\nX-A\t: 1\r\n\r\n")
                                          << QByteArray("whitespace before a header field's colon");
    QTest::newRow("empty field name") << QByteArray("HTTP/1.1 200 OK\r\n: 1\r\n\r\n")
                                      << QByteArray("malformed header field name");
    QTest::newRow("field name not a token") << QByteArray("HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n")
                                            << QByteArray("malformed header field name");
    QTest::newRow("control character in a value")
            << QByteArray("HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n")
            << QByteArray("malformed header field value");
    QTest::newRow("NUL in a value") << QByteArrayLiteral("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n")
                                    << QByteArray("malformed header field value");
    QTest::newRow("bare CR in a value") << QByteArray("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n")
                                        << QByteArray("malformed header field value");
    QTest::newRow("signed Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc")
            << QByteArray("invalid content-length");
    QTest::newRow("negative Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
            << QByteArray("invalid content-length");
    QTest::newRow("hex Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0x3\r\n\r\nabc")
            << QByteArray("invalid content-length");
    QTest::newRow("empty Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n")
            << QByteArray("invalid content-length");
    QTest::newRow("Content-Length with an empty element")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3,\r\n\r\nabc")
            << QByteArray("invalid content-length");
    QTest::newRow("Content-Length with inner space")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n")
            << QByteArray("invalid content-length");
    QTest::newRow("Content-Length beyond 64 bits")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n")
            << QByteArray("content-length too large");
    QTest::newRow("conflicting Content-Length fields")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
            << QByteArray("conflicting content-length values");
    QTest::newRow("conflicting Content-Length list")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd")
            << QByteArray("conflicting content-length values");
    QTest::newRow("Transfer-Encoding in HTTP/1.0")
            << QByteArray("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            << QByteArray("transfer-encoding in an http/1.0 response");
    QTest::newRow("chunked twice")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n")
            << QByteArray("chunked applied more than once");
    QTest::newRow("chunk size not hex") << chunked + "zz\r\nhi\r\n0\r\n\r\n"
                                        << QByteArray("malformed chunk size");
    QTest::newRow("empty chunk size") << chunked + "\r\n" << QByteArray("malformed chunk size");
    QTest::newRow("chunk size followed by junk") << chunked + "2 x\r\nhi\r\n0\r\n\r\n"
                                                 << QByteArray("malformed chunk size");
    QTest::newRow("negative chunk size") << chunked + "-2\r\nhi\r\n"
                                         << QByteArray("malformed chunk size");
    QTest::newRow("bare CR in the chunk size line") << chunked + "2;a\rb\r\nhi\r\n"
                                                    << QByteArray("malformed chunk size");
    QTest::newRow("chunk size beyond 64 bits") << chunked + "10000000000000000\r\n"
                                               << QByteArray("chunk size too large");
    QTest::newRow("chunk size line too long") << chunked + longChunkLine + "\r\nhi\r\n"
                                              << QByteArray("chunk size line too long");
    QTest::newRow("chunk longer than its size") << chunked + "2\r\nhello\r\n0\r\n\r\n"
                                                << QByteArray("chunk data longer than its size");
    QTest::newRow("CR without LF after a chunk") << chunked + "2\r\nhi\rX\n0\r\n\r\n"
                                                 << QByteArray("chunk data longer than its size");
    QTest::newRow("trailer without a colon") << chunked + "0\r\nNoColon\r\n\r\n"
                                             << QByteArray("header field without a colon");
    QTest::newRow("obs-fold in the trailers")
            << chunked + "0\r\nT: 1\r\n 2\r\n\r\n"
            << QByteArray("obsolete line folding in a header field");
}

void TestHttpResponseParser::malformedResponsesAreErrors()
{
    QFETCH(QByteArray, wire);
    QFETCH(QByteArray, reason);

    HttpResponseParser whole;
    whole.expectResponseTo("GET");
    QCOMPARE(whole.feed(wire), State::Error);
    QCOMPARE(whole.state(), State::Error);
    QCOMPARE(whole.errorReason(), reason);
    QVERIFY(!whole.keepAlive());

    // The same verdict however the bytes are split.
    HttpResponseParser bytewise;
    bytewise.expectResponseTo("GET");
    QCOMPARE(feedInPieces(bytewise, wire, 1), State::Error);
    QCOMPARE(bytewise.errorReason(), reason);
}

void TestHttpResponseParser::oversizedHeadIsAnErrorBeforeItEnds()
{
    const HttpResponseParser::Limits limits{.maxHeaderBytes = 64, .maxHeaderCount = 10};
    HttpResponseParser parser(limits);
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nX-Long: "), State::Head);
    // No end of head in sight, and already past the limit.
    QCOMPARE(parser.feed(QByteArray(64, 'a')), State::Error);
    QCOMPARE(parser.errorReason(), QByteArray("response header section too large"));

    HttpResponseParser complete(limits);
    complete.expectResponseTo("GET");
    QCOMPARE(complete.feed("HTTP/1.1 200 OK\r\nX-Long: " + QByteArray(64, 'a') + "\r\n\r\n"),
             State::Error);
    QCOMPARE(complete.errorReason(), QByteArray("response header section too large"));

    // Exactly at the limit is fine: 17 + 45 + 2 bytes.
    HttpResponseParser exact(limits);
    exact.expectResponseTo("GET");
    QCOMPARE(exact.feed("HTTP/1.1 200 OK\r\nX-Long: " + QByteArray(35, 'a') + "\r\n\r\n"),
             State::Body);
}

void TestHttpResponseParser::tooManyHeaderFieldsAreAnError()
{
    const HttpResponseParser::Limits limits{.maxHeaderBytes = 4096, .maxHeaderCount = 3};
    HttpResponseParser parser(limits);
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), State::Error);
    QCOMPARE(parser.errorReason(), QByteArray("too many header fields"));

    HttpResponseParser exact(limits);
    exact.expectResponseTo("GET");
    QCOMPARE(exact.feed("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n"),
             State::Complete);
}

void TestHttpResponseParser::trailersCountAgainstTheHeaderLimit()
{
    const HttpResponseParser::Limits limits{.maxHeaderBytes = 128, .maxHeaderCount = 10};
    const QByteArray head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"; // 47 bytes
    HttpResponseParser parser(limits);
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed(head + "2\r\nhi\r\n0\r\nX-Trailer: "), State::Body);
    QCOMPARE(parser.feed(QByteArray(100, 'a')), State::Error);
    QCOMPARE(parser.errorReason(), QByteArray("response header section too large"));

    HttpResponseParser small(limits);
    small.expectResponseTo("GET");
    QCOMPARE(small.feed(head + "2\r\nhi\r\n0\r\nX-Trailer: " + QByteArray(50, 'a') + "\r\n\r\n"),
             State::Complete);
}

void TestHttpResponseParser::interimResponsesCountAgainstTheHeaderLimit()
{
    // A server that sends 1xx responses forever is stopped like one with an endless head.
    const HttpResponseParser::Limits limits{.maxHeaderBytes = 1024, .maxHeaderCount = 10};
    HttpResponseParser parser(limits);
    parser.expectResponseTo("GET");
    State state = State::Head;
    for (int i = 0; i < 100 && state == State::Head; ++i)
        state = parser.feed("HTTP/1.1 102 Processing\r\n\r\n");
    QCOMPARE(state, State::Error);
    QCOMPARE(parser.errorReason(), QByteArray("response header section too large"));
}

void TestHttpResponseParser::errorIsStickyUntilTheNextResponse()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("BROKEN\r\n"), State::Error);
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), State::Error);
    QCOMPARE(parser.finishAtEof(), State::Error);
    QCOMPARE(parser.errorReason(), QByteArray("malformed status line"));

    // Reused on a new connection: nothing of the broken one is left.
    parser.expectResponseTo("GET");
    QCOMPARE(parser.state(), State::Head);
    QVERIFY(parser.errorReason().isEmpty());
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), State::Complete);
    QCOMPARE(parser.takeBody(), QByteArray("ok"));
}

void TestHttpResponseParser::bodyDecodedBeforeAnErrorStaysAvailable()
{
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nfirst\r\nnot a size\r\n"),
             State::Error);
    QCOMPARE(parser.errorReason(), QByteArray("malformed chunk size"));
    QCOMPARE(parser.status(), 200);
    QCOMPARE(parser.takeBody(), QByteArray("first"));
}

void TestHttpResponseParser::incompleteResponsesOnlyWait()
{
    const QByteArray wire = "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
                            "3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n";
    const qsizetype finalHeadEnd = wire.indexOf("\r\n\r\n3;") + 4;
    for (qsizetype length = 0; length < wire.size(); ++length) {
        HttpResponseParser parser;
        parser.expectResponseTo("GET");
        QCOMPARE(parser.feed(wire.first(length)),
                 length < finalHeadEnd ? State::Head : State::Body);
    }
    HttpResponseParser parser;
    parser.expectResponseTo("GET");
    QCOMPARE(parser.feed(wire), State::Complete);
}

void TestHttpResponseParser::longHeadLineFedByteByByteIsScannedOnce()
{
    // Rescanning the buffer for a line end on every byte would take minutes here, not
    // milliseconds: the test would time out.
    const qsizetype valueSize = 2 * 1024 * 1024;
    HttpResponseParser parser({.maxHeaderBytes = 4 * 1024 * 1024, .maxHeaderCount = 10});
    parser.expectResponseTo("GET");
    QCOMPARE(feedInPieces(parser, "HTTP/1.1 200 OK\r\nX-Long: ", 1), State::Head);
    const char a = 'a';
    for (qsizetype i = 0; i < valueSize; ++i)
        parser.feed(QByteArrayView(&a, 1));
    QCOMPARE(parser.feed("\r\nContent-Length: 0\r\n\r\n"), State::Complete);
    QCOMPARE(parser.header("X-Long").size(), valueSize);
}

QTEST_APPLESS_MAIN(TestHttpResponseParser)
#include "tst_httpresponseparser.moc"
