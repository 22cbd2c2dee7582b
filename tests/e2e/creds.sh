# End-to-end attacks, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
#
# The supervisor's lookups are made with the process's credentials (issue 17, item 2), and
# /proc/self and /proc/N mean the process as its own procfs numbers it (item 5). Each answer
# is compared with the same exec run natively (unsupervised) by the same user.

CR=$T/creds
mkdir -p "$CR"
chmod 755 "$CR"
cp "$H/try-exec" "$CR/try-exec"
chmod 755 "$CR/try-exec"
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
# The daemon's READY=1 comes to a sink of our own (an earlier file's may be gone).
rm -f "$D/notify.sock"
start_notify_sink

# A directory nobody cannot search, with a program in it.
mkdir -p "$CR/secret"
chmod 700 "$CR/secret"
cp "$(readlink -f /bin/true)" "$CR/secret/prog"
chmod 755 "$CR/secret/prog"
# Programs nobody may execute but not read: a copy of true, and a copy of df (blocked by
# its content).
cp "$(readlink -f /bin/true)" "$CR/xonly-true"
cp "$DF" "$CR/xonly-df"
chmod 711 "$CR/xonly-true" "$CR/xonly-df"

# native_errno USER-PREFIX PATH: the exit status of try-exec execve PATH, run unsupervised.
native_errno() {
        local prefix=$1 path=$2
        # shellcheck disable=SC2086
        timeout 30 $prefix "$CR/try-exec" execve "$path" >/dev/null 2>&1
        echo $?
}

ORACLE_PATHS="$CR/secret/prog $CR/secret/missing $CR/secret/prog/x"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
        begin "creds: the attacks as nobody"
        skip "need root, setpriv and the user nobody"
else
        # Item 2, standalone: a root supervisor whose session drops to nobody inside.
        for path in $ORACLE_PATHS; do
                begin "creds: nobody's exec of $path in a directory it cannot search: the native errno (standalone)"
                want=$(native_errno "$AS_NOBODY" "$path")
                # shellcheck disable=SC2086
                sv "$P" $AS_NOBODY "$CR/try-exec" execve "$path"
                if [ "$want" != 13 ]; then
                        fail "natively nobody got $want, not EACCES (13): the fixture is wrong"
                elif [ "$RC" != "$want" ]; then
                        fail "supervised errno $RC, natively $want (an oracle for which files exist); stderr: $(head -c 300 "$ERR")"
                else
                        pass
                fi
        done

        # Item 2, through the daemon (root): a session started by nobody.
        if start_daemon "$P"; then
                for path in $ORACLE_PATHS; do
                        begin "creds: nobody's exec of $path in a directory it cannot search: the native errno (daemon)"
                        want=$(native_errno "$AS_NOBODY" "$path")
                        # shellcheck disable=SC2086
                        timeout --kill-after=5 60 $AS_NOBODY "$EG" run --socket "$SOCK" -- \
                                "$CR/try-exec" execve "$path" >"$OUT" 2>"$ERR" </dev/null
                        RC=$?
                        if [ "$RC" != "$want" ]; then
                                fail "supervised errno $RC, natively $want; stderr: $(head -c 300 "$ERR")"
                        else
                                pass
                        fi
                done
                stop_daemon
        else
                begin "creds: the daemon's attacks"
                fail "the daemon did not start: $(tail -n 5 "$DLOG")"
        fi

        # Execute-only programs: the kernel runs them (it reads them itself), so the
        # supervisor must still read their heads, and still block by content.
        begin "creds: an execute-only program runs for nobody as natively"
        want=$(cd / && timeout 30 $AS_NOBODY "$CR/xonly-true" >/dev/null 2>&1; echo $?)
        # shellcheck disable=SC2086
        sv "$P" $AS_NOBODY "$CR/xonly-true"
        if [ "$want" != 0 ]; then
                fail "natively it exited $want: the fixture is wrong"
        elif [ "$RC" != 0 ]; then
                fail "supervised it exited $RC; stderr: $(head -c 300 "$ERR")"
        else
                pass
        fi
        begin "creds: an execute-only copy of df is still blocked for nobody"
        # shellcheck disable=SC2086
        sv "$P" $AS_NOBODY "$CR/try-exec" execve "$CR/xonly-df"
        if grep -q '^Filesystem' "$OUT"; then
                fail "df ran (rc=$RC)"
        elif [ "$RC" != 13 ] || ! blocked_line "$CR/xonly-df"; then
                fail "rc=$RC, want 13 and a block line; stderr: $(head -c 300 "$ERR")"
        else
                pass
        fi
fi

# /proc/kmsg: exec of it fails natively (procfs is noexec, and the file is 0400); a
# supervisor that opened and read it "for its head" consumed the kernel log (and, with
# nothing unread, hung there). A reader of /proc/kmsg of our own must still receive a
# marker written just before the exec.
kmsg_drain() { # print what /proc/kmsg has unread, without waiting
        python3 - <<'EOF'
import os, sys
fd = os.open("/proc/kmsg", os.O_RDONLY | os.O_NONBLOCK)
while True:
    try:
        b = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not b:
        break
    sys.stdout.buffer.write(b)
EOF
}

