#include "http/ClientReply.h"
#include "http/ConnectionPool.h"
#include "http/HttpClient.h"

#include "LogWatch.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QScopeGuard>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <deque>
#include <memory>
#include <vector>

using namespace mcpbroker::http;
using Failure = ClientReply::Failure;
using Headers = QList<QPair<QByteArray, QByteArray>>;

Q_DECLARE_METATYPE(mcpbroker::http::ClientReply::Failure)

Q_LOGGING_CATEGORY(lcTest, "mcpbroker.test.httpclient")

namespace mcpbroker::http {
// How QCOMPARE prints a failure (found by argument-dependent lookup).
char *toString(ClientReply::Failure failure)
{
    const QString text = failure == ClientReply::Failure::None ? QStringLiteral("no failure")
                                                               : ClientReply::describe(failure);
    return qstrdup(qPrintable(QStringLiteral("Failure %1 (%2)").arg(int(failure)).arg(text)));
}
} // namespace mcpbroker::http

namespace {

// An HTTP server that says exactly what the test tells it to: it records every connection it
// accepts and every request it reads (framed by Content-Length, as HttpClient sends them), and
// answers a request with the next scripted answer, byte for byte. A request that finds no
// scripted answer waits until the test writes to its connection or closes it.
class ScriptedHttpServer : public QObject
{
    Q_OBJECT
public:
    enum class Then { KeepOpen, Close };

    struct Request
    {
        int connection = -1; // index in accept order
        QByteArray head;     // request line and header fields, with the blank line
        QByteArray body;

        QByteArray requestLine() const { return head.left(head.indexOf("\r\n")); }
        // Whether the head holds `line` ("Name: value") as a whole field line.
        bool hasFieldLine(const QByteArray &line) const
        {
            return head.contains("\r\n" + line + "\r\n");
        }
        int countFieldsNamed(const QByteArray &name) const
        {
            return int(head.toLower().count("\r\n" + name.toLower() + ':'));
        }
    };

    ScriptedHttpServer()
    {
        connect(&m_server, &QTcpServer::newConnection, this, &ScriptedHttpServer::accept);
    }
    ~ScriptedHttpServer() override
    {
        // The sockets go with m_server, after m_connections: they must not report back.
        for (const auto &c : m_connections)
            disconnect(c->socket, nullptr, this, nullptr);
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url(const QString &pathAndQuery) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(pathAndQuery));
    }

    // The next request read gets `bytes` (nothing when empty), then the connection stays open
    // or is closed.
    void answerNext(const QByteArray &bytes, Then then = Then::KeepOpen)
    {
        m_answers.push_back({bytes, then});
    }

    void write(int connection, const QByteArray &bytes)
    {
        QTcpSocket *socket = m_connections.at(size_t(connection))->socket;
        socket->write(bytes);
        socket->flush();
    }

    void close(int connection)
    {
        Connection &c = *m_connections.at(size_t(connection));
        c.closedByServer = true;
        c.socket->disconnectFromHost(); // after what was written; a FIN, not a reset
    }

    int connectionCount() const { return int(m_connections.size()); }
    // The client closed (or reset) `connection`, which the server had left open.
    bool closedByClient(int connection) const
    {
        const Connection &c = *m_connections.at(size_t(connection));
        return c.ended && !c.closedByServer;
    }
    const QList<Request> &requests() const { return m_requests; }
    // Every byte the server read, requests or not.
    QByteArray received() const
    {
        QByteArray all;
        for (const auto &c : m_connections)
            all += c->received;
        return all;
    }

private:
    struct Connection
    {
        QTcpSocket *socket = nullptr;
        QByteArray received;
        QByteArray unparsed;
        bool closedByServer = false;
        bool ended = false;
    };
    struct Answer
    {
        QByteArray bytes;
        Then then;
    };

    void accept()
    {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            const int index = int(m_connections.size());
            m_connections.push_back(std::make_unique<Connection>());
            m_connections.back()->socket = socket;
            connect(socket, &QTcpSocket::readyRead, this, [this, index] { read(index); });
            connect(socket, &QTcpSocket::disconnected, this,
                    [this, index] { m_connections.at(size_t(index))->ended = true; });
        }
    }

    void read(int index)
    {
        Connection &c = *m_connections.at(size_t(index));
        const QByteArray bytes = c.socket->readAll();
        c.received += bytes;
        c.unparsed += bytes;
        for (;;) {
            const qsizetype headEnd = c.unparsed.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            Request request;
            request.connection = index;
            request.head = c.unparsed.left(headEnd + 4);
            const qsizetype length = contentLength(request.head);
            if (c.unparsed.size() < headEnd + 4 + length)
                return;
            request.body = c.unparsed.mid(headEnd + 4, length);
            c.unparsed.remove(0, headEnd + 4 + length);
            m_requests.append(request);
            if (m_answers.empty())
                continue;
            const Answer answer = m_answers.front();
            m_answers.pop_front();
            if (!answer.bytes.isEmpty())
                write(index, answer.bytes);
            if (answer.then == Then::Close)
                close(index);
        }
    }

    static qsizetype contentLength(const QByteArray &head)
    {
        for (const QByteArray &line : head.split('\n')) {
            const QByteArray field = line.trimmed().toLower();
            if (field.startsWith("content-length:"))
                return field.mid(15).trimmed().toLongLong();
        }
        return 0;
    }

    QTcpServer m_server;
    std::vector<std::unique_ptr<Connection>> m_connections;
    std::deque<Answer> m_answers;
    QList<Request> m_requests;
};

QByteArray okAnswer(const QByteArray &body, const QByteArray &extraFields = {})
{
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n" + extraFields + "\r\n" + body;
}

