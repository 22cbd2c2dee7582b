# One stalled session never stalls another (issue 20): a file system that does not answer
# (fuse-stall, a FUSE server of our own that holds every lookup of "prog", or the
# supervisor's reads of "exe" once it runs) stalls the resolution, or the check after the
# answer, of an exec of one session; the daemon's other workers go on deciding for the
# other sessions, and the stuck exec is denied after resolve_timeout, recorded "resolution
# timed out". Sourced by run.sh after daemon-lib.sh.

STALL=$T/stall
mkdir -p "$STALL/mnt"
cat >"$STALL/policy.ini" <<EOF
[execguard]
log_file = $STALL/audit.json
workers = 2
resolve_timeout = 1
[block]
path = $DF
EOF
chmod 644 "$STALL/policy.ini"
: >"$STALL/audit.json"

# stall_lookups: the held lookups fuse-stall has said, 0 if none.
stall_lookups() {
        sed -n 's/^held //p' "$STALL/fuse.out" 2>/dev/null | tail -n 1 | grep . || echo 0
}

# stall_wait N: up to 10 s for fuse-stall to hold N lookups.
stall_wait() {
        for _ in $(seq 500); do [ "$(stall_lookups)" -ge "$1" ] && return 0; sleep 0.02; done
        return 1
}

stall_stop() {
        [ -n "${FUSE_PID:-}" ] || return 0
        kill -USR1 "$FUSE_PID" 2>/dev/null # first release what is held, then unmount
        sleep 0.2
        kill -TERM "$FUSE_PID" 2>/dev/null
        wait "$FUSE_PID" 2>/dev/null
        FUSE_PID=""
        umount -l "$STALL/mnt" 2>/dev/null
}

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v python3 >/dev/null; then
        begin "stall: a stalled file system delays no other session"
        skip "need root, /dev/fuse and python3"
        return 0 2>/dev/null || exit 0
fi

start_notify_sink
"$H/fuse-stall" "$STALL/mnt" >"$STALL/fuse.out" 2>&1 &
FUSE_PID=$!
wait_for "$STALL/fuse.out" ready || true
# The file system itself first, unsupervised: a lookup of prog is held, then released.
begin "stall: fuse-stall holds a lookup until released (unsupervised)"
stat "$STALL/mnt/prog" >/dev/null 2>&1 &
STAT_PID=$!
if stall_wait 1 && kill -0 "$STAT_PID" 2>/dev/null; then
        kill -USR1 "$FUSE_PID"
        wait "$STAT_PID"
        pass
else
        fail "$(cat "$STALL/fuse.out")"
fi
stall_stop

"$H/fuse-stall" "$STALL/mnt" >"$STALL/fuse.out" 2>&1 &
FUSE_PID=$!
wait_for "$STALL/fuse.out" ready || true

# What this daemon logs: the lines after the earlier daemons'.
STALL_FROM=$(($(wc -l <"$DLOG" 2>/dev/null || echo 0) + 1))
stall_log() { tail -n "+$STALL_FROM" "$DLOG"; }

begin "stall: the daemon starts with 2 workers"
if start_daemon "$STALL/policy.ini"; then
        stall_log | grep -q "2 workers" && pass || fail "$(tail -n 3 "$DLOG")"
else
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
fi

# Session A execs the file whose lookup stalls; its decision is stuck in the file system.
timeout --kill-after=5 60 "$EG" run --socket "$SOCK" -- sh -c "'$STALL/mnt/prog'; echo rc=\$?" \
        >"$STALL/a.out" 2>"$STALL/a.err" </dev/null &
A_PID=$!

begin "stall: another session runs while one session's exec is stuck in its file system"
if stall_wait 1; then
        dv sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do /bin/true || exit 1; done; df'
        # Its 21 execs decided while the lookup is still held: nothing released it.
        held=$(stall_lookups)
        [ "$RC" = 126 ] && has "blocked $DF" "$ERR" && [ "$held" -ge 1 ] && ! grep -q released "$STALL/fuse.out" &&
                pass || fail "rc=$RC held=$held $(cat "$ERR")"
else
        fail "the lookup was never held: $(cat "$STALL/fuse.out")"
fi

begin "stall: the stuck exec is denied after resolve_timeout, recorded 'resolution timed out'"
wait "$A_PID"
if has "rc=126" "$STALL/a.out" && [ "$(stall_lookups)" -ge 1 ] &&
        json_check "$STALL/audit.json" "any(get(r, 'execguard.note') == 'resolution timed out' and
                get(r, 'event.action') == 'exec-denied' and
                get(r, 'execguard.requested') == '$STALL/mnt/prog' for r in recs)"; then
        pass
else
        fail "$(cat "$STALL/a.out" "$STALL/a.err"; tail -n 3 "$DLOG")"
fi

begin "stall: the daemon said why, and replaced the stuck worker"
stall_log | grep -q "not decided within resolve_timeout (1 s): denied; its worker is stuck, and replaced" && pass ||
        fail "$(tail -n 5 "$DLOG")"

# Four more stuck execs of one session, then its fifth is denied at once: a stalled
# session takes at most that many workers.
begin "stall: a session with 4 stuck execs has its next exec denied at once"
dv sh -c "for i in 1 2 3 4; do '$STALL/mnt/prog'; done; '$STALL/mnt/prog'; echo rc=\$?; /bin/true && echo true-ran"
if has "rc=126" "$OUT" &&
        json_check "$STALL/audit.json" "any(get(r, 'execguard.note') == 'resolution timed out: 4 earlier execs of this session are still stuck' for r in recs)"; then
        pass
