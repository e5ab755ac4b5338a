// `mcp-broker stdio [--server NAME]`: the MCP stdio transport in front of the running broker's
// Streamable HTTP endpoint, for clients that only launch commands. Driven by a real client (the
// SDK's Client over StdioClientTransport, tests/peers/stdio-bridge-client.mjs) and, where a test
// must choose the moment of each line, by the test itself writing JSON-RPC lines to the
// bridge's stdin. The bridge makes and keeps its own grant ("stdio bridge", token in the
// keychain); stdout carries JSON-RPC lines only, and no token shows anywhere.
//
// One `mcp-broker serve` with one fixture upstream, alpha, serves the suite (the test that
// stops it starts it again).

#include "BrokerProcess.h"
#include "PeerProcess.h"
#include "Peers.h"
#include "UpstreamServer.h"
#include "store/SecretStore.h"
#include "store/ServerConfig.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTest>

#include <memory>
#include <optional>

using namespace mcpbroker::integration;
using mcpbroker::Result;

namespace {

constexpr int kReadyTimeoutMs = 30'000;
constexpr int kBridgeTimeoutMs = 20'000;
const QString kBridgeClient = QStringLiteral("stdio bridge");
const QString kSampledText = QStringLiteral("sampled by stdio-bridge-client");
const QString kNotRunning = QStringLiteral("MCP Broker is not running: start it (mcp-broker, or "
                                           "mcp-broker serve) and try again.\n");

QByteArray line(const QJsonObject &message)
{
    return QJsonDocument(message).toJson(QJsonDocument::Compact) + '\n';
}

QJsonObject request(int id, const QString &method, const QJsonObject &params = {})
{
    return {{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
            {QStringLiteral("id"), id},
            {QStringLiteral("method"), method},
            {QStringLiteral("params"), params}};
}

QJsonObject initialize(int id)
{
    return request(id, QStringLiteral("initialize"),
                   {{QStringLiteral("protocolVersion"), QStringLiteral("2025-11-25")},
                    {QStringLiteral("capabilities"),
                     QJsonObject{{QStringLiteral("elicitation"), QJsonObject()}}},
                    {QStringLiteral("clientInfo"),
                     QJsonObject{{QStringLiteral("name"), QStringLiteral("tst_stdiobridge")},
                                 {QStringLiteral("version"), QStringLiteral("1")}}}});
}

QJsonObject initialized()
{
    return {{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
            {QStringLiteral("method"), QStringLiteral("notifications/initialized")}};
}

QJsonObject toolCall(int id, const QString &tool, const QJsonObject &arguments)
{
    return request(id, QStringLiteral("tools/call"),
                   {{QStringLiteral("name"), tool}, {QStringLiteral("arguments"), arguments}});
}

// Each line of a bridge's stdout as JSON; `bad` collects the lines that are not JSON-RPC.
QList<QJsonObject> messagesIn(const QByteArray &stdoutBytes, QStringList *bad)
{
    QList<QJsonObject> messages;
    QList<QByteArray> lines = stdoutBytes.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    for (const QByteArray &text : lines) {
        const QJsonDocument document = QJsonDocument::fromJson(text);
        if (!document.isObject()
            || document.object().value(QStringLiteral("jsonrpc")).toString()
                    != QLatin1String("2.0")) {
            bad->append(QString::fromUtf8(text.left(200)));
            continue;
        }
        messages.append(document.object());
    }
    return messages;
}

std::optional<QJsonObject> responseTo(const QList<QJsonObject> &messages, int id)
{
    for (const QJsonObject &message : messages) {
        if (message.value(QStringLiteral("id")) == QJsonValue(id)
            && !message.contains(QStringLiteral("method")))
            return message;
    }
    return std::nullopt;
}

// `mcp-broker stdio` with its stdin kept open: the test writes each line when it wants to.
class InteractiveBridge
{
public:
    InteractiveBridge(BrokerProcess &broker, const QStringList &extraArguments = {})
    {
        m_process.setProcessEnvironment(broker.environment());
        m_process.start(brokerBinary(),
                        QStringList{QStringLiteral("--config"), broker.configPath(),
                                    QStringLiteral("stdio")}
                                + extraArguments);
    }
    ~InteractiveBridge()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5'000);
        }
    }

    bool started() { return m_process.waitForStarted(5'000); }
    void send(const QJsonObject &message) { m_process.write(line(message)); }
    void terminate() { m_process.terminate(); }

    // Waits until a stdout line contains `text`.
    bool waitForOutput(const QByteArray &text, int timeoutMs = kBridgeTimeoutMs)
    {
        return QTest::qWaitFor(
                [&] {
                    m_stdout += m_process.readAllStandardOutput();
                    return m_stdout.contains(text);
                },
                timeoutMs);
    }
    bool waitForExit(int timeoutMs = kBridgeTimeoutMs)
    {
        const bool exited = QTest::qWaitFor(
                [&] { return m_process.state() == QProcess::NotRunning; }, timeoutMs);
        m_stdout += m_process.readAllStandardOutput();
        m_stderr += m_process.readAllStandardError();
        return exited;
    }
    int exitCode() const
    {
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }
    QByteArray standardOutput() const { return m_stdout; }
    QByteArray standardError() const { return m_stderr; }
    QString describe() const
    {
        return QStringLiteral("\nbridge exit %1\nstdout:\n%2\nstderr:\n%3")
                .arg(exitCode())
                .arg(QString::fromUtf8(m_stdout), QString::fromUtf8(m_stderr));
    }

private:
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
};

} // namespace

class StdioBridgeTest : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<UpstreamServer> m_alpha;
    std::unique_ptr<BrokerProcess> m_broker;
    QByteArray m_allBridgeOutput; // everything every bridge wrote, for the token search
    QList<QByteArray> m_tokens;   // every token of the bridge seen in the keychain

    QString diagnostics() const
    {
        return (m_broker ? m_broker->diagnostics() : QString())
                + (m_alpha ? m_alpha->diagnostics() : QString());
    }

    QStringList bridgeCommand(const QStringList &extraArguments = {}) const
    {
        return QStringList{brokerBinary(), QStringLiteral("--config"), m_broker->configPath(),
                           QStringLiteral("stdio")}
        + extraArguments;
    }

    // stdio-bridge-client.mjs in front of `mcp-broker stdio ARGS`; its JSON summary.
    QJsonObject runClient(const QStringList &clientArguments, const QStringList &bridgeArguments,
                          ProcessRun *run)
    {
        PeerProcess client(
                QStringLiteral("stdio-bridge-client"), Peers::node22(),
                QStringList{Peers::directory() + QStringLiteral("/stdio-bridge-client.mjs")}
                        + clientArguments + QStringList{QStringLiteral("--")}
                        + bridgeCommand(bridgeArguments));
        client.setEnvironment(m_broker->environment());
        client.setWorkingDirectory(Peers::directory());
        *run = client.run(60'000);
        m_allBridgeOutput += run->out + run->err;
        return QJsonDocument::fromJson(run->out).object();
    }

    // The bridge's grant token, as the keychain holds it (empty when there is none).
    QByteArray bridgeToken()
    {
        mcpbroker::store::SecretStore store(QStringLiteral("mcp-broker"), 10'000);
        std::optional<Result<QByteArray>> answer;
        store.read(mcpbroker::store::SecretKeys::stdioBridgeToken(m_broker->configPath()),
                   [&answer](Result<QByteArray> result) { answer = std::move(result); });
        if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 15'000) || !answer->ok())
            return {};
        if (!m_tokens.contains(answer->value()))
            m_tokens << answer->value();
        return answer->value();
    }

    // The ids of the grants named "stdio bridge", from `grant list --json`.
    QStringList bridgeGrantIds()
    {
        const CliResult listed = m_broker->run(
                {QStringLiteral("grant"), QStringLiteral("list"), QStringLiteral("--json")});
        QStringList ids;
        const QJsonArray grants = QJsonDocument::fromJson(listed.out)
                                          .object()
                                          .value(QStringLiteral("grants"))
                                          .toArray();
        for (const QJsonValue &grant : grants) {
            if (grant.toObject().value(QStringLiteral("client")).toString() == kBridgeClient)
                ids << grant.toObject().value(QStringLiteral("id")).toString();
        }
        return ids;
    }

    // Nothing of any token the bridge had, and no grant token at all, in `output`.
    void verifyNoToken(const QByteArray &output)
    {
        QVERIFY2(!bridgeToken().isEmpty(), "the keychain holds no token of the bridge");
        QList<QByteArray> secrets;
        for (const QByteArray &token : std::as_const(m_tokens))
            secrets << grantTokenSecret(token);
        const QStringList leaks = leakedPieces(output, secrets);
        QVERIFY2(leaks.isEmpty(), qPrintable(leaks.join(QStringLiteral(", "))));
        QVERIFY2(!output.contains("mcpb_"), "a grant token shows in the bridge's output");
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        m_alpha = UpstreamServer::fixture(QStringLiteral("alpha"));
        m_alpha->start();
        QVERIFY2(m_alpha->waitUntilListening(), qPrintable(m_alpha->diagnostics()));
        m_broker = std::make_unique<BrokerProcess>();
        m_broker->setDefaultGrant(false); // the bridge brings its own
        const CliResult added = m_broker->add(QStringLiteral("alpha"), m_alpha->url());
        QVERIFY2(added.succeeded(), qPrintable(added.describe()));
    }

    // Every test finds the broker serving (the one that stops it leaves it stopped).
    void init()
    {
        if (m_broker->isRunning())
            return;
        QVERIFY2(m_broker->start(), qPrintable(diagnostics()));
        QString status;
        QVERIFY2(m_broker->waitUntilReady({QStringLiteral("alpha")}, kReadyTimeoutMs, &status),
                 qPrintable(status + diagnostics()));
    }

    void cleanupTestCase()
    {
        if (m_broker)
            m_broker->stop();
        m_alpha.reset();
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    void withoutARunningBrokerItSaysSoAndExitsOne()
    {
        BrokerProcess nothingRunning; // a config of its own, never served
        const CliResult run = nothingRunning.run({QStringLiteral("stdio")}, line(initialize(1)));
        QVERIFY2(run.finished && run.exitCode == 1, qPrintable(run.describe()));
        QCOMPARE(QString::fromUtf8(run.err), kNotRunning);
        QVERIFY2(run.out.isEmpty(), qPrintable(run.describe()));
    }

    void realClientListsAndCallsAggregatedToolsThroughTheBridge()
    {
        ProcessRun run;
        const QJsonObject summary = runClient(
                {QStringLiteral("--call"), QStringLiteral("alpha__echo"), QStringLiteral("--args"),
                 QStringLiteral("{\"text\":\"over stdio\"}"), QStringLiteral("--call"),
                 QStringLiteral("alpha__test_sampling"), QStringLiteral("--args"),
                 QStringLiteral("{\"prompt\":\"hello\"}"), QStringLiteral("--call"),
                 QStringLiteral("alpha__test_tool_with_progress"), QStringLiteral("--progress")},
                {}, &run);
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + diagnostics()));

        const QJsonArray tools = summary.value(QStringLiteral("tools")).toArray();
        QVERIFY2(tools.contains(QStringLiteral("alpha__echo")), qPrintable(run.describe()));
        const QJsonObject calls = summary.value(QStringLiteral("calls")).toObject();
        const auto text = [&calls](const QString &tool) {
            return calls.value(tool)
                    .toObject()
                    .value(QStringLiteral("content"))
                    .toArray()
                    .at(0)
                    .toObject()
                    .value(QStringLiteral("text"))
                    .toString();
        };
        QCOMPARE(text(QStringLiteral("alpha__echo")), QStringLiteral("alpha: over stdio"));
        // The upstream's sampling request reached the client through the bridge, and the
        // client's answer went back the same way.
        QCOMPARE(summary.value(QStringLiteral("samplingRequests")).toInt(), 1);
        QCOMPARE(text(QStringLiteral("alpha__test_sampling")),
                 QStringLiteral("LLM response: ") + kSampledText);
        QVERIFY2(summary.value(QStringLiteral("notifications"))
                                 .toObject()
                                 .value(QStringLiteral("notifications/progress"))
                                 .toInt()
                         >= 1,
                 qPrintable(run.describe()));

        QCOMPARE(summary.value(QStringLiteral("nonJsonRpcLines")).toArray(), QJsonArray());
        QCOMPARE(summary.value(QStringLiteral("transportErrors")).toArray(), QJsonArray());
        QVERIFY(summary.value(QStringLiteral("stdoutLines")).toInt() >= 5);
        QVERIFY2(summary.value(QStringLiteral("exitedAtEndOfInput")).toBool(),
                 qPrintable(run.describe()));
        QCOMPARE(summary.value(QStringLiteral("exitCode")).toInt(-1), 0);

        QCOMPARE(bridgeGrantIds().size(), 1);
        verifyNoToken(run.out + run.err);
    }

    void bridgeForOneServerRelaysTheSessionsGetStreamAndKeepsItsGrant()
    {
        const QStringList before = bridgeGrantIds();
        ProcessRun run;
        const QJsonObject summary = runClient(
                {QStringLiteral("--subscribe"), QStringLiteral("test://watched-resource"),
                 QStringLiteral("--call"), QStringLiteral("update_watched_resource"),
                 QStringLiteral("--wait-for"), QStringLiteral("notifications/resources/updated")},
                {QStringLiteral("--server"), QStringLiteral("alpha")}, &run);
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + diagnostics()));

        // The server's own names, not the aggregated ones.
        const QJsonArray tools = summary.value(QStringLiteral("tools")).toArray();
        QVERIFY2(tools.contains(QStringLiteral("echo"))
                         && !tools.contains(QStringLiteral("alpha__echo")),
                 qPrintable(run.describe()));
        QVERIFY2(summary.value(QStringLiteral("notifications"))
                                 .toObject()
                                 .value(QStringLiteral("notifications/resources/updated"))
                                 .toInt()
                         >= 1,
                 qPrintable(run.describe()));
        QCOMPARE(summary.value(QStringLiteral("nonJsonRpcLines")).toArray(), QJsonArray());
        QCOMPARE(summary.value(QStringLiteral("exitCode")).toInt(-1), 0);
        // The grant from the keychain served again: no new one.
        if (!before.isEmpty())
            QCOMPARE(bridgeGrantIds(), before);
        QCOMPARE(bridgeGrantIds().size(), 1);
        verifyNoToken(run.out + run.err);
    }

