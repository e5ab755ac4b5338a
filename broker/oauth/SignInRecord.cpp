#include "oauth/SignInRecord.h"

#include <nlohmann/json.hpp>

namespace mcpbroker::oauth {

namespace {

using json = nlohmann::json;

constexpr int kFormat = 1;

QStringList stringList(const json &array)
{
    QStringList list;
    for (const json &item : array) {
        if (item.is_string())
            list.append(QString::fromStdString(item.get<std::string>()));
    }
    return list;
}

bool flag(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

json jsonList(const QStringList &list)
{
    json array = json::array();
    for (const QString &item : list)
        array.push_back(item.toStdString());
    return array;
}

} // namespace

QByteArray SignInRecord::toJson() const
{
    const json record = {
            {"format", kFormat},
            {"issuer", server.issuer.toStdString()},
            {"resource", resource.toStdString()},
            {"authorizationEndpoint", server.authorizationEndpoint.toString().toStdString()},
            {"tokenEndpoint", server.tokenEndpoint.toString().toStdString()},
            {"registrationEndpoint", server.registrationEndpoint.toString().toStdString()},
            {"revocationEndpoint", server.revocationEndpoint.toString().toStdString()},
            {"tokenEndpointAuthMethods", jsonList(server.tokenEndpointAuthMethodsSupported)},
            {"clientIdMetadataDocumentSupported", server.clientIdMetadataDocumentSupported},
            {"issParameterSupported", server.authorizationResponseIssParameterSupported},
    };
    return QByteArray::fromStdString(record.dump());
}

Result<SignInRecord> SignInRecord::fromJson(const QByteArray &text)
{
    const Error damaged = Error::make(Error::Kind::InvalidInput,
                                      QStringLiteral("The sign-in record in the keychain is "
                                                     "damaged; sign in again."));
    const json record = json::parse(text.toStdString(), nullptr, false);
    if (!record.is_object() || !record.contains("format") || record["format"] != kFormat)
        return damaged;
    const auto textOf = [&](const char *key) {
        const auto it = record.find(key);
        return it != record.end() && it->is_string()
                ? QString::fromStdString(it->get<std::string>())
                : QString();
    };
    SignInRecord result;
    result.server.issuer = textOf("issuer");
    result.resource = textOf("resource");
    result.server.authorizationEndpoint = QUrl(textOf("authorizationEndpoint"));
    result.server.tokenEndpoint = QUrl(textOf("tokenEndpoint"));
    result.server.registrationEndpoint = QUrl(textOf("registrationEndpoint"));
    result.server.revocationEndpoint = QUrl(textOf("revocationEndpoint"));
    result.server.tokenEndpointAuthMethodsSupported = record.contains("tokenEndpointAuthMethods")
            ? stringList(record["tokenEndpointAuthMethods"])
            : QStringList();
    result.server.clientIdMetadataDocumentSupported
            = flag(record, "clientIdMetadataDocumentSupported");
    result.server.authorizationResponseIssParameterSupported
            = flag(record, "issParameterSupported");
    result.server.codeChallengeMethodsSupported = {QStringLiteral("S256")};
    if (result.server.issuer.isEmpty() || result.resource.isEmpty()
        || !result.server.tokenEndpoint.isValid() || result.server.tokenEndpoint.isEmpty())
        return damaged;
    return result;
}

} // namespace mcpbroker::oauth
