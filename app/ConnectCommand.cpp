#include "ConnectCommand.h"

#include "ClientConfigFile.h"
#include "ClientGrantsAccess.h"
#include "Console.h"
#include "ExitCode.h"
#include "InstanceRecord.h"
#include "gateway/ClientGrants.h"
#include "store/ConfigStore.h"

#include <QCoreApplication>
#include <QDir>

#include <openssl/crypto.h>

namespace mcpbroker::app {

namespace {

using nlohmann::ordered_json;

QString shown(const QString &path)
{
    return QDir::toNativeSeparators(path);
}

// The newest static grant named after the client: the one --grant-header made.
std::optional<gateway::ClientGrant> staticGrantOf(const gateway::ClientGrants &grants,
                                                  const QString &clientName)
{
    std::optional<gateway::ClientGrant> found;
    for (const gateway::ClientGrant &grant : grants.grants()) {
        if (grant.kind == gateway::ClientGrant::Kind::Static && grant.clientName == clientName)
            found = grant;
    }
    return found;
}

} // namespace

ConnectCommand::ConnectCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent)
{ }

ConnectCommand::~ConnectCommand() = default;

void ConnectCommand::start()
{
    if (auto prepared = prepare(); !prepared)
        return fail(prepared.error().message);
    if (!command().grantHeader)
        return connectWithoutGrant();
    auto grants = openClientGrants(command().configFilePath(), this);
    if (!grants)
        return fail(grants.error().message);
    m_grants = grants.value();
    m_grants->whenReady(this, [this] { decideGrant(); });
}

void ConnectCommand::connectWithoutGrant()
{
    // Entries with a grant from an earlier --grant-header are replaced: say how to end it.
    QStringList oldGrants;
    for (const Target &target : std::as_const(m_targets)) {
        const auto current = m_file->entry(target.entryName);
        const auto grantId = current ? ClientConfigs::grantIdIn(*m_client, *current) : std::nullopt;
        if (grantId && !oldGrants.contains(*grantId))
            oldGrants.append(*grantId);
    }
    if (auto written = writeEntries(QByteArray()); !written)
        return fail(written.error().message);
    for (const QString &grantId : std::as_const(oldGrants)) {
        Console::out(QStringLiteral("The entry no longer holds grant %1; `mcp-broker grant revoke "
                                    "%1` ends it.")
                             .arg(grantId));
    }
    finish(kExitOk);
}

Result<void> ConnectCommand::prepare()
{
    m_client = ClientConfigs::find(command().client);
    if (!m_client) // the command line checked it
        return Error::make(Error::Kind::InvalidInput, QStringLiteral("Unknown client."));

    const auto config = store::ConfigStore(command().configFilePath()).load();
    if (!config)
        return config.error();
    if (command().allServers) {
        for (const store::ServerConfig &server : config.value().servers)
            m_targets.append({ClientConfigs::entryName(server.name), server.name});
        if (m_targets.isEmpty()) {
            return Error::make(Error::Kind::NotFound,
                               QStringLiteral("No server is configured yet, so --all-servers has "
                                              "nothing to connect: add one with `mcp-broker add`, "
                                              "or connect without --all-servers."));
        }
    } else if (!command().grantServers.isEmpty()) {
        for (const QString &server : command().grantServers) {
            if (!config.value().server(server)) {
                return Error::make(Error::Kind::NotFound,
                                   QStringLiteral("No server named '%1' is configured; `mcp-broker "
                                                  "list` shows the servers.")
                                           .arg(server));
            }
            m_targets.append({ClientConfigs::entryName(server), server});
        }
        m_grantServers = command().grantServers;
    } else {
        m_targets.append({ClientConfigs::entryName(QString()), QString()});
    }

    // The running broker's port (it may run with --port), else the one it will listen on.
    m_endpoint.port
            = InstanceRecord::port(command().configFilePath()).value_or(config.value().port);
    m_endpoint.executable = QCoreApplication::applicationFilePath();
    // A bridge started by the client must read the same config; the client has no
    // $MCP_BROKER_CONFIG.
    if (!command().configPath.isEmpty() || qEnvironmentVariableIsSet("MCP_BROKER_CONFIG"))
        m_endpoint.configPath = command().configFilePath();

    m_path = ClientConfigs::configFilePath(*m_client, command().clientConfigFile);
    auto file = ClientConfigFile::open(*m_client, m_path);
    if (!file)
        return file.error();
    m_file = std::move(file).value();
    return checkNoForeignEntries();
}

// An entry of our name that points somewhere else is the user's: never overwrite it.
Result<void> ConnectCommand::checkNoForeignEntries() const
{
    for (const Target &target : m_targets) {
        if (m_file->entry(target.entryName) && !m_file->isBrokerEntry(target.entryName)) {
            return Error::make(Error::Kind::Conflict,
                               QStringLiteral("%1 already has an entry named '%2' that does not "
                                              "point at MCP Broker; rename or remove it, then "
                                              "connect again. Nothing was changed.")
                                       .arg(shown(m_path), target.entryName));
        }
    }
    return {};
}

// Every target's entry is there, as connect would write it, with a token of `grant`.
bool ConnectCommand::connectedWithGrant(const gateway::ClientGrant &grant) const
{
    for (const Target &target : m_targets) {
        const auto current = m_file->entry(target.entryName);
        if (!current || ClientConfigs::grantIdIn(*m_client, *current) != grant.id)
            return false;
        const ordered_json wanted = ClientConfigs::entry(*m_client, m_endpoint, target.server);
        if (!ClientConfigs::sameEntry(ClientConfigs::withoutAuthorization(*m_client, *current),
                                      wanted))
            return false;
    }
    return true;
}

