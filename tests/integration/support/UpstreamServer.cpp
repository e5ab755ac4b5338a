#include "UpstreamServer.h"

#include "Peers.h"

#include <QProcessEnvironment>

namespace mcpbroker::integration {

UpstreamServer::UpstreamServer(Kind kind, std::unique_ptr<PeerProcess> process, quint16 port)
    : m_kind(kind), m_process(std::move(process)), m_port(port)
{
}

std::unique_ptr<UpstreamServer> UpstreamServer::fixture(const QString &name,
                                                        const QStringList &extraArguments)
{
    auto process = std::make_unique<PeerProcess>(
            QStringLiteral("fixture upstream '%1'").arg(name), Peers::node22(),
            QStringList{Peers::fixtureServerScript(), QStringLiteral("--name"), name,
                        QStringLiteral("--port"), QStringLiteral("0")}
                    + extraArguments);
    process->setWorkingDirectory(Peers::directory());
    return std::unique_ptr<UpstreamServer>(
            new UpstreamServer(Kind::Fixture, std::move(process), 0));
}

std::unique_ptr<UpstreamServer> UpstreamServer::everything()
{
    const quint16 port = reserveFreePort();
    auto process = std::make_unique<PeerProcess>(
            QStringLiteral("server-everything upstream"), Peers::node22(),
            QStringList{Peers::everythingScript(), QStringLiteral("streamableHttp")});
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("PORT"), QString::number(port));
    process->setEnvironment(environment);
    process->setWorkingDirectory(Peers::directory());
    return std::unique_ptr<UpstreamServer>(
            new UpstreamServer(Kind::Everything, std::move(process), port));
}

void UpstreamServer::start()
{
    m_process->start();
}

bool UpstreamServer::waitUntilListening(int timeoutMs)
{
    if (m_kind == Kind::Fixture) {
        static const QRegularExpression listening(QStringLiteral("^LISTENING (\\d+)$"));
        const QRegularExpressionMatch match = m_process->waitForStdoutLine(listening, timeoutMs);
        m_port = match.hasMatch() ? match.captured(1).toUShort() : 0;
        return m_port != 0;
    }
    const QRegularExpression listening(QStringLiteral("listening on port %1$").arg(m_port));
    return m_port != 0 && m_process->waitForStderrLine(listening, timeoutMs).hasMatch();
}

QUrl UpstreamServer::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_port));
}

} // namespace mcpbroker::integration
