# End-to-end cases, sourced by run.sh (which provides $EG, $H, $T, $DF, $SYSLOG, the counters
# and the helpers; daemon-lib.sh is sourced before).
#
# Issue 19, item 1: a daemon outage never locks operators out. A login of the ForceCommand
# group under a policy written for the daemon (no_new_privs = no for sudo, a root-only
# log_file) that reaches no daemon supervises standalone with /etc/execguard.ini, degraded
# where it must be (no_new_privs forced, records to syslog), and says so to the user in one
# line and in the records; df stays blocked. on_daemon_unavailable = refuse refuses instead.
# In the suite's private mount namespace: /etc and /run/execguard are overlays of its own.

OU=$T/outage
mkdir -p "$OU/bin" "$OU/logs" "$OU/etc-up" "$OU/etc-work"
chmod 755 "$OU" "$OU/bin"
chmod 700 "$OU/logs" # root's, as /var/log is: the session's user cannot write the log_file
cp "$EG" "$OU/bin/execguard"
chmod 755 "$OU/bin/execguard"
# As installed: the file capabilities run and login use for no_new_privs = no.
command -v setcap >/dev/null && setcap cap_sys_admin,cap_setpcap+p "$OU/bin/execguard" 2>/dev/null
OU_SSH='192.0.2.9 50100 198.51.100.1 22'
OU_LOG=$OU/logs/execguard.json
OU_SOCK=/run/execguard/execguard.sock

# ou_login USER COMMAND: `execguard login` as sshd's ForceCommand runs it for USER, with
# SSH_CONNECTION and SSH_ORIGINAL_COMMAND set.
ou_login() {
        local user=$1 group
        group=$(id -gn "$user")
        [ -n "$SYSLOG" ] && : >"$SYSLOG"
        timeout --kill-after=5 60 setpriv --reuid="$user" --regid="$group" --init-groups \
                env SSH_CONNECTION="$OU_SSH" SSH_ORIGINAL_COMMAND="$2" "$OU/bin/execguard" login \
                >"$OUT" 2>"$ERR" </dev/null
        RC=$?
}

# ou_policy [SETTING...]: /etc/execguard.ini as a bastion's: df blocked, sudo allowed to
# work, the records in a root-only file.
ou_policy() {
        {
                printf '[execguard]\nno_new_privs = no\nlog_file = %s\n' "$OU_LOG"
                for s in "$@"; do printf '%s\n' "$s"; done
                printf '[block]\npath = %s\n' "$DF"
        } >/etc/execguard.ini
        chmod 644 /etc/execguard.ini
}

# ou_degraded_checks NAME: the login just run worked, df was blocked, the user was told in
# one line, and syslog has the session's degraded start and its df record saying degraded.
ou_degraded_checks() {
        local lines
        lines=$(grep -c 'degraded' "$ERR")
        begin "outage: $1: the login works and df is still blocked"
        [ "$RC" = 0 ] && has "df=126" "$OUT" && has "after=ok" "$OUT" && ! grep -q '^Filesystem' "$OUT" &&
                has "execguard: blocked $DF" "$ERR" && pass || fail "rc=$RC out: $(cat "$OUT") err: $(head -c 600 "$ERR")"
        begin "outage: $1: the user is told in one line what the session lacks"
        [ "$lines" = 1 ] &&
                has "supervising standalone with /etc/execguard.ini, degraded: supervised as the session's user, not by the daemon; no_new_privs forced, so sudo and other setuid programs will not work; log_file not written (Permission denied)" "$ERR" &&
                pass || fail "$lines lines: $(head -c 600 "$ERR")"
        begin "outage: $1: syslog has the degraded start and a df record that says degraded"
        if [ -z "$SYSLOG" ]; then
                skip "cannot stand in for /dev/log"
        elif wait_for "$SYSLOG" "decision=deny" && grep -q 'decision=session-degraded .*degraded="supervised as the session.s user, not by the daemon; no_new_privs forced' "$SYSLOG" &&
                grep "decision=deny .*blocked=\"$DF\"" "$SYSLOG" | grep -q 'degraded="supervised as .*no_new_privs forced.*log_file not written' &&
                grep "decision=deny" "$SYSLOG" | grep -q 'source_ip="192.0.2.9"'; then
                pass
        else
                fail "$(head -c 900 "$SYSLOG")"
        fi
}

# The daemon with its defaults (/etc/execguard.ini, /run/execguard/execguard.sock), and its
# stop (as `systemctl stop` or a crash with no restart leaves it).
ou_start_daemon() {
        "$EG" daemon 2>>"$OU/daemon.log" &
        OU_DAEMON=$!
        for _ in $(seq 250); do [ -S "$OU_SOCK" ] && break; sleep 0.02; done
}
ou_stop_daemon() {
        kill "$OU_DAEMON"
        wait "$OU_DAEMON" 2>/dev/null
}

if [ -z "${EXECGUARD_E2E_NS:-}" ] || ! command -v setpriv >/dev/null; then
        begin "outage: a login with the daemon stopped"
        skip "needs root in the suite's private mount namespace and setpriv"
