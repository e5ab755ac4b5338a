// Upstream secrets given to `mcp-broker add` live in the keychain only (alpha: a bearer token
// with --bearer-stdin; gamma: a secret header with --header-stdin plus a --header one; the CLI
// takes one kind of authentication per server): never in the config file, the broker's output
// (even with every mcpbroker category at debug), the CLI's output or the conformance results;
// they reach their own upstream and no other. Without a usable keychain `add` refuses, promptly
// and clearly, and leaves the config file as it was (no plaintext fallback). Secrets are random
// per test; the keychain is the throwaway one of with-keyring.sh.

#include "BrokerProcess.h"
#include "PeerClients.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include "store/SecretStore.h"
#include "store/ServerConfig.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <memory>
#include <optional>

using namespace mcpbroker::integration;
using mcpbroker::Result;
using mcpbroker::store::SecretStore;
namespace SecretKeys = mcpbroker::store::SecretKeys;

namespace {

constexpr int kReadyTimeoutMs = 30'000;
const QByteArray kSecretHeaderName = "X-Api-Key";
const QString kPlainHeader = QStringLiteral("X-Plain: visible-value");

// Reads one key of the broker's keychain service (the one `mcp-broker` uses).
std::optional<Result<QByteArray>> readKeychain(const QString &key)
{
    SecretStore store(QStringLiteral("mcp-broker"), 10'000);
    std::optional<Result<QByteArray>> answer;
    store.read(key, [&answer](Result<QByteArray> result) { answer = std::move(result); });
    if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 15'000))
        return std::nullopt;
    return answer;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QStringList filesUnder(const QString &directory)
{
    QStringList files;
    QDirIterator it(directory, QDir::Files | QDir::Hidden | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        files << it.next();
    files.sort();
    return files;
}

// The throwaway XDG directories of with-keyring.sh, where a plaintext fallback would write.
QStringList xdgDirectories()
{
    QStringList directories;
    for (const char *variable : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"}) {
        const QString directory = qEnvironmentVariable(variable);
        if (!directory.isEmpty())
            directories << directory;
    }
    return directories;
}

} // namespace

class SecretsTest : public QObject
{
    Q_OBJECT

private:
    QByteArray m_bearer;       // alpha's bearer token
    QByteArray m_headerSecret; // gamma's X-Api-Key value

    QList<QByteArray> secrets() const { return {m_bearer, m_headerSecret}; }

    CliResult addAlpha(const BrokerProcess &broker, const QUrl &url) const
    {
        return broker.add(QStringLiteral("alpha"), url, m_bearer);
    }

    CliResult addGamma(const BrokerProcess &broker, const QUrl &url) const
    {
        return broker.add(QStringLiteral("gamma"), url, std::nullopt,
                          {{kSecretHeaderName, m_headerSecret}}, {kPlainHeader});
    }

    // The headers an upstream saw, from its whoami called through the aggregated endpoint.
    static QJsonObject headersSeenBy(const SdkClientRun &run, const QString &server)
    {
        return QJsonDocument::fromJson(run.callText(server + QStringLiteral("__whoami")).toUtf8())
                .object()
                .value(QStringLiteral("headers"))
                .toObject();
    }

    // Fails the test (returns false) when `text` holds any piece of a secret.
    bool verifyNoSecretIn(const QByteArray &text, const QString &where) const
    {
        const QStringList leaks = leakedPieces(text, secrets());
        if (leaks.isEmpty())
            return true;
        QTest::qFail(qPrintable(QStringLiteral("%1 contains %2")
                                        .arg(where, leaks.join(QStringLiteral(", ")))),
                     __FILE__, __LINE__);
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        QVERIFY2(qEnvironmentVariableIsSet("MCPB_KEYRING_BUS"),
                 "run this suite through tests/keyring/with-keyring.sh (ctest does)");
    }

    void init()
    {
        m_bearer = randomSecret("bearer-");
        m_headerSecret = randomSecret("apikey-");
    }

    void cleanupTestCase()
    {
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    void addKeepsSecretsInTheKeychainAndOnlyNamesInTheConfigFile()
    {
        BrokerProcess broker;
        const QUrl unreachable(QStringLiteral("http://127.0.0.1:9/mcp"));
        const CliResult alpha = addAlpha(broker, unreachable);
        QVERIFY2(alpha.succeeded(), qPrintable(alpha.describe()));
        const CliResult gamma = addGamma(broker, unreachable);
        QVERIFY2(gamma.succeeded(), qPrintable(gamma.describe()));
        QVERIFY(verifyNoSecretIn(alpha.out + alpha.err + gamma.out + gamma.err,
                                 QStringLiteral("the output of add")));

        const QByteArray config = readFile(broker.configPath());
        QVERIFY2(config.contains("alpha") && config.contains("gamma"), config.constData());
        QCOMPARE(filesContainingSecrets(broker.configDirectory(), secrets()), QStringList());
        for (const QString &directory : xdgDirectories())
            QCOMPARE(filesContainingSecrets(directory, secrets()), QStringList());

        const auto bearer = readKeychain(SecretKeys::bearer(QStringLiteral("alpha")));
        QVERIFY2(bearer.has_value(), "the keychain did not answer");
        QVERIFY2(bearer->ok(), qPrintable(bearer->ok() ? QString() : bearer->error().message));
        QVERIFY(bearer->value() == m_bearer);
        const auto header = readKeychain(SecretKeys::header(
                QStringLiteral("gamma"), QString::fromLatin1(kSecretHeaderName)));
        QVERIFY2(header.has_value(), "the keychain did not answer");
        QVERIFY2(header->ok(), qPrintable(header->ok() ? QString() : header->error().message));
        QVERIFY(header->value() == m_headerSecret);
    }

    void upstreamReceivesItsOwnSecretsAndNoOtherUpstreamDoes()
    {
        std::map<QString, std::unique_ptr<UpstreamServer>> upstreams;
        for (const QString &name : QStringList{"alpha", "beta", "gamma"}) {
            upstreams[name] = UpstreamServer::fixture(name);
            upstreams[name]->start();
        }
        for (const auto &[name, upstream] : upstreams)
            QVERIFY2(upstream->waitUntilListening(), qPrintable(upstream->diagnostics()));

        BrokerProcess broker;
        for (const CliResult &added : {addAlpha(broker, upstreams["alpha"]->url()),
                                       broker.add(QStringLiteral("beta"), upstreams["beta"]->url()),
                                       addGamma(broker, upstreams["gamma"]->url())})
            QVERIFY2(added.succeeded(), qPrintable(added.describe()));
        QVERIFY2(broker.start(), qPrintable(broker.diagnostics()));
        QString status;
        QVERIFY2(broker.waitUntilReady(
                         {QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("gamma")},
                         kReadyTimeoutMs, &status),
                 qPrintable(status + broker.diagnostics()));

        SdkClientOptions client;
        client.bearerToken = broker.token();
        const SdkClientRun run = runSdkClient(broker.endpoint(),
                                              {{QStringLiteral("alpha__whoami"), {}},
                                               {QStringLiteral("beta__whoami"), {}},
                                               {QStringLiteral("gamma__whoami"), {}}},
                                              client);
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + broker.diagnostics()));
        const QJsonObject alpha = headersSeenBy(run, QStringLiteral("alpha"));
        const QJsonObject beta = headersSeenBy(run, QStringLiteral("beta"));
        const QJsonObject gamma = headersSeenBy(run, QStringLiteral("gamma"));
        QVERIFY2(!alpha.isEmpty() && !beta.isEmpty() && !gamma.isEmpty(),
                 qPrintable(run.describe()));

        QCOMPARE(alpha.value(QStringLiteral("authorization")).toString(),
                 authorizationFingerprint("Bearer " + m_bearer));
        // whoami shows other headers as they are: compare without printing the secret.
        QVERIFY2(gamma.value(QStringLiteral("x-api-key")).toString().toUtf8() == m_headerSecret,
                 "gamma did not receive its X-Api-Key secret");
        QCOMPARE(gamma.value(QStringLiteral("x-plain")).toString(),
                 QStringLiteral("visible-value"));

        QVERIFY2(!gamma.contains(QStringLiteral("authorization")),
                 qPrintable(run.callText("gamma__whoami")));
        for (const char *header : {"x-api-key", "x-plain"})
            QVERIFY2(!alpha.contains(QLatin1String(header)), header);
        for (const char *header : {"authorization", "x-api-key", "x-plain"})
            QVERIFY2(!beta.contains(QLatin1String(header)), header);
        QVERIFY(verifyNoSecretIn(run.callText(QStringLiteral("alpha__whoami")).toUtf8()
                                         + run.callText(QStringLiteral("beta__whoami")).toUtf8(),
                                 QStringLiteral("what alpha and beta received")));
    }

    void noSecretReachesLogsCommandOutputsOrConformanceResults()
    {
        auto alpha = UpstreamServer::fixture(QStringLiteral("alpha"));
        auto gamma = UpstreamServer::fixture(QStringLiteral("gamma"));
        alpha->start();
        gamma->start();
        QVERIFY2(alpha->waitUntilListening(), qPrintable(alpha->diagnostics()));
        QVERIFY2(gamma->waitUntilListening(), qPrintable(gamma->diagnostics()));

        BrokerProcess broker;
        broker.environment().insert(QStringLiteral("QT_LOGGING_RULES"),
                                    QStringLiteral("mcpbroker.*.debug=true"));
        QList<CliResult> commands{addAlpha(broker, alpha->url()), addGamma(broker, gamma->url())};
        for (const CliResult &added : std::as_const(commands))
            QVERIFY2(added.succeeded(), qPrintable(added.describe()));
        QVERIFY2(broker.start(), qPrintable(broker.diagnostics()));
        QString status;
        QVERIFY2(broker.waitUntilReady({QStringLiteral("alpha"), QStringLiteral("gamma")},
                                       kReadyTimeoutMs, &status),
                 qPrintable(status + broker.diagnostics()));

        // Traffic that carries the secrets upstream: lists, calls, whole conformance runs.
        const QJsonObject hi{{QStringLiteral("text"), QStringLiteral("hi")}};
        SdkClientOptions client;
        client.bearerToken = broker.token();
        const SdkClientRun run = runSdkClient(broker.endpoint(),
                                              {{QStringLiteral("alpha__echo"), hi},
                                               {QStringLiteral("gamma__echo"), hi},
                                               {QStringLiteral("alpha__test_simple_text"), {}}},
                                              client);
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + broker.diagnostics()));
        QTemporaryDir results;
        QVERIFY(results.isValid());
        QList<ConformanceRun> conformanceRuns;
        for (const QString &server : {QStringLiteral("alpha"), QStringLiteral("gamma")}) {
            ConformanceOptions options;
            options.resultsDirectory = results.filePath(server);
            options.bearerToken = broker.token();
            conformanceRuns << runConformance(broker.serverEndpoint(server), options);
            QVERIFY2(conformanceRuns.last().passed() + conformanceRuns.last().failed() == 32,
                     qPrintable(conformanceRuns.last().describe()));
        }

        // `status` finds a broker on another port than the configured one only with --port.
        const QString port = QString::number(broker.port());
        for (const QStringList &arguments :
             {QStringList{QStringLiteral("list")},
              QStringList{QStringLiteral("list"), QStringLiteral("--json")},
              QStringList{QStringLiteral("status"), QStringLiteral("--port"), port},
              QStringList{QStringLiteral("status"), QStringLiteral("--json"),
                          QStringLiteral("--port"), port}}) {
            commands << broker.run(arguments);
            QVERIFY2(commands.last().succeeded() && commands.last().out.contains("alpha")
                             && commands.last().out.contains("gamma"),
                     qPrintable(commands.last().describe()));
        }

        QVERIFY2(broker.stop(),
                 qPrintable(QStringLiteral("SIGTERM did not stop the broker cleanly")
                            + broker.diagnostics()));
        const PeerProcess &serve = *broker.serveProcess();
        QCOMPARE(serve.exitCode(), 0);
        // stdout is the one listening line; everything else is on stderr.
        QCOMPARE(serve.stdoutLines().size(), 1);
        QVERIFY2(!serve.standardError().isEmpty(),
                 "the broker logged nothing at debug level: the check below would prove nothing");

        QVERIFY(verifyNoSecretIn(serve.standardOutput(), QStringLiteral("the broker's stdout")));
        QVERIFY(verifyNoSecretIn(serve.standardError(),
                                 QStringLiteral("the broker's stderr (debug)")));
        for (const CliResult &command : std::as_const(commands))
            QVERIFY(verifyNoSecretIn(command.out + command.err,
                                     QStringLiteral("`%1`").arg(command.commandLine)));
        QVERIFY(verifyNoSecretIn(run.process.out + run.process.err,
                                 QStringLiteral("the SDK client's output")));
        for (const ConformanceRun &conformance : std::as_const(conformanceRuns))
            QVERIFY(verifyNoSecretIn(conformance.process.out,
                                     QStringLiteral("the conformance summary")));
        QCOMPARE(filesContainingSecrets(broker.configDirectory(), secrets()), QStringList());
        QCOMPARE(filesContainingSecrets(results.path(), secrets()), QStringList());
        for (const QString &directory : xdgDirectories())
            QCOMPARE(filesContainingSecrets(directory, secrets()), QStringList());
    }

