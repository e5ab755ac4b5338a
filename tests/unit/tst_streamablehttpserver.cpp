// The server side of MCP Streamable HTTP (mcp/StreamableHttpServer.h), driven over real sockets:
// an http::HttpServer on an ephemeral loopback port hands every request to the transport, a
// scripted ServerMessageHandler stands in for the router, and the client is a raw QTcpSocket
// so the test sees the exact status lines, headers and SSE events on the wire.

#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "mcp/JsonRpc.h"
#include "mcp/ProtocolVersion.h"
#include "mcp/ServerSession.h"
#include "mcp/StreamableHttpServer.h"

#include "JsonCompare.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace mcpbroker;
using namespace mcpbroker::mcp;
using json = nlohmann::json;
namespace jsonrpc = mcpbroker::mcp::jsonrpc;

namespace {

constexpr int kWaitMs = 10'000;
constexpr int kRetryMs = 1500;

// A router stand-in: answers initialize (negotiating the client's version), answers "echo" at
// once with its params, keeps "slow" requests so the test can answer them later.
class ScriptedHandler : public ServerMessageHandler
{
public:
    struct Pending
    {
        json request;
        std::shared_ptr<ReplyChannel> reply;
    };

    bool refuseInitialize = false;
    QList<json> requests;
    QList<json> notifications;
    QList<json> responses;
    QStringList closedSessions;
    QList<Pending> pending;

    void handleRequest(ServerSession &session, const json &request,
                       std::shared_ptr<ReplyChannel> reply) override
    {
        requests.append(request);
        const QString method = jsonrpc::method(request);
        const json id = request["id"];
        if (method == QLatin1String("initialize")) {
            if (refuseInitialize) {
                reply->respond(jsonrpc::makeError(id, jsonrpc::ErrorCode::kInvalidParams,
                                                  QStringLiteral("Unsupported client.")));
                return;
            }
            const QString requested
                    = jsonrpc::toQString(jsonrpc::params(request).value("protocolVersion", json()));
            session.protocolVersion = requested.isEmpty() ? ProtocolVersion::kLatest : requested;
            reply->respond(jsonrpc::makeResult(
                    id, {{"protocolVersion", jsonrpc::toStd(session.protocolVersion)}}));
        } else if (method == QLatin1String("echo")) {
            reply->respond(jsonrpc::makeResult(id, jsonrpc::params(request)));
        } else if (method == QLatin1String("slow")) {
            pending.append({request, std::move(reply)});
        } else {
            reply->respond(jsonrpc::makeError(id, jsonrpc::ErrorCode::kMethodNotFound,
                                              QStringLiteral("Method not found.")));
        }
    }

    void handleNotification(ServerSession &, const json &notification) override
    {
        notifications.append(notification);
    }

    void handleResponse(ServerSession &, const json &response) override
    {
        responses.append(response);
    }

    void sessionClosed(const ServerSession &session) override { closedSessions.append(session.id); }
};

// One server-sent event as a client reads it.
struct SseEventSeen
{
    QByteArray id;
    QByteArray event;
    QByteArray data;
    QByteArray retry;
    bool hasId = false;
    bool hasRetry = false;

    json message() const
    {
        const auto parsed = jsonrpc::parse(data);
        return parsed ? *parsed : json();
    }
};

// One HTTP exchange on its own connection: sends the request once connected and collects
// everything the server sends back.
class Exchange
{
public:
    Exchange(quint16 port, QByteArray request) : m_request(std::move(request))
    {
        QObject::connect(&m_socket, &QTcpSocket::connected, [this] { m_socket.write(m_request); });
        QObject::connect(&m_socket, &QTcpSocket::readyRead,
                         [this] { m_data += m_socket.readAll(); });
        QObject::connect(&m_socket, &QTcpSocket::disconnected, [this] { m_closed = true; });
        m_socket.connectToHost(QHostAddress::LocalHost, port);
    }
    Exchange(const Exchange &) = delete;
    Exchange &operator=(const Exchange &) = delete;

    bool hasHead() const { return m_data.contains("\r\n\r\n"); }
    int status() const { return hasHead() ? m_data.mid(9, 3).toInt() : 0; }

    QByteArray header(QByteArrayView name) const
    {
        const QByteArray head = m_data.left(m_data.indexOf("\r\n\r\n"));
        const QList<QByteArray> lines = head.split('\n');
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && name.compare(line.left(colon), Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
    bool hasHeader(QByteArrayView name) const
    {
        const QByteArray head = m_data.left(m_data.indexOf("\r\n\r\n")).toLower();
        return head.contains("\r\n" + name.toByteArray().toLower() + ':');
    }

    // The body received so far (de-chunked); `complete` says whether the response has ended.
    QByteArray body(bool *complete = nullptr) const
    {
        if (complete)
            *complete = false;
        const qsizetype headEnd = m_data.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return {};
        qsizetype pos = headEnd + 4;
        if (header("Transfer-Encoding").toLower() != "chunked") {
            const qsizetype length = header("Content-Length").toLongLong();
            if (complete)
                *complete = m_data.size() - pos >= length;
            return m_data.mid(pos, length);
        }
        QByteArray out;
        for (;;) {
            const qsizetype sizeEnd = m_data.indexOf("\r\n", pos);
            if (sizeEnd < 0)
                return out;
            bool ok = false;
            const qsizetype size = m_data.mid(pos, sizeEnd - pos).toLongLong(&ok, 16);
            if (!ok || m_data.size() < sizeEnd + 2 + size + 2)
                return out;
            if (size == 0) {
                if (complete)
                    *complete = true;
                return out;
            }
            out += m_data.mid(sizeEnd + 2, size);
            pos = sizeEnd + 2 + size + 2;
        }
    }
    bool isComplete() const
    {
        bool complete = false;
        body(&complete);
        return complete;
    }
    json bodyJson() const
    {
        const auto parsed = jsonrpc::parse(body());
        return parsed ? *parsed : json();
    }

    // The complete events of a text/event-stream body so far.
    QList<SseEventSeen> events() const
    {
        QList<SseEventSeen> events;
        QByteArray text = body();
        text.replace("\r\n", "\n");
        qsizetype start = 0;
        for (qsizetype end = text.indexOf("\n\n", start); end >= 0;
             end = text.indexOf("\n\n", start)) {
            SseEventSeen event;
            QByteArrayList dataLines;
            bool hasData = false;
            for (const QByteArray &line : text.mid(start, end - start).split('\n')) {
                const qsizetype colon = line.indexOf(':');
                const QByteArray field = colon < 0 ? line : line.left(colon);
                QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
                if (value.startsWith(' '))
                    value.remove(0, 1);
                if (field == "id") {
                    event.id = value;
                    event.hasId = true;
                } else if (field == "event") {
                    event.event = value;
                } else if (field == "data") {
                    dataLines.append(value);
                    hasData = true;
                } else if (field == "retry") {
                    event.retry = value;
                    event.hasRetry = true;
                }
            }
            event.data = dataLines.join('\n');
            if (hasData || event.hasId || event.hasRetry)
                events.append(event);
            start = end + 2;
        }
        return events;
    }

    bool closedByServer() const { return m_closed; }
    void drop() { m_socket.abort(); }

private:
    QByteArray m_request;
    QTcpSocket m_socket;
    QByteArray m_data;
    bool m_closed = false;
};

using Headers = QList<QPair<QByteArray, QByteArray>>;

const QByteArray kBothAccepted = QByteArrayLiteral("application/json, text/event-stream");

json request(const json &id, const char *method, json params = nullptr)
{
    return jsonrpc::makeRequest(id, QString::fromLatin1(method), std::move(params));
}

json notification(const char *method, json params = nullptr)
{
    return jsonrpc::makeNotification(QString::fromLatin1(method), std::move(params));
}

json initializeRequest(const QString &version)
{
    return request(0, "initialize",
                   {{"protocolVersion", jsonrpc::toStd(version)},
                    {"capabilities", json::object()},
                    {"clientInfo", {{"name", "tst"}, {"version", "1"}}}});
}

const QRegularExpression &sessionIdPattern()
{
    // 32 random bytes in base64url: at least 43 characters of the URL-safe alphabet.
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_-]{43,}$"));
    return pattern;
}

} // namespace

class TestStreamableHttpServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    // Lifecycle and sessions
    void initializeAnswersJsonWithANewRandomSessionId();
    void initializeErrorAnswerCreatesNoSession();
    void initializeWithoutIdIsRefused();
    void initializeInsideABatchIsRefusedAndCreatesNoSession();
    void requestWithoutSessionIdIsRefusedWith400_data();
    void requestWithoutSessionIdIsRefusedWith400();
    void unknownSessionIsAnsweredWith404_data();
    void unknownSessionIsAnsweredWith404();
    void sessionIsUsableOnlyOnTheScopeItWasCreatedOn();
    void deleteEndsTheSessionAndItsStreamsThenAnswers404();
    void sessionLimitEndsTheSessionIdleTheLongest();
    void sessionLimitWithEverySessionStreamingRefusesInitializeWith503();

