#include "CommandLine.h"

#include "store/ConfigStore.h"

#include <QRegularExpression>

#include <algorithm>

namespace mcpbroker::app {

namespace {

enum class Option {
    Config,
    Port,
    BearerStdin,
    HeaderStdin,
    Header,
    OAuth,
    ClientId,
    ClientSecretStdin,
    TokenAuth,
    ClientMetadataUrl,
    ClientCredentials,
    Scope,
    Json,
    Help,
    Version,
};

// Options that only make sense with --oauth.
const QList<Option> kOAuthOptions
        = {Option::ClientId,          Option::ClientSecretStdin, Option::TokenAuth,
           Option::ClientMetadataUrl, Option::ClientCredentials, Option::Scope};

struct OptionSpec
{
    QLatin1StringView name;
    Option option;
    bool takesValue;
};

const OptionSpec kOptions[] = {
        {QLatin1StringView("--config"), Option::Config, true},
        {QLatin1StringView("--port"), Option::Port, true},
        {QLatin1StringView("--bearer-stdin"), Option::BearerStdin, false},
        {QLatin1StringView("--header-stdin"), Option::HeaderStdin, true},
        {QLatin1StringView("--header"), Option::Header, true},
        {QLatin1StringView("--oauth"), Option::OAuth, false},
        {QLatin1StringView("--client-id"), Option::ClientId, true},
        {QLatin1StringView("--client-secret-stdin"), Option::ClientSecretStdin, false},
        {QLatin1StringView("--token-auth"), Option::TokenAuth, true},
        {QLatin1StringView("--client-metadata-url"), Option::ClientMetadataUrl, true},
        {QLatin1StringView("--client-credentials"), Option::ClientCredentials, false},
        {QLatin1StringView("--scope"), Option::Scope, true},
        {QLatin1StringView("--json"), Option::Json, false},
        {QLatin1StringView("--help"), Option::Help, false},
        {QLatin1StringView("-h"), Option::Help, false},
        {QLatin1StringView("--version"), Option::Version, false},
};

struct CommandSpec
{
    QLatin1StringView word;
    Command::Kind kind;
    int argumentCount;
    QLatin1StringView arguments; // how the help names them
    QList<Option> options;       // besides --config, --help and --version
};

const CommandSpec kCommands[] = {
        {QLatin1StringView("serve"), Command::Kind::Serve, 0, {}, {Option::Port}},
        {QLatin1StringView("add"), Command::Kind::Add, 2, QLatin1StringView("NAME and URL"),
         QList<Option>{Option::BearerStdin, Option::HeaderStdin, Option::Header, Option::OAuth}
                 + kOAuthOptions},
        {QLatin1StringView("list"), Command::Kind::List, 0, {}, {Option::Json}},
        {QLatin1StringView("remove"), Command::Kind::Remove, 1, QLatin1StringView("NAME"), {}},
        {QLatin1StringView("status"), Command::Kind::Status, 0, {}, {Option::Json, Option::Port}},
        {QLatin1StringView("login"), Command::Kind::Login, 1, QLatin1StringView("NAME"), {}},
        {QLatin1StringView("logout"), Command::Kind::Logout, 1, QLatin1StringView("NAME"), {}},
        {QLatin1StringView("help"), Command::Kind::Help, 0, {}, {}},
};

const OptionSpec *findOption(QStringView name)
{
    for (const OptionSpec &spec : kOptions) {
        if (name == spec.name)
            return &spec;
    }
    return nullptr;
}

QLatin1StringView optionName(Option option)
{
    for (const OptionSpec &spec : kOptions) {
        if (spec.option == option)
            return spec.name;
    }
    return {};
}

const CommandSpec *findCommand(QStringView word)
{
    for (const CommandSpec &spec : kCommands) {
        if (word == spec.word)
            return &spec;
    }
    return nullptr;
}

Error usageError(const QString &message)
{
    return Error::make(Error::Kind::InvalidInput, message);
}

// Secrets are read from standard input only, never taken as an option's value, where other
// local processes could read them (`ps`). Those who try are told the way that works.
QString unknownOption(const QString &name)
{
    if (name == QLatin1String("--client-secret")) {
        return QStringLiteral("A client secret is never given on the command line: pipe it in "
                              "with --client-secret-stdin.");
    }
    if (name == QLatin1String("--bearer") || name == QLatin1String("--token")) {
        return QStringLiteral("A bearer token is never given on the command line: pipe it in "
                              "with --bearer-stdin.");
    }
    return QStringLiteral("Unknown option '%1'.").arg(name);
}

// --token-auth's words → the config's names (RFC 8414 token_endpoint_auth_method).
std::optional<QString> tokenEndpointAuthMethod(const QString &word)
{
    if (word == QLatin1String("basic"))
        return QStringLiteral("client_secret_basic");
    if (word == QLatin1String("post"))
        return QStringLiteral("client_secret_post");
    if (word == QLatin1String("none"))
        return QStringLiteral("none");
    return std::nullopt;
}

// The combinations of authentication options that cannot mean anything. Values (URLs) are
// checked by `add`.
Result<void> checkAuthentication(const Command &command, const QList<Option> &given)
{
    for (Option option : kOAuthOptions) {
        if (given.contains(option) && !command.oauth)
            return usageError(QStringLiteral("%1 needs --oauth.").arg(optionName(option)));
    }
    const bool secretHeaders = !command.headers.isEmpty();
    if (command.bearerFromStdin && secretHeaders) {
        return usageError(QStringLiteral("Give either --bearer-stdin or secret headers "
                                         "(--header-stdin, --header), not both: a server uses one "
                                         "kind of authentication."));
    }
    if (!command.oauth)
        return {};
    if (command.bearerFromStdin || secretHeaders) {
        return usageError(QStringLiteral("Give either --oauth or %1, not both: a server uses one "
                                         "kind of authentication.")
                                  .arg(command.bearerFromStdin
                                               ? QStringLiteral("--bearer-stdin")
                                               : QStringLiteral("secret headers (--header-stdin, "
                                                                "--header)")));
    }

    const OAuthOptions &oauth = *command.oauth;
    const bool registeredByHand = !oauth.clientId.isEmpty();
    if (oauth.clientSecretFromStdin && !registeredByHand) {
        return usageError(QStringLiteral("--client-secret-stdin needs --client-id: a client "
                                         "secret belongs to a client registered by hand."));
    }
    if (oauth.clientCredentials && !registeredByHand) {
        return usageError(QStringLiteral("--client-credentials needs --client-id: that grant signs "
                                         "in as a client registered at the authorization "
                                         "server."));
    }
    if (!oauth.tokenEndpointAuthMethod.isEmpty() && !registeredByHand) {
        return usageError(QStringLiteral("--token-auth needs --client-id: it says how a client "
                                         "registered by hand authenticates."));
    }
    if (registeredByHand && !oauth.clientMetadataUrl.isEmpty()) {
        return usageError(QStringLiteral("Give either --client-id or --client-metadata-url, not "
                                         "both: the metadata document's URL is the client ID."));
    }
    const bool sendsSecret
            = oauth.tokenEndpointAuthMethod.startsWith(QLatin1String("client_secret"));
    if (sendsSecret && !oauth.clientSecretFromStdin) {
        return usageError(QStringLiteral("--token-auth basic and post send a client secret: add "
                                         "--client-secret-stdin."));
    }
    if (oauth.tokenEndpointAuthMethod == QLatin1String("none") && oauth.clientSecretFromStdin) {
        return usageError(QStringLiteral("--token-auth none sends no client secret: leave out "
                                         "--client-secret-stdin, or use basic or post."));
    }
    return {};
}

// Arguments are quoted back only when they look like a word someone typed as a command; anything
// else could be a token pasted in the wrong place.
QString quotedIfWordLike(const QString &argument)
{
    static const QRegularExpression word(QStringLiteral("^[A-Za-z][A-Za-z-]{0,23}$"));
    return word.match(argument).hasMatch() ? QStringLiteral(" '%1'").arg(argument) : QString();
}

std::optional<quint16> parsePort(const QString &text, quint16 lowest)
{
    bool ok = false;
    const uint port = text.toUInt(&ok);
    if (!ok || port < lowest || port > 65535)
        return std::nullopt;
    return static_cast<quint16>(port);
}

// 'NAME: VALUE' → the header; the value's surrounding whitespace is not part of it (RFC 9110).
std::optional<HeaderSecret> parseHeader(const QString &text)
{
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    if (colon <= 0)
        return std::nullopt;
    return HeaderSecret{text.left(colon), text.mid(colon + 1).toUtf8().trimmed()};
}

struct GivenOption
{
    const OptionSpec *spec;
    QString value;
};

} // namespace

QString Command::configFilePath() const
{
    return configPath.isEmpty() ? store::ConfigStore::defaultPath() : configPath;
}

Result<Command> CommandLine::parse(const QStringList &arguments)
{
    QList<GivenOption> given;
    QStringList words;
    std::optional<Error> firstError;
    auto fail = [&firstError](const QString &message) {
        if (!firstError)
            firstError = usageError(message);
    };

    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &argument = arguments.at(i);
        if (!argument.startsWith(QLatin1Char('-')) || argument == QLatin1String("-")) {
            words.append(argument);
            continue;
        }
        // --name=value; the value is never quoted back in a message.
        const qsizetype equals = argument.startsWith(QLatin1String("--"))
                ? argument.indexOf(QLatin1Char('='))
                : -1;
        const QString name = equals < 0 ? argument : argument.left(equals);
        const OptionSpec *spec = findOption(name);
        if (!spec) {
            fail(unknownOption(name));
            continue;
        }
        if (!spec->takesValue) {
            if (equals >= 0)
                fail(QStringLiteral("%1 takes no value.").arg(name));
            given.append(GivenOption{spec, {}});
            continue;
        }
        if (equals >= 0) {
            given.append(GivenOption{spec, argument.mid(equals + 1)});
        } else if (i + 1 < arguments.size()
                   && !arguments.at(i + 1).startsWith(QLatin1String("--"))) {
            given.append(GivenOption{spec, arguments.at(++i)});
        } else {
            fail(QStringLiteral("%1 needs a value.").arg(name));
        }
    }

