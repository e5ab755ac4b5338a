// TokenSet's keychain format and TokenStore against a real Secret Service:
// tests/keyring/with-keyring.sh runs this binary in a private D-Bus session with a fresh,
// unlocked gnome-keyring. Outside the wrapper the keychain tests skip.

#include "oauth/TokenSet.h"
#include "oauth/TokenStore.h"
#include "store/SecretStore.h"

#include "AsyncAnswer.h"
#include "WatchedSecrets.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <memory>
#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

const QString kIssuer = u"https://auth.example.com/tenant-7"_qs;
const QString kResource = u"https://mcp.example.com/mcp"_qs;

// JSON written with ' for " (moc mis-reads raw string literals holding braces).
QByteArray json(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

TokenSet sampleTokens(const QString &resource = kResource)
{
    TokenSet tokens;
    tokens.accessToken = secret("access");
    tokens.refreshToken = secret("refresh");
    tokens.expiresAtMs = 1'767'225'600'123;
    tokens.scopes = QStringList{u"repo"_qs, u"read:org"_qs};
    tokens.issuer = kIssuer;
    tokens.resource = resource;
    return tokens;
}

void compareTokens(const TokenSet &actual, const TokenSet &expected)
{
    QCOMPARE(actual.accessToken, expected.accessToken);
    QCOMPARE(actual.refreshToken, expected.refreshToken);
    QCOMPARE(actual.expiresAtMs, expected.expiresAtMs);
    QCOMPARE(actual.scopes, expected.scopes);
    QCOMPARE(actual.issuer, expected.issuer);
    QCOMPARE(actual.resource, expected.resource);
}

} // namespace

#define REQUIRE_TEST_KEYRING() \
    if (!m_haveTestKeyring) \
        QSKIP("needs tests/keyring/with-keyring.sh (a private bus with gnome-keyring)");

class TestTokenStore : public QObject
{
    Q_OBJECT

private:
    bool m_haveTestKeyring = false;
    std::unique_ptr<store::SecretStore> m_secrets;
    std::unique_ptr<TokenStore> m_store;

