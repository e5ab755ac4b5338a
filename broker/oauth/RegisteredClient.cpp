#include "oauth/RegisteredClient.h"

namespace mcpbroker::oauth {

namespace {

Error malformed(const QString &why)
{
    return Error::make(Error::Kind::Protocol,
                       QStringLiteral("The client registration cannot be used: %1.").arg(why));
}

} // namespace

bool RegisteredClient::isExpired(qint64 nowSecs) const
{
    return clientSecretExpiresAt != 0 && nowSecs >= clientSecretExpiresAt;
}

QByteArray RegisteredClient::toJson() const
{
    nlohmann::json object = raw.is_object() ? raw : nlohmann::json::object();
    object["client_id"] = clientId.toStdString();
    if (clientSecret.isEmpty())
        object.erase("client_secret");
    else
        object["client_secret"] = clientSecret.toStdString();
    object["token_endpoint_auth_method"] = tokenEndpointAuthMethod.toStdString();
    object["client_secret_expires_at"] = clientSecretExpiresAt;
    nlohmann::json uris = nlohmann::json::array();
    for (const QString &uri : redirectUris)
        uris.push_back(uri.toStdString());
    object["redirect_uris"] = uris;
    return QByteArray::fromStdString(object.dump());
}

Result<RegisteredClient> RegisteredClient::fromJson(const QByteArray &json)
{
    const nlohmann::json object = nlohmann::json::parse(json.cbegin(), json.cend(), nullptr, false);
    if (!object.is_object())
        return malformed(QStringLiteral("it is not a JSON object"));
    return fromObject(object);
}

Result<RegisteredClient> RegisteredClient::fromObject(const nlohmann::json &object)
{
    RegisteredClient client;
    client.raw = object;
    const auto id = object.find("client_id");
    if (id == object.end() || !id->is_string() || id->get_ref<const std::string &>().empty())
        return malformed(QStringLiteral("it has no client_id"));
    client.clientId = QString::fromStdString(id->get<std::string>());

    if (const auto secret = object.find("client_secret");
        secret != object.end() && !secret->is_null()) {
        if (!secret->is_string())
            return malformed(QStringLiteral("its client_secret is not a string"));
        client.clientSecret = QByteArray::fromStdString(secret->get<std::string>());
    }
    if (const auto expires = object.find("client_secret_expires_at");
        expires != object.end() && !expires->is_null()) {
        if (!expires->is_number_integer() || expires->get<qint64>() < 0)
            return malformed(QStringLiteral("its client_secret_expires_at is not a time"));
        client.clientSecretExpiresAt = expires->get<qint64>();
    }
    if (const auto method = object.find("token_endpoint_auth_method");
        method != object.end() && !method->is_null()) {
        if (!method->is_string())
            return malformed(QStringLiteral("its token_endpoint_auth_method is not a string"));
        client.tokenEndpointAuthMethod = QString::fromStdString(method->get<std::string>());
    } else {
        // RFC 7591 §2: client_secret_basic when unsaid; a client without secret can
        // only be public.
        client.tokenEndpointAuthMethod = client.clientSecret.isEmpty()
                ? QStringLiteral("none")
                : QStringLiteral("client_secret_basic");
    }
    if (const auto uris = object.find("redirect_uris"); uris != object.end() && !uris->is_null()) {
        if (!uris->is_array())
            return malformed(QStringLiteral("its redirect_uris is not a list"));
        for (const nlohmann::json &uri : *uris) {
            if (!uri.is_string())
                return malformed(QStringLiteral("its redirect_uris is not a list of strings"));
            client.redirectUris.append(QString::fromStdString(uri.get<std::string>()));
        }
    }
    return client;
}

} // namespace mcpbroker::oauth
