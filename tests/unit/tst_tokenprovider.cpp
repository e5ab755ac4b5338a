// TokenProvider with a scripted refresh function (the token endpoint is TokenRequest's to test)
// and the real keychain of tests/keyring/with-keyring.sh behind its TokenStore, so that what
// the provider saves and removes is checked where it really lands.

#include "oauth/TokenProvider.h"
#include "oauth/TokenStore.h"
#include "store/SecretStore.h"

#include "AsyncAnswer.h"
#include "WatchedSecrets.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QUuid>

#include <memory>
#include <optional>
#include <vector>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

constexpr int kAnswerTimeoutMs = 10'000;
const QString kServer = u"github"_qs;
const QString kIssuer = u"https://github.com/login/oauth"_qs;
const QString kSignInSentence = u"Server 'github' needs sign-in: run `mcp-broker login github`"_qs;

qint64 now()
{
    return QDateTime::currentMSecsSinceEpoch();
}

TokenSet tokenSet(const QByteArray &access, const QByteArray &refresh, qint64 expiresAtMs)
{
    TokenSet tokens;
    tokens.accessToken = access;
    tokens.refreshToken = refresh;
    tokens.expiresAtMs = expiresAtMs;
    tokens.scopes = QStringList{u"repo"_qs};
    return tokens;
}

// The refresh function: records every call; the test answers them, or `responder` does at once.
struct ScriptedRefresh
{
    struct Call
    {
        QByteArray refreshToken;
        qint64 atMs = 0;
        std::function<void(Result<TokenSet>)> done;
    };
    std::shared_ptr<std::vector<Call>> calls = std::make_shared<std::vector<Call>>();
    std::shared_ptr<std::function<Result<TokenSet>(const QByteArray &)>> responder
            = std::make_shared<std::function<Result<TokenSet>(const QByteArray &)>>();

    TokenProvider::RefreshFunction function() const
    {
        return [calls = calls, responder = responder](const QByteArray &refreshToken,
                                                      std::function<void(Result<TokenSet>)> done) {
            calls->push_back({refreshToken, now(), done});
            if (!*responder)
                return;
            // Like a real request: answered later, on the event loop.
            QTimer::singleShot(0, [done, result = (*responder)(refreshToken)] { done(result); });
        };
    }
    int count() const { return static_cast<int>(calls->size()); }
    void answer(Result<TokenSet> result, int index = -1) const
    {
        calls->at(index < 0 ? calls->size() - 1 : size_t(index)).done(std::move(result));
    }
};

// What the accessToken() callbacks answered.
struct Answers
{
    std::shared_ptr<std::vector<Result<QByteArray>>> results
            = std::make_shared<std::vector<Result<QByteArray>>>();

    TokenProvider::TokenCallback callback() const
    {
        return [results = results](Result<QByteArray> result) { results->push_back(result); };
    }
    int count() const { return static_cast<int>(results->size()); }
    bool allAre(const QByteArray &expected) const
    {
        for (const auto &result : *results) {
            if (!result.ok() || result.value() != expected)
                return false;
        }
        return true;
    }
    bool allFailWith(Error::Kind kind, const QString &sentence) const
    {
        for (const auto &result : *results) {
            if (result.ok() || result.error().kind != kind
                || !result.error().message.contains(sentence))
                return false;
        }
        return true;
    }
};

} // namespace

#define REQUIRE_TEST_KEYRING() \
    if (!m_haveTestKeyring) \
        QSKIP("needs tests/keyring/with-keyring.sh (a private bus with gnome-keyring)");

class TestTokenProvider : public QObject
{
    Q_OBJECT

private:
    bool m_haveTestKeyring = false;
    std::unique_ptr<store::SecretStore> m_secrets;
    std::unique_ptr<TokenStore> m_store;
    ScriptedRefresh m_refresh;
    std::unique_ptr<TokenProvider> m_provider;

    // A provider for a resource no other test uses.
    TokenProvider *makeProvider()
    {
        m_refresh = ScriptedRefresh();
        const QString resource = QStringLiteral("https://api.example.com/mcp/%1")
                                         .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_provider = std::make_unique<TokenProvider>(kServer, kIssuer, resource, m_store.get(),
                                                     m_refresh.function());
        return m_provider.get();
    }