    // A resource no other test uses, so tests never see each other's entries.
    static QString uniqueResource(const char *what)
    {
        return QStringLiteral("https://mcp.example.com/%1/%2")
                .arg(QString::fromLatin1(what),
                     QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
    }

    void save(const TokenSet &tokens)
    {
        Answer<void> saved;
        m_store->save(tokens, saved.callback());
        WAIT_FOR(saved);
        QVERIFY2(saved.get().ok(), qPrintable(saved.message()));
    }

    void remove(const TokenSet &tokens)
    {
        Answer<void> removed;
        m_store->remove(tokens.issuer, tokens.resource, removed.callback());
        WAIT_FOR(removed);
        QVERIFY2(removed.get().ok(), qPrintable(removed.message()));
    }

    // Loads (issuer, resource) of `expected` and compares; the callback ran exactly once.
    void expectSaved(const TokenSet &expected)
    {
        Answer<TokenSet> loaded;
        m_store->load(expected.issuer, expected.resource, loaded.callback());
        WAIT_FOR(loaded);
        QVERIFY2(loaded.get().ok(), qPrintable(loaded.message()));
        compareTokens(loaded.get().value(), expected);
        QCOMPARE(*loaded.calls, 1);
    }

    // Loads (issuer, resource), which must fail with `kind`; the error goes to `error`.
    void expectLoadError(const QString &issuer, const QString &resource, Error::Kind kind,
                         Error *error = nullptr)
    {
        Answer<TokenSet> loaded;
        m_store->load(issuer, resource, loaded.callback());
        WAIT_FOR(loaded);
        QVERIFY(!loaded.get().ok());
        QCOMPARE(loaded.get().error().kind, kind);
        if (error)
            *error = loaded.get().error();
    }

    void writeRaw(const QString &issuer, const QString &resource, const QByteArray &entry)
    {
        Answer<void> written;
        m_secrets->write(TokenStore::keyFor(issuer, resource), entry, written.callback());
        WAIT_FOR(written);
        QVERIFY2(written.get().ok(), qPrintable(written.message()));
    }

private slots:
    void initTestCase()
    {
        m_haveTestKeyring = qEnvironmentVariableIsSet("MCPB_KEYRING_BUS")
                && qEnvironmentVariable("MCPB_KEYRING") != QLatin1String("none");
        const QString service = QStringLiteral("mcp-broker-tst-tokenstore-%1")
                                        .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_secrets = std::make_unique<store::SecretStore>(service, 10'000);
        m_store = std::make_unique<TokenStore>(m_secrets.get());
        // Everything the store and the keychain layer could log, logged.
        QLoggingCategory::setFilterRules(
                QStringLiteral("mcpbroker.oauth.debug=true\nmcpbroker.store.debug=true"));
        g_logWatch.install();
    }

    void cleanup() { VERIFY_NO_LOG_LEAKS(g_logWatch); }

    void cleanupTestCase() { g_logWatch.uninstall(); }

    // TokenSet's entry format, no keychain needed.

    void jsonRoundTripKeepsEveryField()
    {
        const TokenSet tokens = sampleTokens();
        const Result<TokenSet> read = TokenSet::fromJson(tokens.toJson());
        QVERIFY2(read.ok(), qPrintable(read.ok() ? QString() : read.error().message));
        compareTokens(read.value(), tokens);
    }

    void jsonRoundTripKeepsAnyTokenBytesAndAMissingRefreshToken()
    {
        TokenSet tokens = sampleTokens();
        QByteArray bytes(256, Qt::Uninitialized);
        for (int i = 0; i < 256; ++i)
            bytes[i] = static_cast<char>(i);
        tokens.accessToken = bytes;
        tokens.refreshToken.clear();
        tokens.expiresAtMs = 0;
        tokens.scopes.clear();
        const Result<TokenSet> read = TokenSet::fromJson(tokens.toJson());
        QVERIFY2(read.ok(), qPrintable(read.ok() ? QString() : read.error().message));
        compareTokens(read.value(), tokens);
    }

    void malformedJsonIsAnErrorNotACrash_data()
    {
        QTest::addColumn<QByteArray>("entry");
        // An entry with a good version, issuer and resource, and `more` fields.
        const auto with = [](const char *more) {
            return json("{'version':1,'issuer':'https://a','resource':'https://r'") + json(more)
                    + '}';
        };
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("not json") << QByteArray("access_token=abc");
        QTest::newRow("truncated") << sampleTokens().toJson().chopped(7);
        QTest::newRow("array") << json("[{'version':1}]");
        QTest::newRow("string") << json("'version'");
        QTest::newRow("no version")
                << json("{'issuer':'https://a','resource':'https://r','access_token':'t'}");
        QTest::newRow("other version")
                << json("{'version':2,'issuer':'https://a','resource':'r','access_token':'t'}");
        QTest::newRow("no token") << with("");
        QTest::newRow("empty tokens") << with(",'access_token':'','refresh_token':''");
        QTest::newRow("no issuer") << json("{'version':1,'resource':'r','access_token':'t'}");
        QTest::newRow("empty resource")
                << json("{'version':1,'issuer':'https://a','resource':'','access_token':'t'}");
        QTest::newRow("token a number") << with(",'access_token':42");
        QTest::newRow("token an object") << with(",'access_token':{'a':1}");
        QTest::newRow("token beyond latin-1") << with(",'access_token':'\\u20ac'");
        QTest::newRow("issuer a list")
                << json("{'version':1,'issuer':['x'],'resource':'r','access_token':'t'}");
        QTest::newRow("expiry a string") << with(",'access_token':'t','expires_at_ms':'soon'");
        QTest::newRow("expiry negative") << with(",'access_token':'t','expires_at_ms':-5");
        QTest::newRow("expiry fractional") << with(",'access_token':'t','expires_at_ms':1.5");
        QTest::newRow("expiry huge") << with(",'access_token':'t','expires_at_ms':1e300");
        QTest::newRow("scopes a string") << with(",'access_token':'t','scopes':'repo'");
        QTest::newRow("scopes with a number") << with(",'access_token':'t','scopes':['a',1]");
        QTest::newRow("nul bytes") << QByteArray("{\0\0\0}", 5);
    }

    void malformedJsonIsAnErrorNotACrash()
    {
        QFETCH(QByteArray, entry);
        const Result<TokenSet> read = TokenSet::fromJson(entry);
        QVERIFY(!read.ok());
        QCOMPARE(read.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(read.error().message.contains(u"Sign in to the server again"_qs),
                 qPrintable(read.error().message));
    }

    void wipeZeroesOnlyBytesNobodyElseHolds()
    {
        QByteArray alone = QByteArray("secret-alone").append('!');
        TokenSet::wipe(alone);
        QVERIFY(alone.isEmpty());

        QByteArray shared = QByteArray("secret-shared").append('!');
        const QByteArray callersCopy = shared; // e.g. a token handed to a caller
        TokenSet::wipe(shared);
        QVERIFY(shared.isEmpty());
        QCOMPARE(callersCopy, QByteArray("secret-shared!"));

        TokenSet tokens = sampleTokens();
        tokens.wipe();
        QVERIFY(tokens.accessToken.isEmpty());
        QVERIFY(tokens.refreshToken.isEmpty());
    }

    // The keychain key.

    void keyIsAFixedLengthHashThatHidesTheUrls()
    {
        const QString key = TokenStore::keyFor(kIssuer, kResource);
        QVERIFY2(key.startsWith(u"oauth/tokens/"_qs), qPrintable(key));
        QCOMPARE(key.size(), QStringLiteral("oauth/tokens/").size() + 32);
        QVERIFY(!key.contains(u"example"_qs));
        QCOMPARE(TokenStore::keyFor(kIssuer, kResource), key);
        QVERIFY(TokenStore::keyFor(kIssuer, kResource + u"/other"_qs) != key);
        QVERIFY(TokenStore::keyFor(kIssuer + u"/other"_qs, kResource) != key);
        // The separator keeps (issuer, resource) pairs apart that concatenate alike.
        QVERIFY(TokenStore::keyFor(u"https://a/b"_qs, u"c"_qs)
                != TokenStore::keyFor(u"https://a/"_qs, u"bc"_qs));
    }

    // TokenStore against the keychain.

    void saveLoadRoundTrip()
    {
        REQUIRE_TEST_KEYRING();
        const TokenSet tokens = sampleTokens(uniqueResource("roundtrip"));
        STEP(save(tokens));
        STEP(expectSaved(tokens));
    }

    void saveReplacesTheEntry()
    {
        REQUIRE_TEST_KEYRING();
        TokenSet tokens = sampleTokens(uniqueResource("replace"));
        STEP(save(tokens));
        tokens.accessToken = secret("access-2");
        tokens.refreshToken = secret("refresh-2");
        STEP(save(tokens));
        STEP(expectSaved(tokens));
    }

    void twoResourcesOfOneIssuerAreSeparate()
    {
        REQUIRE_TEST_KEYRING();
        const TokenSet first = sampleTokens(uniqueResource("first"));
        const TokenSet second = sampleTokens(uniqueResource("second"));
        STEP(save(first));
        STEP(save(second));
        STEP(expectSaved(first));
        STEP(expectSaved(second));
        // Removing one leaves the other.
        STEP(remove(first));
        STEP(expectLoadError(kIssuer, first.resource, Error::Kind::NotFound));
        STEP(expectSaved(second));
    }

    void sameResourceFromAnotherIssuerIsNotFound()
    {
        REQUIRE_TEST_KEYRING();
        const TokenSet tokens = sampleTokens(uniqueResource("issuer"));
        STEP(save(tokens));
        STEP(expectLoadError(kIssuer + u"-evil"_qs, tokens.resource, Error::Kind::NotFound));
    }

    void removeThenLoadIsNotFound()
    {
        REQUIRE_TEST_KEYRING();
        const TokenSet tokens = sampleTokens(uniqueResource("remove"));
        STEP(save(tokens));
        STEP(remove(tokens));
        Error error;
        STEP(expectLoadError(tokens.issuer, tokens.resource, Error::Kind::NotFound, &error));
        QVERIFY2(error.message.contains(tokens.resource), qPrintable(error.message));
        STEP(remove(tokens)); // nothing there: still fine
    }

    void malformedEntryIsAnError()
    {
        REQUIRE_TEST_KEYRING();
        const QString resource = uniqueResource("malformed");
        const QByteArray leaked = secret("half-a-token");
        STEP(writeRaw(kIssuer, resource,
                      json("{'version':1,'access_token':'") + leaked + json("','issu")));
        Error error;
        STEP(expectLoadError(kIssuer, resource, Error::Kind::InvalidInput, &error));
        QVERIFY(!error.message.contains(QString::fromLatin1(leaked)));
    }

    void emptiedEntryIsNotFound()
    {
        // SecretStore empties an entry before it deletes it: a load in between finds it so.
        REQUIRE_TEST_KEYRING();
        const QString resource = uniqueResource("emptied");
        STEP(writeRaw(kIssuer, resource, QByteArray()));
        STEP(expectLoadError(kIssuer, resource, Error::Kind::NotFound));
    }

    void entryOfAnotherResourceUnderTheKeyIsRefused()
    {
        REQUIRE_TEST_KEYRING();
        const QString resource = uniqueResource("moved");
        STEP(writeRaw(kIssuer, resource, sampleTokens(uniqueResource("elsewhere")).toJson()));
        expectLoadError(kIssuer, resource, Error::Kind::InvalidInput);
    }

    void tokensWithoutIssuerOrResourceAreRefusedWithoutAKeychainJob()
    {
        TokenSet tokens = sampleTokens();
        tokens.issuer.clear();
        bool returned = false;
        Answer<void> saved;
        auto callback = saved.callback();
        m_store->save(tokens, [&returned, callback](Result<void> result) {
            QVERIFY(returned); // answered on the event loop, never inside save()
            callback(std::move(result));
        });
        returned = true;
        WAIT_FOR(saved);
        QCOMPARE(saved.get().error().kind, Error::Kind::InvalidInput);
    }

    void everyLineWasCheckedForSecrets()
    {
        // The handler saw the debug lines of every test above; cleanup() checked each test.
        REQUIRE_TEST_KEYRING();
        QVERIFY2(!g_logWatch.lines().isEmpty(),
                 "debug logging of mcpbroker.oauth and mcpbroker.store should be on");
        QVERIFY(g_logWatch.watchesAnySecret());

        // …and the check itself catches a secret.
        const QByteArray canary = secret("canary");
        qInfo("logging %s on purpose", canary.constData());
        QCOMPARE(g_logWatch.takeLeaks().size(), 1);
    }

    // Last: it locks the test keyring, and nothing unlocks it without a prompt.
    void keychainErrorsPassThroughUnchanged()
    {
        REQUIRE_TEST_KEYRING();
        QProcess lock;
        QSignalSpy lockFinished(&lock, &QProcess::finished);
        lock.start(u"dbus-send"_qs,
                   {u"--session"_qs, u"--print-reply"_qs, u"--dest=org.freedesktop.secrets"_qs,
                    u"/org/freedesktop/secrets"_qs, u"org.freedesktop.Secret.Service.Lock"_qs,
                    u"array:objpath:/org/freedesktop/secrets/collection/login"_qs});
        QVERIFY(lockFinished.wait(10'000));
        QCOMPARE(lock.exitCode(), 0);

        Answer<void> saved;
        m_store->save(sampleTokens(uniqueResource("locked")), saved.callback());
        WAIT_FOR(saved);
        QVERIFY(!saved.get().ok());
        QCOMPARE(saved.get().error().kind, Error::Kind::KeychainLocked);
        // SecretStore's sentence, as it said it.
        QVERIFY2(saved.message().startsWith(u"The keychain is locked"_qs)
                         || saved.message().startsWith(u"The keychain did not answer"_qs),
                 qPrintable(saved.message()));
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    TestTokenStore test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_tokenstore.moc"
