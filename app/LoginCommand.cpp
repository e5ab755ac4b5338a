#include "LoginCommand.h"

#include "Console.h"
#include "ExitCode.h"
#include "ServerSignIn.h"
#include "TerminationSignals.h"
#include "oauth/UpstreamAuthorization.h"
#include "store/ServerConfig.h"

#include <QUrl>

namespace mcpbroker::app {

void LoginCommand::signInFound(ServerSignIn *signIn)
{
    const QString name = command().serverName;
    // The browser flow waits minutes for the person; Ctrl-C ends it with a sentence.
    stopOnInterrupt(QStringLiteral("Interrupted: not signed in to '%1'.").arg(name));

    // The URL carries the state and the PKCE challenge, no secret.
    connect(signIn->authorization(), &oauth::UpstreamAuthorization::signInUrlReady, this,
            [](const QUrl &url, bool browserOpened) {
                // The address carries the sign-in's state: shown only when it must be typed.
                if (browserOpened)
                    Console::err(QStringLiteral("Opened the sign-in page of %1 in your browser. "
                                                "Waiting for the sign-in to finish (Ctrl-C to "
                                                "give up).")
                                         .arg(url.host()));
                else
                    Console::err(QStringLiteral("No browser could be opened. Open this address "
                                                "to sign in at %1:\n  %2\nWaiting for the "
                                                "sign-in to finish (Ctrl-C to give up).")
                                         .arg(url.host(), url.toString(QUrl::FullyEncoded)));
            });
    signIn->authorization()->signIn([this](Result<void> signedIn) { report(signedIn); });
}

void LoginCommand::runningBrokerFound(const store::ServerConfig &server)
{
    const QString name = server.name;
    stopOnInterrupt(QStringLiteral("Interrupted: no longer waiting for the sign-in to '%1'. The "
                                   "running MCP Broker still takes it if you finish it in the "
                                   "browser.")
                            .arg(name));
    Console::err(server.oauth.clientCredentials
                         ? QStringLiteral("Signing in to '%1' (through the running MCP "
                                          "Broker)…")
                                   .arg(name)
                         : QStringLiteral("Signing in to '%1' in your browser (through the "
                                          "running MCP Broker)…")
                                   .arg(name));
    askRunningBroker(QStringLiteral("login"), kRunningBrokerTimeoutMs,
                     [this](Result<QJsonObject> reply) {
                         report(reply ? Result<void>() : Result<void>(reply.error()));
                     });
}

void LoginCommand::stopOnInterrupt(const QString &sentence)
{
    auto *termination = new TerminationSignals(this);
    connect(termination, &TerminationSignals::received, this, [this, sentence] {
        Console::err(sentence);
        finish(kExitFailed);
    });
}

void LoginCommand::report(const Result<void> &signedIn)
{
    const QString name = command().serverName;
    if (!signedIn) {
        Console::err(QStringLiteral("Sign-in to '%1' failed: %2")
                             .arg(name, Console::sentence(signedIn.error().message)));
        finish(kExitFailed);
        return;
    }
    Console::out(QStringLiteral("Signed in to '%1'.").arg(name));
    finish(kExitOk);
}

} // namespace mcpbroker::app
