#pragma once

#include "TrayState.h"

#include <QIcon>

namespace mcpbroker::ui {

// The tray icon for each overall state (SVGs in resources/icons, compiled in), and the
// application's own icon (windows, dialogs, the desktop entry).
namespace TrayIcons {
QIcon forState(OverallState state);
QIcon forServer(const ServerEntry &server); // a server's own state, in the same badges
QIcon application();
QString resourcePath(OverallState state); // ":/icons/tray-ok.svg", …
} // namespace TrayIcons

} // namespace mcpbroker::ui
