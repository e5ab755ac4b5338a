#include "CommandLine.h"
#include "CommandRunner.h"
#include "Console.h"
#include "ExitCode.h"
#include "TrayCommand.h"

#include <QApplication>
#include <QCoreApplication>

#include <memory>

using namespace mcpbroker::app;

namespace {

void describeApplication()
{
    QCoreApplication::setApplicationName(QStringLiteral("mcp-broker"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MCPB_VERSION));
}

} // namespace

int main(int argc, char *argv[])
{
    // Parsed before any application object exists: the tray needs a QApplication (widgets),
    // everything else a QCoreApplication, which also runs without a display.
    QStringList arguments;
    for (int i = 1; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    auto command = CommandLine::parse(arguments);

    std::unique_ptr<QCoreApplication> app;
    if (command && command.value().implicitServe && TrayCommand::displayAvailable())
        command.value().kind = Command::Kind::Tray; // `mcp-broker` alone on a desktop
    if (command && command.value().kind == Command::Kind::Tray)
        app = std::make_unique<QApplication>(argc, argv);
    else
        app = std::make_unique<QCoreApplication>(argc, argv);
    describeApplication();

    if (!command) {
        Console::err(QStringLiteral("mcp-broker: %1\n\n%2Run `mcp-broker --help` for details.")
                             .arg(command.error().message, CommandLine::usage()));
        return kExitUsage;
    }
    return CommandRunner::run(command.value());
}