    // POST
    void postWithOnlyNotificationsOrResponsesIsAcceptedWith202();
    void requestIsAnsweredOnAnEventStreamThatStartsWithAPrimingEvent();
    void streamsOfSessionsBefore2025_11_25HaveNoPrimingEvent_data();
    void streamsOfSessionsBefore2025_11_25HaveNoPrimingEvent();
    void messagesAboutARequestPrecedeItsResponseOnItsStream();
    void abandonedRequestEndsItsStreamWithoutAResponse();
    void postWithoutBothMediaTypesInAcceptIsRefusedWith406_data();
    void postWithoutBothMediaTypesInAcceptIsRefusedWith406();
    void postWithAnotherContentTypeIsRefusedWith415_data();
    void postWithAnotherContentTypeIsRefusedWith415();
    void postWithBadJsonIsRefusedWith400ParseError();
    void postThatIsNotJsonRpcIsRefusedWith400InvalidRequest();
    void batchIsRefusedOnSessionsFrom2025_06_18On_data();
    void batchIsRefusedOnSessionsFrom2025_06_18On();
    void batchOnA2025_03_26SessionIsAnsweredForEachRequest();
    void unsupportedProtocolVersionHeaderIsRefusedWith400_data();
    void unsupportedProtocolVersionHeaderIsRefusedWith400();

    // GET, server messages, resumption
    void getOpensTheStandaloneStreamAndASecondGetIsRefusedWith409();
    void getWithoutEventStreamInAcceptIsRefusedWith406();
    void sendToSessionDeliversOnTheStandaloneStreamOnly();
    void newGetIsAllowedOnceTheStandaloneStreamIsGone();
    void droppedPostStreamIsResumedWithLastEventIdIncludingTheResponse();
    void resumptionReplaysOnlyEventsAfterTheLastEventId();
    void resumingAStreamStillOpenElsewhereMovesItToTheNewConnection();
    void standaloneStreamMessagesMissedWhileDisconnectedAreResumed();
    void lastEventIdOfAnotherSessionReplaysNothingOfIt();
    void sessionKeepsOnlyItsLastFinishedStreamsForResumption();
    void finishedStreamIsNoLongerResumableAfterTheRetentionTime();

    void otherMethodsAreRefusedWith405AndAllow_data();
    void otherMethodsAreRefusedWith405AndAllow();

private:
    QByteArray httpRequest(const QByteArray &method, const QByteArray &path, const Headers &headers,
                           const QByteArray &body = {}) const;
    std::unique_ptr<Exchange> send(const QByteArray &method, const QByteArray &path,
                                   const Headers &headers, const QByteArray &body = {});
    std::unique_ptr<Exchange> post(const QByteArray &path, const json &message,
                                   const QString &sessionId, Headers extra = {});
    std::unique_ptr<Exchange> get(const QByteArray &path, const QString &sessionId,
                                  Headers extra = {});
    // A new session on `path`; "" when initialize did not succeed.
    QString initialize(const QByteArray &path = "/mcp",
                       const QString &version = ProtocolVersion::kLatest);
    bool waitForNoConnections();
    void restartTransport(StreamableHttpServer::Options options);
    // Posts "echo" on the session and waits for its whole answer: the priming event's id.
    QByteArray finishedStream(const QString &sessionId, int requestId);
    // Whether GET with Last-Event-ID `eventId` replays a message (else a new standalone stream
    // opens); leaves no connection behind.
    bool replays(const QString &sessionId, const QByteArray &eventId);

    std::unique_ptr<ScriptedHandler> m_handler;
    std::unique_ptr<StreamableHttpServer> m_transport;
    std::unique_ptr<http::HttpServer> m_http;
    quint16 m_port = 0;
};

void TestStreamableHttpServer::initTestCase()
{
    QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.*.info=false"));
}

void TestStreamableHttpServer::init()
{
    m_handler = std::make_unique<ScriptedHandler>();
    StreamableHttpServer::Options options;
    options.retryMs = kRetryMs;
    m_transport = std::make_unique<StreamableHttpServer>(m_handler.get(), options);
    m_http = std::make_unique<http::HttpServer>([this](const http::HttpRequest &request,
                                                       http::HttpResponder *responder) {
        // "/mcp" is the aggregated endpoint (scope ""), "/mcp/<server>" one server's.
        const QString scope
                = request.path.startsWith(QLatin1String("/mcp/")) ? request.path.mid(5) : QString();
        m_transport->handle(request, responder, scope);
    });
    const auto listening = m_http->listen(0);
    QVERIFY2(listening.ok(), listening.ok() ? "" : qPrintable(listening.error().message));
    m_port = m_http->port();
}

void TestStreamableHttpServer::cleanup()
{
    m_transport.reset();
    m_http.reset();
    m_handler.reset();
}

QByteArray TestStreamableHttpServer::httpRequest(const QByteArray &method, const QByteArray &path,
                                                 const Headers &headers,
                                                 const QByteArray &body) const
{
    QByteArray bytes = method + ' ' + path
            + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(m_port) + "\r\n";
    for (const auto &[name, value] : headers)
        bytes += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST")
        bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    return bytes + "\r\n" + body;
}