elif ! { mount -t overlay overlay -o "lowerdir=/etc,upperdir=$OU/etc-up,workdir=$OU/etc-work" /etc &&
        mkdir -p /run/execguard && mount -t tmpfs -o mode=755 tmpfs /run/execguard; }; then
        begin "outage: a login with the daemon stopped"
        fail "cannot lay the overlays over /etc and /run/execguard"
else
        ou_policy
        # An operator with a real shell (nobody's is nologin), in the overlay of /etc only.
        OU_USER=execguard-e2e-op
        useradd -M -d /nonexistent -s /bin/bash "$OU_USER" 2>"$ERR" || fail "useradd: $(cat "$ERR")"
        SUDO=$(command -v sudo)
        [ -z "$SUDO" ] || {
                printf '%s ALL=(root) NOPASSWD: /usr/bin/id\n' "$OU_USER" >/etc/sudoers.d/execguard-outage
                chmod 440 /etc/sudoers.d/execguard-outage
        }
        # The daemon runs (with its default policy and socket), then stops, as `systemctl
        # stop` or a crash with no restart leaves it.
        ou_start_daemon
        begin "outage: the daemon answers a login, and sudo works in it (no_new_privs = no)"
        ou_login "$OU_USER" "$DF; echo df=\$?; ${SUDO:-false} -n /usr/bin/id -u; echo after=ok"
        [ "$RC" = 0 ] && has "df=126" "$OUT" && grep -qx 0 "$OUT" && ! has "degraded" "$ERR" && pass ||
                fail "rc=$RC $(cat "$OUT") $(head -c 400 "$ERR") daemon: $(tail -n 3 "$OU/daemon.log")"
        ou_stop_daemon
        rm -f "$OU_LOG"

        ou_login "$OU_USER" "$DF; echo df=\$?; echo after=ok"
        ou_degraded_checks "daemon stopped"
        begin "outage: daemon stopped: nothing is written to the log_file the user cannot write"
        [ ! -s "$OU_LOG" ] && pass || fail "$(head -c 300 "$OU_LOG")"

        # The degraded start says who, as every record does: the user, and the login uid
        # sshd's pam_loginuid sets (here written as root first, where the kernel lets it).
        begin "outage: daemon stopped: the degraded start record names the user and the login uid"
        ou_uid=$(id -u "$OU_USER")
        if [ -z "$SYSLOG" ]; then
                skip "cannot stand in for /dev/log"
        elif ! sh -c 'echo 65534 >/proc/self/loginuid' 2>/dev/null; then
                skip "the kernel refuses to set /proc/self/loginuid (no audit support, or it is immutable)"
        else
                : >"$SYSLOG"
                timeout --kill-after=5 60 sh -c 'echo "$1" >/proc/self/loginuid && shift && exec "$@"' sh "$ou_uid" \
                        setpriv --reuid="$OU_USER" --regid="$OU_USER" --init-groups \
                        env SSH_CONNECTION="$OU_SSH" SSH_ORIGINAL_COMMAND="$DF" "$OU/bin/execguard" login \
                        >"$OUT" 2>"$ERR" </dev/null
                if wait_for "$SYSLOG" "decision=session-degraded" &&
                        grep "decision=session-degraded" "$SYSLOG" |
                        grep -q " auid=\"$ou_uid\" auser=\"$OU_USER\" .*user=\"$OU_USER\""; then
                        pass
                else
                        fail "$(grep "decision=session-degraded" "$SYSLOG" | head -c 600)"
                fi
        fi

        # sudo cannot become root with no_new_privs forced: the kernel refuses, as the one
        # line said.
        begin "outage: daemon stopped: sudo does not become root (no_new_privs forced)"
        if [ -n "$SUDO" ]; then
                ou_login "$OU_USER" "$SUDO -n /usr/bin/id -u; echo sudo=\$?"
                ! grep -qx 0 "$OUT" && has "sudo=1" "$OUT" && pass || fail "rc=$RC $(cat "$OUT") $(head -c 300 "$ERR")"
        else
                skip "no sudo"
        fi

        # root lacks nothing of the policy: not degraded, the records in the log_file.
        begin "outage: daemon stopped: root's login is standalone, not degraded, records in log_file"
        ou_login root "$DF; echo df=\$?; echo after=ok"
        [ "$RC" = 0 ] && has "df=126" "$OUT" && ! has "degraded" "$ERR" && wait_for "$OU_LOG" '"exec-denied"' &&
                ! grep -q '"degraded"' "$OU_LOG" && pass || fail "rc=$RC $(head -c 300 "$ERR") log: $(head -c 300 "$OU_LOG" 2>&1)"

        # A socket that is there but answers nothing (a daemon killed with SIGKILL leaves it):
        # after the wait for a restart, the same fallback, and the user is told why.
        python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind(sys.argv[1])' "$OU_SOCK"
        chmod 666 "$OU_SOCK"
        ou_login "$OU_USER" "$DF; echo df=\$?; echo after=ok"
        ou_degraded_checks "a dead daemon's socket"
        begin "outage: a dead daemon's socket: the user is told the daemon does not answer"
        has "The daemon at $OU_SOCK does not answer (Connection refused): supervising standalone" "$ERR" && pass ||
                fail "$(head -c 400 "$ERR")"
        rm -f "$OU_SOCK"

        # A session open when its daemon stops: its execs wait for the next daemon, and
        # its user is told why, once, and again when the daemon is back.
        ou_start_daemon
        rm -f "$OU/go"
        mkfifo -m 666 "$OU/go"
        (ou_login "$OU_USER" "read -r _ <$OU/go; /bin/true && echo true-ran; $DF; echo df=\$?"
                echo "$RC" >"$OU/open.rc") &
        OU_OPEN=$!
        sleep 0.5
        ou_stop_daemon
        echo go >"$OU/go"
        sleep 6
        told=$(cat "$ERR")
        ran_early=$(cat "$OUT")
        ou_start_daemon
        wait "$OU_OPEN"
        begin "outage: an open session waits for the daemon, and its user is told so"
        if [ -z "$ran_early" ] && [ "$(cat "$OU/open.rc")" = 0 ] && has "true-ran" "$OUT" && has "df=126" "$OUT" &&
                [[ "$told" == *"The daemon at $OU_SOCK is gone: the execs of session "*" wait for it to return"* ]] &&
                has "The daemon at $OU_SOCK is back: session" "$ERR"; then
                pass
        else
                fail "early: '$ran_early' rc=$(cat "$OU/open.rc") out: $(cat "$OUT") told: $told; err: $(head -c 600 "$ERR")"
        fi
        ou_stop_daemon

        # A daemon that is there but stuck (SIGSTOP, a stalled file system under it): its
        # socket takes the connection and nothing answers. A login waits 5 s, not for ever.
        python3 - "$OU_SOCK" <<'PYEOF' &
