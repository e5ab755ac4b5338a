#!/usr/bin/env bash
# Installs MCP Broker for the current user, without root: the binary, the application menu
# entry and the icon under ~/.local (or --prefix), and optionally "Start at login".
#
#   installer/install.sh [--prefix DIR] [--build-dir DIR] [--no-build]
#                        [--autostart | --no-autostart]
#
# It builds the binary first (cmake --preset default into build/; --no-build installs what the
# build tree holds), installs with `cmake --install`, and records every file and folder it
# creates in ${XDG_DATA_HOME:-~/.local/share}/mcp-broker/install-manifest.txt so that
# installer/uninstall.sh removes exactly those. Without --autostart/--no-autostart, an existing
# "Start at login" entry is kept and pointed at the newly installed binary.
# Your configuration (~/.config/mcp-broker) and the tokens in the keychain are never touched.
set -euo pipefail
export LC_ALL=C # byte-wise string handling for the desktop entry escapes below

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(dirname "$here")

usage() {
    sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

prefix=$HOME/.local
build_dir=$source_dir/build
autostart=keep
build=true
while [ $# -gt 0 ]; do
    case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder."; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a folder."; build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#--build-dir=}; shift ;;
    --no-build) build=false; shift ;;
    --autostart) autostart=on; shift ;;
    --no-autostart) autostart=off; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