    void linesWrittenAtOnceAreAllAnsweredBeforeTheBridgeExits()
    {
        // As `printf … | mcp-broker stdio`: the input ends right after the requests, which still
        // reach the broker in order (initialized before tools/list) and are all answered. A line
        // that is not JSON gets a parse error, one that is not JSON-RPC an invalid request
        // error; neither changes anything else.
        const QByteArray input = "this is not JSON\n" + line(initialize(1)) + line(initialized())
                + "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":5}\n"
                + line(request(2, QStringLiteral("tools/list")))
                + line(request(3, QStringLiteral("ping")));
        const CliResult run = m_broker->run({QStringLiteral("stdio")}, input, kBridgeTimeoutMs);
        m_allBridgeOutput += run.out + run.err;
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + diagnostics()));

        QStringList bad;
        const QList<QJsonObject> messages = messagesIn(run.out, &bad);
        QVERIFY2(bad.isEmpty(), qPrintable(bad.join(QLatin1Char('\n'))));
        QCOMPARE(messages.size(), 5);
        QCOMPARE(messages.at(0)
                         .value(QStringLiteral("error"))
                         .toObject()
                         .value(QStringLiteral("code"))
                         .toInt(),
                 -32700);
        QVERIFY(messages.at(0).value(QStringLiteral("id")).isNull());
        const auto invalid = responseTo(messages, 9);
        QVERIFY2(invalid
                         && invalid->value(QStringLiteral("error"))
                                         .toObject()
                                         .value(QStringLiteral("code"))
                                         .toInt()
                                 == -32600,
                 qPrintable(run.describe()));
        const auto initializeAnswer = responseTo(messages, 1);
        QVERIFY2(initializeAnswer && initializeAnswer->contains(QStringLiteral("result")),
                 qPrintable(run.describe()));
        const auto listed = responseTo(messages, 2);
        QVERIFY2(listed
                         && !listed->value(QStringLiteral("result"))
                                     .toObject()
                                     .value(QStringLiteral("tools"))
                                     .toArray()
                                     .isEmpty(),
                 qPrintable(run.describe()));
        const auto pong = responseTo(messages, 3);
        QVERIFY2(pong && pong->contains(QStringLiteral("result")), qPrintable(run.describe()));
        verifyNoToken(run.out + run.err);
    }

    void terminationSignalEndsTheBridgeWithExitZero()
    {
        // What a client does when the bridge does not exit after its input ends (MCP lifecycle).
        InteractiveBridge bridge(*m_broker);
        QVERIFY(bridge.started());
        bridge.send(initialize(1));
        QVERIFY2(bridge.waitForOutput("\"id\":1"), qPrintable(bridge.describe()));
        bridge.send(initialized());
        bridge.terminate();
        QVERIFY2(bridge.waitForExit(), qPrintable(bridge.describe()));
        m_allBridgeOutput += bridge.standardOutput() + bridge.standardError();
        QCOMPARE(bridge.exitCode(), 0);
    }

    void unknownServerIsRefusedWithTheBrokersSentence()
    {
        const CliResult run = m_broker->run(
                {QStringLiteral("stdio"), QStringLiteral("--server"), QStringLiteral("nosuch")},
                line(initialize(1)), kBridgeTimeoutMs);
        m_allBridgeOutput += run.out + run.err;
        QVERIFY2(run.succeeded(), qPrintable(run.describe()));
        QStringList bad;
        const auto answer = responseTo(messagesIn(run.out, &bad), 1);
        QVERIFY2(bad.isEmpty() && answer, qPrintable(run.describe()));
        const QString message = answer->value(QStringLiteral("error"))
                                        .toObject()
                                        .value(QStringLiteral("message"))
                                        .toString();
        QVERIFY2(message.contains(QStringLiteral("No server named 'nosuch'")),
                 qPrintable(run.describe()));
        // Clients often hide a failed initialize: stderr says it too.
        QVERIFY2(run.err.contains("No server named 'nosuch'"), qPrintable(run.describe()));
    }

    void revokedGrantCutsTheClientOffAndExitsOne()
    {
        InteractiveBridge bridge(*m_broker);
        startCallWaitingOnTheClient(bridge, 2, QStringLiteral("alpha__test_elicitation"));
        if (QTest::currentTestFailed())
            return;

        const CliResult revoked = m_broker->revokeGrant(kBridgeClient);
        QVERIFY2(revoked.succeeded(), qPrintable(revoked.describe()));
        // The call that was waiting learns why no answer comes; so does the person.
        verifyEndedWithError(bridge, 2, QStringLiteral("revoked the stdio bridge's access grant"));
        QVERIFY2(bridgeGrantIds().isEmpty(), "the bridge made itself a new grant mid-session");
    }

    void nextStartAfterARevocationMakesANewGrant()
    {
        // Whatever grant the bridge had is revoked; its token stays in the keychain.
        initializeOnce(); // makes sure there is one
        if (QTest::currentTestFailed())
            return;
        const QByteArray oldToken = bridgeToken();
        QVERIFY(!oldToken.isEmpty());
        QVERIFY(m_broker->revokeGrant(kBridgeClient).succeeded());
        QVERIFY(bridgeGrantIds().isEmpty());

        initializeOnce();
        if (QTest::currentTestFailed())
            return;
        const QStringList now = bridgeGrantIds();
        QCOMPARE(now.size(), 1);
        const QByteArray newToken = bridgeToken();
        QVERIFY(!newToken.isEmpty() && newToken != oldToken);
        QVERIFY(newToken.contains(now.first().toLatin1()));
    }

    // Last but one: stops the broker (init() starts it again for whatever follows).
    void brokerGoingAwayAnswersWaitingRequestsAndExitsOne()
    {
        InteractiveBridge bridge(*m_broker, {QStringLiteral("--server"), QStringLiteral("alpha")});
        startCallWaitingOnTheClient(bridge, 7, QStringLiteral("test_elicitation"));
        if (QTest::currentTestFailed())
            return;

        QVERIFY2(m_broker->stop(), qPrintable(diagnostics()));
        verifyEndedWithError(bridge, 7, QStringLiteral("went away"));
    }

    void noTokenInAnythingTheBridgesWrote()
    {
        QVERIFY(!m_allBridgeOutput.isEmpty());
        verifyNoToken(m_allBridgeOutput);
    }

