#include "TrayState.h"

#include "gateway/ClientGrant.h"

#include <algorithm>

namespace mcpbroker::ui {

namespace {

using State = Broker::ServerStatus::State;
using SignIn = Broker::ServerStatus::SignIn;

QString plural(qint64 count, const QString &one, const QString &many)
{
    return count == 1 ? one : many.arg(count);
}

QString readyText(int toolCount)
{
    if (toolCount <= 0)
        return QStringLiteral("Ready · no tools");
    return QStringLiteral("Ready · %1")
            .arg(plural(toolCount, QStringLiteral("1 tool"), QStringLiteral("%1 tools")));
}

QString stateText(const Broker::ServerStatus &server, bool needsSignIn)
{
    if (server.state == State::Disabled)
        return QStringLiteral("Disabled");
    if (server.state == State::Failed) {
        return server.error.isEmpty() ? QStringLiteral("Failed")
                                      : QStringLiteral("Failed: %1").arg(server.error);
    }
    if (server.signIn == SignIn::SigningIn)
        return QStringLiteral("Signing in…");
    if (needsSignIn)
        return QStringLiteral("Needs sign-in");
    if (server.state == State::Connecting)
        return QStringLiteral("Connecting…");
    return readyText(server.toolCount);
}

ServerEntry serverEntry(const Broker::ServerStatus &server)
{
    ServerEntry entry;
    entry.name = server.name;
    entry.url = server.url;
    entry.state = server.state;
    entry.signIn = server.signIn;
    entry.error = server.error;
    const bool enabled = server.state != State::Disabled;
    const bool oauth = server.signIn != SignIn::NotApplicable;
    entry.needsSignIn = enabled
            && (server.state == State::NeedsSignIn || server.signIn == SignIn::NeedsSignIn);
    entry.stateText = stateText(server, entry.needsSignIn);
    // The broker signs in to enabled servers only.
    entry.canSignIn = oauth && enabled && server.signIn != SignIn::SigningIn;
    // A server that needs sign-in may still hold a refresh token worth revoking.
    entry.canSignOut = server.signIn == SignIn::SignedIn || server.signIn == SignIn::Unknown
            || server.signIn == SignIn::NeedsSignIn;
    return entry;
}

ClientEntry clientEntry(const gateway::ClientGrant &grant, const QDateTime &now)
{
    ClientEntry entry;
    entry.grantId = grant.id;
    entry.name = grant.clientName;
    entry.lastUseText = grant.lastUsedAt.isValid()
            ? QStringLiteral("used %1").arg(describeLastUse(grant.lastUsedAt, now))
            : QStringLiteral("never used");
    entry.serversText = grant.servers.isEmpty() ? QStringLiteral("all servers")
                                                : grant.servers.join(QStringLiteral(", "));
    entry.viaOAuth = grant.kind == gateway::ClientGrant::Kind::OAuth;
    return entry;
}

// Most recently used first, never used last; the same time (or never) by name, then id.
bool usedMoreRecently(const gateway::ClientGrant &a, const gateway::ClientGrant &b)
{
    const bool aUsed = a.lastUsedAt.isValid();
    const bool bUsed = b.lastUsedAt.isValid();
    if (aUsed != bUsed)
        return aUsed;
    if (aUsed && a.lastUsedAt != b.lastUsedAt)
        return a.lastUsedAt > b.lastUsedAt;
    const int byName = a.clientName.compare(b.clientName, Qt::CaseInsensitive);
    if (byName != 0)
        return byName < 0;
    return a.id < b.id;
}

// "github needs sign-in" for one, "2 servers need sign-in" for more.
QString aboutServers(const QStringList &names, const QString &one, const QString &many)
{
    return names.size() == 1 ? one.arg(names.first()) : many.arg(names.size());
}

struct Overall
{
    OverallState state;
    QString summary;
};

Overall overall(const QList<ServerEntry> &servers, bool paused)
{
    if (paused)
        return {OverallState::Paused, QStringLiteral("Paused: clients are refused")};
    if (servers.isEmpty())
        return {OverallState::Ok, QStringLiteral("No servers yet — add one")};

    QStringList failed, signIn, connecting, ready;
    for (const ServerEntry &server : servers) {
        if (server.state == State::Disabled)
            continue;
        if (server.state == State::Failed)
            failed.append(server.name);
        else if (server.needsSignIn)
            signIn.append(server.name);
        else if (server.state == State::Connecting)
            connecting.append(server.name);
        else
            ready.append(server.name);
    }
    if (!failed.isEmpty()) {
        return {OverallState::Error,
                aboutServers(failed, QStringLiteral("%1 failed"),
                             QStringLiteral("%1 servers failed"))};
    }
    if (!signIn.isEmpty()) {
        return {OverallState::NeedsSignIn,
                aboutServers(signIn, QStringLiteral("%1 needs sign-in"),
                             QStringLiteral("%1 servers need sign-in"))};
    }
    if (!connecting.isEmpty()) {
        return {OverallState::Connecting,
                aboutServers(connecting, QStringLiteral("Connecting to %1…"),
                             QStringLiteral("Connecting to %1 servers…"))};
    }
    if (ready.isEmpty())
        return {OverallState::Ok, QStringLiteral("Every server is disabled")};
    return {OverallState::Ok,
            aboutServers(ready, QStringLiteral("%1 is ready"),
                         QStringLiteral("All %1 servers ready"))};
}

} // namespace

TrayState buildTrayState(const QList<Broker::ServerStatus> &servers,
                         const QList<gateway::ClientGrant> &clients, bool paused,
                         const QUrl &endpoint, const QDateTime &now)
{
    TrayState state;
    state.paused = paused;
    state.endpoint = endpoint;
    for (const Broker::ServerStatus &server : servers)
        state.servers.append(serverEntry(server));

    QList<gateway::ClientGrant> byUse = clients;
    std::sort(byUse.begin(), byUse.end(), usedMoreRecently);
    for (const gateway::ClientGrant &grant : std::as_const(byUse))
        state.clients.append(clientEntry(grant, now));

    const Overall summary = overall(state.servers, paused);
    state.overall = summary.state;
    state.summary = summary.summary;
    state.tooltip = QStringLiteral("MCP Broker — %1").arg(state.summary);
    if (!endpoint.isEmpty())
        state.tooltip += QLatin1Char('\n') + endpoint.toString();
    return state;
}

QString describeLastUse(const QDateTime &lastUsed, const QDateTime &now)
{
    if (!lastUsed.isValid())
        return QStringLiteral("never");
    constexpr qint64 kMinute = 60;
    constexpr qint64 kHour = 60 * kMinute;
    constexpr qint64 kDay = 24 * kHour;
    // A time ahead of `now` (another clock) counts as just now.
    const qint64 seconds = lastUsed.secsTo(now);
    if (seconds < kMinute)
        return QStringLiteral("just now");
    if (seconds < kHour)
        return plural(seconds / kMinute, QStringLiteral("a minute ago"),
                      QStringLiteral("%1 minutes ago"));
    if (seconds < kDay)
        return plural(seconds / kHour, QStringLiteral("an hour ago"),
                      QStringLiteral("%1 hours ago"));
    if (seconds < 2 * kDay)
        return QStringLiteral("yesterday");
    return QStringLiteral("%1 days ago").arg(seconds / kDay);
}

} // namespace mcpbroker::ui
