#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::store {
class SecretStore;
class ServerEditor;
} // namespace mcpbroker::store

namespace mcpbroker::app {

// `mcp-broker remove NAME`, through store::ServerEditor: signs out of an OAuth server first (its
// tokens revoked where the authorization server offers that, then deleted with the sign-in
// record), takes the server out of the config (saved), then deletes its other secrets from the
// keychain. Exit 0 once the config is saved: the server is gone, and nothing reads its secrets
// any more. A revocation that did not work is a note; a keychain that fails to delete something
// is a warning on stderr that names what stays behind and how to clear it. Exit 1 when the
// server is unknown or the config cannot be loaded or saved (the keychain is not touched then,
// but for the sign-out).
class RemoveCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit RemoveCommand(Command command, QObject *parent = nullptr);
    void start() override;

private:
    void onRemoved(const Result<QString> &removed, bool hadSecrets);

    store::SecretStore *m_keychain;
    store::ServerEditor *m_editor;
};

} // namespace mcpbroker::app
