#include "oauth/UpstreamAuthorization.h"

#include "AnswerLater.h"
#include "Logging.h"
#include "mcp/ProtocolVersion.h"
#include "oauth/AuthorizationCodeFlow.h"
#include "oauth/BrowserLauncher.h"
#include "oauth/ClientIdentity.h"
#include "oauth/HttpExchange.h"
#include "oauth/ProtectedResourceMetadata.h"
#include "oauth/TokenRequest.h"
#include "oauth/TokenRevocation.h"
#include "oauth/TokenStore.h"
#include "oauth/WwwAuthenticate.h"
#include "store/SecretStore.h"

#include <QCoreApplication>

#include <nlohmann/json.hpp>

namespace mcpbroker::oauth {

namespace {

const QByteArray kBearerPrefix = QByteArrayLiteral("Bearer ");

std::optional<BearerChallenge> bearerChallenge(const QByteArray &header)
{
    if (header.isEmpty())
        return std::nullopt;
    auto challenge = WwwAuthenticate::bearer(header);
    if (!challenge)
        return std::nullopt;
    return challenge.value();
}

QStringList unite(QStringList scopes, const QStringList &more)
{
    for (const QString &scope : more) {
        if (!scope.isEmpty() && !scopes.contains(scope))
            scopes.append(scope);
    }
    return scopes;
}

bool sameScopes(QStringList a, QStringList b)
{
    a.sort();
    b.sort();
    return a == b;
}

} // namespace

UpstreamAuthorization::UpstreamAuthorization(store::ServerConfig server,
                                             QNetworkAccessManager *network,
                                             store::SecretStore *secrets, BrowserLauncher *browser,
                                             QObject *parent)
    : QObject(parent), m_server(std::move(server)), m_network(network), m_secrets(secrets),
      m_browser(browser), m_tokenStore(new TokenStore(secrets, this)),
      m_identity(new ClientIdentity(m_server.name, m_server.oauth, secrets, network, this))
{ }

UpstreamAuthorization::~UpstreamAuthorization()
{
    delete m_flow;
    delete m_discovery;
}

// --- requests --------------------------------------------------------------------------------

void UpstreamAuthorization::whenReady(std::function<void()> ready)
{
    // Without tokens a request goes out bare: its 401 starts discovery or names the sign-in.
    if (!m_provider || !m_provider->currentAccessToken().isEmpty()
        || m_provider->state() == TokenProvider::State::NeedsSignIn)
        return ready();
    QPointer<UpstreamAuthorization> self(this);
    m_provider->accessToken([self, ready = std::move(ready)](const Result<QByteArray> &) {
        if (self)
            ready(); // a failure is the 401's to report, as for a request without tokens
    });
}

QByteArray UpstreamAuthorization::authorization() const
{
    const QByteArray token = m_provider ? m_provider->currentAccessToken() : QByteArray();
    return token.isEmpty() ? QByteArray() : kBearerPrefix + token;
}

void UpstreamAuthorization::recover(int status, const QByteArray &wwwAuthenticate,
                                    const QByteArray &usedAuthorization, DoneCallback done)
{
    const std::optional<BearerChallenge> challenge = bearerChallenge(wwwAuthenticate);
    if (challenge && !challenge->scope.isEmpty())
        m_challengeScopes = challenge->scopes();

    if (status == 403) {
        if (challenge && challenge->error == QLatin1String("insufficient_scope"))
            return stepUp(challenge->scopes(), std::move(done));
        return answerLater(this, std::move(done),
                           Result<void>(Error::make(
                                   Error::Kind::Unauthorized,
                                   QStringLiteral("Server '%1' refused access (HTTP 403) although "
                                                  "MCP Broker is signed in to it.")
                                           .arg(m_server.name))));
    }

    const QByteArray usedToken = usedAuthorization.startsWith(kBearerPrefix)
            ? usedAuthorization.mid(kBearerPrefix.size())
            : QByteArray();
    QPointer<UpstreamAuthorization> self(this);
    auto renew = [self, usedToken, done](Result<void> ready) {
        if (!self)
            return;
        if (!ready)
            return done(ready);
        if (!self->m_provider)
            return done(self->signInNeededError());
        if (!usedToken.isEmpty())
            self->m_provider->invalidate(usedToken);
        else
            self->m_provider->rereadKeychain();
        self->currentToken(done);
    };
    restore([self, challenge, renew](Result<void>) {
        if (!self)
            return;
        if (self->m_discovered)
            return renew(Result<void>());
        // Once per run the challenge is followed: the server may have moved to another
        // authorization server since the sign-in the keychain remembers. When discovery fails
        // (the authorization server is down), the remembered one is still worth a try.
        const bool remembered = bool(self->m_provider);
        self->discover(challenge, [self, remembered, renew](Result<void> discovered) {
            if (self && !discovered && remembered && self->m_provider)
                return renew(Result<void>());
            renew(discovered);
        });
    });
}

void UpstreamAuthorization::currentToken(DoneCallback done)
{
    if (!m_provider)
        return answerLater(this, std::move(done), Result<void>(signInNeededError()));
    QPointer<UpstreamAuthorization> self(this);
    m_provider->accessToken([self, done](Result<QByteArray> token) {
        if (!self)
            return;
        if (token)
            return done(Result<void>());
        // A machine-to-machine client signs in by itself: no person is needed for that.
        if (token.error().kind == Error::Kind::Unauthorized
            && self->m_server.oauth.clientCredentials)
            return self->signIn(done);
        done(token.error());
    });
}

// MCP 2025-11-25 step-up: sign in again asking for what was granted plus what the server now
// wants; if the server still refuses the same scopes after that, stop.
void UpstreamAuthorization::stepUp(const QStringList &wanted, DoneCallback done)
{
    const QStringList granted = m_provider ? m_provider->scopes() : QStringList();
    if (!wanted.isEmpty() && unite(granted, wanted).size() == granted.size()) {
        // It asks for scopes the token has: signing in again cannot help.
        return answerLater(this, std::move(done),
                           Result<void>(Error::make(
                                   Error::Kind::Unauthorized,
                                   QStringLiteral("Server '%1' refuses the call although "
                                                  "the broker holds the scopes it asks for "
                                                  "(%2).")
                                           .arg(m_server.name, wanted.join(QLatin1Char(' '))))));
    }
    const QStringList scopes = unite(unite(granted, m_signInScopes), wanted);
    if (!m_failedStepUp.isEmpty() && sameScopes(scopes, m_failedStepUp)) {
        return answerLater(this, std::move(done),
                           Result<void>(Error::make(
                                   Error::Kind::Unauthorized,
                                   QStringLiteral("Server '%1' still refuses the call after "
                                                  "signing in again with the scopes it asked "
                                                  "for (%2).")
                                           .arg(m_server.name, scopes.join(QLatin1Char(' '))))));
    }
    qCInfo(lcOAuth).noquote() << "Server" << m_server.name << "needs more scopes; signing in for"
                              << scopes.join(QLatin1Char(' '));
    m_signInScopes = scopes;
    QPointer<UpstreamAuthorization> self(this);
    signIn([self, scopes, done](Result<void> signedIn) {
        if (self && signedIn)
            self->m_failedStepUp = scopes;
        done(signedIn);
    });
}

// --- the keychain ----------------------------------------------------------------------------

void UpstreamAuthorization::restore(DoneCallback done)
{
    QPointer<UpstreamAuthorization> self(this);
    loadRecord([self, done](Result<void> loaded) {
        if (!self)
            return;
        if (!loaded)
            return done(loaded);
        self->currentToken(done);
    });
}

// Reads the sign-in record from the keychain, once per run (again after a keychain error).
void UpstreamAuthorization::loadRecord(DoneCallback done)
{
    if (m_restored)
        return answerLater(this, std::move(done), Result<void>());
    m_restoreWaiters.push_back(std::move(done));
    if (m_restoreWaiters.size() > 1)
        return;
    if (!m_secrets) {
        m_restored = true;
        return answerAll(m_restoreWaiters, Result<void>());
    }
    QPointer<UpstreamAuthorization> self(this);
    m_secrets->read(store::SecretKeys::oauthSession(m_server.name),
                    [self](Result<QByteArray> entry) {
                        if (!self)
                            return;
                        if (!entry && entry.error().kind != Error::Kind::NotFound) {
                            // Locked or gone: say so, and read again next time.
                            return answerAll(self->m_restoreWaiters, entry.error());
                        }
                        self->m_restored = true;
                        if (entry) {
                            if (auto record = SignInRecord::fromJson(entry.value()))
                                self->adoptRecord(std::move(record).value());
                        }
                        self->emitState();
                        answerAll(self->m_restoreWaiters, Result<void>());
                    });
}

void UpstreamAuthorization::adoptRecord(SignInRecord record)
{
    const bool same = m_record && m_record->server.issuer == record.server.issuer
            && m_record->resource == record.resource;
    m_record = std::move(record);
    if (same && m_provider)
        return;
    QPointer<UpstreamAuthorization> self(this);
    m_provider = std::make_unique<TokenProvider>(
            m_server.name, m_record->server.issuer, m_record->resource, m_tokenStore,
            [self](const QByteArray &refreshToken, std::function<void(Result<TokenSet>)> done) {
                if (self)
                    self->refresh(refreshToken, std::move(done));
            });
    connect(m_provider.get(), &TokenProvider::stateChanged, this,
            &UpstreamAuthorization::emitState);
}

void UpstreamAuthorization::saveRecord()
{
    if (!m_secrets || !m_record)
        return;
    const QString name = m_server.name;
    m_secrets->write(store::SecretKeys::oauthSession(name), m_record->toJson(),
                     [name](Result<void> saved) {
                         if (!saved)
                             qCWarning(lcOAuth).noquote()
                                     << "Where server" << name
                                     << "was signed in is not kept:" << saved.error().message;
                     });
}

void UpstreamAuthorization::refresh(const QByteArray &refreshToken,
                                    std::function<void(Result<TokenSet>)> done)
{
    if (!m_secrets)
        return refreshAs(refreshToken, std::move(done));
    // `mcp-broker logout` in another process removes the record: then this one is signed out
    // too, rather than writing refreshed tokens back that nothing points to.
    QPointer<UpstreamAuthorization> self(this);
    m_secrets->read(store::SecretKeys::oauthSession(m_server.name),
                    [self, refreshToken, done](Result<QByteArray> entry) {
                        if (!self)
                            return;
                        if (!entry && entry.error().kind == Error::Kind::NotFound)
                            return done(Error::make(Error::Kind::Unauthorized,
                                                    QStringLiteral("Server '%1' was signed out.")
                                                            .arg(self->m_server.name)));
                        self->refreshAs(refreshToken, done);
                    });
}

void UpstreamAuthorization::refreshAs(const QByteArray &refreshToken,
                                      std::function<void(Result<TokenSet>)> done)
{
    requestTokens([refreshToken](TokenRequest &request,
                                 const QUrl &resource) { request.refresh(refreshToken, resource); },
                  [done](Result<TokenSet> tokens) {
                      // No client to refresh as (its registration is gone): only a sign-in helps.
                      if (!tokens && tokens.error().kind == Error::Kind::NotFound) {
                          Error error = tokens.error();
                          error.kind = Error::Kind::Unauthorized;
                          return done(error);
                      }
                      done(std::move(tokens));
                  });
}

// One token request as the client ClientIdentity names, at the remembered token endpoint, for
// the remembered resource; `grant` says which grant it sends.
void UpstreamAuthorization::requestTokens(
        std::function<void(TokenRequest &request, const QUrl &resource)> grant,
        std::function<void(Result<TokenSet>)> done)
{
    const SignInRecord record = *m_record;
    QPointer<UpstreamAuthorization> self(this);
    m_identity->current(
            record.server, [self, record, grant, done](Result<ClientIdentity::Identity> identity) {
                if (!self)
                    return;
                if (!identity)
                    return done(identity.error());
                auto *request = new TokenRequest(self->m_network, record.server.tokenEndpoint,
                                                 identity.value().client,
                                                 TokenRequest::kDefaultTimeoutMs, self.data());
                connect(request, &TokenRequest::finished, self.data(),
                        [request, record, done](const Result<TokenResponse> &answer) {
                            request->deleteLater();
                            if (!answer)
                                return done(answer.error());
                            TokenResponse response = answer.value();
                            done(response.takeTokenSet(record.server.issuer, record.resource));
                        });
                grant(*request, QUrl(record.resource));
            });
}

// --- discovery -------------------------------------------------------------------------------

void UpstreamAuthorization::discover(const std::optional<BearerChallenge> &challenge,
                                     DoneCallback done)
{
    m_discoveryWaiters.push_back(std::move(done));
    if (m_discovery)
        return;
    m_discovery = new AuthorizationDiscovery(m_network, AuthorizationDiscovery::kDefaultTimeoutMs,
                                             this);
    m_discovery->setAuthorizationCodeRequired(!m_server.oauth.clientCredentials);
    connect(m_discovery, &AuthorizationDiscovery::finished, this,
            &UpstreamAuthorization::onDiscovered);
    m_discovery->start(m_server.url, challenge);
}

// What a client learns from its first request without a token: the challenge of the 401.
void UpstreamAuthorization::probeForChallenge(DoneCallback done)
{
    auto *probe = new HttpExchange(m_network,
                                   QStringLiteral("the MCP server %1")
                                           .arg(m_server.url.toDisplayString(QUrl::RemoveQuery)),
                                   AuthorizationDiscovery::kDefaultTimeoutMs, this);
    const nlohmann::json initialize
            = {{"jsonrpc", "2.0"},
               {"id", 1},
               {"method", "initialize"},
               {"params",
                {{"protocolVersion", mcp::ProtocolVersion::kLatest.toStdString()},
                 {"capabilities", nlohmann::json::object()},
                 {"clientInfo", {{"name", "mcp-broker"}, {"version", MCPB_VERSION}}}}}};
    QPointer<UpstreamAuthorization> self(this);
    connect(probe, &HttpExchange::finished, this,
            [self, probe, done](const Result<HttpExchange::Answer> &answer) {
                probe->deleteLater();
                if (!self)
                    return;
                if (!answer)
                    return done(answer.error());
                std::optional<BearerChallenge> challenge;
                if (answer.value().status == 401 || answer.value().status == 403)
                    challenge = bearerChallenge(answer.value().wwwAuthenticate);
                if (challenge && !challenge->scope.isEmpty())
                    self->m_challengeScopes = challenge->scopes();
                self->discover(challenge, done);
            });
    probe->postJson(m_server.url, QByteArray::fromStdString(initialize.dump()),
                    {{"Accept", "application/json, text/event-stream"}});
}

void UpstreamAuthorization::onDiscovered(const Result<Discovered> &discovered)
{
    m_discovery->deleteLater();
    m_discovery = nullptr;
    if (discovered) {
        m_discovered = discovered.value();
        SignInRecord record;
        record.server = m_discovered->server;
        const QUrl resource
                = m_discovered->resource ? m_discovered->resource->resource : m_server.url;
        record.resource = ProtectedResourceMetadata::canonicalResource(resource).toString(
                QUrl::FullyEncoded);
        adoptRecord(std::move(record));
        emitState();
    } else {
        qCWarning(lcOAuth).noquote()
                << "Server" << m_server.name << "- discovery failed:" << discovered.error().message;
    }
    answerAll(m_discoveryWaiters, discovered ? Result<void>() : Result<void>(discovered.error()));
}

// --- sign-in ---------------------------------------------------------------------------------

void UpstreamAuthorization::signIn(DoneCallback done)
{
    m_signInWaiters.push_back(std::move(done));
    if (m_signingIn)
        return;
    m_signingIn = true;
    m_lastError.clear();
    emitState();
    // Fresh metadata for every sign-in: the server may have moved to another authorization
    // server since the last one.
    QPointer<UpstreamAuthorization> self(this);
    auto proceed = [self](Result<void> discovered) {
        if (!self)
            return;
        if (!discovered)
            return self->onSignedIn(discovered.error());
        self->startSignIn();
    };
    if (m_discovered)
        return proceed(Result<void>());
    probeForChallenge(proceed);
}

QStringList UpstreamAuthorization::signInScopes() const
{
    QStringList scopes;
    if (!m_signInScopes.isEmpty())
        scopes = m_signInScopes;
    else if (!m_server.oauth.scopes.isEmpty())
        scopes = m_server.oauth.scopes;
    else if (!m_challengeScopes.isEmpty())
        scopes = m_challengeScopes;
    else if (m_discovered)
        scopes = m_discovered->scopes;
    // SEP-2207: ask for a refresh token where the authorization server says how, so the user
    // is not sent back to the browser when the access token expires.
    static const QString offlineAccess = QStringLiteral("offline_access");
    if (!m_server.oauth.clientCredentials && m_record
        && m_record->server.scopesSupported.contains(offlineAccess)
        && !scopes.contains(offlineAccess))
        scopes.append(offlineAccess);
    return scopes;
}

void UpstreamAuthorization::startSignIn()
{
    if (m_server.oauth.clientCredentials)
        signInWithClientCredentials();
    else
        signInWithBrowser();
}

void UpstreamAuthorization::signInWithClientCredentials()
{
    const QStringList scopes = signInScopes();
    QPointer<UpstreamAuthorization> self(this);
    requestTokens(
            [scopes](TokenRequest &request, const QUrl &resource) {
                request.requestClientCredentials(scopes, resource);
            },
            [self](Result<TokenSet> tokens) {
                if (self)
                    self->onSignedIn(std::move(tokens));
            });
}

void UpstreamAuthorization::signInWithBrowser()
{
    m_flow = new AuthorizationCodeFlow(m_network, m_identity, m_browser, this);
    connect(m_flow, &AuthorizationCodeFlow::authorizationUrlReady, this,
            &UpstreamAuthorization::signInUrlReady);
    connect(m_flow, &AuthorizationCodeFlow::finished, this,
            [this](const Result<TokenSet> &tokens) { onSignedIn(tokens); });
    AuthorizationCodeFlow::Request request;
    request.serverName = m_server.name;
    request.server = m_record->server;
    request.resource = QUrl(m_record->resource);
    request.scopes = signInScopes();
    m_flow->start(request);
}

void UpstreamAuthorization::onSignedIn(Result<TokenSet> tokens)
{
    if (m_flow) {
        m_flow->deleteLater();
        m_flow = nullptr;
    }
    m_signingIn = false;
    if (!tokens) {
        m_lastError = tokens.error().message;
        qCWarning(lcOAuth).noquote()
                << "Sign-in to server" << m_server.name << "failed:" << m_lastError;
        m_signInScopes.clear();
        emitState();
        return answerAll(m_signInWaiters, tokens.error());
    }
    m_signInScopes.clear();
    m_failedStepUp.clear();
    saveRecord();
    QPointer<UpstreamAuthorization> self(this);
    m_provider->setTokens(std::move(tokens).value(), [self](Result<void> saved) {
        if (!self)
            return;
        self->emitState();
        // Tokens that could not be kept still work until the broker stops: the call goes on.
        Q_UNUSED(saved)
        answerAll(self->m_signInWaiters, Result<void>());
    });
}

// --- sign-out --------------------------------------------------------------------------------

void UpstreamAuthorization::signOut(SignOutCallback done)
{
    if (m_flow)
        m_flow->cancel();
    QPointer<UpstreamAuthorization> self(this);
    // Only the record: reading the tokens through the provider could refresh them first.
    loadRecord([self, done](Result<void> loaded) {
        if (!self)
            return;
        if (!loaded)
            return done(loaded.error());
        if (!self->m_record)
            return self->forgetLocally({}, done);
        self->revokeThenForget(done);
    });
}

void UpstreamAuthorization::revokeThenForget(SignOutCallback done)
{
    const SignInRecord record = *m_record;
    QPointer<UpstreamAuthorization> self(this);
    m_tokenStore->load(
            record.server.issuer, record.resource, [self, record, done](Result<TokenSet> tokens) {
                if (!self)
                    return;
                if (!tokens)
                    return self->forgetLocally({}, done);
                if (record.server.revocationEndpoint.isEmpty()) {
                    tokens.value().wipe();
                    return self->forgetLocally(
                            QStringLiteral("The authorization server offers no "
                                           "revocation; the tokens stay valid there "
                                           "until they expire."),
                            done);
                }
                self->m_identity->current(
                        record.server,
                        [self, record, tokens = tokens.value(),
                         done](Result<ClientIdentity::Identity> identity) mutable {
                            if (!self || !identity) {
                                tokens.wipe();
                                if (self)
                                    self->forgetLocally(identity.error().message, done);
                                return;
                            }
                            // RFC 7009 §2.1: revoking the refresh token ends the grant, its access tokens
                            // included; only without one is the access token revoked.
                            const bool hasRefreshToken = !tokens.refreshToken.isEmpty();
                            QByteArray token
                                    = hasRefreshToken ? tokens.refreshToken : tokens.accessToken;
                            tokens.wipe();
                            auto *request = new TokenRevocation(
                                    self->m_network, record.server.revocationEndpoint,
                                    identity.value().client, TokenRevocation::kDefaultTimeoutMs,
                                    self.data());
                            connect(request, &TokenRevocation::finished, self.data(),
                                    [self, request, done](const Result<void> &revoked) {
                                        request->deleteLater();
                                        if (!self)
                                            return;
                                        const QString note = revoked
                                                ? QString()
                                                : QStringLiteral("The authorization server did not "
                                                                 "revoke the "
                                                                 "tokens, which stay valid there "
                                                                 "until they "
                                                                 "expire. Its answer: %1")
                                                          .arg(revoked.error().message);
                                        self->forgetLocally(note, done);
                                    });
                            request->revoke(token,
                                            hasRefreshToken
                                                    ? TokenRevocation::TokenTypeHint::RefreshToken
                                                    : TokenRevocation::TokenTypeHint::AccessToken);
                            TokenSet::wipe(token);
                        });
            });
}

void UpstreamAuthorization::forgetLocally(const QString &note, SignOutCallback done)
{
    QPointer<UpstreamAuthorization> self(this);
    auto removeRecord = [self, note, done](Result<void> tokensRemoved) {
        if (!self)
            return;
        if (!tokensRemoved)
            return done(tokensRemoved.error());
        if (!self->m_secrets)
            return done(note);
        self->m_secrets->remove(store::SecretKeys::oauthSession(self->m_server.name),
                                [self, note, done](Result<void> removed) {
                                    if (!self)
                                        return;
                                    if (!removed)
                                        return done(removed.error());
                                    self->m_record.reset();
                                    self->m_provider.reset();
                                    self->emitState();
                                    done(note);
                                });
    };
    if (m_provider)
        m_provider->signOut(removeRecord);
    else
        answerLater(this, removeRecord, Result<void>());
}

// --- state -----------------------------------------------------------------------------------

UpstreamAuthorization::State UpstreamAuthorization::state() const
{
    if (m_signingIn)
        return State::SigningIn;
    if (!m_restored)
        return State::Unknown;
    if (!m_provider)
        return State::NeedsSignIn;
    switch (m_provider->state()) {
    case TokenProvider::State::SignedIn:
    case TokenProvider::State::Refreshing:
        return State::SignedIn;
    case TokenProvider::State::NeedsSignIn:
        return State::NeedsSignIn;
    case TokenProvider::State::Unknown:
        break;
    }
    return State::Unknown;
}

QUrl UpstreamAuthorization::signInUrl() const
{
    return m_flow ? m_flow->authorizationUrl() : QUrl();
}

qint64 UpstreamAuthorization::expiresAtMs() const
{
    return m_provider ? m_provider->expiresAtMs() : 0;
}

QString UpstreamAuthorization::issuer() const
{
    return m_record ? m_record->server.issuer : QString();
}

Error UpstreamAuthorization::signInNeededError() const
{
    QString message = QStringLiteral("Server '%1' needs sign-in: ").arg(m_server.name);
    const QUrl url = signInUrl();
    if (url.isEmpty())
        message += QStringLiteral("run `mcp-broker login %1` or use the MCP Broker tray menu, "
                                  "then try again.")
                           .arg(m_server.name);
    else
        message += QStringLiteral("a sign-in page for %1 has been opened in your browser; finish "
                                  "signing in there, then try again.")
                           .arg(url.host());
    Error error = Error::make(Error::Kind::Unauthorized, message);
    if (!url.isEmpty())
        error.data = nlohmann::json{{"signInUrl", url.toString(QUrl::FullyEncoded).toStdString()}};
    return error;
}

void UpstreamAuthorization::emitState()
{
    const State now = state();
    if (now == m_reportedState)
        return;
    m_reportedState = now;
    Q_EMIT stateChanged(now);
}

void UpstreamAuthorization::answerAll(Waiters &waiters, const Result<void> &result)
{
    for (DoneCallback &waiter : std::exchange(waiters, {}))
        waiter(result);
}

} // namespace mcpbroker::oauth
