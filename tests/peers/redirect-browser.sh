#!/usr/bin/env bash
# A "web browser" for tests: point $BROWSER at this script and the broker's sign-in completes
# by itself against an authorization server that redirects at once (the conformance suite's,
# whose authorization endpoint has no login page).
#
#   redirect-browser.sh URL
#
# GETs URL and follows redirects (at most 10) until the last answer, normally the broker's
# loopback callback on 127.0.0.1, which must answer 2xx. Exit 0 when it did; non-zero (curl's
# code, or 2 for a usage error) otherwise. The broker starts it detached, so nobody reads its
# exit code: when $MCPB_BROWSER_LOG is set, one line per launch is appended there
# ("<UTC time> <pid> <scheme://host:port/path> -> <outcome>") for tests to count launches.
# Logs only to stderr and never the query of a URL (it holds state and codes), only
# scheme://host:port/path.
set -uo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "redirect-browser: usage: redirect-browser.sh URL" >&2
  exit 2
fi
url="$1"

# scheme://host:port/path of a URL: no userinfo, query or fragment.
loggable() {
  local u="${1%%[?#]*}"
  if [[ "$u" =~ ^([A-Za-z][A-Za-z0-9+.-]*://)([^/@]*@)?(.*)$ ]]; then
    u="${BASH_REMATCH[1]}${BASH_REMATCH[3]}"
  fi
  printf '%s' "$u"
}

note() {
  local outcome="$1"
  echo "redirect-browser: $(loggable "$url") -> $outcome" >&2
  if [[ -n "${MCPB_BROWSER_LOG:-}" ]]; then
    printf '%s %s %s -> %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$$" "$(loggable "$url")" \
      "$outcome" >> "$MCPB_BROWSER_LOG"
  fi
}

# -w prints only the last URL (without its query, below) and status; the body is discarded.
# No proxy: the flow is all on this machine, and a proxy would not reach its loopback.
result="$(curl -sS -L --max-redirs 10 --max-time 20 --noproxy '*' -o /dev/null \
  -w '%{http_code} %{url_effective}' -- "$url" 2> >(sed -E 's/\?[^ ]*//g' >&2))"
rc=$?
status="${result%% *}"
last="$(loggable "${result#* }")"
if [[ $rc -ne 0 ]]; then
  note "failed (curl exit $rc, last ${last:-none})"
  exit "$rc"
fi
if [[ ! "$status" =~ ^2 ]]; then
  note "HTTP $status at $last"
  exit 22
fi
note "HTTP $status at $last"
exit 0
