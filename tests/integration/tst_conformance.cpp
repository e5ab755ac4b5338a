// The MCP conformance suite's 32 server scenarios (@modelcontextprotocol/conformance, run by
// tests/peers/run-conformance-server.sh) against the broker's per-server endpoint /mcp/<name>
// for the SDK fixture upstream, which passes all of them on its own. Whatever fails here and
// not against the fixture is the broker's doing; the only allowed exceptions are listed, with
// their reason, in conformance-expected-failures.yml. Results go to the build directory.
// The broker wants a grant: the suite's requests to it carry the broker's default grant
// (tests/peers/add-authorization.cjs, a client-side harness shim: the suite cannot send headers).
// dns-rebinding-protection then also shows that a foreign Host is refused even with a grant.

#include "BrokerProcess.h"
#include "PeerClients.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QDir>
#include <QTest>

#include <memory>

using namespace mcpbroker::integration;

namespace {

QString expectedFailuresFile()
{
    return integrationSourceDirectory() + QStringLiteral("/conformance-expected-failures.yml");
}

QString resultsFor(const char *testName)
{
    return resultsDirectory() + QStringLiteral("/conformance/") + QLatin1String(testName);
}

} // namespace

class ConformanceTest : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<UpstreamServer> m_upstream;
    std::unique_ptr<BrokerProcess> m_broker;

    QString diagnostics() const
    {
        return (m_broker ? m_broker->diagnostics() : QString())
                + (m_upstream ? m_upstream->diagnostics() : QString());
    }

    // A fixture upstream "fx" behind a running broker.
    QString deploy()
    {
        m_upstream = UpstreamServer::fixture(QStringLiteral("fx"));
        m_upstream->start();
        if (!m_upstream->waitUntilListening())
            return QStringLiteral("the fixture did not start") + diagnostics();
        m_broker = std::make_unique<BrokerProcess>();
        const CliResult added = m_broker->add(QStringLiteral("fx"), m_upstream->url());
        if (!added.succeeded())
            return QStringLiteral("mcp-broker add failed") + added.describe();
        if (!m_broker->start())
            return QStringLiteral("the broker did not print its listening line") + diagnostics();
        QString status;
        if (!m_broker->waitUntilReady({QStringLiteral("fx")}, 30'000, &status))
            return QStringLiteral("GET /status never showed fx ready: ") + status + diagnostics();
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        QVERIFY(QFile::exists(expectedFailuresFile()));
    }

    void cleanup()
    {
        m_broker.reset();
        m_upstream.reset();
    }

    void cleanupTestCase()
    {
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    // The baseline: if the peer itself breaks, the broker's run below means nothing.
    void fixtureAlonePassesAllServerScenarios()
    {
        m_upstream = UpstreamServer::fixture(QStringLiteral("fx"));
        m_upstream->start();
        QVERIFY2(m_upstream->waitUntilListening(), qPrintable(diagnostics()));
        ConformanceOptions options;
        options.resultsDirectory = resultsFor("fixture-alone");
        const ConformanceRun run = runConformance(m_upstream->url(), options);
        QVERIFY2(run.process.succeeded(), qPrintable(run.describe() + diagnostics()));
        QCOMPARE(run.summary(), QStringLiteral("32 passed, 0 failed"));
    }

    void perServerEndpointPassesAllServerScenarios()
    {
        const QString failed = deploy();
        QVERIFY2(failed.isEmpty(), qPrintable(failed));
        ConformanceOptions options;
        options.resultsDirectory = resultsFor("per-server-endpoint");
        options.expectedFailuresFile = expectedFailuresFile();
        options.bearerToken = m_broker->token();
        const ConformanceRun run
                = runConformance(m_broker->serverEndpoint(QStringLiteral("fx")), options);
        QVERIFY2(run.process.succeeded(), qPrintable(run.describe() + diagnostics()));
        // All 32 ran (a crash of the suite would also fail the exit code, but say so plainly).
        QVERIFY2(run.passed() + run.failed() == 32, qPrintable(run.describe()));
        QVERIFY2(m_broker->isRunning(), qPrintable(diagnostics()));
    }

    void aggregatedEndpointPassesDnsRebindingProtection()
    {
        const QString failed = deploy();
        QVERIFY2(failed.isEmpty(), qPrintable(failed));
        ConformanceOptions options;
        options.resultsDirectory = resultsFor("aggregated-endpoint");
        options.scenario = QStringLiteral("dns-rebinding-protection");
        options.bearerToken = m_broker->token();
        const ConformanceRun run = runConformance(m_broker->endpoint(), options);
        QVERIFY2(run.process.succeeded(), qPrintable(run.describe() + diagnostics()));
        QCOMPARE(run.summary(), QStringLiteral("1 passed, 0 failed"));
    }
};

QTEST_GUILESS_MAIN(ConformanceTest)
#include "tst_conformance.moc"
