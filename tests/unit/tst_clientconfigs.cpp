// The MCP clients' config files: what `mcp-broker connect` writes into each (golden files under
// tests/unit/golden/clients/<client>/: a fresh file, one with other servers, a malformed one, a
// second run, `disconnect`), where each client's file is, what `import` takes from one, and the
// real binary's connect, disconnect and import. HOME and every config live in a temporary
// folder; the keychain is with-keyring.sh's throwaway one.

#include "ClientConfigFile.h"
#include "ClientConfigs.h"
#include "ClientServerImport.h"
#include "JsonCompare.h"

#include "store/ConfigStore.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::app;
using nlohmann::ordered_json;

namespace {

constexpr quint16 kPort = 7823;
constexpr int kCommandTimeoutMs = 60'000;
const QString kExecutable = QStringLiteral("/opt/mcp-broker/bin/mcp-broker");
const QString kGrantId = QStringLiteral("g0123456789ab");
// The mode bits (QFile's "User" bits repeat the owner's for the current user).
const QFile::Permissions kOwnerGroupOther = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
        | QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup | QFile::ReadOther
        | QFile::WriteOther | QFile::ExeOther;
// Shaped like a static grant token (gateway/GrantToken), so that it is recognised as one.
const QByteArray kToken = "mcpb_g0123456789ab_" + QByteArray(43, 'A');

QString extensionOf(const QString &client)
{
    return client == QLatin1String("codex") ? QStringLiteral("toml") : QStringLiteral("json");
}

QString goldenPath(const QString &client, const QString &name)
{
    return QFINDTESTDATA("golden/clients") + QLatin1Char('/') + client + QLatin1Char('/') + name
            + QLatin1Char('.') + extensionOf(client);
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<unreadable>");
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && file.write(contents) == contents.size();
}

// An empty string when `actual` is the golden file; else what differs, with the actual text
// saved next to the temporary files for a look (and, once checked, a copy into the sources).
QString goldenMismatch(const QString &client, const QString &name, const QByteArray &actual)
{
    const QString golden = goldenPath(client, name);
    if (QFileInfo::exists(golden) && readFile(golden) == actual)
        return {};
    const QString saved = QDir::tempPath()
            + QStringLiteral("/mcpb-golden/%1/%2.%3").arg(client, name, extensionOf(client));
    writeFile(saved, actual);
    return QStringLiteral("%1 differs from the golden file %2; the actual text is in %3")
            .arg(name, golden, saved);
}

QStringList backupsIn(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral("*.mcp-broker-backup-*")}, QDir::Files);
}

BrokerEndpoint testEndpoint()
{
    BrokerEndpoint endpoint;
    endpoint.port = kPort;
    endpoint.executable = kExecutable;
    return endpoint;
}

// What `connect` writes for "every server" and for server "github".
Result<ClientConfigFile::Saved> connectTo(const ClientProfile &client, const QString &path,
                                          const QByteArray &token = {})
{
    auto file = ClientConfigFile::open(client, path);
    if (!file)
        return file.error();
    for (const QString &server : {QString(), QStringLiteral("github")}) {
        file.value()->put(ClientConfigs::entryName(server),
                          ClientConfigs::entry(client, testEndpoint(), server, token));
    }
    return file.value()->save();
}

QString errorOf(const Result<ClientConfigFile::Saved> &result)
{
    return result ? QString() : result.error().message;
}

const ClientProfile &profile(const QString &id)
{
    static const ClientProfile none;
    const ClientProfile *found = ClientConfigs::find(id);
    return found ? *found : none;
}

void addClientRows()
{
    QTest::addColumn<QString>("client");
    for (const ClientProfile &client : ClientConfigs::all())
        QTest::newRow(qPrintable(client.id)) << client.id;
}

// Sets (or, with a null value, removes) environment variables for one scope.
class EnvironmentOverride
{
public:
    void set(const char *name, const QByteArray &value)
    {
        if (!m_saved.contains(name))
            m_saved.insert(name,
                           qEnvironmentVariableIsSet(name)
                                   ? std::optional<QByteArray>(qgetenv(name))
                                   : std::nullopt);
        if (value.isNull())
            qunsetenv(name);
        else
            qputenv(name, value);
    }
    ~EnvironmentOverride()
    {
        for (auto it = m_saved.cbegin(); it != m_saved.cend(); ++it) {
            if (it.value())
                qputenv(it.key().constData(), *it.value());
            else
                qunsetenv(it.key().constData());
        }
    }

private:
    QMap<QByteArray, std::optional<QByteArray>> m_saved;
};

struct Outcome
{
    int exitCode = -1;
    QString out;
    QString err;
};

} // namespace

