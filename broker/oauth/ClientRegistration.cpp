#include "oauth/ClientRegistration.h"

#include "Logging.h"
#include "oauth/ClientAuthentication.h"
#include "oauth/MetadataDocument.h"
#include "oauth/OAuthErrorResponse.h"
#include "oauth/Wording.h"

#include <QPointer>
#include <QTimer>

namespace mcpbroker::oauth {

namespace {

nlohmann::json stringArray(const QStringList &values)
{
    nlohmann::json array = nlohmann::json::array();
    for (const QString &value : values)
        array.push_back(value.toStdString());
    return array;
}

} // namespace

struct ClientRegistration::Private
{
    QNetworkAccessManager *network = nullptr;
    QUrl endpoint;
    int timeoutMs = 0;
    QString subject;
    Request request;
    QString authMethod;
    QPointer<HttpExchange> exchange;
    bool started = false;
    bool done = false;
};

ClientRegistration::ClientRegistration(QNetworkAccessManager *network, QUrl registrationEndpoint,
                                       int timeoutMs, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->network = network;
    d->endpoint = std::move(registrationEndpoint);
    d->timeoutMs = timeoutMs;
    d->subject = Wording::authorizationServer(d->endpoint);
}

ClientRegistration::~ClientRegistration()
{
    delete d->exchange.data();
}

Result<QString> ClientRegistration::chooseAuthMethod(const QStringList &supported)
{
    for (const char *method : {"none", "client_secret_basic", "client_secret_post"}) {
        if (supported.isEmpty() || supported.contains(QLatin1String(method)))
            return QString::fromLatin1(method);
    }
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The authorization server accepts only %1 to authenticate "
                                      "clients, which MCP Broker does not support. Configure a "
                                      "pre-registered client for it instead.")
                               .arg(supported.join(QStringLiteral(", "))));
}

void ClientRegistration::registerClient(const Request &request)
{
    Q_ASSERT(!d->started);
    if (d->started)
        return;
    d->started = true;
    d->request = request;
    auto failLater = [this](Error error) {
        QTimer::singleShot(0, this, [this, error] { finish(error); });
    };
    if (!MetadataDocument::isAllowedEndpoint(d->endpoint)) {
        failLater(Error::make(Error::Kind::InvalidInput,
                              Wording::sentence(QStringLiteral("The registration endpoint of %1 is "
                                                               "not an https URL, so MCP Broker "
                                                               "did not register there.")
                                                        .arg(d->subject))));
        return;
    }
    const Result<QString> method = chooseAuthMethod(request.authMethodsSupported);
    if (!method) {
        failLater(method.error());
        return;
    }
    d->authMethod = method.value();

    nlohmann::json metadata = {
            {"client_name", request.clientName.toStdString()},
            {"redirect_uris", stringArray(request.redirectUris)},
            {"grant_types", {"authorization_code", "refresh_token"}},
            {"response_types", {"code"}},
            {"token_endpoint_auth_method", d->authMethod.toStdString()},
            {"application_type", "native"},
    };
    if (!request.scopes.isEmpty())
        metadata["scope"] = request.scopes.join(QLatin1Char(' ')).toStdString();

    qCInfo(lcOAuth).noquote() << QStringLiteral("Registering MCP Broker at %1 (%2)")
                                         .arg(Wording::origin(d->endpoint), d->authMethod);
    d->exchange = new HttpExchange(d->network, d->subject, d->timeoutMs, this);
    connect(d->exchange, &HttpExchange::finished, this, &ClientRegistration::onAnswer);
    d->exchange->postJson(d->endpoint, QByteArray::fromStdString(metadata.dump()));
}

void ClientRegistration::abort()
{
    finish(Error::make(Error::Kind::Cancelled,
                       QStringLiteral("Registering at %1 was cancelled.").arg(d->subject)));
}

