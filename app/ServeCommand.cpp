#include "ServeCommand.h"

#include "AppLogging.h"
#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "RunningBroker.h"
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

    m_running = new RunningBroker(command().configFilePath(), command().port, this);
    if (auto started = m_running->start({}); !started) { // no window to show
        Console::err(started.error().message);
        finish(kExitFailed);
        return;
    }
    Console::out(QStringLiteral("MCP Broker listening on %1")
                         .arg(m_running->broker()->endpointUrl().toString()));
}

} // namespace mcpbroker::app
