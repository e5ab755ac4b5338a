// The configuration file: what MCP Broker connects to, never a secret.
//
// Location: $MCP_BROKER_CONFIG if set, else <config dir>/mcp-broker/config.json
// ($XDG_CONFIG_HOME/mcp-broker/config.json, usually ~/.config/mcp-broker/config.json, on Linux).
// A missing file means the defaults: port 7823 and no servers.
//
// Format (JSON, UTF-8):
//
//   {
//     "version": 1,                  // optional; the format version, 1 for now
//     "port": 7823,                  // optional; the localhost port of the MCP endpoint, 1-65535
//     "servers": [                   // optional; the upstream MCP servers, names unique
//       {
//         "name": "github",          // required; lowercase letters, digits and '-', starting
//                                    //   with a letter, at most 63 characters. No '_', because
//                                    //   "__" separates server and tool names ("github__search")
//         "url": "https://api.githubcopilot.com/mcp/",
//                                    // required; http or https with a host, no user:password@
//                                    //   and no #fragment
//         "auth": "bearer",          // optional; "none" (default), "bearer", "headers" or
//                                    //   "oauth" (sign in with the browser, MCP authorization)
//         "secretHeaders": ["X-Api-Key"],
//                                    // with "auth": "headers": the names of the headers whose
//                                    //   values are secrets (at least one, no duplicates)
//         "oauth": {                 // optional, with "auth": "oauth"; every key optional
//           "clientId": "abc",       //   a client registered by hand at the authorization
//                                    //   server (for providers without dynamic registration)
//           "clientSecret": true,    //   that client has a secret (kept in the keychain)
//           "tokenEndpointAuthMethod": "client_secret_basic",
//                                    //   or "client_secret_post", "none" or "private_key_jwt"
//                                    //   (then the keychain holds the PEM private key instead
//                                    //   of a secret); default: the best the server advertises
//           "clientMetadataUrl": "https://example.com/mcp-broker.json",
//                                    //   an https URL used as client id where the server
//                                    //   supports Client ID Metadata Documents
//           "grant": "authorization_code",
//                                    //   or "client_credentials" (machine-to-machine, no
//                                    //   browser; needs "clientId")
//           "scopes": ["read"]       //   asked for instead of what the server suggests
//         },
//         "enabled": true,           // optional; default true
//         "requestTimeoutMs": 60000  // optional; 1000-3600000, default 60000
//       }
//     ]
//   }
//
// Secrets are never in this file: a bearer token lives in the OS keychain under
// "server/<name>/bearer", a secret header's value under "server/<name>/header/<lowercase name>",
// an OAuth client secret under "server/<name>/oauth/client-secret" and the tokens of a sign-in
// under a key of their authorization server and resource (SecretKeys, oauth::TokenStore). Keys this version does not know are ignored when reading; saving writes exactly
// the keys above (omitting "secretHeaders" when it is empty).
//
// Reading never changes the file. A file that cannot be read or does not follow this format is
// an error that names the file and the problem; the file is left exactly as it was.

#include "store/ConfigStore.h"
#include "store/JsonTypeName.h"

#include "Logging.h"
#include "store/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>

#include <nlohmann/json.hpp>

#include <limits>

