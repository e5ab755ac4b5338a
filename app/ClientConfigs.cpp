#include "ClientConfigs.h"

#include "gateway/GrantToken.h"

#include <QDir>
#include <QFileInfo>
#include <QUrl>

namespace mcpbroker::app {

namespace {

using nlohmann::ordered_json;

QList<ClientProfile> makeProfiles()
{
    using Format = ClientProfile::Format;
    using Access = ClientProfile::Access;
    QList<ClientProfile> profiles;
    // Claude Code: user scope, the top-level "mcpServers" of ~/.claude.json. It runs MCP
    // authorization itself (/mcp → Authenticate).
    profiles.append({QStringLiteral("claude-code"), QStringLiteral("Claude Code"), Format::Json,
                     Access::Url, QStringLiteral("mcpServers"), QStringLiteral("url"),
                     QStringLiteral("http"), QStringLiteral("headers"), false});
    profiles.append({QStringLiteral("cursor"), QStringLiteral("Cursor"), Format::Json, Access::Url,
                     QStringLiteral("mcpServers"), QStringLiteral("url"), QString(),
                     QStringLiteral("headers"), false});
    // VS Code's mcp.json is JSON with comments; servers sit under "servers".
    profiles.append({QStringLiteral("vscode"), QStringLiteral("VS Code"), Format::Json, Access::Url,
                     QStringLiteral("servers"), QStringLiteral("url"), QStringLiteral("http"),
                     QStringLiteral("headers"), true});
    // Codex runs MCP authorization for streamable HTTP servers (`codex mcp login NAME`) and
    // keeps its tokens in the OS keyring; static headers go to "http_headers".
    profiles.append({QStringLiteral("codex"), QStringLiteral("Codex"), Format::Toml, Access::Url,
                     QStringLiteral("mcp_servers"), QStringLiteral("url"), QString(),
                     QStringLiteral("http_headers"), false});
    // Windsurf supports OAuth for every transport; remote servers take "serverUrl".
    profiles.append({QStringLiteral("windsurf"), QStringLiteral("Windsurf"), Format::Json,
                     Access::Url, QStringLiteral("mcpServers"), QStringLiteral("serverUrl"),
                     QString(), QStringLiteral("headers"), false});
    // Claude Desktop only launches commands: it gets the stdio bridge, which has a grant of
    // its own, so nothing secret is in its file.
    profiles.append({QStringLiteral("claude-desktop"), QStringLiteral("Claude Desktop"),
                     Format::Json, Access::Command, QStringLiteral("mcpServers"), QString(),
                     QString(), QString(), false});
    return profiles;
}

QString home()
{
    return QDir::homePath();
}

// $NAME when it holds an absolute path (the XDG rule), else `fallback`.
QString absoluteFromEnvironment(const char *name, const QString &fallback)
{
    const QString value = qEnvironmentVariable(name);
    return !value.isEmpty() && QDir::isAbsolutePath(value) ? value : fallback;
}

// Where desktop apps (Electron: VS Code, Claude Desktop) keep their per-user data.
QString applicationDataDir()
{
#if defined(Q_OS_MACOS)
    return home() + QStringLiteral("/Library/Application Support");
#elif defined(Q_OS_WIN)
    return absoluteFromEnvironment("APPDATA", home() + QStringLiteral("/AppData/Roaming"));
#else
    return absoluteFromEnvironment("XDG_CONFIG_HOME", home() + QStringLiteral("/.config"));
#endif
}

bool isLoopbackHost(const QString &host)
{
    return host == QLatin1String("127.0.0.1") || host == QLatin1String("localhost")
            || host == QLatin1String("::1");
}

bool isBrokerUrl(const ordered_json &value)
{
    if (!value.is_string())
        return false;
    const QUrl url(QString::fromStdString(value.get<std::string>()));
    const QString path = url.path();
    return url.scheme() == QLatin1String("http") && isLoopbackHost(url.host())
            && (path == QLatin1String("/mcp") || path.startsWith(QLatin1String("/mcp/")));
}

bool isBrokerCommand(const ordered_json &entry)
{
    const auto command = entry.find("command");
    const auto args = entry.find("args");
    if (command == entry.end() || !command->is_string() || args == entry.end() || !args->is_array()
        || args->empty() || args->front() != "stdio")
        return false;
    return QFileInfo(QString::fromStdString(command->get<std::string>())).completeBaseName()
            == ClientConfigs::kEntryName;
}

bool isAuthorization(const std::string &headerName)
{
    return QString::fromStdString(headerName)
                   .compare(QLatin1String("Authorization"), Qt::CaseInsensitive)
            == 0;
}

// The value of the entry's Authorization header, when it has one.
const ordered_json *authorizationOf(const ClientProfile &client, const ordered_json &entry)
{
    if (client.headersKey.isEmpty() || !entry.is_object())
        return nullptr;
    const auto headers = entry.find(client.headersKey.toStdString());
    if (headers == entry.end() || !headers->is_object())
        return nullptr;
    for (auto header = headers->begin(); header != headers->end(); ++header) {
        if (isAuthorization(header.key()))
            return &*header;
    }
    return nullptr;
}

} // namespace

namespace ClientConfigs {

const QList<ClientProfile> &all()
{
    static const QList<ClientProfile> profiles = makeProfiles();
    return profiles;
}

const ClientProfile *find(QStringView id)
{
    for (const ClientProfile &profile : all()) {
        if (profile.id == id)
            return &profile;
    }
    return nullptr;
}

QString idList()
{
    QStringList ids;
    for (const ClientProfile &profile : all())
        ids.append(profile.id);
    const QString last = ids.takeLast();
    return ids.join(QLatin1String(", ")) + QLatin1String(" or ") + last;
}

QString defaultPath(const ClientProfile &client)
{
    const QString &id = client.id;
    if (id == QLatin1String("claude-code"))
        return absoluteFromEnvironment("CLAUDE_CONFIG_DIR", home())
                + QStringLiteral("/.claude.json");
    if (id == QLatin1String("cursor"))
        return home() + QStringLiteral("/.cursor/mcp.json");
    if (id == QLatin1String("vscode"))
        return applicationDataDir() + QStringLiteral("/Code/User/mcp.json");
    if (id == QLatin1String("codex"))
        return absoluteFromEnvironment("CODEX_HOME", home() + QStringLiteral("/.codex"))
                + QStringLiteral("/config.toml");
    if (id == QLatin1String("windsurf"))
        return home() + QStringLiteral("/.codeium/windsurf/mcp_config.json");
    // Claude Desktop: macOS and Windows; on Linux, where the community builds keep it.
    return applicationDataDir() + QStringLiteral("/Claude/claude_desktop_config.json");
}

QString configFilePath(const ClientProfile &client, const QString &given)
{
    return given.isEmpty() ? defaultPath(client) : QFileInfo(given).absoluteFilePath();
}

QString entryName(const QString &server)
{
    return server.isEmpty() ? QString(kEntryName) : kEntryName + QLatin1Char('-') + server;
}

QString endpointUrl(quint16 port, const QString &server)
{
    const QString base = QStringLiteral("http://127.0.0.1:%1/mcp").arg(port);
    return server.isEmpty() ? base : base + QLatin1Char('/') + server;
}

ordered_json entry(const ClientProfile &client, const BrokerEndpoint &endpoint,
                   const QString &server, const QByteArray &bearerToken)
{
    ordered_json entry = ordered_json::object();
    if (client.access == ClientProfile::Access::Command) {
        ordered_json args = ordered_json::array();
        args.push_back("stdio");
        if (!server.isEmpty()) {
            args.push_back("--server");
            args.push_back(server.toStdString());
        }
        // The bridge must read the same config (and find the same broker) as this command.
        if (!endpoint.configPath.isEmpty()) {
            args.push_back("--config");
            args.push_back(QFileInfo(endpoint.configPath).absoluteFilePath().toStdString());
        }
        entry["command"] = QDir::toNativeSeparators(endpoint.executable).toStdString();
        entry["args"] = std::move(args);
        return entry;
    }
    if (!client.typeValue.isEmpty())
        entry["type"] = client.typeValue.toStdString();
    entry[client.urlKey.toStdString()] = endpointUrl(endpoint.port, server).toStdString();
    if (!bearerToken.isEmpty()) {
        entry[client.headersKey.toStdString()]
                = {{"Authorization", "Bearer " + bearerToken.toStdString()}};
    }
    return entry;
}

ordered_json entry(const ClientProfile &client, const BrokerEndpoint &endpoint,
                   const QString &server)
{
    return entry(client, endpoint, server, QByteArray());
}

bool pointsAtBroker(const ordered_json &entry)
{
    if (!entry.is_object())
        return false;
    for (const char *key : {"url", "serverUrl"}) {
        if (const auto url = entry.find(key); url != entry.end() && isBrokerUrl(*url))
            return true;
    }
    return isBrokerCommand(entry);
}

std::optional<QString> grantIdIn(const ClientProfile &client, const ordered_json &entry)
{
    const ordered_json *value = authorizationOf(client, entry);
    if (!value || !value->is_string())
        return std::nullopt;
    const QByteArray header = QByteArray::fromStdString(value->get<std::string>());
    if (!header.startsWith("Bearer "))
        return std::nullopt;
    const auto token = gateway::GrantToken::parse(QByteArrayView(header).sliced(7));
    if (!token || token->use != gateway::GrantToken::Use::Static)
        return std::nullopt;
    return token->grantId;
}

ordered_json withoutAuthorization(const ClientProfile &client, ordered_json entry)
{
    if (!authorizationOf(client, entry))
        return entry;
    ordered_json &headers = entry[client.headersKey.toStdString()];
    for (auto header = headers.begin(); header != headers.end(); ++header) {
        if (isAuthorization(header.key())) {
            headers.erase(header);
            break;
        }
    }
    if (headers.empty())
        entry.erase(client.headersKey.toStdString());
    return entry;
}

bool sameEntry(const ordered_json &a, const ordered_json &b)
{
    // nlohmann::json keeps objects sorted, so the comparison ignores the order of keys.
    return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump());
}

QString nextStep(const ClientProfile &client, const QStringList &entryNames, bool grantHeader)
{
    const QString &id = client.id;
    if (id == QLatin1String("claude-desktop"))
        return QStringLiteral("Restart Claude Desktop; it starts `mcp-broker stdio`, which signs "
                              "in to the running broker by itself.");
    if (grantHeader)
        return QStringLiteral("Restart %1 (or reload its MCP servers); it sends the grant with "
                              "every request.")
                .arg(client.displayName);
    if (id == QLatin1String("claude-code"))
        return QStringLiteral("In Claude Code, run /mcp, choose %1 and Authenticate; the browser "
                              "opens once to ask you to allow it.")
                .arg(entryNames.join(QLatin1String(", ")));
    if (id == QLatin1String("vscode"))
        return QStringLiteral("In VS Code, run \"MCP: List Servers\" and start %1; it opens the "
                              "browser once to ask you to allow it.")
                .arg(entryNames.join(QLatin1String(", ")));
    if (id == QLatin1String("codex")) {
        QStringList logins;
        for (const QString &name : entryNames)
            logins.append(QStringLiteral("`codex mcp login %1`").arg(name));
        return QStringLiteral("Run %1 once; the browser opens to ask you to allow Codex.")
                .arg(logins.join(QLatin1String(", ")));
    }
    if (id == QLatin1String("windsurf"))
        return QStringLiteral("Refresh the MCP servers in Windsurf (Cascade, MCPs); it opens the "
                              "browser once to ask you to allow it.");
    return QStringLiteral("Restart %1; it will open the browser once to ask you to allow it.")
            .arg(client.displayName);
}

} // namespace ClientConfigs
} // namespace mcpbroker::app
