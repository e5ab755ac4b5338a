#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "http/SseEvent.h"

#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <functional>
#include <memory>

using namespace mcpbroker::http;

namespace {

// One HTTP response as a client reads it off the wire.
struct WireResponse
{
    int status = 0;
    QByteArray head;
    QByteArray body; // de-chunked
};

qsizetype findLineEnd(const QByteArray &data, qsizetype from)
{
    return data.indexOf("\r\n", from);
}

// The complete responses at the start of `data` (Content-Length or chunked framing), in order.
QList<WireResponse> completeResponses(const QByteArray &data)
{
    QList<WireResponse> responses;
    qsizetype pos = 0;
    for (;;) {
        const qsizetype headEnd = data.indexOf("\r\n\r\n", pos);
        if (headEnd < 0)
            return responses;
        WireResponse response;
        response.head = data.mid(pos, headEnd + 4 - pos);
        response.status = response.head.mid(9, 3).toInt();
        qsizetype bodyPos = headEnd + 4;
        const QByteArray lowerHead = response.head.toLower();
        if (lowerHead.contains("transfer-encoding: chunked")) {
            for (;;) {
                const qsizetype sizeEnd = findLineEnd(data, bodyPos);
                if (sizeEnd < 0)
                    return responses;
                bool ok = false;
                const qsizetype size = data.mid(bodyPos, sizeEnd - bodyPos).toLongLong(&ok, 16);
                if (!ok || data.size() < sizeEnd + 2 + size + 2)
                    return responses;
                response.body += data.mid(sizeEnd + 2, size);
                bodyPos = sizeEnd + 2 + size + 2;
                if (size == 0)
                    break;
            }
        } else {
            const qsizetype clPos = lowerHead.indexOf("content-length: ");
            const qsizetype clEnd = clPos < 0 ? -1 : findLineEnd(lowerHead, clPos);
            const qsizetype length =
                    clPos < 0 ? 0 : lowerHead.mid(clPos + 16, clEnd - clPos - 16).toLongLong();
            if (data.size() < bodyPos + length)
                return responses;
            response.body = data.mid(bodyPos, length);
            bodyPos += length;
        }
        responses.append(response);
        pos = bodyPos;
    }
}

// A raw TCP client that collects everything the server sends.
class RawClient
{
public:
    explicit RawClient(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead,
                         [this] { received += socket.readAll(); });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }

    bool waitConnected()
    {
        return QTest::qWaitFor(
                [this] { return socket.state() == QAbstractSocket::ConnectedState; }, 5000);
    }

    QTcpSocket socket;
    QByteArray received;
};

QByteArray getRequest(const QByteArray &path, const QByteArray &extraHeaders = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extraHeaders + "\r\n";
}

} // namespace

class TestHttpServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void listensOnAnEphemeralPortOnLoopbackOnly();
    void getAndPostRoundTripThroughQNetworkAccessManager();
    void largeBodyIsReceivedInFull();
    void keepAliveConnectionAnswersTwoRequestsInOrder();
    void pipelinedRequestsAreHandledOneAtATimeInOrder();
    void connectionCloseRequestIsAnsweredAndTheConnectionCloses();
    void http10RequestWithoutKeepAliveClosesTheConnection();
    void headRequestGetsHeadersWithoutBody();
    void streamedResponseReachesTheClientOneChunkAtATime();
    void clientClosingDuringAStreamEmitsDisconnectedOnce();
    void oversizedBodyIsRefusedWith413BeforeItIsRead();
    void malformedRequestIsAnsweredWith400AndClosed();
    void secondListenOnTheSamePortFailsWithAClearMessage();
    void closingTheServerDisconnectsOpenStreams();
    void idleKeepAliveConnectionIsClosedButAStreamIsNot();
    void responderIgnoresASecondResponse();

private:
    std::unique_ptr<HttpServer> startServer(HttpServer::Options options = {});

    std::function<void(const HttpRequest &, HttpResponder *)> m_handler;
    QList<HttpRequest> m_requests;
    QList<QPointer<HttpResponder>> m_responders;
};

