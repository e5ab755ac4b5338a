// One broker per config file (issue #5): a second `serve` for the same config exits with a
// sentence naming the running one and leaves it alone, a broker killed without cleaning up does
// not block the next, and `mcp-broker login` / `logout` act through the running broker (its
// browser window, its state at once) instead of beside it. The OAuth tests use a real
// authorization server (oidc-provider) and the scripted browser (OAuthBrokerSuite, as
// tst_upstreamoauth does).

#include "OAuthBrokerSuite.h"

#include <QTest>

using namespace mcpbroker::integration;

namespace {

constexpr int kReadyTimeoutMs = 30'000;
constexpr int kLoginTimeoutMs = 60'000;
// The scripted browser notes a launch when it ends, which may be after the broker heard back.
constexpr int kBrowserLogTimeoutMs = 10'000;

} // namespace

class TestSingleInstance : public OAuthBrokerSuite
{
    Q_OBJECT

private Q_SLOTS:
    void secondServeForOneConfigExitsWithASentenceAndTheFirstKeepsServing();
    void brokerKilledWithoutCleaningUpDoesNotBlockTheNext();
    void loginAndLogoutGoThroughTheRunningBroker();
    void failedSignInIsReportedFromTheRunningBroker();
    void withoutARunningBrokerLoginAndLogoutWorkAlone();
};

// --- tests -------------------------------------------------------------------------------------

void TestSingleInstance::secondServeForOneConfigExitsWithASentenceAndTheFirstKeepsServing()
{
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    const qint64 pid = m_broker->serveProcess()->processId();

    // On the first one's port: the instance check comes before the port, so the sentence is
    // about the running broker, not about a port in use.
    const CliResult second = m_broker->run(
            {QStringLiteral("serve"), QStringLiteral("--port"), QString::number(m_broker->port())});
    QVERIFY2(second.finished && second.exitCode == 1, qPrintable(second.describe()));
    const QString expected
            = QStringLiteral("MCP Broker is already running for %1 (pid %2, port %3).")
                      .arg(m_broker->configPath())
                      .arg(pid)
                      .arg(m_broker->port());
    QVERIFY2(QString::fromUtf8(second.err).contains(expected), qPrintable(second.describe()));
    QVERIFY2(!second.out.contains("listening"), qPrintable(second.describe()));

    // The first one still serves, and still answers its control socket.
    QVERIFY(m_broker->isRunning());
    const HttpResult status = m_http.get(m_broker->statusUrl());
    QVERIFY2(status.status == 200, qPrintable(status.describe()));
    const CliResult again = m_broker->run({QStringLiteral("serve")});
    QCOMPARE(again.exitCode, 1);

    // Once it stops, a new one starts.
    QVERIFY(m_broker->stop());
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
}

void TestSingleInstance::brokerKilledWithoutCleaningUpDoesNotBlockTheNext()
{
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    m_broker->serveProcess()->kill(); // SIGKILL: its socket file stays behind
    QVERIFY(!m_broker->isRunning());
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    const HttpResult status = m_http.get(m_broker->statusUrl());
    QVERIFY2(status.status == 200, qPrintable(status.describe()));
    // And it is the one instance now.
    const CliResult second = m_broker->run({QStringLiteral("serve")});
    QVERIFY2(second.exitCode == 1 && second.err.contains("already running"),
             qPrintable(second.describe()));
}

void TestSingleInstance::loginAndLogoutGoThroughTheRunningBroker()
{
    setUpOAuthServer();
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("needs-sign-in")}},
                                           kReadyTimeoutMs, &status),
             qPrintable(status));

    // The CLI has no browser of its own now: only the running broker can sign in.
    m_broker->environment().insert(QStringLiteral("BROWSER"),
                                   scratchPath(QStringLiteral("no-such-browser")));
    const CliResult login = m_broker->run({QStringLiteral("login"), m_server}, {}, kLoginTimeoutMs);
    QVERIFY2(login.succeeded(), qPrintable(login.describe()));
    QVERIFY2(login.err.contains(QStringLiteral("Signing in to '%1' in your browser (through the "
                                               "running MCP Broker)…")
                                        .arg(m_server)
                                        .toUtf8()),
             qPrintable(login.describe()));
    QVERIFY2(login.out.contains(QStringLiteral("Signed in to '%1'.").arg(m_server).toUtf8()),
             qPrintable(login.describe()));
    QTRY_COMPARE_WITH_TIMEOUT(browserLaunches(), 1, kBrowserLogTimeoutMs);
    // At once: no client had to ask for the server first.
    QCOMPARE(serverStatus()[QStringLiteral("signIn")].toString(), QStringLiteral("signed-in"));

    const CliResult logout = m_broker->run({QStringLiteral("logout"), m_server});
    QVERIFY2(logout.succeeded(), qPrintable(logout.describe()));
    QVERIFY2(logout.out.contains(QStringLiteral("Signed out of '%1'.").arg(m_server).toUtf8()),
             qPrintable(logout.describe()));
    QCOMPARE(serverStatus()[QStringLiteral("signIn")].toString(), QStringLiteral("needs-sign-in"));
    QCOMPARE(m_peers->authorizationStats()[QStringLiteral("revocations")][QStringLiteral("success")]
                     .toInt(),
             1);
    QVERIFY(m_broker->isRunning());
}

void TestSingleInstance::failedSignInIsReportedFromTheRunningBroker()
{
    setUpOAuthServer();
    // The broker's browser says no; the CLI's would say yes.
    m_broker->environment().insert(QStringLiteral("MCPB_BROWSER_ACTION"), QStringLiteral("deny"));
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    m_broker->environment().remove(QStringLiteral("MCPB_BROWSER_ACTION"));

    const CliResult login = m_broker->run({QStringLiteral("login"), m_server}, {}, kLoginTimeoutMs);
    QVERIFY2(login.finished && login.exitCode == 1, qPrintable(login.describe()));
    QVERIFY2(login.err.contains(QStringLiteral("Sign-in to '%1' failed: ").arg(m_server).toUtf8()),
             qPrintable(login.describe()));
    QTRY_COMPARE_WITH_TIMEOUT(browserLaunches(), 1, kBrowserLogTimeoutMs);
    QVERIFY(serverStatus()[QStringLiteral("signIn")].toString() != QStringLiteral("signed-in"));
}

void TestSingleInstance::withoutARunningBrokerLoginAndLogoutWorkAlone()
{
    setUpOAuthServer();
    const CliResult login = m_broker->run({QStringLiteral("login"), m_server}, {}, kLoginTimeoutMs);
    QVERIFY2(login.succeeded(), qPrintable(login.describe()));
    QVERIFY2(login.err.contains("Opened the sign-in page"), qPrintable(login.describe()));
    QVERIFY2(!login.err.contains("through the running MCP Broker"), qPrintable(login.describe()));
    QTRY_COMPARE_WITH_TIMEOUT(browserLaunches(), 1, kBrowserLogTimeoutMs);

    // A broker started later finds the tokens.
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("ready")}}, kReadyTimeoutMs,
                                           &status),
             qPrintable(status));
    QVERIFY(m_broker->stop());

    const CliResult logout = m_broker->run({QStringLiteral("logout"), m_server});
    QVERIFY2(logout.succeeded(), qPrintable(logout.describe()));
    QCOMPARE(m_peers->authorizationStats()[QStringLiteral("revocations")][QStringLiteral("success")]
                     .toInt(),
             1);
}

QTEST_GUILESS_MAIN(TestSingleInstance)
#include "tst_singleinstance.moc"
