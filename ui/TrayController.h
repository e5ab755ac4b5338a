#pragma once

#include "TrayState.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <chrono>
#include <memory>
#include <optional>

class QSystemTrayIcon;
class QTimer;

namespace mcpbroker {
class Broker;
}

namespace mcpbroker::ui {

class AddServerDialog;
class ConnectClientMenu;
class ClientConsentDialog;
class StatusWindow;
class ToolApprovalDialog;
class TrayMenu;

// The desktop face of one Broker: the tray icon (or, where no tray host exists, the status
// window), its menu, the consent and approval dialogs, and the notifications. It only uses the
// Broker facade; every menu choice becomes one facade call.
class TrayController : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        // How long a new client's consent dialog waits before it answers Deny. Tool-call
        // dialogs use the time the broker gives the request (the policy's askTimeoutSeconds).
        std::chrono::seconds consentTimeout{180};
        bool forceStatusWindow = false; // as if no tray host existed
        QString executablePath;         // for "Start at login" and "Connect a client"; empty:
                                        // QCoreApplication::applicationFilePath()
    };

    TrayController(Broker *broker, Options options, QObject *parent = nullptr);
    explicit TrayController(Broker *broker, QObject *parent = nullptr);
    ~TrayController() override;

    // Becomes the broker's approver, shows the icon (or the window) and the questions already
    // waiting. Call once the broker has started.
    void start();
    // A second launch asked the running one to show itself: the status window comes up.
    void activate();

    bool usesTrayIcon() const;
    const TrayState &state() const { return m_state; }
    TrayMenu *menu() const { return m_menu; }
    StatusWindow *statusWindow() const { return m_window; } // null until first needed
    QSystemTrayIcon *trayIcon() const { return m_icon; }    // null without a tray host
    QList<ClientConsentDialog *> consentDialogs() const;
    QList<ToolApprovalDialog *> approvalDialogs() const;
    AddServerDialog *addServerDialog() const;

Q_SIGNALS:
    void quitRequested();
    // Every tray message (also when no tray host can show it), for the status window and tests.
    void notified(const QString &title, const QString &message);

private:
    void refresh();
    void notify(const QString &title, const QString &message, bool warning);
    void connectMenu();
    void signIn(const QString &server);
    void askConsent(const gateway::ConsentRequest &request);
    void askApproval(const gateway::ApprovalRequest &request);
    void showAddServer();
    void confirm(const QString &question, const QString &action, std::function<void()> then);
    StatusWindow *ensureWindow();

    Broker *m_broker;
    Options m_options;
    TrayMenu *m_menu;
    QSystemTrayIcon *m_icon = nullptr;
    StatusWindow *m_window = nullptr;
    ConnectClientMenu *m_connectMenu = nullptr;
    QPointer<AddServerDialog> m_addServer;
    QHash<QString, QPointer<ClientConsentDialog>> m_consents;
    QHash<QString, QPointer<ToolApprovalDialog>> m_approvals;
    TrayState m_state;
    bool m_started = false;
    QTimer *m_clock;
};

} // namespace mcpbroker::ui