case $prefix in
/*) ;;
*) prefix=$(pwd)/$prefix ;;
esac
prefix=${prefix%/}
case $prefix in
*$'\n'* | *=*) die "The install folder \"$prefix\" cannot hold a newline or '=' (desktop entries cannot start a program there): choose another --prefix." ;;
esac

# shellcheck source=installer/user-paths.sh
. "$here/user-paths.sh"
binary=$prefix/bin/mcp-broker

# ---- Desktop Entry spec escapes (the same as ui/Autostart.cpp: keep the two in step) ----

reserved=$' \t\n"\'\\><~|&;$*?#()`'

# One Exec argument: quoted when it holds a reserved character, with \ " ` $ escaped inside the
# quotes; a literal % is always %%.
exec_argument() {
    local argument=${1//%/%%} i quote=false
    for ((i = 0; i < ${#1}; i++)); do
        [[ $reserved == *"${1:i:1}"* ]] && quote=true
    done
    if $quote; then
        argument=${argument//\\/\\\\}
        argument=${argument//\"/\\\"}
        argument=${argument//\`/\\\`}
        argument=${argument//\$/\\\$}
        argument="\"$argument\""
    fi
    printf '%s' "$argument"
}

# The escapes of a "string" value, applied after the Exec quoting.
string_value() {
    local value=${1//\\/\\\\}
    value=${value//$'\n'/\\n}
    value=${value//$'\t'/\\t}
    value=${value//$'\r'/\\r}
    printf '%s' "$value"
}

# What ui/Autostart.cpp writes for "Start at login", byte for byte.
autostart_entry_text() {
    printf '[Desktop Entry]\n'
    printf 'Type=Application\n'
    printf 'Name=MCP Broker\n'
    printf 'Comment=Credential broker for MCP clients, in the tray\n'
    printf 'Exec=%s tray\n' "$(string_value "$(exec_argument "$1")")"
    printf 'TryExec=%s\n' "$(string_value "$1")"
    printf 'Icon=mcp-broker\n'
    printf 'Terminal=false\n'
    printf 'X-GNOME-Autostart-enabled=true\n'
}

# Whole-file write through a temporary file and a rename, like store::AtomicFile (0600 file,
# 0700 folder when new).
write_atomically() {
    local target=$1 temp
    (umask 077 && mkdir -p "$(dirname "$target")")
    temp=$(umask 077 && mktemp "$(dirname "$target")/.$(basename "$target").tmp-XXXXXX")
    if ! cat >"$temp" || ! mv -f "$temp" "$target"; then
        rm -f "$temp"
        die "Could not write $target: check that its folder is writable."
    fi
}

autostart_is_ours() {
    [ -f "$autostart_entry" ] && ! grep -qx 'Hidden=true' "$autostart_entry"
}

refresh_caches() {
    # Only caches that already exist: without one, menus and icon themes read the folders.
    if [ -f "$prefix/share/applications/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null; then
        update-desktop-database "$prefix/share/applications" || true
    fi
    if [ -f "$prefix/share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -t -f "$prefix/share/icons/hicolor" || true
    fi
}

# ---- build ----

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    { $build && [ "$build_dir" = "$source_dir/build" ]; } ||
        die "$build_dir holds no build: run \`cmake --workflow --preset default\` or give --build-dir."
    (cd "$source_dir" && cmake --preset default)
fi
if $build; then
    cmake --build "$build_dir" --target mcp-broker
fi

# ---- install: stage, then copy, recording what is new ----

# Folders a previous install created stay ours while they exist (start at login's, kept).
records=()
if [ -f "$manifest" ]; then
    echo "Replacing the previous installation listed in $manifest."
    mapfile -t previous_dirs < <(grep '/$' "$manifest" || true)
    "$here/uninstall.sh" --keep-autostart
    for dir in "${previous_dirs[@]}"; do
        if [ -d "$dir" ]; then records+=("$dir"); fi
    done
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage cmake --install "$build_dir" --prefix "$prefix" >/dev/null
staged=$stage$prefix
[ -x "$staged/bin/mcp-broker" ] || die "cmake --install put no bin/mcp-broker in $prefix: is $build_dir a build of MCP Broker?"

# The menu entry starts the installed binary by its full path: ~/.local/bin is often not on the
# PATH of a desktop session.
menu_entry=$staged/share/applications/mcp-broker.desktop
if [ -f "$menu_entry" ]; then
    exec_line="Exec=$(string_value "$(exec_argument "$binary")") tray"
    try_exec_line="TryExec=$(string_value "$binary")"
    while IFS= read -r line; do
        case $line in
        Exec=*) printf '%s\n' "$exec_line" ;;
        TryExec=*) printf '%s\n' "$try_exec_line" ;;
        *) printf '%s\n' "$line" ;;
        esac
    done <"$menu_entry" >"$menu_entry.new"
    mv "$menu_entry.new" "$menu_entry"
fi

while IFS= read -r -d '' dir; do
    target=$prefix${dir#.}
    if [ ! -d "$target" ]; then
        mkdir -p "$target"
        records+=("$target/")
    fi
done < <(cd "$staged" && find . -mindepth 1 -type d -print0 | sort -z)
while IFS= read -r -d '' file; do
    target=$prefix${file#.}
    # A copy beside the target, then a rename: a running mcp-broker keeps its old file.
    cp -P --preserve=mode,timestamps "$staged/${file#./}" "$target.new-$$"
    mv -f "$target.new-$$" "$target"
    records+=("$target")
done < <(cd "$staged" && find . \( -type f -o -type l \) -print0 | sort -z)

refresh_caches

# ---- start at login: the entry is not in the manifest (the app switches it on and off too),
# uninstall.sh removes it by name; a folder made for it is.

if [ $autostart = off ] && autostart_is_ours; then
    rm -f "$autostart_entry"
elif [ $autostart = on ] || { [ $autostart = keep ] && autostart_is_ours; }; then
    autostart_dir=$(dirname "$autostart_entry")
    [ -d "$autostart_dir" ] || records+=("$autostart_dir/")
    autostart_entry_text "$binary" | write_atomically "$autostart_entry"
    echo "MCP Broker starts at login ($autostart_entry)."
fi

manifest_dir=$(dirname "$manifest")
[ -d "$manifest_dir" ] || { mkdir -p "$manifest_dir" && records+=("$manifest_dir/"); }
printf '%s\n' "${records[@]}" | write_atomically "$manifest"

echo "Installed MCP Broker in $prefix (files listed in $manifest)."
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "Note: $prefix/bin is not on your PATH; add it to run \`mcp-broker\` by name." ;;
esac
if [ "$prefix/share" != "$data_home" ]; then
    echo "Note: the menu entry is in $prefix/share/applications, which your desktop may not read ($data_home is)."
fi
echo "Start it from the application menu (MCP Broker) or with: $binary tray"
