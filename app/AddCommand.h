#pragma once

#include "AsyncCommand.h"
#include "SecretBatch.h"
#include "store/ServerConfig.h"

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

class SecretInput;

// `mcp-broker add NAME URL [--bearer-stdin | --header-stdin HEADER… | --header 'K: V'… |
// --oauth [--client-id ID [--client-secret-stdin] …]]`.
// Checks everything it can before asking for a secret, reads the secrets (standard input or
// command line), writes them to the keychain first and saves the config only then, so a config
// never names a secret that is not there. An OAuth server is added signed out: `login` signs
// in. A keychain failure leaves the config untouched; a
// config that cannot be saved takes the secrets just written out of the keychain again.
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
    void storeSecrets();
    void saveConfig(const QStringList &writtenKeys);
    // Prints `message`, removes `writtenKeys` from the keychain (best effort), exits 1.
    void failAndRollBack(const QString &message, const QStringList &writtenKeys);
    void wipeSecrets();

    store::ServerConfig m_server;
    store::SecretStore *m_keychain;
    SecretInput *m_input = nullptr;
    QList<SecretBatch::Secret> m_secrets; // in memory only until written; then wiped
};

} // namespace mcpbroker::app