# kmsg_case NAME USER INSIDE RUNNER...: USER runs the native exec (a setpriv prefix, empty for
# root), RUNNER... INSIDE try-exec the supervised one.
kmsg_case() {
        local name=$1 prefix=$2 inside=$3
        shift 3
        begin "$name"
        local marker
        marker="execguard-e2e-kmsg-$$-$RANDOM$RANDOM"
        want=$(native_errno "$prefix" /proc/kmsg)
        kmsg_drain >/dev/null
        echo "$marker" >/dev/kmsg
        # shellcheck disable=SC2086
        timeout --kill-after=5 30 "$@" $inside "$CR/try-exec" execve /proc/kmsg >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        if [ "$want" != 13 ]; then
                fail "natively the exec gave $want, not EACCES (13): the fixture is wrong"
        elif ! kmsg_drain | grep -qF "$marker"; then
                fail "the kernel log was consumed: our reader of /proc/kmsg did not get the marker (rc=$RC)"
        elif [ "$RC" != "$want" ]; then
                fail "supervised errno $RC, natively $want"
        else
                pass
        fi
}

if [ "$(id -u)" != 0 ] || [ ! -r /proc/kmsg ] || [ ! -w /dev/kmsg ]; then
        begin "creds: /proc/kmsg"
        skip "need root, /proc/kmsg and /dev/kmsg"
elif [ -n "$(for f in /proc/[0-9]*/fd/*; do readlink "$f"; done 2>/dev/null | grep -x /proc/kmsg)" ]; then
        # A logging daemon reading the kernel log would take the marker before our reader.
        begin "creds: /proc/kmsg"
        skip "another process reads /proc/kmsg"
else
        kmsg_case "creds: a root session's exec of /proc/kmsg does not consume the kernel log (standalone)" "" "" \
                "$EG" run -c "$P" --
        if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null && start_daemon "$P"; then
                # shellcheck disable=SC2086
                kmsg_case "creds: nobody's exec of /proc/kmsg does not consume the kernel log (daemon)" "$AS_NOBODY" "" \
                        $AS_NOBODY "$EG" run --socket "$SOCK" --
                stop_daemon
        fi
fi

# Item 5: /proc/self and /proc/N inside a new PID namespace. Its own procfs (--mount-proc)
# numbers it 1; without one, /proc is the outer procfs, where it has its outer number.
write_policy "$T/creds-log.ini" enforce deny "log_allowed = yes"
TRUE=$(readlink -f /bin/true)
if ! unshare -Urpf --mount-proc true 2>/dev/null || ! unshare -Urpf true 2>/dev/null; then
        begin "creds: /proc/self in a new PID namespace"
        skip "unshare -Urpf does not work here"
else
        for mp in --mount-proc ""; do
                vias='/proc/self/fd/$N /proc/thread-self/fd/$N'
                # Its own number, 1, names it in its own procfs only.
                [ -z "$mp" ] || vias="$vias /proc/\$\$/fd/\$N"
                for via in $vias; do
                        what="${via} (unshare -Urpf${mp:+ $mp})"
                        # The same commands natively first: what they must answer.
                        script="exec 3<$TRUE 4<$DF; N=3; $via; echo allowed=\$?; N=4; $via >/dev/null; echo blocked=\$?"
                        # shellcheck disable=SC2086
                        native=$(timeout 30 unshare -Urpf $mp bash -c "$script" 2>/dev/null | tr '\n' ' ')
                        [ -z "$SYSLOG" ] || : >"$SYSLOG"
                        # shellcheck disable=SC2086
                        sv "$T/creds-log.ini" unshare -Urpf $mp bash -c "$script"
                        got=$(tr '\n' ' ' <"$OUT")
                        begin "creds: an allowed program run as $what runs, as natively"
                        if [ "$native" != "allowed=0 blocked=0 " ]; then
                                fail "natively: '$native': the fixture is wrong"
                        elif ! has "allowed=0" "$OUT"; then
                                fail "supervised: '$got'; stderr: $(head -c 300 "$ERR")"
                        else
                                pass
                        fi
                        begin "creds: df run as $what is still blocked"
                        if grep -q '^Filesystem' "$OUT" || ! has "blocked=126" "$OUT" || ! blocked_line "$DF"; then
                                fail "supervised: '$got'; stderr: $(head -c 300 "$ERR")"
                        else
                                pass
                        fi
                        if [ -n "$SYSLOG" ]; then
                                begin "creds: the allowed exec of $what is recorded with its program"
                                sleep 0.2
                                if grep "decision=allow" "$SYSLOG" | grep -F "executable=\"$TRUE\"" | grep -qF "/fd/3"; then
                                        pass
                                else
                                        fail "no allow record: $(grep -F /fd/ "$SYSLOG" | tail -n 3)"
                                fi
                        fi
                done
        done
fi

kill "$NOTIFY_SINK" 2>/dev/null
wait "$NOTIFY_SINK" 2>/dev/null
rm -f "$D/notify.sock"