std::unique_ptr<Exchange> TestStreamableHttpServer::send(const QByteArray &method,
                                                         const QByteArray &path,
                                                         const Headers &headers,
                                                         const QByteArray &body)
{
    return std::make_unique<Exchange>(m_port, httpRequest(method, path, headers, body));
}

std::unique_ptr<Exchange> TestStreamableHttpServer::post(const QByteArray &path,
                                                         const json &message,
                                                         const QString &sessionId, Headers extra)
{
    Headers headers{{"Accept", kBothAccepted}, {"Content-Type", "application/json"}};
    if (!sessionId.isEmpty())
        headers.append({"Mcp-Session-Id", sessionId.toLatin1()});
    headers += extra;
    return send("POST", path, headers, jsonrpc::serialize(message));
}

std::unique_ptr<Exchange> TestStreamableHttpServer::get(const QByteArray &path,
                                                        const QString &sessionId, Headers extra)
{
    Headers headers{{"Accept", "text/event-stream"}};
    if (!sessionId.isEmpty())
        headers.append({"Mcp-Session-Id", sessionId.toLatin1()});
    headers += extra;
    return send("GET", path, headers);
}

QString TestStreamableHttpServer::initialize(const QByteArray &path, const QString &version)
{
    const int connectionsBefore = m_http->connectionCount();
    auto exchange = post(path, initializeRequest(version), QString());
    if (!QTest::qWaitFor([&] { return exchange->isComplete(); }, kWaitMs))
        return {};
    if (exchange->status() != 200)
        return {};
    const QString id = QString::fromLatin1(exchange->header("Mcp-Session-Id"));
    exchange.reset();
    // Leave no connection behind, so tests can count the ones they open.
    if (!QTest::qWaitFor([&] { return m_http->connectionCount() == connectionsBefore; }, kWaitMs))
        return {};
    return id;
}

void TestStreamableHttpServer::restartTransport(StreamableHttpServer::Options options)
{
    options.retryMs = kRetryMs;
    m_transport = std::make_unique<StreamableHttpServer>(m_handler.get(), options);
}

bool TestStreamableHttpServer::waitForNoConnections()
{
    return QTest::qWaitFor([this] { return m_http->connectionCount() == 0; }, kWaitMs);
}

QByteArray TestStreamableHttpServer::finishedStream(const QString &sessionId, int requestId)
{
    auto posted = post("/mcp", request(requestId, "echo", {{"n", requestId}}), sessionId);
    if (!QTest::qWaitFor([&] { return posted->isComplete(); }, kWaitMs)
        || posted->events().size() != 2 || posted->events()[1].message()["id"] != requestId)
        return {};
    const QByteArray primingId = posted->events()[0].id;
    posted.reset();
    return waitForNoConnections() ? primingId : QByteArray();
}

bool TestStreamableHttpServer::replays(const QString &sessionId, const QByteArray &eventId)
{
    auto resumed = get("/mcp", sessionId, {{"Last-Event-ID", eventId}});
    // A replay ends with the stream; a new standalone stream starts with its priming event.
    const bool answered = QTest::qWaitFor(
            [&] {
                const QList<SseEventSeen> events = resumed->events();
                return resumed->isComplete() || (!events.isEmpty() && events[0].data.isEmpty());
            },
            kWaitMs);
    bool replayed = false;
    for (const SseEventSeen &event : resumed->events())
        replayed = replayed || !event.data.isEmpty();
    const bool ok = answered && resumed->status() == 200;
    resumed->drop();
    resumed.reset();
    return waitForNoConnections() && ok && replayed;
}

// --- lifecycle and sessions ------------------------------------------------------------------

void TestStreamableHttpServer::initializeAnswersJsonWithANewRandomSessionId()
{
    auto exchange = post("/mcp", initializeRequest(ProtocolVersion::kLatest), QString());
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 200);
    QVERIFY(exchange->header("Content-Type").startsWith("application/json"));
    const QString id = QString::fromLatin1(exchange->header("Mcp-Session-Id"));
    QVERIFY2(sessionIdPattern().match(id).hasMatch(), qPrintable(id));
    const json body = exchange->bodyJson();
    QVERIFY(jsonrpc::classify(body) == jsonrpc::MessageKind::Response);
    QVERIFY(body["id"] == 0);
    QVERIFY(body["result"]["protocolVersion"] == "2025-11-25");

    QCOMPARE(m_transport->sessionCount(), 1);
    const ServerSession *session = m_transport->findSession(id);
    QVERIFY(session);
    QCOMPARE(session->id, id);
    QCOMPARE(session->scope, QString());
    QCOMPARE(session->protocolVersion, ProtocolVersion::kLatest);

    // Every session gets its own unguessable id.
    QSet<QString> ids{id};
    for (int i = 0; i < 5; ++i) {
        const QString another = initialize();
        QVERIFY(sessionIdPattern().match(another).hasMatch());
        QVERIFY(!ids.contains(another));
        ids.insert(another);
    }
    QCOMPARE(m_transport->sessionCount(), 6);
}

void TestStreamableHttpServer::initializeErrorAnswerCreatesNoSession()
{
    m_handler->refuseInitialize = true;
    auto exchange = post("/mcp", initializeRequest(ProtocolVersion::kLatest), QString());
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    const json body = exchange->bodyJson();
    QVERIFY2(body.contains("error"), body.dump().c_str());
    QCOMPARE(body["error"]["code"].get<int>(), jsonrpc::ErrorCode::kInvalidParams);
    QVERIFY(!exchange->hasHeader("Mcp-Session-Id"));
    QCOMPARE(m_transport->sessionCount(), 0);
    QCOMPARE(m_handler->requests.size(), 1);
}

void TestStreamableHttpServer::initializeWithoutIdIsRefused()
{
    auto exchange = post("/mcp", notification("initialize", {{"protocolVersion", "2025-11-25"}}),
                         QString());
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 400);
    QCOMPARE(exchange->bodyJson()["error"]["code"].get<int>(), jsonrpc::ErrorCode::kInvalidRequest);
    QCOMPARE(m_transport->sessionCount(), 0);
    QVERIFY(m_handler->requests.isEmpty());
    QVERIFY(m_handler->notifications.isEmpty());
}

void TestStreamableHttpServer::initializeInsideABatchIsRefusedAndCreatesNoSession()
{
    // With no session, and on a 2025-03-26 session where batches are otherwise allowed.
    const QString old = initialize("/mcp", ProtocolVersion::k2025_03_26);
    QVERIFY(!old.isEmpty());
    const int requestsBefore = int(m_handler->requests.size());

    for (const QString &sessionId : {QString(), old}) {
        const json batch = json::array(
                {initializeRequest(ProtocolVersion::k2025_03_26), request(1, "echo")});
        auto exchange = post("/mcp", batch, sessionId);
        QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
        QCOMPARE(exchange->status(), 400);
        const json body = exchange->bodyJson();
        QCOMPARE(body["error"]["code"].get<int>(), jsonrpc::ErrorCode::kInvalidRequest);
        QVERIFY(body["id"].is_null());
        QVERIFY(!exchange->hasHeader("Mcp-Session-Id"));
    }
    QCOMPARE(m_transport->sessionCount(), 1);
    QCOMPARE(int(m_handler->requests.size()), requestsBefore);
}

