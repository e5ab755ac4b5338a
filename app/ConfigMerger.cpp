#include "ConfigMerger.h"

#include "ClientConfigs.h"
#include "JsonConfigMerger.h"
#include "TomlConfigMerger.h"

namespace mcpbroker::app {

std::unique_ptr<ConfigMerger> ConfigMerger::create(const ClientProfile &client)
{
    if (client.format == ClientProfile::Format::Toml)
        return std::make_unique<TomlConfigMerger>(client.serversKey);
    return std::make_unique<JsonConfigMerger>(client.serversKey, client.allowsComments);
}

} // namespace mcpbroker::app
