# End-to-end attacks, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
#
# Issue 17, items 6 and 7: the fds execguard's own processes keep of their caller's, and the
# record of a standalone supervisor's loss.

HY=$T/hygiene
mkdir -p "$HY"
chmod 755 "$HY"

# ---- fd hygiene -----------------------------------------------------------------------------
# The caller holds, besides stdin and stdout (pipes), the write end of a pipe as fd 7, a file
# as fd 8 and a socket as fd 9 (tests/e2e/fdhold.py). The command closes all five and goes on
# running: as without execguard, each reader must see EOF at once, and no process on the host
# may hold any of them (compared by device and inode). What the command itself inherits is
# its own business (issue 22); what execguard's supervisor, wrapper, keeper and daemon keep
# of the caller's is checked here.

HY_CLOSE='exec 7>&- 8<&- 9<&- <&- >&-'

# fdhold CMD... : sets RC and OUT ($HY/fdhold.out).
fdhold() {
        rm -f "$HY/ready"
        timeout -k 5 90 python3 "$HERE/fdhold.py" "$HY/ready" "$@" >"$HY/fdhold.out" 2>"$HY/fdhold.err"
        RC=$?
}
fdhold_verdict() {
        if [ "$RC" = 0 ]; then pass
        else fail "rc=$RC: $(tr '\n' ';' <"$HY/fdhold.out") $(head -c 300 "$HY/fdhold.err")"; fi
}

if ! command -v python3 >/dev/null || [ "$(id -u)" != 0 ]; then
        # Root: the supervisor is not dumpable, only root may list its fds.
        begin "fd hygiene"
        skip "needs root and python3"
else
        begin "fd hygiene: control: without execguard, nothing holds the caller's fds once the command closed them"
        fdhold sh -c "$HY_CLOSE; touch $HY/ready; sleep 6"
        fdhold_verdict

        begin "fd hygiene: standalone: neither the supervisor nor the wrapper holds the caller's fd 7 (pipe), fd 8 (file), fd 9 (socket), stdin or stdout"
        fdhold "$EG" run -c "$P" -- sh -c "$HY_CLOSE; touch $HY/ready; sleep 6"
        fdhold_verdict

        # The supervisor serves the command's leftovers after run has returned: for all that
        # time it must hold nothing of the caller's.
        begin "fd hygiene: standalone: run returned, a job of the command runs on: the supervisor holds none of them"
        FDHOLD_MAY_END=1 fdhold "$EG" run -c "$P" -- sh -c "$HY_CLOSE; (touch $HY/ready; sleep 6) & exit 0"
        fdhold_verdict

        rm -f "$D/notify.sock"
        start_notify_sink
        # The daemon keeps nothing it inherited: a file given to it as fd 7 must not be held.
        : >"$HY/daemon-fd7"
        begin "fd hygiene: the daemon keeps no fd it inherited beyond stdio"
        if start_daemon "$P" 7>>"$HY/daemon-fd7"; then
                held=$(find /proc/"$DAEMON_PID"/fd -lname "$HY/daemon-fd7" 2>/dev/null)
                [ -z "$held" ] && pass || fail "the daemon holds $held -> $HY/daemon-fd7"

                begin "fd hygiene: through the daemon: the wrapper holds none of the caller's fds"
                fdhold "$EG" run --socket "$SOCK" -- sh -c "$HY_CLOSE; touch $HY/ready; sleep 6"
                fdhold_verdict

                begin "fd hygiene: through the daemon: the keeper (the command returned, a job of it runs on) holds none of them"
                FDHOLD_MAY_END=1 fdhold "$EG" run --socket "$SOCK" -- sh -c "$HY_CLOSE; (touch $HY/ready; sleep 6) & exit 0"
                fdhold_verdict
                stop_daemon
        else
                fail "the daemon did not start: $(tail -n 3 "$DLOG")"
        fi
        kill "$NOTIFY_SINK" 2>/dev/null
fi

# ---- a lost supervisor is recorded ------------------------------------------------------------
# A user may kill the standalone supervisor of their own session (same uid). The session then
# fails closed (ENOSYS for every exec); the loss must reach the audit trail (syslog and the
# log_file), with the session id that the session's decisions carry, and the user's stderr.

write_policy "$HY/lost.ini" enforce deny "log_file = $HY/lost.json"
chmod 644 "$HY/lost.ini"
U=$HY/u # where the session's user writes
mkdir -p "$U"
chmod 1777 "$U"
: >"$HY/lost.json"
AS=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        AS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
        chown nobody "$HY/lost.json"
fi

