#include "CommandLine.h"
#include "CommandRunner.h"
#include "Console.h"
#include "ExitCode.h"

#include <QCoreApplication>

using namespace mcpbroker::app;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mcp-broker"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MCPB_VERSION));

    const auto command = CommandLine::parse(QCoreApplication::arguments().mid(1));
    if (!command) {
        Console::err(QStringLiteral("mcp-broker: %1\n\n%2Run `mcp-broker --help` for details.")
                             .arg(command.error().message, CommandLine::usage()));
        return kExitUsage;
    }
    return CommandRunner::run(command.value());
}
