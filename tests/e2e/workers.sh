# The daemon's workers verify what they approve (issue 20). Under the ptrace check each
# worker is the tracer of the execs it approves and follows them to their end, several at
# once. The racers of run.sh, two sessions at once against a daemon with two workers (so
# that both are tracers together): the blocked program never runs. Then the execs that
# fail with ENOEXEC (the same thread execs again before its last verification is over,
# possibly on the other worker). Sourced by run.sh after daemon-lib.sh.

WK=$T/workers
mkdir -p "$WK"
write_policy "$WK/policy.ini" enforce deny "verifier = ptrace" "workers = 2"
chmod 644 "$WK/policy.ini"
WK_LDSO=$(readlink -f /lib64/ld-linux-x86-64.so.2)
printf 'echo from a script without "#!"\n' >"$WK/noshebang"
chmod 755 "$WK/noshebang"

start_notify_sink
begin "workers: the daemon starts with 2 workers and the ptrace check"
if start_daemon "$WK/policy.ini"; then
        grep -q '; verifier ptrace' "$NOTIFY" && pass || fail "$(grep STATUS= "$NOTIFY" | tail -n 1)"
else
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
fi

for mode in string thread symlink fd loader; do
        begin "workers: two sessions racing the exec $mode at once: the blocked program never runs (2 x 1000 attempts)"
        pids=""
        program=""
        [ "$mode" = loader ] && program=$WK_LDSO
        for k in 1 2; do
                rm -f "$WK/ran-$k"
                timeout --kill-after=5 120 "$EG" run --socket "$SOCK" -- "$H/racer" "$mode" /usr/bin/true \
                        "$T/bin/blocked" "$WK/ran-$k" 1000 30 "$WK/racelink-$k" ${program:+"$program"} \
                        >"$WK/race-$k.out" 2>"$WK/race-$k.err" </dev/null &
                pids="$pids $!"
        done
        rcs=""
        for pid in $pids; do
                wait "$pid"
                rcs="$rcs$?"
        done
        if [ "$rcs" = 00 ] && [ ! -e "$WK/ran-1" ] && [ ! -e "$WK/ran-2" ]; then
                pass
                printf '     %s | %s\n' "$(cat "$WK/race-1.out")" "$(cat "$WK/race-2.out")"
        else
                fail "rcs=$rcs $(cat "$WK/race-1.out" "$WK/race-2.out"; head -c 300 "$WK/race-1.err")"
        fi
done

begin "workers: 500 execs in a row that fail with ENOEXEC all fail so, none refused"
dv "$H/enoexec-loop" 500 "$WK/noshebang"
[ "$RC" = 0 ] && ! has "cannot verify" "$ERR" && pass || fail "rc=$RC $(cat "$OUT") $(head -c 300 "$ERR")"

begin "workers: execvp() of a script without #! (ENOEXEC, then /bin/sh) runs it, 200 times in each of 2 sessions"
for k in 1 2; do
        timeout --kill-after=5 120 "$EG" run --socket "$SOCK" -- sh -c "for i in \$(seq 200); do env $WK/noshebang; done" \
                >"$WK/enoexec-$k.out" 2>"$WK/enoexec-$k.err" </dev/null &
        eval "ENOEXEC_$k=\$!"
done
wait "$ENOEXEC_1"
RC1=$?
wait "$ENOEXEC_2"
RC2=$?
[ "$RC1" = 0 ] && [ "$RC2" = 0 ] && [ "$(grep -c 'from a script' "$WK/enoexec-1.out")" = 200 ] &&
        [ "$(grep -c 'from a script' "$WK/enoexec-2.out")" = 200 ] && ! grep -q "denied\|cannot verify" "$WK"/enoexec-*.err &&
        pass || fail "rc=$RC1/$RC2 $(grep -c 'from a script' "$WK/enoexec-1.out")/$(grep -c 'from a script' "$WK/enoexec-2.out") runs; $(head -c 300 "$WK/enoexec-1.err" "$WK/enoexec-2.err")"

stop_daemon
kill "$NOTIFY_SINK" 2>/dev/null
