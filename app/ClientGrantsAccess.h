#pragma once

#include "Result.h"

#include <QString>

class QObject;

namespace mcpbroker::gateway {
class ClientGrants;
}

namespace mcpbroker::app {

// The grants of the config at `configPath` (grants.json next to it, hashes in the broker's
// keychain service), for a command that creates or revokes one: read once, not watched. The
// grants and their keychain are children of `parent`.
Result<gateway::ClientGrants *> openClientGrants(const QString &configPath, QObject *parent);

} // namespace mcpbroker::app
