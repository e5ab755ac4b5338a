#include "ClientGrantsAccess.h"

#include "Broker.h"
#include "gateway/ClientGrants.h"
#include "store/SecretStore.h"

namespace mcpbroker::app {

Result<gateway::ClientGrants *> openClientGrants(const QString &configPath, QObject *parent)
{
    auto *keychain = new store::SecretStore(Broker::Options().keychainService,
                                            store::SecretStore::kDefaultTimeoutMs, parent);
    auto *grants = new gateway::ClientGrants(gateway::ClientGrants::grantsPathFor(configPath),
                                             keychain, parent);
    if (auto started = grants->start(false); !started)
        return started.error();
    return grants;
}

} // namespace mcpbroker::app
