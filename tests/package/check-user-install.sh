#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# installer/install.sh and uninstall.sh for a user without root, in a throwaway home whose path
# holds a space: the files land under ~/.local, the menu and start-at-login entries are valid and
# start the installed binary, a second install changes nothing, and uninstall leaves the home
# exactly as it was before (the user's configuration included).
#
#   tests/package/check-user-install.sh BUILD_DIR
#
# Prints "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
installer=$(cd "$here/../../installer" && pwd)
source "$here/checks.sh"
build=$(build_tree_argument "$@") || exit 2

# Built here, with the real home (the compiler cache is there); install.sh --no-build then
# installs that same binary twice.
cmake --build "$build" --target mcp-broker >/dev/null || {
    echo "FAIL: the build tree builds mcp-broker"
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home of tester"
export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share"
unset XDG_CONFIG_DIRS XDG_DATA_DIRS

# What the user already has: their broker configuration and another application's menu entry.
mkdir -p "$XDG_CONFIG_HOME/mcp-broker" "$XDG_DATA_HOME/applications"
echo '{"servers": []}' >"$XDG_CONFIG_HOME/mcp-broker/config.json"
printf '[Desktop Entry]\nType=Application\nName=Other\nExec=other\n' \
    >"$XDG_DATA_HOME/applications/other.desktop"
# Every path with its mode, and each file's size.
snapshot() { (cd "$HOME" && find . \( -type f -printf '%p %m %s\n' \) -o -printf '%p %m\n' | sort); }
before=$(snapshot)

binary="$HOME/.local/bin/mcp-broker"
menu_entry="$XDG_DATA_HOME/applications/mcp-broker.desktop"
icon="$XDG_DATA_HOME/icons/hicolor/scalable/apps/mcp-broker.svg"
autostart_entry="$XDG_CONFIG_HOME/autostart/mcp-broker.desktop"
manifest="$XDG_DATA_HOME/mcp-broker/install-manifest.txt"

# shellcheck disable=SC2317 # called through expect
validate() {
    local complaints
    complaints=$(desktop-file-validate "$1" 2>&1)
    ! grep -qE 'error|warning' <<<"$complaints"
}

# ---- install with start at login ----

if ! "$installer/install.sh" --build-dir "$build" --no-build --autostart >"$work/install.log" 2>&1; then
    cat "$work/install.log"
    fail "install.sh --no-build --autostart succeeds"
    finish
fi
pass "install.sh --no-build --autostart succeeds"
expect "the binary is in ~/.local/bin" test -x "$binary"
expect "the installed binary runs" timeout 30 "$binary" --version >/dev/null
expect "the icon is in ~/.local/share/icons" test -f "$icon"
expect "the menu entry is in ~/.local/share/applications" test -f "$menu_entry"
expect "the menu entry is valid" validate "$menu_entry"
expect "the menu entry starts the installed binary (quoted: its path has a space)" \
    grep -qxF "Exec=\"$binary\" tray" "$menu_entry"
expect "the menu entry's TryExec is the installed binary" grep -qxF "TryExec=$binary" "$menu_entry"

# The same bytes as ui/Autostart.cpp writes (tests/gui/tst_autostart.cpp checks that side).
expected_autostart="[Desktop Entry]
Type=Application
Name=MCP Broker
Comment=Credential broker for MCP clients, in the tray
Exec=\"$binary\" tray
TryExec=$binary
Icon=mcp-broker
Terminal=false
X-GNOME-Autostart-enabled=true"
expect_eq "the start-at-login entry is what the app writes" "$expected_autostart" \
    "$(cat "$autostart_entry" 2>/dev/null)"
expect "the start-at-login entry is valid" validate "$autostart_entry"
expect_eq "the start-at-login entry is private, like the app's" "600" \
    "$(stat -c %a "$autostart_entry" 2>/dev/null)"
for path in "$binary" "$menu_entry" "$icon"; do
    expect "the manifest lists ${path#"$HOME"/}" grep -qxF "$path" "$manifest"
done
expect "the manifest does not list the user's folders" \
    test -z "$(grep -xF -e "$XDG_DATA_HOME/applications/" -e "$XDG_CONFIG_HOME/" "$manifest")"

# ---- a second install replaces the first and keeps start at login ----

installed=$(snapshot)
if "$installer/install.sh" --build-dir "$build" --no-build >"$work/reinstall.log" 2>&1; then
    pass "a second install.sh succeeds"
else
    cat "$work/reinstall.log"
    fail "a second install.sh succeeds"
fi
expect_eq "a second install leaves the same files" "$installed" "$(snapshot)"

# ---- uninstall ----

if "$installer/uninstall.sh" >"$work/uninstall.log" 2>&1; then
    pass "uninstall.sh succeeds"
else
    cat "$work/uninstall.log"
    fail "uninstall.sh succeeds"
fi
expect_eq "uninstall leaves the home as it was before the install" "$before" "$(snapshot)"
expect "uninstall keeps the user's configuration" \
    grep -q servers "$XDG_CONFIG_HOME/mcp-broker/config.json"
expect "uninstall says the configuration was kept" grep -q 'configuration' "$work/uninstall.log"
expect "a second uninstall has nothing to do" "$installer/uninstall.sh" >/dev/null

finish