void ConnectCommand::decideGrant()
{
    const auto grant = staticGrantOf(*m_grants, m_client->id);
    if (grant && connectedWithGrant(*grant)) {
        QStringList entries;
        for (const Target &target : std::as_const(m_targets))
            entries.append(describe(target));
        Console::out(QStringLiteral("%1 is already connected: %2 has %3 with grant %4. Nothing "
                                    "was changed.")
                             .arg(m_client->displayName, shown(m_path),
                                  entries.join(QLatin1String(", ")), grant->id));
        finish(kExitOk);
        return;
    }
    if (grant) {
        return fail(QStringLiteral("'%1' already has a grant (%2), and MCP Broker never shows a "
                                   "token twice: run `mcp-broker disconnect %1` (it revokes the "
                                   "grant its entries hold) or `mcp-broker grant revoke %1`, then "
                                   "connect again. Nothing was changed.")
                            .arg(m_client->id, grant->id));
    }
    m_grants->createStatic(
            m_client->id, m_grantServers, QDateTime(),
            [this](Result<gateway::ClientGrants::IssuedTokens> issued) {
                if (!issued) {
                    return fail(QStringLiteral("No grant was created: %1 Nothing "
                                               "was changed.")
                                        .arg(Console::sentence(issued.error().message)));
                }
                writeWithToken(std::move(issued.value().accessToken), issued.value().grant.id);
            });
}

void ConnectCommand::writeWithToken(QByteArray token, const QString &grantId)
{
    // The file may have changed while the grant was made: read it again.
    auto file = ClientConfigFile::open(*m_client, m_path);
    Result<void> written = file ? Result<void>() : Result<void>(file.error());
    if (written) {
        m_file = std::move(file).value();
        written = checkNoForeignEntries();
    }
    if (written)
        written = writeEntries(token);
    OPENSSL_cleanse(token.data(), size_t(token.size()));
    if (!written)
        return revokeAndFail(grantId, written.error().message);

    Console::out(QStringLiteral("The file now holds grant %1 for '%2': a secret, readable by "
                                "whoever can read the file. `mcp-broker disconnect %2` removes the "
                                "entry and revokes the grant; `mcp-broker grant revoke %2` "
                                "revokes it at once.")
                         .arg(grantId, m_client->id));
    finish(kExitOk);
}

Result<void> ConnectCommand::writeEntries(const QByteArray &token)
{
    QStringList added;
    QStringList replaced;
    QStringList unchanged;
    QStringList names;
    for (const Target &target : std::as_const(m_targets)) {
        names.append(target.entryName);
        const ordered_json entry
                = ClientConfigs::entry(*m_client, m_endpoint, target.server, token);
        switch (m_file->put(target.entryName, entry)) {
        case ClientConfigFile::Put::Added:
            added.append(describe(target));
            break;
        case ClientConfigFile::Put::Replaced:
            replaced.append(describe(target));
            break;
        case ClientConfigFile::Put::Unchanged:
            unchanged.append(describe(target));
            break;
        }
    }
    if (!m_file->changed()) {
        Console::out(QStringLiteral("%1 is already connected: %2 has %3. Nothing was changed.")
                             .arg(m_client->displayName, shown(m_path),
                                  unchanged.join(QLatin1String(", "))));
        return {};
    }
    const QString note = m_file->rewriteNote();
    auto saved = m_file->save();
    if (!saved)
        return saved.error();

    QStringList changes;
    if (!added.isEmpty())
        changes.append(QStringLiteral("added %1").arg(added.join(QLatin1String(", "))));
    if (!replaced.isEmpty())
        changes.append(QStringLiteral("updated %1").arg(replaced.join(QLatin1String(", "))));
    Console::out(
            QStringLiteral("Connected %1 to MCP Broker: %2 in %3.")
                    .arg(m_client->displayName, changes.join(QLatin1String("; ")), shown(m_path)));
    if (const QString kept = ClientConfigFile::keptNote(saved.value(), note); !kept.isEmpty())
        Console::out(kept);
    Console::out(ClientConfigs::nextStep(*m_client, names, !token.isEmpty()));
    return {};
}

void ConnectCommand::revokeAndFail(const QString &grantId, const QString &message)
{
    m_grants->revoke(grantId, [this, grantId, message](Result<QList<gateway::ClientGrant>> done) {
        fail(done ? QStringLiteral("%1 The new grant %2 was revoked again.")
                             .arg(Console::sentence(message), grantId)
                  : QStringLiteral("%1 The new grant %2 could not be revoked (%3): run "
                                   "`mcp-broker grant revoke %2`.")
                             .arg(Console::sentence(message), grantId, done.error().message));
    });
}

void ConnectCommand::fail(const QString &message)
{
    Console::err(message);
    finish(kExitFailed);
}

QString ConnectCommand::describe(const Target &target) const
{
    if (m_client->access == ClientProfile::Access::Command) {
        return QStringLiteral("%1 (runs `mcp-broker stdio%2`)")
                .arg(target.entryName,
                     target.server.isEmpty() ? QString()
                                             : QStringLiteral(" --server ") + target.server);
    }
    return QStringLiteral("%1 (%2)").arg(
            target.entryName, ClientConfigs::endpointUrl(m_endpoint.port, target.server));
}

} // namespace mcpbroker::app
