#include "store/JsonTypeName.h"

namespace mcpbroker::store {

QString jsonTypeName(const nlohmann::json &value)
{
    using nlohmann::json;
    switch (value.type()) {
    case json::value_t::null:
        return QStringLiteral("null");
    case json::value_t::object:
        return QStringLiteral("an object");
    case json::value_t::array:
        return QStringLiteral("a list");
    case json::value_t::string:
        return QStringLiteral("text");
    case json::value_t::boolean:
        return QStringLiteral("true/false");
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
        return QStringLiteral("a whole number");
    case json::value_t::number_float:
        return QStringLiteral("a fractional number");
    default:
        return QStringLiteral("something else");
    }
}

} // namespace mcpbroker::store
