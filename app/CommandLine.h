#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace mcpbroker::app {

// A secret HTTP header given to `add`: its value comes from the command line (--header) or is
// read from standard input later (--header-stdin).
struct HeaderSecret
{
    QString name;
    std::optional<QByteArray> value; // --header 'NAME: VALUE'; nullopt for --header-stdin NAME
};

// `add --oauth`: how MCP Broker identifies itself at the server's authorization server. All
// optional; by default it registers itself (RFC 7591) and signs in with the browser.
struct OAuthOptions
{
    QString clientId;                   // --client-id: a client registered by hand
    bool clientSecretFromStdin = false; // --client-secret-stdin: its secret, read later
    QString tokenEndpointAuthMethod;    // --token-auth, as the config spells it:
                                        // "client_secret_basic", "client_secret_post", "none"
    QString clientMetadataUrl;          // --client-metadata-url; checked by `add`
    bool clientCredentials = false;     // --client-credentials: no browser, no person
    QStringList scopes;                 // --scope, in the order given, each once
};

// What the user asked for, as parsed from the command line. Mostly syntax is checked here
// (commands, options, argument counts, and values of a fixed form: ports, line counts,
// durations, client names, the MCP clients `connect` knows); values such as server names and
// URLs are checked by the command that uses them.
struct Command
{
    enum class Kind {
        Serve,
        Add,
        List,
        Remove,
        Status,
        Login,
        Logout,
        Log,
        GrantCreate,
        GrantList,
        GrantRevoke,
        Connect,
        Disconnect,
        Import,
        Stdio,
        Tray,
        Help,
        Version,
    };

    Kind kind = Kind::Serve;
    bool implicitServe = false;        // no command word was given
    QString configPath;                // --config FILE; empty: ConfigStore::defaultPath()
    std::optional<quint16> port;       // serve (0 = any free port), status
    QString serverName;                // add, remove, login, logout; stdio --server
    QString serverUrl;                 // add
    bool bearerFromStdin = false;      // add
    QList<HeaderSecret> headers;       // add, in the order given
    std::optional<OAuthOptions> oauth; // add --oauth
    bool json = false;                 // list, status, log, grant list
    int logLines = 20;                 // log -n/--lines: 1 to kMaxLogLines
    bool follow = false;               // log --follow
    QString grantClient;               // grant create: the client's NAME; grant revoke: NAME or ID
    QStringList grantServers;          // --server of grant create, connect and disconnect, in
                                       // the order given, each once; empty: every server
    std::optional<qint64> grantExpiresInSeconds; // grant create --expires-in; nullopt: no end
    QString client;           // connect, disconnect: a ClientConfigs id ("cursor")
    bool allServers = false;  // connect --all-servers: one entry per server
    bool grantHeader = false; // connect --grant-header: a static grant in the file
    QString clientConfigFile; // connect, disconnect --config-file; empty: the client's
    QString importFile;       // import FILE

    static constexpr int kMaxLogLines = 100'000;
    static constexpr qint64 kMaxGrantSeconds = 3650LL * 24 * 60 * 60; // --expires-in 3650d
    static constexpr int kMaxClientNameLength = 64;

    QString configFilePath() const; // configPath, else ConfigStore::defaultPath()
};

// argv (without the program name) → Command, or an Error whose message is one line saying
// what is wrong. Never echoes an argument that could be a secret. Pure: no I/O.
namespace CommandLine {
Result<Command> parse(const QStringList &arguments);
QString usage(); // the synopsis printed after a usage error
QString help();  // --help: the synopsis and the details
} // namespace CommandLine

} // namespace mcpbroker::app
