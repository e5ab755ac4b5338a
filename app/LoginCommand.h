#pragma once

#include "SignInCommand.h"

namespace mcpbroker::app {

// `mcp-broker login NAME`: signs in to an OAuth server (discovery, the client's registration or
// the configured client, the browser and its loopback redirect, or the client_credentials
// grant) and leaves the tokens in the keychain. When a broker runs for the config, that broker
// signs in (its browser window, its state at once) and this command waits for it; otherwise
// this process does, and a later `serve` finds the tokens. The sign-in page's URL goes to
// stderr too, for a browser that does not open. Exit 0 once signed in; 1 for an unknown or
// non-OAuth server, a failed or timed-out sign-in, or Ctrl-C.
class LoginCommand : public SignInCommand
{
    Q_OBJECT
public:
    using SignInCommand::SignInCommand;

private:
    void signInFound(ServerSignIn *signIn) override;
    void runningBrokerFound(const store::ServerConfig &server) override;
    // Ctrl-C ends the wait with `sentence`.
    void stopOnInterrupt(const QString &sentence);
    void report(const Result<void> &signedIn);

    // The person may take minutes in the browser; the broker's own sign-in gives up before.
    static constexpr int kRunningBrokerTimeoutMs = 10 * 60 * 1000;
};

} // namespace mcpbroker::app
