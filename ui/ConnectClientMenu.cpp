#include "ConnectClientMenu.h"

#include <QProcess>
#include <QTimer>

namespace mcpbroker::ui {

namespace {

// The command writes a file or two; a hung child must not be waited on for ever.
constexpr int kConnectTimeoutMs = 60'000;

QString lastLine(const QByteArray &output)
{
    const QList<QByteArray> lines = output.trimmed().split('\n');
    return QString::fromUtf8(lines.isEmpty() ? QByteArray() : lines.last().trimmed());
}

} // namespace

ConnectClientMenu::ConnectClientMenu(QString executablePath, QString configPath, QWidget *parent)
    : QMenu(tr("Connect a client"), parent), m_executablePath(std::move(executablePath)),
      m_configPath(std::move(configPath))
{
    setObjectName(QStringLiteral("connectMenu"));
    for (const auto &[id, name] : clients()) {
        QAction *action = addAction(name);
        action->setObjectName(QStringLiteral("connect:%1").arg(id));
        connect(action, &QAction::triggered, this,
                [this, id = id, name = name] { connectClient(id, name); });
    }
}

QList<QPair<QString, QString>> ConnectClientMenu::clients()
{
    return {{QStringLiteral("claude-code"), QStringLiteral("Claude Code")},
            {QStringLiteral("claude-desktop"), QStringLiteral("Claude Desktop")},
            {QStringLiteral("codex"), QStringLiteral("Codex")},
            {QStringLiteral("cursor"), QStringLiteral("Cursor")},
            {QStringLiteral("vscode"), QStringLiteral("VS Code")},
            {QStringLiteral("windsurf"), QStringLiteral("Windsurf")}};
}

void ConnectClientMenu::connectClient(const QString &clientId, const QString &clientName)
{
    auto *process = new QProcess(this);
    process->setProgram(m_executablePath);
    process->setArguments(
            {QStringLiteral("connect"), clientId, QStringLiteral("--config"), m_configPath});
    // Nothing to read: the command must not wait for a secret on stdin.
    process->setStandardInputFile(QProcess::nullDevice());
    auto *deadline = new QTimer(process);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, process, &QProcess::kill);
    connect(process, &QProcess::finished, this,
            [this, process, clientName](int exitCode, QProcess::ExitStatus status) {
                const bool succeeded = status == QProcess::NormalExit && exitCode == 0;
                const QString said = lastLine(succeeded ? process->readAllStandardOutput()
                                                        : process->readAllStandardError());
                Q_EMIT finished(clientName, succeeded,
                                said.isEmpty() && !succeeded
                                        ? tr("`mcp-broker connect` did not finish.")
                                        : said);
                process->deleteLater();
            });
    connect(process, &QProcess::errorOccurred, this,
            [this, process, clientName](QProcess::ProcessError error) {
                if (error != QProcess::FailedToStart)
                    return;
                Q_EMIT finished(clientName, false,
                                tr("`%1` could not be started.").arg(m_executablePath));
                process->deleteLater();
            });
    deadline->start(kConnectTimeoutMs);
    process->start();
}

} // namespace mcpbroker::ui
