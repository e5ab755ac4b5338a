#include "SignInCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "InstanceChannel.h"
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
    // A disabled server has no sign-in in the running broker: this process does it alone.
    if (server.value().enabled && InstanceClient::isRunning(command().configFilePath())) {
        runningBrokerFound(server.value());
        return;
    }
    signInFound(new ServerSignIn(server.value(), m_keychain, this));
}

void SignInCommand::askRunningBroker(const QString &command, int timeoutMs,
                                     std::function<void(Result<QJsonObject>)> done) const
{
    const QJsonObject request{{QStringLiteral("command"), command},
                              {QStringLiteral("server"), this->command().serverName}};
    InstanceClient::send(this->command().configFilePath(), request, timeoutMs, std::move(done));
}

} // namespace mcpbroker::app
