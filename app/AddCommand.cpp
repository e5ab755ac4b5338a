#include "AddCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "HeaderField.h"
#include "SecretInput.h"
#include "store/ConfigStore.h"
#include "store/SecretBytes.h"
#include "store/SecretStore.h"

#include <QSet>

#include <algorithm>
#include <utility>

namespace mcpbroker::app {

namespace {

QString headerValueName(const QString &header)
{
    return QStringLiteral("the value of header %1").arg(header);
}

// A secret `add` stores: where, the words that name it in prompts and errors, and its value
// when the command line gave it (--header); the others come from standard input.
struct SecretSource
{
    QString key;
    QString what;
    std::optional<QByteArray> value;
};

// In the order of standard input: the bearer token, the secret headers, the client secret.
QList<SecretSource> secretSources(const Command &command)
{
    const QString &server = command.serverName;
    QList<SecretSource> sources;
    if (command.bearerFromStdin)
        sources.append({store::SecretKeys::bearer(server), QStringLiteral("the bearer token"), {}});
    for (const HeaderSecret &header : command.headers) {
        sources.append({store::SecretKeys::header(server, header.name),
                        headerValueName(header.name), header.value});
    }
    if (command.oauth && command.oauth->clientSecretFromStdin) {
        sources.append({store::SecretKeys::oauthClientSecret(server),
                        QStringLiteral("the client secret"),
                        {}});
    }
    return sources;
}

// The settings `--oauth` and its options ask for; what the config would refuse, refused now,
// before a secret is read.
Result<store::OAuthSettings> oauthSettings(const OAuthOptions &options)
{
    store::OAuthSettings settings;
    settings.clientId = options.clientId;
    settings.hasClientSecret = options.clientSecretFromStdin;
    settings.tokenEndpointAuthMethod = options.tokenEndpointAuthMethod;
    settings.clientCredentials = options.clientCredentials;
    settings.scopes = options.scopes;
    if (!options.clientMetadataUrl.isEmpty()) {
        settings.clientMetadataUrl = QUrl(options.clientMetadataUrl, QUrl::StrictMode);
        const QUrl &url = settings.clientMetadataUrl;
        if (!url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty()
            || url.path().isEmpty() || url.path() == QLatin1String("/")) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("The client metadata URL must be an https URL with "
                                              "a path, such as "
                                              "https://example.com/mcp-broker/client.json."));
        }
    }
    return settings;
}

} // namespace

AddCommand::AddCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent),
      m_keychain(new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this)),
      m_editor(new store::ServerEditor(AsyncCommand::command().configFilePath(), m_keychain, this))
{ }

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

    const auto fromCommandLine
            = std::find_if(command().headers.cbegin(), command().headers.cend(),
                           [](const HeaderSecret &header) { return header.value.has_value(); });
    if (fromCommandLine != command().headers.cend()) {
        Console::err(QStringLiteral("Note: a header value given with --header is visible to other "
                                    "local processes (for example in `ps`); --header-stdin is "
                                    "safer."));
    }

    QStringList fromStdin;
    for (const SecretSource &source : secretSources(command())) {
        if (!source.value)
            fromStdin.append(QStringLiteral("%1 for '%2'").arg(source.what, m_server.name));
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
            return Error::make(
                    Error::Kind::InvalidInput,
                    QStringLiteral("The header \"%1\" is given more than once.").arg(header.name));
        }
        seen.insert(header.name.toLower());
        if (header.value) {
            if (auto valid
                = HeaderField::validateValue(*header.value, headerValueName(header.name));
                !valid)
                return valid.error();
        }
        server.secretHeaderNames.append(header.name);
    }
    if (command().bearerFromStdin) {
        server.auth = store::UpstreamAuth::Bearer;
    } else if (!server.secretHeaderNames.isEmpty()) {
        server.auth = store::UpstreamAuth::Headers;
    } else if (command().oauth) {
        auto settings = oauthSettings(*command().oauth);
        if (!settings)
            return settings.error();
        server.auth = store::UpstreamAuth::OAuth;
        server.oauth = std::move(settings).value();
    }
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
    // Pair each value with its key, in the order of secretSources(). Moved, so that m_secrets
    // holds the only reference that wipeSecrets() has to wipe.
    QList<QByteArray> &read = values.value();
    qsizetype next = 0;
    const QList<SecretSource> sources = secretSources(command());
    for (const SecretSource &source : sources)
        m_secrets.append({source.key, source.value ? *source.value : std::move(read[next++])});

    for (qsizetype i = 0; i < m_secrets.size(); ++i) {
        // A client secret goes into a header or a form too: the same rules keep it intact.
        if (auto valid = HeaderField::validateValue(m_secrets.at(i).value, sources.at(i).what);
            !valid) {
            wipeSecrets();
            Console::err(valid.error().message);
            finish(kExitFailed);
            return;
        }
    }
    addServer();
}

void AddCommand::addServer()
{
    m_editor->add(m_server, std::exchange(m_secrets, {}), [this](Result<void> added) {
        if (!added) {
            // Only a race gets past checkedServer(): say it with the command that helps.
            Console::err(added.error().kind == Error::Kind::Conflict
                                 ? QStringLiteral("Server '%1' was added by another program "
                                                  "meanwhile; remove it first with `mcp-broker "
                                                  "remove %1`.")
                                           .arg(m_server.name)
                                 : added.error().message);
            finish(kExitFailed);
            return;
        }
        Console::out(QStringLiteral("Added server '%1' (%2).")
                             .arg(m_server.name, m_server.url.toString()));
        if (m_server.auth == store::UpstreamAuth::OAuth)
            Console::out(QStringLiteral("Sign in with `mcp-broker login %1`.").arg(m_server.name));
        finish(kExitOk);
    });
}

void AddCommand::wipeSecrets()
{
    for (store::ServerEditor::Secret &secret : m_secrets)
        store::wipe(secret.value);
    m_secrets.clear();
}

} // namespace mcpbroker::app
