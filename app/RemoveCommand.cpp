#include "RemoveCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "SecretBatch.h"
#include "store/ConfigStore.h"
#include "store/SecretStore.h"

namespace mcpbroker::app {

RemoveCommand::RemoveCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this))
{
}

void RemoveCommand::start()
{
    const QString name = command().serverName;
    const store::ConfigStore configStore(command().configFilePath());
    auto config = configStore.load();
    if (!config) {
        Console::err(config.error().message);
        finish(kExitFailed);
        return;
    }
    const store::ServerConfig *server = config.value().server(name);
    if (!server) {
        Console::err(QStringLiteral("No server named '%1'. `mcp-broker list` shows the configured "
                                    "servers.")
                             .arg(name));
        finish(kExitFailed);
        return;
    }
    const QStringList keys = SecretBatch::keysOf(*server);
    config.value().servers.removeIf(
            [&name](const store::ServerConfig &candidate) { return candidate.name == name; });
    if (auto saved = configStore.save(config.value()); !saved) {
        Console::err(saved.error().message);
        finish(kExitFailed);
        return;
    }

    if (keys.isEmpty()) {
        Console::out(QStringLiteral("Removed server '%1'.").arg(name));
        finish(kExitOk);
        return;
    }
    SecretBatch::remove(m_keychain, keys, [this, name](Result<void> removed, QStringList left) {
        if (removed) {
            Console::out(QStringLiteral("Removed server '%1' and its secrets.").arg(name));
            finish(kExitOk);
            return;
        }
        Console::out(QStringLiteral("Removed server '%1'.").arg(name));
        Console::err(QStringLiteral("Warning: its secrets stay in the keychain (%1): %2 Nothing "
                                    "uses them any more. To delete them, add the server again "
                                    "and remove it once the keychain works, or delete them in "
                                    "your keychain app (service '%3').")
                             .arg(left.join(QStringLiteral(", ")),
                                  Console::sentence(removed.error().message),
                                  m_keychain->service()));
        finish(kExitOk);
    });
}

} // namespace mcpbroker::app
