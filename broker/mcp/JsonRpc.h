#pragma once

#include <QByteArray>
#include <QString>

#include <nlohmann/json.hpp>

#include <optional>

// JSON-RPC 2.0 as MCP uses it (basic protocol, 2025-11-25): shapes, error codes, builders.
namespace mcpbroker::mcp::jsonrpc {

using json = nlohmann::json;

namespace ErrorCode {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
// Implementation-defined server errors (-32000 to -32099).
inline constexpr int kUpstreamUnavailable = -32001;
inline constexpr int kUpstreamTimeout = -32002;
// MCP 2025-11-25: the request needs the user to visit a URL first (URL elicitation).
inline constexpr int kUrlElicitationRequired = -32042;
} // namespace ErrorCode

enum class MessageKind { Request, Notification, Response, Invalid };

// A request has a string or integer id (MCP forbids null) and a method; a response has an id
// and exactly one of result and error; a notification has a method and no id.
MessageKind classify(const json &message);

json makeRequest(const json &id, const QString &method, json params);
json makeNotification(const QString &method, json params);
json makeResult(const json &id, json result);
json makeError(const json &id, int code, const QString &message, json data = nullptr);

// Arrays and objects nested deeper than this are refused by parse(): nlohmann::json copies,
// compares, serialises (and the broker relays) values recursively, so a message nested a few
// hundred thousand levels deep (a few hundred KB) would overflow the stack. No MCP message
// comes near it.
inline constexpr int kMaxDepth = 512;

// The JSON value of `bytes`; nullopt when they are not JSON or nest deeper than kMaxDepth.
std::optional<json> parse(QByteArrayView bytes);
QByteArray serialize(const json &message);

// The method, or "" when `message` has none (or is not an object).
QString method(const json &message);
// params, or an empty object when absent.
json params(const json &message);

QString toQString(const json &value); // a JSON string's text, else ""
std::string toStd(const QString &text);

} // namespace mcpbroker::mcp::jsonrpc
