#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

// `mcp-broker remove NAME`: takes the server out of the config (saved first), then deletes its
// secrets from the keychain. Exit 0 once the config is saved: the server is gone, and nothing
// reads its secrets any more. A keychain that fails to delete them is a warning on stderr that
// names the entries left behind and how to clear them; exit 1 when the server is unknown or the
// config cannot be loaded or saved (the keychain is not touched then).
class RemoveCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit RemoveCommand(Command command, QObject *parent = nullptr);
    void start() override;

private:
    store::SecretStore *m_keychain;
};

} // namespace mcpbroker::app
