// ClientGrants against a real Secret Service: tests/keyring/with-keyring.sh runs this binary in a
// private D-Bus session with a fresh, unlocked gnome-keyring. Outside the wrapper the keychain
// tests skip. Every test has its own directory (grants.json, grant-usage.json) and its own
// keychain service, so no test sees another's grants.

#include "gateway/ClientGrants.h"
#include "gateway/GrantToken.h"
#include "store/AtomicFile.h"
#include "store/SecretStore.h"

#include "AsyncAnswer.h"
#include "WatchedSecrets.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <memory>
#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::gateway;

using IssuedTokens = ClientGrants::IssuedTokens;

namespace {

constexpr int kAnswerTimeoutMs = 20'000;
constexpr int kSecretLength = 43; // 32 random bytes in base64url
const QString kRedirectUri = u"http://127.0.0.1:33418/callback"_qs;

// The random part of a token: what must never be seen anywhere but in the client's hands.
QByteArray secretOf(QByteArrayView token)
{
    return token.last(std::min<qsizetype>(token.size(), kSecretLength)).toByteArray();
}

// A token, and its random part on its own, may reach no log line from now on.
void watchToken(const QByteArray &token)
{
    if (token.isEmpty())
        return;
    g_logWatch.watch(token);
    g_logWatch.watch(secretOf(token));
}

void watchTokens(const IssuedTokens &issued)
{
    watchToken(issued.accessToken);
    watchToken(issued.refreshToken);
}

// `token` with its grant id replaced by `grantId`.
QByteArray withGrantId(QByteArray token, const QString &oldId, const QString &grantId)
{
    return token.replace(oldId.toLatin1(), grantId.toLatin1());
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

QSet<QString> idsOf(const QList<ClientGrant> &grants)
{
    QSet<QString> ids;
    for (const ClientGrant &grant : grants)
        ids.insert(grant.id);
    return ids;
}

} // namespace

#define REQUIRE_TEST_KEYRING() \
    if (!m_haveTestKeyring) \
        QSKIP("needs tests/keyring/with-keyring.sh (a private bus with gnome-keyring)");

class TestClientGrants : public QObject
{
    Q_OBJECT

private:
    bool m_haveTestKeyring = false;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_service;
    std::unique_ptr<store::SecretStore> m_secrets;

    QString grantsPath() const { return m_dir->filePath(u"grants.json"_qs); }
    QString usagePath() const { return m_dir->filePath(u"grant-usage.json"_qs); }

    // An instance on this test's grants file, started and ready (its keychain reads done).
    // `secrets`: another SecretStore on the same service stands for another process.
    void start(std::unique_ptr<ClientGrants> &grants, bool watch,
               ClientGrants::Options options = {}, store::SecretStore *secrets = nullptr)
    {
        grants = std::make_unique<ClientGrants>(grantsPath(), secrets ? secrets : m_secrets.get(),
                                                options);
        const Result<void> started = grants->start(watch);
        QVERIFY2(started.ok(), qPrintable(started.ok() ? QString() : started.error().message));
        QTRY_VERIFY_WITH_TIMEOUT(grants->isReady(), kAnswerTimeoutMs);
    }

    void createStatic(ClientGrants &grants, const QString &clientName, IssuedTokens *issued,
                      const QStringList &servers = {}, const QDateTime &expiresAt = {})
    {
        Answer<IssuedTokens> created;
        grants.createStatic(clientName, servers, expiresAt, created.callback());
        WAIT_FOR(created);
        QVERIFY2(created.get().ok(), qPrintable(created.message()));
        QCOMPARE(*created.calls, 1);
        *issued = created.get().value();
        watchTokens(*issued);
    }

    void registerClient(ClientGrants &grants, const QString &clientName,
                        LocalClientRegistration *client,
                        const QStringList &redirectUris = {kRedirectUri})
    {
        const auto registered = grants.registerClient(clientName, redirectUris);
        QVERIFY2(registered.ok(),
                 qPrintable(registered.ok() ? QString() : registered.error().message));
        *client = registered.value();
    }

    void issueOAuth(ClientGrants &grants, const LocalClientRegistration &client,
                    IssuedTokens *issued, const QStringList &servers = {})
    {
        Answer<IssuedTokens> answer;
        grants.issueOAuth(client, servers, answer.callback());
        WAIT_FOR(answer);
        QVERIFY2(answer.get().ok(), qPrintable(answer.message()));
        QCOMPARE(*answer.calls, 1);
        *issued = answer.get().value();
        watchTokens(*issued);
    }

    // Refreshes; the answer, success or not, goes to `answer`.
    void refresh(ClientGrants &grants, QByteArrayView refreshToken, const QString &clientId,
                 Answer<IssuedTokens> &answer)
    {
        grants.refresh(refreshToken, clientId, answer.callback());
        WAIT_FOR(answer);
        QCOMPARE(*answer.calls, 1);
        if (answer.get().ok())
            watchTokens(answer.get().value());
    }

    void expectRefreshed(ClientGrants &grants, QByteArrayView refreshToken, const QString &clientId,
                         IssuedTokens *issued)
    {
        Answer<IssuedTokens> answer;
        STEP(refresh(grants, refreshToken, clientId, answer));
        QVERIFY2(answer.get().ok(), qPrintable(answer.message()));
        *issued = answer.get().value();
    }

