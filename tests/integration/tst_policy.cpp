// Per-tool policy and the audit log, end to end: a real SDK fixture upstream behind the broker's
// real endpoint, a client with a static grant speaking MCP over HTTP. The broker runs in this
// process (the Broker facade, as the tray app runs it) so that the test can answer "ask"
// decisions the way the tray does: approveToolCall / denyToolCall.

#include "InProcessBroker.h"
#include "McpHttp.h"
#include "UpstreamServer.h"

#include "Broker.h"
#include "gateway/ApprovalQueue.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::integration;

namespace {

const QByteArray kSecretArgument = "sk-live-policy-test-7f3a9c";

// config.json with one upstream and the policy under test.
QByteArray configFor(const QUrl &upstream)
{
    const QJsonObject policy{
            {"rules",
             QJsonArray{
                     QJsonObject{{"server", "alpha"},
                                 {"tool", "test_simple_text"},
                                 {"decision", "deny"}},
                     QJsonObject{{"client", "policy-client"},
                                 {"server", "alpha"},
                                 {"tool", "echo"},
                                 {"decision", "allow"},
                                 {"arguments", QJsonObject{{"text", "public *"}}}},
                     QJsonObject{{"server", "alpha"}, {"tool", "echo"}, {"decision", "ask"}},
             }},
            {"askTimeoutSeconds", 5}};
    const QJsonObject server{{"name", "alpha"}, {"url", upstream.toString()}};
    return QJsonDocument(
                   QJsonObject{{"version", 1}, {"servers", QJsonArray{server}}, {"policy", policy}})
            .toJson();
}

} // namespace

class TestPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void deniedToolIsHiddenAndRefused();
    void argumentRuleAllowsMatchingCall();
    void askFailsAtOnceWithoutApprover();
    void askApprovedInTrayRunsTheCall();
    void askDeclinedInTrayRefusesTheCall();
    void auditLogHasOneLinePerCallAndNoSecret();

private:
    QJsonObject callEcho(const QString &text);

    QTemporaryDir m_directory;
    std::unique_ptr<UpstreamServer> m_upstream;
    std::unique_ptr<Broker> m_broker;
    QByteArray m_token;
    McpHttp m_http;
    McpSession m_session;
    int m_nextId = 10;
    int m_callsMade = 0;
};

void TestPolicy::initTestCase()
{
    QVERIFY(m_directory.isValid());
    m_upstream = UpstreamServer::fixture(QStringLiteral("alpha"));
    m_upstream->start();
    QVERIFY2(m_upstream->waitUntilListening(), qPrintable(m_upstream->diagnostics()));

    QString why;
    InProcessBroker started
            = InProcessBroker::start(m_directory.path(), configFor(m_upstream->url()),
                                     QStringLiteral("policy-client"), &why);
    QVERIFY2(started.broker, qPrintable(why));
    m_broker = std::move(started.broker);
    m_token = started.token;

    m_http.setDefaultHeaders({{"Authorization", "Bearer " + m_token}}, m_broker->endpointUrl());
    QVERIFY2(m_http.open(m_broker->endpointUrl(), QStringLiteral("2025-06-18"), &m_session, &why),
             qPrintable(why));
}

void TestPolicy::cleanupTestCase()
{
    m_broker.reset();
    m_upstream.reset();
}

void TestPolicy::init()
{
    m_broker->setApproverPresent(false);
}

QJsonObject TestPolicy::callEcho(const QString &text)
{
    ++m_callsMade;
    const int id = m_nextId++;
    const HttpResult answer = m_http.call(
            m_session, QStringLiteral("tools/call"),
            {{"name", "alpha__echo"}, {"arguments", QJsonObject{{"text", text}}}}, id);
    return answer.response(id);
}