void TestStreamableHttpServer::requestWithoutSessionIdIsRefusedWith400_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("POST") << QByteArray("POST");
    QTest::newRow("GET") << QByteArray("GET");
    QTest::newRow("DELETE") << QByteArray("DELETE");
}

void TestStreamableHttpServer::requestWithoutSessionIdIsRefusedWith400()
{
    QFETCH(QByteArray, method);
    QVERIFY(!initialize().isEmpty()); // a session exists, but the request names none

    const Headers headers{{"Accept", kBothAccepted}, {"Content-Type", "application/json"}};
    const QByteArray body
            = method == "POST" ? jsonrpc::serialize(request(1, "echo")) : QByteArray();
    auto exchange = send(method, "/mcp", headers, body);
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 400);
    QVERIFY(exchange->bodyJson().contains("error"));
    QCOMPARE(m_handler->requests.size(), 1); // only initialize
    QCOMPARE(m_transport->sessionCount(), 1);
}

void TestStreamableHttpServer::unknownSessionIsAnsweredWith404_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("POST") << QByteArray("POST");
    QTest::newRow("GET") << QByteArray("GET");
    QTest::newRow("DELETE") << QByteArray("DELETE");
}

void TestStreamableHttpServer::unknownSessionIsAnsweredWith404()
{
    QFETCH(QByteArray, method);
    const QString real = initialize();
    QVERIFY(!real.isEmpty());

    for (const QByteArray &unknown :
         {QByteArray("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), real.toLatin1().chopped(1),
          real.toLatin1() + 'x',
          real.toLatin1().toLower() == real.toLatin1() ? real.toLatin1().toUpper()
                                                       : real.toLatin1().toLower()}) {
        const Headers headers{{"Accept", kBothAccepted},
                              {"Content-Type", "application/json"},
                              {"Mcp-Session-Id", unknown}};
        const QByteArray body
                = method == "POST" ? jsonrpc::serialize(request(1, "echo")) : QByteArray();
        auto exchange = send(method, "/mcp", headers, body);
        QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
        QVERIFY2(exchange->status() == 404, unknown.constData());
        QVERIFY(exchange->bodyJson().contains("error"));
    }
    QCOMPARE(m_handler->requests.size(), 1);
    QVERIFY(m_handler->closedSessions.isEmpty());
    QVERIFY(m_transport->findSession(real));
}

void TestStreamableHttpServer::sessionIsUsableOnlyOnTheScopeItWasCreatedOn()
{
    const QString id = initialize("/mcp/a");
    QVERIFY(!id.isEmpty());
    QVERIFY(m_transport->findSession(id));
    QCOMPARE(m_transport->findSession(id)->scope, QStringLiteral("a"));

    for (const QByteArray &otherPath : {QByteArray("/mcp"), QByteArray("/mcp/b")}) {
        auto onPost = post(otherPath, request(1, "echo"), id);
        QTRY_VERIFY_WITH_TIMEOUT(onPost->isComplete(), kWaitMs);
        QCOMPARE(onPost->status(), 404);

        auto onGet = get(otherPath, id);
        QTRY_VERIFY_WITH_TIMEOUT(onGet->isComplete(), kWaitMs);
        QCOMPARE(onGet->status(), 404);

        auto onDelete = send("DELETE", otherPath, {{"Mcp-Session-Id", id.toLatin1()}});
        QTRY_VERIFY_WITH_TIMEOUT(onDelete->isComplete(), kWaitMs);
        QCOMPARE(onDelete->status(), 404);
    }
    QVERIFY(m_handler->closedSessions.isEmpty());
    QCOMPARE(m_handler->requests.size(), 1);

    // Still fine where it belongs.
    auto home = post("/mcp/a", request(1, "echo", {{"x", 1}}), id);
    QTRY_VERIFY_WITH_TIMEOUT(home->isComplete(), kWaitMs);
    QCOMPARE(home->status(), 200);
    QCOMPARE(m_handler->requests.size(), 2);
}

void TestStreamableHttpServer::deleteEndsTheSessionAndItsStreamsThenAnswers404()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto standalone = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(standalone->events().size(), 1, kWaitMs);
    auto slow = post("/mcp", request("s", "slow"), id);
    QTRY_COMPARE_WITH_TIMEOUT(slow->events().size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);

    auto ended = send("DELETE", "/mcp", {{"Mcp-Session-Id", id.toLatin1()}});
    QTRY_VERIFY_WITH_TIMEOUT(ended->isComplete(), kWaitMs);
    QCOMPARE(ended->status(), 200);
    QCOMPARE(m_handler->closedSessions, QStringList{id});
    QCOMPARE(m_transport->sessionCount(), 0);
    QVERIFY(!m_transport->findSession(id));
    // Its open streams end.
    QTRY_VERIFY_WITH_TIMEOUT(standalone->isComplete(), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(slow->isComplete(), kWaitMs);
    // A late answer to a request of the ended session goes nowhere, and does not crash.
    m_handler->pending.first().reply->send(notification("notifications/progress"));
    m_handler->pending.first().reply->respond(jsonrpc::makeResult("s", json::object()));
    QCOMPARE(slow->events().size(), 1);

    auto afterwards = post("/mcp", request(2, "echo"), id);
    QTRY_VERIFY_WITH_TIMEOUT(afterwards->isComplete(), kWaitMs);
    QCOMPARE(afterwards->status(), 404);
    auto again = send("DELETE", "/mcp", {{"Mcp-Session-Id", id.toLatin1()}});
    QTRY_VERIFY_WITH_TIMEOUT(again->isComplete(), kWaitMs);
    QCOMPARE(again->status(), 404);
    QCOMPARE(m_handler->closedSessions.size(), 1);
}

void TestStreamableHttpServer::sessionLimitEndsTheSessionIdleTheLongest()
{
    StreamableHttpServer::Options options;
    options.maxSessions = 2;
    restartTransport(options);

    const QString older = initialize();
    const QString newer = initialize();
    QVERIFY(!older.isEmpty() && !newer.isEmpty());
    // Make `older` the most recently used one, on a later millisecond than `newer`'s start.
    const qint64 start = QDateTime::currentMSecsSinceEpoch();
    QTRY_VERIFY(QDateTime::currentMSecsSinceEpoch() > start + 1);
    auto used = post("/mcp", request(1, "echo"), older);
    QTRY_VERIFY_WITH_TIMEOUT(used->isComplete(), kWaitMs);
    QCOMPARE(used->status(), 200);

    const QString third = initialize();
    QVERIFY(!third.isEmpty());
    QCOMPARE(m_transport->sessionCount(), 2);
    QCOMPARE(m_handler->closedSessions, QStringList{newer});
    QVERIFY(m_transport->findSession(older));
    QVERIFY(m_transport->findSession(third));
    auto evicted = post("/mcp", request(2, "echo"), newer);
    QTRY_VERIFY_WITH_TIMEOUT(evicted->isComplete(), kWaitMs);
    QCOMPARE(evicted->status(), 404);
}

void TestStreamableHttpServer::sessionLimitWithEverySessionStreamingRefusesInitializeWith503()
{
    StreamableHttpServer::Options options;
    options.maxSessions = 1;
    restartTransport(options);

    const QString busy = initialize();
    QVERIFY(!busy.isEmpty());
    auto stream = get("/mcp", busy);
    QTRY_COMPARE_WITH_TIMEOUT(stream->events().size(), 1, kWaitMs);

    auto refused = post("/mcp", initializeRequest(ProtocolVersion::kLatest), QString());
    QTRY_VERIFY_WITH_TIMEOUT(refused->isComplete(), kWaitMs);
    QCOMPARE(refused->status(), 503);
    QVERIFY(!refused->hasHeader("Mcp-Session-Id"));
    QCOMPARE(m_transport->sessionCount(), 1);
    QVERIFY(m_handler->closedSessions.isEmpty());
    QVERIFY(!stream->isComplete());
}

// --- POST ------------------------------------------------------------------------------------

void TestStreamableHttpServer::postWithOnlyNotificationsOrResponsesIsAcceptedWith202()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    auto initialized = post("/mcp", notification("notifications/initialized"), id);
    QTRY_VERIFY_WITH_TIMEOUT(initialized->isComplete(), kWaitMs);
    QCOMPARE(initialized->status(), 202);
    QVERIFY(initialized->body().isEmpty());
    QCOMPARE(m_handler->notifications.size(), 1);
    QVERIFY(jsonrpc::method(m_handler->notifications.first()) == "notifications/initialized");

    // A client's answer to a server request (e.g. sampling) is accepted the same way.
    const json answer = jsonrpc::makeResult("srv-1", {{"content", "hi"}});
    auto response = post("/mcp", answer, id);
    QTRY_VERIFY_WITH_TIMEOUT(response->isComplete(), kWaitMs);
    QCOMPARE(response->status(), 202);
    QCOMPARE(m_handler->responses.size(), 1);
    COMPARE_JSON(m_handler->responses.first(), answer);
    QCOMPARE(m_handler->requests.size(), 1); // only initialize
}

