#include "ServeCommand.h"

#include "AppLogging.h"
#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "TerminationSignals.h"

namespace mcpbroker::app {

void ServeCommand::start()
{
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
    Console::out(QStringLiteral("MCP Broker listening on %1")
                         .arg(m_broker->endpointUrl().toString()));
}

} // namespace mcpbroker::app
