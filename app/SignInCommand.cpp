#include "SignInCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "ServerSignIn.h"
#include "store/SecretStore.h"

namespace mcpbroker::app {

SignInCommand::SignInCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this))
{ }

void SignInCommand::start()
{
    auto server = ServerSignIn::oauthServer(command().configFilePath(), command().serverName);
    if (!server) {
        Console::err(server.error().message);
        finish(kExitFailed);
        return;
    }
    signInFound(new ServerSignIn(server.value(), m_keychain, this));
}

} // namespace mcpbroker::app
