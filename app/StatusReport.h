#pragma once

#include <QStringList>

#include <nlohmann/json.hpp>

#include <optional>

class QByteArray;
class QDateTime;

namespace mcpbroker::app {

// What `status` makes of a running broker's GET /status answer:
// {"version", "endpoint", "servers": [{"name", "state", "tools", "error", and for OAuth servers
// "signIn" and "tokenExpiresAt"}], "problems": [sentence]}. Pure; `now` decides how an expiry
// is written.
namespace StatusReport {
// The answer, or nullopt when it is not one of MCP Broker's.
std::optional<nlohmann::json> parse(const QByteArray &body);
// A line about the broker, a "Problem: …" line per problem, then a table of its servers (a SIGN-IN column when one signs in
// with OAuth).
QStringList lines(const nlohmann::json &status, const QDateTime &now);
// "signed in, expires 14:05" (local time; a date too when not today), "needs sign-in",
// "signing in", "unknown". `signIn` as /status names it ("signed-in", …); `tokenExpiresAt` an
// ISO 8601 time or empty.
QString signInDescription(const QString &signIn, const QString &tokenExpiresAt,
                          const QDateTime &now);
} // namespace StatusReport

} // namespace mcpbroker::app
