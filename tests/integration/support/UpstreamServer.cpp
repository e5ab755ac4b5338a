#include "UpstreamServer.h"

#include "Peers.h"

#include <QProcessEnvironment>

namespace mcpbroker::integration {

UpstreamServer::UpstreamServer(Kind kind, std::unique_ptr<PeerProcess> process, quint16 port)
    : m_kind(kind), m_process(std::move(process)), m_port(port)
{ }

std::unique_ptr<PeerProcess> UpstreamServer::nodeProcess(const QString &label,
                                                         const QString &script,
                                                         const QStringList &arguments)
{
    auto process = std::make_unique<PeerProcess>(label, Peers::node22(),
                                                 QStringList{script} + arguments);
    process->setWorkingDirectory(Peers::directory());
    return process;
}

std::unique_ptr<UpstreamServer> UpstreamServer::fixture(const QString &name,
                                                        const QStringList &extraArguments)
{
    auto process = nodeProcess(QStringLiteral("fixture upstream '%1'").arg(name),
                               Peers::fixtureServerScript(),
                               QStringList{QStringLiteral("--name"), name, QStringLiteral("--port"),
                                           QStringLiteral("0")}
                                       + extraArguments);
    return std::unique_ptr<UpstreamServer>(
            new UpstreamServer(Kind::Fixture, std::move(process), 0));
}

std::unique_ptr<UpstreamServer> UpstreamServer::hanging(bool hangInitialize)
{
    QStringList arguments{QStringLiteral("--port"), QStringLiteral("0")};
    if (hangInitialize)
        arguments << QStringLiteral("--hang-initialize");
    auto process
            = nodeProcess(QStringLiteral("hanging upstream"),
                          Peers::directory() + QStringLiteral("/hanging-upstream.mjs"), arguments);
    return std::unique_ptr<UpstreamServer>(
            new UpstreamServer(Kind::Hanging, std::move(process), 0));
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

void UpstreamServer::restartOnSamePort()
{
    m_process->kill();
    if (m_kind != Kind::Everything) {
        // The same command line, with the port it had instead of 0.
        QStringList arguments = m_process->arguments();
        const qsizetype port = arguments.indexOf(QStringLiteral("--port"));
        if (port >= 0 && port + 1 < arguments.size())
            arguments[port + 1] = QString::number(m_port);
        m_process = nodeProcess(m_process->label(), arguments.takeFirst(), arguments);
    }
    m_process->start();
}

bool UpstreamServer::waitUntilListening(int timeoutMs)
{
    if (m_kind != Kind::Everything) {
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
