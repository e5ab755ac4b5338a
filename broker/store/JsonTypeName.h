#pragma once

#include <QString>

#include <nlohmann/json.hpp>

namespace mcpbroker::store {

// What a JSON value is, in the words the config file's error messages use ("a list", "text").
QString jsonTypeName(const nlohmann::json &value);

} // namespace mcpbroker::store