QByteArray chunk(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

// Answers every proxy query with "no proxy": a proxy factory that sends HttpClient through
// QNetworkAccessManager to the test's server.
class NoProxyFactory : public QNetworkProxyFactory
{
public:
    QList<QNetworkProxy> queryProxy(const QNetworkProxyQuery &) override
    {
        return {QNetworkProxy(QNetworkProxy::NoProxy)};
    }
};

} // namespace

class TestHttpClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void postGoesOnTheWireWithTargetHostHeadersAndBody();
    void answerGivesStatusReasonHeadersAnyCaseAndBody();
    void secondRequestReusesTheKeptAliveConnection();
    void answerWithConnectionCloseIsNotReused();
    void chunkedAnswerIsReadableAsEachPieceArrives();
    void discardedStreamGivesItsConnectionBackWhenItEnds();
    void replyDiscardedOnItsLastBytesKeepsItsConnection();
    void bodyDelimitedByTheCloseOrCutShortByIt_data();
    void bodyDelimitedByTheCloseOrCutShortByIt();
    void requestOnAKeptAliveConnectionClosedUnansweredIsSentAgainOnANewOne();
    void requestAfterTheServerClosedAnIdleConnectionGoesOnANewOne();
    void requestOnANewConnectionClosedUnansweredIsNotSentAgain();
    void keptAliveConnectionClosedPartWayThroughTheAnswerIsNotSentAgain();
    void refusedConnectionFailsWithConnectionRefused();
    void malformedAnswerFailsAndTheConnectionIsClosed_data();
    void malformedAnswerFailsAndTheConnectionIsClosed();
    void redirectWithinTheOriginIsFollowedWithTheSameMethodAndBody_data();
    void redirectWithinTheOriginIsFollowedWithTheSameMethodAndBody();
    void redirectToAnotherOriginIsHandedToTheCaller();
    void redirectThatMayChangeTheMethodIsHandedToTheCaller_data();
    void redirectThatMayChangeTheMethodIsHandedToTheCaller();
    void endlessRedirectsEndWithTheLastRedirectHandedToTheCaller();
    void abortDuringTheAnswerFailsWithAbortedAndClosesTheConnection();
    void abortBeforeTheRequestWentOutSendsNothing();
    void headerWithALineBreakIsRefusedAndNothingIsSent_data();
    void headerWithALineBreakIsRefusedAndNothingIsSent();
    void usesOwnConnectionsOnlyForPlainHttpWithoutProxyOrUserInfo_data();
    void usesOwnConnectionsOnlyForPlainHttpWithoutProxyOrUserInfo();
    void networkAccessPathCarriesGetAndPost();
    void networkAccessPathMapsARefusedConnection();
    void networkAccessPathHandsARedirectToAnotherOriginToTheCaller();
    void noCredentialReachesALogLine();

private:
    ClientReply *send(const QByteArray &method, const QString &pathAndQuery,
                      const Headers &headers = {}, const QByteArray &body = {});
    // A QNetworkAccessManager that sends everything through a proxy factory (answering
    // "no proxy"), so that HttpClient uses it instead of connections of its own.
    static std::unique_ptr<QNetworkAccessManager> managerWithProxyFactory();
    static quint16 portWithNothingListening();

    std::unique_ptr<QNetworkAccessManager> m_network;
    std::unique_ptr<HttpClient> m_client;
    std::unique_ptr<ScriptedHttpServer> m_server;
};