import os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(64)
time.sleep(120)   # connections queue in the backlog; none is ever accepted or answered
PYEOF
        OU_STUCK=$!
        for _ in $(seq 100); do [ -S "$OU_SOCK" ] && break; sleep 0.02; done
        t0=$(date +%s)
        ou_login "$OU_USER" "$DF; echo df=\$?; echo after=ok"
        took=$(($(date +%s) - t0))
        kill "$OU_STUCK" 2>/dev/null
        wait "$OU_STUCK" 2>/dev/null
        rm -f "$OU_SOCK"
        begin "outage: a stuck daemon: the login falls back after the wait, df still blocked"
        [ "$RC" = 0 ] && has "df=126" "$OUT" && has "after=ok" "$OUT" && [ "$took" -le 20 ] &&
                has "The daemon at $OU_SOCK does not answer (Connection timed out): supervising standalone with /etc/execguard.ini, degraded: " "$ERR" &&
                pass || fail "rc=$RC after ${took}s: $(cat "$OUT") $(head -c 600 "$ERR")"

        # No sink at all (the log_file unwritable, neither journald nor syslog): a session
        # that would leave no record is not run.
        begin "outage: nowhere to record: the login is refused, nothing runs"
        timeout --kill-after=5 60 unshare --mount --propagation private sh -c '
                mount --bind /dev/null /dev/log 2>/dev/null || mount -t tmpfs tmpfs /dev/log 2>/dev/null
                exec setpriv --reuid="$1" --regid="$1" --init-groups env SSH_ORIGINAL_COMMAND="echo ran" "$2" login' \
                sh "$OU_USER" "$OU/bin/execguard" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        [ "$RC" = 125 ] && ! has "ran" "$OUT" && has "the session would leave no record" "$ERR" && pass ||
                fail "rc=$RC $(cat "$OUT") $(head -c 600 "$ERR")"

        # refuse: the command does not run, and the user is told why.
        ou_policy "on_daemon_unavailable = refuse"
        begin "outage: on_daemon_unavailable = refuse: the login is refused, nothing runs"
        ou_login "$OU_USER" "echo ran"
        [ "$RC" = 125 ] && ! has "ran" "$OUT" &&
                has "No daemon at $OU_SOCK, and /etc/execguard.ini says on_daemon_unavailable = refuse" "$ERR" && pass ||
                fail "rc=$RC $(cat "$OUT") $(head -c 400 "$ERR")"
        begin "outage: check explains on_daemon_unavailable and rejects a wrong value"
        "$EG" check -c /etc/execguard.ini >/dev/null 2>&1
        rc_ok=$?
        printf '[execguard]\non_daemon_unavailable = maybe\n' >"$OU/bad.ini"
        "$EG" check -c "$OU/bad.ini" >"$OUT" 2>"$ERR"
        rc_bad=$?
        [ "$rc_ok" = 0 ] && [ "$rc_bad" != 0 ] &&
                has "invalid on_daemon_unavailable 'maybe' (expected standalone or refuse)" "$ERR" && pass ||
                fail "rc_ok=$rc_ok rc_bad=$rc_bad $(head -c 300 "$ERR")"

        umount /run/execguard
        umount /etc
fi
