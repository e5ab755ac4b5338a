#include "mcp/JsonRpc.h"

namespace mcpbroker::mcp::jsonrpc {

namespace {

bool isValidId(const json &id)
{
    return id.is_string() || id.is_number_integer();
}

// Whether `bytes` opens more arrays and objects inside each other than kMaxDepth; strings are
// skipped. Bytes that are not JSON may count wrong: the parser refuses them anyway.
bool nestsTooDeep(QByteArrayView bytes)
{
    int depth = 0;
    bool inString = false;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxDepth)
                return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

} // namespace

MessageKind classify(const json &message)
{
    if (!message.is_object() || message.value("jsonrpc", json()) != "2.0")
        return MessageKind::Invalid;
    const auto method = message.find("method");
    const auto id = message.find("id");
    if (method != message.end()) {
        if (!method->is_string())
            return MessageKind::Invalid;
        if (const auto p = message.find("params"); p != message.end() && !p->is_object())
            return MessageKind::Invalid;
        if (id == message.end())
            return MessageKind::Notification;
        return isValidId(*id) ? MessageKind::Request : MessageKind::Invalid;
    }
    if (id == message.end() || !(isValidId(*id) || id->is_null()))
        return MessageKind::Invalid;
    const bool hasResult = message.contains("result");
    const bool hasError = message.contains("error");
    if (hasResult == hasError)
        return MessageKind::Invalid;
    if (hasError && !message["error"].is_object())
        return MessageKind::Invalid;
    return MessageKind::Response;
}

json makeRequest(const json &id, const QString &method, json params)
{
    json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", toStd(method)}};
    if (!params.is_null())
        message["params"] = std::move(params);
    return message;
}

json makeNotification(const QString &method, json params)
{
    json message = {{"jsonrpc", "2.0"}, {"method", toStd(method)}};
    if (!params.is_null())
        message["params"] = std::move(params);
    return message;
}

json makeResult(const json &id, json result)
{
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json makeError(const json &id, int code, const QString &message, json data)
{
    json error = {{"code", code}, {"message", toStd(message)}};
    if (!data.is_null())
        error["data"] = std::move(data);
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

std::optional<json> parse(QByteArrayView bytes)
{
    // The parser stops at a NUL as if the input ended there; JSON never contains a raw NUL.
    if (bytes.contains('\0') || nestsTooDeep(bytes))
        return std::nullopt;
    json value = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
        return std::nullopt;
    return value;
}

QByteArray serialize(const json &message)
{
    return QByteArray::fromStdString(message.dump(-1, ' ', false, json::error_handler_t::replace));
}

QString method(const json &message)
{
    // value() throws on anything but an object: a batch element may be any JSON value.
    return message.is_object() ? toQString(message.value("method", json())) : QString();
}

json params(const json &message)
{
    const auto it = message.find("params");
    return it != message.end() && it->is_object() ? *it : json::object();
}

QString toQString(const json &value)
{
    return value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString();
}

std::string toStd(const QString &text)
{
    return text.toStdString();
}

} // namespace mcpbroker::mcp::jsonrpc