    // --help and --version answer whatever else is on the line.
    auto has = [&given](Option option) {
        return std::any_of(given.cbegin(), given.cend(),
                           [option](const GivenOption &g) { return g.spec->option == option; });
    };
    Command command;
    if (has(Option::Help)) {
        command.kind = Command::Kind::Help;
        return command;
    }
    if (has(Option::Version)) {
        command.kind = Command::Kind::Version;
        return command;
    }

    const CommandSpec *spec = &kCommands[0]; // serve
    if (words.isEmpty()) {
        command.implicitServe = true;
    } else {
        const QString word = words.takeFirst();
        spec = findCommand(word);
        if (!spec)
            return usageError(QStringLiteral("Unknown command%1.").arg(quotedIfWordLike(word)));
    }
    command.kind = spec->kind;
    if (firstError)
        return *firstError;
    if (command.kind == Command::Kind::Help)
        return command;

    if (words.size() < spec->argumentCount) {
        return usageError(
                QStringLiteral("`mcp-broker %1` needs %2.").arg(spec->word, spec->arguments));
    }
    if (words.size() > spec->argumentCount) {
        return usageError(QStringLiteral("Too many arguments for `mcp-broker %1` (it takes %2).")
                                  .arg(spec->word,
                                       spec->argumentCount == 0 ? QStringLiteral("none")
                                                                : QString(spec->arguments)));
    }
    if (spec->argumentCount > 0)
        command.serverName = words.at(0);
    if (spec->argumentCount > 1)
        command.serverUrl = words.at(1);

