#include "oauth/TokenProvider.h"

#include "Logging.h"
#include "oauth/TokenStore.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QPointer>
#include <QTimer>

#include <openssl/crypto.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace mcpbroker::oauth {

namespace {

// QTimer takes an int; a longer wait is cut into pieces (onProactiveTimer checks again).
constexpr qint64 kMaxTimerMs = 24LL * 60 * 60 * 1000;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// Tells two tokens apart in a log line without revealing either.
QByteArray fingerprint(const QByteArray &token)
{
    if (token.isEmpty())
        return QByteArrayLiteral("none");
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex().left(8);
}

bool sameToken(const QByteArray &a, const QByteArray &b)
{
    return a.size() == b.size()
            && CRYPTO_memcmp(a.constData(), b.constData(), static_cast<size_t>(a.size())) == 0;
}

// Every answer goes through the event loop, never inside the caller's call, and also after the
// provider is gone (the callbacks do not touch it).
template<typename Callback, typename Value>
void answerLater(Callback done, Value value)
{
    QCoreApplication *application = QCoreApplication::instance();
    if (!done || !application)
        return; // no event loop any more: nobody to answer
    QMetaObject::invokeMethod(
            application, [done = std::move(done), value = std::move(value)] { done(value); },
            Qt::QueuedConnection);
}

} // namespace

// What a refresh started from: answers about tokens that were replaced meanwhile are judged by it.
struct TokenProvider::Attempt
{
    quint64 generation = 0; // setTokens(), signOut() and sign-in requirements since
    quint64 version = 0;    // any change of the tokens since, refreshes included
    quint64 number = 0;     // which refresh this is
};

struct TokenProvider::Private
{
    QString serverName;
    QString issuer;
    QString resource;
    QPointer<TokenStore> store;
    RefreshFunction refresh;
    qint64 marginMs = kDefaultRefreshMarginMs;
    int refreshTimeoutMs = kDefaultRefreshTimeoutMs;

    std::optional<TokenSet> tokens;
    qint64 lifetimeMs = 0; // how long the access token was valid when issued; 0: unknown
    State state = State::Unknown;
    bool loaded = false; // the store was read (or setTokens/signOut made it moot)
    bool loading = false;
    bool refreshing = false;   // a refresh, or saving its result, is under way: callers wait
    bool forceRefresh = false; // the upstream rejected the current access token
    quint64 generation = 0;
    quint64 version = 0;
    quint64 attempts = 0;
    std::vector<TokenCallback> waiters;
    QTimer proactive;
    QTimer refreshDeadline;
};

TokenProvider::TokenProvider(QString serverName, QString issuer, QString resource,
                             TokenStore *store, RefreshFunction refresh, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->serverName = std::move(serverName);
    d->issuer = std::move(issuer);
    d->resource = std::move(resource);
    d->store = store;
    d->refresh = std::move(refresh);
    d->proactive.setSingleShot(true);
    d->proactive.setTimerType(Qt::PreciseTimer);
    d->refreshDeadline.setSingleShot(true);
    connect(&d->proactive, &QTimer::timeout, this, &TokenProvider::onProactiveTimer);
    connect(&d->refreshDeadline, &QTimer::timeout, this, &TokenProvider::onRefreshTimedOut);
}

TokenProvider::~TokenProvider()
{
    answerAll(Error::make(
            Error::Kind::Cancelled,
            QStringLiteral("The token of server '%1' is no longer needed.").arg(d->serverName)));
    if (d->tokens)
        d->tokens->wipe();
}

void TokenProvider::setRefreshMarginMs(qint64 marginMs)
{
    d->marginMs = std::max<qint64>(0, marginMs);
    scheduleProactiveRefresh();
}

void TokenProvider::setRefreshTimeoutMs(int timeoutMs)
{
    d->refreshTimeoutMs = std::max(1, timeoutMs);
}

TokenProvider::State TokenProvider::state() const
{
    return d->state;
}

QString TokenProvider::serverName() const
{
    return d->serverName;
}

QString TokenProvider::issuer() const
{
    return d->issuer;
}

