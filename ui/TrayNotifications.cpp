#include "TrayNotifications.h"

#include <QSet>

namespace mcpbroker::ui {

namespace {

using State = Broker::ServerStatus::State;
using SignIn = Broker::ServerStatus::SignIn;
using Severity = TrayNotification::Severity;

// Waiting for the user, who is not signing in right now (then the browser already asks).
bool waitsForSignIn(const ServerEntry &server)
{
    return server.needsSignIn && server.signIn != SignIn::SigningIn;
}

// Already waiting, or the user was signing in: a sign-in that fails tells the user itself.
bool wasAskedToSignIn(const ServerEntry *server)
{
    return server && (server->needsSignIn || server->signIn == SignIn::SigningIn);
}

const ServerEntry *findServer(const TrayState &state, const QString &name)
{
    for (const ServerEntry &server : state.servers) {
        if (server.name == name)
            return &server;
    }
    return nullptr;
}

// About one server: the broker's sentence, or what to do when it gave none.
TrayNotification aboutServer(const ServerEntry &server, Severity severity, const QString &title,
                             const QString &fallback)
{
    TrayNotification notification;
    notification.title = title.arg(server.name);
    notification.message = server.error.isEmpty() ? fallback.arg(server.name) : server.error;
    notification.severity = severity;
    notification.serverName = server.name;
    return notification;
}

TrayNotification signInNeeded(const ServerEntry &server)
{
    return aboutServer(server, Severity::Warning, QStringLiteral("Sign in to %1"),
                       QStringLiteral("Server '%1' needs sign-in: click here or run "
                                      "`mcp-broker login %1`."));
}

TrayNotification serverFailed(const ServerEntry &server)
{
    return aboutServer(server, Severity::Critical, QStringLiteral("%1 failed"),
                       QStringLiteral("Server '%1' stopped working: see `mcp-broker status` "
                                      "for details."));
}

TrayNotification clientAllowed(const ClientEntry &client)
{
    TrayNotification notification;
    notification.title = QStringLiteral("%1 can now use MCP Broker").arg(client.name);
    notification.message = QStringLiteral("It may use %1. If that was not you, revoke its access "
                                          "in the tray menu.")
                                   .arg(client.serversText);
    notification.severity = Severity::Information;
    return notification;
}

} // namespace

QList<TrayNotification> notificationsBetween(const TrayState *before, const TrayState &after)
{
    QList<TrayNotification> notifications;
    // Paused, every client is refused anyway: nothing needs the user now.
    if (after.paused)
        return notifications;

    for (const ServerEntry &server : after.servers) {
        const ServerEntry *was = before ? findServer(*before, server.name) : nullptr;
        if (waitsForSignIn(server)) {
            if (!wasAskedToSignIn(was))
                notifications.append(signInNeeded(server));
        } else if (before && server.state == State::Failed
                   && (!was || was->state != State::Failed)) {
            notifications.append(serverFailed(server));
        }
    }

    if (!before)
        return notifications;
    QSet<QString> known;
    for (const ClientEntry &client : before->clients)
        known.insert(client.grantId);
    for (const ClientEntry &client : after.clients) {
        if (!known.contains(client.grantId))
            notifications.append(clientAllowed(client));
    }
    return notifications;
}

} // namespace mcpbroker::ui
