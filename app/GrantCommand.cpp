#include "GrantCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "TextTable.h"
#include "gateway/ClientGrants.h"
#include "store/ConfigStore.h"
#include "store/SecretStore.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

namespace mcpbroker::app {

namespace {

using nlohmann::json;

QString when(const QDateTime &time)
{
    return time.isValid() ? time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                          : QStringLiteral("-");
}

QString serversText(const QStringList &servers)
{
    return servers.isEmpty() ? QStringLiteral("all") : servers.join(QLatin1Char(','));
}

QString kindName(gateway::ClientGrant::Kind kind)
{
    return kind == gateway::ClientGrant::Kind::OAuth ? QStringLiteral("oauth")
                                                     : QStringLiteral("static");
}

json isoOrNull(const QDateTime &time)
{
    return time.isValid() ? json(time.toUTC().toString(Qt::ISODate).toStdString()) : json();
}

} // namespace

GrantCommand::GrantCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this))
{ }

void GrantCommand::start()
{
    m_grants = new gateway::ClientGrants(
            gateway::ClientGrants::grantsPathFor(command().configFilePath()), m_keychain, this);
    if (auto started = m_grants->start(false); !started) {
        Console::err(started.error().message);
        finish(kExitFailed);
        return;
    }
    switch (command().kind) {
    case Command::Kind::GrantCreate:
        return create();
    case Command::Kind::GrantRevoke:
        return revoke();
    default:
        return list();
    }
}

void GrantCommand::create()
{
    // Servers must exist now; a typo would make a grant that opens nothing.
    const auto config = store::ConfigStore(command().configFilePath()).load();
    if (!config) {
        Console::err(config.error().message);
        finish(kExitFailed);
        return;
    }
    for (const QString &server : command().grantServers) {
        if (!config.value().server(server)) {
            Console::err(QStringLiteral("No server named '%1' is configured; `mcp-broker list` "
                                        "shows the servers.")
                                 .arg(server));
            finish(kExitFailed);
            return;
        }
    }
    // Names tell grants apart in `grant list` and `grant revoke NAME`.
    if (const auto existing = m_grants->find(command().grantClient)) {
        Console::err(QStringLiteral("'%1' already has a grant (%2); revoke it first (`mcp-broker "
                                    "grant revoke %2`) or choose another name.")
                             .arg(command().grantClient, existing->id));
        finish(kExitFailed);
        return;
    }
    QDateTime expiresAt;
    if (command().grantExpiresInSeconds)
        expiresAt = QDateTime::currentDateTimeUtc().addSecs(*command().grantExpiresInSeconds);
    m_grants->createStatic(
            command().grantClient, command().grantServers, expiresAt,
            [this](Result<gateway::ClientGrants::IssuedTokens> issued) {
                if (!issued) {
                    Console::err(
                            QStringLiteral("No grant was created: %1").arg(issued.error().message));
                    finish(kExitFailed);
                    return;
                }
                QByteArray &token = issued.value().accessToken;
                Console::out(QString::fromLatin1(token));
                OPENSSL_cleanse(token.data(), size_t(token.size()));
                const gateway::ClientGrant &grant = issued.value().grant;
                Console::err(QStringLiteral("Created grant %1 for '%2' (servers: %3). The token "
                                            "above is shown only now; MCP Broker keeps just its "
                                            "hash. Send it as \"Authorization: Bearer <token>\"; "
                                            "`mcp-broker grant revoke %1` cuts the client off.")
                                     .arg(grant.id, grant.clientName, serversText(grant.servers)));
                finish(kExitOk);
            });
}

void GrantCommand::list()
{
    const QList<gateway::ClientGrant> grants = m_grants->grants();
    if (command().json) {
        json array = json::array();
        for (const gateway::ClientGrant &grant : grants) {
            json servers = json::array();
            for (const QString &server : grant.servers)
                servers.push_back(server.toStdString());
            array.push_back({{"id", grant.id.toStdString()},
                             {"client", grant.clientName.toStdString()},
                             {"kind", kindName(grant.kind).toStdString()},
                             {"createdAt", isoOrNull(grant.createdAt)},
                             {"lastUsedAt", isoOrNull(grant.lastUsedAt)},
                             {"expiresAt", isoOrNull(grant.expiresAt)},
                             {"servers", servers}});
        }
        Console::out(QString::fromStdString(json{{"grants", array}}.dump(2)));
        finish(kExitOk);
        return;
    }
    if (grants.isEmpty()) {
        Console::err(QStringLiteral("No local client has a grant yet: `mcp-broker grant create "
                                    "NAME`, or let the client sign in to the broker."));
        finish(kExitOk);
        return;
    }
    QList<QStringList> rows{{QStringLiteral("ID"), QStringLiteral("CLIENT"), QStringLiteral("KIND"),
                             QStringLiteral("CREATED"), QStringLiteral("LAST USED"),
                             QStringLiteral("EXPIRES"), QStringLiteral("SERVERS")}};
    for (const gateway::ClientGrant &grant : grants) {
        rows.append({grant.id, grant.clientName, kindName(grant.kind), when(grant.createdAt),
                     when(grant.lastUsedAt), when(grant.expiresAt), serversText(grant.servers)});
    }
    for (const QString &line : TextTable::format(rows))
        Console::out(line);
    finish(kExitOk);
}

void GrantCommand::revoke()
{
    m_grants->revoke(command().grantClient, [this](Result<QList<gateway::ClientGrant>> revoked) {
        if (!revoked) {
            Console::err(revoked.error().message);
            finish(kExitFailed);
            return;
        }
        for (const gateway::ClientGrant &grant : revoked.value()) {
            Console::err(
                    QStringLiteral("Revoked grant %1 of '%2'.").arg(grant.id, grant.clientName));
        }
        finish(kExitOk);
    });
}

} // namespace mcpbroker::app
