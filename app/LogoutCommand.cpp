#include "LogoutCommand.h"

#include "Console.h"
#include "ExitCode.h"
#include "ServerSignIn.h"
#include "oauth/UpstreamAuthorization.h"

namespace mcpbroker::app {

void LogoutCommand::signInFound(ServerSignIn *signIn)
{
    signIn->authorization()->signOut([this](Result<QString> signedOut) { report(signedOut); });
}

void LogoutCommand::runningBrokerFound(const store::ServerConfig &)
{
    askRunningBroker(QStringLiteral("logout"), kRunningBrokerTimeoutMs,
                     [this](Result<QJsonObject> reply) {
                         report(reply ? Result<QString>(
                                        reply.value().value(QStringLiteral("note")).toString())
                                      : Result<QString>(reply.error()));
                     });
}

void LogoutCommand::report(const Result<QString> &signedOut)
{
    const QString name = command().serverName;
    if (!signedOut) {
        Console::err(QStringLiteral("Could not sign out of '%1': %2")
                             .arg(name, Console::sentence(signedOut.error().message)));
        finish(kExitFailed);
        return;
    }
    Console::out(QStringLiteral("Signed out of '%1'.").arg(name));
    if (!signedOut.value().isEmpty())
        Console::err(QStringLiteral("Note: %1").arg(signedOut.value()));
    finish(kExitOk);
}

} // namespace mcpbroker::app