void ClientRegistration::onAnswer(const Result<HttpExchange::Answer> &answer)
{
    if (!answer) {
        finish(answer.error());
        return;
    }
    const HttpExchange::Answer &reply = answer.value();
    if (reply.status >= 200 && reply.status < 300) {
        finish(accept(reply.body));
        return;
    }
    const std::optional<OAuthErrorResponse> error = OAuthErrorResponse::fromJson(reply.body);
    const QString detail = error ? error->summary() : QStringLiteral("HTTP %1").arg(reply.status);
    Error::Kind kind = Error::Kind::Protocol;
    QString sentence = QStringLiteral("%1 refused to register MCP Broker (%2).");
    if (reply.status >= 500 || reply.status == 429) {
        kind = Error::Kind::Unreachable;
        sentence = QStringLiteral("%1 could not register MCP Broker right now (%2). Try again "
                                  "later.");
    } else if (reply.status == 401 || reply.status == 403) {
        kind = Error::Kind::Unauthorized;
        sentence = QStringLiteral("%1 does not let clients register themselves (%2). Configure "
                                  "a pre-registered client id for it instead.");
    }
    finish(Error::make(kind, Wording::sentence(sentence.arg(d->subject, detail))));
}

Result<RegisteredClient> ClientRegistration::accept(const QByteArray &body) const
{
    const nlohmann::json object = nlohmann::json::parse(body.cbegin(), body.cend(), nullptr, false);
    auto unusable = [this](const QString &why) {
        return Error::make(Error::Kind::Protocol,
                           Wording::sentence(QStringLiteral("%1 registered MCP Broker, but the "
                                                            "answer cannot be used: %2.")
                                                     .arg(d->subject, why)));
    };
    if (!object.is_object())
        return unusable(QStringLiteral("it is not a JSON object"));
    Result<RegisteredClient> parsed = RegisteredClient::fromObject(object);
    if (!parsed) {
        return Error::make(Error::Kind::Protocol,
                           Wording::sentence(QStringLiteral("%1 answered the registration with "
                                                            "something MCP Broker cannot use. %2")
                                                     .arg(d->subject, parsed.error().message)));
    }
    RegisteredClient client = std::move(parsed).value();

    // RFC 7591 §3.2.1: the server returns what it registered; fields it left out
    // are as asked.
    if (!object.contains("token_endpoint_auth_method")) {
        client.tokenEndpointAuthMethod = client.clientSecret.isEmpty() || d->authMethod != u"none"
                ? d->authMethod
                : QStringLiteral("client_secret_basic");
    }
    if (!ClientAuthentication::methodFromName(client.tokenEndpointAuthMethod)) {
        return unusable(QStringLiteral("it registered the client authentication \"%1\", which "
                                       "MCP Broker does not support")
                                .arg(client.tokenEndpointAuthMethod.left(64)));
    }
    if (client.tokenEndpointAuthMethod != u"none" && client.clientSecret.isEmpty())
        return unusable(QStringLiteral("it issued no client secret for %1")
                                .arg(client.tokenEndpointAuthMethod));
    if (client.redirectUris.isEmpty()) {
        client.redirectUris = d->request.redirectUris;
    } else {
        for (const QString &uri : std::as_const(d->request.redirectUris)) {
            if (!client.redirectUris.contains(uri))
                return unusable(QStringLiteral("it did not register the redirect URI %1").arg(uri));
        }
    }
    return client;
}

void ClientRegistration::finish(Result<RegisteredClient> client)
{
    if (d->done)
        return;
    d->done = true;
    if (HttpExchange *exchange = d->exchange.data()) {
        exchange->disconnect(this);
        exchange->deleteLater();
    }
    if (client)
        qCInfo(lcOAuth).noquote() << QStringLiteral("Registered at %1 (%2)")
                                             .arg(Wording::origin(d->endpoint),
                                                  client.value().tokenEndpointAuthMethod);
    else
        qCWarning(lcOAuth).noquote() << "Client registration failed:" << client.error().message;
    Q_EMIT finished(client);
}

} // namespace mcpbroker::oauth
