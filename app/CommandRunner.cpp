#include "CommandRunner.h"

#include "AddCommand.h"
#include "AppLogging.h"
#include "CommandLine.h"
#include "ConnectCommand.h"
#include "Console.h"
#include "DisconnectCommand.h"
#include "ExitCode.h"
#include "GrantCommand.h"
#include "ImportCommand.h"
#include "ListCommand.h"
#include "LogCommand.h"
#include "LoginCommand.h"
#include "LogoutCommand.h"
#include "RemoveCommand.h"
#include "ServeCommand.h"
#include "StatusCommand.h"
#include "StdioCommand.h"
#include "TrayCommand.h"

#include <QCoreApplication>
#include <QTimer>

#include <memory>

namespace mcpbroker::app {

namespace {

int runOnEventLoop(std::unique_ptr<AsyncCommand> command)
{
    QObject::connect(command.get(), &AsyncCommand::finished, QCoreApplication::instance(),
                     [](int exitCode) { QCoreApplication::exit(exitCode); });
    // Started from the running loop, so that even an immediate `finished` ends it.
    QTimer::singleShot(0, command.get(), &AsyncCommand::start);
    return QCoreApplication::exec();
}

} // namespace

int CommandRunner::run(const Command &command)
{
    // The broker itself (serve, tray) and the stdio bridge run on and log what happens; the
    // bridge's stderr ends up in its client's log.
    const bool longRunning = command.kind == Command::Kind::Serve
            || command.kind == Command::Kind::Tray || command.kind == Command::Kind::Stdio;
    configureLogging(!longRunning);
    switch (command.kind) {
    case Command::Kind::Help:
        Console::out(CommandLine::help());
        return kExitOk;
    case Command::Kind::Version:
        Console::out(QStringLiteral("mcp-broker %1").arg(QCoreApplication::applicationVersion()));
        return kExitOk;
    case Command::Kind::List:
        return ListCommand::run(command);
    case Command::Kind::Serve:
        return runOnEventLoop(std::make_unique<ServeCommand>(command));
    case Command::Kind::Add:
        return runOnEventLoop(std::make_unique<AddCommand>(command));
    case Command::Kind::Remove:
        return runOnEventLoop(std::make_unique<RemoveCommand>(command));
    case Command::Kind::Status:
        return runOnEventLoop(std::make_unique<StatusCommand>(command));
    case Command::Kind::Login:
        return runOnEventLoop(std::make_unique<LoginCommand>(command));
    case Command::Kind::Logout:
        return runOnEventLoop(std::make_unique<LogoutCommand>(command));
    case Command::Kind::Log:
        return runOnEventLoop(std::make_unique<LogCommand>(command));
    case Command::Kind::GrantCreate:
    case Command::Kind::GrantList:
    case Command::Kind::GrantRevoke:
        return runOnEventLoop(std::make_unique<GrantCommand>(command));
    case Command::Kind::Connect:
        return runOnEventLoop(std::make_unique<ConnectCommand>(command));
    case Command::Kind::Disconnect:
        return runOnEventLoop(std::make_unique<DisconnectCommand>(command));
    case Command::Kind::Import:
        return runOnEventLoop(std::make_unique<ImportCommand>(command));
    case Command::Kind::Stdio:
        return runOnEventLoop(std::make_unique<StdioCommand>(command));
    case Command::Kind::Tray:
        // main() made the QApplication that the tray needs.
        return runOnEventLoop(std::make_unique<TrayCommand>(command));
    }
    return kExitFailed;
}

} // namespace mcpbroker::app
