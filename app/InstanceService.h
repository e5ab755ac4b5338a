#pragma once

#include "InstanceChannel.h"

#include <QObject>
#include <QPointer>

#include <functional>

namespace mcpbroker {
class Broker;
}

namespace mcpbroker::app {

// What a running broker (tray or `serve`) answers on its InstanceServer, so that the CLI and a
// second launch act on it rather than beside it:
//
//   {"command": "login", "server": "x"}   ← {"ok": true} once signed in (minutes: the browser)
//   {"command": "logout", "server": "x"}  ← {"ok": true, "note": "<for the user>"}; no note
//                                            when there is nothing to say
//   {"command": "status"}                 ← {"ok": true, "port": N, "pid": P}
//   {"command": "activate"}               ← {"ok": true}; {"ok": true, "headless": true} when
//                                            there is no window to show
//
// Failures answer {"ok": false, "error": "<sentence>"}. A child of `server`.
class InstanceService : public QObject
{
    Q_OBJECT
public:
    // `activate` shows the window; empty for the headless `serve`.
    InstanceService(Broker *broker, InstanceServer *server, std::function<void()> activate);

private:
    // Signs in to or out of a server; the string is a note for the user (may be empty).
    using ServerAction = std::function<void(Broker *broker, const QString &serverName,
                                            std::function<void(Result<QString>)> done)>;

    // Runs `action` for the request's server (the config applied first: it may have been
    // added just before) and replies with its outcome.
    void onServer(const ServerAction &action, const QString &serverName,
                  const InstanceServer::Reply &reply);

    QPointer<Broker> m_broker;
    std::function<void()> m_activate;
};

} // namespace mcpbroker::app
