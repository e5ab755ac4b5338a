#include "RemoveCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "ServerListing.h"
#include "ServerSignIn.h"
#include "oauth/UpstreamAuthorization.h"
#include "store/ConfigStore.h"
#include "store/SecretStore.h"
#include "store/ServerEditor.h"

namespace mcpbroker::app {

namespace {

// Signs out in this process, as `logout` does. The note of the revocation is printed at once and
// not passed on: the editor's note then holds only what stayed behind.
void signOut(const store::ServerConfig &server, store::SecretStore *keychain, QObject *parent,
             std::function<void(Result<QString>)> done)
{
    auto *signIn = new ServerSignIn(server, keychain, parent);
    signIn->authorization()->signOut([signIn, done](Result<QString> signedOut) {
        signIn->deleteLater();
        if (signedOut && !signedOut.value().isEmpty())
            Console::err(QStringLiteral("Note: %1").arg(signedOut.value()));
        done(signedOut ? Result<QString>(QString()) : signedOut);
    });
}

} // namespace

RemoveCommand::RemoveCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this)),
      m_editor(new store::ServerEditor(AsyncCommand::command().configFilePath(), m_keychain, this))
{ }

void RemoveCommand::start()
{
    // Looked up here too, for the command line's words: an unknown name, and whether "its
    // secrets" went.
    const auto config = store::ConfigStore(command().configFilePath()).load();
    if (!config) {
        Console::err(config.error().message);
        finish(kExitFailed);
        return;
    }
    const store::ServerConfig *server = config.value().server(command().serverName);
    if (!server) {
        Console::err(ServerListing::unknownServer(command().serverName).message);
        finish(kExitFailed);
        return;
    }
    const bool hadSecrets = !store::ServerEditor::secretKeysOf(*server).isEmpty();
    m_editor->remove(
            server->name,
            [this](const store::ServerConfig &oauthServer,
                   std::function<void(Result<QString>)> done) {
                signOut(oauthServer, m_keychain, this, std::move(done));
            },
            [this, hadSecrets](Result<QString> removed) { onRemoved(removed, hadSecrets); });
}

void RemoveCommand::onRemoved(const Result<QString> &removed, bool hadSecrets)
{
    const QString &name = command().serverName;
    if (!removed) {
        Console::err(removed.error().kind == Error::Kind::NotFound
                             ? ServerListing::unknownServer(name).message
                             : removed.error().message);
        finish(kExitFailed);
        return;
    }
    const QString &note = removed.value();
    if (note.isEmpty() && hadSecrets) {
        Console::out(QStringLiteral("Removed server '%1' and its secrets.").arg(name));
    } else {
        Console::out(QStringLiteral("Removed server '%1'.").arg(name));
        for (const QString &line : note.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
            Console::err(QStringLiteral("Warning: %1").arg(line));
    }
    finish(kExitOk);
}

} // namespace mcpbroker::app
