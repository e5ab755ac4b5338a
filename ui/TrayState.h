#pragma once

#include "Broker.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QUrl>

namespace mcpbroker::gateway {
struct ClientGrant;
}

namespace mcpbroker::ui {

// What the tray shows, computed from the broker's models. Pure values: the menu, the icon, the
// tooltip, the fallback window and the notifications are all drawn from one TrayState.
enum class OverallState {
    Ok,          // every enabled server ready (or none configured)
    Connecting,  // some server still connecting, none failed or signed out
    NeedsSignIn, // some server needs the user to sign in
    Error,       // some server failed
    Paused,      // the user paused all access (wins over the others)
};

struct ServerEntry
{
    QString name;
    QUrl url;
    Broker::ServerStatus::State state = Broker::ServerStatus::State::Connecting;
    Broker::ServerStatus::SignIn signIn = Broker::ServerStatus::SignIn::NotApplicable;
    QString stateText;        // "Ready · 12 tools", "Needs sign-in", "Failed: <error>", "Disabled"
    QString error;            // the broker's sentence, when there is one
    bool needsSignIn = false; // enabled, and its state or its sign-in says so
    bool canSignIn = false;   // an OAuth server that is not signing in right now
    bool canSignOut = false;  // an OAuth server that is signed in (or may be)
};

struct ClientEntry
{
    QString grantId;
    QString name;
    QString lastUseText; // "used 5 minutes ago", "never used"
    QString serversText; // "all servers", "github, linear"
    bool viaOAuth = false;
};

struct TrayState
{
    OverallState overall = OverallState::Ok;
    QString summary; // one line: "All 3 servers ready", "github needs sign-in", "Paused"
    QString tooltip; // "MCP Broker — <summary>\n<endpoint>"
    QUrl endpoint;
    bool paused = false;
    QList<ServerEntry> servers; // in config order
    QList<ClientEntry> clients; // most recently used first, never-used last (by name)
};

TrayState buildTrayState(const QList<Broker::ServerStatus> &servers,
                         const QList<gateway::ClientGrant> &clients, bool paused,
                         const QUrl &endpoint, const QDateTime &now);

// "just now", "5 minutes ago", "3 hours ago", "yesterday", "12 days ago"; "never" when invalid.
QString describeLastUse(const QDateTime &lastUsed, const QDateTime &now);

} // namespace mcpbroker::ui
