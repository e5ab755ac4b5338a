# shellcheck shell=bash
# Sourced by the package checks: named checks, a failure report for each, and the closing line
# "N passed, N failed" (exit status 1 when any failed).
passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "PASS: $1"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
}

# expect DESCRIPTION COMMAND...: passes when the command succeeds.
expect() {
    local description=$1
    shift
    if "$@"; then pass "$description"; else fail "$description"; fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1"
        case $2$3 in
        *$'\n'*) diff -u --label expected --label actual <(printf '%s\n' "$2") <(printf '%s\n' "$3") ;;
        *) printf '  expected: %s\n  actual:   %s\n' "$2" "$3" ;;
        esac
    fi
}

# The one argument, a configured build tree of MCP Broker, as an absolute path.
build_tree_argument() {
    if [ $# -ne 1 ] || [ ! -f "$1/CPackConfig.cmake" ]; then
        echo "usage: $0 BUILD_DIR (a configured build tree of MCP Broker)" >&2
        return 2
    fi
    (cd "$1" && pwd)
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