QString TokenProvider::resource() const
{
    return d->resource;
}

qint64 TokenProvider::expiresAtMs() const
{
    return d->tokens ? d->tokens->expiresAtMs : 0;
}

QStringList TokenProvider::scopes() const
{
    return d->tokens ? d->tokens->scopes : QStringList();
}

QByteArray TokenProvider::currentAccessToken() const
{
    return isUsable() && !isExpired() ? d->tokens->accessToken : QByteArray();
}

void TokenProvider::rereadKeychain()
{
    if (d->state == State::NeedsSignIn && !d->loading && !d->refreshing)
        d->loaded = false;
}

void TokenProvider::accessToken(TokenCallback done)
{
    d->waiters.push_back(std::move(done));
    proceed();
}

void TokenProvider::invalidate(const QByteArray &rejectedAccessToken)
{
    if (!d->tokens || rejectedAccessToken.isEmpty())
        return;
    if (!sameToken(rejectedAccessToken, d->tokens->accessToken)) {
        qCDebug(lcOAuth) << "Server" << d->serverName << "rejected access token"
                         << fingerprint(rejectedAccessToken) << "which is already replaced";
        return;
    }
    if (!d->forceRefresh) {
        qCInfo(lcOAuth) << "Server" << d->serverName << "rejected access token"
                        << fingerprint(rejectedAccessToken) << "; the next call refreshes it";
    }
    d->forceRefresh = true;
}

void TokenProvider::restore()
{
    if (!d->loaded)
        startLoad();
}

void TokenProvider::setTokens(TokenSet tokens, DoneCallback saved)
{
    const auto refuse = [&](const QString &why) {
        tokens.wipe();
        answerLater(std::move(saved),
                    Result<void>(Error::make(Error::Kind::InvalidInput,
                                             QStringLiteral("The sign-in to server '%1' cannot "
                                                            "be used: %2.")
                                                     .arg(d->serverName, why))));
    };
    if ((!tokens.issuer.isEmpty() && tokens.issuer != d->issuer)
        || (!tokens.resource.isEmpty() && tokens.resource != d->resource))
        return refuse(QStringLiteral("its tokens are for another server"));
    if (tokens.accessToken.isEmpty() && tokens.refreshToken.isEmpty())
        return refuse(QStringLiteral("it gave no token"));

    tokens.issuer = d->issuer;
    tokens.resource = d->resource;
    const qint64 now = nowMs();
    const qint64 lifetime = tokens.expiresAtMs > now ? tokens.expiresAtMs - now : 0;
    ++d->generation; // a refresh or a keychain read under way is about older tokens
    d->loaded = true;
    d->refreshing = false;
    d->refreshDeadline.stop();
    adopt(std::move(tokens), lifetime);
    qCInfo(lcOAuth) << "Signed in to server" << d->serverName << "(access token"
                    << fingerprint(d->tokens->accessToken) << ")";
    setState(State::SignedIn);
    scheduleProactiveRefresh();
    if (d->store) {
        const QString name = d->serverName;
        d->store->save(*d->tokens, [name, saved](Result<void> result) {
            if (!result)
                qCWarning(lcOAuth) << "The tokens of server" << name
                                   << "are not saved:" << result.error().message;
            if (saved)
                saved(result);
        });
    }
    proceed();
}

void TokenProvider::signOut(DoneCallback removed)
{
    qCInfo(lcOAuth) << "Signing out of server" << d->serverName;
    ++d->generation;
    forget();
    answerAll(needsSignInError());
    if (d->store)
        d->store->remove(d->issuer, d->resource, std::move(removed));
    else
        answerLater(std::move(removed), Result<void>());
}

// Decides for every waiting call: answer now, read the keychain, or refresh.
void TokenProvider::proceed()
{
    if (d->waiters.empty())
        return;
    if (!d->loaded)
        return startLoad();
    if (d->refreshing)
        return; // its answer serves them
    if (!d->tokens)
        return answerAll(needsSignInError());
    if (isUsable() && !isExpiring())
        return answerAll(d->tokens->accessToken);
    if (d->tokens->refreshToken.isEmpty()) {
        if (isUsable() && !isExpired())
            return answerAll(d->tokens->accessToken); // expiring, but still valid
        return requireSignIn(QStringLiteral("the access token is no longer valid and there is "
                                            "no refresh token"));
    }
    startRefresh();
}

