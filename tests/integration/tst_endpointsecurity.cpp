// The broker's HTTP surface under raw requests that no well-behaved client library sends:
// DNS-rebinding (foreign Host, foreign Origin), broken JSON, missing/unknown/ended sessions,
// unsupported protocol versions, oversized bodies and JSON-RPC batches per protocol version;
// requests without the bearer grant every client needs. One `mcp-broker serve` with one fixture
// upstream serves the whole suite (every test opens sessions of its own, all with the broker's
// default grant unless a test says otherwise); cleanup() checks it survived each test.

#include "BrokerProcess.h"
#include "McpHttp.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <memory>

using namespace mcpbroker::integration;

namespace {

constexpr qsizetype kBodyLimit = 4 * 1024 * 1024; // 4 MiB, from the product contract

int errorCodeOf(const QJsonObject &message)
{
    return message.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt();
}

// A ping whose params carry `size` bytes in total (padding in _meta), to probe the body limit.
QByteArray pingOfSize(qsizetype size, int id)
{
    const QByteArray head = "{\"jsonrpc\":\"2.0\",\"id\":" + QByteArray::number(id)
            + ",\"method\":\"ping\",\"params\":{\"_meta\":{\"pad\":\"";
    const QByteArray tail = "\"}}}";
    return head + QByteArray(size - head.size() - tail.size(), 'x') + tail;
}

} // namespace