void TestHttpClient::initTestCase()
{
    // The proxy settings of the machine that runs the tests must not decide the path taken.
    QNetworkProxyFactory::setUseSystemConfiguration(false);
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void TestHttpClient::init()
{
    m_network = std::make_unique<QNetworkAccessManager>();
    m_client = std::make_unique<HttpClient>(m_network.get());
    m_server = std::make_unique<ScriptedHttpServer>();
    QVERIFY(m_server->listen());
    QVERIFY(m_client->usesOwnConnections(m_server->url(QStringLiteral("/"))));
}

void TestHttpClient::cleanup()
{
    m_client.reset();
    m_network.reset();
    m_server.reset();
}

ClientReply *TestHttpClient::send(const QByteArray &method, const QString &pathAndQuery,
                                  const Headers &headers, const QByteArray &body)
{
    return m_client->send({method, m_server->url(pathAndQuery), headers, body});
}

std::unique_ptr<QNetworkAccessManager> TestHttpClient::managerWithProxyFactory()
{
    auto network = std::make_unique<QNetworkAccessManager>();
    network->setProxyFactory(new NoProxyFactory); // the manager owns it
    return network;
}

quint16 TestHttpClient::portWithNothingListening()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

void TestHttpClient::postGoesOnTheWireWithTargetHostHeadersAndBody()
{
    m_server->answerNext(okAnswer("ok"));
    const QByteArray body = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
    ClientReply *reply = send("POST", QStringLiteral("/mcp/v1?cursor=a%20b&x=1"),
                              {{"Content-Type", "application/json"},
                               {"Accept", "application/json, text/event-stream"},
                               {"Mcp-Session-Id", "session-42"}},
                              body);
    QTRY_VERIFY(!reply->isRunning());
    QCOMPARE(reply->failure(), Failure::None);

    QCOMPARE(m_server->requests().size(), 1);
    const ScriptedHttpServer::Request &request = m_server->requests().constFirst();
    QCOMPARE(request.requestLine(), QByteArray("POST /mcp/v1?cursor=a%20b&x=1 HTTP/1.1"));
    QVERIFY2(request.hasFieldLine("Host: 127.0.0.1:" + QByteArray::number(m_server->port())),
             request.head.constData());
    QVERIFY2(request.hasFieldLine("Content-Type: application/json"), request.head.constData());
    QVERIFY2(request.hasFieldLine("Accept: application/json, text/event-stream"),
             request.head.constData());
    QVERIFY2(request.hasFieldLine("Mcp-Session-Id: session-42"), request.head.constData());
    QVERIFY2(request.hasFieldLine("Content-Length: " + QByteArray::number(body.size())),
             request.head.constData());
    QCOMPARE(request.countFieldsNamed("Content-Length"), 1);
    QCOMPARE(request.countFieldsNamed("Host"), 1);
    QCOMPARE(request.body, body);
}

void TestHttpClient::answerGivesStatusReasonHeadersAnyCaseAndBody()
{
    const QByteArray body = R"({"jsonrpc":"2.0","id":1,"result":{}})";
    m_server->answerNext("HTTP/1.1 202 Accepted For Now\r\n"
                         "content-type: application/json\r\n"
                         "MCP-SESSION-ID: abc\r\n"
                         "X-Twice: one\r\n"
                         "X-Twice: two\r\n"
                         "Content-Length: "
                         + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    ClientReply *reply = send("POST", QStringLiteral("/mcp"), {}, "{}");
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);

    QCOMPARE(reply->failure(), Failure::None);
    QVERIFY(!reply->isRunning());
    QCOMPARE(reply->status(), 202);
    QCOMPARE(reply->reasonPhrase(), QByteArray("Accepted For Now"));
    QCOMPARE(reply->header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(reply->header("mcp-session-id"), QByteArray("abc"));
    QCOMPARE(reply->header("Mcp-Session-Id"), QByteArray("abc"));
    QCOMPARE(reply->header("x-twice"), QByteArray("one, two"));
    QCOMPARE(reply->header("X-Absent"), QByteArray());
    QCOMPARE(reply->bytesAvailable(), qint64(body.size()));
    QCOMPARE(reply->readAll(), body);
    QCOMPARE(reply->bytesAvailable(), qint64(0));
}

void TestHttpClient::secondRequestReusesTheKeptAliveConnection()
{
    m_server->answerNext(okAnswer("first"));
    m_server->answerNext(okAnswer("second"));

    ClientReply *first = send("POST", QStringLiteral("/mcp"), {}, "1");
    QTRY_VERIFY(!first->isRunning());
    QCOMPARE(first->readAll(), QByteArray("first"));
    ClientReply *second = send("POST", QStringLiteral("/mcp"), {}, "2");
    QTRY_VERIFY(!second->isRunning());
    QCOMPARE(second->failure(), Failure::None);
    QCOMPARE(second->readAll(), QByteArray("second"));

    QCOMPARE(m_server->requests().size(), 2);
    QCOMPARE(m_server->connectionCount(), 1);
    QCOMPARE(m_server->requests().at(1).connection, 0);
    QCOMPARE(m_server->requests().at(1).body, QByteArray("2"));
}

void TestHttpClient::answerWithConnectionCloseIsNotReused()
{
    // The server says close but leaves the connection open: only the client can keep it from
    // being used again.
    m_server->answerNext(okAnswer("first", "Connection: close\r\n"));
    m_server->answerNext(okAnswer("second"));

    ClientReply *first = send("GET", QStringLiteral("/mcp"));
    QTRY_VERIFY(!first->isRunning());
    QCOMPARE(first->failure(), Failure::None);
    QCOMPARE(first->readAll(), QByteArray("first"));
    QTRY_VERIFY(m_server->closedByClient(0));

    ClientReply *second = send("GET", QStringLiteral("/mcp"));
    QTRY_VERIFY(!second->isRunning());
    QCOMPARE(second->failure(), Failure::None);
    QCOMPARE(second->readAll(), QByteArray("second"));
    QCOMPARE(m_server->connectionCount(), 2);
    QCOMPARE(m_server->requests().at(1).connection, 1);
}

void TestHttpClient::chunkedAnswerIsReadableAsEachPieceArrives()
{
    ClientReply *reply = send("GET", QStringLiteral("/mcp"), {{"Accept", "text/event-stream"}});
    // Read as an SSE reader does: whatever is there, each time readyRead says so.
    QByteArray streamed;
    connect(reply, &ClientReply::readyRead, reply,
            [&streamed, reply] { streamed += reply->readAll(); });
    const auto stopReading = qScopeGuard([reply] { reply->disconnect(); });
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(m_server->requests().size(), 1);

    m_server->write(0,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n");
    QTRY_COMPARE(reply->status(), 200);
    QCOMPARE(reply->header("content-type"), QByteArray("text/event-stream"));
    QVERIFY(streamed.isEmpty());

    const QByteArray firstEvent = "event: message\ndata: {\"id\":1}\n\n";
    m_server->write(0, chunk(firstEvent));
    QTRY_COMPARE(streamed, firstEvent);
    QVERIFY(reply->isRunning());
    QCOMPARE(finished.count(), 0);

    // A chunk split across two writes: its first half is readable before the second is sent.
    const QByteArray secondEvent = "data: {\"id\":2}\n\n";
    const QByteArray secondChunk = chunk(secondEvent);
    const qsizetype cut = secondChunk.indexOf("\"id\"");
    m_server->write(0, secondChunk.left(cut));
    QTRY_COMPARE(streamed, firstEvent + "data: {");
    QVERIFY(reply->isRunning());
    QCOMPARE(finished.count(), 0);

    m_server->write(0, secondChunk.mid(cut));
    QTRY_COMPARE(streamed, firstEvent + secondEvent);
    QVERIFY(reply->isRunning());
    QCOMPARE(finished.count(), 0);

    m_server->write(0, "0\r\n\r\n");
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(reply->failure(), Failure::None);
    QVERIFY(!reply->isRunning());
    QCOMPARE(streamed, firstEvent + secondEvent);
    QCOMPARE(reply->bytesAvailable(), qint64(0));
    QVERIFY(!m_server->closedByClient(0));
}

// What StreamableHttpClient does once the response it waited for arrived on a POST's event
// stream: it discards the reply. The server ends the stream right after; the connection then
// serves the next request instead of being closed.
void TestHttpClient::discardedStreamGivesItsConnectionBackWhenItEnds()
{
    ClientReply *reply = send("POST", QStringLiteral("/mcp"), {}, "call");
    QTRY_COMPARE(m_server->requests().size(), 1);
    m_server->write(0,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    + chunk("data: {\"id\":1}\n\n"));
    QTRY_VERIFY(reply->bytesAvailable() > 0);
    QPointer<ClientReply> discarded(reply);
    QSignalSpy finished(reply, &ClientReply::finished);
    reply->discard();
    m_server->write(0, "0\r\n\r\n");
    QTRY_VERIFY(!discarded);
    QCOMPARE(finished.count(), 0); // a discarded reply reports nothing

    m_server->answerNext(okAnswer("next"));
    ClientReply *next = send("POST", QStringLiteral("/mcp"), {}, "again");
    QTRY_VERIFY(!next->isRunning());
    QCOMPARE(next->readAll(), QByteArray("next"));
    QCOMPARE(m_server->connectionCount(), 1);
    QVERIFY(!m_server->closedByClient(0));
}

// The answer arrives whole; the slot that reads it discards the reply at once (as
// StreamableHttpClient does with a response): the connection was already given back.
void TestHttpClient::replyDiscardedOnItsLastBytesKeepsItsConnection()
{
    m_server->answerNext(okAnswer("whole"));
    ClientReply *reply = send("POST", QStringLiteral("/mcp"), {}, "call");
    QByteArray read;
    connect(reply, &ClientReply::readyRead, this, [&read, reply] {
        read += reply->readAll();
        reply->discard();
    });
    QTRY_COMPARE(read, QByteArray("whole"));

    m_server->answerNext(okAnswer("next"));
    ClientReply *next = send("POST", QStringLiteral("/mcp"), {}, "again");
    QTRY_VERIFY(!next->isRunning());
    QCOMPARE(next->readAll(), QByteArray("next"));
    QCOMPARE(m_server->connectionCount(), 1);
}

void TestHttpClient::bodyDelimitedByTheCloseOrCutShortByIt_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<Failure>("failure");
    QTest::addColumn<QByteArray>("body");

    QTest::newRow("no content-length: the close ends the body")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
            << Failure::None << QByteArray("all of it");
    QTest::newRow("http/1.0 without content-length")
            << QByteArray("HTTP/1.0 200 OK\r\n\r\nold school") << Failure::None
            << QByteArray("old school");
    QTest::newRow("content-length cut short")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            << Failure::RemoteClosed << QByteArray();
    QTest::newRow("chunked without its last chunk")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            << Failure::RemoteClosed << QByteArray();
    QTest::newRow("head cut short")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-") << Failure::RemoteClosed << QByteArray();
}

void TestHttpClient::bodyDelimitedByTheCloseOrCutShortByIt()
{
    QFETCH(QByteArray, answer);
    QFETCH(Failure, failure);
    QFETCH(QByteArray, body);

    m_server->answerNext(answer, ScriptedHttpServer::Then::Close);
    ClientReply *reply = send("GET", QStringLiteral("/mcp"));
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);

    QCOMPARE(reply->failure(), failure);
    if (failure == Failure::None) {
        QCOMPARE(reply->status(), 200);
        QCOMPARE(reply->readAll(), body);
    }
    // A new connection that the server closed is not a reason to send the request again.
    QCOMPARE(m_server->requests().size(), 1);
    QCOMPARE(m_server->connectionCount(), 1);
}

void TestHttpClient::requestOnAKeptAliveConnectionClosedUnansweredIsSentAgainOnANewOne()
{
    m_server->answerNext(okAnswer("first"));
    ClientReply *first = send("POST", QStringLiteral("/mcp"), {}, "1");
    QTRY_VERIFY(!first->isRunning());
    QCOMPARE(first->failure(), Failure::None);

    // The server reads the next request on the kept-alive connection and closes it unanswered,
    // as a server does that closes an idle connection just as the request arrives.
    m_server->answerNext({}, ScriptedHttpServer::Then::Close);
    m_server->answerNext(okAnswer("second"));
    ClientReply *second = send("POST", QStringLiteral("/mcp"), {{"X-Attempt", "same"}}, "2");
    QTRY_VERIFY(!second->isRunning());

    QCOMPARE(second->failure(), Failure::None);
    QCOMPARE(second->status(), 200);
    QCOMPARE(second->readAll(), QByteArray("second"));
    QCOMPARE(m_server->connectionCount(), 2);
    QCOMPARE(m_server->requests().size(), 3);
    const ScriptedHttpServer::Request &closedOn = m_server->requests().at(1);
    const ScriptedHttpServer::Request &sentAgain = m_server->requests().at(2);
    QCOMPARE(closedOn.connection, 0);
    QCOMPARE(sentAgain.connection, 1);
    QCOMPARE(sentAgain.head, closedOn.head);
    QCOMPARE(sentAgain.body, QByteArray("2"));
    QVERIFY(sentAgain.hasFieldLine("X-Attempt: same"));
}

void TestHttpClient::requestAfterTheServerClosedAnIdleConnectionGoesOnANewOne()
{
    m_server->answerNext(okAnswer("first"));
    ClientReply *first = send("GET", QStringLiteral("/mcp"));
    QTRY_VERIFY(!first->isRunning());
    QCOMPARE(first->failure(), Failure::None);

    auto *pool = m_client->findChild<ConnectionPool *>();
    QVERIFY(pool);
    QCOMPARE(pool->idleCount(), 1);
    m_server->close(0);
    QTRY_COMPARE(pool->idleCount(), 0);

    m_server->answerNext(okAnswer("second"));
    ClientReply *second = send("GET", QStringLiteral("/mcp"));
    QTRY_VERIFY(!second->isRunning());
    QCOMPARE(second->failure(), Failure::None);
    QCOMPARE(second->readAll(), QByteArray("second"));
    QCOMPARE(m_server->connectionCount(), 2);
    QCOMPARE(m_server->requests().size(), 2);
    QCOMPARE(m_server->requests().at(1).connection, 1);
}

void TestHttpClient::requestOnANewConnectionClosedUnansweredIsNotSentAgain()
{
    m_server->answerNext({}, ScriptedHttpServer::Then::Close);
    ClientReply *reply = send("POST", QStringLiteral("/mcp"), {}, "once");
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);

    QCOMPARE(reply->failure(), Failure::RemoteClosed);
    QCOMPARE(reply->status(), 0);
    QCOMPARE(ClientReply::describe(reply->failure()),
             QStringLiteral("the server closed the connection"));
    QCOMPARE(m_server->requests().size(), 1);
    QCOMPARE(m_server->connectionCount(), 1);
}