void TestPolicy::deniedToolIsHiddenAndRefused()
{
    const HttpResult list = m_http.call(m_session, QStringLiteral("tools/list"), {}, m_nextId);
    const QJsonObject listed = list.response(m_nextId++);
    QStringList names;
    for (const QJsonValue &tool : listed["result"].toObject()["tools"].toArray())
        names << tool.toObject()["name"].toString();
    QVERIFY2(names.contains(QStringLiteral("alpha__echo")), qPrintable(list.describe()));
    QVERIFY2(!names.contains(QStringLiteral("alpha__test_simple_text")),
             qPrintable(names.join(", ")));

    ++m_callsMade;
    const int id = m_nextId++;
    const HttpResult call = m_http.call(m_session, QStringLiteral("tools/call"),
                                        {{"name", "alpha__test_simple_text"}}, id);
    const QJsonObject response = call.response(id);
    QVERIFY2(isToolError(response), qPrintable(call.describe()));
    QVERIFY2(toolResultText(response).contains(QStringLiteral("Denied by policy rule 1")),
             qPrintable(toolResultText(response)));
}

void TestPolicy::argumentRuleAllowsMatchingCall()
{
    const QJsonObject response = callEcho(QStringLiteral("public notes"));
    QVERIFY2(!isToolError(response), qPrintable(toolResultText(response)));
    QCOMPARE(toolResultText(response), QStringLiteral("alpha: public notes"));
}

void TestPolicy::askFailsAtOnceWithoutApprover()
{
    QSignalSpy asked(m_broker.get(), &Broker::toolCallApprovalRequested);
    const QJsonObject response = callEcho(QString::fromLatin1(kSecretArgument));
    QVERIFY(isToolError(response));
    QVERIFY2(toolResultText(response).contains(QStringLiteral("no tray icon")),
             qPrintable(toolResultText(response)));
    QCOMPARE(asked.count(), 0);
}

void TestPolicy::askApprovedInTrayRunsTheCall()
{
    m_broker->setApproverPresent(true);
    QString askedTool;
    const auto connection = connect(m_broker.get(), &Broker::toolCallApprovalRequested, this,
                                    [&](const gateway::ApprovalRequest &request) {
                                        askedTool = request.tool;
                                        QCOMPARE(request.client, QStringLiteral("policy-client"));
                                        m_broker->approveToolCall(request.id);
                                    });
    const QJsonObject response = callEcho(QString::fromLatin1(kSecretArgument));
    disconnect(connection);
    QCOMPARE(askedTool, QStringLiteral("echo"));
    QVERIFY2(!isToolError(response), qPrintable(toolResultText(response)));
    QCOMPARE(toolResultText(response),
             QStringLiteral("alpha: ") + QString::fromLatin1(kSecretArgument));
    QVERIFY(m_broker->pendingApprovals().isEmpty());
}

void TestPolicy::askDeclinedInTrayRefusesTheCall()
{
    m_broker->setApproverPresent(true);
    const auto connection = connect(
            m_broker.get(), &Broker::toolCallApprovalRequested, this,
            [&](const gateway::ApprovalRequest &request) { m_broker->denyToolCall(request.id); });
    const QJsonObject response = callEcho(QStringLiteral("private plans"));
    disconnect(connection);
    QVERIFY(isToolError(response));
    QVERIFY2(toolResultText(response).contains(QStringLiteral("declined")),
             qPrintable(toolResultText(response)));
}

void TestPolicy::auditLogHasOneLinePerCallAndNoSecret()
{
    QFile file(m_directory.filePath(QStringLiteral("audit.log")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray contents = file.readAll();
    const QList<QByteArray> lines = contents.trimmed().split('\n');
    QCOMPARE(lines.size(), m_callsMade);
    QStringList decisions;
    for (const QByteArray &line : lines) {
        const QJsonObject entry = QJsonDocument::fromJson(line).object();
        QVERIFY2(!entry.isEmpty(), line.constData());
        QCOMPARE(entry["client"].toString(), QStringLiteral("policy-client"));
        QCOMPARE(entry["server"].toString(), QStringLiteral("alpha"));
        QVERIFY(entry.contains("durationMs"));
        decisions << entry["decision"].toString() + QLatin1Char('/') + entry["outcome"].toString();
    }
    QCOMPARE(decisions,
             QStringList({"deny/refused", "allow/ok", "no-approver/refused", "approved/ok",
                          "declined/refused"}));
    // Neither an argument's value nor the grant reaches the log.
    QVERIFY(!contents.contains(kSecretArgument));
    QVERIFY(!contents.contains("public notes"));
    QVERIFY(!contents.contains(m_token));
    QVERIFY(!contents.contains(m_token.split('_').last()));
}

QTEST_GUILESS_MAIN(TestPolicy)
#include "tst_policy.moc"
