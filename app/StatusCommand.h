#pragma once

#include "AsyncCommand.h"
#include "store/ServerConfig.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace mcpbroker::app {

// `mcp-broker status [--json] [--port N]`: asks the broker running on this machine
// (GET http://127.0.0.1:<port>/status, 3 s timeout) how each server is doing: its state, tools
// and error, and for OAuth servers the sign-in and when the token expires (StatusReport;
// --json passes the broker's answer through). Exit 0 when it answered; 3 when nothing listens
// on the port (it then shows the configured servers); 1 when something else answers there or
// the config cannot be loaded.
class StatusCommand : public AsyncCommand
{
    Q_OBJECT
public:
    static constexpr int kTimeoutMs = 3'000;

    explicit StatusCommand(Command command, QObject *parent = nullptr);
    void start() override;

private:
    void onReply(QNetworkReply *reply);
    void reportNotRunning();

    QNetworkAccessManager *m_network;
    store::BrokerConfig m_config;
    quint16 m_port = 0;
};

} // namespace mcpbroker::app