void TestStreamableHttpServer::requestIsAnsweredOnAnEventStreamThatStartsWithAPrimingEvent()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    auto exchange = post("/mcp", request(7, "echo", {{"text", "hello"}}), id,
                         {{"MCP-Protocol-Version", "2025-11-25"}});
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 200);
    QCOMPARE(exchange->header("Content-Type"), QByteArray("text/event-stream"));
    QCOMPARE(exchange->header("Mcp-Session-Id"), id.toLatin1());

    const QList<SseEventSeen> events = exchange->events();
    QCOMPARE(events.size(), 2);
    // SEP-1699 priming event: an id to resume from, empty data, and the retry time.
    const SseEventSeen &priming = events[0];
    QVERIFY(priming.hasId);
    QVERIFY(!priming.id.isEmpty());
    QCOMPARE(priming.data, QByteArray());
    QVERIFY(priming.hasRetry);
    QCOMPARE(priming.retry, QByteArray::number(kRetryMs));

    const SseEventSeen &answer = events[1];
    QVERIFY(answer.hasId);
    QVERIFY(answer.id != priming.id);
    QCOMPARE(answer.event, QByteArray("message"));
    COMPARE_JSON(answer.message(), jsonrpc::makeResult(7, {{"text", "hello"}}));
}

void TestStreamableHttpServer::streamsOfSessionsBefore2025_11_25HaveNoPrimingEvent_data()
{
    QTest::addColumn<QString>("version");
    QTest::newRow("2025-03-26") << ProtocolVersion::k2025_03_26;
    QTest::newRow("2025-06-18") << ProtocolVersion::k2025_06_18;
}

void TestStreamableHttpServer::streamsOfSessionsBefore2025_11_25HaveNoPrimingEvent()
{
    QFETCH(QString, version);
    const QString id = initialize("/mcp", version);
    QVERIFY(!id.isEmpty());
    QCOMPARE(m_transport->findSession(id)->protocolVersion, version);

    auto exchange = post("/mcp", request("e", "echo", {{"n", 1}}), id,
                         {{"MCP-Protocol-Version", version.toLatin1()}});
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 200);
    const QList<SseEventSeen> events = exchange->events();
    QCOMPARE(events.size(), 1);
    QVERIFY(!events[0].hasRetry);
    COMPARE_JSON(events[0].message(), jsonrpc::makeResult("e", {{"n", 1}}));

    // Nor on the standalone stream.
    auto standalone = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(standalone->status(), 200, kWaitMs);
    QVERIFY(m_transport->sendToSession(id, notification("notifications/message")));
    QTRY_COMPARE_WITH_TIMEOUT(standalone->events().size(), 1, kWaitMs);
    QVERIFY(jsonrpc::method(standalone->events()[0].message()) == "notifications/message");
}

void TestStreamableHttpServer::messagesAboutARequestPrecedeItsResponseOnItsStream()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto exchange = post("/mcp", request(3, "slow", {{"_meta", {{"progressToken", "p"}}}}), id);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(exchange->events().size(), 1, kWaitMs);
    QVERIFY(!exchange->isComplete());

    const auto reply = m_handler->pending.first().reply;
    const json progress
            = notification("notifications/progress", {{"progressToken", "p"}, {"progress", 1}});
    reply->send(progress);
    QTRY_COMPARE_WITH_TIMEOUT(exchange->events().size(), 2, kWaitMs);
    QVERIFY(!exchange->isComplete());
    reply->respond(jsonrpc::makeResult(3, {{"done", true}}));
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);

    const QList<SseEventSeen> events = exchange->events();
    QCOMPARE(events.size(), 3);
    COMPARE_JSON(events[1].message(), progress);
    COMPARE_JSON(events[2].message(), jsonrpc::makeResult(3, {{"done", true}}));
    // Nothing more after the response.
    reply->send(progress);
    reply->respond(jsonrpc::makeResult(3, {{"again", true}}));
    QCOMPARE(exchange->events().size(), 3);
}

void TestStreamableHttpServer::abandonedRequestEndsItsStreamWithoutAResponse()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto exchange = post("/mcp", request(4, "slow"), id);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(exchange->events().size(), 1, kWaitMs);

    // The client cancelled it (notifications/cancelled): no response follows.
    m_handler->pending.first().reply->abandon();
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->events().size(), 1);
    m_handler->pending.first().reply->respond(jsonrpc::makeResult(4, json::object()));
    QCOMPARE(exchange->events().size(), 1);
}

void TestStreamableHttpServer::postWithoutBothMediaTypesInAcceptIsRefusedWith406_data()
{
    QTest::addColumn<QByteArray>("accept"); // empty: no Accept header
    QTest::addColumn<int>("status");
    QTest::newRow("only application/json") << QByteArray("application/json") << 406;
    QTest::newRow("only text/event-stream") << QByteArray("text/event-stream") << 406;
    QTest::newRow("no Accept") << QByteArray() << 406;
    QTest::newRow("text/html") << QByteArray("text/html") << 406;
    QTest::newRow("both, with parameters and spaces")
            << QByteArray("application/json;q=0.9 ,  TEXT/EVENT-STREAM") << 200;
}

