#include "oauth/ClientAuthentication.h"

namespace mcpbroker::oauth {

std::optional<ClientAuthentication::Method>
ClientAuthentication::methodFromName(const QString &name)
{
    if (name == QLatin1String("none"))
        return Method::None;
    if (name == QLatin1String("client_secret_basic"))
        return Method::ClientSecretBasic;
    if (name == QLatin1String("client_secret_post"))
        return Method::ClientSecretPost;
    return std::nullopt;
}

QString ClientAuthentication::methodName(Method method)
{
    switch (method) {
    case Method::None:
        return QStringLiteral("none");
    case Method::ClientSecretBasic:
        return QStringLiteral("client_secret_basic");
    case Method::ClientSecretPost:
        return QStringLiteral("client_secret_post");
    }
    return {};
}

void ClientAuthentication::apply(HttpExchange::FormFields &fields,
                                 HttpExchange::HeaderList &headers) const
{
    switch (method) {
    case Method::None:
        fields.append({QStringLiteral("client_id"), clientId});
        return;
    case Method::ClientSecretPost:
        fields.append({QStringLiteral("client_id"), clientId});
        fields.append({QStringLiteral("client_secret"), QString::fromUtf8(clientSecret)});
        return;
    case Method::ClientSecretBasic: {
        // RFC 6749 §2.3.1: each part form-urlencoded first, then "id:secret" in
        // Base64 (RFC 7617).
        QByteArray userPass = HttpExchange::formEncode(clientId) + ':'
                + HttpExchange::formEncode(QString::fromUtf8(clientSecret));
        headers.append({QByteArrayLiteral("Authorization"), "Basic " + userPass.toBase64()});
        userPass.fill('\0');
        return;
    }
    }
}

} // namespace mcpbroker::oauth
