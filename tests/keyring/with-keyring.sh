#!/bin/bash
# Runs a command inside a private D-Bus session bus with a fresh gnome-keyring whose login
# keyring is unlocked non-interactively, and throwaway XDG directories. Tests therefore use a
# real Secret Service, never touch the developer's own keychain, and never wait on a prompt.
#
#   tests/keyring/with-keyring.sh COMMAND [ARGS…]
#
# MCPB_KEYRING=none runs COMMAND on a bus that can start no service at all (the "no keychain"
# case): an ordinary session bus would start gnome-keyring on demand.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -z "${MCPB_KEYRING_BUS:-}" ]]; then
    export MCPB_KEYRING_BUS=1
    if [[ "${MCPB_KEYRING:-unlocked}" == none ]]; then
        exec dbus-run-session --config-file="$here/bus-without-services.conf" -- "$0" "$@"
    fi
    exec dbus-run-session -- "$0" "$@"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcpb-keyring.XXXXXX")
keyring_pid=
cleanup() {
    if [[ -n "$keyring_pid" ]]; then
        kill "$keyring_pid" 2>/dev/null || true
        wait "$keyring_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config"
export XDG_CACHE_HOME="$scratch/cache" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

if [[ "${MCPB_KEYRING:-unlocked}" != none ]]; then
    # In the foreground (in our background) so that we own its pid and end it with the bus.
    # --unlock reads the login keyring's password from stdin, creating the keyring if needed;
    # the password only protects this throwaway keyring.
    printf 'mcpb-test' | gnome-keyring-daemon --foreground --unlock --components=secrets \
        --control-directory="$XDG_RUNTIME_DIR/keyring" >/dev/null 2>&1 &
    keyring_pid=$!
    # Ready when it owns the Secret Service's name (waiting does not start another one).
    gdbus wait --session --timeout 20 org.freedesktop.secrets
    export GNOME_KEYRING_CONTROL="$XDG_RUNTIME_DIR/keyring"
fi

"$@"
