#include "RemoveCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "SecretBatch.h"
#include "ServerListing.h"
#include "ServerSignIn.h"
#include "oauth/UpstreamAuthorization.h"
#include "store/ConfigStore.h"
#include "store/SecretStore.h"

namespace mcpbroker::app {

RemoveCommand::RemoveCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this))
{ }

void RemoveCommand::start()
{
    const auto config = store::ConfigStore(command().configFilePath()).load();
    if (!config) {
        Console::err(config.error().message);
        finish(kExitFailed);
        return;
    }
    const store::ServerConfig *server = config.value().server(command().serverName);
    if (!server) {
        Console::err(ServerListing::unknownServer(command().serverName).message);
        finish(kExitFailed);
        return;
    }
    m_server = *server;
    if (m_server.auth == store::UpstreamAuth::OAuth)
        signOutFirst();
    else
        removeServer({});
}

// The tokens are found through the sign-in record, which only the server's name leads to:
// deleted before the server is, and kept when the tokens could not be deleted.
void RemoveCommand::signOutFirst()
{
    auto *signIn = new ServerSignIn(m_server, m_keychain, this);
    signIn->authorization()->signOut([this, signIn](Result<QString> signedOut) {
        signIn->deleteLater();
        if (!signedOut) {
            removeServer(Console::sentence(signedOut.error().message));
            return;
        }
        if (!signedOut.value().isEmpty())
            Console::err(QStringLiteral("Note: %1").arg(signedOut.value()));
        removeServer({});
    });
}

void RemoveCommand::removeServer(const QString &signInLeft)
{
    // Loaded again: the file may have changed during the sign-out.
    const store::ConfigStore configStore(command().configFilePath());
    auto config = configStore.load();
    if (!config) {
        Console::err(config.error().message);
        finish(kExitFailed);
        return;
    }
    const QString name = m_server.name;
    const qsizetype removed = config.value().servers.removeIf(
            [&name](const store::ServerConfig &candidate) { return candidate.name == name; });
    if (removed > 0) {
        if (auto saved = configStore.save(config.value()); !saved) {
            Console::err(saved.error().message);
            finish(kExitFailed);
            return;
        }
    }
    removeSecrets(signInLeft);
}

void RemoveCommand::removeSecrets(const QString &signInLeft)
{
    const QString name = m_server.name;
    QStringList keys = SecretBatch::keysOf(m_server);
    if (!signInLeft.isEmpty()) {
        keys.removeAll(store::SecretKeys::oauthSession(name));
        Console::err(QStringLiteral("Warning: the sign-in to '%1' stays in the keychain: %2 "
                                    "Nothing uses it any more. To delete it, add the server again "
                                    "with --oauth and run `mcp-broker logout %1` once the keychain "
                                    "works.")
                             .arg(name, signInLeft));
    }
    if (keys.isEmpty()) {
        Console::out(QStringLiteral("Removed server '%1'.").arg(name));
        finish(kExitOk);
        return;
    }
    const bool signInGone = signInLeft.isEmpty();
    SecretBatch::remove(
            m_keychain, keys, [this, name, signInGone](Result<void> removed, QStringList left) {
                if (removed) {
                    Console::out(signInGone ? QStringLiteral("Removed server '%1' and its secrets.")
                                                      .arg(name)
                                            : QStringLiteral("Removed server '%1'.").arg(name));
                    finish(kExitOk);
                    return;
                }
                Console::out(QStringLiteral("Removed server '%1'.").arg(name));
                Console::err(
                        QStringLiteral("Warning: its secrets stay in the keychain (%1): %2 Nothing "
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
