#pragma once

#include <QByteArrayView>

// DNS-rebinding protection for a server bound to loopback (MCP 2025-11-25 transports, security
// warning): a web page can make a browser send requests to 127.0.0.1 under a name the attacker
// controls, and with any Origin. Such requests carry a foreign Host or Origin; these checks say
// which to refuse.
namespace mcpbroker::http::LoopbackPolicy {

// Host header: "localhost", "127.0.0.1" or "[::1]", with no port or exactly `port`.
bool isAllowedHost(QByteArrayView hostHeader, quint16 port);
// Origin header, when a request has one: http(s) with a loopback host (any port). "null" and
// every other origin are refused.
bool isAllowedOrigin(QByteArrayView origin);

} // namespace mcpbroker::http::LoopbackPolicy
