// Load (issue #7): 64 real MCP clients (the SDK's Client, tests/peers/load-clients.mjs, each
// with a grant of its own) call through the broker's aggregated endpoint for a bounded time,
// mixing tools/call on both upstreams, tools/list, resources/read and prompts/get; every call
// carries arguments of its own that its answer must echo. One upstream is OAuth-protected
// (oidc-provider issues access tokens that live kAccessTokenTtlSeconds, so the run spans many
// expiries and refreshes), the other is the plain fixture server. The run happens once, in
// initTestCase, while the broker's resident memory is sampled; each test then checks one
// promise of the issue against what the clients, the peers and /proc saw: nothing failed or got
// lost, one refresh per expiry, memory stays flat, and the broker exits cleanly (under ASan
// that includes LeakSanitizer finding nothing).

#include "BrokerProcess.h"
#include "MemorySampler.h"
#include "OAuthPeers.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>

using namespace mcpbroker::integration;

namespace {

// The load. Fixed here (no cache, no environment): the bounds below are derived from them.
constexpr int kClients = 64;
constexpr int kWarmupSeconds = 5;
constexpr int kLoadSeconds = 25;
// About eight lifetimes in the run. The broker refreshes at half the lifetime; a refresh takes
// 0.1–0.5 s here, up to 1.8 s under ASan on a busy machine (keychain round trips, measured), so
// a token may expire first: the calls that meet it are retried, and must all succeed.
constexpr int kAccessTokenTtlSeconds = 4;
constexpr int kMemorySampleIntervalMs = 250;

constexpr int kReadyTimeoutMs = 60'000;
// Connecting 64 sessions, the run, the last calls (each may take up to the driver's per-call
// timeout of 30 s) and ending the sessions, with room for a sanitized broker.
constexpr int kDriverTimeoutMs = (kWarmupSeconds + kLoadSeconds) * 1000 + 90'000;
constexpr int kStopTimeoutMs = 60'000;

const QString kOAuthServer = QStringLiteral("secure");
const QString kPlainServer = QStringLiteral("plain");

// Run-time options of an ASan build's broker in this test, so that its RSS says something about
// the broker rather than about ASan (measured: over 90 s of load, ASan's RSS grew ~15 MiB while
// its live heap stayed at 12 MiB):
// - quarantine_size_mb=8: every freed block waits in a quarantine (256 MiB by default) before
//   it is reused, so the RSS of a busy process climbs for minutes whether it leaks or not; 8 MiB
//   fill within the warm-up (use after free is still caught for the last 8 MiB freed).
// - malloc_context_size=1: ASan stores the stack of every allocation and free once per distinct
//   stack. Its fast unwinder follows frame pointers through Qt and GLib, built without them, so
//   nearly every stack comes out distinct: ~400,000 stacks, 27 MiB in 90 s, still growing. One
//   frame (the caller of new or malloc: our line when our code allocates) keeps that to a few
//   dozen; a leak still fails the test, and its report names that caller (for whole stacks,
//   run the test with ASAN_OPTIONS=malloc_context_size=30).
// First, so that options the CI sets (ASAN_OPTIONS) win; no effect on a build without ASan.
const QString kAsanOptionsForLoad = QStringLiteral("quarantine_size_mb=8:malloc_context_size=1");

// How much the broker's RSS may grow between the first and the last third of the measured phase
// (the median of each). Measured on the 2-core machine with other builds running: 0.4–1.1 MiB
// (normal build), 0.6 MiB (ASan, options above): the allocator settling. Over 90 s of load the
// normal build levels off ~1 MiB higher and stays there, and ASan's live heap stays at 12 MiB.
// 4 MiB over the 2,400–5,800 calls of that window fails on a leak of 1–2 KiB per call: an HTTP
// reply, a body or a session left behind each time.
constexpr qint64 kRssGrowthBoundKib = 4 * 1024;

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && file.write(bytes) == bytes.size();
}

qint64 median(QList<qint64> values)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return values.at(values.size() / 2);
}

QList<qint64> kibOf(const QList<MemorySampler::Sample> &samples)
{
    QList<qint64> kib;
    for (const MemorySampler::Sample &sample : samples)
        kib << sample.kib;
    return kib;
}

QString mib(qint64 kib)
{
    return QString::number(double(kib) / 1024.0, 'f', 1) + QStringLiteral(" MiB");
}

