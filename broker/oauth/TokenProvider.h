#pragma once

#include "Result.h"
#include "oauth/TokenSet.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace mcpbroker::oauth {

class TokenStore;

// The access token of one upstream, i.e. one (issuer, resource), for every call that needs it.
// Holds the current TokenSet in memory (read from the TokenStore on first use) and refreshes it
// before it expires and after the upstream rejected it; a refresh is single-flight: however
// many calls ask meanwhile, the refresh function runs once and they all get its answer. A
// rotated refresh token is saved to the TokenStore before any caller gets the new access
// token, so a crash never leaves only the spent one in the keychain. When the authorization
// server refuses the refresh (invalid_grant and friends: Unauthorized) the tokens are
// forgotten, the state becomes NeedsSignIn and calls fail at once with a sentence telling
// the user how to sign in; trouble reaching the server fails the waiting calls but keeps the
// tokens for the next try.
class TokenProvider : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Unknown,     // the keychain has not been read yet (see restore())
        SignedIn,    // tokens in memory
        Refreshing,  // a refresh is under way
        NeedsSignIn, // no usable tokens: the user must sign in
    };
    Q_ENUM(State)

    using TokenCallback = std::function<void(Result<QByteArray>)>;
    using DoneCallback = std::function<void(Result<void>)>;
    // Refreshes with `refreshToken` (grant_type=refresh_token for this resource) and answers
    // exactly once. A TokenSet without a refresh token keeps the old one; issuer and resource
    // may be left empty. Errors: Unauthorized when the server refused the grant; anything else
    // (Unreachable, Timeout, Protocol…) keeps the tokens.
    using RefreshFunction = std::function<void(const QByteArray &refreshToken,
                                               std::function<void(Result<TokenSet>)> done)>;

    static constexpr qint64 kDefaultRefreshMarginMs = 60'000;
    static constexpr int kDefaultRefreshTimeoutMs = 90'000;

    // `serverName` is the name the user gave the server (in messages); `store` must outlive
    // the provider.
    TokenProvider(QString serverName, QString issuer, QString resource, TokenStore *store,
                  RefreshFunction refresh, QObject *parent = nullptr);
    // Waiting calls get a Cancelled error.
    ~TokenProvider() override;

    // Refresh this long before the access token expires (at most half its lifetime).
    void setRefreshMarginMs(qint64 marginMs);
    // A backstop for a refresh function that never answers: waiting calls then get Timeout.
    void setRefreshTimeoutMs(int timeoutMs);

    // A valid access token, answered exactly once on the event loop, never inside the call.
    void accessToken(TokenCallback done);
    // The upstream rejected `rejectedAccessToken` (HTTP 401): the next accessToken() refreshes,
    // unless that token has been replaced already (by a refresh another 401 caused).
    void invalidate(const QByteArray &rejectedAccessToken);
    // Reads the keychain now rather than on the first accessToken(), to know the state.
    void restore();
    // The tokens of a sign-in: in use at once (waiting calls get them), saved to the store.
    // Tokens of another issuer or resource are refused with InvalidInput.
    void setTokens(TokenSet tokens, DoneCallback saved = {});
    // Forgets the tokens, in memory and in the store; waiting calls fail. (Revoking them at
    // the authorization server is the caller's business, before this.)
    void signOut(DoneCallback removed = {});

    State state() const;
    QString serverName() const;
    QString issuer() const;
    QString resource() const;
    // When the access token expires (ms since the epoch); 0 when unknown or signed out.
    qint64 expiresAtMs() const;
    // The scopes the tokens were granted; empty when signed out or the server did not say.
    QStringList scopes() const;
    // The access token when one is in memory and neither expired nor rejected; else empty.
    // For a request that must be built now; accessToken() is the way to get a fresh one.
    QByteArray currentAccessToken() const;
    // Signed out here, but another process (`mcp-broker login`) may have signed in since: the
    // next accessToken() reads the keychain again.
    void rereadKeychain();

Q_SIGNALS:
    void stateChanged(mcpbroker::oauth::TokenProvider::State state);
    // The access token changed (sign-in, refresh, sign-out, read from the keychain).
    void tokensChanged();

private:
    struct Attempt;

    void proceed();
    void startLoad();
    void onLoaded(quint64 generation, Result<TokenSet> loaded);
    void startRefresh();
    void onRefreshed(const Attempt &attempt, Result<TokenSet> refreshed);
    void onRefreshSaved(quint64 generation, const Result<void> &saved);
    void onRefreshTimedOut();
    void onProactiveTimer();
    void adopt(TokenSet tokens, qint64 lifetimeMs);
    void forget();
    void requireSignIn(const QString &why);
    void failKeepingTokens(const Error &error);
    void answerAll(const Result<QByteArray> &result);
    void setState(State state);
    void scheduleProactiveRefresh();
    bool isUsable() const;
    bool isExpiring() const;
    bool isExpired() const;
    qint64 refreshMarginMs() const;
    Error needsSignInError() const;

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
