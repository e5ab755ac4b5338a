#pragma once

#include "SignInCommand.h"

namespace mcpbroker::app {

// `mcp-broker logout NAME`: revokes the tokens of an OAuth server at its authorization server
// when it offers revocation (RFC 7009), then deletes them and the sign-in record from the
// keychain; through the broker running for the config when there is one, so that it stops
// using them at once. Exit 0 once they are gone, also when nothing was signed in or revocation did not
// work (a note on stderr says so); 1 for an unknown or non-OAuth server or a keychain that
// fails.
class LogoutCommand : public SignInCommand
{
    Q_OBJECT
public:
    using SignInCommand::SignInCommand;

private:
    void signInFound(ServerSignIn *signIn) override;
    void runningBrokerFound(const store::ServerConfig &server) override;
    void report(const Result<QString> &signedOut);

    // Revocation is one request to the authorization server, with its own timeout.
    static constexpr int kRunningBrokerTimeoutMs = 60'000;
};

} // namespace mcpbroker::app
