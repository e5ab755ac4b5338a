#!/usr/bin/env bash
# Installs what MCP Broker needs to build (and, with --test, to run its test suite) on Debian 12
# or Ubuntu (24.04 or later: Qt 6.4 is needed). Idempotent: packages already installed are not
# asked for again, so a rerun needs no network and takes a second.
#
#   installer/bootstrap.sh          build dependencies
#   installer/bootstrap.sh --test   also the test dependencies: a throwaway keyring, D-Bus,
#                                   Xvfb, Node.js and the pinned test peers (npm ci)
set -euo pipefail

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

with_tests=false
for argument in "$@"; do
    case "$argument" in
    --test) with_tests=true ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "bootstrap: unknown option '$argument'." >&2
        usage >&2
        exit 2
        ;;
    esac
done

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf 'bootstrap: %s\n' "$*"; }
fail() {
    printf 'bootstrap: %s\n' "$*" >&2
    exit 1
}

build_packages=(
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-httpserver-dev
    qt6-websockets-dev # find_package(Qt6 COMPONENTS HttpServer) needs it
    qt6-svg-dev qtkeychain-qt6-dev
    libsecret-1-0 # QtKeychain's Secret Service backend loads it at run time
    nlohmann-json3-dev libssl-dev libgl-dev
    libtomlplusplus-dev # Codex's config.toml (`mcp-broker connect codex`)
)
# xdotool and x11-utils drive and inspect the tray icon under Xvfb; dpkg-dev checks the .deb;
# desktop-file-utils validates the desktop and autostart entries.
test_packages=(gnome-keyring dbus dbus-x11 xvfb xauth trayer xdotool x11-utils dpkg-dev
    desktop-file-utils nodejs npm
    clang libclang-rt-14-dev) # the fuzz tests (tests/fuzz): libFuzzer is clang's

packages=("${build_packages[@]}")
$with_tests && packages+=("${test_packages[@]}")

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
    fail "this script needs apt and dpkg (Debian 12 or Ubuntu). Install the packages it lists by hand elsewhere."

# Installed, or provided by an installed package (e.g. NodeSource's nodejs provides npm).
provided=" $(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null |
    awk '/^ii/ { $1 = ""; print }' | tr ',' '\n' | sed 's/(.*)//; s/^ *//; s/ *$//' | tr '\n' ' ') "
missing=()
for package in "${packages[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null)" == ii* ]]; then
        continue
    fi
    [[ "$provided" == *" $package "* ]] && continue
    missing+=("$package")
done

if ((${#missing[@]} == 0)); then
    say "all ${#packages[@]} packages are installed."
else
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || fail "installing packages needs root: run this as root or install sudo."
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
fi

if $with_tests; then
    peers="$repo_root/tests/peers"
    stamp="$peers/node_modules/.package-lock.sha256"
    lock_hash=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
        say "test peers in tests/peers/node_modules match package-lock.json."
    else
        say "installing the test peers (npm ci in tests/peers)"
        (cd "$peers" && npm ci --no-audit --no-fund)
        echo "$lock_hash" >"$stamp"
    fi
fi

say "done."
