#include "store/ConfigStore.h"

#include "JsonCompare.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace mcpbroker;
using namespace mcpbroker::store;

Q_DECLARE_METATYPE(mcpbroker::store::ServerConfig)

namespace {

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return "<unreadable>";
    return file.readAll();
}

bool writeRaw(const QString &path, const QByteArray &contents)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && file.write(contents) == contents.size();
}

ServerConfig server(const QString &name, const QString &url, UpstreamAuth auth = UpstreamAuth::None)
{
    ServerConfig config;
    config.name = name;
    config.url = QUrl(url);
    config.auth = auth;
    return config;
}

QSet<QString> keysOf(const nlohmann::json &object)
{
    QSet<QString> keys;
    for (auto it = object.begin(); it != object.end(); ++it)
        keys.insert(QString::fromStdString(it.key()));
    return keys;
}

} // namespace

class TestConfigStore : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString path() const { return m_dir.filePath(QStringLiteral("mcp-broker/config.json")); }

    // Loads `contents` and checks that it fails, names the file and leaves it byte for byte.
    Error loadFails(const QByteArray &contents)
    {
        [&] { QVERIFY(writeRaw(path(), contents)); }();
        const QByteArray hashBefore
                = QCryptographicHash::hash(readAll(path()), QCryptographicHash::Sha256);
        const auto loaded = ConfigStore(path()).load();
        [&] {
            QVERIFY2(!loaded.ok(), contents.constData());
            QVERIFY2(loaded.error().message.contains(path()), qPrintable(loaded.error().message));
            QVERIFY(loaded.error().message.contains(QLatin1String("did not change it")));
            QCOMPARE(QCryptographicHash::hash(readAll(path()), QCryptographicHash::Sha256),
                     hashBefore);
        }();
        return loaded.ok() ? Error{} : loaded.error();
    }

