#include "CommandLine.h"

#include "ClientConfigs.h"
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
    Lines,
    Follow,
    Server,
    ExpiresIn,
    AllServers,
    GrantHeader,
    ConfigFile,
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
        {QLatin1StringView("--lines"), Option::Lines, true},
        {QLatin1StringView("-n"), Option::Lines, true},
        {QLatin1StringView("--follow"), Option::Follow, false},
        {QLatin1StringView("-f"), Option::Follow, false},
        {QLatin1StringView("--server"), Option::Server, true},
        {QLatin1StringView("--expires-in"), Option::ExpiresIn, true},
        {QLatin1StringView("--all-servers"), Option::AllServers, false},
        {QLatin1StringView("--grant-header"), Option::GrantHeader, false},
        {QLatin1StringView("--config-file"), Option::ConfigFile, true},
        {QLatin1StringView("--help"), Option::Help, false},
        {QLatin1StringView("-h"), Option::Help, false},
        {QLatin1StringView("--version"), Option::Version, false},
};

struct CommandSpec
{
    QLatin1StringView word;
    Command::Kind kind;
    int argumentCount;
    QLatin1StringView arguments;    // how the help names them
    QList<Option> options;          // besides --config, --help and --version
    QLatin1StringView subWord = {}; // `grant create`: the second word; empty for most commands
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
        {QLatin1StringView("log"),
         Command::Kind::Log,
         0,
         {},
         {Option::Lines, Option::Follow, Option::Json}},
        {QLatin1StringView("grant"),
         Command::Kind::GrantCreate,
         1,
         QLatin1StringView("NAME"),
         {Option::Server, Option::ExpiresIn},
         QLatin1StringView("create")},
        {QLatin1StringView("grant"),
         Command::Kind::GrantList,
         0,
         {},
         {Option::Json},
         QLatin1StringView("list")},
        {QLatin1StringView("grant"),
         Command::Kind::GrantRevoke,
         1,
         QLatin1StringView("a client's NAME or a grant's ID"),
         {},
         QLatin1StringView("revoke")},
        {QLatin1StringView("connect"),
         Command::Kind::Connect,
         1,
         QLatin1StringView("the CLIENT to connect"),
         {Option::AllServers, Option::Server, Option::GrantHeader, Option::ConfigFile}},
        {QLatin1StringView("disconnect"),
         Command::Kind::Disconnect,
         1,
         QLatin1StringView("the CLIENT to disconnect"),
         {Option::Server, Option::ConfigFile}},
        {QLatin1StringView("import"), Command::Kind::Import, 1, QLatin1StringView("FILE"), {}},
        {QLatin1StringView("stdio"), Command::Kind::Stdio, 0, {}, {Option::Server}},
        {QLatin1StringView("tray"), Command::Kind::Tray, 0, {}, {Option::Port}},
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

const CommandSpec *findCommand(QStringView word, QStringView subWord = {})
{
    for (const CommandSpec &spec : kCommands) {
        if (word == spec.word && subWord == spec.subWord)
            return &spec;
    }
    return nullptr;
}

// "create, list or revoke" for `grant`; empty for a word without sub-commands.
QString subCommandsOf(QStringView word)
{
    QStringList subWords;
    for (const CommandSpec &spec : kCommands) {
        if (word == spec.word && !spec.subWord.isEmpty())
            subWords.append(spec.subWord);
    }
    if (subWords.size() < 2)
        return subWords.join(QString());
    const QString last = subWords.takeLast();
    return subWords.join(QLatin1String(", ")) + QLatin1String(" or ") + last;
}

// As the user types it: "add", "grant create".
QString commandName(const CommandSpec &spec)
{
    return spec.subWord.isEmpty() ? QString(spec.word)
                                  : QStringLiteral("%1 %2").arg(spec.word, spec.subWord);
}

bool isGrantCommand(Command::Kind kind)
{
    return kind == Command::Kind::GrantCreate || kind == Command::Kind::GrantList
            || kind == Command::Kind::GrantRevoke;
}

Error usageError(const QString &message)
{
    return Error::make(Error::Kind::InvalidInput, message);
}

bool isClientCommand(Command::Kind kind)
{
    return kind == Command::Kind::Connect || kind == Command::Kind::Disconnect;
}

// `connect`'s options that cannot go together, or that the client cannot take.
Result<void> checkClientOptions(const Command &command)
{
    if (command.kind != Command::Kind::Connect)
        return {};
    if (command.allServers && !command.grantServers.isEmpty()) {
        return usageError(QStringLiteral("Give either --all-servers or --server, not both: "
                                         "--all-servers connects every server."));
    }
    const ClientProfile *client = ClientConfigs::find(command.client);
    if (command.grantHeader && client && client->headersKey.isEmpty()) {
        return usageError(QStringLiteral("%1 launches `mcp-broker stdio`, which signs in with a "
                                         "grant of its own: leave out --grant-header.")
                                  .arg(client->displayName));
    }
    return {};
}

// Secrets are read from standard input only, never taken as an option's value, where other
// local processes could read them (`ps`). Those who try are told the way that works.
QString unknownOption(const QString &name, Command::Kind kind)
{
    if (name == QLatin1String("--client-secret")) {
        return QStringLiteral("A client secret is never given on the command line: pipe it in "
                              "with --client-secret-stdin.");
    }
    // The broker makes grant tokens; it never takes one where other processes can read it.
    if (name == QLatin1String("--grant") || name == QLatin1String("--grant-token")
        || (name == QLatin1String("--token") && isGrantCommand(kind))) {
        return QStringLiteral("A grant token is never taken on the command line: `mcp-broker "
                              "grant create NAME` prints a new one, once, and `mcp-broker grant "
                              "revoke` takes the client's name or the grant's ID.");
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

// The prefixes of the broker's own tokens (gateway/GrantToken): a word with one is a token
// pasted in the wrong place, and is refused without being quoted back.
bool looksLikeGrantToken(const QString &word)
{
    for (const char *prefix : {"mcpb_", "mcpb-at_", "mcpb-rt_"}) {
        if (word.startsWith(QLatin1String(prefix)))
            return true;
    }
    return false;
}

// A local client's name (or a grant's ID, "g" + 12 hex digits, which fits the same rule).
// Letters, digits, '-', '_', '.' and inner spaces: it is shown in the tray, `grant list` and
// the audit log.
Result<QString> parseClientName(const QString &word, const QString &commandName)
{
    if (looksLikeGrantToken(word)) {
        return usageError(QStringLiteral("That is a grant token, not a client's name: a token is "
                                         "never given on the command line. Give `mcp-broker %1` "
                                         "the client's name or the grant's ID (`mcp-broker grant "
                                         "list` shows them).")
                                  .arg(commandName));
    }
    const bool allowed = std::all_of(word.cbegin(), word.cend(), [](QChar c) {
        return c.isLetter() || c.isDigit() || c == QLatin1Char('-') || c == QLatin1Char('_')
                || c == QLatin1Char('.') || c == QLatin1Char(' ');
    });
    if (word.isEmpty() || word.size() > Command::kMaxClientNameLength || !allowed
        || word.startsWith(QLatin1Char(' ')) || word.endsWith(QLatin1Char(' '))) {
        return usageError(QStringLiteral("A client's name is 1 to %1 characters: letters, digits, "
                                         "'-', '_', '.' and spaces (not at either end).")
                                  .arg(Command::kMaxClientNameLength));
    }
    return word;
}

// --expires-in: a positive whole number with s, m, h or d; at most 3650 days.
std::optional<qint64> parseDuration(const QString &text)
{
    static const QRegularExpression duration(QStringLiteral("^([0-9]{1,9})([smhd])$"));
    const QRegularExpressionMatch match = duration.match(text);
    if (!match.hasMatch())
        return std::nullopt;
    const qint64 count = match.captured(1).toLongLong();
    const QChar unit = match.captured(2).at(0);
    const qint64 unitSeconds = unit == QLatin1Char('s') ? 1
            : unit == QLatin1Char('m')                  ? 60
            : unit == QLatin1Char('h')                  ? 60 * 60
                                                        : 24 * 60 * 60;
    const qint64 seconds = count * unitSeconds;
    if (count <= 0 || seconds > Command::kMaxGrantSeconds)
        return std::nullopt;
    return seconds;
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
    // The first problem found while reading options. An unknown option is kept by name: what to
    // say about it (--token) depends on the command, which is known later.
    struct FirstError
    {
        QString message;
        QString unknownOption;
    };
    std::optional<FirstError> firstError;
    auto fail = [&firstError](const QString &message) {
        if (!firstError)
            firstError = FirstError{message, {}};
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
        // -n5: a short option with its value attached, as getopt allows.
        if (!spec && !argument.startsWith(QLatin1String("--"))) {
            const OptionSpec *shortSpec = findOption(QStringView(argument).left(2));
            if (shortSpec && shortSpec->takesValue) {
                given.append(GivenOption{shortSpec, argument.mid(2)});
                continue;
            }
        }
        if (!spec) {
            if (!firstError)
                firstError = FirstError{{}, name};
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
        const QString subCommands = subCommandsOf(word);
        if (!subCommands.isEmpty()) {
            const QString subWord = words.isEmpty() ? QString() : words.takeFirst();
            spec = findCommand(word, subWord);
            if (!spec && subWord.isEmpty()) {
                return usageError(QStringLiteral("`mcp-broker %1` needs a sub-command: %2.")
                                          .arg(word, subCommands));
            }
            if (!spec) {
                return usageError(
                        QStringLiteral("Unknown sub-command%1 of `mcp-broker %2`: use %3.")
                                .arg(quotedIfWordLike(subWord), word, subCommands));
            }
        } else {
            spec = findCommand(word);
        }
        if (!spec)
            return usageError(QStringLiteral("Unknown command%1.").arg(quotedIfWordLike(word)));
    }
    command.kind = spec->kind;
    if (firstError) {
        return usageError(firstError->unknownOption.isEmpty()
                                  ? firstError->message
                                  : unknownOption(firstError->unknownOption, command.kind));
    }
    if (command.kind == Command::Kind::Help)
        return command;

    const QString name = commandName(*spec);
    if (words.size() < spec->argumentCount)
        return usageError(QStringLiteral("`mcp-broker %1` needs %2.").arg(name, spec->arguments));
    if (words.size() > spec->argumentCount) {
        return usageError(QStringLiteral("Too many arguments for `mcp-broker %1` (it takes %2).")
                                  .arg(name,
                                       spec->argumentCount == 0 ? QStringLiteral("none")
                                                                : QString(spec->arguments)));
    }
    if (isGrantCommand(command.kind)) {
        if (spec->argumentCount > 0) {
            auto client = parseClientName(words.at(0), name);
            if (!client)
                return client.error();
            command.grantClient = client.value();
        }
    } else if (isClientCommand(command.kind)) {
        if (!ClientConfigs::find(words.at(0))) {
            return usageError(
                    QStringLiteral("Unknown client%1: `mcp-broker %2` knows %3.")
                            .arg(quotedIfWordLike(words.at(0)), name, ClientConfigs::idList()));
        }
        command.client = words.at(0);
    } else if (command.kind == Command::Kind::Import) {
        command.importFile = words.at(0);
    } else {
        if (spec->argumentCount > 0)
            command.serverName = words.at(0);
        if (spec->argumentCount > 1)
            command.serverUrl = words.at(1);
    }

    QList<Option> seen;
    std::optional<OAuthOptions> oauth; // kept apart: its details may come before --oauth
    OAuthOptions oauthDetails;
    for (const GivenOption &option : std::as_const(given)) {
        const Option which = option.spec->option;
        if (which != Option::Config && !spec->options.contains(which)) {
            return usageError(QStringLiteral("%1 is not an option of `mcp-broker %2`.")
                                      .arg(option.spec->name, name));
        }
        const bool repeatable = which == Option::HeaderStdin || which == Option::Header
                || which == Option::Scope || which == Option::Server;
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
        case Option::Lines: {
            bool isNumber = false;
            const int lines = option.value.toInt(&isNumber);
            if (!isNumber || lines < 1 || lines > Command::kMaxLogLines) {
                return usageError(QStringLiteral("%1 needs a number of calls from 1 to %2.")
                                          .arg(option.spec->name)
                                          .arg(Command::kMaxLogLines));
            }
            command.logLines = lines;
            break;
        }
        case Option::Follow:
            command.follow = true;
            break;
        case Option::Server:
            if (option.value.isEmpty())
                return usageError(QStringLiteral("--server needs a server's name."));
            if (!command.grantServers.contains(option.value))
                command.grantServers.append(option.value);
            break;
        case Option::ExpiresIn:
            command.grantExpiresInSeconds = parseDuration(option.value);
            if (!command.grantExpiresInSeconds) {
                return usageError(QStringLiteral("--expires-in needs a duration such as 90s, 30m, "
                                                 "12h or 30d (at most 3650d)."));
            }
            break;
        case Option::AllServers:
            command.allServers = true;
            break;
        case Option::GrantHeader:
            command.grantHeader = true;
            break;
        case Option::ConfigFile:
            if (option.value.isEmpty())
                return usageError(QStringLiteral("--config-file needs a file name."));
            command.clientConfigFile = option.value;
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
    if (auto valid = checkClientOptions(command); !valid)
        return valid.error();
    if (command.kind == Command::Kind::Stdio) {
        if (command.grantServers.size() > 1) {
            return usageError(QStringLiteral("`mcp-broker stdio` serves one server (--server NAME) "
                                             "or all of them: give --server once at most."));
        }
        command.serverName = command.grantServers.value(0);
        command.grantServers.clear();
    }
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
            "  grant create NAME [--server S]... [--expires-in DURATION]\n"
            "                          Let a local MCP client in: prints its token once, on stdout.\n"
            "  grant list [--json]     Show the clients' grants (never a token).\n"
            "  grant revoke NAME|ID    Cut a client off at once, by its name or its grant's ID.\n"
            "  log [-n N] [--follow] [--json]\n"
            "                          Show the last calls: time, client, server, tool, decision,\n"
            "                          outcome, duration.\n"
            "  connect CLIENT [--all-servers | --server S...] [--grant-header] [--config-file FILE]\n"
            "                          Add MCP Broker to an MCP client's config: claude-code,\n"
            "                          cursor, vscode, codex, windsurf or claude-desktop.\n"
            "  disconnect CLIENT [--server S]... [--config-file FILE]\n"
            "                          Take MCP Broker's entries out of that client's config.\n"
            "  import FILE             Add the remote servers of a client's mcpServers JSON file.\n"
            "  stdio [--server S]      Serve MCP on stdin/stdout for clients that only launch\n"
            "                          commands (Claude Desktop), through the running broker.\n"
            "  tray [--port N]         Run the broker with its tray icon.\n"
            "  help                    Show the full help.\n"
            "\n"
            "With no command, mcp-broker runs `tray` where there is a display, else `serve`.\n");
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
                    "  --port N                serve, tray: the port of the endpoint (0 = any free\n"
                    "                          port); status: the port to ask. Default: the config's\n"
                    "                          port.\n"
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
                    "  --server S              grant create: a server the client may use; repeat it\n"
                    "                          for more. Default: every server, also those added\n"
                    "                          later. connect, disconnect: the entry of server S\n"
                    "                          (\"mcp-broker-S\"); repeat it for more. stdio: serve\n"
                    "                          server S only.\n"
                    "  --expires-in DURATION   grant create: the grant ends after DURATION: a number\n"
                    "                          with s, m, h or d (90s, 30m, 12h, 30d; at most 3650d).\n"
                    "                          Default: it lasts until it is revoked.\n"
                    "  --all-servers           connect: one entry per configured server instead of\n"
                    "                          one for all of them.\n"
                    "  --grant-header          connect: write a new grant into the entry as header\n"
                    "                          \"Authorization: Bearer …\", for clients that do not\n"
                    "                          sign in with OAuth. The file then holds a secret.\n"
                    "  --config-file FILE      connect, disconnect: the client's config file to change,\n"
                    "                          e.g. a project's .cursor/mcp.json or .vscode/mcp.json.\n"
                    "                          Default: the client's user config (see Clients).\n"
                    "  -n, --lines N           log: how many calls to show, 1 to 100000. Default: 20.\n"
                    "  -f, --follow            log: keep showing calls as they are made, until Ctrl+C.\n"
                    "  --json                  list, status, grant list: print JSON; log: print the\n"
                    "                          audit log's lines as they are, one JSON object each.\n"
                    "  -h, --help              Show this help.\n"
                    "  --version               Show the version.\n"
                    "\n"
                    "Grants:\n"
                    "  `grant create` prints the client's token once, on stdout, alone on its line:\n"
                    "  put it in the client's config (header Authorization: Bearer TOKEN). It is not\n"
                    "  stored anywhere readable: the keychain keeps only its hash. Lost it? Revoke\n"
                    "  the grant and create a new one. A token is never taken on the command line.\n"
                    "\n"
                    "Audit log:\n"
                    "  One line per tool call: time, client, server, tool, the policy's decision,\n"
                    "  the outcome and the duration; never the arguments or a token. It is\n"
                    "  $XDG_STATE_HOME/mcp-broker/audit.log (else ~/.local/state/mcp-broker/),\n"
                    "  readable by you only, rotated at 5 MB with 3 older files kept.\n"
                    "\n"
                    "Clients:\n"
                    "  `connect` adds one entry, \"mcp-broker\", for the endpoint of every server\n"
                    "  (http://127.0.0.1:PORT/mcp; PORT: the running broker's, else the config's),\n"
                    "  or with --server S one per server, \"mcp-broker-S\" (…/mcp/S). Everything else\n"
                    "  in the file stays as it was; the old file is kept next to it as\n"
                    "  FILE.mcp-broker-backup-<UTC time>, and a second run changes nothing. A file\n"
                    "  that cannot be parsed is left alone. Codex's TOML is written anew: its\n"
                    "  comments and key order are lost (the backup keeps them).\n"
                    "    claude-code     ~/.claude.json (in $CLAUDE_CONFIG_DIR if set), user scope.\n"
                    "                    Signs in with OAuth: in Claude Code, /mcp, Authenticate.\n"
                    "                    Or: claude mcp add --transport http --scope user \\\n"
                    "                        mcp-broker http://127.0.0.1:7823/mcp\n"
                    "    cursor          ~/.cursor/mcp.json (a project's: .cursor/mcp.json). OAuth.\n"
                    "    vscode          Code/User/mcp.json in the user config folder (a workspace's:\n"
                    "                    .vscode/mcp.json). OAuth. Or: code --add-mcp \\\n"
                    "                        '{\"name\":\"mcp-broker\",\"type\":\"http\",\"url\":\"http://127.0.0.1:7823/mcp\"}'\n"
                    "    codex           ~/.codex/config.toml (in $CODEX_HOME if set). OAuth: run\n"
                    "                    `codex mcp login mcp-broker` once. Or: codex mcp add \\\n"
                    "                        mcp-broker --url http://127.0.0.1:7823/mcp\n"
                    "    windsurf        ~/.codeium/windsurf/mcp_config.json. OAuth.\n"
                    "    claude-desktop  claude_desktop_config.json (macOS: ~/Library/Application\n"
                    "                    Support/Claude; Windows: %APPDATA%\\Claude). Runs\n"
                    "                    `mcp-broker stdio`, which signs in with a grant of its own.\n"
                    "  With OAuth the client asks the broker for access once, in the browser. With\n"
                    "  --grant-header the entry holds a grant named after the client instead;\n"
                    "  `mcp-broker disconnect CLIENT` removes the entry and revokes that grant.\n"
                    "\n"
                    "Import:\n"
                    "  `import FILE` reads a client's JSON config (\"mcpServers\", or VS Code's\n"
                    "  \"servers\") and adds each remote (http or https) server to MCP Broker's config.\n"
                    "  Headers and env are never copied: a server that sent one is added without it,\n"
                    "  with a note on how to give MCP Broker the secret. Commands (stdio servers) and\n"
                    "  names already taken are skipped, each with a note.\n"
                    "\n"
                    "Examples:\n"
                    "  pass show mcp/github | mcp-broker add github https://api.githubcopilot.com/mcp/ --bearer-stdin\n"
                    "  mcp-broker add notes https://mcp.example.com/mcp --oauth && mcp-broker login notes\n"
                    "  pass show mcp/ci | mcp-broker add ci https://ci.example.com/mcp --oauth \\\n"
                    "      --client-id mcp-broker --client-secret-stdin --client-credentials\n"
                    "  mcp-broker grant create cursor --server github --expires-in 30d\n"
                    "  mcp-broker log --follow\n"
                    "  mcp-broker connect cursor && mcp-broker connect codex --server github\n"
                    "  mcp-broker import ~/.cursor/mcp.json\n"
                    "\n"
                    "Exit status: 0 done, 1 failed, 2 usage error, 3 (status) the broker is not running.\n");
}
// clang-format on

} // namespace mcpbroker::app
