#include "RunningBroker.h"

#include "AppLogging.h"
#include "Broker.h"
#include "InstanceChannel.h"
#include "InstanceRecord.h"
#include "InstanceService.h"

namespace mcpbroker::app {

RunningBroker::RunningBroker(QString configPath, std::optional<quint16> port, QObject *parent)
    : QObject(parent), m_configPath(std::move(configPath)), m_port(port)
{ }

RunningBroker::~RunningBroker()
{
    if (m_recorded)
        InstanceRecord::remove(m_configPath);
}

Result<void> RunningBroker::start(std::function<void()> activate)
{
    // The socket first: a second broker for the same config stops here, before the port.
    m_instance = new InstanceServer(m_configPath, this);
    if (auto taken = m_instance->listen(); !taken)
        return taken;

    Broker::Options options;
    options.configPath = m_configPath;
    options.port = m_port;
    m_broker = new Broker(options, this);
    new InstanceService(m_broker, m_instance, std::move(activate));
    qCInfo(lcApp).noquote() << "Config file:" << m_configPath;
    if (auto started = m_broker->start(); !started)
        return started;
    if (auto noted = InstanceRecord::write(m_configPath, m_broker->port()); !noted)
        qCWarning(lcApp).noquote()
                << "`mcp-broker status` will not find this broker:" << noted.error().message;
    else
        m_recorded = true;
    return {};
}

} // namespace mcpbroker::app
