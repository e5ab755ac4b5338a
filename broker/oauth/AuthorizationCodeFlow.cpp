#include "oauth/AuthorizationCodeFlow.h"

#include "Logging.h"
#include "oauth/BrowserLauncher.h"
#include "oauth/LoopbackRedirectListener.h"
#include "oauth/Pkce.h"
#include "oauth/TokenRequest.h"

#include <QPointer>

#include <openssl/crypto.h>

namespace mcpbroker::oauth {

namespace {

void cleanse(QByteArray &secret)
{
    if (!secret.isEmpty())
        OPENSSL_cleanse(secret.data(), size_t(secret.size()));
    secret.clear();
}

// The port of a kept registration's loopback redirect URI, to listen there again.
quint16 preferredPort(const QStringList &redirectUris)
{
    for (const QString &uri : redirectUris) {
        const QUrl url(uri);
        if (url.host() == QLatin1String("127.0.0.1") && url.port() > 0)
            return quint16(url.port());
    }
    return 0;
}

} // namespace

struct AuthorizationCodeFlow::Private
{
    QNetworkAccessManager *network = nullptr;
    QPointer<ClientIdentity> identity;
    BrowserLauncher *browser = nullptr;

    Request request;
    bool started = false;
    bool done = false;
    Pkce pkce;
    QByteArray state;
    ClientAuthentication client;
    QUrl authorizationUrl;
    QString redirectUri;
    QPointer<LoopbackRedirectListener> listener;
    QPointer<TokenRequest> exchange;

    ~Private()
    {
        cleanse(pkce.verifier);
        cleanse(state);
        cleanse(client.clientSecret);
    }
};

AuthorizationCodeFlow::AuthorizationCodeFlow(QNetworkAccessManager *network,
                                             ClientIdentity *identity, BrowserLauncher *browser,
                                             QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->network = network;
    d->identity = identity;
    d->browser = browser;
}

AuthorizationCodeFlow::~AuthorizationCodeFlow()
{
    delete d->listener;
    delete d->exchange;
}

void AuthorizationCodeFlow::start(Request request)
{
    Q_ASSERT(!d->started);
    if (d->started)
        return;
    d->started = true;
    d->request = std::move(request);
    d->pkce = Pkce::generate();
    d->state = Pkce::randomState();

    // The identity is looked up first only for the port of a kept registration; the listener
    // must exist before a registration, which names its redirect URI.
    QPointer<AuthorizationCodeFlow> self(this);
    d->identity->current(d->request.server, [self](Result<ClientIdentity::Identity> current) {
        if (!self || self->d->done)
            return;
        const quint16 port = current ? preferredPort(current.value().redirectUris) : 0;
        if (current)
            cleanse(current.value().client.clientSecret);
        LoopbackRedirectListener::Expected expected;
        expected.state = self->d->state;
        expected.issuer = self->d->request.server.issuer;
        expected.issuerRequired
                = self->d->request.server.authorizationResponseIssParameterSupported;
        auto *listener
                = new LoopbackRedirectListener(expected, self->d->request.timeoutMs, self.data());
        self->d->listener = listener;
        connect(listener, &LoopbackRedirectListener::finished, self.data(),
                &AuthorizationCodeFlow::onCode);
        if (auto listening = listener->listen(port); !listening)
            return self->finish(listening.error());
        self->d->redirectUri = listener->redirectUri();
        self->d->identity->forSignIn(self->d->request.server, self->d->redirectUri,
                                     [self](Result<ClientIdentity::Identity> identity) {
                                         if (self && !self->d->done)
                                             self->onIdentity(std::move(identity));
                                     });
    });
}

void AuthorizationCodeFlow::onIdentity(Result<ClientIdentity::Identity> identity)
{
    if (!identity)
        return finish(identity.error());
    d->client = std::move(identity.value().client);

    // OAuth 2.1 §4.1.1 with PKCE, RFC 8707 resource and RFC 6749 state; every value
    // percent-encoded in full, so that '&', '=' or '+' in a value cannot change the query.
    QList<QPair<QString, QString>> parameters{
            {QStringLiteral("response_type"), QStringLiteral("code")},
            {QStringLiteral("client_id"), d->client.clientId},
            {QStringLiteral("redirect_uri"), d->redirectUri},
            {QStringLiteral("code_challenge"), QString::fromLatin1(d->pkce.challenge)},
            {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
            {QStringLiteral("state"), QString::fromLatin1(d->state)},
            {QStringLiteral("resource"), d->request.resource.toString(QUrl::FullyEncoded)},
    };
    if (!d->request.scopes.isEmpty())
        parameters.append({QStringLiteral("scope"), d->request.scopes.join(QLatin1Char(' '))});
    QUrl url = d->request.server.authorizationEndpoint;
    QByteArray query = url.query(QUrl::FullyEncoded).toLatin1();
    for (const auto &[name, value] : parameters) {
        if (!query.isEmpty())
            query += '&';
        query += QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    }
    url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
    d->authorizationUrl = url;

    qCInfo(lcOAuth).noquote() << "Signing in to server" << d->request.serverName << "at"
                              << d->request.server.issuer << "in the browser";
    const Result<void> opened = d->browser->open(url);
    if (!opened)
        qCWarning(lcOAuth).noquote() << "The browser did not open:" << opened.error().message;
    Q_EMIT authorizationUrlReady(url, opened.ok());
}

void AuthorizationCodeFlow::onCode(const Result<QString> &code)
{
    d->listener->deleteLater();
    if (!code)
        return finish(code.error());
    auto *exchange = new TokenRequest(d->network, d->request.server.tokenEndpoint, d->client,
                                      TokenRequest::kDefaultTimeoutMs, this);
    d->exchange = exchange;
    connect(exchange, &TokenRequest::finished, this, [this](const Result<TokenResponse> &answer) {
        d->exchange->deleteLater();
        if (!answer)
            return finish(answer.error());
        TokenResponse response = answer.value();
        finish(response.takeTokenSet(d->request.server.issuer,
                                     d->request.resource.toString(QUrl::FullyEncoded)));
    });
    exchange->exchangeCode(code.value(), d->redirectUri, d->pkce.verifier, d->request.resource);
}

void AuthorizationCodeFlow::cancel()
{
    finish(Error::make(Error::Kind::Cancelled,
                       QStringLiteral("The sign-in to server '%1' was cancelled.")
                               .arg(d->request.serverName)));
}

QUrl AuthorizationCodeFlow::authorizationUrl() const
{
    return d->authorizationUrl;
}

void AuthorizationCodeFlow::finish(Result<TokenSet> tokens)
{
    if (d->done)
        return;
    d->done = true;
    if (d->listener)
        d->listener->cancel();
    if (d->exchange)
        d->exchange->abort();
    cleanse(d->pkce.verifier);
    cleanse(d->state);
    cleanse(d->client.clientSecret);
    Q_EMIT finished(tokens);
}

} // namespace mcpbroker::oauth