private slots:
    void init() { QFile::remove(path()); }

    void missingFileGivesTheDefaultsAndCreatesNothing()
    {
        const auto loaded = ConfigStore(path()).load();
        QVERIFY(loaded.ok());
        QCOMPARE(loaded.value().port, BrokerConfig::kDefaultPort);
        QCOMPARE(loaded.value().port, quint16(7823));
        QVERIFY(loaded.value().servers.isEmpty());
        QVERIFY(!QFileInfo::exists(path()));
        QVERIFY(!QFileInfo::exists(QFileInfo(path()).absolutePath()));
    }

    void defaultPathHonoursTheEnvironment()
    {
        qputenv("MCP_BROKER_CONFIG", "/somewhere/else.json");
        QCOMPARE(ConfigStore::defaultPath(), QStringLiteral("/somewhere/else.json"));
        qunsetenv("MCP_BROKER_CONFIG");
        // The keyring wrapper gives every test a throwaway XDG_CONFIG_HOME.
        const QString configHome = qEnvironmentVariable("XDG_CONFIG_HOME");
        if (!configHome.isEmpty())
            QCOMPARE(ConfigStore::defaultPath(),
                     QDir(configHome).absolutePath() + QStringLiteral("/mcp-broker/config.json"));
        QVERIFY(ConfigStore::defaultPath().endsWith(QStringLiteral("/mcp-broker/config.json")));
    }

    void roundTripKeepsEverything()
    {
        BrokerConfig config;
        config.port = 9123;
        config.servers.append(server(QStringLiteral("github"),
                                     QStringLiteral("https://api.githubcopilot.com/mcp/"),
                                     UpstreamAuth::Bearer));
        ServerConfig custom = server(QStringLiteral("my-api2"),
                                     QStringLiteral("http://127.0.0.1:8080/mcp?x=1%202"),
                                     UpstreamAuth::Headers);
        custom.secretHeaderNames = {QStringLiteral("X-Api-Key"), QStringLiteral("X-Org")};
        custom.enabled = false;
        custom.requestTimeoutMs = 120'000;
        config.servers.append(custom);
        config.servers.append(server(QStringLiteral("p"), QStringLiteral("https://example.com")));

        ConfigStore store(path());
        const auto saved = store.save(config);
        QVERIFY2(saved.ok(), qPrintable(saved ? QString() : saved.error().message));
        const auto loaded = store.load();
        QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));

        QCOMPARE(loaded.value().port, quint16(9123));
        QCOMPARE(loaded.value().servers.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const ServerConfig &want = config.servers.at(i);
            const ServerConfig &got = loaded.value().servers.at(i);
            QCOMPARE(got.name, want.name);
            QCOMPARE(got.url, want.url);
            QCOMPARE(got.auth, want.auth);
            QCOMPARE(got.secretHeaderNames, want.secretHeaderNames);
            QCOMPARE(got.enabled, want.enabled);
            QCOMPARE(got.requestTimeoutMs, want.requestTimeoutMs);
        }
        QVERIFY(loaded.value().server(QStringLiteral("my-api2")) != nullptr);
        QCOMPARE(loaded.value().server(QStringLiteral("my-api2"))->requestTimeoutMs, 120'000);
        QVERIFY(loaded.value().server(QStringLiteral("nope")) == nullptr);

        // Saving what was loaded writes the same bytes: no churn in the user's file.
        const QByteArray first = readAll(path());
        QVERIFY(store.save(loaded.value()).ok());
        QCOMPARE(readAll(path()), first);
    }

    void savedFileIsPrettyJsonInTheDocumentedSchemaOnly()
    {
        BrokerConfig config;
        config.servers.append(server(QStringLiteral("github"), QStringLiteral("https://a.example/"),
                                     UpstreamAuth::Bearer));
        ServerConfig headers = server(QStringLiteral("api"), QStringLiteral("https://b.example/"),
                                      UpstreamAuth::Headers);
        headers.secretHeaderNames = {QStringLiteral("X-Api-Key")};
        config.servers.append(headers);
        QVERIFY(ConfigStore(path()).save(config).ok());

        const QByteArray text = readAll(path());
        QVERIFY(text.contains("\n  \"port\": 7823,")); // indented, one key a line
        QVERIFY(text.endsWith("\n"));
        const auto root = nlohmann::json::parse(text.toStdString());
        // No key has room for a secret value: the file holds names and settings only.
        QCOMPARE(keysOf(root), (QSet<QString>{"version", "port", "servers"}));
        QCOMPARE(root["version"].get<int>(), 1);
        const QSet<QString> serverKeys{"name",          "url",     "auth",
                                       "secretHeaders", "enabled", "requestTimeoutMs"};
        QCOMPARE(root["servers"].size(), size_t(2));
        QCOMPARE(keysOf(root["servers"][0]), serverKeys - QSet<QString>{"secretHeaders"});
        QCOMPARE(keysOf(root["servers"][1]), serverKeys);
        QCOMPARE(root["servers"][0]["auth"].get<std::string>(), std::string("bearer"));
        QCOMPARE(root["servers"][1]["auth"].get<std::string>(), std::string("headers"));
        QCOMPARE(root["servers"][1]["secretHeaders"][0].get<std::string>(),
                 std::string("X-Api-Key"));
        QCOMPARE(QFile::permissions(path()),
                 QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser);
    }

    void readsAMinimalHandWrittenFile()
    {
        const QByteArray minimal
                = "{ \"servers\": [ { \"name\": \"docs\", \"url\": \"https://d.example/mcp\" } ] }";
        QVERIFY(writeRaw(path(), minimal));
        const auto loaded = ConfigStore(path()).load();
        QVERIFY(loaded.ok());
        QCOMPARE(loaded.value().port, BrokerConfig::kDefaultPort);
        QCOMPARE(loaded.value().servers.size(), 1);
        const ServerConfig &docs = loaded.value().servers.first();
        QCOMPARE(docs.auth, UpstreamAuth::None);
        QVERIFY(docs.enabled);
        QCOMPARE(docs.requestTimeoutMs, 60'000);
        QVERIFY(docs.secretHeaderNames.isEmpty());
    }

    void unknownKeysAreTolerated()
    {
        const QByteArray withUnknownKeys
                = "{\n"
                  "  \"version\": 1, \"port\": 8000, \"theme\": \"dark\", \"future\": { "
                  "\"nested\": [1, 2] },\n"
                  "  \"servers\": [ { \"name\": \"github\", \"url\": \"https://x.example/\", "
                  "\"color\": \"blue\", \"auth\": \"none\" } ]\n"
                  "}";
        QVERIFY(writeRaw(path(), withUnknownKeys));
        const QByteArray before = readAll(path());
        const auto loaded = ConfigStore(path()).load();
        QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(loaded.value().port, quint16(8000));
        QCOMPARE(loaded.value().servers.size(), 1);
        QCOMPARE(readAll(path()), before);
    }

    void invalidJsonNamesThePathAndPositionAndLeavesTheFile()
    {
        const Error error = loadFails("{\n  \"port\": 7823,\n  \"servers\": [ oops ]\n}\n");
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY2(error.message.contains(QLatin1String("not valid JSON")),
                 qPrintable(error.message));
        QVERIFY2(error.message.contains(QLatin1String("line 3, column 16")),
                 qPrintable(error.message));
    }

    void emptyAndTruncatedFilesAreErrors_data()
    {
        QTest::addColumn<QByteArray>("contents");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("truncated") << QByteArray("{\"port\": 78");
        QTest::newRow("trailing garbage") << QByteArray("{} {}");
        QTest::newRow("invalid utf-8") << QByteArray("{\"theme\": \"\xff\xfe\"}");
        // Found by fuzzing the client-config merger: the JSON library throws another type.
        QTest::newRow("number too large") << QByteArray("{\"port\": 1e999}");
    }

    void emptyAndTruncatedFilesAreErrors()
    {
        QFETCH(QByteArray, contents);
        const Error error = loadFails(contents);
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY(error.message.contains(QLatin1String("not valid JSON")));
    }

    void wrongTypesAndValuesAreClearErrors_data()
    {
        QTest::addColumn<QByteArray>("contents");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("top-level list") << QByteArray("[]") << "JSON object";
        QTest::newRow("port as text") << QByteArray("{\"port\": \"7823\"}") << "\"port\"";
        QTest::newRow("port fractional") << QByteArray("{\"port\": 78.5}") << "\"port\"";
        QTest::newRow("port zero") << QByteArray("{\"port\": 0}") << "between 1 and 65535";
        QTest::newRow("port too large") << QByteArray("{\"port\": 70000}") << "between 1 and 65535";
        QTest::newRow("newer version") << QByteArray("{\"version\": 2}") << "newer MCP Broker";
        QTest::newRow("version as text") << QByteArray("{\"version\": \"1\"}") << "\"version\"";
        QTest::newRow("servers object") << QByteArray("{\"servers\": {}}") << "\"servers\"";
        QTest::newRow("server not object")
                << QByteArray("{\"servers\": [\"github\"]}") << "server #1";
        QTest::newRow("name missing")
                << QByteArray("{\"servers\": [{\"url\": \"https://a.example/\"}]}") << "\"name\"";
        QTest::newRow("name number")
                << QByteArray("{\"servers\": [{\"name\": 5, \"url\": \"https://a.example/\"}]}")
                << "\"name\"";
        QTest::newRow("url missing")
                << QByteArray("{\"servers\": [{\"name\": \"a\"}]}") << "\"url\"";
        QTest::newRow("auth unknown")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"auth\": \"basic\"}]}")
                << "\"bearer\"";
        QTest::newRow("enabled as text")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"enabled\": \"yes\"}]}")
                << "\"enabled\"";
        QTest::newRow("timeout too small")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"requestTimeoutMs\": 5}]}")
                << "\"requestTimeoutMs\"";
        QTest::newRow("headers without names")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"auth\": \"headers\"}]}")
                << "\"secretHeaders\"";
        QTest::newRow("header name with space")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"auth\": \"headers\", \"secretHeaders\": [\"X Key\"]}]}")
                << "header name";
        QTest::newRow("header listed twice")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"auth\": \"headers\", \"secretHeaders\": [\"X-Key\", \"x-key\"]}]}")
                << "listed twice";
        QTest::newRow("header not text")
                << QByteArray("{\"servers\": [{\"name\": \"a\", \"url\": \"https://a.example/\", "
                              "\"secretHeaders\": [1]}]}")
                << "\"secretHeaders\"";
    }

    void wrongTypesAndValuesAreClearErrors()
    {
        QFETCH(QByteArray, contents);
        QFETCH(QString, mentions);
        const Error error = loadFails(contents);
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY2(error.message.contains(mentions), qPrintable(error.message));
    }

    void badServerNamesAreRefusedWithTheRule_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("underscore") << "my_server";
        QTest::newRow("double underscore") << "a__b";
        QTest::newRow("uppercase") << "GitHub";
        QTest::newRow("leading digit") << "1password";
        QTest::newRow("leading hyphen") << "-x";
        QTest::newRow("empty") << "";
        QTest::newRow("dot") << "a.b";
        QTest::newRow("space") << "a b";
        QTest::newRow("64 characters") << QString(64, QLatin1Char('a'));
    }

    void badServerNamesAreRefusedWithTheRule()
    {
        QFETCH(QString, name);
        const auto valid = ConfigStore::validateServerName(name);
        QVERIFY(!valid.ok());
        QCOMPARE(valid.error().kind, Error::Kind::InvalidInput);
        QVERIFY(valid.error().message.contains(
                QLatin1String("lowercase letters, digits and hyphens")));
        QVERIFY(valid.error().message.contains(QLatin1String("start with a letter")));
        QVERIFY(valid.error().message.contains(QLatin1String("\"__\"")));

        const QByteArray file = QByteArray("{\"servers\": [{\"name\": \"") + name.toUtf8()
                + "\", \"url\": \"https://a.example/\"}]}";
        const Error error = loadFails(file);
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY2(error.message.contains(QLatin1String("not a valid server name")),
                 qPrintable(error.message));

        BrokerConfig config;
        config.servers.append(server(name, QStringLiteral("https://a.example/")));
        const auto saved = ConfigStore(path()).save(config);
        QVERIFY(!saved.ok());
        QCOMPARE(saved.error().kind, Error::Kind::InvalidInput);
    }

    void goodServerNamesAreAccepted()
    {
        for (const QString &name : {QStringLiteral("github"), QStringLiteral("a"),
                                    QStringLiteral("my-server-2"), QString(63, QLatin1Char('z'))})
            QVERIFY2(ConfigStore::validateServerName(name).ok(), qPrintable(name));
    }

    void duplicateServerNamesAreRefused()
    {
        const Error error = loadFails(
                "{\"servers\": [\n"
                "            {\"name\": \"github\", \"url\": \"https://a.example/\"},\n"
                "            {\"name\": \"github\", \"url\": \"https://b.example/\"}]}");
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY2(error.message.contains(QLatin1String("\"github\" is used more than once")),
                 qPrintable(error.message));

        BrokerConfig config;
        config.servers = {server(QStringLiteral("github"), QStringLiteral("https://a.example/")),
                          server(QStringLiteral("github"), QStringLiteral("https://b.example/"))};
        const QByteArray before = readAll(path());
        QVERIFY(!ConfigStore(path()).save(config).ok());
        QCOMPARE(readAll(path()), before);
    }

    void badServerUrlsAreRefused_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("ftp") << "ftp://files.example/mcp"
                             << "https://";
        QTest::newRow("file") << "file:///etc/passwd"
                              << "https://";
        QTest::newRow("no scheme") << "api.example.com/mcp"
                                   << "https://";
        QTest::newRow("no host") << "https:///mcp"
                                 << "host";
        QTest::newRow("user and password") << "https://alice:hunter2@api.example/mcp"
                                           << "--bearer-stdin";
        QTest::newRow("user only") << "https://ghp_token123@api.example/mcp"
                                   << "--header";
        QTest::newRow("fragment") << "https://api.example/mcp#tools"
                                  << "#fragment";
        QTest::newRow("not a url") << "https://exa mple.com/"
                                   << "valid URL";
        QTest::newRow("invalid with credentials") << "https://alice:hunter2@exa mple.com/"
                                                  << "valid URL";
    }

    void badServerUrlsAreRefused()
    {
        QFETCH(QString, url);
        QFETCH(QString, mentions);
        const auto valid = ConfigStore::validateServerUrl(QUrl(url, QUrl::StrictMode));
        QVERIFY(!valid.ok());
        QCOMPARE(valid.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(valid.error().message.contains(mentions), qPrintable(valid.error().message));
        // A credential in a URL is never repeated back.
        QVERIFY(!valid.error().message.contains(QLatin1String("hunter2")));
        QVERIFY(!valid.error().message.contains(QLatin1String("ghp_token123")));

        const QByteArray file = QByteArray("{\"servers\": [{\"name\": \"api\", \"url\": \"")
                + url.toUtf8() + "\"}]}";
        const Error error = loadFails(file);
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY2(error.message.contains(QLatin1String("server \"api\"")),
                 qPrintable(error.message));
        QVERIFY(!error.message.contains(QLatin1String("hunter2")));
        QVERIFY(!error.message.contains(QLatin1String("ghp_token123")));
    }

    void goodServerUrlsAreAccepted()
    {
        for (const char *url : {"https://api.githubcopilot.com/mcp/", "http://127.0.0.1:3000/mcp",
                                "http://[::1]:8080/", "HTTPS://Example.COM/path?query=1"})
            QVERIFY2(ConfigStore::validateServerUrl(QUrl(QString::fromLatin1(url))).ok(), url);
    }

    void unreadableFileIsAnIoError()
    {
        QVERIFY(QDir().mkpath(path())); // a folder where the file should be
        const auto loaded = ConfigStore(path()).load();
        QVERIFY(!loaded.ok());
        QCOMPARE(loaded.error().kind, Error::Kind::Io);
        QVERIFY(loaded.error().message.contains(path()));
        QVERIFY(QFileInfo(path()).isDir());
        QVERIFY(QDir().rmdir(path()));
    }

    void saveRefusesInvalidSettingsAndKeepsTheFile()
    {
        BrokerConfig good;
        good.servers.append(server(QStringLiteral("ok"), QStringLiteral("https://a.example/")));
        QVERIFY(ConfigStore(path()).save(good).ok());
        const QByteArray before = readAll(path());

        BrokerConfig bad = good;
        bad.servers.append(
                server(QStringLiteral("creds"), QStringLiteral("https://u:secret-pw@a.example/")));
        auto saved = ConfigStore(path()).save(bad);
        QVERIFY(!saved.ok());
        QVERIFY(!saved.error().message.contains(QLatin1String("secret-pw")));

        bad = good;
        bad.port = 0;
        QVERIFY(!ConfigStore(path()).save(bad).ok());

        bad = good;
        bad.servers.first().auth = UpstreamAuth::Headers; // but no header names
        QVERIFY(!ConfigStore(path()).save(bad).ok());

        QCOMPARE(readAll(path()), before);
    }

    void oauthSettingsRoundTripEveryField()
    {
        ServerConfig full
                = server(QStringLiteral("corp"), QStringLiteral("https://mcp.corp.example/"),
                         UpstreamAuth::OAuth);
        full.oauth.clientId = QStringLiteral("mcp-broker-client");
        full.oauth.hasClientSecret = true;
        full.oauth.tokenEndpointAuthMethod = QStringLiteral("client_secret_post");
        full.oauth.clientMetadataUrl
                = QUrl(QStringLiteral("https://broker.example/clients/mcp-broker.json"));
        full.oauth.clientCredentials = true;
        full.oauth.scopes = {QStringLiteral("read"), QStringLiteral("write:repo")};
        // Discovery and dynamic registration do the rest: no "oauth" key at all.
        const ServerConfig discovered
                = server(QStringLiteral("github"), QStringLiteral("https://a.example/"),
                         UpstreamAuth::OAuth);
        ServerConfig cimd = server(QStringLiteral("cimd"), QStringLiteral("https://b.example/mcp"),
                                   UpstreamAuth::OAuth);
        cimd.oauth.clientMetadataUrl = QUrl(QStringLiteral("https://broker.example/client.json"));
        BrokerConfig config;
        config.servers = {full, discovered, cimd};

        ConfigStore store(path());
        const auto saved = store.save(config);
        QVERIFY2(saved.ok(), qPrintable(saved ? QString() : saved.error().message));

        const auto root = nlohmann::json::parse(readAll(path()).toStdString());
        const auto &written = root["servers"];
        QCOMPARE(written.size(), size_t(3));
        for (const auto &entry : written)
            QCOMPARE(entry["auth"].get<std::string>(), std::string("oauth"));
        QCOMPARE(keysOf(written[0]["oauth"]),
                 (QSet<QString>{"clientId", "clientSecret", "tokenEndpointAuthMethod",
                                "clientMetadataUrl", "grant", "scopes"}));
        QCOMPARE(written[0]["oauth"]["clientId"].get<std::string>(), "mcp-broker-client");
        // Only a flag: the secret itself is in the keychain, never in this file.
        QVERIFY(written[0]["oauth"]["clientSecret"].is_boolean());
        QCOMPARE(written[0]["oauth"]["clientSecret"].get<bool>(), true);
        QCOMPARE(written[0]["oauth"]["tokenEndpointAuthMethod"].get<std::string>(),
                 "client_secret_post");
        QCOMPARE(written[0]["oauth"]["clientMetadataUrl"].get<std::string>(),
                 "https://broker.example/clients/mcp-broker.json");
        QCOMPARE(written[0]["oauth"]["grant"].get<std::string>(), "client_credentials");
        COMPARE_JSON(written[0]["oauth"]["scopes"], nlohmann::json::array({"read", "write:repo"}));
        QVERIFY2(!written[1].contains("oauth"), written[1].dump().c_str());
        QCOMPARE(keysOf(written[2]["oauth"]), QSet<QString>{"clientMetadataUrl"});

        const auto loaded = store.load();
        QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(loaded.value().servers.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const OAuthSettings &want = config.servers.at(i).oauth;
            const OAuthSettings &got = loaded.value().servers.at(i).oauth;
            QCOMPARE(loaded.value().servers.at(i).auth, UpstreamAuth::OAuth);
            QCOMPARE(got.clientId, want.clientId);
            QCOMPARE(got.hasClientSecret, want.hasClientSecret);
            QCOMPARE(got.tokenEndpointAuthMethod, want.tokenEndpointAuthMethod);
            QCOMPARE(got.clientMetadataUrl, want.clientMetadataUrl);
            QCOMPARE(got.clientCredentials, want.clientCredentials);
            QCOMPARE(got.scopes, want.scopes);
            QVERIFY(got == want);
        }

        const QByteArray first = readAll(path());
        QVERIFY(store.save(loaded.value()).ok());
        QCOMPARE(readAll(path()), first);
    }

    void handWrittenOAuthDefaultsAreAccepted()
    {
        QVERIFY(writeRaw(
                path(),
                "{\"servers\": [\n"
                "  {\"name\": \"a\", \"url\": \"https://a.example/\", \"auth\": \"oauth\"},\n"
                "  {\"name\": \"b\", \"url\": \"https://b.example/\", \"auth\": \"oauth\", "
                "\"oauth\": {}},\n"
                "  {\"name\": \"c\", \"url\": \"https://c.example/\", \"auth\": \"oauth\", "
                "\"oauth\": {\"grant\": \"authorization_code\", \"clientSecret\": false, "
                "\"scopes\": []}}]}"));
        const auto loaded = ConfigStore(path()).load();
        QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(loaded.value().servers.size(), 3);
        for (const ServerConfig &entry : loaded.value().servers) {
            QCOMPARE(entry.auth, UpstreamAuth::OAuth);
            QVERIFY2(entry.oauth == OAuthSettings(), qPrintable(entry.name));
        }
    }

    void badOAuthSettingsAreRefusedWithTheProblem_data()
    {
        QTest::addColumn<QByteArray>("oauthEntry");
        QTest::addColumn<QStringList>("mentions");
        const auto row = [](const char *name, const char *entry, const QStringList &mentions) {
            QTest::newRow(name) << QByteArray(entry) << mentions;
        };
        row("oauth on a bearer server", R"("auth": "bearer", "oauth": {"clientId": "abc"})",
            {R"("oauth")", R"("auth": "oauth")"});
        row("oauth on a server without auth", R"("oauth": {"scopes": ["read"]})",
            {R"("auth": "oauth")"});
        row("unknown token endpoint auth method",
            R"("auth": "oauth", "oauth": {"clientId": "abc", "tokenEndpointAuthMethod": "basic"})",
            {R"("oauth.tokenEndpointAuthMethod")", R"("basic")", R"("client_secret_basic")"});
        row("unknown grant",
            R"("auth": "oauth", "oauth": {"clientId": "abc", "grant": "password"})",
            {R"("oauth.grant")", R"("password")", R"("client_credentials")"});
        row("grant not text", R"("auth": "oauth", "oauth": {"grant": 2})", {R"("oauth.grant")"});
        row("client secret without client id",
            R"("auth": "oauth", "oauth": {"clientSecret": true})",
            {R"("oauth.clientSecret")", R"("oauth.clientId")"});
        row("client_credentials without client id",
            R"("auth": "oauth", "oauth": {"grant": "client_credentials"})",
            {"client_credentials", R"("oauth.clientId")"});
        row("client metadata url over http",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": "http://broker.example/c.json"})",
            {R"("oauth.clientMetadataUrl")", "must be an https URL"});
        row("client metadata url without path",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": "https://broker.example"})",
            {R"("oauth.clientMetadataUrl")", "must be an https URL"});
        row("client metadata url with root path",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": "https://broker.example/"})",
            {R"("oauth.clientMetadataUrl")", "must be an https URL"});
        row("client metadata url not a url",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": "https://bro ker.example/c.json"})",
            {R"("oauth.clientMetadataUrl")"});
        row("client metadata url without host",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": "https:///c.json"})",
            {R"("oauth.clientMetadataUrl")"});
        row("client metadata url with fragment",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": "https://broker.example/c.json#x"})",
            {R"("oauth.clientMetadataUrl")"});
        row("client metadata url not text",
            R"("auth": "oauth", "oauth": {"clientMetadataUrl": ["https://broker.example/c.json"]})",
            {R"("oauth.clientMetadataUrl")", "must be text"});
        row("scope with a space", R"("auth": "oauth", "oauth": {"scopes": ["read write"]})",
            {R"("oauth.scopes")", "without spaces"});
        row("empty scope", R"("auth": "oauth", "oauth": {"scopes": ["read", ""]})",
            {R"("oauth.scopes")"});
        row("scope not text", R"("auth": "oauth", "oauth": {"scopes": ["read", 7]})",
            {R"("oauth.scopes")", "(text)"});
        row("scopes not a list", R"("auth": "oauth", "oauth": {"scopes": "read write"})",
            {R"("oauth.scopes")", "list"});
        row("oauth is text", R"("auth": "oauth", "oauth": "yes")",
            {R"("oauth" must be an object)"});
        row("oauth is a list", R"("auth": "oauth", "oauth": [{"clientId": "abc"}])",
            {R"("oauth" must be an object)"});
        row("oauth is true", R"("auth": "oauth", "oauth": true)", {R"("oauth" must be an object)"});
        row("client secret as the secret itself",
            R"("auth": "oauth", "oauth": {"clientId": "abc", "clientSecret": "hunter2-cs"})",
            {R"("oauth.clientSecret")", "true or false", "keychain"});
        row("client id not text", R"("auth": "oauth", "oauth": {"clientId": 42})",
            {R"("oauth.clientId")", "must be text"});
    }

    void badOAuthSettingsAreRefusedWithTheProblem()
    {
        QFETCH(QByteArray, oauthEntry);
        QFETCH(QStringList, mentions);
        const Error error
                = loadFails(R"({"servers": [{"name": "corp", "url": "https://c.example/", )"
                            + oauthEntry + "}]}");
        QCOMPARE(error.kind, Error::Kind::InvalidInput);
        QVERIFY2(error.message.contains(QLatin1String("server \"corp\"")),
                 qPrintable(error.message));
        for (const QString &mention : mentions)
            QVERIFY2(error.message.contains(mention),
                     qPrintable(QStringLiteral("no '%1' in: %2").arg(mention, error.message)));
        // A value that looks like a secret is never repeated back.
        QVERIFY(!error.message.contains(QLatin1String("hunter2-cs")));
    }

    void saveRefusesBadOAuthSettingsAndKeepsTheFile_data()
    {
        QTest::addColumn<ServerConfig>("bad");
        QTest::addColumn<QString>("mentions");
        const ServerConfig oauth = server(
                QStringLiteral("corp"), QStringLiteral("https://c.example/"), UpstreamAuth::OAuth);
        ServerConfig config = server(QStringLiteral("corp"), QStringLiteral("https://c.example/"),
                                     UpstreamAuth::Bearer);
        config.oauth.clientId = QStringLiteral("abc");
        QTest::newRow("oauth on a bearer server") << config << R"("auth": "oauth")";
        config = oauth;
        config.oauth.tokenEndpointAuthMethod = QStringLiteral("client_secret_basic ");
        QTest::newRow("unknown method") << config << R"("oauth.tokenEndpointAuthMethod")";
        config = oauth;
        config.oauth.hasClientSecret = true;
        QTest::newRow("secret without id") << config << R"("oauth.clientSecret" needs)";
        config = oauth;
        config.oauth.clientCredentials = true;
        QTest::newRow("client_credentials without id") << config << "client_credentials";
        config = oauth;
        config.oauth.clientMetadataUrl = QUrl(QStringLiteral("http://broker.example/c.json"));
        QTest::newRow("metadata url over http") << config << R"("oauth.clientMetadataUrl")";
        config.oauth.clientMetadataUrl = QUrl(QStringLiteral("https://broker.example"));
        QTest::newRow("metadata url without path") << config << R"("oauth.clientMetadataUrl")";
        config = oauth;
        config.oauth.scopes = {QStringLiteral("read"), QStringLiteral("write all")};
        QTest::newRow("scope with a space") << config << R"("oauth.scopes")";
    }

    void saveRefusesBadOAuthSettingsAndKeepsTheFile()
    {
        QFETCH(ServerConfig, bad);
        QFETCH(QString, mentions);
        BrokerConfig good;
        good.servers.append(server(QStringLiteral("ok"), QStringLiteral("https://a.example/")));
        QVERIFY(ConfigStore(path()).save(good).ok());
        const QByteArray before = readAll(path());

        BrokerConfig config = good;
        config.servers.append(bad);
        const auto saved = ConfigStore(path()).save(config);
        QVERIFY(!saved.ok());
        QCOMPARE(saved.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(saved.error().message.contains(path()), qPrintable(saved.error().message));
        QVERIFY2(saved.error().message.contains(QLatin1String("server \"corp\"")),
                 qPrintable(saved.error().message));
        QVERIFY2(saved.error().message.contains(mentions), qPrintable(saved.error().message));
        QCOMPARE(readAll(path()), before);
    }

    void secretKeysAreStable()
    {
        QCOMPARE(SecretKeys::bearer(QStringLiteral("github")),
                 QStringLiteral("server/github/bearer"));
        QCOMPARE(SecretKeys::header(QStringLiteral("api"), QStringLiteral("X-Api-Key")),
                 QStringLiteral("server/api/header/x-api-key"));
        QCOMPARE(SecretKeys::header(QStringLiteral("api"), QStringLiteral("x-api-key")),
                 SecretKeys::header(QStringLiteral("api"), QStringLiteral("X-API-KEY")));
        QCOMPARE(SecretKeys::oauthClientSecret(QStringLiteral("corp")),
                 QStringLiteral("server/corp/oauth/client-secret"));
        QCOMPARE(SecretKeys::oauthSession(QStringLiteral("corp")),
                 QStringLiteral("server/corp/oauth/session"));
    }
};

QTEST_GUILESS_MAIN(TestConfigStore)
#include "tst_configstore.moc"
