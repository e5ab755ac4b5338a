#pragma once

#include "TrayState.h"

#include <QPointer>
#include <QWidget>

class QLabel;
class QMenu;
class QPushButton;

namespace mcpbroker::ui {

// The small window shown instead of a tray icon where no tray host exists (and when a second
// launch asks the running one to show itself): it says so, shows the overall state, the
// endpoint and each server's state, and offers the tray's menu behind a "Menu" button.
// Closing it hides it; the broker keeps running (Quit is in the menu).
class StatusWindow : public QWidget
{
    Q_OBJECT
public:
    // `menu` is the tray menu (not owned).
    explicit StatusWindow(QMenu *menu, QWidget *parent = nullptr);

    void update(const TrayState &state);
    // The line at the top: why this window shows (e.g. "No system tray was found, so MCP
    // Broker shows this window instead."); empty hides it.
    void setNotice(const QString &notice);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void popUpMenu();

    QPointer<QMenu> m_menu;
    QLabel *m_notice;
    QLabel *m_summaryIcon;
    QLabel *m_summary;
    QLabel *m_endpoint;
    QWidget *m_servers; // one row per server: its state's icon and "<name> — <state>"
    QPushButton *m_menuButton;
};

} // namespace mcpbroker::ui