class TestClientConfigs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!QFINDTESTDATA("golden/clients").isEmpty(), "the golden files are missing");
        QVERIFY(QFile::exists(QStringLiteral(MCPB_BROKER_BINARY)));
    }

    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        m_home = m_dir->filePath(QStringLiteral("home"));
        m_config = m_dir->filePath(QStringLiteral("broker/config.json"));
        QVERIFY(QDir().mkpath(m_home));
    }

    // Golden files, for each client.

    void connectCreatesAFreshFileItsFoldersAndNoBackup_data() { addClientRows(); }
    void connectCreatesAFreshFileItsFoldersAndNoBackup()
    {
        QFETCH(QString, client);
        const QString dir = m_dir->filePath(QStringLiteral("new/folder"));
        const QString path = dir + QStringLiteral("/config.") + extensionOf(client);
        const auto saved = connectTo(profile(client), path);
        QVERIFY2(saved, qPrintable(errorOf(saved)));
        QVERIFY(saved.value().written);
        QVERIFY(saved.value().created);
        QVERIFY(saved.value().backupPath.isEmpty());
        const QString mismatch
                = goldenMismatch(client, QStringLiteral("fresh.expected"), readFile(path));
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        QVERIFY(backupsIn(dir).isEmpty());
#ifdef Q_OS_UNIX
        // A file MCP Broker creates is readable by the user only.
        QCOMPARE(QFile::permissions(path) & kOwnerGroupOther, QFile::ReadOwner | QFile::WriteOwner);
#endif
    }

    void connectKeepsOtherServersAndUnknownKeys_data()
    {
        addClientRows();
    }
    void connectKeepsOtherServersAndUnknownKeys()
    {
        QFETCH(QString, client);
        const QString path = m_dir->filePath(QStringLiteral("existing.") + extensionOf(client));
        const QByteArray original = readFile(goldenPath(client, QStringLiteral("existing")));
        QVERIFY(writeFile(path, original));
        QFile::setPermissions(
                path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);

        const auto saved = connectTo(profile(client), path);
        QVERIFY2(saved, qPrintable(errorOf(saved)));
        QVERIFY(!saved.value().created);
        const QString mismatch
                = goldenMismatch(client, QStringLiteral("existing.expected"), readFile(path));
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

        // The old file is kept, byte for byte, under a name that says when it was replaced.
        const QStringList backups = backupsIn(m_dir->path());
        QCOMPARE(backups.size(), 1);
        QCOMPARE(m_dir->filePath(backups.first()), saved.value().backupPath);
        QVERIFY(saved.value().backupPath.startsWith(path + QStringLiteral(".mcp-broker-backup-")));
        QCOMPARE(readFile(saved.value().backupPath), original);
        // An existing file keeps its mode.
        QVERIFY(QFile::permissions(path).testFlag(QFile::ReadOther));

        // Every entry that was there says what it said.
        const auto before = ClientConfigFile::open(profile(client), saved.value().backupPath);
        const auto after = ClientConfigFile::open(profile(client), path);
        QVERIFY(before && after);
        for (const QString &name : before.value()->entryNames()) {
            QVERIFY(after.value()->entry(name));
            QVERIFY(ClientConfigs::sameEntry(*before.value()->entry(name),
                                             *after.value()->entry(name)));
        }
    }

    void aSecondConnectChangesNothingAndMakesNoBackup_data()
    {
        addClientRows();
    }
    void aSecondConnectChangesNothingAndMakesNoBackup()
    {
        QFETCH(QString, client);
        const QString path = m_dir->filePath(QStringLiteral("existing.") + extensionOf(client));
        QVERIFY(writeFile(path, readFile(goldenPath(client, QStringLiteral("existing")))));
        QVERIFY(connectTo(profile(client), path));
        const QByteArray connected = readFile(path);
        const QDateTime modified = QFileInfo(path).lastModified();

        auto file = ClientConfigFile::open(profile(client), path);
        QVERIFY(file);
        for (const QString &server : {QString(), QStringLiteral("github")}) {
            QCOMPARE(file.value()->put(
                             ClientConfigs::entryName(server),
                             ClientConfigs::entry(profile(client), testEndpoint(), server)),
                     ClientConfigFile::Put::Unchanged);
        }
        QVERIFY(!file.value()->changed());
        const auto saved = file.value()->save();
        QVERIFY(saved);
        QVERIFY(!saved.value().written);
        QCOMPARE(readFile(path), connected);
        QCOMPARE(QFileInfo(path).lastModified(), modified);
        QCOMPARE(backupsIn(m_dir->path()).size(), 1);
    }

    void aMalformedFileIsRefusedAndLeftByteForByte_data()
    {
        addClientRows();
    }
    void aMalformedFileIsRefusedAndLeftByteForByte()
    {
        QFETCH(QString, client);
        const QString path = m_dir->filePath(QStringLiteral("malformed.") + extensionOf(client));
        const QByteArray malformed = readFile(goldenPath(client, QStringLiteral("malformed")));
        QVERIFY(writeFile(path, malformed));

        const auto saved = connectTo(profile(client), path);
        QVERIFY(!saved);
        const QString message = saved.error().message;
        QVERIFY2(message.contains(QDir::toNativeSeparators(path)), qPrintable(message));
        QVERIFY2(message.contains("left the file as it was"), qPrintable(message));
        // Where the problem is, without quoting the file.
        QVERIFY2(message.contains("line") || message.contains("is not an object"),
                 qPrintable(message));
        QVERIFY2(!message.contains("last read"), qPrintable(message));
        QCOMPARE(readFile(path), malformed);
        QVERIFY(backupsIn(m_dir->path()).isEmpty());
    }

    // nlohmann reports a number beyond a double with out_of_range, not parse_error: it used to
    // escape load() and end the process (found by fuzz_client_config).
    void aJsonNumberTooLargeForADoubleIsRefusedNotACrash()
    {
        for (const ClientProfile &client : ClientConfigs::all()) {
            if (client.format != ClientProfile::Format::Json)
                continue;
            const QString path = m_dir->filePath(client.id + QStringLiteral(".json"));
            const QByteArray huge = "{\"" + client.serversKey.toUtf8()
                    + "\": {\"other\": {\"timeout\": 999990E03333}}}\n";
            QVERIFY(writeFile(path, huge));

            const auto saved = connectTo(client, path);
            QVERIFY(!saved);
            const QString message = saved.error().message;
            QVERIFY2(message.contains(QDir::toNativeSeparators(path)), qPrintable(message));
            QVERIFY2(message.contains("a number is too large"), qPrintable(message));
            QVERIFY2(!message.contains("999990"), qPrintable(message));
            QCOMPARE(readFile(path), huge);
            QVERIFY(backupsIn(m_dir->path()).isEmpty());
        }
    }

    // toml++ 3.3 writes such a key without its quotes: connect would have written a config.toml
    // Codex cannot read (found by fuzz_client_config).
    void aTomlKeyThatWouldLoseItsQuotesIsRefusedBeforeAnyChange()
    {
        const QString path = m_dir->filePath(QStringLiteral("config.toml"));
        const QByteArray original = "\"don't\" = true\n\n[mcp_servers.docs]\n"
                                    "url = \"https://docs.example.com/mcp\"\n";
        QVERIFY(writeFile(path, original));

        const auto saved = connectTo(profile(QStringLiteral("codex")), path);
        QVERIFY(!saved);
        const QString message = saved.error().message;
        QVERIFY2(message.contains(QDir::toNativeSeparators(path)), qPrintable(message));
        QVERIFY2(message.contains("would lose its quotes"), qPrintable(message));
        QVERIFY2(message.contains("left the file as it was"), qPrintable(message));
        QCOMPARE(readFile(path), original);
        QVERIFY(backupsIn(m_dir->path()).isEmpty());
    }

    void disconnectRemovesOnlyTheBrokerEntries_data()
    {
        addClientRows();
    }
    void disconnectRemovesOnlyTheBrokerEntries()
    {
        QFETCH(QString, client);
        const QString path = m_dir->filePath(QStringLiteral("connected.") + extensionOf(client));
        QVERIFY(writeFile(path, readFile(goldenPath(client, QStringLiteral("existing.expected")))));

        auto file = ClientConfigFile::open(profile(client), path);
        QVERIFY(file);
        QCOMPARE(file.value()->brokerEntryNames(),
                 QStringList({QStringLiteral("mcp-broker"), QStringLiteral("mcp-broker-github")}));
        for (const QString &name : file.value()->brokerEntryNames())
            QVERIFY(file.value()->remove(name));
        const auto saved = file.value()->save();
        QVERIFY2(saved, qPrintable(errorOf(saved)));
        QVERIFY(!saved.value().backupPath.isEmpty());

        const QString mismatch
                = goldenMismatch(client, QStringLiteral("disconnected.expected"), readFile(path));
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        // JSON comes back exactly as it was before connect: key order and layout survive.
        if (profile(client).format == ClientProfile::Format::Json)
            QCOMPARE(readFile(path), readFile(goldenPath(client, QStringLiteral("existing"))));
    }

    void aGrantGoesWhereTheClientReadsHeaders_data()
    {
        QTest::addColumn<QString>("client");
        for (const ClientProfile &client : ClientConfigs::all()) {
            if (!client.headersKey.isEmpty())
                QTest::newRow(qPrintable(client.id)) << client.id;
        }
    }
    void aGrantGoesWhereTheClientReadsHeaders()
    {
        QFETCH(QString, client);
        const QString path = m_dir->filePath(QStringLiteral("grant.") + extensionOf(client));
        const auto saved = connectTo(profile(client), path, kToken);
        QVERIFY2(saved, qPrintable(errorOf(saved)));
        const QString mismatch
                = goldenMismatch(client, QStringLiteral("grant.expected"), readFile(path));
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

        const auto file = ClientConfigFile::open(profile(client), path);
        QVERIFY(file);
        const auto entry = file.value()->entry(QStringLiteral("mcp-broker"));
        QVERIFY(entry);
        QCOMPARE(ClientConfigs::grantIdIn(profile(client), *entry), std::optional(kGrantId));
        QVERIFY(ClientConfigs::sameEntry(
                ClientConfigs::withoutAuthorization(profile(client), *entry),
                ClientConfigs::entry(profile(client), testEndpoint(), QString())));
    }

    // What each client's entry is, and what counts as MCP Broker's.

    void entriesHaveTheShapeEachClientReads()
    {
        const BrokerEndpoint endpoint = testEndpoint();
        COMPARE_JSON(ClientConfigs::entry(profile("claude-code"), endpoint, QString()),
                     (nlohmann::json{{"type", "http"}, {"url", "http://127.0.0.1:7823/mcp"}}));
        COMPARE_JSON(ClientConfigs::entry(profile("cursor"), endpoint, "github"),
                     (nlohmann::json{{"url", "http://127.0.0.1:7823/mcp/github"}}));
        COMPARE_JSON(ClientConfigs::entry(profile("vscode"), endpoint, QString()),
                     (nlohmann::json{{"type", "http"}, {"url", "http://127.0.0.1:7823/mcp"}}));
        COMPARE_JSON(ClientConfigs::entry(profile("codex"), endpoint, QString(), kToken),
                     (nlohmann::json{{"url", "http://127.0.0.1:7823/mcp"},
                                     {"http_headers",
                                      {{"Authorization", "Bearer " + kToken.toStdString()}}}}));
        COMPARE_JSON(ClientConfigs::entry(profile("windsurf"), endpoint, QString()),
                     (nlohmann::json{{"serverUrl", "http://127.0.0.1:7823/mcp"}}));

        // Claude Desktop launches the bridge, with the config this command used.
        BrokerEndpoint withConfig = endpoint;
        withConfig.configPath = m_config;
        COMPARE_JSON(ClientConfigs::entry(profile("claude-desktop"), withConfig, "github"),
                     (nlohmann::json{{"command", kExecutable.toStdString()},
                                     {"args",
                                      {"stdio", "--server", "github", "--config",
                                       m_config.toStdString()}}}));
    }

    void onlyEntriesThatPointAtABrokerAreOurs_data()
    {
        QTest::addColumn<QByteArray>("entry");
        QTest::addColumn<bool>("ours");
        QTest::newRow("loopback /mcp")
                << QByteArray("{\"url\":\"http://127.0.0.1:7823/mcp\"}") << true;
        QTest::newRow("localhost /mcp/NAME")
                << QByteArray("{\"serverUrl\":\"http://localhost:9000/mcp/github\"}") << true;
        QTest::newRow("IPv6 loopback") << QByteArray("{\"url\":\"http://[::1]:7823/mcp\"}") << true;
        QTest::newRow("the bridge")
                << QByteArray("{\"command\":\"/usr/bin/mcp-broker\",\"args\":[\"stdio\"]}") << true;
        QTest::newRow("a remote server")
                << QByteArray("{\"url\":\"https://example.com/mcp\"}") << false;
        QTest::newRow("another local path")
                << QByteArray("{\"url\":\"http://127.0.0.1:7823/other\"}") << false;
        QTest::newRow("another command")
                << QByteArray("{\"command\":\"/usr/bin/mcp-broker\",\"args\":[\"serve\"]}")
                << false;
        QTest::newRow("another program")
                << QByteArray("{\"command\":\"npx\",\"args\":[\"stdio\"]}") << false;
    }
    void onlyEntriesThatPointAtABrokerAreOurs()
    {
        QFETCH(QByteArray, entry);
        QFETCH(bool, ours);
        QCOMPARE(ClientConfigs::pointsAtBroker(ordered_json::parse(entry.toStdString())), ours);
    }

    void anEntryOfOurNameThatPointsElsewhereIsNotOurs()
    {
        const QString path = m_dir->filePath(QStringLiteral("mcp.json"));
        const nlohmann::json servers
                = {{"mcp-broker", {{"url", "https://example.com/mcp"}}},
                   {"mcp-broker-github", {{"url", "http://127.0.0.1:7823/mcp/github"}}},
                   {"github", {{"url", "http://127.0.0.1:7823/mcp/github"}}}};
        const QByteArray contents
                = QByteArray::fromStdString(nlohmann::json{{"mcpServers", servers}}.dump());
        QVERIFY(writeFile(path, contents));
        const auto file = ClientConfigFile::open(profile("cursor"), path);
        QVERIFY(file);
        QVERIFY(!file.value()->isBrokerEntry(QStringLiteral("mcp-broker")));
        QVERIFY(!file.value()->isBrokerEntry(QStringLiteral("github"))); // not our name
        QCOMPARE(file.value()->brokerEntryNames(),
                 QStringList{QStringLiteral("mcp-broker-github")});
    }

    void vsCodeCommentsAreReadAndTheirLossIsSaid()
    {
        const QString path = m_dir->filePath(QStringLiteral("mcp.json"));
        const QByteArray original = readFile(goldenPath("vscode", QStringLiteral("comments")));
        QVERIFY(writeFile(path, original));
        auto file = ClientConfigFile::open(profile("vscode"), path);
        QVERIFY2(file, qPrintable(file ? QString() : file.error().message));
        QCOMPARE(file.value()->entryNames(), QStringList{QStringLiteral("github")});
        file.value()->put(QStringLiteral("mcp-broker"),
                          ClientConfigs::entry(profile("vscode"), testEndpoint(), QString()));
        QVERIFY(file.value()->rewriteNote().contains("comments"));
        const auto saved = file.value()->save();
        QVERIFY(saved);
        QCOMPARE(readFile(saved.value().backupPath), original);
        // What is written is strict JSON that still has the other server.
        const auto written = ordered_json::parse(readFile(path).toStdString());
        QVERIFY(written["servers"].contains("github"));
        QVERIFY(written["servers"].contains("mcp-broker"));
    }

    void codexRewriteSaysCommentsAndKeyOrderAreLost()
    {
        const QString path = m_dir->filePath(QStringLiteral("config.toml"));
        QVERIFY(writeFile(path, readFile(goldenPath("codex", QStringLiteral("existing")))));
        const auto file = ClientConfigFile::open(profile("codex"), path);
        QVERIFY(file);
        QVERIFY(file.value()->rewriteNote().contains("comments"));
        // A fresh document loses nothing.
        const auto fresh = ClientConfigFile::open(profile("codex"), path + QStringLiteral(".new"));
        QVERIFY(fresh);
        QVERIFY(fresh.value()->rewriteNote().isEmpty());
    }

    void backupNamesCarryTheUtcTime()
    {
        const QDateTime time(QDate(2026, 11, 24), QTime(10, 31, 2), Qt::UTC);
        QCOMPARE(ClientConfigFile::backupPathFor("/a/mcp.json", time),
                 QStringLiteral("/a/mcp.json.mcp-broker-backup-20261124T103102"));
        QCOMPARE(ClientConfigFile::backupPathFor("/a/mcp.json", time.toOffsetFromUtc(3600)),
                 QStringLiteral("/a/mcp.json.mcp-broker-backup-20261124T103102"));
    }

    void twoChangesKeepTwoBackups()
    {
        const QString path = m_dir->filePath(QStringLiteral("mcp.json"));
        QVERIFY(writeFile(path, readFile(goldenPath("cursor", QStringLiteral("existing")))));
        QVERIFY(connectTo(profile("cursor"), path));
        auto file = ClientConfigFile::open(profile("cursor"), path);
        QVERIFY(file);
        QVERIFY(file.value()->remove(QStringLiteral("mcp-broker")));
        QVERIFY(file.value()->save());
        // Within the same second the second one gets a number.
        QCOMPARE(backupsIn(m_dir->path()).size(), 2);
    }

    // Where each client's file is.

    void defaultPathsFollowHomeAndTheClientsOwnVariables()
    {
        EnvironmentOverride environment;
        environment.set("HOME", QFile::encodeName(m_home));
        for (const char *name : {"CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME"})
            environment.set(name, QByteArray());
        auto path = [](const char *client) {
            return ClientConfigs::defaultPath(profile(QString::fromLatin1(client)));
        };
        QCOMPARE(path("claude-code"), m_home + "/.claude.json");
        QCOMPARE(path("cursor"), m_home + "/.cursor/mcp.json");
        QCOMPARE(path("codex"), m_home + "/.codex/config.toml");
        QCOMPARE(path("windsurf"), m_home + "/.codeium/windsurf/mcp_config.json");
#if defined(Q_OS_LINUX)
        QCOMPARE(path("vscode"), m_home + "/.config/Code/User/mcp.json");
        QCOMPARE(path("claude-desktop"), m_home + "/.config/Claude/claude_desktop_config.json");
        environment.set("XDG_CONFIG_HOME", "/x/xdg");
        QCOMPARE(path("vscode"), QStringLiteral("/x/xdg/Code/User/mcp.json"));
        QCOMPARE(path("claude-desktop"),
                 QStringLiteral("/x/xdg/Claude/claude_desktop_config.json"));
        // Relative values are not XDG paths: ignored.
        environment.set("XDG_CONFIG_HOME", "relative/xdg");
        QCOMPARE(path("vscode"), m_home + "/.config/Code/User/mcp.json");
#endif
        environment.set("CLAUDE_CONFIG_DIR", "/x/claude");
        QCOMPARE(path("claude-code"), QStringLiteral("/x/claude/.claude.json"));
        environment.set("CODEX_HOME", "/x/codex");
        QCOMPARE(path("codex"), QStringLiteral("/x/codex/config.toml"));

        // --config-file wins, made absolute.
        QCOMPARE(ClientConfigs::configFilePath(profile("cursor"),
                                               QStringLiteral("/p/.cursor/mcp.json")),
                 QStringLiteral("/p/.cursor/mcp.json"));
        QCOMPARE(ClientConfigs::configFilePath(profile("cursor"), QStringLiteral("rel.json")),
                 QDir::current().absoluteFilePath(QStringLiteral("rel.json")));
    }

    // import

    void importTakesRemoteServersAndLeavesSecretsBehind()
    {
        store::BrokerConfig config;
        store::ServerConfig github;
        github.name = QStringLiteral("github");
        github.url = QUrl(QStringLiteral("https://api.githubcopilot.com/mcp/"));
        config.servers.append(github);

        const QByteArray file = readFile(QFINDTESTDATA("golden/clients/import/mixed.json"));
        const auto plan = ClientServerImport::plan(file, QStringLiteral("/x/mcp.json"), config);
        QVERIFY2(plan, qPrintable(plan ? QString() : plan.error().message));

        QStringList names;
        QStringList urls;
        for (const store::ServerConfig &server : plan.value().servers) {
            names.append(server.name);
            urls.append(server.url.toString());
            QCOMPARE(server.auth, store::UpstreamAuth::None);
            QVERIFY(server.secretHeaderNames.isEmpty());
        }
        QCOMPARE(names, QStringList({"linear", "my-docs", "notion"}));
        QCOMPARE(urls,
                 QStringList({"https://mcp.linear.app/mcp", "https://docs.example.com/mcp",
                              "https://mcp.notion.com/mcp"}));
        QCOMPARE(plan.value().added.size(), 3);
        QVERIFY(plan.value().added.at(0).contains("Added 'linear' (https://mcp.linear.app/mcp), "
                                                  "from 'Linear'"));

        const QString notes = plan.value().notes.join('\n');
        auto noteAbout = [&notes](const QString &text) {
            return notes.contains(text) ? QString()
                                        : QStringLiteral("no note \"%1\" in:\n%2").arg(text, notes);
        };
        for (const QString &expected :
             {QStringLiteral("'linear' was added without its Authorization header"),
              QStringLiteral("--bearer-stdin"),
              QStringLiteral("'my-docs' was added without its headers (X-Api-Key, X-Team)"),
              QStringLiteral("--header-stdin X-Api-Key --header-stdin X-Team"),
              QStringLiteral("Skipped 'fs': it is a command"),
              QStringLiteral("Skipped 'github': a server named 'github' is configured already"),
              QStringLiteral("Skipped 'old': it uses the old SSE transport"),
              QStringLiteral("Skipped 'amap': its URL carries what looks like a credential "
                             "(query parameter 'key')"),
              QStringLiteral("Skipped 'ftp': the server URL"),
              QStringLiteral("Skipped 'mcp-broker': it is MCP Broker itself"),
              QStringLiteral("Skipped 'Notion': an entry above is imported as 'notion' already"),
              QStringLiteral("Skipped '1st': its name cannot be made a server name"),
              QStringLiteral("Skipped 'broken': it is not a server entry")}) {
            const QString missing = noteAbout(expected);
            QVERIFY2(missing.isEmpty(), qPrintable(missing));
        }
        const QString everything = notes + plan.value().added.join('\n');
        QVERIFY2(!everything.contains("SECRET"), qPrintable(everything));
    }

    void importReadsVsCodeServersWithComments()
    {
        const QByteArray file = readFile(QFINDTESTDATA("golden/clients/import/vscode.json"));
        const auto plan = ClientServerImport::plan(file, QStringLiteral("mcp.json"), {});
        QVERIFY2(plan, qPrintable(plan ? QString() : plan.error().message));
        QCOMPARE(plan.value().servers.size(), 1);
        QCOMPARE(plan.value().servers.first().name, QStringLiteral("github"));
    }

    void importRefusesAFileItCannotParseWithoutQuotingIt()
    {
        const QByteArray file
                = "{\n  \"mcpServers\": {\n    \"x\": {\"url\": tok-SECRET}\n  }\n}\n";
        const auto plan = ClientServerImport::plan(file, QStringLiteral("/x/claude.json"), {});
        QVERIFY(!plan);
        const QString message = plan.error().message;
        QVERIFY2(message.contains(QDir::toNativeSeparators("/x/claude.json")), qPrintable(message));
        QVERIFY2(message.contains("line 3"), qPrintable(message));
        QVERIFY2(!message.contains("SECRET"), qPrintable(message));
    }

    void importNeedsAServersObject()
    {
        const auto plan = ClientServerImport::plan("{\"theme\": \"dark\"}", "x.json", {});
        QVERIFY(!plan);
        QVERIFY2(plan.error().message.contains("no \"mcpServers\""),
                 qPrintable(plan.error().message));
        // An empty list of servers is nothing to do, not an error.
        const auto empty = ClientServerImport::plan("{\"mcpServers\": {}}", "x.json", {});
        QVERIFY(empty);
        QVERIFY(empty.value().servers.isEmpty());
    }

    void importedNamesAreMadeServerNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("expected");
        QTest::newRow("case") << "GitHub"
                              << "github";
        QTest::newRow("underscore") << "my_server"
                                    << "my-server";
        QTest::newRow("spaces and marks") << "My  Docs (prod)"
                                          << "my-docs-prod";
        QTest::newRow("hyphens at the ends") << "--x--"
                                             << "x";
        QTest::newRow("too long") << QString(70, 'a') << QString(63, 'a');
    }
    void importedNamesAreMadeServerNames()
    {
        QFETCH(QString, name);
        QFETCH(QString, expected);
        QCOMPARE(ClientServerImport::serverNameFor(name), expected);
    }

    // The real binary.

    void connectAndDisconnectCursorInTheHomeFolder()
    {
        writeBrokerConfig({});
        const QString path = m_home + QStringLiteral("/.cursor/mcp.json");
        const Outcome connected = run({"connect", "cursor"});
        QVERIFY2(connected.exitCode == 0, qPrintable(connected.err));
        QVERIFY2(connected.out.contains(QStringLiteral("Connected Cursor to MCP Broker: added "
                                                       "mcp-broker (http://127.0.0.1:7823/mcp) "
                                                       "in %1.")
                                                .arg(path)),
                 qPrintable(connected.out));
        QVERIFY2(connected.out.contains("Restart Cursor; it will open the browser once"),
                 qPrintable(connected.out));
        const QByteArray written = readFile(path);
        COMPARE_JSON(nlohmann::json::parse(written.toStdString()),
                     (nlohmann::json{{"mcpServers",
                                      {{"mcp-broker", {{"url", "http://127.0.0.1:7823/mcp"}}}}}}));

        const Outcome again = run({"connect", "cursor"});
        QCOMPARE(again.exitCode, 0);
        QVERIFY2(again.out.contains("Cursor is already connected"), qPrintable(again.out));
        QCOMPARE(readFile(path), written);
        QVERIFY(backupsIn(QFileInfo(path).path()).isEmpty());

        const Outcome disconnected = run({"disconnect", "cursor"});
        QVERIFY2(disconnected.exitCode == 0, qPrintable(disconnected.err));
        QVERIFY2(disconnected.out.contains("Disconnected Cursor: removed mcp-broker"),
                 qPrintable(disconnected.out));
        QVERIFY2(disconnected.out.contains("The old file is kept as"),
                 qPrintable(disconnected.out));
        COMPARE_JSON(nlohmann::json::parse(readFile(path).toStdString()),
                     (nlohmann::json{{"mcpServers", nlohmann::json::object()}}));

        const Outcome nothing = run({"disconnect", "cursor"});
        QCOMPARE(nothing.exitCode, 0);
        QVERIFY2(nothing.out.contains("Cursor is not connected"), qPrintable(nothing.out));
    }

    void connectFollowsTheClientsVariables()
    {
        writeBrokerConfig({});
        const QString codexHome = m_dir->filePath(QStringLiteral("codex-home"));
        const Outcome connected = run({"connect", "codex"}, {{"CODEX_HOME", codexHome}});
        QVERIFY2(connected.exitCode == 0, qPrintable(connected.err));
        QVERIFY2(connected.out.contains("Run `codex mcp login mcp-broker` once"),
                 qPrintable(connected.out));
        QCOMPARE(readFile(codexHome + QStringLiteral("/config.toml")),
                 QByteArray("[mcp_servers.mcp-broker]\nurl = \"http://127.0.0.1:7823/mcp\"\n"));
    }

    void connectRefusesAMalformedFileAndLeavesIt()
    {
        writeBrokerConfig({});
        const QString path = m_dir->filePath(QStringLiteral("project/.cursor/mcp.json"));
        const QByteArray malformed = readFile(goldenPath("cursor", QStringLiteral("malformed")));
        QVERIFY(writeFile(path, malformed));
        const Outcome refused = run({"connect", "cursor", "--config-file", path});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains(path + QStringLiteral(" is not valid JSON (line")),
                 qPrintable(refused.err));
        QVERIFY(refused.out.isEmpty());
        QCOMPARE(readFile(path), malformed);
        QVERIFY(backupsIn(QFileInfo(path).path()).isEmpty());

        const Outcome disconnect = run({"disconnect", "cursor", "--config-file", path});
        QCOMPARE(disconnect.exitCode, 1);
        QCOMPARE(readFile(path), malformed);
    }

    void connectNeverOverwritesSomeoneElsesEntryOfOurName()
    {
        writeBrokerConfig({});
        const QString path = m_dir->filePath(QStringLiteral("mcp.json"));
        const QByteArray theirs = QByteArray::fromStdString(
                nlohmann::json{{"mcpServers", {{"mcp-broker", {{"url", "https://x.example/mcp"}}}}}}
                        .dump(2));
        QVERIFY(writeFile(path, theirs));
        const Outcome refused = run({"connect", "windsurf", "--config-file", path});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("already has an entry named 'mcp-broker' that does not "
                                      "point at MCP Broker"),
                 qPrintable(refused.err));
        QCOMPARE(readFile(path), theirs);

        const Outcome disconnected = run({"disconnect", "windsurf", "--config-file", path});
        QCOMPARE(disconnected.exitCode, 0);
        QVERIFY2(disconnected.out.contains("Left 'mcp-broker' in place"),
                 qPrintable(disconnected.out));
        QCOMPARE(readFile(path), theirs);
    }

    void connectEveryServerOnTheConfigsPort()
    {
        writeBrokerConfig({QStringLiteral("github"), QStringLiteral("docs")}, 7999);
        const QString path = m_dir->filePath(QStringLiteral("settings/mcp.json"));
        const Outcome connected
                = run({"connect", "vscode", "--all-servers", "--config-file", path});
        QVERIFY2(connected.exitCode == 0, qPrintable(connected.err));
        QVERIFY2(connected.out.contains("start mcp-broker-github, mcp-broker-docs"),
                 qPrintable(connected.out));
        COMPARE_JSON(nlohmann::json::parse(readFile(path).toStdString()),
                     (nlohmann::json{
                             {"servers",
                              {{"mcp-broker-github",
                                {{"type", "http"}, {"url", "http://127.0.0.1:7999/mcp/github"}}},
                               {"mcp-broker-docs",
                                {{"type", "http"}, {"url", "http://127.0.0.1:7999/mcp/docs"}}}}}}));

        // disconnect --server takes out that one only.
        const Outcome one
                = run({"disconnect", "vscode", "--server", "docs", "--config-file", path});
        QVERIFY2(one.exitCode == 0, qPrintable(one.err));
        const auto left = nlohmann::json::parse(readFile(path).toStdString());
        QVERIFY(left["servers"].contains("mcp-broker-github"));
        QVERIFY(!left["servers"].contains("mcp-broker-docs"));
    }

    void connectTakesOnlyConfiguredServers()
    {
        writeBrokerConfig({QStringLiteral("github")});
        const QString path = m_dir->filePath(QStringLiteral("mcp.json"));
        const Outcome refused
                = run({"connect", "cursor", "--server", "nope", "--config-file", path});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("No server named 'nope' is configured"),
                 qPrintable(refused.err));
        QVERIFY(!QFile::exists(path));

        writeBrokerConfig({});
        const Outcome none = run({"connect", "cursor", "--all-servers", "--config-file", path});
        QCOMPARE(none.exitCode, 1);
        QVERIFY2(none.err.contains("No server is configured yet"), qPrintable(none.err));
    }

    void claudeDesktopLaunchesThisBinaryWithItsConfig()
    {
        writeBrokerConfig({QStringLiteral("github")});
        const QString path = m_dir->filePath(QStringLiteral("claude_desktop_config.json"));
        const Outcome connected
                = run({"connect", "claude-desktop", "--server", "github", "--config-file", path});
        QVERIFY2(connected.exitCode == 0, qPrintable(connected.err));
        QVERIFY2(connected.out.contains("Restart Claude Desktop"), qPrintable(connected.out));
        const QString binary = QFileInfo(QStringLiteral(MCPB_BROKER_BINARY)).canonicalFilePath();
        COMPARE_JSON(nlohmann::json::parse(readFile(path).toStdString()),
                     (nlohmann::json{{"mcpServers",
                                      {{"mcp-broker-github",
                                        {{"command", binary.toStdString()},
                                         {"args",
                                          {"stdio", "--server", "github", "--config",
                                           m_config.toStdString()}}}}}}}));

        const Outcome refused = run({"connect", "claude-desktop", "--grant-header"});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains("leave out --grant-header"), qPrintable(refused.err));
    }

    void grantHeaderWritesAGrantThatIsNeverPrintedAndDisconnectRevokesIt()
    {
        writeBrokerConfig({});
        const QString path = m_dir->filePath(QStringLiteral("claude.json"));
        const Outcome connected
                = run({"connect", "claude-code", "--grant-header", "--config-file", path});
        QVERIFY2(connected.exitCode == 0, qPrintable(connected.err));
        const auto written = nlohmann::json::parse(readFile(path).toStdString());
        const std::string header = written["mcpServers"]["mcp-broker"]["headers"]["Authorization"];
        QVERIFY(QByteArray::fromStdString(header).startsWith("Bearer mcpb_"));
        const QString token = QString::fromStdString(header.substr(7));
        QVERIFY(!connected.out.contains(token) && !connected.err.contains(token));
        QVERIFY2(connected.out.contains("The file now holds grant g"), qPrintable(connected.out));
        QVERIFY2(connected.out.contains("`mcp-broker grant revoke claude-code`"),
                 qPrintable(connected.out));
#ifdef Q_OS_UNIX
        QCOMPARE(QFile::permissions(path) & kOwnerGroupOther, QFile::ReadOwner | QFile::WriteOwner);
#endif
        QCOMPARE(grantClients(), QStringList{QStringLiteral("claude-code")});

        // A second run finds the grant in the file: nothing changes, no second grant.
        const QByteArray before = readFile(path);
        const Outcome again
                = run({"connect", "claude-code", "--grant-header", "--config-file", path});
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        QVERIFY2(again.out.contains("Claude Code is already connected"), qPrintable(again.out));
        QCOMPARE(readFile(path), before);
        QCOMPARE(grantClients(), QStringList{QStringLiteral("claude-code")});

        // Another file cannot get that grant's token: the user is told how to start over.
        const Outcome other = run({"connect", "claude-code", "--grant-header", "--config-file",
                                   m_dir->filePath(QStringLiteral("other.json"))});
        QCOMPARE(other.exitCode, 1);
        QVERIFY2(other.err.contains("already has a grant"), qPrintable(other.err));
        QVERIFY(!QFile::exists(m_dir->filePath(QStringLiteral("other.json"))));

        const Outcome disconnected = run({"disconnect", "claude-code", "--config-file", path});
        QVERIFY2(disconnected.exitCode == 0, qPrintable(disconnected.err));
        QVERIFY2(disconnected.out.contains("Revoked grant g"), qPrintable(disconnected.out));
        QVERIFY(grantClients().isEmpty());
    }

    void unknownClientsAreUsageErrors()
    {
        const Outcome refused = run({"connect", "emacs"});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains("Unknown client 'emacs'"), qPrintable(refused.err));
        QVERIFY2(refused.err.contains("claude-code, cursor, vscode, codex, windsurf or "
                                      "claude-desktop"),
                 qPrintable(refused.err));
    }

    void importAddsTheRemoteServersToTheConfig()
    {
        writeBrokerConfig({QStringLiteral("github")});
        const QString file = m_dir->filePath(QStringLiteral("claude_desktop_config.json"));
        const nlohmann::json servers = {{"notion", {{"url", "https://mcp.notion.com/mcp"}}},
                                        {"linear",
                                         {{"url", "https://mcp.linear.app/mcp"},
                                          {"headers", {{"Authorization", "Bearer lin-SECRET"}}}}},
                                        {"fs", {{"command", "npx"}}}};
        const QByteArray contents
                = QByteArray::fromStdString(nlohmann::json{{"mcpServers", servers}}.dump());
        QVERIFY(writeFile(file, contents));
        const Outcome imported = run({"import", file});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        QVERIFY2(imported.out.contains("Added 'notion' (https://mcp.notion.com/mcp)."),
                 qPrintable(imported.out));
        QVERIFY2(imported.out.contains("Skipped 'fs'"), qPrintable(imported.out));
        QVERIFY2(imported.out.contains("Imported 2 server(s)"), qPrintable(imported.out));
        QVERIFY(!imported.out.contains("SECRET") && !imported.err.contains("SECRET"));
        QVERIFY(!readFile(m_config).contains("SECRET"));

        const auto config = store::ConfigStore(m_config).load();
        QVERIFY(config);
        QStringList names;
        for (const store::ServerConfig &server : config.value().servers)
            names.append(server.name);
        QCOMPARE(names, QStringList({"github", "linear", "notion"})); // the file's order

        // Again: every name is taken now, which is nothing to do.
        const Outcome again = run({"import", file});
        QCOMPARE(again.exitCode, 0);
        QVERIFY2(again.out.contains("Nothing to import"), qPrintable(again.out));
    }

    void importOfAnUnreadableOrUnparsableFileFails()
    {
        writeBrokerConfig({});
        const QString file = m_dir->filePath(QStringLiteral("broken.json"));
        QVERIFY(writeFile(file, "{\n  \"mcpServers\": {\n    \"x\": \n"));
        const Outcome broken = run({"import", file});
        QCOMPARE(broken.exitCode, 1);
        QVERIFY2(broken.err.contains(file + QStringLiteral(" is not valid JSON (line")),
                 qPrintable(broken.err));
        QVERIFY2(broken.err.contains("Nothing was imported"), qPrintable(broken.err));

        const Outcome missing = run({"import", m_dir->filePath(QStringLiteral("none.json"))});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("Could not read"), qPrintable(missing.err));
    }

