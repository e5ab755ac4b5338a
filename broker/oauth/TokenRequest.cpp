#include "oauth/TokenRequest.h"

#include "Logging.h"
#include "oauth/EndpointCall.h"
#include "oauth/OAuthErrorResponse.h"
#include "oauth/Wording.h"

#include <QDateTime>
#include <QTimer>

#include <nlohmann/json.hpp>

#include <cmath>

namespace mcpbroker::oauth {

namespace {

// expires_in is a number of seconds (RFC 6749 §5.1); some servers send it as a
// string.
std::optional<qint64> expiresIn(const nlohmann::json &object)
{
    const auto it = object.find("expires_in");
    if (it == object.end() || it->is_null())
        return qint64(0);
    if (it->is_number() && std::isfinite(it->get<double>()) && it->get<double>() >= 0)
        return qint64(it->get<double>());
    if (it->is_string()) {
        bool ok = false;
        const qint64 value = QString::fromStdString(it->get<std::string>()).toLongLong(&ok);
        if (ok && value >= 0)
            return value;
    }
    return std::nullopt;
}

QByteArray stringBytes(const nlohmann::json &object, const char *key)
{
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string())
        return {};
    const std::string &value = it->get_ref<const std::string &>();
    return QByteArray(value.data(), qsizetype(value.size()));
}

} // namespace

TokenSet TokenResponse::takeTokenSet(const QString &issuer, const QString &resource)
{
    TokenSet tokens;
    tokens.accessToken = std::exchange(accessToken, {});
    tokens.refreshToken = std::exchange(refreshToken, {});
    tokens.expiresAtMs = expiresAtMs;
    tokens.scopes = scopes;
    tokens.issuer = issuer;
    tokens.resource = resource;
    return tokens;
}

struct TokenRequest::Private
{
    Private(QNetworkAccessManager *network, QUrl tokenEndpoint, ClientAuthentication client,
            int timeoutMs)
        : call(network, std::move(tokenEndpoint), timeoutMs, std::move(client))
    { }

    EndpointCall call; // its secrets: what this request sends, kept out of error sentences
    QString grantType;
    QStringList requestedScopes;
    qint64 startedAtMs = 0;
    QString oauthError;
};

TokenRequest::TokenRequest(QNetworkAccessManager *network, QUrl tokenEndpoint,
                           ClientAuthentication client, int timeoutMs, QObject *parent)
    : QObject(parent),
      d(std::make_unique<Private>(network, std::move(tokenEndpoint), std::move(client), timeoutMs))
{ }

TokenRequest::~TokenRequest() = default;

QString TokenRequest::oauthError() const
{
    return d->oauthError;
}

void TokenRequest::exchangeCode(const QString &code, const QString &redirectUri,
                                const QByteArray &codeVerifier, const QUrl &resource)
{
    d->grantType = QStringLiteral("authorization_code");
    d->call.secrets() = {code.toUtf8(), codeVerifier};
    HttpExchange::FormFields fields{
            {QStringLiteral("grant_type"), d->grantType},
            {QStringLiteral("code"), code},
            {QStringLiteral("redirect_uri"), redirectUri},
            {QStringLiteral("code_verifier"), QString::fromLatin1(codeVerifier)},
    };
    send(std::move(fields), resource);
}

void TokenRequest::refresh(const QByteArray &refreshToken, const QUrl &resource,
                           const QStringList &scopes)
{
    d->grantType = QStringLiteral("refresh_token");
    d->call.secrets() = {refreshToken};
    d->requestedScopes = scopes;
    HttpExchange::FormFields fields{
            {QStringLiteral("grant_type"), d->grantType},
            {QStringLiteral("refresh_token"), QString::fromUtf8(refreshToken)},
    };
    if (!scopes.isEmpty())
        fields.append({QStringLiteral("scope"), scopes.join(QLatin1Char(' '))});
    send(std::move(fields), resource);
}

void TokenRequest::requestClientCredentials(const QStringList &scopes, const QUrl &resource)
{
    d->grantType = QStringLiteral("client_credentials");
    d->requestedScopes = scopes;
    HttpExchange::FormFields fields{{QStringLiteral("grant_type"), d->grantType}};
    if (!scopes.isEmpty())
        fields.append({QStringLiteral("scope"), scopes.join(QLatin1Char(' '))});
    send(std::move(fields), resource);
}

void TokenRequest::abort()
{
    finish(d->call.error(Error::Kind::Cancelled,
                         QStringLiteral("The token request to %1 was cancelled.")));
}

void TokenRequest::send(HttpExchange::FormFields fields, const QUrl &resource)
{
    if (!d->call.start())
        return;
    d->startedAtMs = QDateTime::currentMSecsSinceEpoch();
    // RFC 8707 §2: the resource the token is for, on every token request.
    if (!resource.isEmpty())
        fields.append({QStringLiteral("resource"), resource.toString(QUrl::FullyEncoded)});
    HttpExchange::HeaderList headers;
    d->call.authenticate(fields, headers);

    qCInfo(lcOAuth).noquote() << QStringLiteral("Token request (%1) to %2")
                                         .arg(d->grantType, Wording::origin(d->call.endpoint()));
    d->call.open(this, &TokenRequest::onAnswer);
    if (!d->call.isAllowedEndpoint()) {
        QTimer::singleShot(0, this, [this] {
            finish(d->call.error(Error::Kind::InvalidInput,
                                 QStringLiteral("The token endpoint of %1 is not an https URL "
                                                "(plain http is allowed only to this computer).")));
        });
        return;
    }
    d->call.postForm(fields, headers);
}

