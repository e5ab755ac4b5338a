#pragma once

#include "SignInCommand.h"

namespace mcpbroker::app {

// `mcp-broker login NAME`: signs in to an OAuth server in this process (discovery, the
// client's registration or the configured client, the browser and its loopback redirect, or
// the client_credentials grant) and leaves the tokens in the keychain, where a running or later
// `serve` finds them. The sign-in page's URL goes to stderr too, for a browser that does not
// open. Exit 0 once signed in; 1 for an unknown or non-OAuth server, a failed or timed-out
// sign-in, or Ctrl-C.
class LoginCommand : public SignInCommand
{
    Q_OBJECT
public:
    using SignInCommand::SignInCommand;

private:
    void signInFound(ServerSignIn *signIn) override;
};

} // namespace mcpbroker::app
