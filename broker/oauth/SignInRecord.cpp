#include "oauth/SignInRecord.h"

#include <nlohmann/json.hpp>

namespace mcpbroker::oauth {

namespace {

using json = nlohmann::json;

constexpr int kFormat = 1;

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
    // Only what toJson() writes: a member of another type is damage, not a default.
    bool intact = true;
    const auto textOf = [&](const char *key) {
        const auto it = record.find(key);
        if (it == record.end())
            return QString();
        if (!it->is_string()) {
            intact = false;
            return QString();
        }
        return QString::fromStdString(it->get<std::string>());
    };
    const auto flagOf = [&](const char *key) {
        const auto it = record.find(key);
        if (it == record.end())
            return false;
        if (!it->is_boolean()) {
            intact = false;
            return false;
        }
        return it->get<bool>();
    };
    SignInRecord result;
    result.server.issuer = textOf("issuer");
    result.resource = textOf("resource");
    result.server.authorizationEndpoint = QUrl(textOf("authorizationEndpoint"));
    result.server.tokenEndpoint = QUrl(textOf("tokenEndpoint"));
    result.server.registrationEndpoint = QUrl(textOf("registrationEndpoint"));
    result.server.revocationEndpoint = QUrl(textOf("revocationEndpoint"));
    if (const auto methods = record.find("tokenEndpointAuthMethods"); methods != record.end()) {
        if (!methods->is_array())
            return damaged;
        for (const json &method : *methods) {
            if (!method.is_string())
                return damaged;
            result.server.tokenEndpointAuthMethodsSupported.append(
                    QString::fromStdString(method.get<std::string>()));
        }
    }
    result.server.clientIdMetadataDocumentSupported = flagOf("clientIdMetadataDocumentSupported");
    result.server.authorizationResponseIssParameterSupported = flagOf("issParameterSupported");
    result.server.codeChallengeMethodsSupported = {QStringLiteral("S256")};
    if (!intact || result.server.issuer.isEmpty() || result.resource.isEmpty()
        || !result.server.tokenEndpoint.isValid() || result.server.tokenEndpoint.isEmpty())
        return damaged;
    return result;
}

} // namespace mcpbroker::oauth
