#include "ListCommand.h"

#include "CommandLine.h"
#include "Console.h"
#include "ExitCode.h"
#include "ServerListing.h"
#include "store/ConfigStore.h"

namespace mcpbroker::app {

int ListCommand::run(const Command &command)
{
    const auto config = store::ConfigStore(command.configFilePath()).load();
    if (!config) {
        Console::err(config.error().message);
        return kExitFailed;
    }
    if (command.json)
        Console::out(QString::fromStdString(ServerListing::toJson(config.value()).dump(2)));
    else
        Console::out(ServerListing::lines(config.value()).join(QLatin1Char('\n')));
    return kExitOk;
}

} // namespace mcpbroker::app
