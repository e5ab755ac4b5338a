#include "CommandRunner.h"

#include "AddCommand.h"
#include "AppLogging.h"
#include "CommandLine.h"
#include "Console.h"
#include "ExitCode.h"
#include "GrantCommand.h"
#include "ListCommand.h"
#include "LogCommand.h"
#include "LoginCommand.h"
#include "LogoutCommand.h"
#include "RemoveCommand.h"
#include "ServeCommand.h"
#include "StatusCommand.h"

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
    configureLogging(command.kind != Command::Kind::Serve);
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
    }
    return kExitFailed;
}

} // namespace mcpbroker::app
