#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the .deb from a build tree with `cpack -G DEB` and checks it: control fields, Depends
# (shlibdeps' libraries plus the run-time ones), contents (nothing but the app, no build paths,
# no tests), the desktop entry, that the extracted binary runs, and that every dependency is
# installed on this machine in a version that satisfies it.
#
#   tests/package/check-deb.sh BUILD_DIR
#
# cpack builds the `all` target first (a no-op after a full build). Prints "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/checks.sh"
build=$(build_tree_argument "$@") || exit 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- build the package ----

if ! cpack -G DEB -B "$work/out" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log" >&2
    fail "cpack -G DEB builds the package"
    finish
fi
mapfile -t debs < <(find "$work/out" -maxdepth 1 -name '*.deb')
expect "cpack makes exactly one .deb" [ "${#debs[@]}" -eq 1 ]
[ "${#debs[@]}" -eq 1 ] || finish
deb=${debs[0]}
field() { dpkg-deb --field "$deb" "$1"; }

# ---- control fields ----

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
expect_eq "Package is mcp-broker" "mcp-broker" "$(field Package)"
expect_eq "Version is the project's, release 1" "$version-1" "$(field Version)"
expect_eq "Architecture is this machine's" "$(dpkg --print-architecture)" "$(field Architecture)"
expect_eq "Section is utils" "utils" "$(field Section)"
expect "Maintainer names a person and an address" grep -qE '^.+ <[^>]+@[^>]+>$' <<<"$(field Maintainer)"
expect "Description has a summary and a long text" \
    test "$(field Description | wc -l)" -ge 2
expect_eq "Description's lines fit in 80 columns" "" "$(field Description | awk 'length > 79')"
expect_eq "the file is named the Debian way" \
    "mcp-broker_${version}-1_$(dpkg --print-architecture).deb" "$(basename "$deb")"

depends=$(field Depends)
dependency_names=$(sed -E 's/[,|]/\n/g' <<<"$depends" | sed -E 's/^ *//; s/[ :(].*//' | sort -u)
for name in libsecret-1-0 libqt6svg6; do
    expect "Depends names $name (loaded at run time)" grep -qx "$name" <<<"$dependency_names"
done
# These come from dpkg-shlibdeps reading the binary: proof that it ran.
for name in libqt6core6 libqt6gui6 libqt6widgets6 libqt6network6 libqt6keychain1 libc6; do
    expect "Depends names $name with a version (from dpkg-shlibdeps)" \
        grep -qE "(^|, )$name \(>= [^)]+\)" <<<"$depends"
done
expect "Recommends a Secret Service provider" \
    grep -q 'gnome-keyring | libkf5wallet-bin' <<<"$(field Recommends)"

# ---- contents ----

dpkg-deb --contents "$deb" >"$work/contents"
# Every regular file must be one of these (tests, headers, static libraries… are not).
allowed='^\./usr/(bin/mcp-broker|share/applications/mcp-broker\.desktop|share/icons/hicolor/[^/]+/apps/mcp-broker\.(svg|png)|share/doc/mcp-broker/[^/]+|share/man/man1/mcp-broker[^/]*)$'
unexpected=$(awk '$1 ~ /^-/ {print $6}' "$work/contents" | grep -Ev "$allowed" || true)
expect_eq "the package holds only the app's files" "" "$unexpected"
for path in ./usr/bin/mcp-broker ./usr/share/applications/mcp-broker.desktop \
    ./usr/share/icons/hicolor/scalable/apps/mcp-broker.svg; do
    expect "the package holds $path" grep -q " $path\$" "$work/contents"
done
expect "the binary is executable by everyone" \
    grep -qE '^-rwxr-xr-x .* \./usr/bin/mcp-broker$' "$work/contents"
expect_eq "every entry belongs to root" "" "$(awk '$2 != "root/root"' "$work/contents")"

root=$work/root
dpkg-deb -x "$deb" "$root"
binary=$root/usr/bin/mcp-broker
expect_eq "no file holds the build tree's path" "" "$(grep -rlF "$build" "$root" || true)"
expect_eq "the binary has no RPATH/RUNPATH" "" \
    "$(readelf -d "$binary" | grep -E 'R(UN)?PATH' || true)"
expect_eq "the binary is stripped" "" "$(readelf -S "$binary" | grep -F .debug_info || true)"

entry=$root/usr/share/applications/mcp-broker.desktop
if command -v desktop-file-validate >/dev/null; then
    expect_eq "desktop-file-validate finds no error or warning" "" \
        "$(desktop-file-validate "$entry" 2>&1 | grep -E 'error|warning' || true)"
else
    fail "desktop-file-validate is installed (package desktop-file-utils)"
fi
expect "the menu entry starts the tray" grep -qx 'Exec=mcp-broker tray' "$entry"
expect "the menu entry's icon is the installed one" grep -qx 'Icon=mcp-broker' "$entry"
expect "the icon is an SVG image" grep -q '<svg' "$root/usr/share/icons/hicolor/scalable/apps/mcp-broker.svg"

# ---- the extracted binary runs against this machine's libraries ----

run_binary() {
    env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" \
        XDG_DATA_HOME="$work/home/data" XDG_STATE_HOME="$work/home/state" \
        timeout 30 "$binary" "$@"
}
mkdir -p "$work/home"
expect "mcp-broker --version exits 0" run_binary --version >/dev/null
expect "mcp-broker --version names version $version" grep -qF "$version" <<<"$(run_binary --version 2>&1)"
expect "mcp-broker --help exits 0" run_binary --help >/dev/null
expect "mcp-broker --help lists the tray command" grep -qw tray <<<"$(run_binary --help 2>&1)"
missing_libraries=$(ldd "$binary" | grep 'not found' || true)
expect_eq "ldd finds every library" "" "$missing_libraries"

# ---- every Depends is installed here in a version that satisfies it ----

# One "a (>= 1) | b" group: true when one alternative is installed and new enough.
# shellcheck disable=SC2317 # called through expect
satisfied() {
    local alternative name relation wanted installed
    while IFS= read -r alternative; do
        read -r name relation wanted <<<"$(sed -E 's/^ *([^ :(]+)(:[a-z0-9]+)? *(\(([<>=]+) *([^)]+)\))? *$/\1 \4 \5/' <<<"$alternative")"
        installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null) || continue
        [[ $installed == ii* ]] || continue
        [ -z "$relation" ] && return 0
        dpkg --compare-versions "${installed##* }" "$relation" "$wanted" && return 0
    done < <(tr '|' '\n' <<<"$1")
    return 1
}
while IFS= read -r group; do
    expect "dependency installed here: $group" satisfied "$group"
done < <(tr ',' '\n' <<<"$depends" | sed 's/^ *//')

finish
