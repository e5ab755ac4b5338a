#include "ServeCommand.h"

#include "AppLogging.h"
#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "InstanceRecord.h"
#include "TerminationSignals.h"

#ifdef Q_OS_UNIX
#include <csignal>
#endif

namespace mcpbroker::app {

void ServeCommand::start()
{
#ifdef Q_OS_UNIX
    // A reader that closed our stdout or stderr (a script that only waited for the listening
    // line) must not kill the broker with SIGPIPE on the next log line.
    std::signal(SIGPIPE, SIG_IGN);
#endif
    // Watched before the broker starts, so that a signal during start-up also stops it cleanly.
    auto *termination = new TerminationSignals(this);
    connect(termination, &TerminationSignals::received, this, [this](int signalNumber) {
        qCInfo(lcApp).noquote() << "Stopping on" << TerminationSignals::name(signalNumber);
        finish(kExitOk);
    });

    Broker::Options options;
    options.configPath = command().configFilePath();
    options.port = command().port;
    m_broker = new Broker(options, this);
    qCInfo(lcApp).noquote() << "Config file:" << options.configPath;
    if (auto started = m_broker->start(); !started) {
        Console::err(started.error().message);
        finish(kExitFailed);
        return;
    }
    if (auto noted = InstanceRecord::write(options.configPath, m_broker->port()); !noted)
        qCWarning(lcApp).noquote() << "`mcp-broker status` will not find this broker:"
                                   << noted.error().message;
    else
        m_recordedConfigPath = options.configPath;
    Console::out(QStringLiteral("MCP Broker listening on %1")
                         .arg(m_broker->endpointUrl().toString()));
}

ServeCommand::~ServeCommand()
{
    if (!m_recordedConfigPath.isEmpty())
        InstanceRecord::remove(m_recordedConfigPath);
}

} // namespace mcpbroker::app
