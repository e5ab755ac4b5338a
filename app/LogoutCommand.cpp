#include "LogoutCommand.h"

#include "Console.h"
#include "ExitCode.h"
#include "ServerSignIn.h"
#include "oauth/UpstreamAuthorization.h"

namespace mcpbroker::app {

void LogoutCommand::signInFound(ServerSignIn *signIn)
{
    const QString name = command().serverName;
    signIn->authorization()->signOut([this, name](Result<QString> signedOut) {
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
    });
}

} // namespace mcpbroker::app
