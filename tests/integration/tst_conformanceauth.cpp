// The client auth scenarios of the MCP conformance suite (@modelcontextprotocol/conformance)
// with MCP Broker as the OAuth client of the suite's MCP server: for each scenario the suite
// starts a server and its authorization server and runs conformance-auth-client.sh against it,
// which adds the server to a fresh broker config, signs in (the "browser" is
// tests/peers/redirect-browser.sh), serves, and calls the first tool through /mcp/<name>. The
// suite's checks (checks.json) must all pass, and the command must succeed where the scenario
// expects it to; the only exceptions are listed, with their reason, in
// conformance-auth-expected-failures.yml, and a listed scenario that passes fails too (stale).

#include "ConformanceClient.h"
#include "Peers.h"

#include <QFileInfo>
#include <QTest>

using namespace mcpbroker::integration;

namespace {

// Every client auth scenario of the suite 0.1.16: --suite auth, backcompat, draft, extensions.
const QStringList kScenarios{
        QStringLiteral("auth/metadata-default"),
        QStringLiteral("auth/metadata-var1"),
        QStringLiteral("auth/metadata-var2"),
        QStringLiteral("auth/metadata-var3"),
        QStringLiteral("auth/basic-cimd"),
        QStringLiteral("auth/scope-from-www-authenticate"),
        QStringLiteral("auth/scope-from-scopes-supported"),
        QStringLiteral("auth/scope-omitted-when-undefined"),
        QStringLiteral("auth/scope-step-up"),
        QStringLiteral("auth/scope-retry-limit"),
        QStringLiteral("auth/token-endpoint-auth-basic"),
        QStringLiteral("auth/token-endpoint-auth-post"),
        QStringLiteral("auth/token-endpoint-auth-none"),
        QStringLiteral("auth/pre-registration"),
        QStringLiteral("auth/2025-03-26-oauth-metadata-backcompat"),
        QStringLiteral("auth/2025-03-26-oauth-endpoint-fallback"),
        QStringLiteral("auth/resource-mismatch"),
        QStringLiteral("auth/offline-access-scope"),
        QStringLiteral("auth/offline-access-not-supported"),
        QStringLiteral("auth/client-credentials-jwt"),
        QStringLiteral("auth/client-credentials-basic"),
        QStringLiteral("auth/cross-app-access-complete-flow"),
};

// The wrapper's budget for all its steps, below the suite's timeout for it, so that it always
// ends by itself and says which step was slow. A scenario takes about a second when it works.
constexpr int kClientBudgetSeconds = 20;
constexpr int kSuiteTimeoutMs = 30'000;
constexpr int kRunTimeoutMs = 60'000;

QString expectedFailuresFile()
{
    return integrationSourceDirectory() + QStringLiteral("/conformance-auth-expected-failures.yml");
}

QString clientCommand()
{
    return integrationSourceDirectory() + QStringLiteral("/conformance-auth-client.sh");
}

QString resultsFor(const QString &scenario)
{
    QString folder = scenario;
    folder.replace(QLatin1Char('/'), QLatin1Char('_'));
    return resultsDirectory() + QStringLiteral("/conformance-auth/") + folder;
}

} // namespace

class ConformanceAuthTest : public QObject
{
    Q_OBJECT

private:
    QStringList m_expectedFailures;

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        for (const QString &path : {ConformanceSuite::script(), clientCommand(),
                                    Peers::directory() + QStringLiteral("/redirect-browser.sh"),
                                    Peers::directory() + QStringLiteral("/call-first-tool.mjs")})
            QVERIFY2(QFileInfo::exists(path), qPrintable(path + QStringLiteral(" is missing")));
        QVERIFY2(QFileInfo(clientCommand()).isExecutable(), qPrintable(clientCommand()));
        QString error;
        m_expectedFailures
                = ConformanceSuite::expectedClientFailures(expectedFailuresFile(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // A misspelt entry would never match and so never go stale: refuse it.
        for (const QString &name : std::as_const(m_expectedFailures))
            QVERIFY2(kScenarios.contains(name),
                     qPrintable(QStringLiteral("%1 lists %2, which is not an auth scenario here")
                                        .arg(expectedFailuresFile(), name)));
    }

    void cleanupTestCase()
    {
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    void brokerPassesClientAuthScenario_data()
    {
        QTest::addColumn<QString>("scenario");
        for (const QString &scenario : kScenarios)
            QTest::newRow(qPrintable(scenario)) << scenario;
    }

    void brokerPassesClientAuthScenario()
    {
        QFETCH(QString, scenario);
        ConformanceClientOptions options;
        options.command = QStringLiteral("exec ") + ConformanceSuite::shellQuoted(clientCommand());
        options.resultsDirectory = resultsFor(scenario);
        options.browserLog = options.resultsDirectory + QStringLiteral("/browser.log");
        options.suiteTimeoutMs = kSuiteTimeoutMs;
        options.timeoutMs = kRunTimeoutMs;
        options.environment = QProcessEnvironment::systemEnvironment();
        // The suite sets these for the command; stale ones from outside must not leak in.
        for (const char *name :
             {"MCP_CONFORMANCE_SCENARIO", "MCP_CONFORMANCE_CONTEXT", "MCP_BROKER_CONFIG"})
            options.environment.remove(QLatin1String(name));
        options.environment.insert(QStringLiteral("MCPB_BROKER_BINARY"), brokerBinary());
        options.environment.insert(QStringLiteral("MCPB_BROWSER_LOG"), options.browserLog);
        options.environment.insert(QStringLiteral("MCPB_CONFORMANCE_BUDGET"),
                                   QString::number(kClientBudgetSeconds));

        const ConformanceClientRun run = runConformanceClient(scenario, options);
        if (m_expectedFailures.contains(scenario))
            QEXPECT_FAIL("",
                         "listed in conformance-auth-expected-failures.yml; if it passes now, "
                         "remove it from there (stale entry)",
                         Abort);
        QVERIFY2(run.passed(), qPrintable(run.describe()));
    }
};

QTEST_GUILESS_MAIN(ConformanceAuthTest)
#include "tst_conformanceauth.moc"