void TokenProvider::startLoad()
{
    if (d->loading)
        return;
    if (!d->store) {
        answerAll(Error::make(Error::Kind::KeychainUnavailable,
                              QStringLiteral("The tokens of server '%1' cannot be read: MCP "
                                             "Broker has no keychain. Restart it and try again.")
                                      .arg(d->serverName)));
        return;
    }
    d->loading = true;
    const quint64 generation = d->generation;
    QPointer<TokenProvider> self(this);
    d->store->load(d->issuer, d->resource, [self, generation](Result<TokenSet> loaded) {
        if (self)
            self->onLoaded(generation, std::move(loaded));
    });
}

void TokenProvider::onLoaded(quint64 generation, Result<TokenSet> loaded)
{
    d->loading = false;
    if (generation != d->generation) {
        // setTokens() or signOut() came first and decided; drop what was read.
        if (loaded)
            loaded.value().wipe();
        return proceed();
    }
    if (loaded) {
        d->loaded = true;
        adopt(std::move(loaded).value(), 0);
        qCDebug(lcOAuth) << "Read the tokens of server" << d->serverName << "(access token"
                         << fingerprint(d->tokens->accessToken) << ")";
        setState(State::SignedIn);
        scheduleProactiveRefresh();
        return proceed();
    }
    const Error &error = loaded.error();
    if (error.kind == Error::Kind::NotFound || error.kind == Error::Kind::InvalidInput) {
        // Nothing (usable) saved: only a sign-in helps. A damaged entry is replaced by it.
        if (error.kind == Error::Kind::InvalidInput)
            qCWarning(lcOAuth) << "Server" << d->serverName << ":" << error.message;
        d->loaded = true;
        setState(State::NeedsSignIn);
        return answerAll(needsSignInError());
    }
    // The keychain is locked or gone: say so, and read it again on the next call.
    answerAll(error);
}

void TokenProvider::startRefresh()
{
    d->refreshing = true;
    d->proactive.stop();
    d->refreshDeadline.start(d->refreshTimeoutMs);
    setState(State::Refreshing);
    const Attempt attempt{d->generation, d->version, ++d->attempts};
    qCInfo(lcOAuth) << "Refreshing the access token of server" << d->serverName
                    << "with refresh token" << fingerprint(d->tokens->refreshToken);

    auto answered = std::make_shared<bool>(false);
    QPointer<TokenProvider> self(this);
    const QByteArray refreshToken = d->tokens->refreshToken;
    // Last thing here: the function may answer at once, and the answer may start anything.
    d->refresh(refreshToken, [self, attempt, answered](Result<TokenSet> refreshed) {
        if (std::exchange(*answered, true) || !self)
            return; // a second answer, or nobody left to take it
        self->onRefreshed(attempt, std::move(refreshed));
    });
}