void TestHttpClient::keptAliveConnectionClosedPartWayThroughTheAnswerIsNotSentAgain()
{
    m_server->answerNext(okAnswer("first"));
    ClientReply *first = send("POST", QStringLiteral("/mcp"), {}, "1");
    QTRY_VERIFY(!first->isRunning());

    // The server began to answer: it saw the request, which must not be sent twice.
    m_server->answerNext("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\npart",
                         ScriptedHttpServer::Then::Close);
    ClientReply *second = send("POST", QStringLiteral("/mcp"), {}, "2");
    QTRY_VERIFY(!second->isRunning());

    QCOMPARE(second->failure(), Failure::RemoteClosed);
    QCOMPARE(m_server->requests().size(), 2);
    QCOMPARE(m_server->connectionCount(), 1);
}

void TestHttpClient::refusedConnectionFailsWithConnectionRefused()
{
    const quint16 port = portWithNothingListening();
    QVERIFY(port != 0);
    ClientReply *reply = m_client->send(
            {"POST", QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port)), {}, "{}"});
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);

    QCOMPARE(reply->failure(), Failure::ConnectionRefused);
    QCOMPARE(reply->status(), 0);
    QVERIFY(!reply->isRunning());
    QCOMPARE(ClientReply::describe(reply->failure()), QStringLiteral("connection refused"));
}