    void addWithoutUsableKeychainFailsPromptlyAndLeavesConfigUntouched_data()
    {
        QTest::addColumn<QString>("session");
        QTest::newRow("a bus without Secret Service") << QStringLiteral("bus-without-services");
        QTest::newRow("with-keyring.sh MCPB_KEYRING=none") << QStringLiteral("keyring-none");
    }

    void addWithoutUsableKeychainFailsPromptlyAndLeavesConfigUntouched()
    {
        QFETCH(QString, session);
        BrokerProcess broker;
        // A config file that already holds a server (added while the keychain works).
        const CliResult first = broker.add(QStringLiteral("plain"),
                                           QUrl(QStringLiteral("http://127.0.0.1:9/mcp")));
        QVERIFY2(first.succeeded(), qPrintable(first.describe()));
        const QByteArray configBefore = readFile(broker.configPath());
        QVERIFY(!configBefore.isEmpty());
        const QStringList filesBefore = filesUnder(broker.configDirectory());

        QProcessEnvironment &environment = broker.environment();
        for (const char *variable :
             {"GNOME_KEYRING_CONTROL", "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"})
            environment.remove(QLatin1String(variable));
        if (session == QLatin1String("bus-without-services")) {
            broker.setLauncher({QStringLiteral("dbus-run-session"),
                                QStringLiteral("--config-file=")
                                        + QFileInfo(keyringWrapper()).absolutePath()
                                        + QStringLiteral("/bus-without-services.conf"),
                                QStringLiteral("--")});
        } else {
            environment.remove(QStringLiteral("MCPB_KEYRING_BUS")); // a bus of its own
            environment.insert(QStringLiteral("MCPB_KEYRING"), QStringLiteral("none"));
            broker.setLauncher({keyringWrapper()});
        }

        const CliResult refused = broker.add(
                QStringLiteral("gamma"), QUrl(QStringLiteral("http://127.0.0.1:9/mcp")), m_bearer);
        QVERIFY2(refused.finished,
                 qPrintable(QStringLiteral("add hung without a keychain") + refused.describe()));
        QVERIFY2(refused.elapsedMs < 20'000, qPrintable(refused.describe()));
        QVERIFY2(refused.exitCode == 1, qPrintable(refused.describe()));
        QVERIFY2(QString::fromUtf8(refused.err)
                         .contains(QLatin1String("keychain"), Qt::CaseInsensitive),
                 qPrintable(refused.describe()));
        QVERIFY(verifyNoSecretIn(refused.out + refused.err,
                                 QStringLiteral("the output of the refused add")));

        QVERIFY2(readFile(broker.configPath()) == configBefore,
                 qPrintable(QString::fromUtf8(readFile(broker.configPath()))));
        QCOMPARE(filesUnder(broker.configDirectory()), filesBefore);
        for (const QString &directory : xdgDirectories())
            QCOMPARE(filesContainingSecrets(directory, secrets()), QStringList());
    }
};

QTEST_GUILESS_MAIN(SecretsTest)
#include "tst_secrets.moc"
