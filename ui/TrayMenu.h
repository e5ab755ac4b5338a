#pragma once

#include "TrayState.h"

#include <QObject>
#include <QPointer>
#include <QUrl>

class QAction;
class QMenu;

namespace mcpbroker::ui {

// The tray's context menu, rebuilt from a TrayState on every change:
//
//   <summary>                         (disabled header)
//   Servers                           (section)
//     <name> — <state> ▸  Sign in… / Sign out and revoke / Open server URL / Remove…
//   Add server…
//   Clients                           (section; "No clients yet" when empty)
//     <name> — <last use> ▸  Revoke access
//   Copy endpoint URL
//   Connect a client ▸                (filled by setConnectMenu; disabled when none)
//   Pause all access                  (checkable)
//   Open audit log
//   Start at login                    (checkable)
//   Quit MCP Broker
//
// Every action has an objectName for tests and accessibility: "signIn:<server>",
// "signOut:<server>", "openUrl:<server>", "remove:<server>", "revoke:<grantId>", "addServer",
// "copyEndpoint", "connectMenu", "pause", "openAuditLog", "startAtLogin", "quit"; the server and
// client submenus are "server:<name>" and "client:<grantId>".
// The menu itself only emits what the user asked for; TrayController does it.
class TrayMenu : public QObject
{
    Q_OBJECT
public:
    explicit TrayMenu(QObject *parent = nullptr);
    ~TrayMenu() override;

    QMenu *menu() const;
    void update(const TrayState &state);
    void setStartAtLogin(bool enabled);      // the checkbox, without emitting
    void setConnectMenu(QMenu *connectMenu); // not owned; null: the item is disabled

    QAction *findAction(const QString &objectName) const; // tests

Q_SIGNALS:
    void signInRequested(const QString &server);
    void signOutRequested(const QString &server);
    void openServerUrlRequested(const QUrl &url);
    void removeServerRequested(const QString &server);
    void revokeClientRequested(const QString &grantId, const QString &clientName);
    void addServerRequested();
    void copyEndpointRequested();
    void pauseToggled(bool paused);
    void openAuditLogRequested();
    void startAtLoginToggled(bool enabled);
    void quitRequested();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::ui
