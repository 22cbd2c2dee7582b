# End-to-end checks of what the daemon says at start about the host settings an exec control
# depends on (execguard(8), SECURITY, "What an exec control cannot stop"); sourced by run.sh
# (which provides $EG, $H, $T, $DF, the counters and the helpers; daemon-lib.sh is sourced
# before).

# A session's user with processes outside the session under the same uid can ptrace them and
# run anything there, unless Yama restricts ptrace (kernel.yama.ptrace_scope >= 1); without
# Yama the classic rules apply, as with 0. The daemon must say so at start.
YAMA=/proc/sys/kernel/yama/ptrace_scope
TLOG=$T/threat-daemon.log

# threat_start: start the daemon with $P and stop it again; what it logged meanwhile is in
# $TLOG. Returns 1 if it did not get ready.
threat_start() {
        local from
        from=$(($(stat -c %s "$DLOG" 2>/dev/null || echo 0) + 1))
        start_daemon "$P"
        local rc=$?
        stop_daemon
        tail -c +"$from" "$DLOG" >"$TLOG"
        return $rc
}

rm -f "$D/notify.sock"
start_notify_sink
if [ ! -e "$YAMA" ]; then
        begin "threat: no Yama: the daemon warns that a user can ptrace their processes outside the session"
        if ! threat_start; then
                fail "the daemon did not start: $(head -c 300 "$TLOG")"
        elif has "Yama is not enabled (no $YAMA)" "$TLOG" && has "set kernel.yama.ptrace_scope to 1" "$TLOG"; then
                pass
        else
                fail "no warning; the daemon said: $(head -c 300 "$TLOG")"
        fi
        begin "threat: ptrace_scope 0 warns, 1 does not"
        not_applicable "this kernel has no Yama ($YAMA is absent): only the warning above is reachable"
else
        YAMA_WAS=$(cat "$YAMA")
        for scope in 0 1; do
                begin "threat: ptrace_scope $scope: the daemon $([ $scope = 0 ] && echo warns || echo "does not warn")"
                if ! echo "$scope" >"$YAMA" 2>/dev/null || [ "$(cat "$YAMA")" != "$scope" ]; then
                        skip "cannot set $YAMA to $scope (it is $(cat "$YAMA"); 3 cannot be lowered)"
                elif ! threat_start; then
                        fail "the daemon did not start: $(head -c 300 "$TLOG")"
                elif [ "$scope" = 0 ]; then
                        has "kernel.yama.ptrace_scope is 0: a session's user can ptrace" "$TLOG" &&
                                has "set it to 1" "$TLOG" && pass || fail "no warning: $(head -c 300 "$TLOG")"
                else
                        ! grep -q 'ptrace_scope\|Yama' "$TLOG" && pass || fail "warned: $(head -c 300 "$TLOG")"
                fi
        done
        echo "$YAMA_WAS" >"$YAMA" 2>/dev/null
        begin "threat: ptrace_scope restored"
        [ "$(cat "$YAMA")" = "$YAMA_WAS" ] && pass || fail "$YAMA is $(cat "$YAMA"), was $YAMA_WAS"
fi
kill "$NOTIFY_SINK" 2>/dev/null