else
        fail "$(cat "$OUT" "$ERR")"
fi

begin "stall: released, the stuck workers return, and every session ends with its decisions counted"
kill -USR1 "$FUSE_PID"
ok=1
for _ in $(seq 250); do
        [ "$(stall_log | grep -c 'A worker stuck past resolve_timeout has returned')" -ge 5 ] && break
        sleep 0.02
done
[ "$(stall_log | grep -c 'A worker stuck past resolve_timeout has returned')" -ge 5 ] || ok=0
# The three sessions ended, the two held by stuck decisions among them.
for _ in $(seq 150); do [ "$(stall_log | grep -c 'ended after')" -ge 3 ] && break; sleep 0.02; done
[ "$(stall_log | grep -c 'ended after')" -ge 3 ] || ok=0
kill -0 "$DAEMON_PID" 2>/dev/null || ok=0
dv /bin/true
[ "$ok" = 1 ] && [ "$RC" = 0 ] && pass || fail "rc=$RC $(tail -n 8 "$DLOG")"

# The check after the answer. A program judged by its content (its size is a blocked
# file's) is hashed again at its exec stop, by the worker that approved it and follows it;
# here its file system answers the supervisor until the exec has opened the file, then
# stalls it. That worker alone waits: the other sessions go on, and the exec is killed
# after resolve_timeout, before it runs.
stall_stop
EXE_SRC=$STALL/exe.src
cp /bin/true "$EXE_SRC"
truncate -s "$(stat -c %s "$DF")" "$EXE_SRC"
"$H/fuse-stall" "$STALL/mnt" --exe "$EXE_SRC" --hold-pid "$DAEMON_PID" >"$STALL/fuse.out" 2>&1 &
FUSE_PID=$!
wait_for "$STALL/fuse.out" ready || true

begin "stall: exe, a program of df's size on the stalling file system, runs (unsupervised)"
if [ "$(stat -c %s "$STALL/mnt/exe")" = "$(stat -c %s "$DF")" ] && "$STALL/mnt/exe" && [ "$(stall_lookups)" = 0 ]; then
        pass
else
        fail "$(cat "$STALL/fuse.out")"
fi

RETURNED_BEFORE=$(stall_log | grep -c 'A worker stuck past resolve_timeout has returned')
timeout --kill-after=5 60 "$EG" run --socket "$SOCK" -- sh -c "'$STALL/mnt/exe'; echo rc=\$?" \
        >"$STALL/v.out" 2>"$STALL/v.err" </dev/null &
V_PID=$!

begin "stall: another session runs while one session's exec is held in the check of what runs"
if stall_wait 1; then
        started=$(date +%s%N)
        dv sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do /bin/true || exit 1; done; df'
        took_ms=$((($(date +%s%N) - started) / 1000000))
        held=$(stall_lookups)
        [ "$RC" = 126 ] && has "blocked $DF" "$ERR" && [ "$held" -ge 1 ] && kill -0 "$V_PID" 2>/dev/null &&
                pass || fail "rc=$RC held=$held took ${took_ms} ms $(cat "$ERR")"
        echo "   (21 execs of another session in ${took_ms} ms while the check was held)"
else
        fail "the check was never held: $(cat "$STALL/fuse.out"; tail -n 3 "$DLOG")"
fi

# Killed, it is dead at once; it stays a zombie of its tracer, the worker, which reaps it
# (and its parent sees it end) once the file system answers that worker.
begin "stall: the exec whose check is stuck is killed after resolve_timeout, recorded 'resolution timed out'"
KILLED_LINE="the exec of '$STALL/mnt/exe' by [0-9]* was not verified within resolve_timeout (1 s): killed"
for _ in $(seq 250); do stall_log | grep -q "$KILLED_LINE" && break; sleep 0.02; done
V_TASK=$(stall_log | grep -o "$KILLED_LINE" | sed -n 's/.* by \([0-9]*\) was.*/\1/p' | tail -n 1)
V_STATE=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/${V_TASK:-0}/status" 2>/dev/null)
if [ -n "$V_TASK" ] && [ "$V_STATE" = Z ] &&
        json_check "$STALL/audit.json" "any(get(r, 'execguard.note') == 'resolution timed out: its exec was not verified in time; killed' and
                get(r, 'event.action') == 'exec-killed' and
                get(r, 'execguard.requested') == '$STALL/mnt/exe' for r in recs)"; then
        pass
else
        fail "task ${V_TASK:-?} state ${V_STATE:-?}; $(tail -n 3 "$DLOG")"
fi

begin "stall: released, the worker that followed it returns, and the session sees its exec killed"
kill -USR1 "$FUSE_PID"
for _ in $(seq 250); do
        [ "$(stall_log | grep -c 'A worker stuck past resolve_timeout has returned')" -gt "$RETURNED_BEFORE" ] && break
        sleep 0.02
done
wait "$V_PID"
dv /bin/true
[ "$(stall_log | grep -c 'A worker stuck past resolve_timeout has returned')" -gt "$RETURNED_BEFORE" ] &&
        has "rc=137" "$STALL/v.out" && [ "$RC" = 0 ] && kill -0 "$DAEMON_PID" && pass ||
        fail "rc=$RC out: $(cat "$STALL/v.out") $(tail -n 5 "$DLOG")"

stop_daemon
stall_stop
kill "$NOTIFY_SINK" 2>/dev/null
