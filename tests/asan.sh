#!/usr/bin/env bash
# The suite against execguard built with -fsanitize=address,undefined (make check-asan):
#   tests/asan.sh BUILD-ASAN-DIR HELPERS-DIR [quick]
# Runs the sanitized unit tests and the whole end-to-end suite (quick: the unit tests and
# a few dozen supervised sessions, for make check), then fails if any sanitizer wrote a
# report. Exit statuses alone prove nothing here: the supervisor, the daemon and the
# keeper send their stdio to /dev/null, and many cases never look at how a background
# process ended. So every report goes to a file (log_path) in a directory of its own, made
# fresh for this run, and "zero reports" means that directory is empty.
set -u

B=${1:?usage: asan.sh BUILD-ASAN-DIR HELPERS-DIR [quick]}
H=${2:?usage: asan.sh BUILD-ASAN-DIR HELPERS-DIR [quick]}
MODE=${3:-full}
HERE=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)

# Writable by every uid the suite runs execguard as (root, nobody), sticky.
REPORTS=$(mktemp -d /tmp/execguard-asan.XXXXXX)
chmod 1777 "$REPORTS"

# log_path: a file per process, named after the program and pid. LeakSanitizer runs at
# every exit (and at the supervisor's and keeper's _exit(): see exit_forked()).
# -fno-sanitize-recover=all makes the first UBSan finding fatal, as halt_on_error does
# for ASan.
export ASAN_OPTIONS="log_path=$REPORTS/asan:log_exe_name=1:detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:log_exe_name=1:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="log_path=$REPORTS/lsan:log_exe_name=1"
# GCC's UBSan ignores log_path beside ASan: tests/sanitizer-log.c, linked into this build,
# gives it this one.
export EXECGUARD_UBSAN_LOG_PATH=$REPORTS/ubsan

status=0
"$B/unit-tests" || status=1

if [ "$MODE" = quick ]; then
        # A few dozen sessions of the standalone supervisor: allowed and blocked execs,
        # symlinks, the after-exec verification, the audit record, the supervisor's end.
        T=$(mktemp -d /tmp/execguard-asan-quick.XXXXXX)
        chmod 755 "$T"
        cp "$(readlink -f "$(command -v touch)")" "$T/blocked"
        ln -s blocked "$T/link"
        printf '[execguard]\nlog_file = %s\nlog_allowed = yes\n[block]\npath = %s\n' \
                "$T/audit.json" "$T/blocked" >"$T/policy.ini"
        ok=0 bad=0
        for i in $(seq 30); do
                "$B/execguard" run -c "$T/policy.ini" -- sh -c '
                        /bin/true || exit 11
                        [ "$(/usr/bin/env printf ok)" = ok ] || exit 12
                        "$1/blocked" "$1/ran" 2>/dev/null; [ $? = 126 ] || exit 13
                        "$1/link" "$1/ran" 2>/dev/null; [ $? = 126 ] || exit 14
                        [ ! -e "$1/ran" ]' sh "$T" </dev/null >/dev/null 2>&1 && ok=$((ok + 1)) || bad=$((bad + 1))
        done
        "$B/execguard" check -c "$T/policy.ini" /usr/bin/true "$T/link" >/dev/null 2>&1
        [ $? = 1 ] || bad=$((bad + 1))
        rm -rf "$T"
        printf '%d supervised sessions right, %d wrong\n' "$ok" "$bad"
        [ "$bad" = 0 ] || status=1
else
        # The suite's checks of RSS are for the normal build: ASan's quarantine keeps freed
        # memory (up to 256 MiB) on purpose. Here LeakSanitizer is the check.
        EXECGUARD_E2E_SANITIZED=1 "$HERE/e2e/run.sh" "$(cd "$B" && pwd)/execguard" "$(cd "$H" && pwd)" || status=1
fi

# Processes may still be ending (a keeper, a supervisor whose last tracee just went):
# their reports come at their exit.
sleep 1
reports=$(find "$REPORTS" -type f | sort)
n=$(printf '%s' "$reports" | grep -c .)
for f in $reports; do
        printf '\n==== sanitizer report %s ====\n' "$f"
        cat "$f"
done
printf '\nsanitizer reports: %d (in %s); %s in %d s\n' "$n" "$REPORTS" "$MODE" $(($(date +%s) - start))
if [ "$n" = 0 ]; then
        rmdir "$REPORTS"
else
        status=1
fi
exit $status