namespace mcpbroker::store {

namespace {

using json = nlohmann::json;

constexpr int kFormatVersion = 1;
constexpr qint64 kMaxFileSize = 4 * 1024 * 1024;
constexpr int kMinRequestTimeoutMs = 1'000;
constexpr int kMaxRequestTimeoutMs = 3'600'000;

const char kVersion[] = "version";
const char kPort[] = "port";
const char kServers[] = "servers";
const char kPolicy[] = "policy";
const char kName[] = "name";
const char kUrl[] = "url";
const char kAuth[] = "auth";
const char kSecretHeaders[] = "secretHeaders";
const char kOAuth[] = "oauth";
const char kClientId[] = "clientId";
const char kClientSecret[] = "clientSecret";
const char kTokenEndpointAuthMethod[] = "tokenEndpointAuthMethod";
const char kClientMetadataUrl[] = "clientMetadataUrl";
const char kGrant[] = "grant";
const char kScopes[] = "scopes";
const char kAuthorizationCodeGrant[] = "authorization_code";
const char kClientCredentialsGrant[] = "client_credentials";
const char kEnabled[] = "enabled";
const char kRequestTimeoutMs[] = "requestTimeoutMs";

QString authToString(UpstreamAuth auth)
{
    switch (auth) {
    case UpstreamAuth::None:
        return QStringLiteral("none");
    case UpstreamAuth::Bearer:
        return QStringLiteral("bearer");
    case UpstreamAuth::Headers:
        return QStringLiteral("headers");
    case UpstreamAuth::OAuth:
        return QStringLiteral("oauth");
    }
    return QStringLiteral("none");
}

std::optional<UpstreamAuth> authFromString(const QString &text)
{
    if (text == QLatin1String("none"))
        return UpstreamAuth::None;
    if (text == QLatin1String("bearer"))
        return UpstreamAuth::Bearer;
    if (text == QLatin1String("headers"))
        return UpstreamAuth::Headers;
    if (text == QLatin1String("oauth"))
        return UpstreamAuth::OAuth;
    return std::nullopt;
}

QString fromJsonString(const json &value)
{
    const auto &text = value.get_ref<const json::string_t &>();
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

std::string toJsonString(const QString &text)
{
    return text.toStdString();
}

// The "oauth" object of a server entry: only what differs from the defaults.
nlohmann::ordered_json oauthEntry(const OAuthSettings &oauth)
{
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    if (!oauth.clientId.isEmpty())
        entry[kClientId] = toJsonString(oauth.clientId);
    if (oauth.hasClientSecret)
        entry[kClientSecret] = true;
    if (!oauth.tokenEndpointAuthMethod.isEmpty())
        entry[kTokenEndpointAuthMethod] = toJsonString(oauth.tokenEndpointAuthMethod);
    if (!oauth.clientMetadataUrl.isEmpty())
        entry[kClientMetadataUrl]
                = toJsonString(oauth.clientMetadataUrl.toString(QUrl::FullyEncoded));
    if (oauth.clientCredentials)
        entry[kGrant] = kClientCredentialsGrant;
    if (!oauth.scopes.isEmpty()) {
        entry[kScopes] = nlohmann::ordered_json::array();
        for (const QString &scope : oauth.scopes)
            entry[kScopes].push_back(toJsonString(scope));
    }
    return entry;
}

// A message sentence ("The server URL … must …") as a clause inside a longer sentence.
QString clause(QString sentence)
{
    if (sentence.endsWith(QLatin1Char('.')))
        sentence.chop(1);
    if (!sentence.isEmpty())
        sentence[0] = sentence.at(0).toLower();
    return sentence;
}

// RFC 9110 token characters: what a header field name may contain.
bool isHeaderName(const QString &name)
{
    static const QRegularExpression token(QStringLiteral("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"));
    return token.match(name).hasMatch();
}

// Line and column (both 1-based) of a byte offset, for parse errors a person can find.
std::pair<int, int> lineAndColumn(const QByteArray &data, qsizetype offset)
{
    offset = std::clamp<qsizetype>(offset, 0, data.size());
    int line = 1;
    int column = 1;
    for (qsizetype i = 0; i < offset; ++i) {
        if (data.at(i) == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

class Reader
{
public:
    explicit Reader(QString path) : m_path(std::move(path)) { }

    Result<BrokerConfig> read(const json &root) const
    {
        if (!root.is_object())
            return invalid(QStringLiteral("it must contain a JSON object ({ … }), not %1")
                                   .arg(jsonTypeName(root)));

        BrokerConfig config;
        if (auto it = root.find(kVersion); it != root.end()) {
            if (!it->is_number_integer())
                return invalid(QStringLiteral("\"version\" must be a whole number, not %1")
                                       .arg(jsonTypeName(*it)));
            const auto version = it->get<long long>();
            if (version > kFormatVersion) {
                return Error::make(
                        Error::Kind::InvalidInput,
                        QStringLiteral("The config file %1 has format version %2, written by a "
                                       "newer MCP Broker; this one understands version %3. "
                                       "Update MCP Broker; MCP Broker did not change it.")
                                .arg(nativePath())
                                .arg(version)
                                .arg(kFormatVersion));
            }
            if (version < 1)
                return invalid(QStringLiteral("\"version\" must be %1").arg(kFormatVersion));
        }

        if (auto it = root.find(kPort); it != root.end()) {
            if (!it->is_number_integer())
                return invalid(QStringLiteral("\"port\" must be a whole number, not %1")
                                       .arg(jsonTypeName(*it)));
            const auto port = it->get<long long>();
            if (port < 1 || port > std::numeric_limits<quint16>::max())
                return invalid(QStringLiteral("\"port\" is %1, but it must be between 1 and 65535")
                                       .arg(port));
            config.port = static_cast<quint16>(port);
        }

        if (auto it = root.find(kServers); it != root.end()) {
            if (!it->is_array())
                return invalid(QStringLiteral("\"servers\" must be a list ([ … ]), not %1")
                                       .arg(jsonTypeName(*it)));
            QSet<QString> names;
            int index = 0;
            for (const json &entry : *it) {
                ++index;
                auto server = readServer(entry, index);
                if (!server)
                    return server.error();
                if (names.contains(server.value().name)) {
                    return invalid(QStringLiteral("the server name \"%1\" is used more than once; "
                                                  "names must be unique")
                                           .arg(server.value().name));
                }
                names.insert(server.value().name);
                config.servers.append(std::move(server).value());
            }
        }

        if (auto it = root.find(kPolicy); it != root.end()) {
            auto policy = parsePolicyConfig(*it);
            if (!policy) {
                QString problem = policy.error().message;
                if (problem.endsWith(QLatin1Char('.')))
                    problem.chop(1);
                return invalid(QStringLiteral("in \"policy\": %1").arg(problem));
            }
            config.policy = std::move(policy).value();
        }
        return config;
    }

private:
    Result<ServerConfig> readServer(const json &entry, int index) const
    {
        const QString where = QStringLiteral("server #%1 in \"servers\"").arg(index);
        if (!entry.is_object())
            return invalid(QStringLiteral("%1 must be an object ({ … }), not %2")
                                   .arg(where, jsonTypeName(entry)));

        ServerConfig server;
        auto name = entry.find(kName);
        if (name == entry.end() || !name->is_string())
            return invalid(QStringLiteral("%1 needs a \"name\" (text)").arg(where));
        server.name = fromJsonString(*name);
        if (auto valid = ConfigStore::validateServerName(server.name); !valid)
            return invalid(clause(valid.error().message));
        const QString what = QStringLiteral("server \"%1\"").arg(server.name);

        auto url = entry.find(kUrl);
        if (url == entry.end() || !url->is_string())
            return invalid(QStringLiteral("%1 needs a \"url\" (text)").arg(what));
        server.url = QUrl(fromJsonString(*url), QUrl::StrictMode);
        if (auto valid = ConfigStore::validateServerUrl(server.url); !valid)
            return invalid(QStringLiteral("%1: %2").arg(what, clause(valid.error().message)));

        if (auto auth = entry.find(kAuth); auth != entry.end()) {
            const auto parsed
                    = auth->is_string() ? authFromString(fromJsonString(*auth)) : std::nullopt;
            if (!parsed)
                return invalid(QStringLiteral("%1 has \"auth\" %2, but it must be \"none\", "
                                              "\"bearer\", \"headers\" or \"oauth\"")
                                       .arg(what, QString::fromStdString(auth->dump())));
            server.auth = *parsed;
        }

        if (auto headers = entry.find(kSecretHeaders); headers != entry.end()) {
            if (!headers->is_array())
                return invalid(QStringLiteral("%1: \"secretHeaders\" must be a list of header "
                                              "names, not %2")
                                       .arg(what, jsonTypeName(*headers)));
            for (const json &header : *headers) {
                if (!header.is_string())
                    return invalid(QStringLiteral("%1: \"secretHeaders\" must contain header "
                                                  "names (text), not %2")
                                           .arg(what, jsonTypeName(header)));
                server.secretHeaderNames.append(fromJsonString(header));
            }
        }

        if (auto oauth = entry.find(kOAuth); oauth != entry.end()) {
            auto settings = readOAuth(*oauth, what);
            if (!settings)
                return settings.error();
            server.oauth = std::move(settings).value();
        }

        if (auto enabled = entry.find(kEnabled); enabled != entry.end()) {
            if (!enabled->is_boolean())
                return invalid(QStringLiteral("%1: \"enabled\" must be true or false, not %2")
                                       .arg(what, jsonTypeName(*enabled)));
            server.enabled = enabled->get<bool>();
        }

        if (auto timeout = entry.find(kRequestTimeoutMs); timeout != entry.end()) {
            if (!timeout->is_number_integer())
                return invalid(QStringLiteral("%1: \"requestTimeoutMs\" must be a whole number "
                                              "of milliseconds, not %2")
                                       .arg(what, jsonTypeName(*timeout)));
            const auto ms = timeout->get<long long>();
            if (ms < kMinRequestTimeoutMs || ms > kMaxRequestTimeoutMs)
                return invalid(QStringLiteral("%1: \"requestTimeoutMs\" is %2, but it must be "
                                              "between %3 and %4")
                                       .arg(what)
                                       .arg(ms)
                                       .arg(kMinRequestTimeoutMs)
                                       .arg(kMaxRequestTimeoutMs));
            server.requestTimeoutMs = static_cast<int>(ms);
        }

        if (auto valid = validateHeaders(server); !valid)
            return invalid(QStringLiteral("%1: %2").arg(what, valid.error().message));
        if (auto valid = validateOAuth(server); !valid)
            return invalid(QStringLiteral("%1: %2").arg(what, valid.error().message));
        return server;
    }

    Result<OAuthSettings> readOAuth(const json &entry, const QString &what) const
    {
        if (!entry.is_object())
            return invalid(QStringLiteral("%1: \"oauth\" must be an object ({ … }), not %2")
                                   .arg(what, jsonTypeName(entry)));
        OAuthSettings settings;
        const auto text = [&](const char *key, QString &into) -> Result<void> {
            const auto it = entry.find(key);
            if (it == entry.end())
                return {};
            if (!it->is_string())
                return invalid(QStringLiteral("%1: \"oauth.%2\" must be text, not %3")
                                       .arg(what, QLatin1String(key), jsonTypeName(*it)));
            into = fromJsonString(*it);
            return {};
        };
        QString metadataUrl;
        QString grant;
        for (const auto &[key, into] :
             {std::pair{kClientId, &settings.clientId},
              std::pair{kTokenEndpointAuthMethod, &settings.tokenEndpointAuthMethod},
              std::pair{kClientMetadataUrl, &metadataUrl}, std::pair{kGrant, &grant}}) {
            if (auto read = text(key, *into); !read)
                return read.error();
        }
        settings.clientMetadataUrl = QUrl(metadataUrl, QUrl::StrictMode);
        if (grant == QLatin1String(kClientCredentialsGrant))
            settings.clientCredentials = true;
        else if (!grant.isEmpty() && grant != QLatin1String(kAuthorizationCodeGrant))
            return invalid(QStringLiteral("%1: \"oauth.grant\" is \"%2\", but it must be "
                                          "\"authorization_code\" or \"client_credentials\"")
                                   .arg(what, grant));
        if (auto secret = entry.find(kClientSecret); secret != entry.end()) {
            if (!secret->is_boolean())
                return invalid(QStringLiteral("%1: \"oauth.clientSecret\" must be true or false "
                                              "(the secret itself is kept in the keychain), not %2")
                                       .arg(what, jsonTypeName(*secret)));
            settings.hasClientSecret = secret->get<bool>();
        }
        if (auto scopes = entry.find(kScopes); scopes != entry.end()) {
            if (!scopes->is_array())
                return invalid(QStringLiteral("%1: \"oauth.scopes\" must be a list of scope "
                                              "names, not %2")
                                       .arg(what, jsonTypeName(*scopes)));
            for (const json &scope : *scopes) {
                if (!scope.is_string())
                    return invalid(QStringLiteral("%1: \"oauth.scopes\" must contain scope "
                                                  "names (text), not %2")
                                           .arg(what, jsonTypeName(scope)));
                settings.scopes.append(fromJsonString(scope));
            }
        }
        return settings;
    }

    Error invalid(const QString &problem) const
    {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The config file %1 is not valid: %2. Fix it or move it "
                                          "away; MCP Broker did not change it.")
                                   .arg(nativePath(), problem));
    }

    QString nativePath() const { return QDir::toNativeSeparators(m_path); }

public:
    static Result<void> validateHeaders(const ServerConfig &server)
    {
        QSet<QString> seen;
        for (const QString &header : server.secretHeaderNames) {
            if (!isHeaderName(header))
                return Error::make(
                        Error::Kind::InvalidInput,
                        QStringLiteral("\"%1\" is not a valid HTTP header name").arg(header));
            if (seen.contains(header.toLower()))
                return Error::make(
                        Error::Kind::InvalidInput,
                        QStringLiteral("the secret header \"%1\" is listed twice").arg(header));
            seen.insert(header.toLower());
        }
        if (server.auth == UpstreamAuth::Headers && server.secretHeaderNames.isEmpty())
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("\"auth\" is \"headers\" but \"secretHeaders\" "
                                              "names no header"));
        return {};
    }

    static Result<void> validateOAuth(const ServerConfig &server)
    {
        const OAuthSettings &oauth = server.oauth;
        const auto problem = [](const QString &text) -> Result<void> {
            return Error::make(Error::Kind::InvalidInput, text);
        };
        if (server.auth != UpstreamAuth::OAuth) {
            if (oauth != OAuthSettings())
                return problem(QStringLiteral("\"oauth\" settings need \"auth\": \"oauth\""));
            return {};
        }
        static const QStringList methods{QStringLiteral("client_secret_basic"),
                                         QStringLiteral("client_secret_post"),
                                         QStringLiteral("private_key_jwt"), QStringLiteral("none")};
        if (!oauth.tokenEndpointAuthMethod.isEmpty()
            && !methods.contains(oauth.tokenEndpointAuthMethod))
            return problem(QStringLiteral("\"oauth.tokenEndpointAuthMethod\" is \"%1\", but it "
                                          "must be \"client_secret_basic\", "
                                          "\"client_secret_post\", \"private_key_jwt\" or "
                                          "\"none\"")
                                   .arg(oauth.tokenEndpointAuthMethod));
        if (oauth.hasClientSecret && oauth.clientId.isEmpty())
            return problem(QStringLiteral("\"oauth.clientSecret\" needs \"oauth.clientId\""));
        if (oauth.tokenEndpointAuthMethod == QLatin1String("private_key_jwt")
            && !oauth.hasClientSecret)
            return problem(QStringLiteral("\"private_key_jwt\" needs the private key in the "
                                          "keychain (\"oauth.clientSecret\": true)"));
        if (oauth.clientCredentials && oauth.clientId.isEmpty())
            return problem(QStringLiteral("the client_credentials grant needs \"oauth.clientId\" "
                                          "(a client registered at the authorization server)"));
        if (!oauth.clientMetadataUrl.isEmpty()
            && (!oauth.clientMetadataUrl.isValid()
                || oauth.clientMetadataUrl.scheme() != QLatin1String("https")
                || oauth.clientMetadataUrl.host().isEmpty() || oauth.clientMetadataUrl.hasFragment()
                || oauth.clientMetadataUrl.path().isEmpty()
                || oauth.clientMetadataUrl.path() == QLatin1String("/")))
            return problem(QStringLiteral("\"oauth.clientMetadataUrl\" must be an https URL with "
                                          "a host and a path, without a #fragment"));
        for (const QString &scope : oauth.scopes) {
            if (scope.isEmpty() || scope.contains(QLatin1Char(' ')))
                return problem(QStringLiteral("\"oauth.scopes\" must contain single scope names "
                                              "without spaces"));
        }
        return {};
    }

private:
    QString m_path;
};

} // namespace

ConfigStore::ConfigStore(QString filePath) : m_filePath(std::move(filePath)) { }

QString ConfigStore::defaultPath()
{
    const QString overridden = qEnvironmentVariable("MCP_BROKER_CONFIG");
    if (!overridden.isEmpty())
        return overridden;
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
            + QStringLiteral("/mcp-broker/config.json");
}

Result<BrokerConfig> ConfigStore::load() const
{
    const QString nativePath = QDir::toNativeSeparators(m_filePath);
    const QFileInfo info(m_filePath);
    if (!info.exists() && !info.isSymLink()) {
        qCDebug(lcStore) << "No config file at" << m_filePath << "- using the defaults";
        return BrokerConfig{};
    }
    if (info.isDir()) {
        return Error::make(Error::Kind::Io,
                           QStringLiteral("The config file %1 is a folder, not a file: move it "
                                          "away; MCP Broker did not change it.")
                                   .arg(nativePath));
    }
    if (info.size() > kMaxFileSize) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The config file %1 is too large (%2 bytes) to be an MCP "
                                          "Broker config: fix it or move it away; MCP Broker did "
                                          "not change it.")
                                   .arg(nativePath)
                                   .arg(info.size()));
    }

    QFile file(m_filePath);
    if (!file.open(QIODevice::ReadOnly)) {
        return Error::make(Error::Kind::Io,
                           QStringLiteral("The config file %1 could not be read (%2): check its "
                                          "permissions; MCP Broker did not change it.")
                                   .arg(nativePath, file.errorString()));
    }
    const QByteArray data = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        return Error::make(Error::Kind::Io,
                           QStringLiteral("The config file %1 could not be read (%2): check the "
                                          "disk and its permissions; MCP Broker did not change it.")
                                   .arg(nativePath, file.errorString()));
    }

    json root;
    try {
        root = json::parse(data.constBegin(), data.constEnd());
    } catch (const json::parse_error &error) {
        // error.byte is 1-based and points just past the character that was read last.
        const auto [line, column]
                = lineAndColumn(data, static_cast<qsizetype>(error.byte > 0 ? error.byte - 1 : 0));
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The config file %1 is not valid JSON (line %2, column "
                                          "%3): fix it or move it away; MCP Broker did not change "
                                          "it.")
                                   .arg(nativePath)
                                   .arg(line)
                                   .arg(column));
    } catch (const json::out_of_range &) {
        // A number too large for a double ("1e999"): the library says so with another type.
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The config file %1 is not valid JSON (a number is too "
                                          "large): fix it or move it away; MCP Broker did not "
                                          "change it.")
                                   .arg(nativePath));
    }

    auto config = Reader(m_filePath).read(root);
    if (config)
        qCDebug(lcStore) << "Loaded" << m_filePath << "with" << config.value().servers.size()
                         << "servers";
    else
        qCWarning(lcStore).noquote() << config.error().message;
    return config;
}

