#pragma once

#include <QMenu>

namespace mcpbroker::ui {

// "Connect a client ▸": one item per MCP client that `mcp-broker connect` knows. Choosing one
// runs that command (this same executable, as a child process, so that the tray and the CLI
// write client configs the same way) and reports its outcome in one sentence.
class ConnectClientMenu : public QMenu
{
    Q_OBJECT
public:
    // The command gets `configPath` too, so that it finds this broker's port and grants.
    ConnectClientMenu(QString executablePath, QString configPath, QWidget *parent = nullptr);

    // Client ids as `mcp-broker connect` takes them, with the names the menu shows.
    static QList<QPair<QString, QString>> clients();

Q_SIGNALS:
    // `message`: what the command said (its last line), for a tray notification.
    void finished(const QString &clientName, bool succeeded, const QString &message);

private:
    void connectClient(const QString &clientId, const QString &clientName);

    QString m_executablePath;
    QString m_configPath;
};

} // namespace mcpbroker::ui