void TestHttpClient::malformedAnswerFailsAndTheConnectionIsClosed_data()
{
    QTest::addColumn<QByteArray>("answer");

    QTest::newRow("not http at all") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    QTest::newRow("status code with a letter") << QByteArray("HTTP/1.1 2x0 OK\r\n\r\n");
    QTest::newRow("field without a colon")
            << QByteArray("HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n");
    QTest::newRow("conflicting content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx");
    QTest::newRow("chunk size that is not hex")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
}

void TestHttpClient::malformedAnswerFailsAndTheConnectionIsClosed()
{
    QFETCH(QByteArray, answer);

    m_server->answerNext(answer); // and the connection stays open: the bytes alone decide
    ClientReply *reply = send("GET", QStringLiteral("/mcp"));
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);

    QCOMPARE(reply->failure(), Failure::MalformedResponse);
    QVERIFY(!reply->isRunning());
    QTRY_VERIFY(m_server->closedByClient(0));
    QCOMPARE(m_server->requests().size(), 1);
}

void TestHttpClient::redirectWithinTheOriginIsFollowedWithTheSameMethodAndBody_data()
{
    QTest::addColumn<QByteArray>("statusLine");
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<QByteArray>("expectedTarget");

    QTest::newRow("307, absolute path")
            << QByteArray("HTTP/1.1 307 Temporary Redirect") << QByteArray("/moved?to=here")
            << QByteArray("/moved?to=here");
    QTest::newRow("308, relative path") << QByteArray("HTTP/1.1 308 Permanent Redirect")
                                        << QByteArray("elsewhere") << QByteArray("/base/elsewhere");
    QTest::newRow("307, absolute url on the same origin")
            << QByteArray("HTTP/1.1 307 Temporary Redirect")
            << QByteArray("http://127.0.0.1:%1/abs") << QByteArray("/abs");
}

void TestHttpClient::redirectWithinTheOriginIsFollowedWithTheSameMethodAndBody()
{
    QFETCH(QByteArray, statusLine);
    QFETCH(QByteArray, location);
    QFETCH(QByteArray, expectedTarget);
    location.replace("%1", QByteArray::number(m_server->port()));

    m_server->answerNext(statusLine + "\r\nLocation: " + location
                         + "\r\nContent-Length: 13\r\n\r\nnot for you!\n");
    m_server->answerNext(okAnswer("arrived"));
    const QByteArray body = R"({"method":"tools/list"})";
    ClientReply *reply = send("POST", QStringLiteral("/base/mcp"),
                              {{"Authorization", "Bearer same-origin-token"}}, body);
    QTRY_VERIFY(!reply->isRunning());

    QCOMPARE(reply->failure(), Failure::None);
    QCOMPARE(reply->status(), 200);
    // Nothing of the redirect's own body.
    QCOMPARE(reply->readAll(), QByteArray("arrived"));
    QCOMPARE(m_server->requests().size(), 2);
    const ScriptedHttpServer::Request &followed = m_server->requests().at(1);
    QCOMPARE(followed.requestLine(), "POST " + expectedTarget + " HTTP/1.1");
    QCOMPARE(followed.body, body);
    QVERIFY(followed.hasFieldLine("Authorization: Bearer same-origin-token"));
    QVERIFY(followed.hasFieldLine("Host: 127.0.0.1:" + QByteArray::number(m_server->port())));
    QCOMPARE(m_server->connectionCount(), 1); // the redirect's connection stayed alive for it
}

