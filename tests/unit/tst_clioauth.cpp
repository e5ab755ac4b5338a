// The OAuth commands of the real `mcp-broker` binary: `add --oauth` (config and keychain),
// `login`, `logout`, `remove` and `status` of OAuth servers, short of a real sign-in (the
// integration suites sign in against real authorization servers). Runs under with-keyring.sh:
// the keychain is a throwaway one; no browser is ever started ($BROWSER is `true`).

#include "JsonCompare.h"

#include "store/SecretStore.h"
#include "store/ServerConfig.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace mcpbroker;

namespace {

constexpr int kCommandTimeoutMs = 60'000;

struct Outcome
{
    int exitCode = -1;
    QString out;
    QString err;
    qint64 elapsedMs = 0;
};

// Reads one key of the keychain service `mcp-broker` uses; nullopt when it did not answer.
std::optional<Result<QByteArray>> readKeychain(const QString &key)
{
    store::SecretStore keychain(QStringLiteral("mcp-broker"), 10'000);
    std::optional<Result<QByteArray>> answer;
    keychain.read(key, [&answer](Result<QByteArray> result) { answer = std::move(result); });
    if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 15'000))
        return std::nullopt;
    return answer;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// A port nothing listens on (it was free a moment ago).
quint16 deadPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

} // namespace

class TestCliOAuth : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"),
                 "run under tests/keyring/with-keyring.sh");
        QVERIFY(QFile::exists(QStringLiteral(MCPB_BROKER_BINARY)));
    }

    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        m_config = m_dir->filePath(QStringLiteral("config.json"));
    }

    void addOAuthWritesTheSettingsAndKeepsTheSecretInTheKeychain()
    {
        const QByteArray secret
                = "cs-" + QByteArray::number(QRandomGenerator::system()->generate64(), 36);
        const Outcome added
                = run({"add", "ci", "https://ci.example.com/mcp", "--oauth", "--client-id",
                       "mcp-broker-ci", "--client-secret-stdin", "--token-auth", "post",
                       "--client-credentials", "--scope", "read", "--scope", "write"},
                      secret + "\n");
        QVERIFY2(added.exitCode == 0, qPrintable(added.err));
        QVERIFY2(added.out.contains("Added server 'ci'"), qPrintable(added.out));
        QVERIFY2(added.out.contains("Sign in with `mcp-broker login ci`."), qPrintable(added.out));

        const QByteArray file = readFile(m_config);
        const nlohmann::json config = nlohmann::json::parse(file.toStdString());
        COMPARE_JSON(config["servers"][0]["auth"], "oauth");
        COMPARE_JSON(config["servers"][0]["oauth"],
                     (nlohmann::json{{"clientId", "mcp-broker-ci"},
                                     {"clientSecret", true},
                                     {"tokenEndpointAuthMethod", "client_secret_post"},
                                     {"grant", "client_credentials"},
                                     {"scopes", {"read", "write"}}}));
        QVERIFY(!file.contains(secret));
        QVERIFY(!added.out.contains(QString::fromLatin1(secret)));
        QVERIFY(!added.err.contains(QString::fromLatin1(secret)));

        const auto stored = readKeychain(store::SecretKeys::oauthClientSecret("ci"));
        QVERIFY(stored && *stored);
        QCOMPARE(stored->value(), secret);

        const Outcome listed = run({"list"});
        QCOMPARE(listed.exitCode, 0);
        QVERIFY2(listed.out.contains("oauth (client mcp-broker-ci)"), qPrintable(listed.out));
        QVERIFY(!listed.out.contains(QString::fromLatin1(secret)));

        // Removing it signs out (nothing to revoke: never signed in) and deletes the secret.
        const Outcome removed = run({"remove", "ci"});
        QVERIFY2(removed.exitCode == 0, qPrintable(removed.err));
        QVERIFY2(removed.out.contains("Removed server 'ci' and its secrets."),
                 qPrintable(removed.out));
        const auto gone = readKeychain(store::SecretKeys::oauthClientSecret("ci"));
        QVERIFY(gone && !*gone);
        QCOMPARE(gone->error().kind, Error::Kind::NotFound);
        QVERIFY(!readFile(m_config).contains("\"ci\""));
    }

    void addOAuthWithoutOptionsLetsTheBrokerRegisterItself()
    {
        const Outcome added = run({"add", "notes", "https://notes.example.com/mcp", "--oauth"});
        QVERIFY2(added.exitCode == 0, qPrintable(added.err));
        const nlohmann::json config = nlohmann::json::parse(readFile(m_config).toStdString());
        COMPARE_JSON(config["servers"][0]["auth"], "oauth");
        QVERIFY(!config["servers"][0].contains("oauth"));
    }

    void addOAuthRefusesABadMetadataUrlBeforeReadingASecret()
    {
        const Outcome added = run({"add", "notes", "https://notes.example.com/mcp", "--oauth",
                                   "--client-metadata-url", "http://me.example.com/client.json"});
        QCOMPARE(added.exitCode, 1);
        QVERIFY2(added.err.contains("must be an https URL with a path"), qPrintable(added.err));
        QVERIFY(!QFile::exists(m_config));
    }

    void oauthUsageErrorsExitWithTwo()
    {
        const Outcome refused
                = run({"add", "a", "https://a.example.com/mcp", "--oauth", "--bearer-stdin"});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains("Give either --oauth or --bearer-stdin"),
                 qPrintable(refused.err));
        QVERIFY(!QFile::exists(m_config));
    }

    void loginAndLogoutOfAnUnknownServerSaySo_data()
    {
        QTest::addColumn<QString>("command");
        QTest::newRow("login") << "login";
        QTest::newRow("logout") << "logout";
    }
    void loginAndLogoutOfAnUnknownServerSaySo()
    {
        QFETCH(QString, command);
        writeConfig();
        const Outcome outcome = run({command, "nosuch"});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains("No server named 'nosuch'. `mcp-broker list` shows the "
                                      "configured servers."),
                 qPrintable(outcome.err));
        QVERIFY(outcome.out.isEmpty());
    }

    void loginAndLogoutOfAServerWithoutOAuthSaySo_data()
    {
        loginAndLogoutOfAnUnknownServerSaySo_data();
    }
    void loginAndLogoutOfAServerWithoutOAuthSaySo()
    {
        QFETCH(QString, command);
        writeConfig();
        const Outcome outcome = run({command, "docs"});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains("Server 'docs' does not sign in with OAuth (auth: none)"),
                 qPrintable(outcome.err));
        QVERIFY(outcome.out.isEmpty());
    }

    void loginToAServerThatIsDownFailsPromptly()
    {
        const quint16 port = deadPort();
        QVERIFY(port != 0);
        writeConfig(port);
        const Outcome outcome = run({"login", "dead"});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.startsWith("Sign-in to 'dead' failed: "), qPrintable(outcome.err));
        QVERIFY2(outcome.err.contains("refused"), qPrintable(outcome.err));
        QVERIFY2(!outcome.err.contains("Opening the sign-in page"), qPrintable(outcome.err));
        QVERIFY(outcome.out.isEmpty());
        QVERIFY2(outcome.elapsedMs < 20'000, qPrintable(QString::number(outcome.elapsedMs)));
    }

    void logoutWithoutASignInSucceeds()
    {
        writeConfig(deadPort());
        const Outcome outcome = run({"logout", "dead"});
        QVERIFY2(outcome.exitCode == 0, qPrintable(outcome.err));
        QCOMPARE(outcome.out, "Signed out of 'dead'.\n");
    }

    void statusShowsTheSignInOfOAuthServers()
    {
        writeConfig();
        const QDateTime expires = QDateTime::currentDateTimeUtc().addSecs(2 * 3600);
        const nlohmann::json answer
                = {{"version", "0.1.0"},
                   {"endpoint", "http://127.0.0.1:7823/mcp"},
                   {"servers",
                    {{{"name", "docs"}, {"state", "ready"}, {"error", ""}, {"tools", 2}},
                     {{"name", "dead"},
                      {"state", "ready"},
                      {"error", ""},
                      {"tools", 5},
                      {"signIn", "signed-in"},
                      {"tokenExpiresAt", expires.toString(Qt::ISODate).toStdString()}}}}};
        QTcpServer fakeBroker;
        QVERIFY(fakeBroker.listen(QHostAddress::LocalHost, 0));
        const QByteArray body = QByteArray::fromStdString(answer.dump());
        connect(&fakeBroker, &QTcpServer::newConnection, this, [&fakeBroker, body] {
            QTcpSocket *socket = fakeBroker.nextPendingConnection();
            connect(socket, &QTcpSocket::readyRead, socket, [socket, body] {
                if (!socket->readAll().contains("\r\n\r\n"))
                    return;
                socket->write(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
                socket->disconnectFromHost();
            });
        });
        const QString port = QString::number(fakeBroker.serverPort());

        const Outcome table = run({"status", "--port", port});
        QVERIFY2(table.exitCode == 0, qPrintable(table.err));
        QVERIFY2(table.out.contains("SIGN-IN"), qPrintable(table.out));
        const QString expiry = expires.toLocalTime().toString(
                expires.toLocalTime().date() == QDate::currentDate() ? "HH:mm"
                                                                     : "yyyy-MM-dd HH:mm");
        QVERIFY2(table.out.contains("signed in, expires " + expiry), qPrintable(table.out));

        const Outcome json = run({"status", "--json", "--port", port});
        QVERIFY2(json.exitCode == 0, qPrintable(json.err));
        const nlohmann::json passed = nlohmann::json::parse(json.out.toStdString());
        COMPARE_JSON(passed["servers"][1]["signIn"], "signed-in");
        COMPARE_JSON(passed["servers"][1]["tokenExpiresAt"],
                     expires.toString(Qt::ISODate).toStdString());
        QVERIFY(!passed["servers"][0].contains("signIn"));
    }

private:
    // "docs" (no auth) and "dead" (OAuth, on `port` of 127.0.0.1).
    void writeConfig(quint16 port = 9)
    {
        const nlohmann::json config
                = {{"servers",
                    {{{"name", "docs"}, {"url", "https://docs.example.com/mcp"}, {"auth", "none"}},
                     {{"name", "dead"},
                      {"url", QStringLiteral("http://127.0.0.1:%1/mcp").arg(port).toStdString()},
                      {"auth", "oauth"}}}}};
        QFile file(m_config);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray::fromStdString(config.dump(2)));
    }

    Outcome run(QStringList arguments, const QByteArray &input = {})
    {
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const char *proxy :
             {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"})
            environment.remove(QString::fromLatin1(proxy));
        environment.insert(QStringLiteral("BROWSER"), QStringLiteral("true"));
        environment.remove(QStringLiteral("MCP_BROKER_CONFIG"));
        process.setProcessEnvironment(environment);
        arguments << QStringLiteral("--config") << m_config;

        Outcome outcome;
        QElapsedTimer timer;
        timer.start();
        process.start(QStringLiteral(MCPB_BROKER_BINARY), arguments);
        if (!input.isEmpty())
            process.write(input);
        process.closeWriteChannel();
        // The event loop runs meanwhile: a fake broker in this process can answer.
        if (!QTest::qWaitFor([&process] { return process.state() == QProcess::NotRunning; },
                             kCommandTimeoutMs)) {
            process.kill();
            process.waitForFinished(5'000); // after a kill: no event can be missed any more
            qWarning() << "mcp-broker" << arguments << "did not finish in time";
            return outcome;
        }
        outcome.elapsedMs = timer.elapsed();
        outcome.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        outcome.out = QString::fromUtf8(process.readAllStandardOutput());
        outcome.err = QString::fromUtf8(process.readAllStandardError());
        return outcome;
    }

    std::optional<QTemporaryDir> m_dir;
    QString m_config;
};

QTEST_GUILESS_MAIN(TestCliOAuth)
#include "tst_clioauth.moc"
