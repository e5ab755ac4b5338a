#pragma once

#include "Result.h"

#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace mcpbroker {
class Broker;
}

namespace mcpbroker::app {

class InstanceServer;

// The broker of this process, as `serve` and the tray app run it: takes the instance socket
// (one running broker per config file), starts the Broker, answers the other `mcp-broker`
// processes (InstanceService) and notes its port for `status` (InstanceRecord), which it
// removes again when destroyed.
class RunningBroker : public QObject
{
    Q_OBJECT
public:
    RunningBroker(QString configPath, std::optional<quint16> port, QObject *parent = nullptr);
    ~RunningBroker() override;

    // Error::Kind::Conflict when another broker runs for the config file; else the broker's own
    // start-up errors (corrupt config, port in use). `activate` shows the window when a second
    // launch asks; empty for the headless `serve`.
    Result<void> start(std::function<void()> activate);

    Broker *broker() const { return m_broker; }
    QString configPath() const { return m_configPath; }

private:
    QString m_configPath;
    std::optional<quint16> m_port;
    InstanceServer *m_instance = nullptr;
    Broker *m_broker = nullptr;
    bool m_recorded = false;
};

} // namespace mcpbroker::app