    QList<Option> seen;
    std::optional<OAuthOptions> oauth; // kept apart: its details may come before --oauth
    OAuthOptions oauthDetails;
    for (const GivenOption &option : std::as_const(given)) {
        const Option which = option.spec->option;
        if (which != Option::Config && !spec->options.contains(which)) {
            return usageError(QStringLiteral("%1 is not an option of `mcp-broker %2`.")
                                      .arg(option.spec->name, spec->word));
        }
        const bool repeatable
                = which == Option::HeaderStdin || which == Option::Header || which == Option::Scope;
        if (!repeatable && seen.contains(which))
            return usageError(QStringLiteral("%1 is given more than once.").arg(option.spec->name));
        seen.append(which);

        switch (which) {
        case Option::Config:
            if (option.value.isEmpty())
                return usageError(QStringLiteral("--config needs a file name."));
            command.configPath = option.value;
            break;
        case Option::Port: {
            // `status` asks a running broker, which never has port 0.
            const quint16 lowest = command.kind == Command::Kind::Status ? 1 : 0;
            command.port = parsePort(option.value, lowest);
            if (!command.port)
                return usageError(
                        QStringLiteral("--port needs a port number from %1 to 65535.").arg(lowest));
            break;
        }
        case Option::BearerStdin:
            command.bearerFromStdin = true;
            break;
        case Option::HeaderStdin:
            if (option.value.isEmpty())
                return usageError(QStringLiteral("--header-stdin needs a header name."));
            command.headers.append({option.value, std::nullopt});
            break;
        case Option::Header: {
            auto header = parseHeader(option.value);
            if (!header)
                return usageError(QStringLiteral("--header needs 'NAME: VALUE', for example "
                                                 "--header 'X-Api-Key: …'."));
            command.headers.append(std::move(*header));
            break;
        }
        case Option::OAuth:
            oauth.emplace();
            break;
        case Option::ClientId:
            if (option.value.isEmpty())
                return usageError(QStringLiteral("--client-id needs a client ID."));
            oauthDetails.clientId = option.value;
            break;
        case Option::ClientSecretStdin:
            oauthDetails.clientSecretFromStdin = true;
            break;
        case Option::TokenAuth: {
            const auto method = tokenEndpointAuthMethod(option.value);
            if (!method)
                return usageError(QStringLiteral("--token-auth needs basic, post or none."));
            oauthDetails.tokenEndpointAuthMethod = *method;
            break;
        }
        case Option::ClientMetadataUrl:
            if (option.value.isEmpty())
                return usageError(QStringLiteral("--client-metadata-url needs a URL."));
            oauthDetails.clientMetadataUrl = option.value;
            break;
        case Option::ClientCredentials:
            oauthDetails.clientCredentials = true;
            break;
        case Option::Scope: {
            static const QRegularExpression space(QStringLiteral("\\s"));
            if (option.value.isEmpty() || option.value.contains(space)) {
                return usageError(QStringLiteral("--scope takes one scope, without spaces; repeat "
                                                 "it for more: --scope read --scope write."));
            }
            if (!oauthDetails.scopes.contains(option.value))
                oauthDetails.scopes.append(option.value);
            break;
        }
        case Option::Json:
            command.json = true;
            break;
        case Option::Help:
        case Option::Version:
            break;
        }
    }

