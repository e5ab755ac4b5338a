#pragma once

// What the broker reports, as the tray's tests need it: servers in each state, client grants,
// and the TrayState built from them at a fixed time.

#include "Broker.h"
#include "TrayState.h"
#include "gateway/ClientGrant.h"

#include <QDateTime>
#include <QStringList>
#include <QUrl>

namespace trayfixtures {

using Status = mcpbroker::Broker::ServerStatus;
using State = mcpbroker::Broker::ServerStatus::State;
using SignIn = mcpbroker::Broker::ServerStatus::SignIn;

inline const QDateTime kNow(QDate(2025, 6, 1), QTime(12, 0), Qt::UTC);
inline const QUrl kEndpoint(QStringLiteral("http://127.0.0.1:7823/mcp"));

// https://<name>.example.com/mcp with 12 tools; a failed or signed-out one has the broker's
// sentence for it.
inline Status server(const QString &name, State state, SignIn signIn = SignIn::NotApplicable)
{
    Status status;
    status.name = name;
    status.url = QUrl(QStringLiteral("https://%1.example.com/mcp").arg(name));
    status.state = state;
    status.signIn = signIn;
    status.toolCount = 12;
    if (state == State::Failed)
        status.error = QStringLiteral("Server '%1' did not answer: check its URL.").arg(name);
    else if (state == State::NeedsSignIn || signIn == SignIn::NeedsSignIn)
        status.error = QStringLiteral("Server '%1' needs sign-in: click the tray icon or run "
                                      "`mcp-broker login %1`.")
                               .arg(name);
    return status;
}

// `lastUsed` invalid: never used; `servers` empty: every server.
inline mcpbroker::gateway::ClientGrant grant(const QString &id, const QString &name,
                                             const QDateTime &lastUsed = QDateTime(),
                                             const QStringList &servers = {})
{
    mcpbroker::gateway::ClientGrant made;
    made.id = id;
    made.clientName = name;
    made.createdAt = kNow.addDays(-30);
    made.lastUsedAt = lastUsed;
    made.servers = servers;
    return made;
}

inline mcpbroker::ui::TrayState
trayState(const QList<Status> &servers, const QList<mcpbroker::gateway::ClientGrant> &clients = {},
          bool paused = false)
{
    return mcpbroker::ui::buildTrayState(servers, clients, paused, kEndpoint, kNow);
}

} // namespace trayfixtures
