#include "Broker.h"

#include "Logging.h"
#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "store/ConfigStore.h"

#include <nlohmann/json.hpp>

namespace mcpbroker {

// Provisional: serves /status only; the MCP endpoint and upstreams are being wired in.
struct Broker::Private
{
    Options options;
    store::BrokerConfig config;
    std::unique_ptr<http::HttpServer> server;
};

Broker::Broker(Options options, QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    d->options = std::move(options);
    if (d->options.configPath.isEmpty())
        d->options.configPath = store::ConfigStore::defaultPath();
}

Broker::~Broker() = default;

Result<void> Broker::start()
{
    auto config = store::ConfigStore(d->options.configPath).load();
    if (!config)
        return config.error();
    d->config = config.value();
    d->server = std::make_unique<http::HttpServer>(
            [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                Q_UNUSED(request);
                nlohmann::json servers = nlohmann::json::array();
                for (const ServerStatus &status : serverStatuses())
                    servers.push_back({{"name", status.name.toStdString()},
                                       {"url", status.url.toString().toStdString()},
                                       {"state", stateName(status.state).toStdString()},
                                       {"error", status.error.toStdString()},
                                       {"tools", status.toolCount}});
                nlohmann::json body = {{"version", "0.1.0"},
                                       {"endpoint", endpointUrl().toString().toStdString()},
                                       {"servers", servers}};
                responder->send(http::HttpResponse::json(200, QByteArray::fromStdString(body.dump())));
            });
    return d->server->listen(d->options.port.value_or(d->config.port));
}

quint16 Broker::port() const
{
    return d->server ? d->server->port() : 0;
}

QUrl Broker::endpointUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port()));
}

QList<Broker::ServerStatus> Broker::serverStatuses() const
{
    QList<ServerStatus> statuses;
    for (const store::ServerConfig &server : d->config.servers) {
        ServerStatus status;
        status.name = server.name;
        status.url = server.url;
        status.state = server.enabled ? ServerStatus::State::Connecting
                                      : ServerStatus::State::Disabled;
        statuses.append(status);
    }
    return statuses;
}

QString Broker::stateName(ServerStatus::State state)
{
    switch (state) {
    case ServerStatus::State::Connecting:
        return QStringLiteral("connecting");
    case ServerStatus::State::Ready:
        return QStringLiteral("ready");
    case ServerStatus::State::Failed:
        return QStringLiteral("failed");
    case ServerStatus::State::Disabled:
        return QStringLiteral("disabled");
    }
    return {};
}

} // namespace mcpbroker