void TestHttpClient::redirectToAnotherOriginIsHandedToTheCaller()
{
    ScriptedHttpServer other;
    QVERIFY(other.listen());
    other.answerNext(okAnswer("should not get here"));
    const QByteArray location = other.url(QStringLiteral("/mcp")).toEncoded();

    m_server->answerNext("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location
                         + "\r\nContent-Length: 5\r\n\r\nmoved");
    ClientReply *reply
            = send("POST", QStringLiteral("/mcp"), {{"Authorization", "Bearer stays-home"}}, "{}");
    QTRY_VERIFY(!reply->isRunning());

    QCOMPARE(reply->failure(), Failure::None);
    QCOMPARE(reply->status(), 307);
    QCOMPARE(reply->header("Location"), location);
    QCOMPARE(reply->readAll(), QByteArray("moved"));
    QCOMPARE(m_server->requests().size(), 1);
    QCOMPARE(other.connectionCount(), 0);
}

void TestHttpClient::redirectThatMayChangeTheMethodIsHandedToTheCaller_data()
{
    QTest::addColumn<QByteArray>("statusLine");

    QTest::newRow("301") << QByteArray("HTTP/1.1 301 Moved Permanently");
    QTest::newRow("302") << QByteArray("HTTP/1.1 302 Found");
    QTest::newRow("303") << QByteArray("HTTP/1.1 303 See Other");
}

void TestHttpClient::redirectThatMayChangeTheMethodIsHandedToTheCaller()
{
    QFETCH(QByteArray, statusLine);

    m_server->answerNext(statusLine + "\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n");
    m_server->answerNext(okAnswer("should not get here"));
    ClientReply *reply = send("POST", QStringLiteral("/mcp"), {}, "{}");
    QTRY_VERIFY(!reply->isRunning());

    QCOMPARE(reply->failure(), Failure::None);
    QCOMPARE(reply->status(), statusLine.mid(9, 3).toInt());
    QCOMPARE(reply->header("Location"), QByteArray("/moved"));
    QCOMPARE(m_server->requests().size(), 1);
}

void TestHttpClient::endlessRedirectsEndWithTheLastRedirectHandedToTheCaller()
{
    constexpr int kAnswers = 20;
    for (int i = 0; i < kAnswers; ++i)
        m_server->answerNext("HTTP/1.1 307 Temporary Redirect\r\nLocation: /loop"
                             + QByteArray::number(i) + "\r\nContent-Length: 0\r\n\r\n");
    ClientReply *reply = send("GET", QStringLiteral("/mcp"));
    QTRY_VERIFY(!reply->isRunning());

    QCOMPARE(reply->failure(), Failure::None);
    QCOMPARE(reply->status(), 307);
    const int requests = int(m_server->requests().size());
    QVERIFY2(requests > 1 && requests < kAnswers, QByteArray::number(requests).constData());
    QCOMPARE(reply->header("Location"), "/loop" + QByteArray::number(requests - 1));
}

void TestHttpClient::abortDuringTheAnswerFailsWithAbortedAndClosesTheConnection()
{
    m_server->answerNext("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + chunk("data: first\n\n"));
    ClientReply *reply = send("GET", QStringLiteral("/mcp"));
    QSignalSpy readyRead(reply, &ClientReply::readyRead);
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_VERIFY(readyRead.count() >= 1);
    QCOMPARE(reply->readAll(), QByteArray("data: first\n\n"));
    QVERIFY(reply->isRunning());

    reply->abort();
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(reply->failure(), Failure::Aborted);
    QVERIFY(!reply->isRunning());
    QCOMPARE(ClientReply::describe(reply->failure()), QStringLiteral("the request was aborted"));
    QTRY_VERIFY(m_server->closedByClient(0));

    // A second abort changes nothing.
    reply->abort();
    QCOMPARE(finished.count(), 1);
    QCOMPARE(reply->failure(), Failure::Aborted);

    m_server->answerNext(okAnswer("fresh"));
    ClientReply *next = send("GET", QStringLiteral("/mcp"));
    QTRY_VERIFY(!next->isRunning());
    QCOMPARE(next->failure(), Failure::None);
    QCOMPARE(next->readAll(), QByteArray("fresh"));
    QCOMPARE(m_server->requests().size(), 2);
    QCOMPARE(m_server->requests().at(1).connection, 1);
}

void TestHttpClient::abortBeforeTheRequestWentOutSendsNothing()
{
    ClientReply *aborted = send("POST", QStringLiteral("/mcp"), {}, "never");
    QSignalSpy finished(aborted, &ClientReply::finished);
    aborted->abort();
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(aborted->failure(), Failure::Aborted);

    // A request sent after it and answered: had the aborted one gone out, it would have
    // connected first.
    m_server->answerNext(okAnswer("after"));
    ClientReply *after = send("POST", QStringLiteral("/mcp"), {}, "after");
    QTRY_VERIFY(!after->isRunning());
    QCOMPARE(after->failure(), Failure::None);

    QCOMPARE(finished.count(), 1);
    QCOMPARE(aborted->failure(), Failure::Aborted);
    QCOMPARE(m_server->connectionCount(), 1);
    QCOMPARE(m_server->requests().size(), 1);
    QCOMPARE(m_server->requests().constFirst().body, QByteArray("after"));
}

void TestHttpClient::headerWithALineBreakIsRefusedAndNothingIsSent_data()
{
    QTest::addColumn<bool>("ownConnections");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("value");

    for (const bool own : {true, false}) {
        const char *path = own ? "own connection" : "network access";
        QTest::addRow("%s: CRLF in a value", path)
                << own << QByteArray("Mcp-Session-Id") << QByteArray("abc\r\nX-Injected: yes");
        QTest::addRow("%s: LF in a value", path)
                << own << QByteArray("Mcp-Session-Id") << QByteArray("abc\nX-Injected: yes");
        QTest::addRow("%s: CR in a value", path)
                << own << QByteArray("Mcp-Session-Id") << QByteArray("abc\rX-Injected: yes");
        QTest::addRow("%s: CRLF in a name", path)
                << own << QByteArray("X-Injected: yes\r\nMcp-Session-Id") << QByteArray("abc");
    }
}

void TestHttpClient::headerWithALineBreakIsRefusedAndNothingIsSent()
{
    QFETCH(bool, ownConnections);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, value);

    std::unique_ptr<QNetworkAccessManager> network;
    std::unique_ptr<HttpClient> client;
    HttpClient *sender = m_client.get();
    if (!ownConnections) {
        network = managerWithProxyFactory();
        client = std::make_unique<HttpClient>(network.get());
        sender = client.get();
    }
    const QUrl url = m_server->url(QStringLiteral("/mcp"));
    QCOMPARE(sender->usesOwnConnections(url), ownConnections);

    m_server->answerNext(okAnswer("should not get here"));
    ClientReply *refused = sender->send(
            {"POST", url, {{"Content-Type", "application/json"}, {name, value}}, "{}"});
    QSignalSpy finished(refused, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);
    QVERIFY2(refused->failure() != Failure::None, m_server->received().constData());
    QCOMPARE(refused->status(), 0);

    // A good request after it: the server sees that one only.
    m_server->answerNext(okAnswer("good"));
    ClientReply *good
            = sender->send({"POST",
                            url,
                            {{"Content-Type", "application/json"}, {"Mcp-Session-Id", "abc"}},
                            "good"});
    QTRY_VERIFY(!good->isRunning());
    QCOMPARE(good->failure(), Failure::None);
    QCOMPARE(m_server->requests().size(), 1);
    QCOMPARE(m_server->requests().constFirst().body, QByteArray("good"));
    QVERIFY2(!m_server->received().contains("X-Injected"), m_server->received().constData());
}