// The samples' medians over consecutive spans of `spanMs`, in MiB: the shape of the curve.
QString rssProfile(const QList<MemorySampler::Sample> &samples, qint64 spanMs)
{
    QStringList medians;
    QList<qint64> span;
    qint64 spanStart = samples.isEmpty() ? 0 : samples.first().atMs;
    for (const MemorySampler::Sample &sample : samples) {
        if (sample.atMs - spanStart >= spanMs) {
            medians << QString::number(double(median(span)) / 1024.0, 'f', 1);
            span.clear();
            spanStart = sample.atMs;
        }
        span << sample.kib;
    }
    if (!span.isEmpty())
        medians << QString::number(double(median(span)) / 1024.0, 'f', 1);
    return medians.join(QLatin1Char(' '));
}

// The access tokens the authorization server issued (oldest first), from its GET /_test/stats.
struct IssuedToken
{
    QString grantType;
    qint64 atMs = 0;
    int expiresIn = 0;
    QString fingerprint;
};

QList<IssuedToken> issuedTokens(const QJsonObject &authorizationStats)
{
    QList<IssuedToken> tokens;
    for (const QJsonValue &value : authorizationStats[QStringLiteral("issued")].toArray()) {
        const QJsonObject entry = value.toObject();
        tokens << IssuedToken{entry[QStringLiteral("grantType")].toString(),
                              qint64(entry[QStringLiteral("atMs")].toDouble()),
                              entry[QStringLiteral("expiresIn")].toInt(),
                              entry[QStringLiteral("token")].toString()};
    }
    return tokens;
}

} // namespace

class LoadTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void everyCallOfEveryClientIsAnsweredWithItsOwnPayload();
    void tokenExpiriesFailNoCallAndCostOneRefreshEach();
    void brokerMemoryStaysFlatUnderLoad();
    void brokerExitsCleanlyAfterTheLoad();

private:
    void startUpstreamsAndBroker();
    void signIn();
    void createClientGrants();
    void runLoad();
    QString diagnostics() const;
    QString keepLogs() const;

    std::unique_ptr<QTemporaryDir> m_scratch;
    std::unique_ptr<OAuthPeers> m_peers;
    std::unique_ptr<UpstreamServer> m_plain;
    std::unique_ptr<BrokerProcess> m_broker;
    std::unique_ptr<PeerProcess> m_driver;
    MemorySampler m_memory;
    QList<QByteArray> m_clientTokens;

    // What the run left, for the tests.
    ProcessRun m_driverRun;
    QJsonObject m_report; // the driver's JSON
    QJsonObject m_authorizationStats;
    QJsonObject m_rejectedBeforeLoad; // the protected server's 401s by reason, after sign-in
    QJsonObject m_resourceStats;
    qint64 m_statsAtMs = 0;
    bool m_brokerStopped = false;
    int m_brokerExitCode = -1;
};

// --- the run -----------------------------------------------------------------------------------

void LoadTest::initTestCase()
{
    const QString missing = Peers::missing();
    if (!missing.isEmpty())
        QFAIL(qPrintable(missing));
    m_scratch = std::make_unique<QTemporaryDir>();
    QVERIFY(m_scratch->isValid());

    startUpstreamsAndBroker();
    if (QTest::currentTestFailed())
        return;
    signIn();
    if (QTest::currentTestFailed())
        return;
    runLoad();
}

void LoadTest::startUpstreamsAndBroker()
{
    m_plain = UpstreamServer::fixture(kPlainServer);
    m_plain->start();
    m_peers = std::make_unique<OAuthPeers>();
    QString why;
    QVERIFY2(m_peers->start({QStringLiteral("--access-token-ttl"),
                             QString::number(kAccessTokenTtlSeconds)},
                            {QStringLiteral("--name"), kOAuthServer}, &why),
             qPrintable(why));
    QVERIFY2(m_plain->waitUntilListening(), qPrintable(m_plain->diagnostics()));

    m_broker = std::make_unique<BrokerProcess>();
    const QJsonArray servers{QJsonObject{{QStringLiteral("name"), kOAuthServer},
                                         {QStringLiteral("url"), m_peers->mcpUrl().toString()},
                                         {QStringLiteral("auth"), QStringLiteral("oauth")}},
                             QJsonObject{{QStringLiteral("name"), kPlainServer},
                                         {QStringLiteral("url"), m_plain->url().toString()}}};
    QVERIFY(writeFile(m_broker->configPath(),
                      QJsonDocument(QJsonObject{{QStringLiteral("servers"), servers}}).toJson()));

    QProcessEnvironment &environment = m_broker->environment();
    environment.insert(QStringLiteral("BROWSER"), OAuthPeers::browserScript());
    environment.insert(QStringLiteral("MCPB_BROWSER_LOG"),
                       m_scratch->filePath(QStringLiteral("browser.log")));
    const QString asan = environment.value(QStringLiteral("ASAN_OPTIONS"));
    environment.insert(QStringLiteral("ASAN_OPTIONS"),
                       asan.isEmpty() ? kAsanOptionsForLoad
                                      : kAsanOptionsForLoad + QLatin1Char(':') + asan);

    createClientGrants();
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(m_broker->start(), qPrintable(m_broker->diagnostics()));
}