    void signIn(const TokenSet &tokens)
    {
        std::optional<Result<void>> saved;
        m_provider->setTokens(tokens, [&saved](Result<void> result) { saved = result; });
        QTRY_VERIFY_WITH_TIMEOUT(saved.has_value(), kAnswerTimeoutMs);
        QVERIFY2(saved->ok(), qPrintable(saved->ok() ? QString() : saved->error().message));
    }

    // The tokens in the keychain (nullopt: none).
    void stored(std::optional<TokenSet> &out)
    {
        std::optional<Result<TokenSet>> loaded;
        m_store->load(kIssuer, m_provider->resource(),
                      [&loaded](Result<TokenSet> result) { loaded = std::move(result); });
        QTRY_VERIFY_WITH_TIMEOUT(loaded.has_value(), kAnswerTimeoutMs);
        if (loaded->ok()) {
            out = loaded->value();
            return;
        }
        QCOMPARE(loaded->error().kind, Error::Kind::NotFound);
        out.reset();
    }

    void expectStoredRefreshToken(const QByteArray &refreshToken)
    {
        std::optional<TokenSet> tokens;
        STEP(stored(tokens));
        QVERIFY(tokens.has_value());
        QCOMPARE(tokens->refreshToken, refreshToken);
    }

    // Asks for the token `count` times at once.
    Answers ask(int count = 1)
    {
        Answers answers;
        for (int i = 0; i < count; ++i)
            m_provider->accessToken(answers.callback());
        return answers;
    }

private slots:
    void initTestCase()
    {
        m_haveTestKeyring = qEnvironmentVariableIsSet("MCPB_KEYRING_BUS")
                && qEnvironmentVariable("MCPB_KEYRING") != QLatin1String("none");
        const QString service = QStringLiteral("mcp-broker-tst-tokenprovider-%1")
                                        .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_secrets = std::make_unique<store::SecretStore>(service, 10'000);
        m_store = std::make_unique<TokenStore>(m_secrets.get());
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.oauth.debug=true"));
        g_logWatch.install();
    }

    void init() { REQUIRE_TEST_KEYRING(); }

    void cleanup()
    {
        m_provider.reset();
        VERIFY_NO_LOG_LEAKS(g_logWatch);
    }

    void cleanupTestCase() { g_logWatch.uninstall(); }

    void validTokenComesFromMemoryWithoutRefresh()
    {
        makeProvider();
        const QByteArray access = secret("access");
        STEP(signIn(tokenSet(access, secret("refresh"), now() + 3'600'000)));
        QCOMPARE(m_provider->state(), TokenProvider::State::SignedIn);
        const Answers answers = ask(3);
        QCOMPARE(answers.count(), 0); // answered on the event loop, never inside the call
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 3, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(access));
        QCOMPARE(m_refresh.count(), 0);
    }