void TestHttpServer::initTestCase()
{
    QNetworkProxyFactory::setUseSystemConfiguration(false);
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void TestHttpServer::init()
{
    m_requests.clear();
    m_responders.clear();
    // Default: echo method, path and body.
    m_handler = [](const HttpRequest &request, HttpResponder *responder) {
        responder->send(HttpResponse::text(
                200, request.method + ' ' + request.path.toUtf8() + ' ' + request.body));
    };
}

void TestHttpServer::cleanup()
{
    m_handler = nullptr;
}

std::unique_ptr<HttpServer> TestHttpServer::startServer(HttpServer::Options options)
{
    auto server = std::make_unique<HttpServer>(
            [this](const HttpRequest &request, HttpResponder *responder) {
                m_requests.append(request);
                m_responders.append(responder);
                if (m_handler)
                    m_handler(request, responder);
            },
            options);
    const auto result = server->listen(0);
    if (!result.ok())
        qWarning() << result.error().message;
    return result.ok() ? std::move(server) : nullptr;
}

void TestHttpServer::listensOnAnEphemeralPortOnLoopbackOnly()
{
    auto server = startServer();
    QVERIFY(server);
    QVERIFY(server->port() != 0);

    const auto listeners = server->findChildren<QTcpServer *>();
    QVERIFY(!listeners.isEmpty());
    for (const QTcpServer *listener : listeners) {
        QVERIFY(listener->isListening());
        QVERIFY2(listener->serverAddress().isLoopback(),
                 qPrintable(listener->serverAddress().toString()));
        QCOMPARE(listener->serverPort(), server->port());
    }

    // Any non-loopback address of this machine is refused.
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.isLoopback() || address.isLinkLocal())
            continue;
        QTcpSocket socket;
        QSignalSpy failed(&socket, &QTcpSocket::errorOccurred);
        socket.connectToHost(address, server->port());
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1
                                         || socket.state() == QAbstractSocket::ConnectedState,
                                 5000);
        QVERIFY2(socket.state() != QAbstractSocket::ConnectedState,
                 qPrintable(address.toString()));
    }
}

void TestHttpServer::getAndPostRoundTripThroughQNetworkAccessManager()
{
    auto server = startServer();
    QVERIFY(server);
    QNetworkAccessManager manager;
    const QString base = QStringLiteral("http://127.0.0.1:%1").arg(server->port());

    std::unique_ptr<QNetworkReply> get(
            manager.get(QNetworkRequest(QUrl(base + "/hello%20world?x=1"))));
    QTRY_VERIFY(get->isFinished());
    QCOMPARE(get->error(), QNetworkReply::NoError);
    QCOMPARE(get->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(get->readAll(), QByteArray("GET /hello world "));
    QCOMPARE(get->header(QNetworkRequest::ContentTypeHeader).toString(),
             QStringLiteral("text/plain; charset=utf-8"));

    QNetworkRequest postRequest(QUrl(base + "/mcp"));
    postRequest.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
    std::unique_ptr<QNetworkReply> post(manager.post(postRequest, QByteArray(R"({"a":1})")));
    QTRY_VERIFY(post->isFinished());
    QCOMPARE(post->error(), QNetworkReply::NoError);
    QCOMPARE(post->readAll(), QByteArray(R"(POST /mcp {"a":1})"));

    QCOMPARE(m_requests.size(), 2);
    QCOMPARE(m_requests.at(0).query.queryItemValue("x"), QStringLiteral("1"));
    QVERIFY(m_requests.at(1).peerAddress.isLoopback());
    QCOMPARE(m_requests.at(1).header("content-type"), QByteArray("application/json"));
}

void TestHttpServer::largeBodyIsReceivedInFull()
{
    auto server = startServer();
    QVERIFY(server);
    m_handler = [](const HttpRequest &request, HttpResponder *responder) {
        responder->send(HttpResponse::text(200, QByteArray::number(request.body.size())));
    };
    QByteArray body(3 * 1024 * 1024 + 17, 'x');
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/big").arg(server->port())));
    request.setHeader(QNetworkRequest::ContentTypeHeader, "application/octet-stream");
    std::unique_ptr<QNetworkReply> reply(manager.post(request, body));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
    QCOMPARE(reply->error(), QNetworkReply::NoError);
    QCOMPARE(reply->readAll(), QByteArray::number(body.size()));
    QCOMPARE(m_requests.size(), 1);
    QCOMPARE(m_requests.at(0).body, body);
}

void TestHttpServer::keepAliveConnectionAnswersTwoRequestsInOrder()
{
    auto server = startServer();
    QVERIFY(server);
    RawClient client(server->port());
    QVERIFY(client.waitConnected());

    client.socket.write(getRequest("/one"));
    QTRY_COMPARE(completeResponses(client.received).size(), 1);
    client.socket.write("POST /two HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc");
    QTRY_COMPARE(completeResponses(client.received).size(), 2);

    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.at(0).status, 200);
    QCOMPARE(responses.at(0).body, QByteArray("GET /one "));
    QCOMPARE(responses.at(1).body, QByteArray("POST /two abc"));
    QVERIFY(!responses.at(0).head.toLower().contains("connection: close"));
    QCOMPARE(client.socket.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(server->connectionCount(), 1);
}

void TestHttpServer::pipelinedRequestsAreHandledOneAtATimeInOrder()
{
    auto server = startServer();
    QVERIFY(server);
    // The first request is answered later, the second at once.
    m_handler = [](const HttpRequest &request, HttpResponder *responder) {
        if (request.path != QLatin1String("/slow"))
            responder->send(HttpResponse::text(200, "fast"));
    };
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    client.socket.write(getRequest("/slow") + getRequest("/fast"));

    QTRY_COMPARE(m_requests.size(), 1);
    // Both requests arrived in one segment, but the second waits for the first's answer.
    QCOMPARE(m_requests.at(0).path, QStringLiteral("/slow"));
    QVERIFY(client.received.isEmpty());

    QVERIFY(m_responders.at(0));
    m_responders.at(0)->send(HttpResponse::text(200, "slow"));
    QTRY_COMPARE(completeResponses(client.received).size(), 2);
    QCOMPARE(m_requests.size(), 2);
    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.at(0).body, QByteArray("slow"));
    QCOMPARE(responses.at(1).body, QByteArray("fast"));
}

