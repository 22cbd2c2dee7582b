# End-to-end tests of the limits against abuse (execguard.ini(5), LIMITS), sourced by run.sh
# after daemon.sh (whose start_daemon, stop_daemon, dv, json_check and $SOCK it uses).
# Beyond a limit an exec is refused and recorded, never half-judged; a session is refused.

L=$T/limits
mkdir -p "$L"
chmod 755 "$L"
LJSON=$L/audit.json

limits_policy() { # FILE MODE SETTING...
        local file=$1 mode=$2
        shift 2
        {
                printf '[execguard]\nmode = %s\nlog_file = %s\nlog_allowed = yes\n' "$mode" "$LJSON"
                for setting in "$@"; do printf '%s\n' "$setting"; done
                printf '\n[block]\npath = %s\npath = %s\n' "$DF" "$T/bin/blocked"
        } >"$file"
}
limits_policy "$L/argv.ini" enforce "max_args = 5" "max_argv_bytes = 300" "max_path = 64"
limits_policy "$L/argv-audit.ini" audit "max_args = 5"

# lv POLICY ARGS...: a command supervised standalone under POLICY.
lv() {
        local policy=$1
        shift
        timeout --kill-after=5 60 "$EG" run -c "$policy" -- "$@" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
}

begin "limits: arguments within max_args and max_argv_bytes run"
: >"$LJSON"
lv "$L/argv.ini" "$T/bin/allowed" /dev/null b c d
[ "$RC" = 0 ] && pass || fail "rc=$RC $(cat "$ERR")"

begin "limits: one argument more than max_args is refused, told and recorded"
: >"$LJSON"
rm -f "$T/work/marker"
lv "$L/argv.ini" sh -c "cd $T/work && exec $T/bin/blocked marker b c d e"
if [ "$RC" = 126 ] && has "execguard: refused $T/bin/blocked (more arguments than max_args = 5)" "$ERR" &&
        json_check "$LJSON" "any(get(r, 'event.action') == 'exec-denied' and
                                 get(r, 'execguard.note') == 'more arguments than max_args = 5' and
                                 get(r, 'execguard.requested') == '$T/bin/blocked' for r in recs)" &&
        [ ! -e "$T/work/marker" ]; then
        pass
else
        fail "rc=$RC $(cat "$ERR") $(cat "$LJSON")"
fi

begin "limits: arguments longer than max_argv_bytes are refused"
: >"$LJSON"
lv "$L/argv.ini" sh -c "exec $T/bin/allowed /dev/null $(head -c 400 /dev/zero | tr '\0' x)"
[ "$RC" = 126 ] && has "(arguments longer than max_argv_bytes = 300)" "$ERR" &&
        json_check "$LJSON" "any(get(r, 'execguard.note') == 'arguments longer than max_argv_bytes = 300'
                                 for r in recs)" && pass || fail "rc=$RC $(cat "$ERR")"

begin "limits: a path longer than max_path is refused, one within it runs"
: >"$LJSON"
LONG=/$(printf './%.0s' $(seq 40))$T/bin/allowed
lv "$L/argv.ini" sh -c "$LONG /dev/null; echo long=\$?; $T/bin/allowed /dev/null; echo short=\$?"
has "long=126" "$OUT" && has "short=0" "$OUT" && has "(path longer than max_path = 64 bytes)" "$ERR" &&
        json_check "$LJSON" "any(get(r, 'execguard.note') == 'path longer than max_path = 64 bytes' for r in recs)" &&
        pass || fail "$(cat "$OUT") $(cat "$ERR")"

begin "limits: a blocked program stays blocked within the limits"
rm -f "$T/work/marker"
lv "$L/argv.ini" sh -c "cd $T/work && $T/bin/blocked marker; $DF >/dev/null; echo rc=\$?"
has "rc=126" "$OUT" && [ ! -e "$T/work/marker" ] && pass || fail "$(cat "$OUT") $(cat "$ERR")"

begin "limits: in audit mode an exec beyond a limit runs and is recorded as audited"
: >"$LJSON"
lv "$L/argv-audit.ini" "$T/bin/allowed" /dev/null b c d e f
[ "$RC" = 0 ] && json_check "$LJSON" "any(get(r, 'event.action') == 'exec-audited' and
                                         get(r, 'execguard.note') == 'more arguments than max_args = 5'
                                         for r in recs)" && pass || fail "rc=$RC $(cat "$LJSON")"

begin "limits: a bad limit is a policy error naming its line"
printf '[execguard]\nmax_args = lots\n' >"$L/bad.ini"
lv "$L/bad.ini" true
[ "$RC" = 2 ] && has "$L/bad.ini:2: invalid max_args 'lots'" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"

# max_pending_per_user: execs approved and still being verified by ptrace (the kernel engine
# holds none in the supervisor). With a limit of 1, execs made at once by many processes of
# one user find the one before them in flight.
begin "limits: max_pending_per_user refuses execs beyond it, and records why"
limits_policy "$L/pending.ini" enforce "max_pending_per_user = 1" "verifier = ptrace"
: >"$LJSON"
lv "$L/pending.ini" sh -c "for i in \$(seq 40); do $T/bin/allowed /dev/null & done; wait"
if json_check "$LJSON" "any(get(r, 'execguard.note') == '1 execs of uid 0 being verified: max_pending_per_user'
                            for r in recs)" && has "max_pending_per_user)" "$ERR"; then
        pass
