#!/bin/bash
# Runs a command inside a private D-Bus session bus with a fresh gnome-keyring whose login
# keyring is unlocked non-interactively, and throwaway XDG directories. Tests therefore use a
# real Secret Service, never touch the developer's own keychain, and never wait on a prompt.
#
#   tests/keyring/with-keyring.sh COMMAND [ARGS…]
#
# MCPB_KEYRING=none runs COMMAND with a bus but no keyring daemon (the "no keychain" case).
set -euo pipefail

if [[ -z "${MCPB_KEYRING_BUS:-}" ]]; then
    export MCPB_KEYRING_BUS=1
    exec dbus-run-session -- "$0" "$@"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcpb-keyring.XXXXXX")
cleanup() {
    [[ -n "${keyring_pid:-}" ]] && kill "$keyring_pid" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config"
export XDG_CACHE_HOME="$scratch/cache" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

if [[ "${MCPB_KEYRING:-unlocked}" != none ]]; then
    # --unlock reads the login keyring's password from stdin, creating the keyring if needed.
    # The password only protects this throwaway keyring.
    eval "$(printf 'mcpb-test' | gnome-keyring-daemon --daemonize --unlock --components=secrets)"
    keyring_pid="${GNOME_KEYRING_PID:-}"
    export GNOME_KEYRING_CONTROL
fi

"$@"