    void expectRefreshRefused(ClientGrants &grants, QByteArrayView refreshToken,
                              const QString &clientId)
    {
        Answer<IssuedTokens> answer;
        STEP(refresh(grants, refreshToken, clientId, answer));
        QVERIFY(!answer.get().ok());
        QCOMPARE(answer.get().error().kind, Error::Kind::Unauthorized);
        if (!refreshToken.isEmpty())
            QVERIFY(!answer.message().contains(QString::fromLatin1(secretOf(refreshToken))));
    }

    void expectAuthenticated(ClientGrants &grants, QByteArrayView token, const QString &grantId)
    {
        const Result<ClientGrant> proved = grants.authenticate(token);
        QVERIFY2(proved.ok(), qPrintable(proved.ok() ? QString() : proved.error().message));
        QCOMPARE(proved.value().id, grantId);
    }

    // authenticate(token) fails with Unauthorized, saying `wording` (when given) and never
    // echoing the token or its random part.
    void expectRefused(ClientGrants &grants, QByteArrayView token, const QString &wording = {})
    {
        const Result<ClientGrant> proved = grants.authenticate(token);
        QVERIFY2(!proved.ok(), "the token was accepted");
        const Error &error = proved.error();
        QCOMPARE(error.kind, Error::Kind::Unauthorized);
        QVERIFY(!error.message.isEmpty());
        if (!token.isEmpty()) {
            QVERIFY2(!error.message.contains(QString::fromLatin1(token.toByteArray())),
                     "the message echoes the token");
            QVERIFY2(!error.message.contains(QString::fromLatin1(secretOf(token))),
                     "the message echoes the token's secret");
        }
        if (!wording.isEmpty())
            QVERIFY2(error.message.contains(wording), qPrintable(error.message));
    }

    void readKeychain(const QString &key, Result<QByteArray> *entry)
    {
        Answer<QByteArray> read;
        m_secrets->read(key, read.callback());
        WAIT_FOR(read);
        *entry = read.get();
    }

    void readProofEntry(const ClientGrant &grant, QByteArray *entry)
    {
        Result<QByteArray> read = Error{};
        STEP(readKeychain(u"grant/"_qs + grant.id, &read));
        QVERIFY2(read.ok(), qPrintable(read.ok() ? QString() : read.error().message));
        *entry = read.value();
    }

    void expectNoProofEntry(const ClientGrant &grant)
    {
        Result<QByteArray> read = Error{};
        STEP(readKeychain(u"grant/"_qs + grant.id, &read));
        QVERIFY2(!read.ok(), "the revoked grant's keychain entry is still there");
        QCOMPARE(read.error().kind, Error::Kind::NotFound);
    }

    void revoke(ClientGrants &grants, const QString &idOrClientName, QList<ClientGrant> *revoked)
    {
        Answer<QList<ClientGrant>> answer;
        grants.revoke(idOrClientName, answer.callback());
        WAIT_FOR(answer);
        QVERIFY2(answer.get().ok(), qPrintable(answer.message()));
        QCOMPARE(*answer.calls, 1);
        *revoked = answer.get().value();
    }

    void revokeToken(ClientGrants &grants, QByteArrayView token)
    {
        Answer<void> answer;
        grants.revokeToken(token, answer.callback());
        WAIT_FOR(answer);
        QVERIFY2(answer.get().ok(), qPrintable(answer.message()));
        QCOMPARE(*answer.calls, 1);
    }

private slots:
    void initTestCase()
    {
        m_haveTestKeyring = qEnvironmentVariableIsSet("MCPB_KEYRING_BUS")
                && qEnvironmentVariable("MCPB_KEYRING") != QLatin1String("none");
        // Everything the grants and the keychain layer could log, logged.
        QLoggingCategory::setFilterRules(
                QStringLiteral("mcpbroker.gateway.debug=true\nmcpbroker.store.debug=true"));
        g_logWatch.install();
    }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_service = QStringLiteral("mcp-broker-tst-clientgrants-%1")
                            .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_secrets = std::make_unique<store::SecretStore>(m_service, 10'000);
    }

    void cleanup()
    {
        m_secrets.reset();
        m_dir.reset();
        VERIFY_NO_LOG_LEAKS(g_logWatch);
    }

    void cleanupTestCase() { g_logWatch.uninstall(); }

    // Static grants.

    void staticGrantAuthenticatesItsTokenOnly()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        IssuedTokens cursor;
        IssuedTokens claude;
        STEP(createStatic(*grants, u"cursor"_qs, &cursor, {u"github"_qs}));
        STEP(createStatic(*grants, u"claude"_qs, &claude));

        QCOMPARE(cursor.grant.kind, ClientGrant::Kind::Static);
        QCOMPARE(cursor.grant.clientName, u"cursor"_qs);
        QVERIFY(cursor.accessToken.startsWith("mcpb_" + cursor.grant.id.toLatin1() + '_'));
        QVERIFY(cursor.refreshToken.isEmpty());
        QCOMPARE(cursor.expiresInSeconds, 0);
        QVERIFY(cursor.grant.id != claude.grant.id);

        const Result<ClientGrant> proved = grants->authenticate(cursor.accessToken);
        QVERIFY2(proved.ok(), qPrintable(proved.ok() ? QString() : proved.error().message));
        QCOMPARE(proved.value().id, cursor.grant.id);
        QCOMPARE(proved.value().clientName, u"cursor"_qs);
        QVERIFY(proved.value().allowsServer(u"github"_qs));
        QVERIFY(!proved.value().allowsServer(u"slack"_qs));
        STEP(expectAuthenticated(*grants, claude.accessToken, claude.grant.id));