private:
    // A session through `bridge` with call `id` of `tool` (test_elicitation) waiting: the
    // upstream asked the client for input, which never comes.
    void startCallWaitingOnTheClient(InteractiveBridge &bridge, int id, const QString &tool)
    {
        QVERIFY(bridge.started());
        bridge.send(initialize(1));
        QVERIFY2(bridge.waitForOutput("\"id\":1"), qPrintable(bridge.describe()));
        bridge.send(initialized());
        bridge.send(toolCall(id, tool, {{QStringLiteral("message"), QStringLiteral("waiting")}}));
        QVERIFY2(bridge.waitForOutput("elicitation/create"),
                 qPrintable(bridge.describe() + diagnostics()));
    }

    // `bridge` exits 1 saying `why` on stderr, after answering the waiting call `id` with a
    // JSON-RPC error that says it too; stdout holds JSON-RPC lines only.
    void verifyEndedWithError(InteractiveBridge &bridge, int id, const QString &why)
    {
        QVERIFY2(bridge.waitForExit(), qPrintable(bridge.describe()));
        m_allBridgeOutput += bridge.standardOutput() + bridge.standardError();
        QCOMPARE(bridge.exitCode(), 1);
        QVERIFY2(QString::fromUtf8(bridge.standardError()).contains(why),
                 qPrintable(bridge.describe()));
        QStringList bad;
        const auto answer = responseTo(messagesIn(bridge.standardOutput(), &bad), id);
        QVERIFY2(bad.isEmpty(), qPrintable(bad.join(QLatin1Char('\n'))));
        QVERIFY2(answer, qPrintable(bridge.describe()));
        const QJsonObject error = answer->value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), -32000);
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(why),
                 qPrintable(bridge.describe()));
    }

    // One bridge run with initialize only; checked.
    void initializeOnce()
    {
        const CliResult run
                = m_broker->run({QStringLiteral("stdio")}, line(initialize(1)), kBridgeTimeoutMs);
        m_allBridgeOutput += run.out + run.err;
        QStringList bad;
        const auto answer = responseTo(messagesIn(run.out, &bad), 1);
        QVERIFY2(run.succeeded() && answer && answer->contains(QStringLiteral("result")),
                 qPrintable(run.describe() + diagnostics()));
    }
};

QTEST_GUILESS_MAIN(StdioBridgeTest)
#include "tst_stdiobridge.moc"
