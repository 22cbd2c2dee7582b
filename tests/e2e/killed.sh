# End-to-end cases, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
#
# Issue 22, item 1: a task that its parent SIGKILLs in the middle of its exec is not a
# task whose exec "changed after it was approved". The verifier holds it at its exec stop
# and finds it gone from under it (its memory map, its registers, /proc/PID/exe): that is
# the kill, not a race, and must not be recorded as exec-killed. A real race must still be.

KD=$T/killed
mkdir -p "$KD"
chmod 755 "$KD"
KLOG=$KD/log.json
write_policy "$KD/deny.ini" enforce deny "log_file = $KLOG"
# The exec stop is the ptrace check's: the daemon would use the kernel engine, which has none.
write_policy "$KD/deny-ptrace.ini" enforce deny "log_file = $KLOG" "verifier = ptrace"
# nobody's sessions (the attacks are a user's), in a directory of its own.
KN=$KD/nobody
mkdir -p "$KN"
chown nobody:nogroup "$KN" 2>/dev/null
KNLOG=$KN/log.json # a standalone run is nobody's: so is its log_file
write_policy "$KD/nobody.ini" enforce deny "log_file = $KNLOG"
K_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# kill_records FILE: the exec-killed records and the mismatch notes in FILE.
kill_records() { grep -cE '"action":"exec-killed"|changed after it was approved' "$1"; }

# ---- (a) the issue's loop: CPython's subprocess timeout kills its child mid-exec -----------
# subprocess.run() with a timeout far shorter than a fork+exec SIGKILLs the child while it
# is still in its exec, often at its exec stop. Measured here on the code before the fix:
# 0 to 43 false exec-killed records in 300 iterations, by the load (the issue: 15); expected
# 0. It may miss the window: the case below hits it on purpose.
KILLED_N=${KILLED_N:-300}
cat >"$KD/loop.py" <<'EOF'
import subprocess, sys
for i in range(int(sys.argv[1])):
    try:
        subprocess.run(["python3", "-c", "while True: pass"], timeout=0.0001)
    except subprocess.TimeoutExpired:
        pass
EOF

begin "killed: a child SIGKILLed by its parent mid-exec is not recorded as a mismatch ($KILLED_N times)"
if ! command -v python3 >/dev/null; then
        skip "no python3"
else
        : >"$KLOG"
        off=$([ -n "$SYSLOG" ] && stat -c %s "$SYSLOG" || echo 0)
        sv "$KD/deny.ini" python3 "$KD/loop.py" "$KILLED_N"
        n=$(kill_records "$KLOG")
        n_syslog=0
        [ -z "$SYSLOG" ] || n_syslog=$(tail -c +$((off + 1)) "$SYSLOG" | grep -c 'changed after it was approved')
        printf '     false records: log_file %s, syslog %s, stderr %s (%s subprocess timeouts)\n' "$n" "$n_syslog" \
                "$(grep -c 'instead of the approved\|other content than' "$ERR")" "$KILLED_N"
        if [ "$RC" != 0 ]; then
                fail "rc=$RC: $(head -c 300 "$ERR")"
        elif [ "$n" != 0 ] || [ "$n_syslog" != 0 ]; then
                fail "$n exec-killed records in the log_file, $n_syslog in syslog: $(grep -m1 exec-killed "$KLOG" | head -c 600)"
        elif has "instead of the approved" "$ERR" || has "other content than" "$ERR"; then
                fail "a mismatch warning: $(head -c 300 "$ERR")"
        else
                pass
        fi
fi

# The same on purpose: kill-at-exec SIGKILLs each child as soon as it shows in a tracing stop
# (its exec's, where the verifier holds it), a little later each time, so that the kill
# lands at every point of the verification. Measured on the code before the fix: 6 to 151
# false records in 300, by the load. Standalone and through the daemon, as nobody.

