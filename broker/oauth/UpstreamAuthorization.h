#pragma once

#include "Result.h"
#include "mcp/RequestAuthorizer.h"
#include "oauth/AuthorizationDiscovery.h"
#include "oauth/SignInRecord.h"
#include "oauth/TokenProvider.h"
#include "store/ServerConfig.h"

#include <QObject>
#include <QPointer>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QNetworkAccessManager;

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::oauth {

class AuthorizationCodeFlow;
class BrowserLauncher;
class ClientIdentity;
class TokenRequest;
class TokenStore;

// MCP authorization (2025-11-25, client side) for one upstream server, shared by every
// downstream client: the access token for its requests (TokenProvider: refreshed ahead of
// expiry and after a 401, single-flight), discovery on the first 401, the browser sign-in
// (AuthorizationCodeFlow) or the client_credentials grant, one step-up sign-in with the union
// of scopes after a 403 insufficient_scope, and sign-out with RFC 7009 revocation. Where it
// signed in is kept in the keychain (SignInRecord), so a restarted broker finds its tokens
// without asking the network.
//
// It never opens the browser on its own for a missing sign-in: signIn() does (the user asked,
// or a call did through the gateway); a step-up does, because a call of the user's needs it.
class UpstreamAuthorization : public QObject, public mcp::RequestAuthorizer
{
    Q_OBJECT
public:
    enum class State {
        Unknown,     // not read from the keychain yet
        SignedIn,    // tokens in use
        NeedsSignIn, // no usable tokens
        SigningIn,   // a sign-in is under way (browser or client credentials)
    };
    Q_ENUM(State)

    using DoneCallback = std::function<void(Result<void>)>;
    // Success carries a note for the user when something did not work but did not matter
    // (e.g. the authorization server could not be told to revoke the tokens).
    using SignOutCallback = std::function<void(Result<QString>)>;

    // `secrets`, `network` and `browser` must outlive this object.
    UpstreamAuthorization(store::ServerConfig server, QNetworkAccessManager *network,
                          store::SecretStore *secrets, BrowserLauncher *browser,
                          QObject *parent = nullptr);
    ~UpstreamAuthorization() override;

    // mcp::RequestAuthorizer. While tokens exist but none is current (a refresh is under
    // way, or the keychain is being read), whenReady() waits for the TokenProvider.
    void whenReady(std::function<void()> ready) override;
    QByteArray authorization() const override;
    void recover(int status, const QByteArray &wwwAuthenticate, const QByteArray &usedAuthorization,
                 DoneCallback done) override;

    // Reads the keychain: the sign-in record and its tokens. `done` says whether a request can
    // be authorized now (NeedsSignIn otherwise: an Unauthorized error with the sentence).
    void restore(DoneCallback done);
    // Signs in: the browser flow, or the client_credentials grant when configured. One at a
    // time: a second call waits for the first. Discovers the authorization server first when
    // needed. `done` once the tokens are in use and kept.
    void signIn(DoneCallback done);
    // Revokes the tokens at the authorization server when it offers revocation, then removes
    // them and the sign-in record from the keychain.
    void signOut(SignOutCallback done);

    State state() const;
    // Of the sign-in under way; empty when there is none or its page is not known yet.
    QUrl signInUrl() const;
    qint64 expiresAtMs() const;
    QString serverName() const { return m_server.name; }
    QString issuer() const;
    // Why the last sign-in failed; empty after a success.
    QString lastError() const { return m_lastError; }
    // The sentence of a call that cannot go through until the user signs in.
    Error signInNeededError() const;

Q_SIGNALS:
    void stateChanged(mcpbroker::oauth::UpstreamAuthorization::State state);
    // A sign-in's page is known; `browserOpened`: a browser was started for it. The URL holds
    // the sign-in's state: show it to the user only when no browser opened.
    void signInUrlReady(const QUrl &url, bool browserOpened);

private:
    using Waiters = std::vector<DoneCallback>;

    void loadRecord(DoneCallback done);
    void discover(const std::optional<BearerChallenge> &challenge, DoneCallback done);
    void probeForChallenge(DoneCallback done);
    void onDiscovered(const Result<Discovered> &discovered);
    void adoptRecord(SignInRecord record);
    void saveRecord();
    void currentToken(DoneCallback done);
    void stepUp(const QStringList &wanted, DoneCallback done);
    void startSignIn();
    void signInWithClientCredentials();
    void signInWithBrowser();
    void onSignedIn(Result<TokenSet> tokens);
    void refresh(const QByteArray &refreshToken, std::function<void(Result<TokenSet>)> done);
    void refreshAs(const QByteArray &refreshToken, std::function<void(Result<TokenSet>)> done);
    void requestTokens(std::function<void(TokenRequest &request, const QUrl &resource)> grant,
                       std::function<void(Result<TokenSet>)> done);
    void revokeThenForget(SignOutCallback done);
    void forgetLocally(const QString &note, SignOutCallback done);
    QStringList signInScopes() const;
    void emitState();
    static void answerAll(Waiters &waiters, const Result<void> &result);

    store::ServerConfig m_server;
    QNetworkAccessManager *m_network;
    QPointer<store::SecretStore> m_secrets;
    BrowserLauncher *m_browser;
    TokenStore *m_tokenStore;
    ClientIdentity *m_identity;

    std::optional<SignInRecord> m_record;      // where the tokens come from, once known
    std::optional<Discovered> m_discovered;    // this run's discovery, when there was one
    std::unique_ptr<TokenProvider> m_provider; // for m_record's (issuer, resource)
    QStringList m_challengeScopes;             // the scope of the latest challenge
    QStringList m_signInScopes;                // what the running sign-in asks for
    QStringList m_failedStepUp;                // a step-up the server still refused

    bool m_restored = false;
    Waiters m_restoreWaiters;
    QPointer<AuthorizationDiscovery> m_discovery;
    Waiters m_discoveryWaiters;
    bool m_signingIn = false;
    QPointer<AuthorizationCodeFlow> m_flow;
    Waiters m_signInWaiters;
    QString m_lastError;
    State m_reportedState = State::Unknown;
};

} // namespace mcpbroker::oauth