void TestHttpClient::usesOwnConnectionsOnlyForPlainHttpWithoutProxyOrUserInfo_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("managerSetup");
    QTest::addColumn<bool>("own");

    const QString none = QStringLiteral("default proxy (none)");
    QTest::newRow("http, address") << QStringLiteral("http://127.0.0.1:8080/mcp") << none << true;
    QTest::newRow("http, host name, default port")
            << QStringLiteral("http://localhost/mcp") << none << true;
    QTest::newRow("http, IPv6") << QStringLiteral("http://[::1]:8080/mcp") << none << true;
    QTest::newRow("https") << QStringLiteral("https://127.0.0.1:8443/mcp") << none << false;
    QTest::newRow("user and password")
            << QStringLiteral("http://user:pw@127.0.0.1:8080/mcp") << none << false;
    QTest::newRow("user only") << QStringLiteral("http://user@127.0.0.1:8080/mcp") << none << false;
    QTest::newRow("other scheme") << QStringLiteral("ws://127.0.0.1:8080/mcp") << none << false;
    QTest::newRow("no host") << QStringLiteral("http:///mcp") << none << false;
    QTest::newRow("manager says no proxy")
            << QStringLiteral("http://127.0.0.1:8080/mcp") << QStringLiteral("no proxy") << true;
    QTest::newRow("manager has an http proxy")
            << QStringLiteral("http://127.0.0.1:8080/mcp") << QStringLiteral("http proxy") << false;
    QTest::newRow("manager has a proxy factory") << QStringLiteral("http://127.0.0.1:8080/mcp")
                                                 << QStringLiteral("proxy factory") << false;
    QTest::newRow("application has an http proxy")
            << QStringLiteral("http://mcp.example.com/mcp")
            << QStringLiteral("application http proxy") << false;
    // Qt never sends a loopback address through a proxy, and neither does QNetworkAccessManager.
    QTest::newRow("application has an http proxy, loopback url")
            << QStringLiteral("http://127.0.0.1:8080/mcp")
            << QStringLiteral("application http proxy") << true;
}

void TestHttpClient::usesOwnConnectionsOnlyForPlainHttpWithoutProxyOrUserInfo()
{
    QFETCH(QString, url);
    QFETCH(QString, managerSetup);
    QFETCH(bool, own);

    std::unique_ptr<QNetworkAccessManager> network;
    if (managerSetup == QLatin1String("proxy factory")) {
        network = managerWithProxyFactory();
    } else {
        network = std::make_unique<QNetworkAccessManager>();
        if (managerSetup == QLatin1String("no proxy"))
            network->setProxy(QNetworkProxy::NoProxy);
        else if (managerSetup == QLatin1String("http proxy"))
            network->setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, "proxy.invalid", 3128));
    }
    if (managerSetup == QLatin1String("application http proxy"))
        QNetworkProxy::setApplicationProxy(
                QNetworkProxy(QNetworkProxy::HttpProxy, "proxy.invalid", 3128));
    HttpClient client(network.get());
    const bool uses = client.usesOwnConnections(QUrl(url));
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
    QCOMPARE(uses, own);
}