    if (oauth)
        command.oauth = oauthDetails;
    if (auto valid = checkAuthentication(command, seen); !valid)
        return valid.error();
    return command;
}

// The help text is laid out as it is printed.
// clang-format off
QString CommandLine::usage()
{
    return QStringLiteral(
            "Usage: mcp-broker [COMMAND] [--config FILE]\n"
            "\n"
            "Commands:\n"
            "  serve [--port N]        Run the broker without a window; logs go to stderr.\n"
            "  add NAME URL [--bearer-stdin | --header-stdin HEADER... | --header 'HEADER: VALUE'...]\n"
            "                          Add an upstream MCP server; its secrets go to the OS keychain.\n"
            "  add NAME URL --oauth [--client-id ID [--client-secret-stdin]\n"
            "                 [--token-auth basic|post|none] [--client-credentials]\n"
            "                 | --client-metadata-url URL] [--scope SCOPE]...\n"
            "                          Add a server that signs in with OAuth (MCP authorization).\n"
            "  login NAME              Sign in to an OAuth server, in the browser; the tokens go to\n"
            "                          the OS keychain.\n"
            "  logout NAME             Sign out of an OAuth server: revoke its tokens, delete them.\n"
            "  list [--json]           Show the configured servers (never a secret).\n"
            "  remove NAME             Remove a server, sign out of it and delete its secrets from\n"
            "                          the keychain.\n"
            "  status [--json] [--port N]\n"
            "                          Ask the running broker how each server is doing.\n"
            "  help                    Show the full help.\n"
            "\n"
            "With no command, mcp-broker runs `serve` (the tray icon comes in a later version).\n");
}