void TestStreamableHttpServer::postWithoutBothMediaTypesInAcceptIsRefusedWith406()
{
    QFETCH(QByteArray, accept);
    QFETCH(int, status);
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    Headers headers{{"Content-Type", "application/json"}, {"Mcp-Session-Id", id.toLatin1()}};
    if (!accept.isEmpty())
        headers.append({"Accept", accept});
    auto exchange = send("POST", "/mcp", headers, jsonrpc::serialize(request(1, "echo")));
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), status);
    QCOMPARE(m_handler->requests.size(), status == 200 ? 2 : 1);
}

void TestStreamableHttpServer::postWithAnotherContentTypeIsRefusedWith415_data()
{
    QTest::addColumn<QByteArray>("contentType"); // empty: no Content-Type header
    QTest::addColumn<int>("status");
    QTest::newRow("text/plain") << QByteArray("text/plain") << 415;
    QTest::newRow("form") << QByteArray("application/x-www-form-urlencoded") << 415;
    QTest::newRow("json-seq") << QByteArray("application/json-seq") << 415;
    QTest::newRow("no Content-Type") << QByteArray() << 415;
    QTest::newRow("with charset") << QByteArray("application/json; charset=utf-8") << 200;
    QTest::newRow("upper case") << QByteArray("Application/JSON") << 200;
}

void TestStreamableHttpServer::postWithAnotherContentTypeIsRefusedWith415()
{
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    Headers headers{{"Accept", kBothAccepted}, {"Mcp-Session-Id", id.toLatin1()}};
    if (!contentType.isEmpty())
        headers.append({"Content-Type", contentType});
    auto exchange = send("POST", "/mcp", headers, jsonrpc::serialize(request(1, "echo")));
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), status);
    QCOMPARE(m_handler->requests.size(), status == 200 ? 2 : 1);
}

void TestStreamableHttpServer::postWithBadJsonIsRefusedWith400ParseError()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    for (const QByteArray &bad : {QByteArray(R"({"jsonrpc":"2.0","id":1,"method":)"),
                                  QByteArray("not json"), QByteArray()}) {
        auto exchange = send("POST", "/mcp",
                             {{"Accept", kBothAccepted},
                              {"Content-Type", "application/json"},
                              {"Mcp-Session-Id", id.toLatin1()}},
                             bad);
        QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
        QCOMPARE(exchange->status(), 400);
        QVERIFY(exchange->header("Content-Type").startsWith("application/json"));
        const json body = exchange->bodyJson();
        QVERIFY(jsonrpc::classify(body) == jsonrpc::MessageKind::Response);
        QVERIFY(body["id"].is_null());
        QCOMPARE(body["error"]["code"].get<int>(), jsonrpc::ErrorCode::kParseError);
    }
    QCOMPARE(m_handler->requests.size(), 1);
}

void TestStreamableHttpServer::postThatIsNotJsonRpcIsRefusedWith400InvalidRequest()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    for (const json &invalid : {json::parse(R"({"hello":"world"})"),
                                json::parse(R"({"jsonrpc":"2.0","id":null,"method":"echo"})"),
                                json::parse(R"({"jsonrpc":"1.0","id":1,"method":"echo"})"),
                                json::parse("[]"), json::parse("42")}) {
        auto exchange = post("/mcp", invalid, id);
        QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
        QVERIFY2(exchange->status() == 400, invalid.dump().c_str());
        QCOMPARE(exchange->bodyJson()["error"]["code"].get<int>(),
                 jsonrpc::ErrorCode::kInvalidRequest);
    }
    QCOMPARE(m_handler->requests.size(), 1);
}

void TestStreamableHttpServer::batchIsRefusedOnSessionsFrom2025_06_18On_data()
{
    QTest::addColumn<QString>("version");
    QTest::newRow("2025-06-18") << ProtocolVersion::k2025_06_18;
    QTest::newRow("2025-11-25") << ProtocolVersion::kLatest;
}

void TestStreamableHttpServer::batchIsRefusedOnSessionsFrom2025_06_18On()
{
    QFETCH(QString, version);
    const QString id = initialize("/mcp", version);
    QVERIFY(!id.isEmpty());

    const json batch = json::array({request(1, "echo"), notification("notifications/x")});
    auto exchange = post("/mcp", batch, id, {{"MCP-Protocol-Version", version.toLatin1()}});
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 400);
    QCOMPARE(exchange->bodyJson()["error"]["code"].get<int>(), jsonrpc::ErrorCode::kInvalidRequest);
    // Nothing of it was handled.
    QCOMPARE(m_handler->requests.size(), 1);
    QVERIFY(m_handler->notifications.isEmpty());
}

void TestStreamableHttpServer::batchOnA2025_03_26SessionIsAnsweredForEachRequest()
{
    const QString id = initialize("/mcp", ProtocolVersion::k2025_03_26);
    QVERIFY(!id.isEmpty());
    const Headers version{{"MCP-Protocol-Version", "2025-03-26"}};

    const json batch
            = json::array({request(1, "echo", {{"a", 1}}),
                           notification("notifications/cancelled", {{"requestId", 9}}),
                           request("two", "echo", {{"b", 2}}), request(3, "no/such/method")});
    auto exchange = post("/mcp", batch, id, version);
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 200);
    QCOMPARE(exchange->header("Content-Type"), QByteArray("text/event-stream"));
    const QList<SseEventSeen> events = exchange->events();
    QCOMPARE(events.size(), 3);
    COMPARE_JSON(events[0].message(), jsonrpc::makeResult(1, {{"a", 1}}));
    COMPARE_JSON(events[1].message(), jsonrpc::makeResult("two", {{"b", 2}}));
    QVERIFY(events[2].message()["id"] == 3);
    QCOMPARE(events[2].message()["error"]["code"].get<int>(), jsonrpc::ErrorCode::kMethodNotFound);
    QCOMPARE(m_handler->notifications.size(), 1);

    // A batch of notifications only is accepted like a single one.
    const json notifications
            = json::array({notification("notifications/a"), notification("notifications/b")});
    auto accepted = post("/mcp", notifications, id, version);
    QTRY_VERIFY_WITH_TIMEOUT(accepted->isComplete(), kWaitMs);
    QCOMPARE(accepted->status(), 202);
    QCOMPARE(m_handler->notifications.size(), 3);
}

void TestStreamableHttpServer::unsupportedProtocolVersionHeaderIsRefusedWith400_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("version");
    QTest::newRow("POST with unknown version") << QByteArray("POST") << QByteArray("1999-01-01");
    QTest::newRow("POST with garbage") << QByteArray("POST") << QByteArray("latest");
    QTest::newRow("POST with 2024-11-05") << QByteArray("POST") << QByteArray("2024-11-05");
    QTest::newRow("GET with unknown version") << QByteArray("GET") << QByteArray("2099-12-31");
    QTest::newRow("DELETE with unknown version") << QByteArray("DELETE") << QByteArray("x");
}

