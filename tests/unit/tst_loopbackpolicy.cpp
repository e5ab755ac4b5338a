// DNS-rebinding protection of the loopback endpoint (http/LoopbackPolicy.h): which Host and
// Origin headers a request may carry. A wrong "allowed" here lets any web page drive the broker.

#include "http/LoopbackPolicy.h"

#include <QTest>

namespace LoopbackPolicy = mcpbroker::http::LoopbackPolicy;

namespace {
constexpr quint16 kPort = 7823;
}

class TestLoopbackPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hostIsAllowedOnlyForLoopbackNamesWithOurPort_data();
    void hostIsAllowedOnlyForLoopbackNamesWithOurPort();
    void hostChecksTheGivenPortNotADefault();

    void originIsAllowedOnlyForHttpOnALoopbackHost_data();
    void originIsAllowedOnlyForHttpOnALoopbackHost();
};

void TestLoopbackPolicy::hostIsAllowedOnlyForLoopbackNamesWithOurPort_data()
{
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<bool>("allowed");

    auto row = [](const char *name, const QByteArray &host, bool allowed) {
        QTest::newRow(name) << host << allowed;
    };
    const QByteArray port = QByteArray::number(kPort);

    row("localhost", "localhost", true);
    row("localhost with our port", "localhost:" + port, true);
    row("127.0.0.1", "127.0.0.1", true);
    row("127.0.0.1 with our port", "127.0.0.1:" + port, true);
    row("[::1]", "[::1]", true);
    row("[::1] with our port", "[::1]:" + port, true);
    // Host names are case-insensitive (RFC 9110 §4.2.3).
    row("uppercase LOCALHOST", "LOCALHOST", true);
    row("uppercase LOCALHOST with our port", "LOCALHOST:" + port, true);
    row("mixed case LocalHost", "LocalHost", true);
    row("surrounding whitespace", "  localhost:" + port + " ", true);

    row("localhost with another port", "localhost:8080", false);
    row("127.0.0.1 with another port", "127.0.0.1:80", false);
    row("[::1] with another port", "[::1]:1", false);
    row("our port plus one", "localhost:" + QByteArray::number(kPort + 1), false);
    // 7823 + 65536 would wrap to our port in a 16-bit integer.
    row("our port plus 65536", "localhost:" + QByteArray::number(kPort + 65536), false);
    row("empty port", "localhost:", false);
    row("non-numeric port", "localhost:http", false);
    row("negative port", "localhost:-1", false);
    row("two ports", "localhost:" + port + ":" + port, false);

    row("evil.example", "evil.example", false);
    row("evil.example with our port", "evil.example:" + port, false);
    row("localhost as a subdomain", "localhost.evil.example", false);
    row("localhost as a subdomain with our port", "localhost.evil.example:" + port, false);
    row("127.0.0.1 as a subdomain", "127.0.0.1.nip.io", false);
    row("127.0.0.1 as a subdomain with our port", "127.0.0.1.nip.io:" + port, false);
    row("suffix of localhost", "evillocalhost", false);
    row("localhost with userinfo", "evil@localhost", false);
    row("unbracketed ::1", "::1", false);
    row("[::1] with junk after the bracket", "[::1]x:" + port, false);
    row("other loopback address", "127.0.0.2", false);
    row("0.0.0.0", "0.0.0.0", false);
    row("empty", "", false);
    row("only a port", ":" + port, false);
    row("only whitespace", "   ", false);
}

void TestLoopbackPolicy::hostIsAllowedOnlyForLoopbackNamesWithOurPort()
{
    QFETCH(QByteArray, host);
    QFETCH(bool, allowed);
    QCOMPARE(LoopbackPolicy::isAllowedHost(host, kPort), allowed);
}

void TestLoopbackPolicy::hostChecksTheGivenPortNotADefault()
{
    QVERIFY(LoopbackPolicy::isAllowedHost("127.0.0.1:80", 80));
    QVERIFY(!LoopbackPolicy::isAllowedHost("127.0.0.1:" + QByteArray::number(kPort), 80));
    QVERIFY(LoopbackPolicy::isAllowedHost("[::1]:65535", 65535));
    QVERIFY(!LoopbackPolicy::isAllowedHost("[::1]:65535", 1));
}

void TestLoopbackPolicy::originIsAllowedOnlyForHttpOnALoopbackHost_data()
{
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<bool>("allowed");

    auto row = [](const char *name, const QByteArray &origin, bool allowed) {
        QTest::newRow(name) << origin << allowed;
    };

    // Any port: a local web app (a dev server on :3000, an inspector) may call the broker.
    row("http://localhost:3000", "http://localhost:3000", true);
    row("http://localhost", "http://localhost", true);
    row("https://127.0.0.1", "https://127.0.0.1", true);
    row("http://127.0.0.1:7823", "http://127.0.0.1:7823", true);
    row("http://[::1]:8080", "http://[::1]:8080", true);
    row("https://[::1]", "https://[::1]", true);
    row("uppercase scheme and host", "HTTP://LOCALHOST:3000", true);

    // Browsers send "null" from sandboxed frames, file: pages and some redirects.
    row("null", "null", false);
    row("http://evil.example", "http://evil.example", false);
    row("https://evil.example:3000", "https://evil.example:3000", false);
    row("http://localhost.evil.example", "http://localhost.evil.example", false);
    row("http://127.0.0.1.nip.io", "http://127.0.0.1.nip.io", false);
    row("http://evillocalhost", "http://evillocalhost", false);
    row("file://", "file://", false);
    row("file:///home/user/page.html", "file:///home/user/page.html", false);
    row("ws://localhost", "ws://localhost", false);
    row("chrome-extension", "chrome-extension://abcdefghijklmnop", false);
    row("origin with path", "http://localhost:3000/path", false);
    row("origin with trailing slash", "http://localhost/", false);
    row("origin with query", "http://localhost?x=1", false);
    row("origin with fragment", "http://localhost#x", false);
    row("origin with userinfo", "http://evil.example@localhost", false);
    row("host without scheme", "localhost:3000", false);
    row("scheme-relative", "//localhost", false);
    row("http without authority", "http:localhost", false);
    row("port out of range", "http://localhost:99999", false);
    row("other loopback address", "http://127.0.0.2", false);
    row("empty", "", false);
    row("only whitespace", "  ", false);
}

void TestLoopbackPolicy::originIsAllowedOnlyForHttpOnALoopbackHost()
{
    QFETCH(QByteArray, origin);
    QFETCH(bool, allowed);
    QCOMPARE(LoopbackPolicy::isAllowedOrigin(origin), allowed);
}

QTEST_APPLESS_MAIN(TestLoopbackPolicy)
#include "tst_loopbackpolicy.moc"
