#pragma once

#include "Result.h"

#include <QStringList>

#include <nlohmann/json.hpp>

namespace mcpbroker::store {
struct BrokerConfig;
struct ServerConfig;
} // namespace mcpbroker::store

namespace mcpbroker::app {

// The configured servers as `list` shows them (and `status` when no broker runs): names, URLs,
// how they authenticate and whether they are enabled. Never a secret: the config has none.
namespace ServerListing {
// "none", "bearer", "headers: X-Api-Key", "oauth", "oauth (client ID)" (a client id is no secret)
QString authDescription(const store::ServerConfig &server);
QStringList lines(const store::BrokerConfig &config); // a table, or a hint when empty
// [{"name", "url", "auth", "secretHeaders", "enabled"}], and "oauth" (the config's settings)
// for OAuth servers
nlohmann::ordered_json toJson(const store::BrokerConfig &config);
QString noServersHint();
// NotFound: no server of that name, and where to see those there are.
Error unknownServer(const QString &name);
} // namespace ServerListing

} // namespace mcpbroker::app