    void refreshIsSingleFlightUnderConcurrentCalls()
    {
        makeProvider();
        QSignalSpy states(m_provider.get(), &TokenProvider::stateChanged);
        const QByteArray oldRefresh = secret("refresh-old");
        STEP(signIn(tokenSet(secret("access-old"), oldRefresh, now() - 1'000)));

        const Answers answers = ask(20);
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        QCOMPARE(m_provider->state(), TokenProvider::State::Refreshing);
        const Answers late = ask(5); // asking during the refresh joins it too
        QCoreApplication::processEvents();
        QCOMPARE(m_refresh.count(), 1);
        QCOMPARE(m_refresh.calls->front().refreshToken, oldRefresh);
        QCOMPARE(answers.count(), 0);

        const QByteArray newAccess = secret("access-new");
        const QByteArray newRefresh = secret("refresh-new");
        m_refresh.answer(tokenSet(newAccess, newRefresh, now() + 3'600'000));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 20, kAnswerTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(late.count(), 5, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(newAccess));
        QVERIFY(late.allAre(newAccess));
        QCOMPARE(m_refresh.count(), 1);
        QCOMPARE(m_provider->state(), TokenProvider::State::SignedIn);
        QVERIFY(states.contains({QVariant::fromValue(TokenProvider::State::Refreshing)}));
        STEP(expectStoredRefreshToken(newRefresh));
    }

    void rotatedRefreshTokenIsSavedBeforeCallersGetTheNewToken()
    {
        makeProvider();
        STEP(signIn(tokenSet(secret("access-old"), secret("refresh-old"), now() - 1'000)));
        // The first caller reads the keychain as soon as it has the new token. Keychain jobs
        // run in order, so it sees the rotated refresh token only if the provider saved it
        // before answering.
        std::optional<Result<TokenSet>> seen;
        m_provider->accessToken([this, &seen](Result<QByteArray>) {
            m_store->load(kIssuer, m_provider->resource(),
                          [&seen](Result<TokenSet> result) { seen = std::move(result); });
        });
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        const QByteArray newRefresh = secret("refresh-new");
        m_refresh.answer(tokenSet(secret("access-new"), newRefresh, now() + 3'600'000));
        QTRY_VERIFY_WITH_TIMEOUT(seen.has_value(), kAnswerTimeoutMs);
        QVERIFY(seen->ok());
        QCOMPARE(seen->value().refreshToken, newRefresh);
    }

    void responseWithoutRefreshTokenKeepsTheOldOne()
    {
        makeProvider();
        const QByteArray refresh = secret("refresh");
        STEP(signIn(tokenSet(secret("access-old"), refresh, now() - 1'000)));
        Answers answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        const QByteArray newAccess = secret("access-new");
        TokenSet response = tokenSet(newAccess, QByteArray(), now() - 1); // expired at once
        response.scopes.clear(); // omitted: the scopes granted before stay
        m_refresh.answer(response);
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 1, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(newAccess));
        STEP(expectStoredRefreshToken(refresh));
        std::optional<TokenSet> tokens;
        STEP(stored(tokens));
        QCOMPARE(tokens->scopes, QStringList{u"repo"_qs});

        // The next refresh uses the refresh token that was kept.
        answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 2, kAnswerTimeoutMs);
        QCOMPARE(m_refresh.calls->back().refreshToken, refresh);
    }

    void invalidGrantMeansNeedsSignInWithAnActionableSentence()
    {
        makeProvider();
        QSignalSpy states(m_provider.get(), &TokenProvider::stateChanged);
        STEP(signIn(tokenSet(secret("access"), secret("refresh"), now() - 1'000)));
        const Answers answers = ask(20);
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        m_refresh.answer(Error::make(Error::Kind::Unauthorized,
                                     u"The authorization server refused the grant."_qs));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 20, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Unauthorized, kSignInSentence));
        QCOMPARE(m_provider->state(), TokenProvider::State::NeedsSignIn);
        QCOMPARE(states.last().at(0).value<TokenProvider::State>(),
                 TokenProvider::State::NeedsSignIn);
        QCOMPARE(m_provider->expiresAtMs(), 0);
        // Removed from the keychain too (keychain jobs run in order: this read comes after).
        std::optional<TokenSet> tokens;
        STEP(stored(tokens));
        QVERIFY(!tokens.has_value());

        // Later calls fail fast, without another refresh.
        const Answers later = ask();
        QTRY_COMPARE_WITH_TIMEOUT(later.count(), 1, kAnswerTimeoutMs);
        QVERIFY(later.allFailWith(Error::Kind::Unauthorized, kSignInSentence));
        QCOMPARE(m_refresh.count(), 1);
    }

    void transportErrorFailsTheCallsButKeepsTheTokens()
    {
        makeProvider();
        const QByteArray refresh = secret("refresh");
        STEP(signIn(tokenSet(secret("access"), refresh, now() - 1'000)));
        Answers answers = ask(3);
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        const QString sentence = u"The authorization server https://github.com is unreachable."_qs;
        m_refresh.answer(Error::make(Error::Kind::Unreachable, sentence));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 3, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Unreachable, sentence));
        QCOMPARE(m_provider->state(), TokenProvider::State::SignedIn);
        STEP(expectStoredRefreshToken(refresh));

        // The next call tries again with the same refresh token.
        answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 2, kAnswerTimeoutMs);
        QCOMPARE(m_refresh.calls->back().refreshToken, refresh);
        const QByteArray newAccess = secret("access-new");
        m_refresh.answer(tokenSet(newAccess, QByteArray(), now() + 3'600'000));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 1, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(newAccess));
    }

    void failedEarlyRefreshStillGivesTheValidToken()
    {
        // Saved tokens expiring within the margin, read from the keychain on first use.
        makeProvider();
        const QByteArray access = secret("access");
        TokenSet saved = tokenSet(access, secret("refresh"), now() + 30'000);
        saved.issuer = kIssuer;
        saved.resource = m_provider->resource();
        std::optional<Result<void>> written;
        m_store->save(saved, [&written](Result<void> result) { written = result; });
        QTRY_VERIFY_WITH_TIMEOUT(written.has_value() && written->ok(), kAnswerTimeoutMs);
        QCOMPARE(m_provider->state(), TokenProvider::State::Unknown);

        const Answers answers = ask(2);
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        m_refresh.answer(Error::make(Error::Kind::Timeout, u"No answer."_qs));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 2, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(access));
    }

    void invalidateOfTheSameTokenTwentyTimesRefreshesOnce()
    {
        makeProvider();
        const QByteArray access = secret("access");
        STEP(signIn(tokenSet(access, secret("refresh"), now() + 3'600'000)));
        // 20 calls got a 401 with the same token, and each asks again.
        Answers answers;
        for (int i = 0; i < 20; ++i) {
            m_provider->invalidate(access);
            m_provider->accessToken(answers.callback());
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        const QByteArray newAccess = secret("access-new");
        m_refresh.answer(tokenSet(newAccess, QByteArray(), now() + 3'600'000));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 20, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(newAccess));

        // A 401 that arrives late, for the token already replaced, changes nothing.
        m_provider->invalidate(access);
        const Answers later = ask();
        QTRY_COMPARE_WITH_TIMEOUT(later.count(), 1, kAnswerTimeoutMs);
        QVERIFY(later.allAre(newAccess));
        QCOMPARE(m_refresh.count(), 1);
    }

    void invalidateDuringARefreshJoinsIt()
    {
        makeProvider();
        const QByteArray access = secret("access");
        STEP(signIn(tokenSet(access, secret("refresh"), now() - 1'000)));
        const Answers answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        m_provider->invalidate(access); // the token being replaced right now
        const QByteArray newAccess = secret("access-new");
        m_refresh.answer(tokenSet(newAccess, QByteArray(), now() + 3'600'000));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 1, kAnswerTimeoutMs);
        const Answers later = ask();
        QTRY_COMPARE_WITH_TIMEOUT(later.count(), 1, kAnswerTimeoutMs);
        QVERIFY(later.allAre(newAccess));
        QCOMPARE(m_refresh.count(), 1);
    }

    void proactiveTimerRefreshesBeforeExpiry()
    {
        makeProvider();
        const QByteArray newAccess = secret("access-new");
        const QByteArray newRefresh = secret("refresh-new");
        *m_refresh.responder = [=](const QByteArray &) -> Result<TokenSet> {
            return tokenSet(newAccess, newRefresh, now() + 3'600'000);
        };
        m_provider->setRefreshMarginMs(500);
        const qint64 expiresAt = now() + 1'500;
        STEP(signIn(tokenSet(secret("access"), secret("refresh"), expiresAt)));

        // Nobody asks: the timer refreshes, before the token expires.
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        QVERIFY2(m_refresh.calls->front().atMs < expiresAt,
                 qPrintable(QString::number(m_refresh.calls->front().atMs - expiresAt)));
        QTRY_COMPARE_WITH_TIMEOUT(m_provider->state(), TokenProvider::State::SignedIn,
                                  kAnswerTimeoutMs);
        QCOMPARE(m_provider->expiresAtMs() > expiresAt, true);
        STEP(expectStoredRefreshToken(newRefresh));
        const Answers answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 1, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(newAccess));
        QCOMPARE(m_refresh.count(), 1);
    }

    void noProactiveRefreshWithoutRefreshToken()
    {
        makeProvider();
        const qint64 expiresAt = now() + 300;
        STEP(signIn(tokenSet(secret("access"), QByteArray(), expiresAt)));
        QTRY_VERIFY_WITH_TIMEOUT(now() > expiresAt + 200, kAnswerTimeoutMs);
        QCOMPARE(m_refresh.count(), 0);
        // Expired, and nothing to refresh it with: sign in again.
        const Answers answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 1, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Unauthorized, kSignInSentence));
        QCOMPARE(m_provider->state(), TokenProvider::State::NeedsSignIn);
    }

    void nothingSavedMeansNeedsSignIn()
    {
        makeProvider();
        QCOMPARE(m_provider->state(), TokenProvider::State::Unknown);
        const Answers answers = ask(2);
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 2, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Unauthorized, kSignInSentence));
        QCOMPARE(m_provider->state(), TokenProvider::State::NeedsSignIn);
        QCOMPARE(m_refresh.count(), 0);
    }

    void signInAnswersTheCallsWaitingForIt()
    {
        makeProvider();
        STEP(signIn(tokenSet(secret("access-old"), secret("refresh-old"), now() - 1'000)));
        const Answers answers = ask(3);
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        const QByteArray access = secret("access-signed-in");
        STEP(signIn(tokenSet(access, secret("refresh-signed-in"), now() + 3'600'000)));
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 3, kAnswerTimeoutMs);
        QVERIFY(answers.allAre(access));
        // The overtaken refresh answers late: ignored.
        m_refresh.answer(tokenSet(secret("access-stale"), secret("refresh-stale"), now() + 1));
        const Answers later = ask();
        QTRY_COMPARE_WITH_TIMEOUT(later.count(), 1, kAnswerTimeoutMs);
        QVERIFY(later.allAre(access));
    }

    void signOutForgetsTheTokensEverywhere()
    {
        makeProvider();
        STEP(signIn(tokenSet(secret("access"), secret("refresh"), now() + 3'600'000)));
        std::optional<Result<void>> removed;
        m_provider->signOut([&removed](Result<void> result) { removed = result; });
        QTRY_VERIFY_WITH_TIMEOUT(removed.has_value(), kAnswerTimeoutMs);
        QVERIFY(removed->ok());
        QCOMPARE(m_provider->state(), TokenProvider::State::NeedsSignIn);
        std::optional<TokenSet> tokens;
        STEP(stored(tokens));
        QVERIFY(!tokens.has_value());
        const Answers answers = ask();
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 1, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Unauthorized, kSignInSentence));
    }

    void refreshThatNeverAnswersTimesOut()
    {
        makeProvider();
        m_provider->setRefreshTimeoutMs(300);
        STEP(signIn(tokenSet(secret("access"), secret("refresh"), now() - 1'000)));
        const Answers answers = ask(2);
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 2, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Timeout, u"did not answer a token refresh"_qs));
        QCOMPARE(m_provider->state(), TokenProvider::State::SignedIn);

        // Its answer, should it come after all, is still taken: a rotated token is not lost.
        const QByteArray newRefresh = secret("refresh-late");
        const QByteArray newAccess = secret("access-late");
        m_refresh.answer(tokenSet(newAccess, newRefresh, now() + 3'600'000));
        STEP(expectStoredRefreshToken(newRefresh));
        const Answers later = ask();
        QTRY_COMPARE_WITH_TIMEOUT(later.count(), 1, kAnswerTimeoutMs);
        QVERIFY(later.allAre(newAccess));
        QCOMPARE(m_refresh.count(), 1);
    }

    void tokensOfAnotherResourceAreRefused()
    {
        makeProvider();
        TokenSet other = tokenSet(secret("access"), secret("refresh"), now() + 3'600'000);
        other.resource = u"https://elsewhere.example.com/mcp"_qs;
        std::optional<Result<void>> saved;
        m_provider->setTokens(other, [&saved](Result<void> result) { saved = result; });
        QTRY_VERIFY_WITH_TIMEOUT(saved.has_value(), kAnswerTimeoutMs);
        QVERIFY(!saved->ok());
        QCOMPARE(saved->error().kind, Error::Kind::InvalidInput);
        QCOMPARE(m_provider->state(), TokenProvider::State::Unknown);
    }

    void destroyingTheProviderAnswersWaitingCalls()
    {
        makeProvider();
        STEP(signIn(tokenSet(secret("access"), secret("refresh"), now() - 1'000)));
        const Answers answers = ask(2);
        QTRY_COMPARE_WITH_TIMEOUT(m_refresh.count(), 1, kAnswerTimeoutMs);
        m_provider.reset();
        QTRY_COMPARE_WITH_TIMEOUT(answers.count(), 2, kAnswerTimeoutMs);
        QVERIFY(answers.allFailWith(Error::Kind::Cancelled, kServer));
        m_refresh.answer(tokenSet(secret("access-late"), QByteArray(), 0)); // no crash
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    TestTokenProvider test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_tokenprovider.moc"
