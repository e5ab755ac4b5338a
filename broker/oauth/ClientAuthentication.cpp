#include "oauth/ClientAuthentication.h"

#include "oauth/ClientAssertion.h"

#include <QDateTime>

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
    if (name == QLatin1String("private_key_jwt"))
        return Method::PrivateKeyJwt;
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
    case Method::PrivateKeyJwt:
        return QStringLiteral("private_key_jwt");
    }
    return {};
}

Result<void> ClientAuthentication::apply(HttpExchange::FormFields &fields,
                                         HttpExchange::HeaderList &headers,
                                         QList<QByteArray> &secrets) const
{
    switch (method) {
    case Method::None:
        fields.append({QStringLiteral("client_id"), clientId});
        return {};
    case Method::ClientSecretPost:
        fields.append({QStringLiteral("client_id"), clientId});
        fields.append({QStringLiteral("client_secret"), QString::fromUtf8(clientSecret)});
        return {};
    case Method::ClientSecretBasic: {
        // RFC 6749 §2.3.1: each part form-urlencoded first, then "id:secret" in
        // Base64 (RFC 7617).
        QByteArray userPass = HttpExchange::formEncode(clientId) + ':'
                + HttpExchange::formEncode(QString::fromUtf8(clientSecret));
        headers.append({QByteArrayLiteral("Authorization"), "Basic " + userPass.toBase64()});
        userPass.fill('\0');
        return {};
    }
    case Method::PrivateKeyJwt: {
        Result<QByteArray> assertion = ClientAssertion::create(
                clientSecret, clientId, assertionAudience, QDateTime::currentSecsSinceEpoch());
        if (!assertion)
            return assertion.error();
        // RFC 7521 §4.2 and RFC 6749 §3.2.1: client_id is optional beside an
        // assertion whose sub names the client, and MAY be sent; it lets the
        // server find the client's key before it parses the assertion.
        fields.append({QStringLiteral("client_id"), clientId});
        fields.append({QStringLiteral("client_assertion_type"),
                       QString(ClientAssertion::kAssertionType)});
        fields.append({QStringLiteral("client_assertion"), QString::fromLatin1(assertion.value())});
        secrets.append(std::move(assertion).value());
        return {};
    }
    }
    return {};
}

} // namespace mcpbroker::oauth
