# Shared by the end-to-end tests: counting, skipping, assertions.
# A test that needs something the machine lacks is skipped, unless EXECGUARD_MUST_WORK is
# set (CI sets it): then a skip is a failure, so nothing is silently not tested.

PASSED=0
FAILED=0
SKIPPED=0
CURRENT=""

begin() {
        CURRENT=$1
}

pass() {
        PASSED=$((PASSED + 1))
        printf 'ok   %s\n' "$CURRENT"
}

fail() {
        FAILED=$((FAILED + 1))
        printf 'FAIL %s: %s\n' "$CURRENT" "$*"
}

skip() {
        if [ -n "${EXECGUARD_MUST_WORK:-}" ]; then
                fail "skipped, but EXECGUARD_MUST_WORK is set: $*"
        else
                SKIPPED=$((SKIPPED + 1))
                printf 'skip %s: %s\n' "$CURRENT" "$*"
        fi
}

# not_applicable WHY: the machine has no such attack surface (not a skip: there is nothing
# to test, and the control run that proved it is the test).
not_applicable() {
        PASSED=$((PASSED + 1))
        printf 'ok   %s: not applicable: %s\n' "$CURRENT" "$*"
}

# check NAME CONDITION-COMMAND... : pass if the command succeeds.
check() {
        local name=$1
        shift
        begin "$name"
        if "$@"; then pass; else fail "$*"; fi
}

summary() {
        printf '\n%d passed, %d failed' "$PASSED" "$FAILED"
        [ "$SKIPPED" -eq 0 ] || printf ', %d skipped' "$SKIPPED"
        printf '\n'
        [ "$FAILED" -eq 0 ]
}
