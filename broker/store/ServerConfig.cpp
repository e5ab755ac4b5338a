#include "store/ServerConfig.h"

#include <QCryptographicHash>
#include <QFileInfo>

namespace mcpbroker::store {

const ServerConfig *BrokerConfig::server(const QString &name) const
{
    for (const ServerConfig &candidate : servers) {
        if (candidate.name == name)
            return &candidate;
    }
    return nullptr;
}

namespace SecretKeys {

QString bearer(const QString &serverName)
{
    return QStringLiteral("server/%1/bearer").arg(serverName);
}

QString header(const QString &serverName, const QString &headerName)
{
    // HTTP header names are case-insensitive: "X-Api-Key" and "x-api-key" are one secret.
    return QStringLiteral("server/%1/header/%2").arg(serverName, headerName.toLower());
}

QString oauthClientSecret(const QString &serverName)
{
    return QStringLiteral("server/%1/oauth/client-secret").arg(serverName);
}

QString oauthSession(const QString &serverName)
{
    return QStringLiteral("server/%1/oauth/session").arg(serverName);
}

QString stdioBridgeToken(const QString &configPath)
{
    const QByteArray digest = QCryptographicHash::hash(
            QFileInfo(configPath).absoluteFilePath().toUtf8(), QCryptographicHash::Sha256);
    return QStringLiteral("stdio-bridge/%1").arg(QString::fromLatin1(digest.toHex().left(16)));
}

} // namespace SecretKeys
} // namespace mcpbroker::store