// One grant per client, made before the broker starts (`grant create` writes the grant file
// and the keychain; the broker reads both at start).
void LoadTest::createClientGrants()
{
    QElapsedTimer elapsed;
    elapsed.start();
    for (int client = 0; client < kClients; ++client) {
        const GrantCreation grant
                = m_broker->createGrant(QStringLiteral("load-client-%1").arg(client));
        QVERIFY2(grant.succeeded(), qPrintable(grant.describe()));
        m_clientTokens << grant.token;
    }
    qInfo().noquote()
            << QStringLiteral("%1 grants made in %2 ms").arg(kClients).arg(elapsed.elapsed());
}

// The broker signs in once, through the scripted browser, as a user would with `login`.
void LoadTest::signIn()
{
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{kOAuthServer, QStringLiteral("needs-sign-in")},
                                            {kPlainServer, QStringLiteral("ready")}},
                                           kReadyTimeoutMs, &status),
             qPrintable(status + diagnostics()));
    const CliResult login = m_broker->run({QStringLiteral("login"), kOAuthServer});
    QVERIFY2(login.succeeded(), qPrintable(login.describe() + diagnostics()));
    QVERIFY2(m_broker->waitUntilReady({kOAuthServer, kPlainServer}, kReadyTimeoutMs, &status),
             qPrintable(status + diagnostics()));
}

void LoadTest::runLoad()
{
    m_driver = std::make_unique<PeerProcess>(
            QStringLiteral("load clients"), Peers::node22(),
            QStringList{QDir(Peers::directory()).filePath(QStringLiteral("load-clients.mjs")),
                        m_broker->endpoint().toString(), QStringLiteral("--oauth"), kOAuthServer,
                        QStringLiteral("--plain"), kPlainServer, QStringLiteral("--clients"),
                        QString::number(kClients), QStringLiteral("--seconds"),
                        QString::number(kLoadSeconds), QStringLiteral("--warmup-seconds"),
                        QString::number(kWarmupSeconds)});
    m_driver->setWorkingDirectory(Peers::directory());
    // The grants go on stdin, one per line: never on a command line or in a file.
    m_driver->setStandardInput(m_clientTokens.join('\n') + '\n');

    // Before the sign-in the broker met a 401 (no token yet): only later ones count.
    m_rejectedBeforeLoad = m_peers->resourceStats()[QStringLiteral("unauthorized")].toObject();
    m_memory.start(m_broker->serveProcess()->processId(), kMemorySampleIntervalMs);
    m_driver->start();
    m_driverRun = m_driver->finish(kDriverTimeoutMs);
    m_memory.stop();
    m_report = jsonObjectIn(m_driverRun.out);

    m_authorizationStats = m_peers->authorizationStats();
    m_resourceStats = m_peers->resourceStats();
    m_statsAtMs = QDateTime::currentMSecsSinceEpoch();

    m_brokerStopped = m_broker->stop(kStopTimeoutMs);
    m_brokerExitCode = m_broker->serveProcess()->exitCode();

    const QJsonObject measured = m_report[QStringLiteral("measured")].toObject();
    qInfo().noquote()
            << QStringLiteral("load: %1 calls in %2 s measured (%3 calls/s, p50 %4 ms, "
                              "p99 %5 ms), %6 calls in all; %7 access tokens issued")
                       .arg(measured[QStringLiteral("calls")].toInt())
                       .arg(measured[QStringLiteral("seconds")].toDouble())
                       .arg(measured[QStringLiteral("callsPerSecond")].toInt())
                       .arg(measured[QStringLiteral("latencyMs")][QStringLiteral("p50")].toDouble())
                       .arg(measured[QStringLiteral("latencyMs")][QStringLiteral("p99")].toDouble())
                       .arg(m_report[QStringLiteral("sent")].toInt())
                       .arg(issuedTokens(m_authorizationStats).size());
}