void TokenProvider::onRefreshed(const Attempt &attempt, Result<TokenSet> refreshed)
{
    if (attempt.generation != d->generation) {
        // Signed out or signed in again meanwhile: this refresh is about tokens we dropped.
        qCDebug(lcOAuth) << "Dropping a refresh of server" << d->serverName << "that was overtaken";
        if (refreshed)
            refreshed.value().wipe();
        return;
    }
    const bool current = d->refreshing && attempt.number == d->attempts;
    if (current)
        d->refreshDeadline.stop();

    if (refreshed && refreshed.value().accessToken.isEmpty()) {
        refreshed.value().wipe();
        refreshed = Error::make(Error::Kind::Protocol,
                                QStringLiteral("The authorization server of '%1' answered a "
                                               "token refresh without an access token.")
                                        .arg(d->serverName));
    }
    if (!refreshed) {
        const Error &error = refreshed.error();
        if (!current)
            return; // an abandoned attempt: nobody waits for it any more
        d->refreshing = false;
        if (error.kind == Error::Kind::Unauthorized && attempt.version == d->version) {
            qCInfo(lcOAuth) << "Server" << d->serverName
                            << "refused the refresh token:" << error.message;
            return requireSignIn(QStringLiteral("the authorization server refused the refresh "
                                                "token"));
        }
        if (error.kind == Error::Kind::Unauthorized) {
            // It refused a refresh token that a late answer has replaced meanwhile.
            setState(State::SignedIn);
            return proceed();
        }
        qCWarning(lcOAuth) << "Refreshing the access token of server" << d->serverName
                           << "failed:" << error.message;
        setState(State::SignedIn);
        scheduleProactiveRefresh();
        return failKeepingTokens(error);
    }

    TokenSet next = std::move(refreshed).value();
    next.issuer = d->issuer;
    next.resource = d->resource;
    const bool rotated = !next.refreshToken.isEmpty()
            && !sameToken(next.refreshToken, d->tokens->refreshToken);
    if (next.refreshToken.isEmpty())
        next.refreshToken = d->tokens->refreshToken; // RFC 6749 §6: the old one stays valid
    if (next.scopes.isEmpty())
        next.scopes = d->tokens->scopes; // RFC 6749 §5.1: omitted means as granted before
    const qint64 now = nowMs();
    const qint64 lifetime = next.expiresAtMs > now ? next.expiresAtMs - now : 0;
    adopt(std::move(next), lifetime);
    d->forceRefresh = false;
    qCInfo(lcOAuth) << "Refreshed the access token of server" << d->serverName << "(access token"
                    << fingerprint(d->tokens->accessToken) << ", refresh token"
                    << (rotated ? "rotated to" : "kept:") << fingerprint(d->tokens->refreshToken)
                    << ")";

    if (!d->store) {
        if (current)
            onRefreshSaved(d->generation, Result<void>());
        return;
    }
    // Saved before anyone gets the new access token: with rotation the old refresh token is
    // spent, and the new one must not live only in memory. Callers keep waiting meanwhile.
    const quint64 generation = d->generation;
    const QString name = d->serverName;
    QPointer<TokenProvider> self(this);
    d->store->save(*d->tokens, [self, generation, current, name](Result<void> saved) {
        if (!saved)
            qCWarning(lcOAuth) << "The refreshed tokens of server" << name
                               << "are not saved:" << saved.error().message;
        if (self && current)
            self->onRefreshSaved(generation, saved);
    });
    if (!current && !d->refreshing) {
        // A late answer of an abandoned attempt: nobody waits, the tokens are simply newer.
        setState(State::SignedIn);
        scheduleProactiveRefresh();
    }
}

void TokenProvider::onRefreshSaved(quint64 generation, const Result<void> &saved)
{
    Q_UNUSED(saved); // logged by the caller; the new tokens work either way
    if (generation != d->generation || !d->tokens)
        return; // signed out or in meanwhile; those answered the waiting calls
    d->refreshing = false;
    setState(State::SignedIn);
    scheduleProactiveRefresh();
    // The fresh token, even if its lifetime is shorter than the margin: it is the best there is.
    answerAll(d->tokens->accessToken);
}

void TokenProvider::onRefreshTimedOut()
{
    if (!d->refreshing)
        return;
    // The attempt is abandoned; should it answer after all, its tokens are still taken.
    d->refreshing = false;
    qCWarning(lcOAuth) << "The token refresh of server" << d->serverName << "did not finish within"
                       << d->refreshTimeoutMs << "ms";
    setState(State::SignedIn);
    failKeepingTokens(Error::make(
            Error::Kind::Timeout,
            QStringLiteral("The authorization server of '%1' did not answer a token refresh "
                           "within %2 seconds. Try again later.")
                    .arg(d->serverName)
                    .arg((d->refreshTimeoutMs + 999) / 1000)));
}