        // One character of the secret changed.
        QByteArray modified = cursor.accessToken;
        modified.back() = modified.back() == 'A' ? 'B' : 'A';
        STEP(expectRefused(*grants, modified, u"not valid"_qs));
        // cursor's secret under claude's grant id proves nothing about claude's grant.
        STEP(expectRefused(*grants,
                           withGrantId(cursor.accessToken, cursor.grant.id, claude.grant.id),
                           u"not valid"_qs));
        // A grant id nobody issued.
        STEP(expectRefused(
                *grants, withGrantId(cursor.accessToken, cursor.grant.id, GrantToken::newGrantId()),
                u"never issued"_qs));
        // The static token passed off as an OAuth access token.
        STEP(expectRefused(*grants, "mcpb-at" + cursor.accessToken.sliced(4)));
        // Not one of ours at all.
        STEP(expectRefused(*grants, "not-a-broker-token"));
        STEP(expectRefused(*grants, QByteArray()));
        STEP(expectRefused(*grants, cursor.accessToken.chopped(1)));

        // The failed attempts changed nothing.
        STEP(expectAuthenticated(*grants, cursor.accessToken, cursor.grant.id));
        STEP(expectAuthenticated(*grants, claude.accessToken, claude.grant.id));
    }

    void keychainHoldsOnlyAHash()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        IssuedTokens cursor;
        STEP(createStatic(*grants, u"cursor"_qs, &cursor));

        QByteArray entry;
        STEP(readProofEntry(cursor.grant, &entry));
        const QByteArray hash = GrantToken::hash(cursor.accessToken);
        QVERIFY2(entry.contains(hash), entry.constData());
        QVERIFY(!entry.contains(cursor.accessToken));
        QVERIFY(!entry.contains(secretOf(cursor.accessToken)));

        // An OAuth grant: both tokens by hash only.
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens oauth;
        STEP(issueOAuth(*grants, client, &oauth));
        QByteArray oauthEntry;
        STEP(readProofEntry(oauth.grant, &oauthEntry));
        QVERIFY(oauthEntry.contains(GrantToken::hash(oauth.accessToken)));
        QVERIFY(oauthEntry.contains(GrantToken::hash(oauth.refreshToken)));
        QVERIFY(!oauthEntry.contains(secretOf(oauth.accessToken)));
        QVERIFY(!oauthEntry.contains(secretOf(oauth.refreshToken)));

