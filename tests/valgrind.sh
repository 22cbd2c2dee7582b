#!/usr/bin/env bash
# The host daemon under valgrind's memcheck, through many sessions:
#   tests/valgrind.sh PATH/TO/execguard PATH/TO/helpers
# VALGRIND_SESSIONS (default 1000) sessions, VALGRIND_JOBS (default 4) at a time, each a
# shell that runs allowed programs and tries blocked ones, every outcome checked. Then
# SIGTERM: the daemon must stop cleanly with no memcheck error, no leaked block (definite,
# indirect or possible), and no fd of its own left open. Closes with "N passed, N failed".
# Needs root (the daemon does); a private mount namespace keeps its audit records off the
# host's journal.
# VG_KEEP=1 keeps its working directory (valgrind.log, the daemon's stderr) for a look.
set -u

EG=${1:?usage: valgrind.sh EXECGUARD HELPERS}
H=${2:?usage: valgrind.sh EXECGUARD HELPERS}
SESSIONS=${VALGRIND_SESSIONS:-1000}
JOBS=${VALGRIND_JOBS:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/e2e/lib.sh"

begin "valgrind: prerequisites"
if [ "$(id -u)" != 0 ]; then skip "the daemon needs root"; summary; exit; fi
if ! command -v valgrind >/dev/null || ! command -v python3 >/dev/null; then
        skip "needs valgrind and python3"
        summary
        exit
fi
if [ -z "${EXECGUARD_VG_NS:-}" ]; then
        exec env EXECGUARD_VG_NS=1 unshare --mount --propagation private "$0" "$@"
fi

T=$(mktemp -d /tmp/execguard-vg.XXXXXX)
chmod 755 "$T"
VG_PID="" SINK_PID="" NOTIFY_PID=""
cleanup() {
        local p
        exec 2>/dev/null # not the shell's word on the helpers it kills
        for p in $VG_PID $SINK_PID $NOTIFY_PID; do kill -KILL "$p" 2>/dev/null; done
        [ -n "${VG_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

# Audit records: to a sink of ours in place of /dev/log (journald hidden), and to a JSON
# file, so that both writers run under memcheck.
if [ -d /run/systemd/journal ]; then
        mount -t tmpfs -o mode=755 tmpfs /run/systemd/journal
fi
if [ -e /dev/log ] || [ -L /dev/log ]; then
        target=$(readlink -f /dev/log)
        [ -e "$target" ] || : >"$target"
        "$H/syslog-sink" "$T/log.sock" "$T/syslog.txt" &
        SINK_PID=$!
        for _ in $(seq 100); do [ -S "$T/log.sock" ] && break; sleep 0.02; done
        mount --bind "$T/log.sock" /dev/log
fi

# Fixtures: a blocked program (a copy of touch: it would leave a file), a symlink to it.
mkdir -p "$T/bin" "$T/out" "$T/run"
chmod 755 "$T/run"
cp "$(readlink -f "$(command -v touch)")" "$T/bin/blocked"
ln -s blocked "$T/bin/link"
cat >"$T/policy.ini" <<EOF
[execguard]
mode = enforce
log_file = $T/audit.json
log_allowed = yes
[block]
path = $T/bin/blocked
EOF
chmod 644 "$T/policy.ini"
SOCK=$T/run/execguard.sock

python3 "$HERE/notify-sink.py" "$T/notify.sock" "$T/notify.txt" &
NOTIFY_PID=$!
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.02; done

VGLOG=$T/valgrind.log
begin "valgrind: the daemon starts under memcheck"
NOTIFY_SOCKET=$T/notify.sock valgrind --tool=memcheck --leak-check=full \
        --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
        --track-fds=yes --error-exitcode=99 --log-file="$VGLOG" \
        "$EG" daemon -c "$T/policy.ini" --socket "$SOCK" 2>"$T/daemon.err" &
VG_PID=$!
for _ in $(seq 1500); do grep -q '^READY=1' "$T/notify.txt" 2>/dev/null && break; sleep 0.02; done
if grep -q '^READY=1' "$T/notify.txt"; then pass; else
        fail "no READY=1 within 30 s: $(tail -n 5 "$T/daemon.err" "$VGLOG")"
        summary
        exit
fi

# One session: 6 execs, each outcome checked — sh, then allowed (true, env, printf) and
# blocked (by name, through a symlink): refused with 126, and the file it would have made
# is not there. Exit 0 only if all held.
SESSION_SCRIPT='
/bin/true || exit 11
[ "$(/usr/bin/env printf ok)" = ok ] || exit 12
"$1/blocked" "$2.a" 2>/dev/null; [ $? = 126 ] || exit 13
"$1/link" "$2.b" 2>/dev/null; [ $? = 126 ] || exit 14
[ ! -e "$2.a" ] && [ ! -e "$2.b" ] || exit 15
exit 0'

worker() { # JOB-NUMBER: sessions JOB-NUMBER, JOB-NUMBER + JOBS, ...; counts to $T/job.N
        local j=$1 i rc ok=0 bad=0
        for ((i = j; i < SESSIONS; i += JOBS)); do
                timeout --kill-after=5 300 "$EG" run --socket "$SOCK" -- sh -c "$SESSION_SCRIPT" sh \
                        "$T/bin" "$T/out/ran.$i" </dev/null >"$T/out/session.$i" 2>&1
                rc=$?
                if [ "$rc" = 0 ] && [ ! -e "$T/out/ran.$i.a" ] && [ ! -e "$T/out/ran.$i.b" ]; then
                        ok=$((ok + 1))
                        rm -f "$T/out/session.$i"
                else
                        bad=$((bad + 1))
                        echo "rc=$rc" >>"$T/out/session.$i"
                fi
        done
        echo "$ok $bad" >"$T/job.$j"
}

begin "valgrind: $SESSIONS sessions ($JOBS at a time), 6 execs each, every outcome as the policy says"
start=$(date +%s)
for ((j = 0; j < JOBS; j++)); do worker "$j" & done
wait $(jobs -p | grep -vx -e "$VG_PID" -e "$SINK_PID" -e "$NOTIFY_PID")
took=$(($(date +%s) - start))
ok=0 bad=0
for ((j = 0; j < JOBS; j++)); do
        read -r o b <"$T/job.$j" || { o=0 b=1; }
        ok=$((ok + o)) bad=$((bad + b))
done
if [ "$bad" = 0 ] && [ "$ok" = "$SESSIONS" ]; then
        pass
else
        fail "$ok sessions right, $bad wrong; the first: $(cat "$(ls "$T"/out/session.* | head -n 1)" 2>/dev/null)"
fi
printf '     %d sessions, %d execs (%d allowed, %d refused) in %d s\n' "$ok" $((ok * 6)) $((ok * 4)) $((ok * 2)) "$took"

begin "valgrind: the audit trail has a record of each of those execs"
records=$(grep -c . "$T/audit.json" 2>/dev/null)
[ "${records:-0}" -ge $((SESSIONS * 6)) ] && pass || fail "${records:-0} records, want >= $((SESSIONS * 6))"

begin "valgrind: SIGTERM stops the daemon, with no memcheck error and no leak"
kill -TERM "$VG_PID"
wait "$VG_PID"
rc=$?
VG_PID=""
if [ "$rc" != 0 ]; then
        fail "valgrind exit status $rc (99: memcheck errors or leaks); $(tail -n 3 "$T/daemon.err")"
        cat "$VGLOG"
elif ! grep -q 'ERROR SUMMARY: 0 errors from 0 contexts' "$VGLOG"; then
        fail "memcheck errors"
        cat "$VGLOG"
elif ! grep -Eq 'All heap blocks were freed -- no leaks are possible|definitely lost: 0 bytes' "$VGLOG"; then
        fail "leaks"
        cat "$VGLOG"
else
        pass
fi
grep -E 'ERROR SUMMARY|in use at exit|total heap usage|All heap blocks were freed|definitely lost|indirectly lost|possibly lost|FILE DESCRIPTORS' "$VGLOG" |
        sed 's/^==[0-9]*== */     /'

# valgrind must have modelled everything the daemon did: a syscall or ioctl it does not know
# is a blind spot of memcheck. seccomp() (317, SECCOMP_GET_NOTIF_SIZES) is the one expected:
# valgrind answers ENOSYS and notify_alloc() keeps the header's sizes (see notify.c).
begin "valgrind: no syscall or ioctl memcheck did not model"
unmodelled=$(grep -E 'unhandled|noted but unhandled ioctl' "$VGLOG" | grep -v 'unhandled amd64-linux syscall: 317$')
[ -z "$unmodelled" ] && pass || fail "$unmodelled"

# An fd the daemon opened and did not close by the end is a leak too (--track-fds).
begin "valgrind: no fd of the daemon's own left open at exit"
leaked_fds=$(awk '/Open (file descriptor|AF_UNIX socket)/ { fd = $0; getline; if ($0 !~ /inherited from parent/) print fd }' "$VGLOG")
[ -z "$leaked_fds" ] && pass || fail "$leaked_fds"

summary