void LoadTest::cleanup()
{
    if (QTest::currentTestFailed())
        qWarning().noquote() << diagnostics() << keepLogs();
}

// The broker's and the driver's whole output (too long to print), for a failed run.
QString LoadTest::keepLogs() const
{
    const QString directory = resultsDirectory() + QStringLiteral("/load");
    QDir().mkpath(directory);
    const QList<QPair<QString, QByteArray>> logs{
            {QStringLiteral("broker.log"),
             m_broker && m_broker->serveProcess() ? m_broker->serveProcess()->standardError()
                                                  : QByteArray()},
            {QStringLiteral("load-clients.out"), m_driverRun.out},
            {QStringLiteral("load-clients.err"), m_driverRun.err}};
    for (const auto &[name, bytes] : logs) {
        if (!writeFile(directory + QLatin1Char('/') + name, bytes))
            return QStringLiteral("(could not write %1/%2)").arg(directory, name);
    }
    return QStringLiteral("The whole output of the broker and the clients is in %1.")
            .arg(directory);
}

void LoadTest::cleanupTestCase()
{
    m_driver.reset();
    m_broker.reset();
    m_plain.reset();
    m_peers.reset();
}

QString LoadTest::diagnostics() const
{
    QString text;
    if (m_driver)
        text += m_driver->diagnostics(20) + QLatin1Char('\n');
    if (m_broker)
        text += m_broker->diagnostics() + QLatin1Char('\n');
    if (m_peers)
        text += m_peers->diagnostics();
    if (m_plain)
        text += m_plain->diagnostics();
    return text;
}

// --- the tests ---------------------------------------------------------------------------------

void LoadTest::everyCallOfEveryClientIsAnsweredWithItsOwnPayload()
{
    QVERIFY2(!m_report.isEmpty(),
             qPrintable(QStringLiteral("the load driver printed no report:")
                        + m_driverRun.describe()));
    const QJsonArray failures = m_report[QStringLiteral("failures")].toArray();
    const QString firstFailures = QString::fromUtf8(QJsonDocument(failures).toJson());
    QVERIFY2(m_report[QStringLiteral("errors")].toInt() == 0,
             qPrintable(QStringLiteral("%1 calls failed; the first ones: %2")
                                .arg(m_report[QStringLiteral("errors")].toInt())
                                .arg(firstFailures)));
    QVERIFY2(m_report[QStringLiteral("mismatched")].toInt() == 0,
             qPrintable(QStringLiteral("%1 answers belong to another call; the first ones: %2")
                                .arg(m_report[QStringLiteral("mismatched")].toInt())
                                .arg(firstFailures)));
    QVERIFY2(m_report[QStringLiteral("lost")].toInt() == 0,
             qPrintable(QStringLiteral("%1 calls never came back: %2")
                                .arg(m_report[QStringLiteral("lost")].toInt())
                                .arg(m_driverRun.describe())));
    QVERIFY2(m_driverRun.succeeded(), qPrintable(m_driverRun.describe()));

    // Per client: every request sent got its own answer, and every client ran every kind of
    // call several times (the run was long enough to mean something).
    const QJsonArray clients = m_report[QStringLiteral("perClient")].toArray();
    QCOMPARE(clients.size(), kClients);
    const QJsonObject operations = m_report[QStringLiteral("byOperation")].toObject();
    QVERIFY2(operations.size() >= 7, qPrintable(QJsonDocument(operations).toJson()));
    for (int client = 0; client < kClients; ++client) {
        const QJsonObject counts = clients.at(client).toObject();
        const int sent = counts[QStringLiteral("sent")].toInt();
        QVERIFY2(counts[QStringLiteral("ok")].toInt() == sent,
                 qPrintable(QStringLiteral("client %1: %2")
                                    .arg(client)
                                    .arg(QString::fromUtf8(QJsonDocument(counts).toJson()))));
        QVERIFY2(sent >= 3 * operations.size(),
                 qPrintable(QStringLiteral("client %1 made only %2 calls").arg(client).arg(sent)));
    }
    for (auto it = operations.begin(); it != operations.end(); ++it) {
        const QJsonObject counts = it.value().toObject();
        QVERIFY2(counts[QStringLiteral("sent")].toInt() > 0
                         && counts[QStringLiteral("ok")] == counts[QStringLiteral("sent")],
                 qPrintable(it.key() + QStringLiteral(": ")
                            + QString::fromUtf8(QJsonDocument(counts).toJson())));
    }
}

