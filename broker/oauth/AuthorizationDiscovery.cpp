#include "oauth/AuthorizationDiscovery.h"

#include "Logging.h"
#include "oauth/HttpExchange.h"
#include "oauth/MetadataDocument.h"
#include "oauth/WellKnownUrls.h"
#include "oauth/Wording.h"

#include <QPointer>
#include <QTimer>

#include <nlohmann/json.hpp>

namespace mcpbroker::oauth {

namespace {

// What the URL looks like in a log line: no user info, query or fragment.
QString loggable(const QUrl &url)
{
    return url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
}

QUrl originOf(const QUrl &url)
{
    return url.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment
                        | QUrl::RemoveUserInfo);
}

// A catch-all page (HTML, plain text) where a metadata document would be: nothing is published
// at that URL.
bool isJsonObject(const QByteArray &body)
{
    const nlohmann::json parsed = nlohmann::json::parse(body.cbegin(), body.cend(), nullptr, false);
    return parsed.is_object();
}

// MCP 2025-03-26 "Fallbacks for Servers without Metadata Discovery": the default endpoints,
// relative to the authorization base URL (the server's origin).
AuthorizationServerMetadata defaultEndpoints(const QUrl &origin)
{
    auto at = [&origin](const char *path) {
        QUrl url = origin;
        url.setPath(QLatin1String(path));
        return url;
    };
    AuthorizationServerMetadata metadata;
    metadata.issuer = origin.toString(QUrl::FullyEncoded);
    metadata.authorizationEndpoint = at("/authorize");
    metadata.tokenEndpoint = at("/token");
    metadata.registrationEndpoint = at("/register");
    metadata.responseTypesSupported = {QStringLiteral("code")};
    metadata.grantTypesSupported
            = {QStringLiteral("authorization_code"), QStringLiteral("refresh_token")};
    metadata.codeChallengeMethodsSupported = {QStringLiteral("S256")};
    return metadata;
}

} // namespace

struct AuthorizationDiscovery::Private
{
    enum class Phase { ResourceMetadata, ServerMetadata, LegacyServerMetadata };

    AuthorizationDiscovery *q = nullptr;
    QNetworkAccessManager *network = nullptr;
    int timeoutMs = 0;
    QUrl serverUrl;
    QString serverName; // "the MCP server https://mcp.example.com/mcp"
    QStringList challengeScopes;
    bool authorizationCode = true;
    Phase phase = Phase::ResourceMetadata;
    QList<QUrl> pending;
    int asked = 0; // URLs asked in the current phase
    std::optional<ProtectedResourceMetadata> resource;
    QString issuer;
    QPointer<HttpExchange> exchange;
    bool started = false;
    bool done = false;

    QString subject() const
    {
        return phase == Phase::ResourceMetadata
                ? serverName
                : QStringLiteral("the authorization server %1").arg(issuer);
    }

    void fetchNext();
    void onAnswer(const QUrl &url, const Result<HttpExchange::Answer> &answer);
    void onDocument(const QByteArray &body);
    void onExhausted();
    void beginServerPhase(Phase next, const QString &issuerIdentifier);
    void succeed(AuthorizationServerMetadata server);
    void finish(Result<Discovered> result);
};

AuthorizationDiscovery::AuthorizationDiscovery(QNetworkAccessManager *network, int timeoutMs,
                                               QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->network = network;
    d->timeoutMs = timeoutMs;
}

AuthorizationDiscovery::~AuthorizationDiscovery()
{
    d->done = true;
    delete d->exchange.data(); // quietly: an exchange destroyed while running emits nothing
}

void AuthorizationDiscovery::setAuthorizationCodeRequired(bool required)
{
    d->authorizationCode = required;
}