Result<void> ConfigStore::save(const BrokerConfig &config) const
{
    const QString nativePath = QDir::toNativeSeparators(m_filePath);
    auto refuse = [&](const QString &problem) {
        return Error::make(
                Error::Kind::InvalidInput,
                QStringLiteral("Did not save the config file %1: %2.").arg(nativePath, problem));
    };
    if (config.port == 0)
        return refuse(QStringLiteral("the port must be between 1 and 65535"));

    // Written in the documented key order. Only names and settings: no secret value has a
    // place in this file.
    using ordered_json = nlohmann::ordered_json;
    ordered_json root = ordered_json::object();
    root[kVersion] = kFormatVersion;
    root[kPort] = config.port;
    root[kServers] = ordered_json::array();
    QSet<QString> names;
    for (const ServerConfig &server : config.servers) {
        if (auto valid = validateServerName(server.name); !valid)
            return refuse(clause(valid.error().message));
        if (names.contains(server.name))
            return refuse(QStringLiteral("the server name \"%1\" is used more than once")
                                  .arg(server.name));
        names.insert(server.name);
        const QString what = QStringLiteral("server \"%1\"").arg(server.name);
        if (auto valid = validateServerUrl(server.url); !valid)
            return refuse(QStringLiteral("%1: %2").arg(what, clause(valid.error().message)));
        if (auto valid = Reader::validateHeaders(server); !valid)
            return refuse(QStringLiteral("%1: %2").arg(what, valid.error().message));
        if (auto valid = Reader::validateOAuth(server); !valid)
            return refuse(QStringLiteral("%1: %2").arg(what, valid.error().message));
        if (server.requestTimeoutMs < kMinRequestTimeoutMs
            || server.requestTimeoutMs > kMaxRequestTimeoutMs)
            return refuse(QStringLiteral("%1: the request timeout must be between %2 and %3 ms")
                                  .arg(what)
                                  .arg(kMinRequestTimeoutMs)
                                  .arg(kMaxRequestTimeoutMs));

        ordered_json entry = ordered_json::object();
        entry[kName] = toJsonString(server.name);
        entry[kUrl] = toJsonString(server.url.toString(QUrl::FullyEncoded));
        entry[kAuth] = toJsonString(authToString(server.auth));
        if (!server.secretHeaderNames.isEmpty()) {
            ordered_json headers = ordered_json::array();
            for (const QString &header : server.secretHeaderNames)
                headers.push_back(toJsonString(header));
            entry[kSecretHeaders] = std::move(headers);
        }
        if (server.auth == UpstreamAuth::OAuth && server.oauth != OAuthSettings())
            entry[kOAuth] = oauthEntry(server.oauth);
        entry[kEnabled] = server.enabled;
        entry[kRequestTimeoutMs] = server.requestTimeoutMs;
        root[kServers].push_back(std::move(entry));
    }

    // Kept as the user wrote it: `add` and `remove` rewrite this file.
    if (config.policy != PolicyConfig())
        root[kPolicy] = ordered_json(toJson(config.policy));

    std::string text = root.dump(2);
    text.push_back('\n');
    auto written = AtomicFile::write(m_filePath, QByteArray::fromStdString(text));
    if (!written)
        return written.error();
    qCInfo(lcStore) << "Saved" << m_filePath << "with" << config.servers.size() << "servers";
    return {};
}

