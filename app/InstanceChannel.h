#pragma once

#include "Result.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <functional>

class QLocalServer;
class QLocalSocket;

namespace mcpbroker::app {

// One running broker per config file (tray or `serve`), and the way other `mcp-broker`
// processes talk to it: a local socket in the per-user runtime directory,
// $XDG_RUNTIME_DIR/mcp-broker/control-<hash of the config path>.sock (folder 0700, socket
// user-only). One request per connection, one JSON object per line each way:
//
//   → {"command": "activate"}                 ← {"ok": true}
//   → {"command": "login", "server": "x"}     ← {"ok": false, "error": "<sentence>"}
//
// A request is at most 64 KiB and must arrive within 5 seconds; a malformed request or an
// unknown command is answered {"ok": false, "error": …}. The reply may take as long as its
// handler needs (login waits for the browser). The commands a broker answers: InstanceService.
// Nothing secret ever crosses it: commands name servers and grants, never tokens.
class InstanceServer : public QObject
{
    Q_OBJECT
public:
    using Reply = std::function<void(const QJsonObject &reply)>;
    // Gets the request and answers through `reply` exactly once (later is fine).
    using Handler = std::function<void(const QJsonObject &request, Reply reply)>;

    explicit InstanceServer(QString configPath, QObject *parent = nullptr);
    ~InstanceServer() override;

    // Takes the socket. Fails with Error::Kind::Conflict and a sentence ("MCP Broker is
    // already running for <config> (pid N)…") when another instance answers on it; a socket
    // left by a process that died is removed and taken over.
    Result<void> listen();
    void setHandler(const QString &command, Handler handler);

    static QString socketPath(const QString &configPath);

private:
    void serve(QLocalSocket *socket);
    void dispatch(const QByteArray &line, const Reply &reply);

    QString m_configPath;
    QLocalServer *m_server;
    QHash<QString, Handler> m_handlers;
};

// The other side, for the CLI and a second launch.
namespace InstanceClient {
// Whether an instance answers for `configPath` (connects and closes; no request).
bool isRunning(const QString &configPath);
// Sends `request` and hands over the reply. NotFound when no instance runs; Timeout when it
// does not answer within `timeoutMs`. A reply {"ok": false, "error": s} becomes an Error with
// message s. Login replies come when the user has finished in the browser: use a long timeout.
void send(const QString &configPath, const QJsonObject &request, int timeoutMs,
          std::function<void(Result<QJsonObject>)> done);
} // namespace InstanceClient

} // namespace mcpbroker::app
