#include "AddCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "HeaderField.h"
#include "SecretBytes.h"
#include "SecretInput.h"
#include "store/ConfigStore.h"
#include "store/SecretStore.h"

#include <QSet>

#include <algorithm>

namespace mcpbroker::app {

namespace {

QString headerValueName(const QString &header)
{
    return QStringLiteral("the value of header %1").arg(header);
}

} // namespace

AddCommand::AddCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this))
{
}

AddCommand::~AddCommand()
{
    wipeSecrets();
}

void AddCommand::start()
{
    auto server = checkedServer();
    if (!server) {
        Console::err(server.error().message);
        finish(kExitFailed);
        return;
    }
    m_server = std::move(server).value();

    const auto fromCommandLine = std::find_if(
            command().headers.cbegin(), command().headers.cend(),
            [](const HeaderSecret &header) { return header.value.has_value(); });
    if (fromCommandLine != command().headers.cend()) {
        Console::err(QStringLiteral("Note: a header value given with --header is visible to other "
                                    "local processes (for example in `ps`); --header-stdin is "
                                    "safer."));
    }

    QStringList fromStdin;
    if (command().bearerFromStdin)
        fromStdin.append(QStringLiteral("the bearer token for '%1'").arg(m_server.name));
    for (const HeaderSecret &header : command().headers) {
        if (!header.value)
            fromStdin.append(QStringLiteral("%1 for '%2'")
                                     .arg(headerValueName(header.name), m_server.name));
    }
    m_input = new SecretInput(fromStdin, this);
    m_input->read([this](Result<QList<QByteArray>> values) { onSecretsRead(std::move(values)); });
}

// Everything that can be checked before asking for a secret.
Result<store::ServerConfig> AddCommand::checkedServer() const
{
    const auto config = store::ConfigStore(command().configFilePath()).load();
    if (!config)
        return config.error();

    store::ServerConfig server;
    server.name = command().serverName;
    if (auto valid = store::ConfigStore::validateServerName(server.name); !valid)
        return valid.error();
    // Parsed as the config file's URLs are, so that what is saved loads again.
    server.url = QUrl(command().serverUrl, QUrl::StrictMode);
    if (auto valid = store::ConfigStore::validateServerUrl(server.url); !valid)
        return valid.error();
    if (config.value().server(server.name)) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("Server '%1' already exists; remove it first with "
                                          "`mcp-broker remove %1`.")
                                   .arg(server.name));
    }

    QSet<QString> seen;
    for (const HeaderSecret &header : command().headers) {
        if (auto valid = HeaderField::validateName(header.name); !valid)
            return valid.error();
        if (seen.contains(header.name.toLower())) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("The header \"%1\" is given more than once.")
                                       .arg(header.name));
        }
        seen.insert(header.name.toLower());
        if (header.value) {
            if (auto valid = HeaderField::validateValue(*header.value, headerValueName(header.name));
                !valid)
                return valid.error();
        }
        server.secretHeaderNames.append(header.name);
    }
    if (command().bearerFromStdin)
        server.auth = store::UpstreamAuth::Bearer;
    else if (!server.secretHeaderNames.isEmpty())
        server.auth = store::UpstreamAuth::Headers;
    return server;
}

void AddCommand::onSecretsRead(Result<QList<QByteArray>> values)
{
    if (!values) {
        Console::err(values.error().kind == Error::Kind::Cancelled
                             ? QStringLiteral("Interrupted: server '%1' was not added.")
                                       .arg(m_server.name)
                             : values.error().message);
        finish(kExitFailed);
        return;
    }
    // Pair each value with its key, in the order of the options: the bearer token first. Moved,
    // so that m_secrets holds the only reference that wipeSecrets() has to wipe.
    QList<QByteArray> &read = values.value();
    qsizetype next = 0;
    if (command().bearerFromStdin)
        m_secrets.append({store::SecretKeys::bearer(m_server.name), std::move(read[next++])});
    for (const HeaderSecret &header : command().headers) {
        m_secrets.append({store::SecretKeys::header(m_server.name, header.name),
                          header.value ? *header.value : std::move(read[next++])});
    }

    for (qsizetype i = 0; i < m_secrets.size(); ++i) {
        const QString what = command().bearerFromStdin
                ? QStringLiteral("the bearer token")
                : headerValueName(command().headers.at(i).name);
        if (auto valid = HeaderField::validateValue(m_secrets.at(i).value, what); !valid) {
            wipeSecrets();
            Console::err(valid.error().message);
            finish(kExitFailed);
            return;
        }
    }
    storeSecrets();
}

void AddCommand::storeSecrets()
{
    if (m_secrets.isEmpty()) {
        saveConfig({});
        return;
    }
    SecretBatch::write(m_keychain, m_secrets, [this](Result<void> written, QStringList keys) {
        wipeSecrets();
        if (!written) {
            failAndRollBack(QStringLiteral("%1 Server '%2' was not added.")
                                    .arg(Console::sentence(written.error().message), m_server.name),
                            keys);
            return;
        }
        saveConfig(keys);
    });
}

void AddCommand::saveConfig(const QStringList &writtenKeys)
{
    // Loaded again: the file may have changed while the secrets were typed or stored.
    const store::ConfigStore configStore(command().configFilePath());
    auto config = configStore.load();
    if (!config) {
        failAndRollBack(config.error().message, writtenKeys);
        return;
    }
    if (config.value().server(m_server.name)) {
        // Added by someone else meanwhile, under the same keys: leave the keychain to them.
        Console::err(QStringLiteral("Server '%1' was added by another program meanwhile; remove "
                                    "it first with `mcp-broker remove %1`.")
                             .arg(m_server.name));
        finish(kExitFailed);
        return;
    }
    config.value().servers.append(m_server);
    if (auto saved = configStore.save(config.value()); !saved) {
        failAndRollBack(saved.error().message, writtenKeys);
        return;
    }
    Console::out(QStringLiteral("Added server '%1' (%2).").arg(m_server.name, m_server.url.toString()));
    finish(kExitOk);
}

void AddCommand::failAndRollBack(const QString &message, const QStringList &writtenKeys)
{
    Console::err(message);
    if (writtenKeys.isEmpty()) {
        finish(kExitFailed);
        return;
    }
    SecretBatch::remove(m_keychain, writtenKeys, [this](Result<void> removed, QStringList left) {
        if (!removed) {
            Console::err(QStringLiteral("The secrets stored for '%1' could not be removed again "
                                        "(%2): %3")
                                 .arg(m_server.name, left.join(QStringLiteral(", ")),
                                      Console::sentence(removed.error().message)));
        }
        finish(kExitFailed);
    });
}

void AddCommand::wipeSecrets()
{
    for (SecretBatch::Secret &secret : m_secrets)
        wipe(secret.value);
    m_secrets.clear();
}

} // namespace mcpbroker::app