void LoadTest::tokenExpiriesFailNoCallAndCostOneRefreshEach()
{
    // Every call to the OAuth upstream succeeded, across all the expiries of the run.
    const QJsonObject operations = m_report[QStringLiteral("byOperation")].toObject();
    for (const QString &operation :
         {QStringLiteral("oauth echo"), QStringLiteral("oauth whoami")}) {
        const QJsonObject counts = operations[operation].toObject();
        QVERIFY2(counts[QStringLiteral("sent")].toInt() > 0
                         && counts[QStringLiteral("ok")] == counts[QStringLiteral("sent")],
                 qPrintable(operation + QStringLiteral(": ")
                            + QString::fromUtf8(QJsonDocument(m_report).toJson())));
    }

    const QList<IssuedToken> issued = issuedTokens(m_authorizationStats);
    QVERIFY2(!issued.isEmpty(), qPrintable(QJsonDocument(m_authorizationStats).toJson()));
    const QJsonObject tokenRequests = m_authorizationStats[QStringLiteral("token")].toObject();
    // One sign-in (before the load), never another one; no refresh refused.
    QCOMPARE(tokenRequests[QStringLiteral("authorization_code")][QStringLiteral("success")].toInt(),
             1);
    QCOMPARE(issued.first().grantType, QStringLiteral("authorization_code"));
    const QJsonObject refreshRequests = tokenRequests[QStringLiteral("refresh_token")].toObject();
    QCOMPARE(refreshRequests[QStringLiteral("error")].toInt(), 0);

    // The lifetime actually issued (expires_in of every token), not the one asked for.
    const qint64 lifetimeMs = qint64(issued.first().expiresIn) * 1000;
    QCOMPARE(lifetimeMs, qint64(kAccessTokenTtlSeconds) * 1000);
    for (const IssuedToken &token : issued)
        QCOMPARE(qint64(token.expiresIn) * 1000, lifetimeMs);

    // The age of each token when its successor was issued.
    qint64 youngest = lifetimeMs;
    qint64 oldest = 0;
    QStringList ages;
    for (int i = 1; i < issued.size(); ++i) {
        QCOMPARE(issued.at(i).grantType, QStringLiteral("refresh_token"));
        const qint64 age = issued.at(i).atMs - issued.at(i - 1).atMs;
        youngest = std::min(youngest, age);
        oldest = std::max(oldest, age);
        ages << QString::number(age);
    }
    const qint64 refreshes = issued.size() - 1;
    // How many lifetimes the run spanned, from the sign-in to the end (the broker refreshes
    // with or without calls).
    const double expiries = double(m_statsAtMs - issued.first().atMs) / double(lifetimeMs);
    // 401s from the upstream during the load. An expired token: on a request that was under
    // way when the token expired (the JWT's exp is in whole seconds, so a token lives up to a
    // second less than expires_in says) or sent while a late refresh was still to come; the
    // broker refreshes and sends it again (the calls above all succeeded). A request without a
    // token would be a bug: while a refresh is under way requests wait for it (whenReady). So
    // would any other reason (a malformed, foreign or wrongly signed token).
    const QJsonObject rejected = m_resourceStats[QStringLiteral("unauthorized")].toObject();
    auto rejectedDuringLoad = [&](const QString &reason) {
        return rejected[reason].toInt() - m_rejectedBeforeLoad[reason].toInt();
    };
    const int expiredRejections = rejectedDuringLoad(QStringLiteral("expired"));
    const int bareRejections = rejectedDuringLoad(QStringLiteral("missing"));
    const QString figures
            = QStringLiteral("%1 refreshes over %2 token lifetimes of %3 ms; age of each "
                             "replaced token (ms, youngest %4, oldest %5): %6; the upstream "
                             "refused %7 requests with an expired token and %8 without one")
                      .arg(refreshes)
                      .arg(expiries, 0, 'f', 1)
                      .arg(lifetimeMs)
                      .arg(youngest)
                      .arg(oldest)
                      .arg(ages.join(QLatin1Char(' ')))
                      .arg(expiredRejections)
                      .arg(bareRejections);
    qInfo().noquote() << figures;

    // One refresh per expiry: at least one per lifetime, or the service would have stopped;
    // at most one per half lifetime, the earliest the broker refreshes (TokenProvider: its 60 s
    // margin, at most half the lifetime); and never a second one for the same expiry, which
    // would replace a token milliseconds old. A quarter of the lifetime is far below the half
    // lifetime (a timer may fire a little early) and far above such a duplicate.
    QVERIFY2(refreshes >= qint64(expiries) - 1, qPrintable(figures));
    QVERIFY2(refreshes <= qint64(2 * expiries) + 1, qPrintable(figures));
    QVERIFY2(youngest >= lifetimeMs / 4, qPrintable(figures));
    for (auto it = rejected.begin(); it != rejected.end(); ++it) {
        if (it.key() != QLatin1String("expired"))
            QVERIFY2(rejectedDuringLoad(it.key()) == 0,
                     qPrintable(QStringLiteral("401s before the load: %1, after: %2")
                                        .arg(QString::fromUtf8(
                                                     QJsonDocument(m_rejectedBeforeLoad).toJson()),
                                             QString::fromUtf8(QJsonDocument(rejected).toJson()))));
    }

    // Every token issued while the clients were calling was used: no refresh was wasted on a
    // token replaced before any call could use it.
    QSet<QString> used;
    for (const QJsonValue &use :
         m_resourceStats[QStringLiteral("tokens")][QStringLiteral("uses")].toArray())
        used.insert(use[QStringLiteral("token")].toString());
    const qint64 busyFrom = qint64(m_report[QStringLiteral("connectedAtMs")].toDouble());
    // A token issued in the last second may meet no call before the clients stop.
    const qint64 busyTo = qint64(m_report[QStringLiteral("doneAtMs")].toDouble()) - 1000;
    int issuedWhileBusy = 0;
    for (const IssuedToken &token : issued) {
        if (token.atMs < busyFrom || token.atMs > busyTo)
            continue;
        ++issuedWhileBusy;
        QVERIFY2(used.contains(token.fingerprint),
                 qPrintable(QStringLiteral("the token issued at %1 was never used; %2")
                                    .arg(token.atMs)
                                    .arg(figures)));
    }
    QVERIFY2(issuedWhileBusy >= kLoadSeconds / kAccessTokenTtlSeconds - 1, qPrintable(figures));
}

