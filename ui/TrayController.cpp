#include "TrayController.h"

#include "AddServerDialog.h"
#include "Autostart.h"
#include "Broker.h"
#include "ClientConsentDialog.h"
#include "ConnectClientMenu.h"
#include "StatusWindow.h"
#include "ToolApprovalDialog.h"
#include "TrayIcons.h"
#include "TrayMenu.h"
#include "TrayNotifications.h"
#include "gateway/ApprovalQueue.h"
#include "gateway/ClientGrant.h"
#include "gateway/LocalAuthorizationServer.h"

#include <QApplication>
#include <QClipboard>
#include <QCoreApplication>
#include <QDesktopServices>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSystemTrayIcon>
#include <QTimer>

namespace mcpbroker::ui {

namespace {

// "used 5 minutes ago" goes stale: the texts are redrawn this often.
constexpr int kClockIntervalMs = 60'000;

QStringList serverNames(const Broker *broker)
{
    QStringList names;
    for (const Broker::ServerStatus &status : broker->serverStatuses())
        names.append(status.name);
    return names;
}

template<typename Dialog>
void raise(Dialog *dialog)
{
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

} // namespace

TrayController::TrayController(Broker *broker, QObject *parent)
    : TrayController(broker, Options(), parent)
{ }

TrayController::TrayController(Broker *broker, Options options, QObject *parent)
    : QObject(parent), m_broker(broker), m_options(std::move(options)), m_menu(new TrayMenu(this)),
      m_clock(new QTimer(this))
{
    if (m_options.executablePath.isEmpty())
        m_options.executablePath = QCoreApplication::applicationFilePath();
    m_clock->setInterval(kClockIntervalMs);
    connect(m_clock, &QTimer::timeout, this, &TrayController::refresh);
}

TrayController::~TrayController()
{
    if (m_started)
        m_broker->setApproverPresent(false);
    // The window shows the menu, and the menu the connect submenu: gone in that order.
    delete m_window;
    delete m_menu;
    delete m_connectMenu;
    for (const auto &dialog : std::as_const(m_consents))
        delete dialog.data();
    for (const auto &dialog : std::as_const(m_approvals))
        delete dialog.data();
    delete m_addServer.data();
}

void TrayController::start()
{
    if (m_started)
        return;
    m_started = true;
    m_broker->setApproverPresent(true);
    connectMenu();
    m_menu->setStartAtLogin(Autostart::isEnabled());

    connect(m_broker, &Broker::serverStatusChanged, this, &TrayController::refresh);
    connect(m_broker, &Broker::clientsChanged, this, &TrayController::refresh);
    connect(m_broker, &Broker::pausedChanged, this, &TrayController::refresh);
    connect(m_broker, &Broker::consentRequested, this, &TrayController::askConsent);
    connect(m_broker, &Broker::consentFinished, this, [this](const QString &id) {
        if (const QPointer<ClientConsentDialog> dialog = m_consents.take(id))
            dialog->finishElsewhere();
    });
    connect(m_broker, &Broker::toolCallApprovalRequested, this, &TrayController::askApproval);
    connect(m_broker, &Broker::toolCallApprovalFinished, this, [this](const QString &id) {
        if (const QPointer<ToolApprovalDialog> dialog = m_approvals.take(id))
            dialog->finishElsewhere();
    });

    if (QSystemTrayIcon::isSystemTrayAvailable() && !m_options.forceStatusWindow) {
        m_icon = new QSystemTrayIcon(this);
        m_icon->setContextMenu(m_menu->menu());
        connect(m_icon, &QSystemTrayIcon::activated, this,
                [this](QSystemTrayIcon::ActivationReason reason) {
                    if (reason == QSystemTrayIcon::Trigger
                        || reason == QSystemTrayIcon::DoubleClick)
                        activate();
                });
        connect(m_icon, &QSystemTrayIcon::messageClicked, this, &TrayController::activate);
    } else {
        ensureWindow()->setNotice(
                tr("No system tray was found, so MCP Broker shows this window instead. Closing "
                   "it keeps MCP Broker running; Quit is in the menu."));
    }
    refresh();
    if (m_icon)
        m_icon->show();
    else
        raise(m_window);
    m_clock->start();

    for (const gateway::ConsentRequest &request : m_broker->pendingConsents())
        askConsent(request);
    for (const gateway::ApprovalRequest &request : m_broker->pendingApprovals())
        askApproval(request);
}

void TrayController::activate()
{
    raise(ensureWindow());
}

bool TrayController::usesTrayIcon() const
{
    return m_icon != nullptr;
}

QList<ClientConsentDialog *> TrayController::consentDialogs() const
{
    QList<ClientConsentDialog *> dialogs;
    for (const auto &dialog : m_consents) {
        if (dialog)
            dialogs.append(dialog);
    }
    return dialogs;
}

QList<ToolApprovalDialog *> TrayController::approvalDialogs() const
{
    QList<ToolApprovalDialog *> dialogs;
    for (const auto &dialog : m_approvals) {
        if (dialog)
            dialogs.append(dialog);
    }
    return dialogs;
}

AddServerDialog *TrayController::addServerDialog() const
{
    return m_addServer.data();
}

StatusWindow *TrayController::ensureWindow()
{
    if (!m_window) {
        m_window = new StatusWindow(m_menu->menu());
        m_window->update(m_state);
    }
    return m_window;
}

void TrayController::refresh()
{
    TrayState next
            = buildTrayState(m_broker->serverStatuses(), m_broker->clients(), m_broker->isPaused(),
                             m_broker->endpointUrl(), QDateTime::currentDateTimeUtc());
    const bool first = m_state.endpoint.isEmpty();
    const QList<TrayNotification> notifications
            = notificationsBetween(first ? nullptr : &m_state, next);
    m_state = std::move(next);
    m_menu->update(m_state);
    if (m_icon) {
        m_icon->setIcon(TrayIcons::forState(m_state.overall));
        m_icon->setToolTip(m_state.tooltip);
    }
    if (m_window)
        m_window->update(m_state);
    for (const TrayNotification &notification : notifications) {
        notify(notification.title, notification.message,
               notification.severity != TrayNotification::Severity::Information);
    }
}

void TrayController::notify(const QString &title, const QString &message, bool warning)
{
    if (m_icon && QSystemTrayIcon::supportsMessages()) {
        m_icon->showMessage(title, message,
                            warning ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information);
    } else if (m_window) {
        m_window->setNotice(QStringLiteral("%1: %2").arg(title, message));
    }
    Q_EMIT notified(title, message);
}

void TrayController::connectMenu()
{
    connect(m_menu, &TrayMenu::signInRequested, this, &TrayController::signIn);
    connect(m_menu, &TrayMenu::signOutRequested, this, [this](const QString &server) {
        m_broker->signOut(server, [this, server](Result<QString> signedOut) {
            if (!signedOut)
                notify(tr("Sign-out of %1 failed").arg(server), signedOut.error().message, true);
            else
                notify(tr("Signed out of %1").arg(server),
                       signedOut.value().isEmpty() ? tr("Its tokens were revoked and deleted.")
                                                   : signedOut.value(),
                       false);
        });
    });
    connect(m_menu, &TrayMenu::openServerUrlRequested, this,
            [](const QUrl &url) { QDesktopServices::openUrl(url); });
    connect(m_menu, &TrayMenu::removeServerRequested, this, [this](const QString &server) {
        confirm(tr("Remove server %1? You are signed out, its tokens and secrets are deleted, "
                   "and clients lose its tools.")
                        .arg(server),
                tr("Remove"), [this, server] {
                    m_broker->removeServer(server, [this, server](Result<QString> removed) {
                        if (!removed)
                            notify(tr("%1 was not removed").arg(server), removed.error().message,
                                   true);
                        else if (!removed.value().isEmpty())
                            notify(tr("Removed %1").arg(server), removed.value(), true);
                    });
                });
    });
    connect(m_menu, &TrayMenu::revokeClientRequested, this,
            [this](const QString &grantId, const QString &clientName) {
                confirm(tr("Revoke the access of %1? It is cut off at once and has to ask "
                           "again.")
                                .arg(clientName),
                        tr("Revoke"), [this, grantId, clientName] {
                            m_broker->revokeClient(grantId, [this, clientName](Result<void> done) {
                                if (!done)
                                    notify(tr("Could not revoke %1").arg(clientName),
                                           done.error().message, true);
                            });
                        });
            });
    connect(m_menu, &TrayMenu::addServerRequested, this, &TrayController::showAddServer);
    connect(m_menu, &TrayMenu::copyEndpointRequested, this,
            [this] { QApplication::clipboard()->setText(m_broker->endpointUrl().toString()); });
    connect(m_menu, &TrayMenu::pauseToggled, m_broker, &Broker::setPaused);
    connect(m_menu, &TrayMenu::openAuditLogRequested, this, [this] {
        const QString path = m_broker->auditLogPath();
        if (!QFileInfo::exists(path)) {
            notify(tr("No audit log yet"), tr("It starts with the first tool call."), false);
            return;
        }
        QDesktopServices::openUrl(QUrl::fromLocalFile(path));
    });
    connect(m_menu, &TrayMenu::startAtLoginToggled, this, [this](bool enabled) {
        if (auto changed = Autostart::setEnabled(enabled, m_options.executablePath); !changed) {
            notify(tr("Start at login"), changed.error().message, true);
            m_menu->setStartAtLogin(Autostart::isEnabled());
        }
    });
    connect(m_menu, &TrayMenu::quitRequested, this, &TrayController::quitRequested);

    m_connectMenu = new ConnectClientMenu(m_options.executablePath, m_broker->configPath());
    m_menu->setConnectMenu(m_connectMenu);
    connect(m_connectMenu, &ConnectClientMenu::finished, this,
            [this](const QString &client, bool succeeded, const QString &message) {
                notify(succeeded ? tr("Connected %1").arg(client)
                                 : tr("%1 was not connected").arg(client),
                       message, !succeeded);
            });
}

void TrayController::signIn(const QString &server)
{
    m_broker->signIn(server, [this, server](Result<void> signedIn) {
        if (signedIn)
            notify(tr("Signed in to %1").arg(server), tr("Its tools are ready."), false);
        else
            notify(tr("Sign-in to %1 failed").arg(server), signedIn.error().message, true);
    });
}

void TrayController::confirm(const QString &question, const QString &action,
                             std::function<void()> then)
{
    auto *box = new QMessageBox(QMessageBox::Question, tr("MCP Broker"), question,
                                QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowIcon(TrayIcons::application());
    QPushButton *confirmButton = box->addButton(action, QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    connect(box, &QMessageBox::buttonClicked, this,
            [confirmButton, then = std::move(then)](QAbstractButton *button) {
                if (button == confirmButton)
                    then();
            });
    raise(box);
}

void TrayController::showAddServer()
{
    if (m_addServer) {
        raise(m_addServer.data());
        return;
    }
    m_addServer = new AddServerDialog(serverNames(m_broker));
    connect(m_addServer, &AddServerDialog::submitted, this,
            [this](const Broker::NewServer &server) {
                const QString name = server.name;
                const bool signInNext = server.auth != Broker::NewServer::Auth::None
                        && server.auth != Broker::NewServer::Auth::Bearer;
                m_broker->addServer(server, [this, name, signInNext](Result<void> added) {
                    if (!added) {
                        if (m_addServer)
                            m_addServer->showError(added.error().message);
                        return;
                    }
                    if (m_addServer) {
                        m_addServer->finish();
                        m_addServer->deleteLater();
                    }
                    if (signInNext)
                        signIn(name);
                });
            });
    connect(m_addServer, &QDialog::rejected, m_addServer, &QObject::deleteLater);
    raise(m_addServer.data());
}

void TrayController::askConsent(const gateway::ConsentRequest &request)
{
    if (m_consents.contains(request.id))
        return;
    auto *dialog
            = new ClientConsentDialog(request, serverNames(m_broker), m_options.consentTimeout);
    m_consents.insert(request.id, dialog);
    connect(dialog, &ClientConsentDialog::allowed, this,
            [this, dialog](const QString &id, const QStringList &servers, bool remember) {
                m_consents.remove(id);
                m_broker->approveConsent(id, servers, remember);
                dialog->deleteLater();
            });
    connect(dialog, &ClientConsentDialog::denied, this,
            [this, dialog](const QString &id, bool remember, bool) {
                m_consents.remove(id);
                m_broker->denyConsent(id, remember);
                dialog->deleteLater();
            });
    connect(dialog, &QDialog::finished, dialog, &QObject::deleteLater);
    raise(dialog);
}

void TrayController::askApproval(const gateway::ApprovalRequest &request)
{
    if (m_approvals.contains(request.id))
        return;
    // The broker's deadline: the dialog answers Deny just as the request would time out.
    const qint64 left = QDateTime::currentDateTimeUtc().secsTo(request.expiresAt);
    auto *dialog = new ToolApprovalDialog(request, std::chrono::seconds(qMax<qint64>(1, left)));
    m_approvals.insert(request.id, dialog);
    auto answered = [this, dialog](const QString &id) {
        m_approvals.remove(id);
        dialog->deleteLater();
    };
    connect(dialog, &ToolApprovalDialog::allowedOnce, this, [this, answered](const QString &id) {
        answered(id);
        m_broker->approveToolCall(id);
    });
    connect(dialog, &ToolApprovalDialog::allowedAlways, this, [this, answered](const QString &id) {
        answered(id);
        if (auto kept = m_broker->approveToolCallAlways(id); !kept)
            notify(tr("Allowed once"), kept.error().message, true);
    });
    connect(dialog, &ToolApprovalDialog::denied, this, [this, answered](const QString &id, bool) {
        answered(id);
        m_broker->denyToolCall(id);
    });
    connect(dialog, &QDialog::finished, dialog, &QObject::deleteLater);
    raise(dialog);
}

} // namespace mcpbroker::ui
