#!/usr/bin/env bash
# Gets the benchmarks ready to run; idempotent (a rerun needs no network and only rebuilds what
# changed):
#   - valgrind (Debian package) for bench/callgrind.mjs, with apt-get if it is missing;
#   - the test dependencies and pinned peers (installer/bootstrap.sh --test: gnome-keyring, Xvfb,
#     trayer, Node, and npm ci in tests/peers when its lockfile changed: mcp-remote, Node 22);
#   - the broker as it ships (RelWithDebInfo) in build-bench/: `cmake --preset default` there.
#
#   bench/setup.sh [--no-build]
# Environment: MCPB_BENCH_JOBS (build jobs; default: ninja's own).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo/build-bench"
say() { printf 'bench/setup: %s\n' "$*"; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ! command -v valgrind >/dev/null; then
    say "installing valgrind"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind
fi

"$repo/installer/bootstrap.sh" --test

[[ "${1:-}" == --no-build ]] && exit 0

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    say "configuring $build (RelWithDebInfo)"
    (cd "$repo" && cmake --preset default -B "$build" "${launcher[@]}" -DBUILD_TESTING=ON)
fi
say "building mcp-broker in $build"
cmake --build "$build" --target mcp-broker ${MCPB_BENCH_JOBS:+-j "$MCPB_BENCH_JOBS"}
