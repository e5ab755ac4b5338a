#include "http/HttpRequestParser.h"

#include <QRandomGenerator>
#include <QTest>

using mcpbroker::http::HttpRequest;
using mcpbroker::http::HttpRequestParser;
using State = HttpRequestParser::State;

class TestHttpRequestParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void simpleGetIsParsed();
    void contentLengthBodyFedByteByByteIsAssembled();
    void chunkedBodyWithExtensionsAndTrailersIsDechunked();
    void chunkedBodyFedByteByByteIsDechunked();
    void pipelinedRequestsAreParsedOneAfterAnother();
    void headerLookupIsCaseInsensitiveAndListsAreJoined();
    void bareLfLineEndingsAreTolerated();
    void leadingEmptyLinesAreIgnored();
    void pathIsPercentDecodedAndQueryIsParsed();
    void absoluteFormTargetUsesItsPath();
    void http10RequestNeedsNoHost();
    void identicalDuplicateContentLengthsAreAccepted();
    void malformedRequestsAreAnsweredWithTheirStatus_data();
    void malformedRequestsAreAnsweredWithTheirStatus();
    void oversizedContentLengthIsRefusedWith413BeforeTheBodyArrives();
    void oversizedChunkedBodyIsRefusedWith413WhileDechunking();
    void oversizedHeadIsRefusedWith431BeforeItEnds();
    void tooManyHeadersAreRefusedWith431();
    void errorIsStickyAndKeepsNoInput();
    void incompleteRequestsOnlyAskForMore();
    void arbitraryBytesNeverBreakTheParser();
};

namespace {

// Feeds `bytes` in pieces of `step` bytes and returns the last state.
State feedInPieces(HttpRequestParser &parser, QByteArrayView bytes, qsizetype step)
{
    State state = State::NeedMore;
    for (qsizetype i = 0; i < bytes.size(); i += step) {
        state = parser.feed(bytes.sliced(i, qMin(step, bytes.size() - i)));
        if (state != State::NeedMore)
            break;
    }
    return state;
}

} // namespace

