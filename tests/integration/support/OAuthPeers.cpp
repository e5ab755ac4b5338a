#include "OAuthPeers.h"

#include "McpHttp.h"
#include "Peers.h"

#include <QDir>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

#include <csignal>

namespace mcpbroker::integration {

namespace {

quint16 waitForPort(PeerProcess &process)
{
    static const QRegularExpression listening(QStringLiteral("^LISTENING (\\d+)$"));
    const QRegularExpressionMatch match
            = process.waitForStdoutLine(listening, OAuthPeers::kStartTimeoutMs);
    return match.hasMatch() ? match.captured(1).toUShort() : 0;
}

std::unique_ptr<PeerProcess> peer(const QString &label, const QString &script,
                                  const QStringList &arguments, const QStringList &nodeOptions = {})
{
    auto process = std::make_unique<PeerProcess>(
            label, Peers::node22(),
            nodeOptions + QStringList{QDir(Peers::directory()).filePath(script)} + arguments);
    process->setWorkingDirectory(Peers::directory());
    return process;
}

} // namespace

OAuthPeers::~OAuthPeers() = default;

bool OAuthPeers::start(const QStringList &serverArguments, const QStringList &resourceArguments,
                       QString *why)
{
    QStringList nodeOptions;
    if (m_outages)
        nodeOptions << QStringLiteral("--import")
                    << QDir(Peers::directory()).filePath(QStringLiteral("listen-toggle.mjs"));
    m_authorizationServer
            = peer(QStringLiteral("authorization server"),
                   QStringLiteral("oauth-authorization-server.mjs"),
                   QStringList{QStringLiteral("--port"), QStringLiteral("0")} + serverArguments,
                   nodeOptions);
    m_authorizationServer->start();
    m_issuerPort = waitForPort(*m_authorizationServer);
    if (!m_issuerPort) {
        *why = QStringLiteral("the authorization server did not start:\n")
                + m_authorizationServer->diagnostics();
        return false;
    }
    m_resourceServer = peer(QStringLiteral("protected MCP server"),
                            QStringLiteral("oauth-protected-server.mjs"),
                            QStringList{QStringLiteral("--port"), QStringLiteral("0"),
                                        QStringLiteral("--issuer"), issuer()}
                                    + resourceArguments);
    m_resourceServer->start();
    m_mcpPort = waitForPort(*m_resourceServer);
    if (!m_mcpPort) {
        *why = QStringLiteral("the protected MCP server did not start:\n")
                + m_resourceServer->diagnostics();
        return false;
    }
    return true;
}

QString OAuthPeers::issuer() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_issuerPort);
}

QUrl OAuthPeers::mcpUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_mcpPort));
}

QJsonObject OAuthPeers::getJson(const QUrl &url) const
{
    McpHttp http;
    const HttpResult answer = http.get(url, {{"Accept", "application/json"}});
    return answer.status == 200 ? QJsonDocument::fromJson(answer.body).object() : QJsonObject();
}

bool OAuthPeers::post(const QUrl &url) const
{
    McpHttp http;
    return http.send("POST", url, {{"Content-Type", "application/json"}}, "{}").status == 200;
}

QJsonObject OAuthPeers::authorizationStats() const
{
    return getJson(QUrl(issuer() + QStringLiteral("/_test/stats")));
}

QJsonObject OAuthPeers::resourceStats() const
{
    return getJson(QUrl(QStringLiteral("http://127.0.0.1:%1/_test/stats").arg(m_mcpPort)));
}

int OAuthPeers::tokenRequests(const QString &grantType) const
{
    return authorizationStats()[QStringLiteral("token")][grantType][QStringLiteral("requests")]
            .toInt();
}

bool OAuthPeers::resetStats() const
{
    return post(QUrl(issuer() + QStringLiteral("/_test/reset-stats")));
}

bool OAuthPeers::revokeAll() const
{
    return post(QUrl(issuer() + QStringLiteral("/_test/revoke-all")));
}

void OAuthPeers::stopAuthorizationServer()
{
    if (m_authorizationServer)
        m_authorizationServer->kill();
}

bool OAuthPeers::toggleListening(int signalNumber, const QByteArray &state)
{
    if (!m_outages || !m_authorizationServer)
        return false;
    const QByteArray line = "[listen-toggle] " + state;
    const qsizetype before = m_authorizationServer->standardError().count(line);
    if (!m_authorizationServer->sendSignal(signalNumber))
        return false;
    return QTest::qWaitFor(
            [&] { return m_authorizationServer->standardError().count(line) > before; },
            kStartTimeoutMs);
}

bool OAuthPeers::takeAuthorizationServerOffline()
{
    return toggleListening(SIGUSR1, "offline");
}

bool OAuthPeers::bringAuthorizationServerBack()
{
    return toggleListening(SIGUSR2, "online");
}

QString OAuthPeers::browserScript()
{
    return QDir(Peers::directory()).filePath(QStringLiteral("oauth-browser.mjs"));
}

QString OAuthPeers::diagnostics() const
{
    QString text;
    for (const PeerProcess *process : {m_authorizationServer.get(), m_resourceServer.get()}) {
        if (process)
            text += process->diagnostics(30) + QLatin1Char('\n');
    }
    return text;
}

} // namespace mcpbroker::integration