QString CommandLine::help()
{
    return usage()
            + QStringLiteral(
                    "\n"
                    "MCP Broker keeps the credentials of your MCP servers in the OS keychain and\n"
                    "serves all of them to every MCP client on one localhost endpoint.\n"
                    "\n"
                    "Options:\n"
                    "  --config FILE           The config file to use, before or after the command.\n"
                    "                          Default: $MCP_BROKER_CONFIG, else\n"
                    "                          $XDG_CONFIG_HOME/mcp-broker/config.json.\n"
                    "  --port N                serve: the port of the endpoint (0 = any free port);\n"
                    "                          status: the port to ask. Default: the config's port.\n"
                    "  --bearer-stdin          add: read a bearer token, one line, from standard input.\n"
                    "  --header-stdin HEADER   add: read the value of a secret header, one line per\n"
                    "                          header, from standard input, in the order given.\n"
                    "  --header 'HEADER: VALUE'\n"
                    "                          add: a secret header with its value on the command\n"
                    "                          line, where other local processes can see it; prefer\n"
                    "                          --header-stdin.\n"
                    "  --oauth                 add: the server signs in with OAuth; sign in with\n"
                    "                          `mcp-broker login NAME` afterwards. By default MCP\n"
                    "                          Broker registers itself at the authorization server.\n"
                    "  --client-id ID          add --oauth: use a client registered by hand (redirect\n"
                    "                          URI http://127.0.0.1/callback, any port).\n"
                    "  --client-secret-stdin   add --oauth: read that client's secret, one line, from\n"
                    "                          standard input. Never give it on the command line.\n"
                    "  --token-auth basic|post|none\n"
                    "                          add --oauth: how that client authenticates to the\n"
                    "                          token endpoint (client_secret_basic,\n"
                    "                          client_secret_post, none). Default: the best the\n"
                    "                          server offers.\n"
                    "  --client-credentials    add --oauth: machine to machine, with the\n"
                    "                          client_credentials grant of --client-id; `login`\n"
                    "                          opens no browser.\n"
                    "  --client-metadata-url URL\n"
                    "                          add --oauth: the https URL of a Client ID Metadata\n"
                    "                          Document, used as client ID where the server allows.\n"
                    "  --scope SCOPE           add --oauth: a scope to ask for instead of what the\n"
                    "                          server suggests; repeat it for more.\n"
                    "  --json                  list, status: print JSON.\n"
                    "  -h, --help              Show this help.\n"
                    "  --version               Show the version.\n"
                    "\n"
                    "Examples:\n"
                    "  pass show mcp/github | mcp-broker add github https://api.githubcopilot.com/mcp/ --bearer-stdin\n"
                    "  mcp-broker add notes https://mcp.example.com/mcp --oauth && mcp-broker login notes\n"
                    "  pass show mcp/ci | mcp-broker add ci https://ci.example.com/mcp --oauth \\\n"
                    "      --client-id mcp-broker --client-secret-stdin --client-credentials\n"
                    "\n"
                    "Exit status: 0 done, 1 failed, 2 usage error, 3 (status) the broker is not running.\n");
}
// clang-format on

} // namespace mcpbroker::app