void LoadTest::brokerMemoryStaysFlatUnderLoad()
{
    const qint64 from = qint64(m_report[QStringLiteral("warmAtMs")].toDouble());
    const qint64 to = qint64(m_report[QStringLiteral("doneAtMs")].toDouble());
    const QList<MemorySampler::Sample> samples = m_memory.samplesBetween(from, to);
    QVERIFY2(samples.size() >= 12,
             qPrintable(
                     QStringLiteral("only %1 RSS samples after the warm-up").arg(samples.size())));
    const qsizetype third = samples.size() / 3;
    const QList<MemorySampler::Sample> first = samples.first(third);
    const QList<MemorySampler::Sample> last = samples.last(third);
    const qint64 start = median(kibOf(first));
    const qint64 end = median(kibOf(last));
    // The growth per call between the middles of the two thirds, to compare with a leak.
    const double seconds = double(last.at(third / 2).atMs - first.at(third / 2).atMs) / 1000.0;
    const double calls = seconds
            * m_report[QStringLiteral("measured")][QStringLiteral("callsPerSecond")].toDouble();
    const QList<qint64> all = kibOf(m_memory.samples());
    const QString figures
            = QStringLiteral("broker RSS: before the load %1, first third of the measured phase "
                             "%2, last third %3 (%4 bytes per call over ~%5 calls), highest %6 "
                             "(%7 samples)")
                      .arg(mib(all.first()), mib(start), mib(end))
                      .arg(calls > 0 ? qRound64(double(end - start) * 1024.0 / calls) : 0)
                      .arg(qRound64(calls))
                      .arg(mib(*std::max_element(all.begin(), all.end())))
                      .arg(all.size());
    qInfo().noquote() << figures;
    qInfo().noquote() << QStringLiteral("broker RSS over the run, each second's median, MiB: ")
                    + rssProfile(m_memory.samples(), 1000);
    QVERIFY2(end - start <= kRssGrowthBoundKib, qPrintable(figures));
}

void LoadTest::brokerExitsCleanlyAfterTheLoad()
{
    QVERIFY(m_broker && m_broker->serveProcess());
    const QString output = m_broker->diagnostics();
    QVERIFY2(m_brokerStopped, qPrintable(output));
    QVERIFY2(m_brokerExitCode == 0, qPrintable(output));
    const QByteArray standardError = m_broker->serveProcess()->standardError();
    QVERIFY2(!standardError.contains("Sanitizer"), qPrintable(output));
}

QTEST_GUILESS_MAIN(LoadTest)
#include "tst_load.moc"