# kill_at_exec_verdict LOG: after kill-at-exec in $OUT, nothing recorded in LOG, and the
# kills did come at the stop (or the case proves nothing).
kill_at_exec_verdict() {
        local n at_stop
        n=$(kill_records "$1")
        at_stop=$(sed -n 's/.*killed at a tracing stop \([0-9]*\).*/\1/p' "$OUT")
        printf '     %s; false records: %s\n' "$(cat "$OUT")" "$n"
        if [ "$RC" != 0 ]; then
                fail "rc=$RC: $(head -c 300 "$ERR")"
        elif [ "${at_stop:-0}" -lt $((KILLED_N / 10)) ]; then
                fail "only ${at_stop:-0} of $KILLED_N kills came at the exec stop: the case proves nothing"
        elif [ "$n" != 0 ]; then
                fail "$n exec-killed records: $(grep -m1 exec-killed "$1" | head -c 600)"
        else
                pass
        fi
}

begin "killed: children SIGKILLed at their exec stop, at every point of the verification: no record ($KILLED_N, standalone)"
if [ "$(id -u)" != 0 ]; then
        skip "needs root (to run as nobody)"
else
        : >"$KNLOG"
        chown nobody:nogroup "$KNLOG"
        timeout --kill-after=5 120 "${K_NOBODY[@]}" "$EG" run -c "$KD/nobody.ini" -- \
                "$H/kill-at-exec" "$KILLED_N" /usr/bin/true >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        kill_at_exec_verdict "$KNLOG"
fi

begin "killed: children SIGKILLed at their exec stop: no record ($KILLED_N, through the daemon)"
if [ "$(id -u)" != 0 ]; then
        skip "needs root (the daemon)"
else
        start_notify_sink
        if ! start_daemon "$KD/deny-ptrace.ini"; then
                fail "the daemon did not start: $(tail -c 300 "$DLOG")"
        else
                : >"$KLOG"
                timeout --kill-after=5 120 "${K_NOBODY[@]}" "$EG" run --socket "$SOCK" -- \
                        "$H/kill-at-exec" "$KILLED_N" /usr/bin/true >"$OUT" 2>"$ERR" </dev/null
                RC=$?
                stop_daemon
                kill_at_exec_verdict "$KLOG"
        fi
        kill "$NOTIFY_SINK" 2>/dev/null
        wait "$NOTIFY_SINK" 2>/dev/null
fi

# ---- (b) the control: a real mismatch is still killed and recorded --------------------------
# The racer flips a symlink between an allowed program and the blocked one, so that the
# kernel sometimes loads the blocked one after the allowed one was approved. Each such exec
# must be killed before it runs, and recorded as exec-killed with what the kernel loaded.
begin "killed: control: a racer's real mismatch is still killed and recorded as exec-killed"
if [ "$(id -u)" != 0 ]; then
        skip "needs root (to run the racer as nobody)"
else
        : >"$KNLOG"; chown nobody:nogroup "$KNLOG"
        racer_rc=""
        for round in 1 2 3 4 5; do
                timeout --kill-after=5 120 "${K_NOBODY[@]}" "$EG" run -c "$KD/nobody.ini" -- "$H/racer" symlink /usr/bin/true "$T/bin/blocked" \
                        "$KN/ran" 300 15 "$KN/link" >"$OUT" 2>"$ERR" </dev/null
                racer_rc=$?
                [ "$racer_rc" = 0 ] || break
                grep -q '"action":"exec-killed"' "$KNLOG" && break
        done
        printf '     %s; exec-killed records: %s\n' "$(cat "$OUT")" "$(grep -c '"action":"exec-killed"' "$KNLOG")"
        if [ -e "$KN/ran" ] || [ "$racer_rc" != 0 ]; then
                fail "the racer won or failed (rc=$racer_rc): $(cat "$OUT") $(head -c 300 "$ERR")"
        elif ! grep -q '"action":"exec-killed".*"executable":"'"$T"'/bin/blocked".*exec changed after it was approved' "$KNLOG"; then
                fail "no exec-killed record naming $T/bin/blocked: $(head -c 600 "$KNLOG")"
        else
                pass
        fi
fi
rm -f "$KN"/link*
