// ServerEditor against a real Secret Service (tests/keyring/with-keyring.sh: a private D-Bus
// session with a fresh, unlocked gnome-keyring) and a config file in a throwaway folder. Only
// the sign-out is the test's own: it is the caller's part of remove().

#include "store/ServerEditor.h"

#include "AsyncAnswer.h"
#include "WatchedSecrets.h"

#include "store/ConfigStore.h"
#include "store/SecretStore.h"

#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <memory>
#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::store;

namespace {

// What the test's sign-out was asked, and what it answers.
struct SignOutProbe
{
    struct State
    {
        QList<ServerConfig> servers;
        std::optional<Result<QString>> answer;
    };
    std::shared_ptr<State> state = std::make_shared<State>();

    explicit SignOutProbe(Result<QString> answer) { state->answer = std::move(answer); }

    ServerEditor::SignOut function() const
    {
        return [state = state](const ServerConfig &server,
                               std::function<void(Result<QString>)> done) {
            state->servers.append(server);
            done(*state->answer);
        };
    }
};

ServerConfig server(const QString &name, UpstreamAuth auth)
{
    ServerConfig config;
    config.name = name;
    config.url = QUrl(QStringLiteral("https://%1.example.com/mcp").arg(name));
    config.auth = auth;
    if (auth == UpstreamAuth::Headers)
        config.secretHeaderNames = {QStringLiteral("X-Api-Key")};
    return config;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestServerEditor : public QObject
{
    Q_OBJECT

private:
    QString m_service;
    std::unique_ptr<SecretStore> m_keychain;
    std::optional<QTemporaryDir> m_dir;
    QString m_configPath;
    std::unique_ptr<ServerEditor> m_editor;

    // The keychain entry `key`: its value, or the error (NotFound when there is none).
    Result<QByteArray> stored(const QString &key)
    {
        Answer<QByteArray> answer;
        m_keychain->read(key, answer.callback());
        if (!answer.wait())
            return Error::make(Error::Kind::Timeout, QStringLiteral("no answer"));
        return answer.get();
    }

    void store(const QString &key, const QByteArray &value)
    {
        Answer<void> answer;
        m_keychain->write(key, value, answer.callback());
        QVERIFY(answer.wait());
        QVERIFY2(answer.ok(), qPrintable(answer.message()));
    }

    void expectStored(const QString &key, const QByteArray &value)
    {
        const auto entry = stored(key);
        QVERIFY2(entry.ok(), qPrintable(entry.ok() ? QString() : entry.error().message));
        QCOMPARE(entry.value(), value);
    }

    void expectNotStored(const QString &key)
    {
        const auto entry = stored(key);
        QVERIFY2(!entry.ok(), qPrintable(key + QStringLiteral(" is still in the keychain")));
        QCOMPARE(entry.error().kind, Error::Kind::NotFound);
    }

    void saveConfig(const QList<ServerConfig> &servers)
    {
        BrokerConfig config;
        config.servers = servers;
        const auto saved = ConfigStore(m_configPath).save(config);
        QVERIFY2(saved.ok(), qPrintable(saved.ok() ? QString() : saved.error().message));
    }

    QStringList configuredNames()
    {
        const auto config = ConfigStore(m_configPath).load();
        if (!config)
            return {QStringLiteral("<unreadable>")};
        QStringList names;
        for (const ServerConfig &entry : config.value().servers)
            names.append(entry.name);
        return names;
    }

    // Hands over copies of `secrets` of their own: the editor wipes what it is given.
    Answer<void> add(const ServerConfig &config, const QList<ServerEditor::Secret> &secrets)
    {
        QList<ServerEditor::Secret> copies;
        for (const ServerEditor::Secret &secret : secrets)
            copies.append({secret.key, QByteArray(secret.value.constData(), secret.value.size())});
        Answer<void> answer;
        m_editor->add(config, copies, answer.callback());
        return answer;
    }

    Answer<QString> remove(const QString &name, const ServerEditor::SignOut &signOut)
    {
        Answer<QString> answer;
        m_editor->remove(name, signOut, answer.callback());
        return answer;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(qEnvironmentVariableIsSet("MCPB_KEYRING_BUS")
                         && qEnvironmentVariable("MCPB_KEYRING") != QLatin1String("none"),
                 "run under tests/keyring/with-keyring.sh");
        m_service = QStringLiteral("mcp-broker-tst-servereditor-%1")
                            .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_keychain = std::make_unique<SecretStore>(m_service, 10'000);
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.store.debug=true"));
        g_logWatch.install();
    }

    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        m_configPath = m_dir->filePath(QStringLiteral("config.json"));
        m_editor = std::make_unique<ServerEditor>(m_configPath, m_keychain.get());
    }

    void cleanup()
    {
        m_editor.reset();
        VERIFY_NO_LOG_LEAKS(g_logWatch);
    }

    void cleanupTestCase() { g_logWatch.uninstall(); }

    void addStoresTheSecretsFirstThenSavesTheServer()
    {
        STEP(saveConfig({server(QStringLiteral("docs"), UpstreamAuth::None)}));
        const QByteArray before = readFile(m_configPath);
        const ServerConfig added = server(QStringLiteral("linear"), UpstreamAuth::Headers);
        const QString key = SecretKeys::header(added.name, QStringLiteral("X-Api-Key"));
        const QByteArray value = secret("api-key");

        const Answer<void> answer = add(added, {{key, value}});
        // Nothing saved before the keychain has answered.
        QCOMPARE(readFile(m_configPath), before);
        QVERIFY(answer.wait());
        QVERIFY2(answer.ok(), qPrintable(answer.message()));
        QCOMPARE(*answer.calls, 1);

        STEP(expectStored(key, value));
        const auto config = ConfigStore(m_configPath).load();
        QVERIFY(config.ok());
        QCOMPARE(configuredNames(), QStringList({"docs", "linear"}));
        QCOMPARE(config.value().server(QStringLiteral("linear"))->secretHeaderNames,
                 QStringList{"X-Api-Key"});
        QVERIFY(!readFile(m_configPath).contains(value));
    }

    void addWipesTheSecretsOnceWritten()
    {
        const ServerConfig added = server(QStringLiteral("github"), UpstreamAuth::Bearer);
        const QByteArray value = secret("bearer");
        QByteArray handedOver(value.constData(), value.size());
        const QByteArray shared = handedOver; // the same bytes: wiped in place, so this one sees it

        Answer<void> answer;
        m_editor->add(added, {{SecretKeys::bearer(added.name), std::move(handedOver)}},
                      answer.callback());
        QVERIFY(answer.wait());
        QVERIFY2(answer.ok(), qPrintable(answer.message()));
        QCOMPARE(shared, QByteArray(value.size(), '\0'));
        STEP(expectStored(SecretKeys::bearer(added.name), value));
    }

    void addOfATakenNameIsRefusedWithNothingWritten()
    {
        const ServerConfig existing = server(QStringLiteral("github"), UpstreamAuth::Bearer);
        STEP(saveConfig({existing}));
        const QByteArray theirs = secret("their-bearer");
        STEP(store(SecretKeys::bearer(existing.name), theirs));
        const QByteArray before = readFile(m_configPath);

        QByteArray mine = secret("my-bearer");
        const QByteArray shared = mine; // the same bytes: wiped in place, so this one sees it
        Answer<void> answer;
        m_editor->add(server(QStringLiteral("github"), UpstreamAuth::Bearer),
                      {{SecretKeys::bearer(existing.name), std::move(mine)}}, answer.callback());
        QVERIFY(answer.wait());
        QVERIFY(!answer.ok());
        QCOMPARE(answer.get().error().kind, Error::Kind::Conflict);
        QVERIFY2(answer.message().endsWith(QLatin1String("Server 'github' was not added.")),
                 qPrintable(answer.message()));
        QCOMPARE(readFile(m_configPath), before);
        STEP(expectStored(SecretKeys::bearer(existing.name), theirs));
        QCOMPARE(shared, QByteArray(shared.size(), '\0'));
    }

    void addChecksNameUrlAndSecretsBeforeWritingAny_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("url");
        QTest::addColumn<int>("auth");
        QTest::addColumn<QString>("message");
        QTest::newRow("name with an underscore")
                << "my_server"
                << "https://x.example.com/mcp" << int(UpstreamAuth::Bearer)
                << "is not a valid server name";
        QTest::newRow("ftp URL") << "files"
                                 << "ftp://x.example.com/" << int(UpstreamAuth::Bearer)
                                 << "The server URL";
        QTest::newRow("a secret the server does not use")
                << "docs"
                << "https://x.example.com/mcp" << int(UpstreamAuth::None)
                << "do not match how it signs in";
        QTest::newRow("a client secret the OAuth settings do not name")
                << "notes"
                << "https://x.example.com/mcp" << int(UpstreamAuth::OAuth)
                << "do not match how it signs in";
    }

    void addChecksNameUrlAndSecretsBeforeWritingAny()
    {
        QFETCH(QString, name);
        QFETCH(QString, url);
        QFETCH(int, auth);
        QFETCH(QString, message);
        ServerConfig added;
        added.name = name;
        added.url = QUrl(url, QUrl::StrictMode);
        added.auth = UpstreamAuth(auth);
        const QString key = added.auth == UpstreamAuth::OAuth ? SecretKeys::oauthClientSecret(name)
                                                              : SecretKeys::bearer(name);

        const Answer<void> answer = add(added, {{key, secret("refused")}});
        QVERIFY(answer.wait());
        QVERIFY(!answer.ok());
        QVERIFY2(answer.message().contains(message), qPrintable(answer.message()));
        QVERIFY2(answer.message().endsWith(QStringLiteral("Server '%1' was not added.").arg(name)),
                 qPrintable(answer.message()));
        QVERIFY(!QFile::exists(m_configPath));
        STEP(expectNotStored(key));
    }

    void addToAConfigThatCannotBeSavedTakesTheSecretsOutAgain()
    {
        // Its folder is a file: the config loads (as the defaults) but cannot be saved. (A
        // read-only folder would not stop root, which the tests may run as.)
        const QString blocker = m_dir->filePath(QStringLiteral("blocked"));
        {
            QFile file(blocker);
            QVERIFY(file.open(QIODevice::WriteOnly));
        }
        m_editor = std::make_unique<ServerEditor>(blocker + QStringLiteral("/config.json"),
                                                  m_keychain.get());
        ServerConfig added = server(QStringLiteral("jira"), UpstreamAuth::OAuth);
        added.oauth.clientId = QStringLiteral("mcp-broker");
        added.oauth.hasClientSecret = true;
        const QString key = SecretKeys::oauthClientSecret(added.name);

        const Answer<void> answer = add(added, {{key, secret("client-secret")}});
        QVERIFY(answer.wait());
        QVERIFY(!answer.ok());
        QCOMPARE(answer.get().error().kind, Error::Kind::Io);
        QVERIFY2(answer.message().endsWith(QLatin1String("Server 'jira' was not added.")),
                 qPrintable(answer.message()));
        STEP(expectNotStored(key));
        QCOMPARE(readFile(blocker), QByteArray());
    }

    void aServerAddedMeanwhileKeepsItsSecrets()
    {
        const ServerConfig added = server(QStringLiteral("github"), UpstreamAuth::Bearer);
        const QString key = SecretKeys::bearer(added.name);
        const QByteArray value = secret("bearer");

        const Answer<void> answer = add(added, {{key, value}});
        // Another program adds the same name while the keychain writes.
        STEP(saveConfig({server(QStringLiteral("github"), UpstreamAuth::Bearer)}));
        QVERIFY(answer.wait());
        QVERIFY(!answer.ok());
        QCOMPARE(answer.get().error().kind, Error::Kind::Conflict);
        QVERIFY2(answer.message().contains(QLatin1String("meanwhile")),
                 qPrintable(answer.message()));
        // Under the same key as theirs: not ours to delete.
        STEP(expectStored(key, value));
        QCOMPARE(configuredNames(), QStringList{"github"});
    }

    void removeDeletesTheConfigEntryThenTheSecrets()
    {
        const ServerConfig removed = server(QStringLiteral("linear"), UpstreamAuth::Headers);
        STEP(saveConfig({server(QStringLiteral("docs"), UpstreamAuth::None), removed}));
        const QString key = SecretKeys::header(removed.name, QStringLiteral("X-Api-Key"));
        STEP(store(key, secret("api-key")));

        const SignOutProbe signOut(QString{});
        const Answer<QString> answer = remove(removed.name, signOut.function());
        QVERIFY(answer.wait());
        QVERIFY2(answer.ok(), qPrintable(answer.message()));
        QCOMPARE(answer.get().value(), QString());
        QCOMPARE(*answer.calls, 1);
        QCOMPARE(configuredNames(), QStringList{"docs"});
        STEP(expectNotStored(key));
        QVERIFY(signOut.state->servers.isEmpty());
    }

    void removeOfAnUnknownServerIsNotFoundAndTouchesNothing()
    {
        const ServerConfig kept = server(QStringLiteral("github"), UpstreamAuth::Bearer);
        STEP(saveConfig({kept}));
        const QByteArray value = secret("bearer");
        STEP(store(SecretKeys::bearer(kept.name), value));
        const QByteArray before = readFile(m_configPath);

        const SignOutProbe signOut(QString{});
        const Answer<QString> answer = remove(QStringLiteral("gitlab"), signOut.function());
        QVERIFY(answer.wait());
        QVERIFY(!answer.ok());
        QCOMPARE(answer.get().error().kind, Error::Kind::NotFound);
        QVERIFY2(answer.message().contains(QLatin1String("'gitlab'")),
                 qPrintable(answer.message()));
        QCOMPARE(readFile(m_configPath), before);
        STEP(expectStored(SecretKeys::bearer(kept.name), value));
        QVERIFY(signOut.state->servers.isEmpty());
    }

    void removeSignsOutOfOAuthServersOnlyAndPassesItsNoteOn()
    {
        ServerConfig oauth = server(QStringLiteral("notes"), UpstreamAuth::OAuth);
        oauth.oauth.clientId = QStringLiteral("mcp-broker");
        oauth.oauth.hasClientSecret = true;
        const ServerConfig bearer = server(QStringLiteral("github"), UpstreamAuth::Bearer);
        STEP(saveConfig({oauth, bearer}));
        STEP(store(SecretKeys::oauthSession(oauth.name), "{}"));
        STEP(store(SecretKeys::oauthClientSecret(oauth.name), secret("client-secret")));
        STEP(store(SecretKeys::bearer(bearer.name), secret("bearer")));
        const QString revocationNote = QStringLiteral("The authorization server offers no "
                                                      "revocation; the tokens stay valid there "
                                                      "until they expire.");
        const SignOutProbe signOut(revocationNote);

        const Answer<QString> bearerRemoved = remove(bearer.name, signOut.function());
        QVERIFY(bearerRemoved.wait());
        QVERIFY2(bearerRemoved.ok(), qPrintable(bearerRemoved.message()));
        QVERIFY(signOut.state->servers.isEmpty());

        const Answer<QString> oauthRemoved = remove(oauth.name, signOut.function());
        QVERIFY(oauthRemoved.wait());
        QVERIFY2(oauthRemoved.ok(), qPrintable(oauthRemoved.message()));
        QCOMPARE(signOut.state->servers.size(), 1);
        QCOMPARE(signOut.state->servers.first().name, oauth.name);
        QCOMPARE(signOut.state->servers.first().oauth, oauth.oauth);
        QCOMPARE(oauthRemoved.get().value(), revocationNote);

        QCOMPARE(configuredNames(), QStringList());
        STEP(expectNotStored(SecretKeys::oauthSession(oauth.name)));
        STEP(expectNotStored(SecretKeys::oauthClientSecret(oauth.name)));
        STEP(expectNotStored(SecretKeys::bearer(bearer.name)));
    }

    void aSignOutErrorKeepsTheSignInAndSaysSo()
    {
        const ServerConfig oauth = server(QStringLiteral("notes"), UpstreamAuth::OAuth);
        STEP(saveConfig({oauth}));
        const QByteArray record = "{\"issuer\":\"https://auth.example.com\"}";
        STEP(store(SecretKeys::oauthSession(oauth.name), record));
        const SignOutProbe signOut(
                Error::make(Error::Kind::KeychainLocked, QStringLiteral("The keychain is locked")));

        const Answer<QString> answer = remove(oauth.name, signOut.function());
        QVERIFY(answer.wait());
        QVERIFY2(answer.ok(), qPrintable(answer.message()));
        QCOMPARE(signOut.state->servers.size(), 1);
        const QString note = answer.get().value();
        QVERIFY2(note.contains(QLatin1String("The sign-in to 'notes' stays in the keychain: The "
                                             "keychain is locked.")),
                 qPrintable(note));
        QVERIFY2(note.contains(QLatin1String("logout notes")), qPrintable(note));

        QCOMPARE(configuredNames(), QStringList());
        STEP(expectStored(SecretKeys::oauthSession(oauth.name), record));
    }

    void removeKeepsTheSecretsWhileTheConfigStillNamesThem()
    {
        ServerConfig oauth = server(QStringLiteral("notes"), UpstreamAuth::OAuth);
        oauth.oauth.clientId = QStringLiteral("mcp-broker");
        oauth.oauth.hasClientSecret = true;
        STEP(saveConfig({oauth}));
        const QByteArray clientSecret = secret("client-secret");
        STEP(store(SecretKeys::oauthClientSecret(oauth.name), clientSecret));
        // The config breaks during the sign-out (someone edits it): it can be neither read nor
        // saved, and still names the server.
        const QString configPath = m_configPath;
        const auto breakConfig
                = [configPath](const ServerConfig &, std::function<void(Result<QString>)> done) {
                      QFile file(configPath);
                      if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
                          file.write("{ \"servers\": [");
                      done(QString());
                  };

        const Answer<QString> answer = remove(oauth.name, breakConfig);
        QVERIFY(answer.wait());
        QVERIFY(!answer.ok());
        QCOMPARE(answer.get().error().kind, Error::Kind::InvalidInput);
        QVERIFY2(answer.message().endsWith(QLatin1String("Server 'notes' was not removed.")),
                 qPrintable(answer.message()));
        STEP(expectStored(SecretKeys::oauthClientSecret(oauth.name), clientSecret));
    }

    void anEditorDeletedDuringTheSignOutAnswersNothing()
    {
        const ServerConfig oauth = server(QStringLiteral("notes"), UpstreamAuth::OAuth);
        STEP(saveConfig({oauth}));
        std::function<void(Result<QString>)> signedOut;
        Answer<QString> answer;
        m_editor->remove(
                oauth.name,
                [&signedOut](const ServerConfig &, std::function<void(Result<QString>)> done) {
                    signedOut = std::move(done);
                },
                answer.callback());
        QVERIFY(signedOut);
        m_editor.reset();
        signedOut(QString());
        QCoreApplication::processEvents();
        QCOMPARE(*answer.calls, 0);
        QCOMPARE(configuredNames(), QStringList{"notes"});
    }
};

QTEST_GUILESS_MAIN(TestServerEditor)
#include "tst_servereditor.moc"
