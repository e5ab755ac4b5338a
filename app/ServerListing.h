#pragma once

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
QString authDescription(const store::ServerConfig &server); // "none", "bearer", "headers: X-Api-Key"
QStringList lines(const store::BrokerConfig &config);       // a table, or a hint when empty
// [{"name", "url", "auth", "secretHeaders", "enabled"}]
nlohmann::ordered_json toJson(const store::BrokerConfig &config);
QString noServersHint();
} // namespace ServerListing

} // namespace mcpbroker::app
