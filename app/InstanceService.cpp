#include "InstanceService.h"

#include "Broker.h"

#include <QCoreApplication>

namespace mcpbroker::app {

namespace {

QJsonObject failure(const QString &sentence)
{
    return {{QStringLiteral("ok"), false}, {QStringLiteral("error"), sentence}};
}

void signIn(Broker *broker, const QString &serverName, std::function<void(Result<QString>)> done)
{
    broker->signIn(serverName, [done = std::move(done)](Result<void> signedIn) {
        done(signedIn ? Result<QString>(QString()) : Result<QString>(signedIn.error()));
    });
}

void signOut(Broker *broker, const QString &serverName, std::function<void(Result<QString>)> done)
{
    broker->signOut(serverName, std::move(done));
}

} // namespace

InstanceService::InstanceService(Broker *broker, InstanceServer *server,
                                 std::function<void()> activate)
    : QObject(server), m_broker(broker), m_activate(std::move(activate))
{
    const auto serverHandler = [this](ServerAction action) {
        return [this, action](const QJsonObject &request, const InstanceServer::Reply &reply) {
            const QString serverName = request.value(QStringLiteral("server")).toString();
            if (serverName.isEmpty())
                return reply(failure(QStringLiteral("The request names no server.")));
            onServer(action, serverName, reply);
        };
    };
    server->setHandler(QStringLiteral("login"), serverHandler(signIn));
    server->setHandler(QStringLiteral("logout"), serverHandler(signOut));
    server->setHandler(QStringLiteral("status"),
                       [this](const QJsonObject &, const InstanceServer::Reply &reply) {
                           reply({{QStringLiteral("ok"), true},
                                  {QStringLiteral("port"), m_broker ? m_broker->port() : 0},
                                  {QStringLiteral("pid"), QCoreApplication::applicationPid()}});
                       });
    server->setHandler(QStringLiteral("activate"),
                       [this](const QJsonObject &, const InstanceServer::Reply &reply) {
                           if (!m_activate)
                               return reply({{QStringLiteral("ok"), true},
                                             {QStringLiteral("headless"), true}});
                           m_activate();
                           reply({{QStringLiteral("ok"), true}});
                       });
}

void InstanceService::onServer(const ServerAction &action, const QString &serverName,
                               const InstanceServer::Reply &reply)
{
    if (!m_broker)
        return reply(failure(QStringLiteral("MCP Broker is stopping.")));
    // `mcp-broker add x … && mcp-broker login x` asks before the broker has seen the change.
    m_broker->applyConfigNow();
    action(m_broker, serverName, [reply](Result<QString> outcome) {
        if (!outcome)
            return reply(failure(outcome.error().message));
        QJsonObject answer{{QStringLiteral("ok"), true}};
        if (!outcome.value().isEmpty())
            answer.insert(QStringLiteral("note"), outcome.value());
        reply(answer);
    });
}

} // namespace mcpbroker::app
