#include "oauth/ClientRegistration.h"

#include "Logging.h"
#include "oauth/ClientAuthentication.h"
#include "oauth/EndpointCall.h"
#include "oauth/Wording.h"

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
    Private(QNetworkAccessManager *network, QUrl registrationEndpoint, int timeoutMs)
        : call(network, std::move(registrationEndpoint), timeoutMs)
    { }

    EndpointCall call;
    Request request;
    QString authMethod;
};

ClientRegistration::ClientRegistration(QNetworkAccessManager *network, QUrl registrationEndpoint,
                                       int timeoutMs, QObject *parent)
    : QObject(parent),
      d(std::make_unique<Private>(network, std::move(registrationEndpoint), timeoutMs))
{ }

ClientRegistration::~ClientRegistration() = default;

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
    if (!d->call.start())
        return;
    d->request = request;
    auto failLater = [this](Error error) {
        QTimer::singleShot(0, this, [this, error] { finish(error); });
    };
    if (!d->call.isAllowedEndpoint()) {
        failLater(d->call.error(Error::Kind::InvalidInput,
                                QStringLiteral("The registration endpoint of %1 is not an https "
                                               "URL, so MCP Broker did not register there.")));
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
                                         .arg(Wording::origin(d->call.endpoint()), d->authMethod);
    d->call.open(this, &ClientRegistration::onAnswer);
    d->call.postJson(QByteArray::fromStdString(metadata.dump()));
}

void ClientRegistration::abort()
{
    finish(d->call.error(Error::Kind::Cancelled,
                         QStringLiteral("Registering at %1 was cancelled.")));
}

void ClientRegistration::onAnswer(const Result<HttpExchange::Answer> &answer)
{
    const EndpointCall::Refusal wording{
            .refused = QStringLiteral("%1 refused to register MCP Broker (%2)."),
            .unavailable = QStringLiteral("%1 could not register MCP Broker right now (%2). Try "
                                          "again later."),
            .unauthorized = QStringLiteral("%1 does not let clients register themselves (%2). "
                                           "Configure a pre-registered client id for it "
                                           "instead."),
            .unauthorizedStatuses = {401, 403},
            .unauthorizedErrors = {},
    };
    finish(EndpointCall::outcome<RegisteredClient>(
            answer, [this](const QByteArray &body) { return accept(body); },
            [this, &wording](const HttpExchange::Answer &reply) {
                return d->call.refusal(reply, wording);
            }));
}

Result<RegisteredClient> ClientRegistration::accept(const QByteArray &body) const
{
    const nlohmann::json object = nlohmann::json::parse(body.cbegin(), body.cend(), nullptr, false);
    auto unusable = [this](const QString &why) {
        return d->call.unusable(QStringLiteral("%1 registered MCP Broker, but the answer cannot "
                                               "be used: %2."),
                                why);
    };
    if (!object.is_object())
        return unusable(QStringLiteral("it is not a JSON object"));
    Result<RegisteredClient> parsed = RegisteredClient::fromObject(object);
    if (!parsed) {
        return d->call.unusable(QStringLiteral("%1 answered the registration with something MCP "
                                               "Broker cannot use. %2"),
                                parsed.error().message);
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
    if (!d->call.finish())
        return;
    if (client)
        qCInfo(lcOAuth).noquote() << QStringLiteral("Registered at %1 (%2)")
                                             .arg(Wording::origin(d->call.endpoint()),
                                                  client.value().tokenEndpointAuthMethod);
    else
        qCWarning(lcOAuth).noquote() << "Client registration failed:" << client.error().message;
    Q_EMIT finished(client);
}

} // namespace mcpbroker::oauth