void AuthorizationDiscovery::start(const QUrl &mcpServerUrl,
                                   const std::optional<BearerChallenge> &challenge)
{
    Q_ASSERT(!d->started);
    if (d->started)
        return;
    d->started = true;
    d->serverUrl = mcpServerUrl;
    // The URL without query: some servers take an API key there, and errors reach the log.
    d->serverName = QStringLiteral("the MCP server %1").arg(loggable(mcpServerUrl));
    if (challenge)
        d->challengeScopes = challenge->scopes();

    Result<QList<QUrl>> wellKnown = WellKnownUrls::protectedResourceMetadata(mcpServerUrl);
    if (!wellKnown) {
        // Reported from the event loop, like every other outcome.
        QTimer::singleShot(0, this, [this, error = wellKnown.error()] { d->finish(error); });
        return;
    }
    d->pending = std::move(wellKnown).value();
    if (challenge && !challenge->resourceMetadata.isEmpty()) {
        const QUrl fromChallenge(challenge->resourceMetadata, QUrl::StrictMode);
        if (MetadataDocument::isAllowedEndpoint(fromChallenge)) {
            d->pending.removeAll(fromChallenge);
            d->pending.prepend(fromChallenge);
        } else {
            qCWarning(lcOAuth).noquote()
                    << Wording::sentence(d->serverName)
                    << "names its resource metadata at a URL that is not https; using the "
                       "well-known URLs instead";
        }
    }
    qCInfo(lcOAuth).noquote() << "Discovering how to sign in to" << loggable(mcpServerUrl);
    d->fetchNext();
}

void AuthorizationDiscovery::abort()
{
    if (!d->started || d->done)
        return;
    d->finish(Error::make(
            Error::Kind::Cancelled,
            QStringLiteral("Finding how to sign in to %1 was cancelled.").arg(d->serverName)));
}

void AuthorizationDiscovery::Private::fetchNext()
{
    if (pending.isEmpty()) {
        onExhausted();
        return;
    }
    const QUrl url = pending.takeFirst();
    ++asked;
    exchange = new HttpExchange(network, subject(), timeoutMs, q);
    QObject::connect(
            exchange, &HttpExchange::finished, q,
            [this, url](const Result<HttpExchange::Answer> &answer) { onAnswer(url, answer); });
    exchange->get(url);
}

void AuthorizationDiscovery::Private::onAnswer(const QUrl &url,
                                               const Result<HttpExchange::Answer> &answer)
{
    if (HttpExchange *finished = exchange.data()) {
        finished->disconnect(q);
        finished->deleteLater();
    }
    exchange.clear();
    if (!answer) {
        finish(answer.error()); // unreachable, timed out, oversized: no use trying elsewhere
        return;
    }
    const HttpExchange::Answer &reply = answer.value();
    const bool success = reply.status >= 200 && reply.status < 300;
    if ((reply.status >= 400 && reply.status < 500) || (success && !isJsonObject(reply.body))) {
        qCDebug(lcOAuth).noquote() << "No metadata at" << loggable(url) << "( HTTP" << reply.status
                                   << reply.mediaType << ")";
        fetchNext();
        return;
    }
    if (!success) {
        const bool serverTrouble = reply.status >= 500;
        const QString sentence = serverTrouble
                ? QStringLiteral("%1 could not answer for its OAuth metadata right now (HTTP "
                                 "%2). Try again later.")
                : QStringLiteral("%1 answered the request for its OAuth metadata with HTTP %2, "
                                 "which MCP Broker cannot use.");
        finish(Error::make(serverTrouble ? Error::Kind::Unreachable : Error::Kind::Protocol,
                           Wording::sentence(sentence.arg(subject()).arg(reply.status))));
        return;
    }
    qCDebug(lcOAuth).noquote() << "Metadata found at" << loggable(url);
    onDocument(reply.body);
}

// A document came back: it is used or it is the answer; a bad one is never skipped, since a
// later URL could only be less authoritative.
void AuthorizationDiscovery::Private::onDocument(const QByteArray &body)
{
    if (phase == Phase::ResourceMetadata) {
        Result<ProtectedResourceMetadata> metadata
                = ProtectedResourceMetadata::fromJson(body, serverUrl);
        if (!metadata) {
            finish(metadata.error());
            return;
        }
        resource = std::move(metadata).value();
        // RFC 9728 §7.6 leaves the choice to the client: the first one listed.
        beginServerPhase(Phase::ServerMetadata, resource->authorizationServers.constFirst());
        return;
    }
    AuthorizationServerMetadata::Expectations expectations;
    expectations.authorizationCode = authorizationCode;
    expectations.issuerOfSameOrigin = phase == Phase::LegacyServerMetadata;
    Result<AuthorizationServerMetadata> metadata
            = AuthorizationServerMetadata::fromJson(body, issuer, expectations);
    if (!metadata) {
        finish(metadata.error());
        return;
    }
    succeed(std::move(metadata).value());
}

