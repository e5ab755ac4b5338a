#pragma once

#include "AsyncCommand.h"

#include <QJsonObject>

#include <functional>

namespace mcpbroker::store {
class SecretStore;
struct ServerConfig;
} // namespace mcpbroker::store

namespace mcpbroker::app {

class ServerSignIn;

// What `login` and `logout` share: they act on the sign-in of the OAuth server NAME of the
// config. start() finds it (exit 1 with a sentence for an unknown or non-OAuth server). When a
// broker runs for the config (tray or `serve`) and the server is enabled, the command asks that
// broker to do it (runningBrokerFound()), so that its state changes at once; otherwise it hands
// the server to signInFound() with a ServerSignIn on the broker's keychain.
class SignInCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit SignInCommand(Command command, QObject *parent = nullptr);
    void start() final;

protected:
    virtual void signInFound(ServerSignIn *signIn) = 0;
    virtual void runningBrokerFound(const store::ServerConfig &server) = 0;
    // Sends {"command": command, "server": NAME} to the running broker (InstanceService).
    void askRunningBroker(const QString &command, int timeoutMs,
                          std::function<void(Result<QJsonObject>)> done) const;

private:
    store::SecretStore *m_keychain;
};

} // namespace mcpbroker::app
