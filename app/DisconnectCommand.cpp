#include "DisconnectCommand.h"

#include "ClientConfigFile.h"
#include "ClientConfigs.h"
#include "ClientGrantsAccess.h"
#include "Console.h"
#include "ExitCode.h"
#include "gateway/ClientGrants.h"

#include <QDir>

namespace mcpbroker::app {

DisconnectCommand::DisconnectCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent)
{ }

void DisconnectCommand::start()
{
    const ClientProfile *client = ClientConfigs::find(command().client);
    if (!client) { // the command line checked it
        finish(kExitUsage);
        return;
    }
    const QString path = ClientConfigs::configFilePath(*client, command().clientConfigFile);
    const QString shown = QDir::toNativeSeparators(path);
    auto opened = ClientConfigFile::open(*client, path);
    if (!opened) {
        Console::err(opened.error().message);
        finish(kExitFailed);
        return;
    }
    ClientConfigFile &file = *opened.value();

    // Only entries that point at a broker are ours, whatever their name.
    QStringList candidates;
    if (command().grantServers.isEmpty()) {
        for (const QString &name : file.entryNames()) {
            if (name == ClientConfigs::kEntryName
                || name.startsWith(ClientConfigs::kEntryName + QLatin1Char('-')))
                candidates.append(name);
        }
    } else {
        for (const QString &server : command().grantServers)
            candidates.append(ClientConfigs::entryName(server));
    }
    QStringList removed;
    for (const QString &name : std::as_const(candidates)) {
        const auto entry = file.entry(name);
        if (!entry)
            continue;
        if (!file.isBrokerEntry(name)) {
            Console::out(QStringLiteral("Left '%1' in place: it does not point at MCP Broker.")
                                 .arg(name));
            continue;
        }
        if (const auto grantId = ClientConfigs::grantIdIn(*client, *entry);
            grantId && !m_grantIds.contains(*grantId))
            m_grantIds.append(*grantId);
        file.remove(name);
        removed.append(name);
    }
    if (removed.isEmpty()) {
        Console::out(QStringLiteral("%1 is not connected: %2 %3. Nothing was changed.")
                             .arg(client->displayName, shown,
                                  file.exists() ? QStringLiteral("has no MCP Broker entry")
                                                : QStringLiteral("does not exist")));
        finish(kExitOk);
        return;
    }

    const QString note = file.rewriteNote();
    auto saved = file.save();
    if (!saved) {
        Console::err(saved.error().message);
        finish(kExitFailed);
        return;
    }
    Console::out(QStringLiteral("Disconnected %1: removed %2 from %3.")
                         .arg(client->displayName, removed.join(QLatin1String(", ")), shown));
    if (const QString kept = ClientConfigFile::keptNote(saved.value(), note); !kept.isEmpty())
        Console::out(kept);
    if (m_grantIds.isEmpty()) {
        finish(kExitOk);
        return;
    }
    auto grants = openClientGrants(command().configFilePath(), this);
    if (!grants) {
        Console::err(QStringLiteral("%1 Revoke %2 with `mcp-broker grant revoke`.")
                             .arg(Console::sentence(grants.error().message),
                                  m_grantIds.join(QLatin1String(", "))));
        finish(kExitFailed);
        return;
    }
    m_grants = grants.value();
    revokeNext();
}

void DisconnectCommand::revokeNext()
{
    if (m_grantIds.isEmpty()) {
        finish(m_revokeFailed ? kExitFailed : kExitOk);
        return;
    }
    const QString grantId = m_grantIds.takeFirst();
    m_grants->revoke(grantId, [this, grantId](Result<QList<gateway::ClientGrant>> revoked) {
        if (revoked) {
            Console::out(
                    QStringLiteral("Revoked grant %1, which the removed entry held.").arg(grantId));
        } else if (revoked.error().kind != Error::Kind::NotFound) {
            Console::err(QStringLiteral("Could not revoke grant %1 (%2): run `mcp-broker grant "
                                        "revoke %1`.")
                                 .arg(grantId, revoked.error().message));
            m_revokeFailed = true;
        }
        revokeNext();
    });
}

} // namespace mcpbroker::app