# A session that ends as usual records no loss.
begin "supervisor lost: a supervisor that ends as usual leaves no supervisor-lost record"
syslog_lines=$( [ -z "$SYSLOG" ] || wc -l <"$SYSLOG")
"${AS[@]}" timeout -k 5 60 "$EG" run -c "$HY/lost.ini" -- "$T/bin/allowed" "$U/ok-ran" >/dev/null 2>"$HY/ok.err" </dev/null
if [ ! -e "$U/ok-ran" ]; then fail "the session did not run: $(cat "$HY/ok.err")"
elif grep -q supervisor-lost "$HY/lost.json" "$HY/ok.err"; then fail "a loss was recorded"
elif [ -n "$SYSLOG" ] && tail -n +$((syslog_lines + 1)) "$SYSLOG" | grep -q supervisor-lost; then
        fail "a loss was recorded in syslog"
else pass; fi

# hy_sup_of PID: the execguard-sup whose parent is PID or a child of PID.
hy_sup_of() {
        local s pp
        for _ in $(seq 200); do
                for s in $(pgrep -x execguard-sup); do
                        pp=$(ps -o ppid= -p "$s" | tr -d ' ')
                        if [ "$pp" = "$1" ] || [ "$(ps -o ppid= -p "$pp" 2>/dev/null | tr -d ' ')" = "$1" ]; then
                                echo "$s"
                                return 0
                        fi
                done
                sleep 0.05
        done
        return 1
}

rm -f "$HY/go" "$U/after" "$U/ran"
begin "supervisor lost: kill -9 of the standalone supervisor is recorded in syslog and the log_file with the session id, and said on stderr"
"${AS[@]}" timeout -k 5 60 "$EG" run -c "$HY/lost.ini" -- sh -c "$T/bin/blocked $U/ran
        while [ ! -e $HY/go ]; do sleep 0.1; done
        $T/bin/blocked $U/ran; echo \$? >$U/after" >/dev/null 2>"$HY/lost.err" </dev/null &
w=$!
sess=""
for _ in $(seq 200); do
        sess=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["execguard"]["decision"] == "deny":
        print(r["execguard"]["session"]); break' "$HY/lost.json" 2>/dev/null)
        [ -n "$sess" ] && break
        sleep 0.05
done
if ! sup=$(hy_sup_of $w) || [ -z "$sess" ]; then
        fail "no supervisor ($sup) or no deny record with a session ($sess)"
        touch "$HY/go"
        wait $w
else
        "${AS[@]}" kill -9 "$sup"
        touch "$HY/go"
        wait $w
        rc=$?
        line="execguard: the supervisor of session $sess was lost (killed by signal 9): execs in this session now fail"
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then fail "the session hung (rc=$rc)"
        elif [ -e "$U/ran" ]; then fail "the blocked program ran"
        elif [ "$(cat "$U/after" 2>/dev/null)" != 126 ]; then fail "the exec after the loss: $(cat "$U/after" 2>/dev/null), want 126 (ENOSYS)"
        elif ! json_check "$HY/lost.json" "sum(1 for r in recs if get(r, 'event.action') == 'supervisor-lost') == 1 and any(
                get(r, 'event.action') == 'supervisor-lost' and get(r, 'execguard.decision') == 'supervisor-lost'
                and get(r, 'execguard.session') == '$sess' and get(r, 'process.pid') == $sup
                and get(r, 'execguard.note') == 'killed by signal 9' and get(r, 'event.outcome') == 'failure'
                and 'session $sess (pid $sup) was lost (killed by signal 9)' in r['message'] for r in recs)" \
                >"$HY/json.err" 2>&1; then
                fail "no supervisor-lost record of session $sess, pid $sup in the log_file: $(tail -c 600 "$HY/json.err")"
        elif ! has "$line" "$HY/lost.err"; then fail "stderr does not say: $line; it says: $(cat "$HY/lost.err")"
        elif [ -z "$SYSLOG" ]; then skip "no syslog sink (needs root); the log_file has the record"
        # /dev/log is shared by every suite running on the host: where another one took it
        # over, this session's records went there, its deny record too.
        elif ! grep -F "decision=deny " "$SYSLOG" | grep -qF "session=\"$sess\""; then
                skip "syslog did not get this session's deny record (/dev/log taken over by another run?)"
        elif ! grep -F "decision=supervisor-lost pid=$sup " "$SYSLOG" |
                grep -F "note=\"killed by signal 9\"" | grep -qF "session=\"$sess\""; then
                fail "no supervisor-lost record of session $sess, pid $sup in syslog: $(grep -F "$sess" "$SYSLOG" | tail -n 3)"
        else pass; fi
fi