void TestHttpServer::connectionCloseRequestIsAnsweredAndTheConnectionCloses()
{
    auto server = startServer();
    QVERIFY(server);
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    QSignalSpy closed(&client.socket, &QTcpSocket::disconnected);
    // The pipelined request after "close" is never served.
    client.socket.write(getRequest("/bye", "Connection: close\r\n") + getRequest("/never"));

    QTRY_COMPARE(closed.count(), 1);
    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses.at(0).body, QByteArray("GET /bye "));
    QVERIFY(responses.at(0).head.contains("Connection: close\r\n"));
    QCOMPARE(m_requests.size(), 1);
    QTRY_COMPARE(server->connectionCount(), 0);
}

void TestHttpServer::http10RequestWithoutKeepAliveClosesTheConnection()
{
    auto server = startServer();
    QVERIFY(server);
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    QSignalSpy closed(&client.socket, &QTcpSocket::disconnected);
    client.socket.write("GET /old HTTP/1.0\r\n\r\n");

    QTRY_COMPARE(closed.count(), 1);
    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses.at(0).body, QByteArray("GET /old "));
    QVERIFY(responses.at(0).head.contains("Connection: close\r\n"));
}

void TestHttpServer::headRequestGetsHeadersWithoutBody()
{
    auto server = startServer();
    QVERIFY(server);
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    client.socket.write("HEAD /h HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + getRequest("/after"));

    // Were the HEAD body sent, it would be taken for the start of the next response.
    QTRY_VERIFY(client.received.contains("GET /after "));
    QVERIFY(client.received.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(client.received.contains("Content-Length: 8\r\n")); // of "HEAD /h "
    QVERIFY(!client.received.contains("HEAD /h "));
}

void TestHttpServer::streamedResponseReachesTheClientOneChunkAtATime()
{
    auto server = startServer();
    QVERIFY(server);
    m_handler = [](const HttpRequest &request, HttpResponder *responder) {
        if (request.path == QLatin1String("/events"))
            QVERIFY(responder->startStream(200, {{"Content-Type", "text/event-stream"}}));
        else
            responder->send(HttpResponse::empty(204));
    };
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    client.socket.write(getRequest("/events", "Accept: text/event-stream\r\n"));

    QTRY_VERIFY(client.received.contains("\r\n\r\n"));
    QVERIFY(client.received.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(client.received.contains("Transfer-Encoding: chunked\r\n"));
    QVERIFY(client.received.contains("Content-Type: text/event-stream\r\n"));
    QPointer<HttpResponder> responder = m_responders.value(0);
    QVERIFY(responder);
    QVERIFY(responder->isStreaming());

    // Each event must reach the client before the next one is written: nothing waits for
    // more data or for the stream's end.
    for (int i = 0; i < 3; ++i) {
        const QByteArray number = QByteArray::number(i);
        const QByteArray event = SseEvent{number, "message", "payload " + number, -1}.serialize();
        const QByteArray chunk = QByteArray::number(event.size(), 16) + "\r\n" + event + "\r\n";
        QVERIFY(!client.received.contains(chunk));
        QVERIFY(responder->write(event));
        QTRY_VERIFY(client.received.endsWith(chunk));
    }
    responder->endStream();
    QVERIFY(responder->isFinished());
    QVERIFY(!responder->isStreaming());
    QTRY_VERIFY(client.received.endsWith("\r\n0\r\n\r\n"));

    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.size(), 1);
    QVERIFY(responses.at(0).body.startsWith("id: 0\nevent: message\ndata: payload 0\n\n"));
    // The connection stays usable and the finished responder is released.
    client.socket.write(getRequest("/next"));
    QTRY_COMPARE(completeResponses(client.received).size(), 2);
    QTRY_VERIFY(responder.isNull());
}

void TestHttpServer::clientClosingDuringAStreamEmitsDisconnectedOnce()
{
    auto server = startServer();
    QVERIFY(server);
    m_handler = [](const HttpRequest &, HttpResponder *responder) {
        responder->startStream(200, {{"Content-Type", "text/event-stream"}});
    };
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    client.socket.write(getRequest("/events"));
    QTRY_COMPARE(m_responders.size(), 1);
    QPointer<HttpResponder> responder = m_responders.at(0);
    QVERIFY(responder);
    QSignalSpy disconnected(responder.data(), &HttpResponder::disconnected);
    // What a handler typically does: stop writing when told.
    bool writeAfterDisconnect = true;
    connect(responder.data(), &HttpResponder::disconnected, this, [&] {
        writeAfterDisconnect = responder->write("late");
        QVERIFY(!responder->isConnected());
    });
    QTRY_VERIFY(client.received.contains("\r\n\r\n"));

    client.socket.close();
    QTRY_COMPARE(disconnected.count(), 1);
    QVERIFY(!writeAfterDisconnect);
    QTRY_VERIFY(responder.isNull()); // released, and the QPointer knows
    QCOMPARE(disconnected.count(), 1);
    QTRY_COMPARE(server->connectionCount(), 0);
}

void TestHttpServer::oversizedBodyIsRefusedWith413BeforeItIsRead()
{
    HttpServer::Options options;
    options.limits.maxBodyBytes = 1024;
    auto server = startServer(options);
    QVERIFY(server);
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    QSignalSpy closed(&client.socket, &QTcpSocket::disconnected);
    // Only the head: the server must not wait for a body it will refuse anyway.
    client.socket.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1025\r\n\r\n");

    QTRY_COMPARE(closed.count(), 1);
    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses.at(0).status, 413);
    QVERIFY(responses.at(0).head.contains("Connection: close\r\n"));
    QVERIFY(m_requests.isEmpty());
}

void TestHttpServer::malformedRequestIsAnsweredWith400AndClosed()
{
    auto server = startServer();
    QVERIFY(server);
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    QSignalSpy closed(&client.socket, &QTcpSocket::disconnected);
    // A good request, then garbage: the good one is answered first, in order.
    client.socket.write(getRequest("/ok") + "GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n");

    QTRY_COMPARE(closed.count(), 1);
    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.size(), 2);
    QCOMPARE(responses.at(0).status, 200);
    QCOMPARE(responses.at(1).status, 400);
    QVERIFY(responses.at(1).head.contains("Content-Type: text/plain"));
    QVERIFY(!responses.at(1).body.isEmpty());
    QCOMPARE(m_requests.size(), 1);
}

