#!/bin/bash
# Runs a command on a throwaway X server (Xvfb) with a system tray host (trayer), so that the
# tray app's icon is really embedded (XEmbed system tray protocol) and can be clicked.
#
#   tests/desktop/with-desktop.sh COMMAND [ARGS…]
#
# DISPLAY is set for COMMAND; MCPB_TRAY_HOST=trayer says a tray host runs. Both processes end
# with the command.
set -euo pipefail

xvfb_pid=
trayer_pid=
cleanup() {
    [[ -n "$trayer_pid" ]] && kill "$trayer_pid" 2>/dev/null || true
    [[ -n "$xvfb_pid" ]] && kill "$xvfb_pid" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

# -displayfd: Xvfb picks a free display number and writes it once it accepts connections.
display_fifo=$(mktemp -u "${TMPDIR:-/tmp}/mcpb-xvfb.XXXXXX")
mkfifo "$display_fifo"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$display_fifo" >/dev/null 2>&1 &
xvfb_pid=$!
read -r -t 20 display_number <"$display_fifo" || {
    echo "with-desktop: Xvfb did not start" >&2
    exit 1
}
rm -f "$display_fifo"
export DISPLAY=":$display_number"

# A tray at the top right, like a panel's notification area.
trayer --edge top --align right --widthtype request --height 32 --SetDockType true \
    --transparent false --tint 0x303030 >/dev/null 2>&1 &
trayer_pid=$!
# Its panel window is mapped once it runs (--sync waits for it). Tests wait for the tray
# manager selection itself (QSystemTrayIcon::isSystemTrayAvailable) before starting the app.
if ! timeout 20 xdotool search --sync --class trayer >/dev/null 2>&1; then
    echo "with-desktop: trayer did not start" >&2
    exit 1
fi
export MCPB_TRAY_HOST=trayer

"$@"