void AuthorizationDiscovery::Private::onExhausted()
{
    switch (phase) {
    case Phase::ResourceMetadata:
        qCInfo(lcOAuth).noquote() << Wording::sentence(serverName)
                                  << "publishes no protected resource metadata; using its "
                                     "origin as the authorization server (MCP 2025-03-26)";
        beginServerPhase(Phase::LegacyServerMetadata,
                         originOf(serverUrl).toString(QUrl::FullyEncoded));
        return;
    case Phase::ServerMetadata:
        finish(Error::make(Error::Kind::Protocol,
                           QStringLiteral("The authorization server %1, named by %2, publishes "
                                          "no OAuth metadata (none at the %3 addresses "
                                          "tried), so MCP Broker cannot sign in. Ask the "
                                          "server's operator to publish RFC 8414 or OpenID "
                                          "Connect discovery metadata.")
                                   .arg(issuer, serverName)
                                   .arg(asked)));
        return;
    case Phase::LegacyServerMetadata: {
        const QUrl origin = originOf(serverUrl);
        if (!MetadataDocument::isAllowedEndpoint(origin)) {
            finish(Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("%1 publishes no OAuth metadata, and its default "
                                              "sign-in endpoints would be plain http, which "
                                              "MCP Broker uses only to this computer. Use the "
                                              "server's https URL.")
                                       .arg(Wording::sentence(serverName))));
            return;
        }
        qCInfo(lcOAuth).noquote()
                << QStringLiteral("No authorization server metadata at %1; assuming the default "
                                  "endpoints /authorize, /token and /register")
                           .arg(loggable(origin));
        succeed(defaultEndpoints(origin));
        return;
    }
    }
}

void AuthorizationDiscovery::Private::beginServerPhase(Phase next, const QString &issuerIdentifier)
{
    phase = next;
    issuer = issuerIdentifier;
    asked = 0;
    Result<QList<QUrl>> urls = WellKnownUrls::authorizationServerMetadata(QUrl(issuer));
    if (!urls) {
        finish(urls.error());
        return;
    }
    pending = std::move(urls).value();
    fetchNext();
}

void AuthorizationDiscovery::Private::succeed(AuthorizationServerMetadata server)
{
    Discovered discovered;
    discovered.legacyFallback = !resource.has_value();
    if (!challengeScopes.isEmpty())
        discovered.scopes = challengeScopes; // MCP: the challenge's scope is authoritative
    else if (resource)
        discovered.scopes = resource->scopesSupported;
    discovered.resource = std::move(resource);
    discovered.server = std::move(server);
    finish(std::move(discovered));
}

void AuthorizationDiscovery::Private::finish(Result<Discovered> result)
{
    if (done)
        return;
    done = true;
    pending.clear();
    if (HttpExchange *running = exchange.data()) {
        running->disconnect(q);
        running->abort(); // closes the connection now; its Cancelled goes to no one
        running->deleteLater();
    }
    exchange.clear();
    if (result) {
        qCInfo(lcOAuth).noquote() << QStringLiteral("%1 signs in at the authorization server %2%3")
                                             .arg(Wording::sentence(serverName),
                                                  result.value().server.issuer,
                                                  result.value().legacyFallback ? QStringLiteral(
                                                          " (MCP 2025-03-26 fallback)")
                                                                                : QString());
    } else {
        qCWarning(lcOAuth).noquote() << "Authorization discovery failed:" << result.error().message;
    }
    Q_EMIT q->finished(result);
}

} // namespace mcpbroker::oauth
