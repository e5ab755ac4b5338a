#pragma once

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
};

struct ServerConfig
{
    QString name; // [a-z][a-z0-9-]{0,62}: no '_', so "name__tool" splits unambiguously
    QUrl url;     // http(s) Streamable HTTP endpoint of the upstream
    UpstreamAuth auth = UpstreamAuth::None;
    QStringList secretHeaderNames; // when auth == Headers
    bool enabled = true;
    int requestTimeoutMs = 60'000;
};

struct BrokerConfig
{
    static constexpr quint16 kDefaultPort = 7823;

    quint16 port = kDefaultPort;
    QList<ServerConfig> servers;

    const ServerConfig *server(const QString &name) const;
};

// Keys of the secrets that belong to a server, in one place so add/remove agree.
namespace SecretKeys {
QString bearer(const QString &serverName);
QString header(const QString &serverName, const QString &headerName);
} // namespace SecretKeys

} // namespace mcpbroker::store