void TestStreamableHttpServer::unsupportedProtocolVersionHeaderIsRefusedWith400()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, version);
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    const Headers headers{{"Accept", kBothAccepted},
                          {"Content-Type", "application/json"},
                          {"Mcp-Session-Id", id.toLatin1()},
                          {"MCP-Protocol-Version", version}};
    const QByteArray body
            = method == "POST" ? jsonrpc::serialize(request(1, "echo")) : QByteArray();
    auto exchange = send(method, "/mcp", headers, body);
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 400);
    QVERIFY(exchange->bodyJson().contains("error"));
    QCOMPARE(m_handler->requests.size(), 1);
    QVERIFY(m_handler->closedSessions.isEmpty());
    QVERIFY(m_transport->findSession(id));
}

// --- GET, server messages, resumption --------------------------------------------------------

void TestStreamableHttpServer::getOpensTheStandaloneStreamAndASecondGetIsRefusedWith409()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    auto first = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(first->events().size(), 1, kWaitMs);
    QCOMPARE(first->status(), 200);
    QCOMPARE(first->header("Content-Type"), QByteArray("text/event-stream"));
    const SseEventSeen priming = first->events()[0];
    QVERIFY(!priming.id.isEmpty());
    QCOMPARE(priming.data, QByteArray());
    QCOMPARE(priming.retry, QByteArray::number(kRetryMs));

    auto second = get("/mcp", id);
    QTRY_VERIFY_WITH_TIMEOUT(second->isComplete(), kWaitMs);
    QCOMPARE(second->status(), 409);
    QVERIFY(second->bodyJson().contains("error"));
    // The first stream is unaffected.
    QVERIFY(!first->isComplete());
    QVERIFY(!first->closedByServer());
    QVERIFY(m_transport->sendToSession(id, notification("notifications/tools/list_changed")));
    QTRY_COMPARE_WITH_TIMEOUT(first->events().size(), 2, kWaitMs);
}

void TestStreamableHttpServer::getWithoutEventStreamInAcceptIsRefusedWith406()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    for (const QByteArray &accept : {QByteArray("application/json"), QByteArray("text/html")}) {
        auto exchange
                = send("GET", "/mcp", {{"Accept", accept}, {"Mcp-Session-Id", id.toLatin1()}});
        QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
        QCOMPARE(exchange->status(), 406);
    }
    auto noAccept = send("GET", "/mcp", {{"Mcp-Session-Id", id.toLatin1()}});
    QTRY_VERIFY_WITH_TIMEOUT(noAccept->isComplete(), kWaitMs);
    QCOMPARE(noAccept->status(), 406);
    // A refused GET did not take the session's one stream.
    auto stream = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(stream->status(), 200, kWaitMs);
}

void TestStreamableHttpServer::sendToSessionDeliversOnTheStandaloneStreamOnly()
{
    const QString id = initialize();
    const QString other = initialize();
    QVERIFY(!id.isEmpty() && !other.isEmpty());
    const json message = notification("notifications/message", {{"level", "info"}, {"data", "x"}});

    // No standalone stream yet, or no such session.
    QVERIFY(!m_transport->sendToSession(id, message));
    QVERIFY(!m_transport->sendToSession(QStringLiteral("no-such-session"), message));

    auto stream = get("/mcp", id);
    auto otherStream = get("/mcp", other);
    QTRY_COMPARE_WITH_TIMEOUT(stream->events().size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(otherStream->events().size(), 1, kWaitMs);
    // A request stream open at the same time gets nothing of it.
    auto slow = post("/mcp", request(1, "slow"), id);
    QTRY_COMPARE_WITH_TIMEOUT(slow->events().size(), 1, kWaitMs);

    QVERIFY(m_transport->sendToSession(id, message));
    QTRY_COMPARE_WITH_TIMEOUT(stream->events().size(), 2, kWaitMs);
    const SseEventSeen event = stream->events()[1];
    QCOMPARE(event.event, QByteArray("message"));
    QVERIFY(!event.id.isEmpty());
    COMPARE_JSON(event.message(), message);
    QVERIFY(!stream->isComplete());
    QCOMPARE(otherStream->events().size(), 1);
    QCOMPARE(slow->events().size(), 1);
}

void TestStreamableHttpServer::newGetIsAllowedOnceTheStandaloneStreamIsGone()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto first = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(first->events().size(), 1, kWaitMs);
    first->drop();
    QVERIFY(waitForNoConnections());
    // Kept for a resuming client only: the transport says it was not delivered.
    QVERIFY(!m_transport->sendToSession(id, notification("notifications/dropped")));

    auto second = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(second->events().size(), 1, kWaitMs);
    QCOMPARE(second->status(), 200);
    QVERIFY(m_transport->sendToSession(id, notification("notifications/after")));
    QTRY_COMPARE_WITH_TIMEOUT(second->events().size(), 2, kWaitMs);
    QVERIFY(jsonrpc::method(second->events()[1].message()) == "notifications/after");
}

void TestStreamableHttpServer::droppedPostStreamIsResumedWithLastEventIdIncludingTheResponse()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto posted = post("/mcp", request("r1", "slow"), id);
    QTRY_COMPARE_WITH_TIMEOUT(posted->events().size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);
    const QByteArray primingId = posted->events()[0].id;
    QVERIFY(!primingId.isEmpty());

    // The client loses the connection after the priming event; the server goes on.
    posted->drop();
    QVERIFY(waitForNoConnections());
    const auto reply = m_handler->pending.first().reply;
    const json progress
            = notification("notifications/progress", {{"progressToken", 1}, {"progress", 50}});
    reply->send(progress);
    reply->respond(jsonrpc::makeResult("r1", {{"late", true}}));

    auto resumed = get("/mcp", id, {{"Last-Event-ID", primingId}});
    QTRY_VERIFY_WITH_TIMEOUT(resumed->isComplete(), kWaitMs);
    QCOMPARE(resumed->status(), 200);
    QCOMPARE(resumed->header("Content-Type"), QByteArray("text/event-stream"));
    const QList<SseEventSeen> events = resumed->events();
    QCOMPARE(events.size(), 2);
    COMPARE_JSON(events[0].message(), progress);
    COMPARE_JSON(events[1].message(), jsonrpc::makeResult("r1", {{"late", true}}));
    QVERIFY(!events[0].id.isEmpty() && events[0].id != primingId);
    QVERIFY(!events[1].id.isEmpty() && events[1].id != events[0].id);
    QCOMPARE(m_handler->requests.size(), 2); // the request was not handled again
}

void TestStreamableHttpServer::resumptionReplaysOnlyEventsAfterTheLastEventId()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto posted = post("/mcp", request(5, "slow"), id);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);
    const auto reply = m_handler->pending.first().reply;
    const json first = notification("notifications/progress", {{"progress", 1}});
    const json second = notification("notifications/progress", {{"progress", 2}});
    reply->send(first);
    QTRY_COMPARE_WITH_TIMEOUT(posted->events().size(), 2, kWaitMs);
    const QByteArray lastSeen = posted->events()[1].id;

    posted->drop();
    QVERIFY(waitForNoConnections());
    reply->send(second);

    // Resumed while the request is still running: the stream stays open for what follows.
    auto resumed = get("/mcp", id, {{"Last-Event-ID", lastSeen}});
    QTRY_COMPARE_WITH_TIMEOUT(resumed->events().size(), 1, kWaitMs);
    COMPARE_JSON(resumed->events()[0].message(), second);
    QVERIFY(!resumed->isComplete());

    reply->respond(jsonrpc::makeResult(5, json::object()));
    QTRY_VERIFY_WITH_TIMEOUT(resumed->isComplete(), kWaitMs);
    QCOMPARE(resumed->events().size(), 2);
    COMPARE_JSON(resumed->events()[1].message(), jsonrpc::makeResult(5, json::object()));
}

