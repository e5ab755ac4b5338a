#pragma once

#include "store/PolicyConfig.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace mcpbroker::store {

// How the broker authenticates to one upstream. The secret values themselves live in the
// keychain (SecretStore), under the keys from SecretKeys; the config file holds only names.
enum class UpstreamAuth {
    None,    // public server
    Bearer,  // "Authorization: Bearer <secret>" with the secret at SecretKeys::bearer(name)
    Headers, // custom headers; each value at SecretKeys::header(name, headerName)
    OAuth,   // MCP authorization (OAuth 2.1): tokens from a sign-in, kept in the keychain
};

// How the broker identifies itself to the authorization server of an OAuth upstream. All
// optional: by default the broker registers itself (RFC 7591) and signs in with the browser.
struct OAuthSettings
{
    QString clientId;             // a client registered by hand (the provider has no registration)
    bool hasClientSecret = false; // its secret is at SecretKeys::oauthClientSecret(name)
    QString tokenEndpointAuthMethod; // "client_secret_basic", "client_secret_post", "none";
                                     // empty: the best the server advertises
    QUrl clientMetadataUrl; // an https URL of a Client ID Metadata Document to use as client id
    bool clientCredentials = false; // machine-to-machine: the client_credentials grant, no browser
    QStringList scopes;             // asked for instead of what the server suggests

    bool operator==(const OAuthSettings &) const = default;
};

struct ServerConfig
{
    QString name; // [a-z][a-z0-9-]{0,62}: no '_', so "name__tool" splits unambiguously
    QUrl url;     // http(s) Streamable HTTP endpoint of the upstream
    UpstreamAuth auth = UpstreamAuth::None;
    QStringList secretHeaderNames; // when auth == Headers
    OAuthSettings oauth;           // when auth == OAuth
    bool enabled = true;
    int requestTimeoutMs = 60'000;
};

struct BrokerConfig
{
    static constexpr quint16 kDefaultPort = 7823;

    quint16 port = kDefaultPort;
    QList<ServerConfig> servers;
    PolicyConfig policy; // which tools local clients may call (gateway/ToolPolicy)

    const ServerConfig *server(const QString &name) const;
};

// Keys of the secrets that belong to a server, in one place so add/remove agree.
namespace SecretKeys {
QString bearer(const QString &serverName);
QString header(const QString &serverName, const QString &headerName);
QString oauthClientSecret(const QString &serverName);
// Where the broker remembers which authorization server signed it in to the server, so that
// sign-out and status work without asking the network.
QString oauthSession(const QString &serverName);
// The token of the static grant that `mcp-broker stdio` uses with the broker of `configPath`
// (one per config file, so that bridges to two brokers do not replace each other's).
QString stdioBridgeToken(const QString &configPath);
} // namespace SecretKeys

} // namespace mcpbroker::store
