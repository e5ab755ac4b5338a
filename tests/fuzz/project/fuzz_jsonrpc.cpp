// JSON-RPC / MCP message handling (broker/mcp/JsonRpc): the body of a POST to /mcp, a line of
// `mcp-broker stdio`, an event of an upstream's stream. The message is taken apart the way
// StreamableHttpServer::handlePost and StdioBridge do (a batch or one message, each one
// classified, its method and params read). Properties, besides no crash, UB or leak:
// - serialize() and parse() round-trip: the same value, and the same text the second time;
// - classify() agrees with the JSON-RPC shapes (a request has a string or integer id and a
//   string method, …) and is the same for the round-tripped message;
// - the answers the broker builds for a message (result, error, the relayed request or
//   notification) classify as what they are;
// - protocol version negotiation always picks a version we speak;
// - nothing nests deeper than kMaxDepth (deeper input overflowed the stack when copied).

#include "FuzzSupport.h"

#include "mcp/JsonRpc.h"
#include "mcp/ProtocolVersion.h"

#include <algorithm>

using namespace mcpbroker::mcp;
using namespace mcpbroker::mcp::jsonrpc;

namespace {

// How deep arrays and objects nest in `value` (a scalar: 0).
int depthOf(const json &value)
{
    int deepest = 0;
    if (value.is_structured()) {
        for (const json &element : value)
            deepest = std::max(deepest, depthOf(element));
        ++deepest;
    }
    return deepest;
}

void checkShape(const json &message, MessageKind kind)
{
    if (kind == MessageKind::Invalid)
        return;
    FUZZ_CHECK(message.is_object() && message.at("jsonrpc") == "2.0");
    const bool hasId = message.contains("id");
    switch (kind) {
    case MessageKind::Request:
        FUZZ_CHECK(hasId && (message["id"].is_string() || message["id"].is_number_integer()));
        FUZZ_CHECK(message["method"].is_string());
        break;
    case MessageKind::Notification:
        FUZZ_CHECK(!hasId && message["method"].is_string());
        break;
    case MessageKind::Response:
        FUZZ_CHECK(hasId && !message.contains("method"));
        FUZZ_CHECK(message.contains("result") != message.contains("error"));
        break;
    case MessageKind::Invalid:
        break;
    }
    FUZZ_CHECK(params(message).is_object());
}

// What the broker answers or relays for one message must be well-formed JSON-RPC itself.
void checkAnswers(const json &message, MessageKind kind)
{
    const QString name = method(message);
    FUZZ_CHECK(classify(makeError(nullptr, ErrorCode::kInvalidRequest, name))
               == MessageKind::Response);
    if (kind == MessageKind::Request) {
        const json &id = message["id"];
        FUZZ_CHECK(classify(makeResult(id, json::object())) == MessageKind::Response);
        const json error = makeError(id, ErrorCode::kMethodNotFound,
                                     QStringLiteral("Method not found: %1").arg(name), message);
        FUZZ_CHECK(classify(error) == MessageKind::Response);
        const auto reparsed = parse(serialize(error));
        FUZZ_CHECK(reparsed && classify(*reparsed) == MessageKind::Response);
        FUZZ_CHECK(classify(makeRequest(id, name, params(message))) == MessageKind::Request);
        if (name == QLatin1String("initialize")) {
            const QString requested = toQString(params(message).value("protocolVersion", json()));
            FUZZ_CHECK(ProtocolVersion::isSupported(ProtocolVersion::negotiate(requested)));
        }
    } else if (kind == MessageKind::Notification) {
        FUZZ_CHECK(classify(makeNotification(name, params(message))) == MessageKind::Notification);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::optional<json> body = parse(mcpbroker::fuzz::bytesOf(data, size));
    if (!body)
        return 0;
    FUZZ_CHECK(depthOf(*body) <= kMaxDepth);

    const QByteArray text = serialize(*body);
    const std::optional<json> again = parse(text);
    FUZZ_CHECK(again && *again == *body);
    FUZZ_CHECK(serialize(*again) == text);

    // Whatever the shape, these read without throwing.
    method(*body);
    params(*body);
    toQString(*body);

    const bool isBatch = body->is_array();
    const json messages = isBatch ? *body : json::array({*body});
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const json &message = messages[i];
        const MessageKind kind = classify(message);
        FUZZ_CHECK(classify(isBatch ? (*again)[i] : *again) == kind);
        checkShape(message, kind);
        checkAnswers(message, kind);
    }
    return 0;
}
