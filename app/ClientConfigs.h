#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <optional>

namespace mcpbroker::app {

// One MCP client that `mcp-broker connect` knows: where its config file is, how an entry for
// the broker looks in it and how that client proves itself to the broker.
struct ClientProfile
{
    enum class Format { Json, Toml };
    // How the client reaches the broker: a URL (the client runs MCP authorization itself, with
    // the broker as its authorization server), or a command it launches (`mcp-broker stdio`).
    enum class Access { Url, Command };

    QString id;          // "cursor": the word on the command line, and the name of its grant
    QString displayName; // "Cursor"
    Format format = Format::Json;
    Access access = Access::Url;
    QString serversKey;          // the object (table) of servers: "mcpServers", "servers", …
    QString urlKey;              // "url", or "serverUrl" (Windsurf); Access::Url only
    QString typeValue;           // {"type": "http"} where the client wants it; else empty
    QString headersKey;          // where static headers go ("headers", "http_headers"); empty:
                                 // the client takes none (--grant-header is refused)
    bool allowsComments = false; // the file is JSON with comments (VS Code's mcp.json)
};

// Where a connect entry points: the endpoint of every server (/mcp) or of one (/mcp/NAME).
struct BrokerEndpoint
{
    quint16 port = 0;
    QString executable; // absolute path of this mcp-broker, for clients that launch it
    QString configPath; // --config given to this command; empty: the default config
};

// The clients MCP Broker can connect, their defaults and the entries it writes.
namespace ClientConfigs {

inline constexpr QLatin1StringView kEntryName{"mcp-broker"};

const QList<ClientProfile> &all();
const ClientProfile *find(QStringView id);
QString idList(); // "claude-code, cursor, vscode, codex, windsurf or claude-desktop"

// The user's config file of `client` on this OS, from $HOME and the variables the client
// itself reads ($CLAUDE_CONFIG_DIR, $CODEX_HOME, $XDG_CONFIG_HOME, %APPDATA%).
QString defaultPath(const ClientProfile &client);
// `given` (--config-file) made absolute, else defaultPath().
QString configFilePath(const ClientProfile &client, const QString &given);

// "mcp-broker" for the endpoint of every server, "mcp-broker-NAME" for one server's.
QString entryName(const QString &server);
// http://127.0.0.1:PORT/mcp or …/mcp/NAME.
QString endpointUrl(quint16 port, const QString &server);

// The entry for `server` (empty: every server). `bearerToken`, when given, is written as an
// "Authorization: Bearer" header (the client must take headers).
nlohmann::ordered_json entry(const ClientProfile &client, const BrokerEndpoint &endpoint,
                             const QString &server, const QByteArray &bearerToken);
nlohmann::ordered_json entry(const ClientProfile &client, const BrokerEndpoint &endpoint,
                             const QString &server);

// Whether `entry` points at an MCP Broker: a loopback URL with the path /mcp or /mcp/NAME, or
// a command run with `stdio`. Names alone do not decide: the user may have an entry of that
// name for something else.
bool pointsAtBroker(const nlohmann::ordered_json &entry);
// The grant id in an entry's "Authorization: Bearer mcpb_…" header, if it carries one of ours.
std::optional<QString> grantIdIn(const ClientProfile &client, const nlohmann::ordered_json &entry);
// `entry` without its Authorization header (and without an empty headers object left behind).
nlohmann::ordered_json withoutAuthorization(const ClientProfile &client,
                                            nlohmann::ordered_json entry);
// Whether two entries say the same, whatever the order of their keys.
bool sameEntry(const nlohmann::ordered_json &a, const nlohmann::ordered_json &b);

// What the user does next so that the client picks the entries up.
QString nextStep(const ClientProfile &client, const QStringList &entryNames, bool grantHeader);

} // namespace ClientConfigs
} // namespace mcpbroker::app
