#pragma once

#include "AsyncCommand.h"
#include "store/ServerConfig.h"
#include "store/ServerEditor.h"

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

class SecretInput;

// `mcp-broker add NAME URL [--bearer-stdin | --header-stdin HEADER… | --header 'K: V'… |
// --oauth [--client-id ID [--client-secret-stdin] …]]`.
// Checks everything it can before asking for a secret, reads the secrets (standard input or
// command line) and hands them to store::ServerEditor, which writes them to the keychain first
// and saves the config only then, so a config never names a secret that is not there. An OAuth
// server is added signed out: `login` signs in. A keychain failure leaves the config untouched;
// a config that cannot be saved takes the secrets just written out of the keychain again.
class AddCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit AddCommand(Command command, QObject *parent = nullptr);
    ~AddCommand() override;

    void start() override;

private:
    Result<store::ServerConfig> checkedServer() const;
    void onSecretsRead(Result<QList<QByteArray>> values);
    void addServer();
    void wipeSecrets();

    store::ServerConfig m_server;
    store::SecretStore *m_keychain;
    store::ServerEditor *m_editor;
    SecretInput *m_input = nullptr;
    QList<store::ServerEditor::Secret> m_secrets; // until handed to m_editor, which wipes them
};

} // namespace mcpbroker::app