else
        fail "no refusal among 40 concurrent execs: $(head -c 600 "$ERR")"
fi

begin "limits: with the default max_pending_per_user the same execs all run"
limits_policy "$L/pending-default.ini" enforce
: >"$LJSON"
lv "$L/pending-default.ini" sh -c "for i in \$(seq 40); do $T/bin/allowed /dev/null & done; wait"
! has "max_pending_per_user" "$ERR" &&
        json_check "$LJSON" "sum(get(r, 'event.action') == 'exec-allowed' for r in recs) >= 40" && pass ||
        fail "$(head -c 600 "$ERR")"

# max_sessions_per_user: counted by the daemon, per uid from SO_PEERCRED.
limits_policy "$L/sessions.ini" enforce "max_sessions_per_user = 2"
begin "limits: max_sessions_per_user refuses a user's third session, not another user's"
STARTED=$(cat "$DLOG" 2>/dev/null | grep -c 'supervising for uid 65534')
rm -f "$D/notify.sock" # daemon.sh's sink is gone
start_notify_sink
if start_daemon "$L/sessions.ini"; then
        as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
        : >"$L/hold"
        HOLD="while [ -e $L/hold ]; do sleep 0.1; done"
        as_nobody timeout 120 "$EG" run --socket "$SOCK" -- sh -c "$HOLD" 2>/dev/null &
        H1=$!
        as_nobody timeout 120 "$EG" run --socket "$SOCK" -- sh -c "$HOLD" 2>/dev/null &
        H2=$!
        for _ in $(seq 250); do
                [ "$(grep -c 'supervising for uid 65534' "$DLOG")" -ge $((STARTED + 2)) ] && break
                sleep 0.02
        done
        rm -f "$T/work/marker"
        timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
                "$EG" run --socket "$SOCK" -- sh -c "cd $T/work && exec $T/bin/allowed marker" >"$OUT" 2>"$ERR"
        NOBODY_RC=$?
        cp "$ERR" "$L/refused.err"
        ENDED=$(grep -c 'Session .*: ended' "$DLOG")
        dv "$T/bin/allowed" /dev/null # root's first session
        if [ "$NOBODY_RC" = 125 ] && [ "$RC" = 0 ] && [ ! -e "$T/work/marker" ] &&
                has "uid 65534 has 2 sessions already (max_sessions_per_user = 2)" "$L/refused.err" &&
                has "Refused a session" "$DLOG"; then
                pass
        else
                fail "rc=$NOBODY_RC root=$RC $(cat "$L/refused.err")"
        fi
        begin "limits: once a session ends, the user may start another"
        rm -f "$L/hold"
        wait "$H1" "$H2"
        for _ in $(seq 250); do
                [ "$(grep -c 'Session .*: ended' "$DLOG")" -ge $((ENDED + 3)) ] && break
                sleep 0.02
        done
        timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
                "$EG" run --socket "$SOCK" -- "$T/bin/allowed" /dev/null >"$OUT" 2>"$ERR"
        RC=$?
        [ "$RC" = 0 ] && pass || fail "rc=$RC $(cat "$ERR")"

        # Connections that never become sessions hold an fd each: a user gets as many as
        # max_sessions_per_user + 8, here 10. (/usr/bin/python3: root's own may be out of nobody's reach.)
        begin "limits: one user's idle connections are capped; other users are served"
        : >"$L/idle"
        FDS_BEFORE=$(ls /proc/$DAEMON_PID/fd | wc -l)
        setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import os, socket, sys, time
conns = []
for _ in range(10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    conns.append(s)
print("ready", flush=True)
while os.path.exists(sys.argv[2]):
    time.sleep(0.05)
' "$SOCK" "$L/idle" >"$L/idle.ready" &
        IDLE=$!
        for _ in $(seq 250); do [ -s "$L/idle.ready" ] && break; sleep 0.02; done
        timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
                "$EG" run --socket "$SOCK" -- "$T/bin/allowed" "$T/work/marker" >"$OUT" 2>"$ERR"
        NOBODY_RC=$?
        cp "$ERR" "$L/refused.err"
        dv "$T/bin/allowed" /dev/null
        rm -f "$L/idle"
        wait "$IDLE"
        for _ in $(seq 250); do [ "$(ls /proc/$DAEMON_PID/fd | wc -l)" -le "$FDS_BEFORE" ] && break; sleep 0.02; done
        if [ "$NOBODY_RC" = 125 ] && [ "$RC" = 0 ] && [ ! -e "$T/work/marker" ] &&
                has "uid 65534 has 10 connections already (max_sessions_per_user + 8)" "$L/refused.err" &&
                [ "$(ls /proc/$DAEMON_PID/fd | wc -l)" = "$FDS_BEFORE" ]; then
                pass
        else
                fail "rc=$NOBODY_RC root=$RC fds $FDS_BEFORE -> $(ls /proc/$DAEMON_PID/fd | wc -l) $(cat "$L/refused.err")"
        fi
        stop_daemon
else
        fail "the daemon did not start: $(tail -5 "$DLOG")"
fi
kill "$NOTIFY_SINK" 2>/dev/null
