#!/usr/bin/env bash
# Removes what installer/install.sh put on this account: every file and folder listed in
# ${XDG_DATA_HOME:-~/.local/share}/mcp-broker/install-manifest.txt (folders only when empty),
# and the "Start at login" entry.
#
#   installer/uninstall.sh [--keep-autostart]
#
# It never removes your configuration (~/.config/mcp-broker), the audit log, or the tokens and
# grants in the keychain: delete those yourself (`mcp-broker remove NAME` signs out and removes a
# server's secrets) if you want them gone. Quit a running MCP Broker from its tray menu first.
set -euo pipefail

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

keep_autostart=false
while [ $# -gt 0 ]; do
    case $1 in
    --keep-autostart) keep_autostart=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

# shellcheck source=installer/user-paths.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/user-paths.sh"

# Our entry, not a Hidden=true override of one installed for everyone (that one stays off).
if ! $keep_autostart && [ -f "$autostart_entry" ] && ! grep -qx 'Hidden=true' "$autostart_entry"; then
    rm -f "$autostart_entry"
    echo "Removed the start-at-login entry $autostart_entry."
fi

if [ ! -f "$manifest" ]; then
    echo "Nothing to uninstall: $manifest is missing (MCP Broker was not installed with installer/install.sh)."
    exit 0
fi

files=()
dirs=()
while IFS= read -r path; do
    case $path in
    '') ;;
    */) dirs+=("${path%/}") ;;
    *) files+=("$path") ;;
    esac
done <"$manifest"

for file in "${files[@]}"; do
    if [ -f "$file" ] || [ -L "$file" ]; then
        rm -f "$file"
    fi
done
rm -f "$manifest"
# Deepest first; a folder that holds anything else (the user's data) stays.
for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    rmdir "${dirs[i]}" 2>/dev/null || true
done

# Refresh the menu and icon caches that list the removed files (existing caches only).
for file in "${files[@]}"; do
    case $file in
    */share/applications/mcp-broker.desktop)
        apps=$(dirname "$file")
        if [ -f "$apps/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null; then
            update-desktop-database "$apps" || true
        fi ;;
    */share/icons/hicolor/*/apps/mcp-broker.svg)
        theme=${file%/*/apps/mcp-broker.svg}
        if [ -f "$theme/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null; then
            gtk-update-icon-cache -q -t -f "$theme" || true
        fi ;;
    esac
done

echo "Uninstalled MCP Broker (${#files[@]} files). Your configuration and keychain entries were kept."
