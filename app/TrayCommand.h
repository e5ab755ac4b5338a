#pragma once

#include "AsyncCommand.h"

namespace mcpbroker::ui {
class TrayController;
}

namespace mcpbroker::app {

class RunningBroker;

// `mcp-broker tray` (and `mcp-broker` alone where a display is): the broker with its tray icon,
// or its status window where no tray host exists. Needs a QApplication. A second launch asks the
// running one to show its window and exits 0; Quit in the menu, SIGTERM or SIGINT end it.
class TrayCommand : public AsyncCommand
{
    Q_OBJECT
public:
    explicit TrayCommand(Command command, QObject *parent = nullptr);
    ~TrayCommand() override;

    void start() override;

    // Whether this process can show windows: a display ($DISPLAY or $WAYLAND_DISPLAY on Linux;
    // always on macOS and Windows). Decides what `mcp-broker` alone starts.
    static bool displayAvailable();

private:
    void activateRunningInstance();
    // Says it on stderr and in a message box (a tray app started from a menu has no terminal).
    void failVisibly(const QString &message);

    RunningBroker *m_running = nullptr;
    ui::TrayController *m_tray = nullptr;
};

} // namespace mcpbroker::app
