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
    }
    return {};
}

} // namespace

QString ServerListing::authDescription(const store::ServerConfig &server)
{
    if (server.auth == store::UpstreamAuth::Headers)
        return QStringLiteral("headers: %1").arg(server.secretHeaderNames.join(QStringLiteral(", ")));
    return authName(server.auth);
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
    }
    return servers;
}

} // namespace mcpbroker::app