void TestHttpClient::networkAccessPathCarriesGetAndPost()
{
    auto network = managerWithProxyFactory();
    HttpClient client(network.get());
    QVERIFY(!client.usesOwnConnections(m_server->url(QStringLiteral("/mcp"))));

    m_server->answerNext("HTTP/1.1 200 Fine\r\nContent-Type: text/event-stream\r\n"
                         "Mcp-Session-Id: nam-1\r\nContent-Length: 12\r\n\r\ndata: got\n\n\n");
    ClientReply *get = client.send({"GET",
                                    m_server->url(QStringLiteral("/mcp?x=1")),
                                    {{"Accept", "text/event-stream"}},
                                    {}});
    QSignalSpy getFinished(get, &ClientReply::finished);
    QTRY_COMPARE(getFinished.count(), 1);
    QCOMPARE(get->failure(), Failure::None);
    QCOMPARE(get->status(), 200);
    QCOMPARE(get->reasonPhrase(), QByteArray("Fine"));
    QCOMPARE(get->header("mcp-session-id"), QByteArray("nam-1"));
    QCOMPARE(get->header("Content-Type"), QByteArray("text/event-stream"));
    QCOMPARE(get->readAll(), QByteArray("data: got\n\n\n"));
    QCOMPARE(m_server->requests().size(), 1);
    QVERIFY(m_server->requests().at(0).requestLine().startsWith("GET /mcp?x=1 HTTP/1."));
    QVERIFY(m_server->requests().at(0).hasFieldLine("Accept: text/event-stream"));

    const QByteArray body = R"({"jsonrpc":"2.0","id":2,"method":"ping"})";
    m_server->answerNext("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                         "Content-Length: 2\r\n\r\n{}");
    ClientReply *post
            = client.send({"POST",
                           m_server->url(QStringLiteral("/mcp")),
                           {{"Content-Type", "application/json"}, {"Mcp-Session-Id", "nam-1"}},
                           body});
    QSignalSpy postFinished(post, &ClientReply::finished);
    QTRY_COMPARE(postFinished.count(), 1);
    QCOMPARE(post->failure(), Failure::None);
    QCOMPARE(post->status(), 201);
    QCOMPARE(post->reasonPhrase(), QByteArray("Created"));
    QCOMPARE(post->header("content-type"), QByteArray("application/json"));
    QCOMPARE(post->readAll(), QByteArray("{}"));
    QCOMPARE(m_server->requests().size(), 2);
    const ScriptedHttpServer::Request &sent = m_server->requests().at(1);
    QVERIFY(sent.requestLine().startsWith("POST /mcp HTTP/1."));
    QVERIFY(sent.hasFieldLine("Mcp-Session-Id: nam-1"));
    QCOMPARE(sent.body, body);
}

void TestHttpClient::networkAccessPathMapsARefusedConnection()
{
    auto network = managerWithProxyFactory();
    HttpClient client(network.get());
    const quint16 port = portWithNothingListening();
    QVERIFY(port != 0);
    const QUrl url(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port));
    QVERIFY(!client.usesOwnConnections(url));

    ClientReply *reply = client.send({"POST", url, {{"Content-Type", "application/json"}}, "{}"});
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(reply->failure(), Failure::ConnectionRefused);
    QCOMPARE(reply->status(), 0);
    QVERIFY(!reply->isRunning());
}

void TestHttpClient::networkAccessPathHandsARedirectToAnotherOriginToTheCaller()
{
    auto network = managerWithProxyFactory();
    HttpClient client(network.get());
    ScriptedHttpServer other;
    QVERIFY(other.listen());
    const QByteArray location = other.url(QStringLiteral("/mcp")).toEncoded();

    m_server->answerNext("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location
                         + "\r\nContent-Length: 0\r\n\r\n");
    ClientReply *reply = client.send(
            {"POST",
             m_server->url(QStringLiteral("/mcp")),
             {{"Content-Type", "application/json"}, {"Authorization", "Bearer stays-home"}},
             "{}"});
    QSignalSpy finished(reply, &ClientReply::finished);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(reply->status(), 307);
    QCOMPARE(reply->failure(), Failure::None);
    QCOMPARE(other.connectionCount(), 0);
}

void TestHttpClient::noCredentialReachesALogLine()
{
    LogWatch log(LogWatch::Forward::Nowhere);
    log.install();
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=true"));
    const auto restoreRules = qScopeGuard([] { QLoggingCategory::setFilterRules(QString()); });
    const QByteArray secret = log.newSecret("secret");
    const Headers headers
            = {{"Authorization", "Bearer " + secret}, {"Content-Type", "application/json"}};
    qCDebug(lcTest) << "canary";

    // The paths where a request is logged if anywhere: answered, redirected, sent again,
    // malformed, refused, and through QNetworkAccessManager.
    m_server->answerNext(okAnswer("ok"));
    m_server->answerNext("HTTP/1.1 307 Temporary Redirect\r\nLocation: /moved\r\n"
                         "Content-Length: 0\r\n\r\n");
    m_server->answerNext({}, ScriptedHttpServer::Then::Close);
    m_server->answerNext(okAnswer("moved"));
    m_server->answerNext("HTTP/1.1 ??? Nope\r\n\r\n");
    for (int i = 0; i < 3; ++i) {
        ClientReply *reply = send("POST", QStringLiteral("/mcp"), headers, "{}");
        QTRY_VERIFY(!reply->isRunning());
    }
    QCOMPARE(m_server->requests().size(), 5);
    QVERIFY(m_server->requests().constLast().hasFieldLine("Authorization: Bearer " + secret));

    const QUrl nobody(QStringLiteral("http://127.0.0.1:%1/mcp").arg(portWithNothingListening()));
    ClientReply *refused = m_client->send({"POST", nobody, headers, "{}"});
    QTRY_VERIFY(!refused->isRunning());
    ClientReply *unsendable = m_client->send({"POST", m_server->url(QStringLiteral("/mcp")),
                                              headers + Headers{{"X-Bad", "a\r\nb"}}, "{}"});
    QTRY_VERIFY(!unsendable->isRunning());

    auto network = managerWithProxyFactory();
    HttpClient throughManager(network.get());
    m_server->answerNext(okAnswer("ok"));
    ClientReply *managed
            = throughManager.send({"POST", m_server->url(QStringLiteral("/mcp")), headers, "{}"});
    QTRY_VERIFY(!managed->isRunning());
    QCOMPARE(m_server->requests().size(), 6);

    log.uninstall();
    QVERIFY2(log.lines().contains(QStringLiteral("canary")), "the log was not captured");
    VERIFY_NO_LOG_LEAKS(log);
}

QTEST_GUILESS_MAIN(TestHttpClient)
#include "tst_httpclient.moc"