void TestHttpServer::secondListenOnTheSamePortFailsWithAClearMessage()
{
    auto first = startServer();
    QVERIFY(first);
    HttpServer second([](const HttpRequest &, HttpResponder *) {});
    const auto result = second.listen(first->port());
    QVERIFY(!result.ok());
    QVERIFY2(result.error().message.contains(
                     QStringLiteral("Port %1 on 127.0.0.1 is already in use").arg(first->port())),
             qPrintable(result.error().message));
    QVERIFY(result.error().message.contains(QLatin1String("--port")));
    QCOMPARE(second.port(), quint16(0));
    // The first server is unaffected.
    RawClient client(first->port());
    QVERIFY(client.waitConnected());
}

void TestHttpServer::closingTheServerDisconnectsOpenStreams()
{
    auto server = startServer();
    QVERIFY(server);
    m_handler = [](const HttpRequest &, HttpResponder *responder) {
        responder->startStream(200, {{"Content-Type", "text/event-stream"}});
    };
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    QSignalSpy clientClosed(&client.socket, &QTcpSocket::disconnected);
    client.socket.write(getRequest("/events"));
    QTRY_COMPARE(m_responders.size(), 1);
    QPointer<HttpResponder> responder = m_responders.at(0);
    QSignalSpy disconnected(responder.data(), &HttpResponder::disconnected);

    server->close();
    QCOMPARE(disconnected.count(), 1); // synchronously, before close() returns
    QVERIFY(!responder || !responder->write("late"));
    QCOMPARE(server->connectionCount(), 0);
    QCOMPARE(server->port(), quint16(0));
    QTRY_COMPARE(clientClosed.count(), 1);
    QTRY_VERIFY(responder.isNull());
    QCOMPARE(disconnected.count(), 1);
}