private:
    void writeBrokerConfig(const QStringList &servers, quint16 port = kPort)
    {
        store::BrokerConfig config;
        config.port = port;
        for (const QString &name : servers) {
            store::ServerConfig server;
            server.name = name;
            server.url = QUrl(QStringLiteral("https://%1.example.com/mcp").arg(name));
            config.servers.append(server);
        }
        const auto saved = store::ConfigStore(m_config).save(config);
        QVERIFY2(saved, qPrintable(saved ? QString() : saved.error().message));
    }

    QStringList grantClients()
    {
        const Outcome listed = run({"grant", "list", "--json"});
        if (listed.exitCode != 0)
            return {QStringLiteral("<grant list failed: %1>").arg(listed.err)};
        const auto list = nlohmann::json::parse(listed.out.toStdString());
        QStringList clients;
        for (const auto &grant : list["grants"])
            clients.append(QString::fromStdString(grant["client"].get<std::string>()));
        return clients;
    }

    Outcome run(QStringList arguments, const QList<QPair<QString, QString>> &extra = {})
    {
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        // Never the real home, nor the user's client settings.
        environment.insert(QStringLiteral("HOME"), m_home);
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir->filePath("xdg-config"));
        for (const char *name : {"CLAUDE_CONFIG_DIR", "CODEX_HOME", "APPDATA", "MCP_BROKER_CONFIG"})
            environment.remove(QString::fromLatin1(name));
        for (const auto &[name, value] : extra)
            environment.insert(name, value);
        process.setProcessEnvironment(environment);
        arguments << QStringLiteral("--config") << m_config;

        Outcome outcome;
        process.start(QStringLiteral(MCPB_BROKER_BINARY), arguments);
        process.closeWriteChannel();
        if (!QTest::qWaitFor([&process] { return process.state() == QProcess::NotRunning; },
                             kCommandTimeoutMs)) {
            process.kill();
            process.waitForFinished(5'000);
            qWarning() << "mcp-broker" << arguments << "did not finish in time";
            return outcome;
        }
        outcome.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        outcome.out = QString::fromUtf8(process.readAllStandardOutput());
        outcome.err = QString::fromUtf8(process.readAllStandardError());
        return outcome;
    }

    std::optional<QTemporaryDir> m_dir;
    QString m_home;
    QString m_config;
};

QTEST_GUILESS_MAIN(TestClientConfigs)
#include "tst_clientconfigs.moc"
