#include "ServerListing.h"

#include "TextTable.h"
#include "store/ServerConfig.h"

namespace mcpbroker::app {

namespace {

QString authName(store::UpstreamAuth auth)
{
    switch (auth) {
    case store::UpstreamAuth::None:
        return QStringLiteral("none");
    case store::UpstreamAuth::Bearer:
        return QStringLiteral("bearer");
    case store::UpstreamAuth::Headers:
        return QStringLiteral("headers");
    case store::UpstreamAuth::OAuth:
        return QStringLiteral("oauth");
    }
    return {};
}

// The settings as the config file has them, every key present: scripts need not guess defaults.
nlohmann::ordered_json oauthJson(const store::OAuthSettings &oauth)
{
    nlohmann::ordered_json scopes = nlohmann::ordered_json::array();
    for (const QString &scope : oauth.scopes)
        scopes.push_back(scope.toStdString());
    const auto textOrNull = [](const QString &text) {
        return text.isEmpty() ? nlohmann::ordered_json()
                              : nlohmann::ordered_json(text.toStdString());
    };
    return {{"clientId", textOrNull(oauth.clientId)},
            {"clientSecret", oauth.hasClientSecret},
            {"tokenEndpointAuthMethod", textOrNull(oauth.tokenEndpointAuthMethod)},
            {"clientMetadataUrl", textOrNull(oauth.clientMetadataUrl.toString(QUrl::FullyEncoded))},
            {"grant", oauth.clientCredentials ? "client_credentials" : "authorization_code"},
            {"scopes", std::move(scopes)}};
}

} // namespace

QString ServerListing::authDescription(const store::ServerConfig &server)
{
    if (server.auth == store::UpstreamAuth::Headers)
        return QStringLiteral("headers: %1")
                .arg(server.secretHeaderNames.join(QStringLiteral(", ")));
    if (server.auth == store::UpstreamAuth::OAuth && !server.oauth.clientId.isEmpty())
        return QStringLiteral("oauth (client %1)").arg(server.oauth.clientId);
    return authName(server.auth);
}

Error ServerListing::unknownServer(const QString &name)
{
    return Error::make(Error::Kind::NotFound,
                       QStringLiteral("No server named '%1'. `mcp-broker list` shows the "
                                      "configured servers.")
                               .arg(name));
}

QString ServerListing::noServersHint()
{
    return QStringLiteral("No servers are configured. Add one with `mcp-broker add NAME URL`.");
}

QStringList ServerListing::lines(const store::BrokerConfig &config)
{
    if (config.servers.isEmpty())
        return {noServersHint()};
    QList<QStringList> rows = {{QStringLiteral("NAME"), QStringLiteral("URL"),
                                QStringLiteral("AUTH"), QStringLiteral("ENABLED")}};
    for (const store::ServerConfig &server : config.servers) {
        rows.append({server.name, server.url.toString(), authDescription(server),
                     server.enabled ? QStringLiteral("yes") : QStringLiteral("no")});
    }
    return TextTable::format(rows);
}

nlohmann::ordered_json ServerListing::toJson(const store::BrokerConfig &config)
{
    nlohmann::ordered_json servers = nlohmann::ordered_json::array();
    for (const store::ServerConfig &server : config.servers) {
        nlohmann::ordered_json headers = nlohmann::ordered_json::array();
        for (const QString &header : server.secretHeaderNames)
            headers.push_back(header.toStdString());
        servers.push_back({{"name", server.name.toStdString()},
                           {"url", server.url.toString().toStdString()},
                           {"auth", authName(server.auth).toStdString()},
                           {"secretHeaders", std::move(headers)},
                           {"enabled", server.enabled}});
        if (server.auth == store::UpstreamAuth::OAuth)
            servers.back()["oauth"] = oauthJson(server.oauth);
    }
    return servers;
}

} // namespace mcpbroker::app