void TokenProvider::onProactiveTimer()
{
    if (d->refreshing || !d->tokens || d->tokens->refreshToken.isEmpty())
        return;
    if (!isExpiring())
        return scheduleProactiveRefresh(); // woke early, or a long wait cut into pieces
    qCDebug(lcOAuth) << "The access token of server" << d->serverName << "expires soon";
    startRefresh();
}

void TokenProvider::adopt(TokenSet tokens, qint64 lifetimeMs)
{
    if (d->tokens)
        d->tokens->wipe(); // copies handed out or still being saved keep their bytes
    d->tokens = std::move(tokens);
    d->lifetimeMs = lifetimeMs;
    ++d->version;
    Q_EMIT tokensChanged();
}

void TokenProvider::forget()
{
    if (d->tokens)
        d->tokens->wipe();
    d->tokens.reset();
    d->lifetimeMs = 0;
    ++d->version;
    Q_EMIT tokensChanged();
    d->loaded = true;
    d->refreshing = false;
    d->forceRefresh = false;
    d->proactive.stop();
    d->refreshDeadline.stop();
    setState(State::NeedsSignIn);
}

void TokenProvider::requireSignIn(const QString &why)
{
    qCInfo(lcOAuth) << "Server" << d->serverName << "needs sign-in:" << why;
    ++d->generation;
    forget();
    answerAll(needsSignInError());
    if (!d->store)
        return;
    const QString name = d->serverName;
    d->store->remove(d->issuer, d->resource, [name](Result<void> removed) {
        if (!removed)
            qCWarning(lcOAuth) << "The dead tokens of server" << name
                               << "are still in the keychain:" << removed.error().message;
    });
}

// A refresh failed for a reason that may pass (network, timeout): the tokens stay. Calls get
// the access token while it is still valid (the refresh was early), else the error.
void TokenProvider::failKeepingTokens(const Error &error)
{
    if (isUsable() && !isExpired())
        return answerAll(d->tokens->accessToken);
    answerAll(error);
}

void TokenProvider::answerAll(const Result<QByteArray> &result)
{
    for (TokenCallback &done : std::exchange(d->waiters, {}))
        answerLater(std::move(done), result);
}

void TokenProvider::setState(State state)
{
    if (d->state == state)
        return;
    d->state = state;
    Q_EMIT stateChanged(state);
}

void TokenProvider::scheduleProactiveRefresh()
{
    d->proactive.stop();
    if (d->refreshing || !d->tokens || d->tokens->refreshToken.isEmpty()
        || d->tokens->expiresAtMs <= 0)
        return;
    const qint64 wait = d->tokens->expiresAtMs - refreshMarginMs() - nowMs();
    // Already due: the next call refreshes. (No timer: a refresh that just failed is not
    // retried in a loop.)
    if (wait <= 0)
        return;
    d->proactive.start(static_cast<int>(std::min(wait, kMaxTimerMs)));
}

bool TokenProvider::isUsable() const
{
    return d->tokens && !d->tokens->accessToken.isEmpty() && !d->forceRefresh;
}

bool TokenProvider::isExpiring() const
{
    if (!d->tokens || d->tokens->expiresAtMs <= 0)
        return false; // no expiry given: valid until the upstream says otherwise
    return nowMs() >= d->tokens->expiresAtMs - refreshMarginMs();
}

// The margin, but at most half the token's lifetime: a token issued for 30 seconds is not
// refreshed on every call.
qint64 TokenProvider::refreshMarginMs() const
{
    return d->lifetimeMs > 0 ? std::min(d->marginMs, d->lifetimeMs / 2) : d->marginMs;
}

bool TokenProvider::isExpired() const
{
    return d->tokens && d->tokens->expiresAtMs > 0 && nowMs() >= d->tokens->expiresAtMs;
}

Error TokenProvider::needsSignInError() const
{
    return Error::make(Error::Kind::Unauthorized,
                       QStringLiteral("Server '%1' needs sign-in: run `mcp-broker login %1` or "
                                      "click the MCP Broker icon in the tray.")
                               .arg(d->serverName));
}

} // namespace mcpbroker::oauth