void TestHttpServer::idleKeepAliveConnectionIsClosedButAStreamIsNot()
{
    HttpServer::Options options;
    options.idleTimeoutMs = 200;
    auto server = startServer(options);
    QVERIFY(server);
    m_handler = [](const HttpRequest &request, HttpResponder *responder) {
        if (request.path == QLatin1String("/events"))
            responder->startStream(200, {{"Content-Type", "text/event-stream"}});
        else
            responder->send(HttpResponse::empty(204));
    };

    RawClient streaming(server->port());
    QVERIFY(streaming.waitConnected());
    QSignalSpy streamingClosed(&streaming.socket, &QTcpSocket::disconnected);
    streaming.socket.write(getRequest("/events"));
    QTRY_VERIFY(streaming.received.contains("\r\n\r\n"));

    RawClient idle(server->port());
    QVERIFY(idle.waitConnected());
    QSignalSpy idleClosed(&idle.socket, &QTcpSocket::disconnected);
    idle.socket.write(getRequest("/once"));
    QTRY_COMPARE(completeResponses(idle.received).size(), 1);
    QCOMPARE(completeResponses(idle.received).at(0).status, 204);

    // The idle connection closing proves the timeout elapsed; the stream started earlier.
    QTRY_COMPARE_WITH_TIMEOUT(idleClosed.count(), 1, 10000);
    QCOMPARE(streamingClosed.count(), 0);
    QPointer<HttpResponder> responder = m_responders.at(0);
    QVERIFY(responder);
    QVERIFY(responder->write("still here"));
    QTRY_VERIFY(streaming.received.contains("still here"));
}

void TestHttpServer::responderIgnoresASecondResponse()
{
    auto server = startServer();
    QVERIFY(server);
    m_handler = [](const HttpRequest &, HttpResponder *responder) {
        responder->send(HttpResponse::json(200, R"({"n":1})"));
        responder->send(HttpResponse::json(500, R"({"n":2})"));
        QVERIFY(!responder->startStream(200, {}));
        QVERIFY(responder->isFinished());
    };
    RawClient client(server->port());
    QVERIFY(client.waitConnected());
    client.socket.write(getRequest("/a") + getRequest("/b"));
    QTRY_COMPARE(completeResponses(client.received).size(), 2);
    const auto responses = completeResponses(client.received);
    QCOMPARE(responses.at(0).body, QByteArray(R"({"n":1})"));
    QCOMPARE(responses.at(1).body, QByteArray(R"({"n":1})"));
    QVERIFY(responses.at(0).head.contains("Content-Type: application/json\r\n"));
    QVERIFY(!client.received.contains(R"({"n":2})"));
}

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