        // The grants file names the grants and holds nothing secret, not even the hashes.
        const QByteArray file = readFile(grantsPath());
        QVERIFY(file.contains(cursor.grant.id.toLatin1()));
        QVERIFY(file.contains(oauth.grant.id.toLatin1()));
        QVERIFY(file.contains("cursor"));
        for (const QByteArray &token :
             {cursor.accessToken, oauth.accessToken, oauth.refreshToken}) {
            QVERIFY(!file.contains(secretOf(token)));
            QVERIFY(!file.contains(GrantToken::hash(token)));
        }
    }

    void expiredStaticGrantIsRefused()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        const QDateTime now = QDateTime::currentDateTimeUtc();
        IssuedTokens expired;
        STEP(createStatic(*grants, u"cursor"_qs, &expired, {}, now.addSecs(-60)));
        QCOMPARE(expired.expiresInSeconds, 0);
        STEP(expectRefused(*grants, expired.accessToken, u"expired"_qs));

        IssuedTokens current;
        STEP(createStatic(*grants, u"claude"_qs, &current, {}, now.addSecs(3600)));
        QVERIFY2(current.expiresInSeconds > 3590 && current.expiresInSeconds <= 3600,
                 qPrintable(QString::number(current.expiresInSeconds)));
        STEP(expectAuthenticated(*grants, current.accessToken, current.grant.id));

        // The end is kept in the file: another instance refuses the expired grant too.
        std::unique_ptr<ClientGrants> other;
        STEP(start(other, false));
        const auto reread = other->find(expired.grant.id);
        QVERIFY(reread.has_value());
        QCOMPARE(reread->expiresAt, now.addSecs(-60));
        STEP(expectRefused(*other, expired.accessToken, u"expired"_qs));
        STEP(expectAuthenticated(*other, current.accessToken, current.grant.id));
    }

    // Revocation.

    void revokeByNameDropsGrantAndSignals()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        IssuedTokens cursor;
        IssuedTokens cursorAgain;
        IssuedTokens claude;
        STEP(createStatic(*grants, u"cursor"_qs, &cursor));
        STEP(createStatic(*grants, u"cursor"_qs, &cursorAgain));
        STEP(createStatic(*grants, u"claude"_qs, &claude));

        QSignalSpy revokedSpy(grants.get(), &ClientGrants::grantRevoked);
        QSignalSpy changedSpy(grants.get(), &ClientGrants::grantsChanged);
        QList<ClientGrant> revoked;
        STEP(revoke(*grants, u"cursor"_qs, &revoked));

        // Every grant of that name, and nothing else.
        const QSet<QString> cursorIds{cursor.grant.id, cursorAgain.grant.id};
        QCOMPARE(idsOf(revoked), cursorIds);
        QCOMPARE(revokedSpy.count(), 2);
        QCOMPARE((QSet<QString>{revokedSpy.at(0).at(0).toString(),
                                revokedSpy.at(1).at(0).toString()}),
                 cursorIds);
        QVERIFY(changedSpy.count() >= 1);

        STEP(expectRefused(*grants, cursor.accessToken, u"revoked"_qs));
        STEP(expectRefused(*grants, cursorAgain.accessToken, u"revoked"_qs));
        STEP(expectAuthenticated(*grants, claude.accessToken, claude.grant.id));
        QCOMPARE(idsOf(grants->grants()), QSet<QString>{claude.grant.id});
        QVERIFY(!grants->find(u"cursor"_qs).has_value());
        QVERIFY(!grants->find(cursor.grant.id).has_value());
        QVERIFY(!readFile(grantsPath()).contains(cursor.grant.id.toLatin1()));
        STEP(expectNoProofEntry(cursor.grant));
        STEP(expectNoProofEntry(cursorAgain.grant));

        // Nothing left of that name.
        Answer<QList<ClientGrant>> again;
        grants->revoke(u"cursor"_qs, again.callback());
        WAIT_FOR(again);
        QVERIFY(!again.get().ok());
        QCOMPARE(again.get().error().kind, Error::Kind::NotFound);
        QVERIFY2(again.message().contains(u"cursor"_qs), qPrintable(again.message()));
        QCOMPARE(revokedSpy.count(), 2);

        // By id.
        STEP(revoke(*grants, claude.grant.id, &revoked));
        QCOMPARE(idsOf(revoked), QSet<QString>{claude.grant.id});
        STEP(expectRefused(*grants, claude.accessToken, u"revoked"_qs));
    }

    void revocationByAnotherInstanceIsSeenThroughTheFile()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> serving;
        STEP(start(serving, true));
        IssuedTokens cursor;
        IssuedTokens claude;
        STEP(createStatic(*serving, u"cursor"_qs, &cursor));
        STEP(createStatic(*serving, u"claude"_qs, &claude));
        STEP(expectAuthenticated(*serving, cursor.accessToken, cursor.grant.id));
        QSignalSpy revokedSpy(serving.get(), &ClientGrants::grantRevoked);

        // `mcp-broker grant revoke` in another process: its own keychain connection.
        store::SecretStore otherKeychain(m_service, 10'000);
        std::unique_ptr<ClientGrants> cli;
        STEP(start(cli, false, {}, &otherKeychain));
        QList<ClientGrant> revoked;
        STEP(revoke(*cli, cursor.grant.id, &revoked));
        QCOMPARE(idsOf(revoked), QSet<QString>{cursor.grant.id});

        QTRY_COMPARE_WITH_TIMEOUT(revokedSpy.count(), 1, kAnswerTimeoutMs);
        QCOMPARE(revokedSpy.at(0).at(0).toString(), cursor.grant.id);
        STEP(expectRefused(*serving, cursor.accessToken, u"revoked"_qs));
        STEP(expectAuthenticated(*serving, claude.accessToken, claude.grant.id));
        QCOMPARE(idsOf(serving->grants()), QSet<QString>{claude.grant.id});
    }

    void grantCreatedByAnotherInstanceAuthenticatesAfterReload()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> serving;
        STEP(start(serving, true));
        QSignalSpy changedSpy(serving.get(), &ClientGrants::grantsChanged);

        store::SecretStore otherKeychain(m_service, 10'000);
        std::unique_ptr<ClientGrants> cli;
        STEP(start(cli, false, {}, &otherKeychain));
        IssuedTokens cursor;
        STEP(createStatic(*cli, u"cursor"_qs, &cursor, {u"github"_qs}));

        // The file is seen at once, the proof once the keychain has answered.
        QTRY_VERIFY_WITH_TIMEOUT(serving->authenticate(cursor.accessToken).ok(), kAnswerTimeoutMs);
        const auto seen = serving->find(cursor.grant.id);
        QVERIFY(seen.has_value());
        QCOMPARE(seen->clientName, u"cursor"_qs);
        QCOMPARE(seen->servers, QStringList{u"github"_qs});
        QVERIFY(changedSpy.count() >= 1);
        QVERIFY(serving->isReady());
    }

    // OAuth grants of the broker's own authorization server.

    void oauthGrantRefreshRotates()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens first;
        STEP(issueOAuth(*grants, client, &first, {u"github"_qs}));

        QCOMPARE(first.grant.kind, ClientGrant::Kind::OAuth);
        QCOMPARE(first.grant.clientName, u"Example Client"_qs);
        QCOMPARE(first.grant.oauthClientId, client.clientId);
        QCOMPARE(first.grant.servers, QStringList{u"github"_qs});
        QCOMPARE(first.expiresInSeconds, 3600);
        QVERIFY(first.accessToken.startsWith("mcpb-at_" + first.grant.id.toLatin1() + '_'));
        QVERIFY(first.refreshToken.startsWith("mcpb-rt_" + first.grant.id.toLatin1() + '_'));
        QVERIFY(secretOf(first.accessToken) != secretOf(first.refreshToken));
        STEP(expectAuthenticated(*grants, first.accessToken, first.grant.id));

        IssuedTokens second;
        STEP(expectRefreshed(*grants, first.refreshToken, client.clientId, &second));
        QCOMPARE(second.grant.id, first.grant.id); // the same grant, new tokens
        QCOMPARE(second.grant.oauthClientId, client.clientId);
        QCOMPARE(second.expiresInSeconds, 3600);
        QVERIFY(second.accessToken.startsWith("mcpb-at_" + first.grant.id.toLatin1() + '_'));
        QVERIFY(second.refreshToken.startsWith("mcpb-rt_" + first.grant.id.toLatin1() + '_'));
        QVERIFY(second.accessToken != first.accessToken);
        QVERIFY(second.refreshToken != first.refreshToken);

        STEP(expectAuthenticated(*grants, second.accessToken, first.grant.id));
        // The keychain proof now holds the new pair: the old access token proves nothing.
        STEP(expectRefused(*grants, first.accessToken, u"not valid"_qs));
        QByteArray entry;
        STEP(readProofEntry(first.grant, &entry));
        QVERIFY(entry.contains(GrantToken::hash(second.accessToken)));
        QVERIFY(entry.contains(GrantToken::hash(second.refreshToken)));
        QVERIFY(!entry.contains(GrantToken::hash(first.accessToken)));
        QVERIFY(!entry.contains(secretOf(second.accessToken)));
        QVERIFY(!entry.contains(secretOf(second.refreshToken)));

        // The new refresh token rotates again.
        IssuedTokens third;
        STEP(expectRefreshed(*grants, second.refreshToken, client.clientId, &third));
        QCOMPARE(third.grant.id, first.grant.id);
        STEP(expectRefused(*grants, second.accessToken, u"not valid"_qs));
        STEP(expectAuthenticated(*grants, third.accessToken, first.grant.id));

        // Another instance reads the rotated proof from the keychain.
        std::unique_ptr<ClientGrants> other;
        STEP(start(other, false));
        STEP(expectAuthenticated(*other, third.accessToken, first.grant.id));
        STEP(expectRefused(*other, second.accessToken));
    }

    void reusedRefreshTokenRevokesTheGrant()
    {
        // OAuth 2.1 §4.3.1: a rotated refresh token presented again has leaked, so the grant
        // ends for whoever holds its newer tokens too.
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens first;
        STEP(issueOAuth(*grants, client, &first));
        IssuedTokens second;
        STEP(expectRefreshed(*grants, first.refreshToken, client.clientId, &second));
        QSignalSpy revokedSpy(grants.get(), &ClientGrants::grantRevoked);

        Answer<IssuedTokens> reused;
        STEP(refresh(*grants, first.refreshToken, client.clientId, reused));
        QVERIFY(!reused.get().ok());
        QCOMPARE(reused.get().error().kind, Error::Kind::Unauthorized);
        QVERIFY2(reused.message().contains(u"already used"_qs), qPrintable(reused.message()));
        QVERIFY(!reused.message().contains(QString::fromLatin1(secretOf(first.refreshToken))));

        QCOMPARE(revokedSpy.count(), 1);
        QCOMPARE(revokedSpy.at(0).at(0).toString(), first.grant.id);
        STEP(expectRefused(*grants, second.accessToken, u"revoked"_qs));
        STEP(expectRefreshRefused(*grants, second.refreshToken, client.clientId));
        QVERIFY(!grants->find(first.grant.id).has_value());
        QVERIFY(!readFile(grantsPath()).contains(first.grant.id.toLatin1()));
    }

    void refreshTokenUsedTwiceAtOnceRotatesOnce()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens issued;
        STEP(issueOAuth(*grants, client, &issued));
        QSignalSpy revokedSpy(grants.get(), &ClientGrants::grantRevoked);

        // Both before the keychain has stored the first rotation.
        Answer<IssuedTokens> first;
        Answer<IssuedTokens> second;
        grants->refresh(issued.refreshToken, client.clientId, first.callback());
        grants->refresh(issued.refreshToken, client.clientId, second.callback());
        WAIT_FOR(first);
        WAIT_FOR(second);
        QVERIFY2(first.get().ok(), qPrintable(first.message()));
        watchTokens(first.get().value());
        QVERIFY(!second.get().ok());
        QCOMPARE(second.get().error().kind, Error::Kind::Unauthorized);
        // The second use is the use of a rotated token: the grant is revoked (see above).
        QCOMPARE(revokedSpy.count(), 1);
        STEP(expectRefused(*grants, first.get().value().accessToken, u"revoked"_qs));
    }

    void refreshTokenOfAnotherClientIsRefused()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration owner;
        LocalClientRegistration stranger;
        STEP(registerClient(*grants, u"Owner"_qs, &owner));
        STEP(registerClient(*grants, u"Stranger"_qs, &stranger));
        IssuedTokens issued;
        STEP(issueOAuth(*grants, owner, &issued));

        STEP(expectRefreshRefused(*grants, issued.refreshToken, stranger.clientId));
        STEP(expectRefreshRefused(*grants, issued.refreshToken, QString()));
        STEP(expectRefreshRefused(*grants, issued.refreshToken, u"unregistered"_qs));
        // The refused attempts did not use the token up, nor touch the access token.
        STEP(expectAuthenticated(*grants, issued.accessToken, issued.grant.id));
        IssuedTokens rotated;
        STEP(expectRefreshed(*grants, issued.refreshToken, owner.clientId, &rotated));
    }

    void refreshTokenIsNotAnAccessToken()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens issued;
        STEP(issueOAuth(*grants, client, &issued));
        IssuedTokens cursor;
        STEP(createStatic(*grants, u"cursor"_qs, &cursor));

        STEP(expectRefused(*grants, issued.refreshToken));
        // …nor an access or a static token a refresh token.
        STEP(expectRefreshRefused(*grants, issued.accessToken, client.clientId));
        STEP(expectRefreshRefused(*grants, cursor.accessToken, client.clientId));
        STEP(expectRefreshRefused(*grants, cursor.accessToken, QString()));
        // A refresh-shaped token on a static grant (which has no refresh hash).
        STEP(expectRefreshRefused(*grants, "mcpb-rt" + cursor.accessToken.sliced(4), QString()));

        STEP(expectAuthenticated(*grants, issued.accessToken, issued.grant.id));
        IssuedTokens rotated;
        STEP(expectRefreshed(*grants, issued.refreshToken, client.clientId, &rotated));
    }

    void revokeTokenRevokesTheWholeGrant_data()
    {
        QTest::addColumn<bool>("byRefreshToken");
        QTest::newRow("access token") << false;
        QTest::newRow("refresh token") << true;
    }

    void revokeTokenRevokesTheWholeGrant()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(bool, byRefreshToken);
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens issued;
        IssuedTokens otherGrant; // the same client's other sign-in
        STEP(issueOAuth(*grants, client, &issued));
        STEP(issueOAuth(*grants, client, &otherGrant));
        QSignalSpy revokedSpy(grants.get(), &ClientGrants::grantRevoked);

        STEP(revokeToken(*grants, byRefreshToken ? issued.refreshToken : issued.accessToken));

        QCOMPARE(revokedSpy.count(), 1);
        QCOMPARE(revokedSpy.at(0).at(0).toString(), issued.grant.id);
        STEP(expectRefused(*grants, issued.accessToken, u"revoked"_qs));
        STEP(expectRefreshRefused(*grants, issued.refreshToken, client.clientId));
        QVERIFY(!grants->find(issued.grant.id).has_value());
        STEP(expectNoProofEntry(issued.grant));
        STEP(expectAuthenticated(*grants, otherGrant.accessToken, otherGrant.grant.id));

        // Revoking it again is no error (RFC 7009: the token is unknown now).
        STEP(revokeToken(*grants, issued.refreshToken));
        QCOMPARE(revokedSpy.count(), 1);
    }

    void revokeTokenWithUnknownTokenSucceeds()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens issued;
        STEP(issueOAuth(*grants, client, &issued));
        QSignalSpy revokedSpy(grants.get(), &ClientGrants::grantRevoked);

        const QString id = issued.grant.id;
        const QList<QByteArray> unknown{
                "not-a-token",
                QByteArray(),
                // Well-formed, for a grant nobody issued.
                GrantToken::generate(GrantToken::Use::Access, GrantToken::newGrantId()),
                // Well-formed and naming the grant, but a guess: it must not revoke it.
                GrantToken::generate(GrantToken::Use::Access, id),
                GrantToken::generate(GrantToken::Use::Refresh, id),
                GrantToken::generate(GrantToken::Use::Static, id),
        };
        for (const QByteArray &token : unknown)
            STEP(revokeToken(*grants, token));

        QCOMPARE(revokedSpy.count(), 0);
        QVERIFY(grants->find(id).has_value());
        STEP(expectAuthenticated(*grants, issued.accessToken, id));
        IssuedTokens rotated;
        STEP(expectRefreshed(*grants, issued.refreshToken, client.clientId, &rotated));
    }

    void expiredAccessTokenIsRefused()
    {
        REQUIRE_TEST_KEYRING();
        ClientGrants::Options options;
        options.accessTokenLifetimeSeconds = 0; // expired as soon as issued
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false, options));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens issued;
        STEP(issueOAuth(*grants, client, &issued));
        QCOMPARE(issued.expiresInSeconds, 0);

        STEP(expectRefused(*grants, issued.accessToken, u"expired"_qs));
        // The grant lives on: its refresh token still gets (here: again expired) new tokens.
        IssuedTokens rotated;
        STEP(expectRefreshed(*grants, issued.refreshToken, client.clientId, &rotated));
        QCOMPARE(rotated.expiresInSeconds, 0);
        STEP(expectRefused(*grants, rotated.accessToken, u"expired"_qs));
    }

    void accessTokenWithinItsLifetimeIsAccepted()
    {
        REQUIRE_TEST_KEYRING();
        ClientGrants::Options options;
        options.accessTokenLifetimeSeconds = 120;
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false, options));
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client));
        IssuedTokens issued;
        STEP(issueOAuth(*grants, client, &issued));
        QCOMPARE(issued.expiresInSeconds, 120);
        STEP(expectAuthenticated(*grants, issued.accessToken, issued.grant.id));
    }

    // The grants file.

    void damagedGrantsFileIsAnErrorAndUntouched_data()
    {
        QTest::addColumn<QByteArray>("contents");
        QTest::newRow("not JSON") << QByteArray("this is not JSON\n");
        QTest::newRow("cut short")
                << QByteArray("{\"version\": 1, \"grants\": [{\"id\": \"g0123456789ab\", \"cli");
        QTest::newRow("a list") << QByteArray("[]");
        QTest::newRow("unknown version") << QByteArray("{\"version\": 99, \"grants\": []}");
        QTest::newRow("grant without id")
                << QByteArray("{\"version\": 1, \"grants\": [{\"client\": \"cursor\"}]}");
        QTest::newRow("grant not an object")
                << QByteArray("{\"version\": 1, \"grants\": [\"g0123456789ab\"]}");
        QTest::newRow("client without id")
                << QByteArray("{\"version\": 1, \"clients\": [{\"clientName\": \"x\"}]}");
    }

    void damagedGrantsFileIsAnErrorAndUntouched()
    {
        QFETCH(QByteArray, contents);
        {
            QFile file(grantsPath());
            QVERIFY(file.open(QIODevice::WriteOnly));
            QCOMPARE(file.write(contents), contents.size());
        }

        for (const bool watch : {false, true}) {
            ClientGrants grants(grantsPath(), m_secrets.get());
            const Result<void> started = grants.start(watch);
            QVERIFY(!started.ok());
            QVERIFY2(started.error().message.contains(grantsPath()),
                     qPrintable(started.error().message));
            QVERIFY(!grants.isReady());
            // Nothing that writes the file may replace it either.
            QVERIFY(!grants.registerClient(u"Example Client"_qs, {kRedirectUri}).ok());
            if (m_haveTestKeyring) {
                Answer<IssuedTokens> created;
                grants.createStatic(u"cursor"_qs, {}, {}, created.callback());
                WAIT_FOR(created);
                QVERIFY(!created.get().ok());
                QVERIFY2(created.message().contains(grantsPath()), qPrintable(created.message()));
            }
            Answer<QList<ClientGrant>> revoked;
            grants.revoke(u"cursor"_qs, revoked.callback());
            WAIT_FOR(revoked);
            QVERIFY(!revoked.get().ok());
        }
        QCOMPARE(readFile(grantsPath()), contents);
    }

    void damagedFileWhileServingKeepsEveryGrant()
    {
        REQUIRE_TEST_KEYRING();
        std::unique_ptr<ClientGrants> serving;
        STEP(start(serving, true));
        IssuedTokens cursor;
        STEP(createStatic(*serving, u"cursor"_qs, &cursor));
        QSignalSpy revokedSpy(serving.get(), &ClientGrants::grantRevoked);
        g_logWatch.clearLines();

        // A broken edit, saved the way editors save (a new file renamed over the old one).
        const QByteArray damaged = readFile(grantsPath()).left(40);
        const Result<void> written = store::AtomicFile::write(grantsPath(), damaged);
        QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error().message));
        const auto warned = [] {
            const QStringList lines = g_logWatch.lines();
            return std::any_of(lines.begin(), lines.end(),
                               [](const QString &line) { return line.contains(u"is damaged"_qs); });
        };
        QTRY_VERIFY_WITH_TIMEOUT(warned(), kAnswerTimeoutMs);

        QCOMPARE(revokedSpy.count(), 0);
        STEP(expectAuthenticated(*serving, cursor.accessToken, cursor.grant.id));
        QCOMPARE(readFile(grantsPath()), damaged);
    }

    void missingGrantsFileIsEmpty()
    {
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        QVERIFY(grants->isReady()); // no keychain reads to wait for
        QVERIFY(grants->grants().isEmpty());
        QVERIFY(!QFile::exists(grantsPath())); // reading creates nothing
        QCOMPARE(ClientGrants::grantsPathFor(m_dir->filePath(u"config.json"_qs)),
                 QDir(m_dir->path()).absoluteFilePath(u"grants.json"_qs));
    }

    void registerClientKeepsRedirectUris()
    {
        std::unique_ptr<ClientGrants> grants;
        STEP(start(grants, false));
        const QStringList uris{kRedirectUri, u"http://[::1]:40000/oauth/callback?x=1"_qs};
        const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
        LocalClientRegistration client;
        STEP(registerClient(*grants, u"Example Client"_qs, &client, uris));

        QCOMPARE(client.clientId.size(), kSecretLength);
        QCOMPARE(client.clientName, u"Example Client"_qs);
        QCOMPARE(client.redirectUris, uris);
        QVERIFY(client.createdAt >= before);
        QVERIFY(client.createdAt <= QDateTime::currentDateTimeUtc());

        // Kept in the file, exactly: another instance reads it back.
        std::unique_ptr<ClientGrants> other;
        STEP(start(other, false));
        const auto reread = other->findClient(client.clientId);
        QVERIFY(reread.has_value());
        QCOMPARE(reread->clientName, client.clientName);
        QCOMPARE(reread->redirectUris, uris);
        QCOMPARE(reread->createdAt, client.createdAt);
    }

    void findClientKnowsOnlyRegisteredClients()
    {
        std::unique_ptr<ClientGrants> serving;
        STEP(start(serving, true));
        LocalClientRegistration first;
        LocalClientRegistration second;
        STEP(registerClient(*serving, u"First"_qs, &first));
        STEP(registerClient(*serving, u"Second"_qs, &second, {u"http://localhost:1234/cb"_qs}));
        QVERIFY(first.clientId != second.clientId);

        QVERIFY(serving->findClient(first.clientId).has_value());
        QVERIFY(serving->findClient(second.clientId).has_value());
        QCOMPARE(serving->findClient(first.clientId)->clientName, u"First"_qs);
        QCOMPARE(serving->findClient(second.clientId)->clientName, u"Second"_qs);
        QCOMPARE(serving->findClient(second.clientId)->redirectUris,
                 QStringList{u"http://localhost:1234/cb"_qs});
        QVERIFY(!serving->findClient(u"unregistered"_qs).has_value());
        QVERIFY(!serving->findClient(QString()).has_value());
        QVERIFY(!serving->findClient(first.clientId.left(20)).has_value());

        // A registration written by another instance is found through the file.
        std::unique_ptr<ClientGrants> other;
        STEP(start(other, false));
        LocalClientRegistration third;
        STEP(registerClient(*other, u"Third"_qs, &third));
        QTRY_VERIFY_WITH_TIMEOUT(serving->findClient(third.clientId).has_value(), kAnswerTimeoutMs);
        QVERIFY(serving->findClient(first.clientId).has_value());
    }

    // Readiness and usage.

    void whenReadyRunsAfterKeychainReads()
    {
        REQUIRE_TEST_KEYRING();
        IssuedTokens cursor;
        {
            std::unique_ptr<ClientGrants> cli;
            STEP(start(cli, false));
            STEP(createStatic(*cli, u"cursor"_qs, &cursor));
        }

        ClientGrants grants(grantsPath(), m_secrets.get());
        QSignalSpy readySpy(&grants, &ClientGrants::ready);
        QVERIFY(grants.start(false).ok());
        // The grant is known from the file; its proof is still being read.
        QVERIFY(!grants.isReady());
        QVERIFY(grants.find(cursor.grant.id).has_value());

        QObject context;
        int runs = 0;
        bool authenticatedThen = false;
        grants.whenReady(&context, [&] {
            ++runs;
            authenticatedThen = grants.authenticate(cursor.accessToken).ok();
        });
        QCOMPARE(runs, 0);
        QTRY_COMPARE_WITH_TIMEOUT(runs, 1, kAnswerTimeoutMs);
        QVERIFY2(authenticatedThen, "whenReady ran before the proof was read");
        QVERIFY(grants.isReady());
        QCOMPARE(readySpy.count(), 1);

        // Once ready: at once, and only once.
        int later = 0;
        grants.whenReady(&context, [&] { ++later; });
        QCOMPARE(later, 1);
        QTest::qWait(0);
        QCOMPARE(runs, 1);
        QCOMPARE(readySpy.count(), 1);
    }

    void proofUnreadableAtStartIsReadAgainOnRetry()
    {
        // The broker started before the keychain could give a grant's proof (at login, before
        // the keyring is unlocked). Once the keychain has it, the client's next tries succeed:
        // the error tells the user to unlock the keychain and try again.
        REQUIRE_TEST_KEYRING();
        IssuedTokens cursor;
        QByteArray entry;
        {
            std::unique_ptr<ClientGrants> cli;
            STEP(start(cli, false));
            STEP(createStatic(*cli, u"cursor"_qs, &cursor));
            STEP(readProofEntry(cursor.grant, &entry));
        }
        Answer<void> removed;
        m_secrets->remove(u"grant/"_qs + cursor.grant.id, removed.callback());
        WAIT_FOR(removed);
        QVERIFY2(removed.get().ok(), qPrintable(removed.message()));

        std::unique_ptr<ClientGrants> serving;
        STEP(start(serving, true));
        STEP(expectRefused(*serving, cursor.accessToken, u"could not be read"_qs));

        Answer<void> restored;
        m_secrets->write(u"grant/"_qs + cursor.grant.id, entry, restored.callback());
        WAIT_FOR(restored);
        QVERIFY2(restored.get().ok(), qPrintable(restored.message()));
        QTRY_VERIFY_WITH_TIMEOUT(serving->authenticate(cursor.accessToken).ok(), 10'000);
    }

    void lastUseIsNotedAndSaved()
    {
        REQUIRE_TEST_KEYRING();
        ClientGrants::Options options;
        options.usageSaveIntervalMs = 50;
        std::unique_ptr<ClientGrants> serving;
        STEP(start(serving, true, options));
        IssuedTokens cursor;
        IssuedTokens claude;
        STEP(createStatic(*serving, u"cursor"_qs, &cursor));
        STEP(createStatic(*serving, u"claude"_qs, &claude));
        QVERIFY(serving->find(cursor.grant.id).has_value());
        QVERIFY(!serving->find(cursor.grant.id)->lastUsedAt.isValid());

        const QDateTime before = QDateTime::currentDateTimeUtc();
        STEP(expectAuthenticated(*serving, cursor.accessToken, cursor.grant.id));
        const QDateTime after = QDateTime::currentDateTimeUtc();

        const QDateTime used = serving->find(cursor.grant.id)->lastUsedAt;
        QVERIFY(used.isValid());
        QVERIFY(used >= before && used <= after);
        for (const ClientGrant &grant : serving->grants()) {
            if (grant.id == cursor.grant.id)
                QCOMPARE(grant.lastUsedAt, used);
            else
                QVERIFY(!grant.lastUsedAt.isValid());
        }

        QTRY_VERIFY_WITH_TIMEOUT(readFile(usagePath()).contains(cursor.grant.id.toLatin1()),
                                 kAnswerTimeoutMs);
        const QByteArray usage = readFile(usagePath());
        QVERIFY(!usage.contains(claude.grant.id.toLatin1()));
        QVERIFY(!usage.contains(secretOf(cursor.accessToken)));
        // Not in the grants file, which the CLI rewrites too.
        QVERIFY(!readFile(grantsPath()).contains("lastUsed"));

        // Another instance reads it back.
        std::unique_ptr<ClientGrants> other;
        STEP(start(other, false));
        QVERIFY(other->find(cursor.grant.id).has_value());
        QVERIFY(other->find(claude.grant.id).has_value());
        QCOMPARE(other->find(cursor.grant.id)->lastUsedAt, used);
        QVERIFY(!other->find(claude.grant.id)->lastUsedAt.isValid());
    }

    void everyLineWasCheckedForSecrets()
    {
        // The handler saw the debug lines of every test above; cleanup() checked each test.
        REQUIRE_TEST_KEYRING();
        QVERIFY(g_logWatch.watchesAnySecret());
        const QByteArray canary
                = GrantToken::generate(GrantToken::Use::Static, GrantToken::newGrantId());
        watchToken(canary);
        qInfo("logging %s on purpose", secretOf(canary).constData());
        QCOMPARE(g_logWatch.takeLeaks().size(), 1);
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    TestClientGrants test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_clientgrants.moc"