class EndpointSecurityTest : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<UpstreamServer> m_upstream;
    std::unique_ptr<BrokerProcess> m_broker;
    McpHttp m_http;      // sends the broker's grant
    McpHttp m_anonymous; // sends none

    QString diagnostics() const
    {
        return m_broker->diagnostics() + (m_upstream ? m_upstream->diagnostics() : QString());
    }

    QUrl endpoint(const QString &path) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_broker->port()).arg(path));
    }

    QByteArray hostHeader(const QByteArray &host) const
    {
        return host + ':' + QByteArray::number(m_broker->port());
    }

    McpHttp &client(bool withGrant) { return withGrant ? m_http : m_anonymous; }

    // The challenge of a 401 for `path`: where the protected resource metadata is (RFC 9728).
    QByteArray challengeFor(const QString &path) const
    {
        return "Bearer resource_metadata=\"http://127.0.0.1:" + QByteArray::number(m_broker->port())
                + "/.well-known/oauth-protected-resource" + path.toUtf8() + '"';
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        m_upstream = UpstreamServer::fixture(QStringLiteral("fx"));
        m_upstream->start();
        QVERIFY2(m_upstream->waitUntilListening(), qPrintable(m_upstream->diagnostics()));
        m_broker = std::make_unique<BrokerProcess>();
        const CliResult added = m_broker->add(QStringLiteral("fx"), m_upstream->url());
        QVERIFY2(added.succeeded(), qPrintable(added.describe()));
        QVERIFY2(m_broker->start(), qPrintable(diagnostics()));
        m_http.setDefaultHeaders(m_broker->authorization());
        QString status;
        QVERIFY2(m_broker->waitUntilReady({QStringLiteral("fx")}, 30'000, &status),
                 qPrintable(status + diagnostics()));
    }

    void cleanup()
    {
        QVERIFY2(m_broker->isRunning(),
                 qPrintable(QStringLiteral("the broker died during this test") + diagnostics()));
    }

    void cleanupTestCase()
    {
        m_broker.reset();
        m_upstream.reset();
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    // A page's request is refused for its Host (or Origin) alone: with the grant (a rebinding
    // page cannot have it, but the check must not depend on that) and without (no 401 that
    // would tell the page where to ask for one).
    void foreignHostIsForbidden_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<bool>("withGrant");
        for (const bool withGrant : {true, false}) {
            const char *grant = withGrant ? "with grant" : "without grant";
            for (const QString &path : {QStringLiteral("/mcp"), QStringLiteral("/mcp/fx")}) {
                QTest::addRow("%s evil.example %s", qPrintable(path), grant)
                        << path << QByteArray("evil.example") << withGrant;
                QTest::addRow("%s localhost.evil.example %s", qPrintable(path), grant)
                        << path << QByteArray("localhost.evil.example") << withGrant;
                QTest::addRow("%s 127.0.0.1.nip.io %s", qPrintable(path), grant)
                        << path << QByteArray("127.0.0.1.nip.io") << withGrant;
            }
        }
    }

    void foreignHostIsForbidden()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, host);
        QFETCH(bool, withGrant);
        const HttpResult answer = client(withGrant).post(
                endpoint(path), McpHttp::initializeRequest(QStringLiteral("2025-11-25")),
                {{"Host", hostHeader(host)}});
        QVERIFY2(answer.status == 403, qPrintable(answer.describe()));
        QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
    }

    void foreignHostCannotReadStatus()
    {
        const HttpResult answer
                = m_http.get(m_broker->statusUrl(), {{"Host", hostHeader("evil.example")}});
        QVERIFY2(answer.status == 403, qPrintable(answer.describe()));
        QVERIFY2(!answer.body.contains("\"servers\""), qPrintable(answer.describe()));
    }

    void foreignOriginIsForbidden_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("origin");
        QTest::addColumn<bool>("withGrant");
        for (const bool withGrant : {true, false}) {
            const char *grant = withGrant ? "with grant" : "without grant";
            for (const QString &path : {QStringLiteral("/mcp"), QStringLiteral("/mcp/fx")}) {
                QTest::addRow("%s evil.example %s", qPrintable(path), grant)
                        << path << QByteArray("http://evil.example") << withGrant;
                QTest::addRow("%s localhost.evil.example %s", qPrintable(path), grant)
                        << path << QByteArray("http://localhost.evil.example") << withGrant;
                QTest::addRow("%s https evil %s", qPrintable(path), grant)
                        << path << QByteArray("https://evil.example:443") << withGrant;
                QTest::addRow("%s null %s", qPrintable(path), grant)
                        << path << QByteArray("null") << withGrant;
            }
        }
    }

    void foreignOriginIsForbidden()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, origin);
        QFETCH(bool, withGrant);
        const HttpResult answer = client(withGrant).post(
                endpoint(path), McpHttp::initializeRequest(QStringLiteral("2025-11-25")),
                {{"Origin", origin}});
        QVERIFY2(answer.status == 403, qPrintable(answer.describe()));
        QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
    }

    void loopbackHostAndOriginAreAccepted_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<QByteArray>("origin"); // empty: none
        QTest::newRow("Host localhost") << QByteArray("localhost") << QByteArray();
        QTest::newRow("Host 127.0.0.1") << QByteArray("127.0.0.1") << QByteArray();
        QTest::newRow("Origin http://localhost:<port>")
                << QByteArray("127.0.0.1") << QByteArray("http://localhost");
        QTest::newRow("Origin http://127.0.0.1:<port>")
                << QByteArray("localhost") << QByteArray("http://127.0.0.1");
    }

    void loopbackHostAndOriginAreAccepted()
    {
        QFETCH(QByteArray, host);
        QFETCH(QByteArray, origin);
        RawHeaders headers{{"Host", hostHeader(host)}};
        if (!origin.isEmpty())
            headers.append({QByteArray("Origin"), hostHeader(origin)});
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-11-25"),
                             &session, &why, headers),
                 qPrintable(why));
        const HttpResult listed = m_http.postInSession(
                session, McpHttp::request(QStringLiteral("tools/list"), {}, 2), headers);
        QVERIFY2(listed.status == 200 && listed.response(2).contains(QStringLiteral("result")),
                 qPrintable(listed.describe()));
        QVERIFY(m_http.close(session).status / 100 == 2);
    }

    void malformedJsonIsAParseErrorWithStatus400_data()
    {
        QTest::addColumn<bool>("inSession");
        QTest::newRow("before initialize") << false;
        QTest::newRow("in a session") << true;
    }

    void malformedJsonIsAParseErrorWithStatus400()
    {
        QFETCH(bool, inSession);
        const QByteArray broken = "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ";
        HttpResult answer;
        McpSession session;
        if (inSession) {
            QString why;
            QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-11-25"),
                                 &session, &why),
                     qPrintable(why));
            answer = m_http.postInSession(session, broken);
        } else {
            answer = m_http.post(endpoint(QStringLiteral("/mcp")), broken);
        }
        QVERIFY2(answer.status == 400, qPrintable(answer.describe()));
        const QList<QJsonObject> messages = answer.messages();
        QVERIFY2(messages.size() == 1, qPrintable(answer.describe()));
        QCOMPARE(errorCodeOf(messages.first()), -32700);
        QVERIFY2(messages.first().value(QStringLiteral("id")).isNull(),
                 qPrintable(answer.describe()));
    }

    void requestWithoutSessionIsRejectedWith400()
    {
        const HttpResult answer = m_http.post(endpoint(QStringLiteral("/mcp")),
                                              McpHttp::request(QStringLiteral("tools/list"), {}, 3),
                                              {{"MCP-Protocol-Version", "2025-11-25"}});
        QVERIFY2(answer.status == 400, qPrintable(answer.describe()));
        QVERIFY2(!answer.body.contains("\"tools\""), qPrintable(answer.describe()));
    }

    void unknownSessionIdIsNotFound_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("aggregated") << QStringLiteral("/mcp");
        QTest::newRow("per server") << QStringLiteral("/mcp/fx");
    }

    void unknownSessionIdIsNotFound()
    {
        QFETCH(QString, path);
        McpSession unknown{endpoint(path), randomSecret("no-such-session-"), "2025-11-25", {}};
        const HttpResult answer = m_http.call(unknown, QStringLiteral("tools/list"));
        QVERIFY2(answer.status == 404, qPrintable(answer.describe()));
    }

    void sessionOfOneEndpointIsUnknownToAnother()
    {
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp/fx")), QStringLiteral("2025-11-25"),
                             &session, &why),
                 qPrintable(why));
        McpSession elsewhere = session;
        elsewhere.url = endpoint(QStringLiteral("/mcp"));
        const HttpResult answer = m_http.call(elsewhere, QStringLiteral("tools/list"));
        QVERIFY2(answer.status == 404, qPrintable(answer.describe()));
    }

    void unsupportedProtocolVersionHeaderIsRejectedWith400_data()
    {
        QTest::addColumn<QByteArray>("version");
        QTest::newRow("from the past") << QByteArray("2024-10-07");
        QTest::newRow("from the future") << QByteArray("2099-01-01");
        QTest::newRow("not a version") << QByteArray("latest");
    }

    void unsupportedProtocolVersionHeaderIsRejectedWith400()
    {
        QFETCH(QByteArray, version);
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-11-25"),
                             &session, &why),
                 qPrintable(why));
        session.protocolVersion = version;
        const HttpResult answer = m_http.call(session, QStringLiteral("tools/list"));
        QVERIFY2(answer.status == 400, qPrintable(answer.describe()));
        QVERIFY2(!answer.body.contains("\"tools\""), qPrintable(answer.describe()));
    }

    void bodyOverTheLimitIsRejectedWith413_data()
    {
        // How the body is sent: over a socket with Content-Length or chunked (stops sending once
        // answered, like curl or Node's fetch), or by QNAM (reads the answer only after it has
        // sent the whole body, so it sees the 413 only if the broker drains before closing).
        QTest::addColumn<QString>("sender");
        QTest::addColumn<qsizetype>("size");
        QTest::addColumn<int>("status");
        const qsizetype under = kBodyLimit - 64 * 1024;
        QTest::newRow("64 KiB under 4 MiB, Content-Length: answered") << "length" << under << 200;
        QTest::newRow("64 KiB under 4 MiB, chunked: answered") << "chunked" << under << 200;
        QTest::newRow("1 byte over 4 MiB, Content-Length: 413")
                << "length" << kBodyLimit + 1 << 413;
        QTest::newRow("6 MiB, chunked: 413") << "chunked" << qsizetype(6) * 1024 * 1024 << 413;
        QTest::newRow("1 byte over 4 MiB, sent whole by QNAM: 413")
                << "qnam" << kBodyLimit + 1 << 413;
    }

    void bodyOverTheLimitIsRejectedWith413()
    {
        QFETCH(QString, sender);
        QFETCH(qsizetype, size);
        QFETCH(int, status);
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-11-25"),
                             &session, &why),
                 qPrintable(why));
        const QByteArray body = pingOfSize(size, 4);
        HttpResult answer;
        if (sender == QLatin1String("qnam")) {
            answer = m_http.postInSession(session, body);
        } else {
            QByteArray head = "POST /mcp HTTP/1.1\r\nHost: " + hostHeader("127.0.0.1")
                    + "\r\nContent-Type: application/json\r\nAccept: application/json, "
                      "text/event-stream\r\n";
            for (const auto &[name, value] :
                 McpHttp::sessionHeaders(session, m_broker->authorization()))
                head += name + ": " + value + "\r\n";
            QByteArray encoded = body;
            if (sender == QLatin1String("chunked")) {
                head += "Transfer-Encoding: chunked\r\n\r\n";
                encoded.clear();
                for (qsizetype at = 0; at < body.size(); at += 60'000) {
                    const QByteArray piece = body.mid(at, 60'000);
                    encoded += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
                }
                encoded += "0\r\n\r\n";
            } else {
                head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
            }
            answer = McpHttp::exchangeOverSocket(session.url, head, encoded);
        }
        QVERIFY2(answer.status == status, qPrintable(answer.describe().left(600)));
        if (status == 200)
            QVERIFY2(answer.response(4).contains(QStringLiteral("result")),
                     qPrintable(answer.describe().left(600)));
    }

    void batchIsRejectedFrom2025_06_18On_data()
    {
        QTest::addColumn<QString>("version");
        QTest::newRow("2025-06-18") << QStringLiteral("2025-06-18");
        QTest::newRow("2025-11-25") << QStringLiteral("2025-11-25");
    }

    void batchIsRejectedFrom2025_06_18On()
    {
        QFETCH(QString, version);
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), version, &session, &why),
                 qPrintable(why));
        QCOMPARE(QString::fromLatin1(session.protocolVersion), version);
        const QByteArray batch = '[' + McpHttp::request(QStringLiteral("ping"), {}, 7) + ','
                + McpHttp::request(QStringLiteral("tools/list"), {}, 8) + ']';
        const HttpResult answer = m_http.postInSession(session, batch);
        QVERIFY2(answer.status == 400, qPrintable(answer.describe()));
        QVERIFY2(answer.response(7).isEmpty() && answer.response(8).isEmpty(),
                 qPrintable(answer.describe()));
        const QList<QJsonObject> messages = answer.messages();
        QVERIFY2(messages.size() == 1 && messages.first().contains(QStringLiteral("error")),
                 qPrintable(answer.describe()));
    }

    void batchIsAnsweredOn2025_03_26()
    {
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-03-26"),
                             &session, &why),
                 qPrintable(why));
        QCOMPARE(session.protocolVersion, QByteArray("2025-03-26"));
        const QByteArray batch = '[' + McpHttp::request(QStringLiteral("ping"), {}, 7) + ','
                + McpHttp::request(QStringLiteral("tools/list"), {}, 8) + ','
                + McpHttp::notification(QStringLiteral("notifications/roots/list_changed")) + ']';
        const HttpResult answer = m_http.postInSession(session, batch);
        QVERIFY2(answer.status == 200, qPrintable(answer.describe()));
        QVERIFY2(answer.response(7).contains(QStringLiteral("result")),
                 qPrintable(answer.describe()));
        const QJsonArray tools = answer.response(8)
                                         .value(QStringLiteral("result"))
                                         .toObject()
                                         .value(QStringLiteral("tools"))
                                         .toArray();
        QVERIFY2(!tools.isEmpty(), qPrintable(answer.describe()));
    }

    void deleteEndsTheSession_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("aggregated") << QStringLiteral("/mcp");
        QTest::newRow("per server") << QStringLiteral("/mcp/fx");
    }

    void deleteEndsTheSession()
    {
        QFETCH(QString, path);
        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(path), QStringLiteral("2025-11-25"), &session, &why),
                 qPrintable(why));
        const HttpResult before = m_http.call(session, QStringLiteral("ping"));
        QVERIFY2(before.status == 200, qPrintable(before.describe()));

        const HttpResult deleted = m_http.close(session);
        QVERIFY2(deleted.status == 200 || deleted.status == 204, qPrintable(deleted.describe()));

        const HttpResult after = m_http.call(session, QStringLiteral("ping"));
        QVERIFY2(after.status == 404, qPrintable(after.describe()));
        const HttpResult again = m_http.close(session);
        QVERIFY2(again.status == 404, qPrintable(again.describe()));
    }

    void requestWithoutGrantIsRefusedWith401_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("kind");
        for (const QString &path : {QStringLiteral("/mcp"), QStringLiteral("/mcp/fx")}) {
            for (const char *kind : {"initialize", "request in a session", "GET stream", "DELETE"})
                QTest::addRow("%s %s", qPrintable(path), kind) << path << QString::fromLatin1(kind);
        }
    }

    // Every method on both kinds of endpoint; a session id is no credential of its own.
    void requestWithoutGrantIsRefusedWith401()
    {
        QFETCH(QString, path);
        QFETCH(QString, kind);
        McpSession session;
        if (kind != QLatin1String("initialize")) {
            QString why;
            QVERIFY2(m_http.open(endpoint(path), QStringLiteral("2025-11-25"), &session, &why),
                     qPrintable(why));
        }
        HttpResult answer;
        if (kind == QLatin1String("initialize")) {
            answer = m_anonymous.post(endpoint(path),
                                      McpHttp::initializeRequest(QStringLiteral("2025-11-25")));
        } else if (kind == QLatin1String("request in a session")) {
            answer = m_anonymous.postInSession(
                    session, McpHttp::request(QStringLiteral("tools/list"), {}, 5));
        } else if (kind == QLatin1String("GET stream")) {
            answer = m_anonymous.get(
                    endpoint(path),
                    McpHttp::sessionHeaders(session, {{"Accept", "text/event-stream"}}), 5'000);
        } else {
            answer = m_anonymous.send("DELETE", endpoint(path), McpHttp::sessionHeaders(session));
        }
        QVERIFY2(answer.status == 401, qPrintable(answer.describe()));
        QCOMPARE(answer.header("WWW-Authenticate"), challengeFor(path));
        QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
        QVERIFY2(!answer.body.contains("\"tools\""), qPrintable(answer.describe()));
        const QList<QJsonObject> messages = answer.messages();
        QVERIFY2(messages.size() == 1 && messages.first().contains(QStringLiteral("error")),
                 qPrintable(answer.describe()));

        // The session (when there is one) is untouched: its owner goes on using it.
        if (kind != QLatin1String("initialize")) {
            const HttpResult after = m_http.call(session, QStringLiteral("ping"));
            QVERIFY2(after.status == 200, qPrintable(after.describe()));
            QVERIFY(m_http.close(session).status / 100 == 2);
        }
    }

    void statusNeedsNoGrantAndShowsNoToken()
    {
        const HttpResult answer = m_anonymous.get(m_broker->statusUrl());
        QVERIFY2(answer.status == 200, qPrintable(answer.describe()));
        QVERIFY2(answer.body.contains("\"fx\""), qPrintable(answer.describe()));
        const QByteArray secret = grantTokenSecret(m_broker->token());
        QVERIFY(!secret.isEmpty());
        QVERIFY2(leakedPieces(answer.body, {secret}).isEmpty(),
                 "GET /status shows (part of) the grant's token");
    }

    void unknownServerPathIsNotFound()
    {
        const HttpResult answer
                = m_http.post(endpoint(QStringLiteral("/mcp/no-such-server")),
                              McpHttp::initializeRequest(QStringLiteral("2025-11-25")));
        QVERIFY2(answer.status == 404, qPrintable(answer.describe()));
        QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
    }
};

QTEST_GUILESS_MAIN(EndpointSecurityTest)
#include "tst_endpointsecurity.moc"
