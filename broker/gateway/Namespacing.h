#pragma once

#include <QString>

#include <optional>

// How the aggregated endpoint (/mcp) names what several upstreams offer, so that two upstreams
// can never collide. Server names match [a-z][a-z0-9-]{0,62} (ConfigStore), so they contain
// neither "_" nor "+":
//
//   tools and prompts:               <server>__<name>      "github__create_issue"
//   resource URIs and URI templates: <server>+<uri>        "github+repo://octo/readme"
//
// Splitting at the first "__" (or "+") is therefore unambiguous, whatever the upstream's own
// name contains. The second form keeps a valid URI: "<server>+<scheme>" is a valid scheme.
// On a one-server endpoint (/mcp/<server>) names pass through unchanged.
namespace mcpbroker::gateway::Namespacing {

struct Qualified
{
    QString server;
    QString name; // the upstream's own name or URI
};

QString qualifyName(const QString &server, const QString &name);
QString qualifyUri(const QString &server, const QString &uri);
// nullopt when the text does not carry a server part.
std::optional<Qualified> splitName(const QString &qualified);
std::optional<Qualified> splitUri(const QString &qualified);

} // namespace mcpbroker::gateway::Namespacing