void TokenRequest::onAnswer(const Result<HttpExchange::Answer> &answer)
{
    finish(EndpointCall::outcome<TokenResponse>(
            answer, [this](const QByteArray &body) { return parseSuccess(body); },
            [this](const HttpExchange::Answer &reply) { return refusal(reply); }));
}

Result<TokenResponse> TokenRequest::parseSuccess(const QByteArray &body) const
{
    auto malformed = [this](const QString &why) {
        return d->call.unusable(QStringLiteral("The token answer of %1 cannot be used: %2."), why);
    };
    const nlohmann::json object = nlohmann::json::parse(body.cbegin(), body.cend(), nullptr, false);
    if (!object.is_object())
        return malformed(QStringLiteral("it is not a JSON object"));

    TokenResponse response;
    response.accessToken = stringBytes(object, "access_token");
    if (response.accessToken.isEmpty())
        return malformed(QStringLiteral("it has no access_token"));
    const QString tokenType = QString::fromUtf8(stringBytes(object, "token_type"));
    // RFC 6749 §7.1 and §5.1: the type is case-insensitive; MCP uses Bearer
    // tokens (RFC 6750).
    if (tokenType.compare(QLatin1String("bearer"), Qt::CaseInsensitive) != 0) {
        return malformed(tokenType.isEmpty()
                                 ? QStringLiteral("it has no token_type")
                                 : QStringLiteral("its token type is \"%1\", not Bearer")
                                           .arg(tokenType.left(32)));
    }
    response.tokenType = QStringLiteral("Bearer");
    response.refreshToken = stringBytes(object, "refresh_token");
    const std::optional<qint64> lifetime = expiresIn(object);
    if (!lifetime)
        return malformed(QStringLiteral("its expires_in is not a number of seconds"));
    if (*lifetime > 0)
        response.expiresAtMs = d->startedAtMs + qMin(*lifetime, qint64(10) * 365 * 86400) * 1000;
    const auto scope = object.find("scope");
    if (scope != object.end() && scope->is_string()) {
        response.scopes = QString::fromStdString(scope->get<std::string>())
                                  .split(QLatin1Char(' '), Qt::SkipEmptyParts);
    } else {
        response.scopes = d->requestedScopes; // RFC 6749 §5.1: omitted when as requested
    }
    return response;
}

Error TokenRequest::refusal(const HttpExchange::Answer &answer)
{
    const QString &subject = d->call.subject();
    const std::optional<OAuthErrorResponse> error = d->call.errorResponse(answer);
    if (EndpointCall::isUnavailable(answer.status)) {
        return Error::make(
                Error::Kind::Unreachable,
                Wording::sentence(
                        QStringLiteral("%1 could not answer the token request right now "
                                       "(HTTP %2%3). Try again later.")
                                .arg(subject)
                                .arg(answer.status)
                                .arg(error ? QStringLiteral(", ") + error->summary() : QString())));
    }
    if (!error) {
        const Error::Kind kind
                = answer.status == 401 ? Error::Kind::Unauthorized : Error::Kind::Protocol;
        return Error::make(kind,
                           Wording::sentence(QStringLiteral("%1 refused the token request with "
                                                            "HTTP %2 and no OAuth error.")
                                                     .arg(subject)
                                                     .arg(answer.status)));
    }
    d->oauthError = error->error;
    QString sentence;
    Error::Kind kind = Error::Kind::Unauthorized;
    if (error->error == QLatin1String("invalid_grant")) {
        sentence = d->grantType == QLatin1String("refresh_token")
                ? QStringLiteral("The sign-in at %1 has expired or was revoked (%2). Sign in "
                                 "again.")
                : QStringLiteral("%1 did not accept the sign-in (%2). Sign in again.");
    } else if (error->error == QLatin1String("invalid_client")
               || error->error == QLatin1String("unauthorized_client")) {
        sentence = QStringLiteral("%1 did not accept MCP Broker's client identity (%2). Check "
                                  "the configured client id and secret, or sign in again to "
                                  "register anew.");
    } else {
        kind = Error::Kind::Protocol;
        sentence = QStringLiteral("%1 refused the token request (%2).");
    }
    return Error::make(kind, Wording::sentence(sentence.arg(subject, error->summary())));
}

void TokenRequest::finish(Result<TokenResponse> response)
{
    if (!d->call.finish())
        return;
    if (response) {
        const qint64 lifetime = response.value().expiresAtMs
                ? (response.value().expiresAtMs - d->startedAtMs) / 1000
                : -1;
        qCInfo(lcOAuth).noquote()
                << QStringLiteral("Token request (%1) to %2 succeeded%3")
                           .arg(d->grantType, Wording::origin(d->call.endpoint()),
                                lifetime >= 0 ? QStringLiteral(", valid for %1 s").arg(lifetime)
                                              : QString());
    } else {
        qCWarning(lcOAuth).noquote() << "Token request failed:" << response.error().message;
    }
    Q_EMIT finished(response);
}

} // namespace mcpbroker::oauth
