#pragma once

#include "Result.h"

#include <QString>

namespace mcpbroker::ui {

// "Start at login", one toggle on every platform:
//   Linux:   $XDG_CONFIG_HOME/autostart/mcp-broker.desktop (XDG Autostart spec)
//   macOS:   ~/Library/LaunchAgents/dev.mcp-broker.plist (RunAtLoad)
//   Windows: HKCU\Software\Microsoft\Windows\CurrentVersion\Run\MCP Broker
// The entry starts `<executable> tray`. Writes are atomic; errors are sentences.
namespace Autostart {
bool isEnabled();
Result<void> setEnabled(bool enabled, const QString &executablePath);
QString entryPath(); // the file (Linux, macOS) or registry value (Windows) it uses
} // namespace Autostart

} // namespace mcpbroker::ui