void TestHttpRequestParser::simpleGetIsParsed()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:7823\r\nAccept: */*\r\n\r\n"),
             State::Complete);
    const HttpRequest request = parser.takeRequest();
    QCOMPARE(request.method, QByteArray("GET"));
    QCOMPARE(request.target, QByteArray("/mcp"));
    QCOMPARE(request.path, QStringLiteral("/mcp"));
    QCOMPARE(request.versionMinor, 1);
    QCOMPARE(request.headers.size(), 2);
    QCOMPARE(request.header("Host"), QByteArray("127.0.0.1:7823"));
    QVERIFY(request.body.isEmpty());
}

void TestHttpRequestParser::contentLengthBodyFedByteByByteIsAssembled()
{
    const QByteArray body = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
    const QByteArray wire = "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    HttpRequestParser parser;
    for (qsizetype i = 0; i + 1 < wire.size(); ++i)
        QCOMPARE(parser.feed(wire.sliced(i, 1)), State::NeedMore);
    QCOMPARE(parser.feed(wire.sliced(wire.size() - 1)), State::Complete);
    const HttpRequest request = parser.takeRequest();
    QCOMPARE(request.method, QByteArray("POST"));
    QCOMPARE(request.body, body);
}

void TestHttpRequestParser::chunkedBodyWithExtensionsAndTrailersIsDechunked()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5;name=value\r\nhello\r\n"
                         "7 ; ext\r\n, world\r\n"
                         "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"),
             State::Complete);
    const HttpRequest request = parser.takeRequest();
    QCOMPARE(request.body, QByteArray("hello, world"));
    QVERIFY(!request.hasHeader("X-Checksum")); // trailers are consumed, not merged
}

void TestHttpRequestParser::chunkedBodyFedByteByByteIsDechunked()
{
    const QByteArray wire = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "A\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n";
    HttpRequestParser parser;
    QCOMPARE(feedInPieces(parser, wire, 1), State::Complete);
    QCOMPARE(parser.takeRequest().body, QByteArray("0123456789!"));
}

void TestHttpRequestParser::pipelinedRequestsAreParsedOneAfterAnother()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                         "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /thi"),
             State::Complete);
    QCOMPARE(parser.takeRequest().path, QStringLiteral("/first"));
    QCOMPARE(parser.resume(), State::Complete);
    const HttpRequest second = parser.takeRequest();
    QCOMPARE(second.path, QStringLiteral("/second"));
    QVERIFY(second.body.isEmpty());
    QCOMPARE(parser.resume(), State::NeedMore);
    QCOMPARE(parser.feed("rd HTTP/1.1\r\nHost: x\r\n\r\n"), State::Complete);
    QCOMPARE(parser.takeRequest().path, QStringLiteral("/third"));
}

void TestHttpRequestParser::headerLookupIsCaseInsensitiveAndListsAreJoined()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("GET / HTTP/1.1\r\nhOsT: x\r\nAccept: text/event-stream\r\n"
                         "ACCEPT: application/json  \r\nX-Empty:\r\n\r\n"),
             State::Complete);
    const HttpRequest request = parser.takeRequest();
    QCOMPARE(request.header("host"), QByteArray("x"));
    QCOMPARE(request.header("accept"), QByteArray("text/event-stream"));
    QCOMPARE(request.headerList("Accept"), QByteArray("text/event-stream, application/json"));
    QVERIFY(request.hasHeader("x-empty"));
    QVERIFY(request.header("X-Empty").isEmpty());
    QVERIFY(!request.hasHeader("Missing"));
    QVERIFY(request.headerList("Missing").isEmpty());
    QCOMPARE(request.headers.at(0).first, QByteArray("hOsT")); // original spelling kept
}

void TestHttpRequestParser::bareLfLineEndingsAreTolerated()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("POST /a HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n"),
             State::Complete);
    const HttpRequest request = parser.takeRequest();
    QCOMPARE(request.path, QStringLiteral("/a"));
    QCOMPARE(request.body, QByteArray("hi"));
}

void TestHttpRequestParser::leadingEmptyLinesAreIgnored()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("\r\n\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n"), State::Complete);
    QCOMPARE(parser.takeRequest().path, QStringLiteral("/x"));
}

void TestHttpRequestParser::pathIsPercentDecodedAndQueryIsParsed()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("GET /mcp/my%20server/caf%C3%A9?name=a%26b&flag&x=%E2%9C%93 HTTP/1.1\r\n"
                         "Host: x\r\n\r\n"),
             State::Complete);
    const HttpRequest request = parser.takeRequest();
    QCOMPARE(request.target, QByteArray("/mcp/my%20server/caf%C3%A9?name=a%26b&flag&x=%E2%9C%93"));
    QCOMPARE(request.path, QStringLiteral("/mcp/my server/café"));
    QCOMPARE(request.query.queryItemValue("name", QUrl::FullyDecoded), QStringLiteral("a&b"));
    QCOMPARE(request.query.queryItemValue("x", QUrl::FullyDecoded), QStringLiteral("✓"));
    QVERIFY(request.query.hasQueryItem("flag"));
}

void TestHttpRequestParser::absoluteFormTargetUsesItsPath()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("GET http://127.0.0.1:7823/mcp/a%2Fb?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
             State::Complete);
    HttpRequest request = parser.takeRequest();
    QCOMPARE(request.path, QStringLiteral("/mcp/a/b"));
    QCOMPARE(request.query.queryItemValue("q"), QStringLiteral("1"));

    QCOMPARE(parser.feed("GET HTTP://localhost HTTP/1.1\r\nHost: x\r\n\r\n"), State::Complete);
    QCOMPARE(parser.takeRequest().path, QStringLiteral("/"));
}

void TestHttpRequestParser::http10RequestNeedsNoHost()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("GET / HTTP/1.0\r\n\r\n"), State::Complete);
    QCOMPARE(parser.takeRequest().versionMinor, 0);
}

void TestHttpRequestParser::identicalDuplicateContentLengthsAreAccepted()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                         "Content-Length: 2, 2\r\n\r\nok"),
             State::Complete);
    QCOMPARE(parser.takeRequest().body, QByteArray("ok"));
}

void TestHttpRequestParser::malformedRequestsAreAnsweredWithTheirStatus_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("status");

    QTest::newRow("request line with two parts") << QByteArray("GET /\r\n\r\n") << 400;
    QTest::newRow("request line with four parts")
            << QByteArray("GET / x HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("double space in request line")
            << QByteArray("GET  / HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("method not a token")
            << QByteArray("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("malformed version")
            << QByteArray("GET / HTTP/1.10\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("bare CR in request line")
            << QByteArray("GET /\ra HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("asterisk-form target")
            << QByteArray("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("authority-form target")
            << QByteArray("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("fragment in target")
            << QByteArray("GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("bad percent-encoding")
            << QByteArray("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n")
                              << 400;
    QTest::newRow("header without colon")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n") << 400;
    QTest::newRow("space before colon")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n") << 400;
    QTest::newRow("header name not a token")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n") << 400;
    QTest::newRow("control character in value")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n") << 400;
    QTest::newRow("missing Host in HTTP/1.1") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("two Host headers")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400;
    QTest::newRow("conflicting Content-Length")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          "Content-Length: 4\r\n\r\nabcd")
            << 400;
    QTest::newRow("conflicting Content-Length list")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd") << 400;
    QTest::newRow("signed Content-Length")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc") << 400;
    QTest::newRow("hex Content-Length")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\nabc") << 400;
    QTest::newRow("Transfer-Encoding with Content-Length")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                          "Content-Length: 5\r\n\r\n0\r\n\r\n")
            << 400;
    QTest::newRow("chunked twice")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n"
                          "\r\n0\r\n\r\n")
            << 400;
    QTest::newRow("Transfer-Encoding in HTTP/1.0")
            << QByteArray("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") << 400;
    QTest::newRow("bad chunk size")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "zz\r\nhi\r\n0\r\n\r\n")
            << 400;
    QTest::newRow("chunk longer than its size")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "2\r\nhello\r\n0\r\n\r\n")
            << 400;
    QTest::newRow("unknown transfer coding")
            << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
                          "\r\n")
            << 501;
    QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\nHost: x\r\n\r\n") << 505;
    QTest::newRow("HTTP/2 connection preface")
            << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 505;
    QTest::newRow("HTTP/0.9 version") << QByteArray("GET / HTTP/0.9\r\nHost: x\r\n\r\n") << 505;
    QTest::newRow("not HTTP") << QByteArray("GET / RTSP/1.0\r\nHost: x\r\n\r\n") << 505;
}

void TestHttpRequestParser::malformedRequestsAreAnsweredWithTheirStatus()
{
    QFETCH(QByteArray, wire);
    QFETCH(int, status);

    HttpRequestParser whole;
    QCOMPARE(whole.feed(wire), State::Error);
    QCOMPARE(whole.errorStatus(), status);
    QVERIFY(!whole.errorReason().isEmpty());

    // The same verdict however the bytes are split.
    HttpRequestParser bytewise;
    QCOMPARE(feedInPieces(bytewise, wire, 1), State::Error);
    QCOMPARE(bytewise.errorStatus(), status);
}

void TestHttpRequestParser::oversizedContentLengthIsRefusedWith413BeforeTheBodyArrives()
{
    HttpRequestParser parser({.maxHeaderBytes = 1024, .maxBodyBytes = 100, .maxHeaderCount = 10});
    // The head alone, no body byte yet: the declared length is enough to refuse.
    QCOMPARE(parser.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"),
             State::Error);
    QCOMPARE(parser.errorStatus(), 413);

    HttpRequestParser huge({.maxHeaderBytes = 1024, .maxBodyBytes = 100, .maxHeaderCount = 10});
    QCOMPARE(huge.feed("POST / HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 99999999999999999999999999999999\r\n\r\n"),
             State::Error);
    QCOMPARE(huge.errorStatus(), 413);

    HttpRequestParser exact({.maxHeaderBytes = 1024, .maxBodyBytes = 100, .maxHeaderCount = 10});
    QCOMPARE(exact.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                        + QByteArray(100, 'a')),
             State::Complete);
}

void TestHttpRequestParser::oversizedChunkedBodyIsRefusedWith413WhileDechunking()
{
    HttpRequestParser parser({.maxHeaderBytes = 1024, .maxBodyBytes = 10, .maxHeaderCount = 10});
    QCOMPARE(parser.feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "6\r\nabcdef\r\n"),
             State::NeedMore);
    // The second chunk's size line pushes the total past the limit: refused before its data.
    QCOMPARE(parser.feed("5\r\n"), State::Error);
    QCOMPARE(parser.errorStatus(), 413);

    HttpRequestParser huge({.maxHeaderBytes = 1024, .maxBodyBytes = 10, .maxHeaderCount = 10});
    QCOMPARE(huge.feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "FFFFFFFFFFFFFFFFFFFFFFFFFFFF\r\n"),
             State::Error);
    QCOMPARE(huge.errorStatus(), 413);
}

void TestHttpRequestParser::oversizedHeadIsRefusedWith431BeforeItEnds()
{
    HttpRequestParser parser({.maxHeaderBytes = 64, .maxBodyBytes = 100, .maxHeaderCount = 10});
    QCOMPARE(parser.feed("GET / HTTP/1.1\r\nHost: x\r\nX-Long: "), State::NeedMore);
    // No end of head in sight, and already past the limit.
    QCOMPARE(parser.feed(QByteArray(64, 'a')), State::Error);
    QCOMPARE(parser.errorStatus(), 431);

    HttpRequestParser complete({.maxHeaderBytes = 64, .maxBodyBytes = 100, .maxHeaderCount = 10});
    QCOMPARE(complete.feed("GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + QByteArray(64, 'a')
                           + "\r\n\r\n"),
             State::Error);
    QCOMPARE(complete.errorStatus(), 431);
}

void TestHttpRequestParser::tooManyHeadersAreRefusedWith431()
{
    HttpRequestParser parser({.maxHeaderBytes = 4096, .maxBodyBytes = 100, .maxHeaderCount = 3});
    QCOMPARE(parser.feed("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
             State::Error);
    QCOMPARE(parser.errorStatus(), 431);
}

void TestHttpRequestParser::errorIsStickyAndKeepsNoInput()
{
    HttpRequestParser parser;
    QCOMPARE(parser.feed("BROKEN\r\n\r\n"), State::Error);
    QCOMPARE(parser.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), State::Error);
    QCOMPARE(parser.resume(), State::Error);
    QCOMPARE(parser.errorStatus(), 400);
}

void TestHttpRequestParser::incompleteRequestsOnlyAskForMore()
{
    const QByteArray wire = "POST /p?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            "\r\n3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n";
    for (qsizetype length = 0; length < wire.size(); ++length) {
        HttpRequestParser parser;
        QCOMPARE(parser.feed(wire.first(length)), State::NeedMore);
    }
}

void TestHttpRequestParser::arbitraryBytesNeverBreakTheParser()
{
    // A poor man's fuzzer until the libFuzzer target exists: mutated valid requests and noise.
    const QList<QByteArray> seeds = {
        "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;x\r\nabcd\r\n0\r\nT: "
        "1\r\n\r\n",
    };
    QRandomGenerator random(20251125);
    const HttpRequestParser::Limits limits{.maxHeaderBytes = 256, .maxBodyBytes = 64,
                                           .maxHeaderCount = 8};
    for (int round = 0; round < 3000; ++round) {
        QByteArray input = seeds.at(random.bounded(int(seeds.size())));
        const int mutations = random.bounded(1, 6);
        for (int m = 0; m < mutations; ++m) {
            const int at = random.bounded(int(input.size()));
            switch (random.bounded(3)) {
            case 0: input[at] = char(random.bounded(256)); break;
            case 1: input.insert(at, char(random.bounded(256))); break;
            default: input.remove(at, 1); break;
            }
            if (input.isEmpty())
                input = "x";
        }
        input += input; // exercise pipelining too

        HttpRequestParser parser(limits);
        State state = feedInPieces(parser, input, random.bounded(1, 9));
        for (int guard = 0; state == State::Complete && guard < 8; ++guard) {
            const HttpRequest request = parser.takeRequest();
            QVERIFY(request.body.size() <= limits.maxBodyBytes);
            state = parser.resume();
        }
        if (state == State::Error) {
            const QList<int> statuses = {400, 413, 431, 501, 505};
            QVERIFY2(statuses.contains(parser.errorStatus()),
                     input.toPercentEncoding().constData());
        }
    }
}

QTEST_APPLESS_MAIN(TestHttpRequestParser)
#include "tst_httprequestparser.moc"