void TestStreamableHttpServer::resumingAStreamStillOpenElsewhereMovesItToTheNewConnection()
{
    // The client lost the connection without the server noticing, and resumes.
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto original = post("/mcp", request(6, "slow"), id);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(original->events().size(), 1, kWaitMs);
    const QByteArray primingId = original->events()[0].id;

    auto resumed = get("/mcp", id, {{"Last-Event-ID", primingId}});
    QTRY_COMPARE_WITH_TIMEOUT(resumed->status(), 200, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(original->isComplete(), kWaitMs); // the old one is ended

    m_handler->pending.first().reply->respond(jsonrpc::makeResult(6, {{"ok", true}}));
    QTRY_VERIFY_WITH_TIMEOUT(resumed->isComplete(), kWaitMs);
    QCOMPARE(resumed->events().size(), 1);
    COMPARE_JSON(resumed->events()[0].message(), jsonrpc::makeResult(6, {{"ok", true}}));
    QCOMPARE(original->events().size(), 1);
}

void TestStreamableHttpServer::standaloneStreamMessagesMissedWhileDisconnectedAreResumed()
{
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    auto stream = get("/mcp", id);
    QTRY_COMPARE_WITH_TIMEOUT(stream->events().size(), 1, kWaitMs);
    const QByteArray primingId = stream->events()[0].id;
    stream->drop();
    QVERIFY(waitForNoConnections());

    const json missed = notification("notifications/resources/updated", {{"uri", "test://x"}});
    QVERIFY(!m_transport->sendToSession(id, missed));

    auto resumed = get("/mcp", id, {{"Last-Event-ID", primingId}});
    QTRY_COMPARE_WITH_TIMEOUT(resumed->events().size(), 1, kWaitMs);
    COMPARE_JSON(resumed->events()[0].message(), missed);
    // It is the standalone stream again: it stays open and gets what comes next.
    QVERIFY(!resumed->isComplete());
    const json next = notification("notifications/tools/list_changed");
    QVERIFY(m_transport->sendToSession(id, next));
    QTRY_COMPARE_WITH_TIMEOUT(resumed->events().size(), 2, kWaitMs);
    COMPARE_JSON(resumed->events()[1].message(), next);
}

void TestStreamableHttpServer::lastEventIdOfAnotherSessionReplaysNothingOfIt()
{
    const QString victim = initialize();
    const QString attacker = initialize();
    QVERIFY(!victim.isEmpty() && !attacker.isEmpty());

    auto posted = post("/mcp", request(1, "slow"), victim);
    QTRY_COMPARE_WITH_TIMEOUT(m_handler->pending.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(posted->events().size(), 1, kWaitMs);
    const QByteArray primingId = posted->events()[0].id;
    const json secret = jsonrpc::makeResult(1, {{"secret", "victim-data"}});
    m_handler->pending.first().reply->respond(secret);
    QTRY_VERIFY_WITH_TIMEOUT(posted->isComplete(), kWaitMs);

    auto stolen = get("/mcp", attacker, {{"Last-Event-ID", primingId}});
    QTRY_VERIFY_WITH_TIMEOUT(stolen->hasHead(), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!stolen->events().isEmpty() || stolen->isComplete(), kWaitMs);
    QVERIFY2(!stolen->body().contains("victim-data"), stolen->body().constData());
    for (const SseEventSeen &event : stolen->events())
        QVERIFY(event.data.isEmpty()); // at most a priming event of its own new stream
}

void TestStreamableHttpServer::sessionKeepsOnlyItsLastFinishedStreamsForResumption()
{
    StreamableHttpServer::Options options;
    options.maxFinishedStreamsPerSession = 2;
    restartTransport(options);
    const QString id = initialize();
    const QString other = initialize();
    QVERIFY(!id.isEmpty() && !other.isEmpty());

    QList<QByteArray> primingIds;
    for (int request = 1; request <= 3; ++request) {
        primingIds.append(finishedStream(id, request));
        QVERIFY(!primingIds.last().isEmpty());
    }
    // Another session's streams count for that session only.
    for (int request = 11; request <= 13; ++request)
        QVERIFY(!finishedStream(other, request).isEmpty());

    QVERIFY2(replays(id, primingIds[2]), "the last finished stream is resumable");
    QVERIFY2(replays(id, primingIds[1]), "the one before is resumable");
    QVERIFY2(!replays(id, primingIds[0]), "the oldest of three was dropped");
    // Resuming does not make a stream new again, nor does it count as finishing one more.
    QVERIFY(replays(id, primingIds[2]));
    QVERIFY(replays(id, primingIds[1]));
    QCOMPARE(m_handler->requests.size(), 2 + 6); // nothing was handled again
}

void TestStreamableHttpServer::finishedStreamIsNoLongerResumableAfterTheRetentionTime()
{
    StreamableHttpServer::Options options;
    options.finishedStreamRetentionMs = 200;
    restartTransport(options);
    const QString id = initialize();
    QVERIFY(!id.isEmpty());
    const QByteArray first = finishedStream(id, 1);
    const QByteArray second = finishedStream(id, 2);
    QVERIFY(!first.isEmpty() && !second.isEmpty());

    QTRY_VERIFY_WITH_TIMEOUT(!replays(id, second), kWaitMs);
    QVERIFY(!replays(id, first));
    QVERIFY(m_transport->findSession(id)); // the session itself stays
}

void TestStreamableHttpServer::otherMethodsAreRefusedWith405AndAllow_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("PUT") << QByteArray("PUT");
    QTest::newRow("PATCH") << QByteArray("PATCH");
    QTest::newRow("OPTIONS") << QByteArray("OPTIONS");
}

void TestStreamableHttpServer::otherMethodsAreRefusedWith405AndAllow()
{
    QFETCH(QByteArray, method);
    const QString id = initialize();
    QVERIFY(!id.isEmpty());

    auto exchange = send(method, "/mcp",
                         {{"Content-Type", "application/json"}, {"Mcp-Session-Id", id.toLatin1()}},
                         jsonrpc::serialize(request(1, "echo")));
    QTRY_VERIFY_WITH_TIMEOUT(exchange->isComplete(), kWaitMs);
    QCOMPARE(exchange->status(), 405);
    const QByteArrayList allowed = exchange->header("Allow").split(',');
    QSet<QByteArray> methods;
    for (const QByteArray &allowedMethod : allowed)
        methods.insert(allowedMethod.trimmed());
    QCOMPARE(methods, (QSet<QByteArray>{"GET", "POST", "DELETE"}));
    QCOMPARE(m_handler->requests.size(), 1);
    QVERIFY(m_transport->findSession(id));
}

QTEST_GUILESS_MAIN(TestStreamableHttpServer)
#include "tst_streamablehttpserver.moc"