Result<void> ConfigStore::validateServerName(const QString &name)
{
    static const QRegularExpression rule(QStringLiteral("^[a-z][a-z0-9-]{0,62}$"));
    if (rule.match(name).hasMatch())
        return {};
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("\"%1\" is not a valid server name: use lowercase letters, "
                                      "digits and hyphens, start with a letter, at most 63 "
                                      "characters (no underscores, because \"__\" separates the "
                                      "server name from the tool name, as in \"github__search\").")
                               .arg(name));
}

Result<void> ConfigStore::validateServerUrl(const QUrl &url)
{
    // Never echo a password: show the URL without its user info.
    const QString shown = url.toDisplayString(QUrl::RemoveUserInfo);
    auto invalid = [&](const QString &problem) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The server URL \"%1\" %2.").arg(shown, problem));
    };
    if (!url.isValid()) {
        // QUrl's error text quotes the whole input, user info included: do not pass it on.
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The server URL is not a valid URL: check it for spaces "
                                          "or other characters that must be percent-encoded."));
    }
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return invalid(QStringLiteral("must start with https:// (or http://)"));
    if (url.host().isEmpty())
        return invalid(QStringLiteral("has no host name"));
    if (!url.userInfo().isEmpty())
        return invalid(QStringLiteral("contains a user name or password: credentials are never "
                                      "kept in URLs. Give the token with --bearer-stdin or a "
                                      "header with --header instead, so it goes to the keychain"));
    if (url.hasFragment())
        return invalid(QStringLiteral("has a #fragment, which an HTTP server never sees: remove "
                                      "it"));
    return {};
}

} // namespace mcpbroker::store
