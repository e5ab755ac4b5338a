#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

class ServerSignIn;

// What `login` and `logout` share: they act on the sign-in of the OAuth server NAME of the
// config. start() finds it (exit 1 with a sentence for an unknown or non-OAuth server), then
// hands it to signInFound() with a ServerSignIn on the broker's keychain.
class SignInCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit SignInCommand(Command command, QObject *parent = nullptr);
    void start() final;

protected:
    virtual void signInFound(ServerSignIn *signIn) = 0;

private:
    store::SecretStore *m_keychain;
};

} // namespace mcpbroker::app
