# End-to-end tests of the host daemon, sourced by run.sh (which provides $EG, $H, $T, $DF,
# the counters and the helpers). The daemon runs on a private socket and a private
# NOTIFY_SOCKET this file reads; /etc and /run/execguard are private overlays inside the
# suite's own mount namespace, so the host's configuration is never touched.

. "$HERE/daemon-lib.sh"

cat >"$D/policy.ini" <<EOF
[execguard]
mode = enforce
log_file = $JSON
log_allowed = yes
[block]
path = $DF
path = $T/bin/blocked
EOF
chmod 644 "$D/policy.ini"

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null; then
        begin "daemon tests"
        skip "need root and python3"
        return 0 2>/dev/null || exit 0
fi

start_notify_sink

begin "daemon: READY=1 with STATUS= once it accepts sessions"
if start_daemon "$D/policy.ini"; then
        grep -q '^READY=1|STATUS=0 sessions' "$NOTIFY" && [ -S "$SOCK" ] && pass || fail "$(cat "$NOTIFY")"
else
        fail "no READY=1: $(tail -n 5 "$DLOG")"
fi

begin "daemon: the socket can be reached by any local user"
[ "$(stat -c %a "$SOCK")" = 666 ] && pass || fail "mode $(stat -c %a "$SOCK")"

begin "daemon: an allowed command runs through it, with its exit status"
dv sh -c 'echo hello; exit 7'
[ "$RC" = 7 ] && [ "$(cat "$OUT")" = hello ] && pass || fail "rc=$RC $(cat "$ERR")"

begin "daemon: a blocked program is refused (EACCES, 126) and told"
dv "$DF"
[ "$RC" = 126 ] && blocked_line "$DF" && pass || fail "rc=$RC $(cat "$ERR")"

begin "daemon: a blocked program reached by a symlink is refused"
ln -sf "$DF" "$D/link-to-df"
dv sh -c "\"$D/link-to-df\"; echo rc=\$?"
has "rc=126" "$OUT" && pass || fail "$(cat "$OUT") $(cat "$ERR")"

begin "daemon: STATUS= counts sessions and decisions"
wait_for "$NOTIFY" "denied" && grep 'STATUS=' "$NOTIFY" | tail -n 1 | grep -Eq 'STATUS=0 sessions \([0-9]+ since start\); decisions: [0-9]+ allowed, [1-9][0-9]* denied' &&
        pass || fail "$(tail -n 2 "$NOTIFY")"

begin "daemon: STATUS= follows the decisions of a running session"
: >"$NOTIFY"
dv bash -c '/bin/true; /bin/true; /bin/true; sleep 2.5'
grep 'STATUS=1 sessions' "$NOTIFY" | grep -Eq 'decisions: ([4-9]|[1-9][0-9]+) allowed' && pass || fail "$(cat "$NOTIFY")"

begin "daemon: the session's peer comes from SO_PEERCRED (a session started as nobody)"
timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups "$EG" run --socket "$SOCK" -- "$DF" >"$OUT" 2>"$ERR"
RC=$?
wait_for "$DLOG" "for uid 65534" && [ "$RC" = 126 ] && pass || fail "rc=$RC $(tail -n 3 "$DLOG")"

# ---- audit trail ------------------------------------------------------------------------

begin "audit: log_file is JSON lines, one valid object per line"
json_check "$JSON" 'len(recs) >= 3' && pass || fail "$(tail -n 2 "$JSON")"

begin "audit: a deny record carries the ECS fields"
json_check "$JSON" "any(get(r,'event.outcome')=='failure' and get(r,'event.action')=='exec-denied'
    and get(r,'process.executable')=='$DF' and get(r,'process.args')==['$DF']
    and isinstance(get(r,'process.pid'), int) and isinstance(get(r,'process.parent.pid'), int)
    and get(r,'user.id')=='0' and get(r,'user.name')=='root' and get(r,'host.hostname')
    and get(r,'rule.name')=='$D/policy.ini:6' and get(r,'@timestamp').endswith('Z')
    and get(r,'execguard.mode')=='enforce' and get(r,'execguard.session')
    and get(r,'process.working_directory') for r in recs)" && pass || fail
begin "audit: the uid of a deny record is the process's (nobody)"
json_check "$JSON" "any(get(r,'event.action')=='exec-denied' and get(r,'user.id')=='65534' for r in recs)" &&
        pass || fail
begin "audit: allowed execs are recorded with log_allowed = yes"
json_check "$JSON" "any(get(r,'event.outcome')=='success' and get(r,'event.action')=='exec-allowed'
    and get(r,'process.args')==['sh','-c','echo hello; exit 7'] for r in recs)" && pass || fail

begin "audit: a file name with a newline and control characters stays in its record"
ln -sf "$DF" "$D/$(printf 'evil\nname\033')"
dv bash -c "\"$D/evil\"\$'\\n'\"name\"\$'\\033'; true"
json_check "$JSON" "any(get(r,'execguard.requested')=='$D/evil\\nname\\x1b' for r in recs)" && pass ||
        fail "$(grep -c . "$JSON") lines"

if [ -n "${EXECGUARD_E2E_NS:-}" ]; then
        begin "audit: journald gets structured fields with a MESSAGE_ID"
        MADE_JOURNAL_DIR=""
        [ -d /run/systemd/journal ] || { mkdir -p /run/systemd/journal && MADE_JOURNAL_DIR=1; }
        if mount -t tmpfs -o mode=755 tmpfs /run/systemd/journal; then
                "$H/journal-sink" /run/systemd/journal/socket "$D/journal.txt" &
                JSINK=$!
                for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
                stop_daemon
                start_daemon "$D/policy.ini"
                dv "$DF"
                if wait_for "$D/journal.txt" "EXECGUARD_DECISION=deny" &&
                        grep "EXECGUARD_DECISION=deny" "$D/journal.txt" | grep -F "MESSAGE_ID=" |
                        grep -F "EXECGUARD_RULE=$D/policy.ini:6" | grep -qF "EXECGUARD_EXECUTABLE=$DF"; then
                        pass
                else
                        fail "$(tail -n 2 "$D/journal.txt")"
                fi
                stop_daemon
                kill "$JSINK" 2>/dev/null
                umount /run/systemd/journal
                [ -z "$MADE_JOURNAL_DIR" ] || rmdir /run/systemd/journal /run/systemd 2>/dev/null
                start_daemon "$D/policy.ini"
        else
                fail "cannot mount a private /run/systemd/journal"
        fi
fi

# ---- restart: sessions outlive the daemon ------------------------------------------------

begin "restart: execs made while the daemon restarts wait, none fails, none blocked runs"
(
        timeout 120 "$EG" run --socket "$SOCK" -- bash -c '
                ok=0 bad=0
                for i in $(seq 1500); do if /bin/true; then ok=$((ok+1)); else bad=$((bad+1)); fi; done
                "$0" "$1" >/dev/null 2>&1; echo "ok=$ok bad=$bad blocked=$?"' "$T/bin/blocked" "$T/work/ran" >"$D/loop.out" 2>&1
        echo "rc=$?" >>"$D/loop.out"
) &
LOOP=$!
sleep 0.4
for round in 1 2 3; do
        stop_daemon
        sleep 0.3 # execs wait meanwhile
        start_daemon "$D/policy.ini" || break
        sleep 0.3
done
wait "$LOOP"
grep -q "ok=1500 bad=0 blocked=126" "$D/loop.out" && grep -q "rc=0" "$D/loop.out" && marker_absent && pass ||
        fail "$(cat "$D/loop.out")"
reset_marker

begin "restart: the session was handed to each new daemon"
[ "$(grep -c 'supervising for uid 0' "$DLOG")" -ge 4 ] && pass || fail "$(grep -c 'supervising' "$DLOG")"

begin "restart: kill -9 of the daemon mid-exec: no exec waits for ever, none blocked runs"
(
        timeout 100 "$EG" run --socket "$SOCK" -- bash -c '
                n=0
                for i in $(seq 2000); do /bin/true 2>/dev/null; n=$((n+1)); done
                "$0" "$1" >/dev/null 2>&1; echo "done=$n blocked=$?"' "$T/bin/blocked" "$T/work/ran" >"$D/kill9.out" 2>&1
        echo "rc=$?" >>"$D/kill9.out"
) &
LOOP=$!
sleep 0.3
for round in $(seq 10); do
        kill -9 "$DAEMON_PID"
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=""
        start_daemon "$D/policy.ini" || break
        sleep 0.2
done
wait "$LOOP"
# An exec being verified when the daemon died is killed with it (fail closed); one being
# answered is woken by the next daemon and notified again.
grep -q "done=2000 blocked=126" "$D/kill9.out" && grep -q "rc=0" "$D/kill9.out" && marker_absent && pass ||
        fail "$(cat "$D/kill9.out")"
reset_marker

begin "restart: a stopped daemon says STOPPING=1 and removes its socket"
stop_daemon
grep -q '^STOPPING=1' "$NOTIFY" && [ ! -e "$SOCK" ] && [ "$DAEMON_RC" = 0 ] && pass || fail "rc=$DAEMON_RC"

begin "restart: --socket with no daemon fails closed (125), nothing runs"
dv "$T/bin/allowed" "$T/work/ran"
[ "$RC" = 125 ] && marker_absent && pass || fail "rc=$RC"

# ---- reload ---------------------------------------------------------------------------

start_daemon "$D/policy.ini"
cp "$D/policy.ini" "$D/policy.good"

begin "reload: SIGHUP loads a changed policy (RELOADING=1, then READY=1)"
printf 'path = %s\n' "$T/bin/allowed" >>"$D/policy.ini"
: >"$NOTIFY"
kill -HUP "$DAEMON_PID"
wait_for "$NOTIFY" "READY=1"
dv "$T/bin/allowed" "$T/work/ran"
grep -q '^RELOADING=1|MONOTONIC_USEC=' "$NOTIFY" && [ "$RC" = 126 ] && marker_absent && pass ||
        fail "rc=$RC $(cat "$NOTIFY")"

begin "reload: execguard reload says what it loaded"
cp "$D/policy.good" "$D/policy.ini"
RELOAD_OUT=$("$EG" reload --socket "$SOCK" 2>&1)
RELOAD_RC=$?
dv "$T/bin/allowed" "$T/work/ran"
[ "$RELOAD_RC" = 0 ] && echo "$RELOAD_OUT" | grep -q "$D/policy.ini: loaded" && [ -e "$T/work/ran" ] && pass ||
        fail "rc=$RELOAD_RC $RELOAD_OUT; then rc=$RC"
reset_marker

begin "reload: a broken file leaves the old policy in force and is reported with file:line"
printf '[block]\npath = relative/path\n' >>"$D/policy.ini"
"$EG" reload --socket "$SOCK" >"$OUT" 2>"$ERR"
[ $? = 1 ] || echo "reload did not fail" >>"$ERR"
RELOAD_ERR=$(cat "$ERR")
dv "$DF"
[ "$RC" = 126 ] && echo "$RELOAD_ERR" | grep -qF "$D/policy.ini:9:" &&
        blocked_line "$DF" && pass || fail "rc=$RC $RELOAD_ERR"

# logrotate moves the log_file away and asks for a reload: a policy file that does not
# load just then must not leave the records going to the moved file for good.
begin "reload: a failed reload still takes up a rotated log_file"
mv "$JSON" "$JSON.1"
rotated=$(grep -c . "$JSON.1")
"$EG" reload --socket "$SOCK" >"$OUT" 2>"$ERR"
rotate_rc=$?
dv "$DF"
if [ "$rotate_rc" = 1 ] && [ "$RC" = 126 ] && wait_for "$JSON" '"exec-denied"' &&
        [ "$(grep -c . "$JSON.1")" = "$rotated" ]; then
        pass
else
        fail "reload rc=$rotate_rc, df rc=$RC; rotated file $rotated -> $(grep -c . "$JSON.1") lines; new: $(head -c 300 "$JSON" 2>&1)"
fi
cat "$JSON.1" "$JSON" >"$JSON.all" 2>/dev/null && mv "$JSON.all" "$JSON"
rm -f "$JSON.1"

begin "reload: a change of the file is picked up without a signal (inotify)"
: >"$NOTIFY"
{ cat "$D/policy.good"; printf 'path = %s\n' "$T/bin/allowed"; } >"$D/policy.new"
chmod 644 "$D/policy.new"
mv "$D/policy.new" "$D/policy.ini"
wait_for "$NOTIFY" "READY=1"
dv "$T/bin/allowed" "$T/work/ran"
[ "$RC" = 126 ] && marker_absent && pass || fail "rc=$RC"

begin "reload: a policy file writable by group or others is refused"
chmod 664 "$D/policy.ini"
"$EG" reload --socket "$SOCK" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "writable" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"
chmod 644 "$D/policy.ini"

begin "reload: a policy file not owned by root is refused"
chown nobody "$D/policy.ini"
"$EG" reload --socket "$SOCK" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "owned" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"
chown root "$D/policy.ini"

begin "reload: only root may ask for it"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$EG" reload --socket "$SOCK" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "only root" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"

begin "daemon: a client sending garbage is dropped; the daemon goes on serving"
python3 - "$SOCK" <<'EOF'
import socket, sys
for payload in (b"garbage", b"\0" * 4096, b""):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(payload)
    s.close()
EOF
dv "$DF"
[ "$RC" = 126 ] && kill -0 "$DAEMON_PID" && pass || fail "rc=$RC"

begin "daemon: a second daemon on the same socket refuses to start"
"$EG" daemon -c "$D/policy.ini" --socket "$SOCK" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "Another daemon" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"

begin "daemon: a socket directory writable by others is refused"
mkdir -p "$D/open"
chmod 1777 "$D/open"
"$EG" daemon -c "$D/policy.ini" --socket "$D/open/s.sock" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "not writable by group or others" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"

# ---- the defaults: run without -c, login ------------------------------------------------

if [ -n "${EXECGUARD_E2E_NS:-}" ] && mkdir -p "$D/etc-up" "$D/etc-work" &&
        mount -t overlay overlay -o "lowerdir=/etc,upperdir=$D/etc-up,workdir=$D/etc-work" /etc &&
        mkdir -p /run/execguard && mount -t tmpfs -o mode=755 tmpfs /run/execguard; then
        stop_daemon
        cp "$D/policy.good" /etc/execguard.ini
        chmod 644 /etc/execguard.ini

        begin "run without -c: standalone with /etc/execguard.ini when no daemon listens"
        "$EG" run -v -- "$DF" >"$OUT" 2>"$ERR"
        RC=$?
        [ "$RC" = 126 ] && has "No daemon at /run/execguard/execguard.sock: supervising standalone with /etc/execguard.ini" "$ERR" &&
                pass || fail "rc=$RC $(cat "$ERR")"

        NOTIFY_SOCKET=$D/notify.sock "$EG" daemon 2>>"$DLOG" &
        DAEMON_PID=$!
        wait_for "$NOTIFY" "READY=1"
        for _ in $(seq 100); do [ -S /run/execguard/execguard.sock ] && break; sleep 0.02; done

        begin "run without -c: handed to the daemon when its socket exists"
        "$EG" run -v -- "$DF" >"$OUT" 2>"$ERR"
        RC=$?
        [ "$RC" = 126 ] && has "Supervised by the daemon at /run/execguard/execguard.sock" "$ERR" && pass ||
                fail "rc=$RC $(cat "$ERR")"

        begin "login: SSH_ORIGINAL_COMMAND runs with the user's shell -c, supervised"
        SSH_ORIGINAL_COMMAND='echo "$0:$(id -u)"; df; echo df=$?' "$EG" login >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        [ "$RC" = 0 ] && has "bash:0" "$OUT" && has "df=126" "$OUT" && blocked_line "$DF" && pass ||
                fail "rc=$RC $(cat "$OUT" "$ERR")"

        begin "login: without a command, the user's shell starts as a login shell"
        echo 'echo "login=$0"; shopt -q login_shell && echo is-login; df' | "$EG" login >"$OUT" 2>"$ERR"
        RC=$?
        has "login=-bash" "$OUT" && has "is-login" "$OUT" && blocked_line "$DF" && pass ||
                fail "rc=$RC $(cat "$OUT" "$ERR")"

        begin "login: as a login shell, sshd's -c COMMAND is supervised"
        "$EG" -c "$DF" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        [ "$RC" = 126 ] && blocked_line "$DF" && pass || fail "rc=$RC $(cat "$ERR")"

        # sshd sets SHELL to the passwd entry's shell: execguard itself when it is the login
        # shell. Inside the session $SHELL must be the shell that really runs, or `$SHELL -c`
        # (tmux, vim's :!, script) would start execguard again, which cannot nest.
        begin "login: as a login shell, SHELL is the user's real shell inside the session (\$SHELL -c works)"
        SHELL=$EG "$EG" -c 'echo "shell=$SHELL"; $SHELL -c "echo inner-ok"; df >/dev/null 2>&1; echo df=$?' \
                >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        real_shell=$(getent passwd "$(id -un)" | cut -d: -f7)
        [ "$RC" = 0 ] && has "shell=$real_shell" "$OUT" && has "inner-ok" "$OUT" && has "df=126" "$OUT" && pass ||
                fail "rc=$RC $(cat "$OUT" "$ERR")"

        begin "login: the sftp subsystem works (internal-sftp runs the host's sftp-server)"
        if [ -x /usr/lib/openssh/sftp-server ] && command -v sftp >/dev/null; then
                mkdir -p "$D/sftp" && echo payload >"$D/sftp/file.txt"
                printf '#!/bin/sh\nSSH_ORIGINAL_COMMAND=internal-sftp exec "%s" login\n' "$EG" >"$D/sftp-wrap"
                chmod 755 "$D/sftp-wrap"
                printf 'get %s %s\n' "$D/sftp/file.txt" "$D/sftp/copy.txt" >"$D/sftp.batch"
                timeout 60 sftp -b "$D/sftp.batch" -D "$D/sftp-wrap" >"$OUT" 2>"$ERR"
                RC=$?
                [ "$RC" = 0 ] && [ "$(cat "$D/sftp/copy.txt" 2>/dev/null)" = payload ] && pass ||
                        fail "rc=$RC $(cat "$ERR")"
        else
                skip "no sftp-server (openssh-sftp-server) or sftp client"
        fi

        begin "daemon: sessions that end while their wrapper still holds the listener leave it serving"
        for _ in 1 2 3; do timeout 60 sftp -b "$D/sftp.batch" -D "$D/sftp-wrap" >/dev/null 2>&1; done
        timeout 60 "$EG" run --socket /run/execguard/execguard.sock -- "$DF" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        [ "$RC" = 126 ] && blocked_line "$DF" && pass || fail "rc=$RC $(cat "$ERR")"

        # ---- setuid programs: no_new_privs = no -------------------------------------------
        begin "no_new_privs = no: sudo works in a session, and what it runs is still judged"
        if command -v sudo >/dev/null && command -v setcap >/dev/null; then
                SUDO=$(command -v sudo)
                printf 'nobody ALL=(root) NOPASSWD: /usr/bin/id, %s\n' "$DF" >/etc/sudoers.d/execguard-test
                chmod 440 /etc/sudoers.d/execguard-test
                mkdir -p "$D/capbin" && cp "$EG" "$D/capbin/execguard" && chmod 755 "$D/capbin" "$D/capbin/execguard"
                setcap cap_sys_admin,cap_setpcap+p "$D/capbin/execguard"
                as_nobody_run() {
                        timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
                                "$D/capbin/execguard" run -- "$@" >"$OUT" 2>"$ERR" </dev/null
                        RC=$?
                }
                # The default (no_new_privs = yes): sudo cannot become root.
                as_nobody_run "$SUDO" -n /usr/bin/id -u
                nnp_rc=$RC
                nnp_err=$(cat "$ERR")
                { cat /etc/execguard.ini; printf '[execguard]\nno_new_privs = no\n'; } >"$D/nnp.ini"
                cp "$D/nnp.ini" /etc/execguard.ini
                "$EG" reload >/dev/null
                as_nobody_run "$SUDO" -n /usr/bin/id -u
                id_rc=$RC
                id_out=$(cat "$OUT")
                as_nobody_run "$SUDO" -n "$DF"
                if [ "$nnp_rc" != 0 ] && [ "$id_rc" = 0 ] && [ "$id_out" = 0 ] && [ "$RC" = 1 ] &&
                        blocked_line "$DF"; then
                        pass
                else
                        fail "nnp: rc=$nnp_rc ($nnp_err); sudo id: rc=$id_rc out=$id_out; sudo df: rc=$RC $(cat "$ERR")"
                fi

                begin "no_new_privs = no: refused standalone for a non-root user"
                timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
                        "$D/capbin/execguard" run -c "$D/nnp.ini" -- /usr/bin/id >"$OUT" 2>"$ERR" </dev/null
                RC=$?
                [ "$RC" = 2 ] && has "needs a supervisor running as root" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"

                begin "no_new_privs = no: refused when the daemon at --socket is not root"
                python3 - "$D/fake.sock" <<'EOF' &
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
os.setgid(65534); os.setuid(65534)   # a "daemon" run by nobody, who says no_new_privs = no
s.listen(4)                          # SO_PEERCRED: the credentials of listen()
c, _ = s.accept()
c.recv(4096)
rep = struct.pack("@Ii17sBBQI508s", 0x47584545, 0, b"0123456789abcdef", 0, 0, 0, 0, b"")
c.send(rep.ljust(len(rep), b"\0"))
c.recv(4096)
EOF
                FAKE=$!
                for _ in $(seq 100); do [ -S "$D/fake.sock" ] && break; sleep 0.02; done
                "$D/capbin/execguard" run --socket "$D/fake.sock" -- /usr/bin/id >"$OUT" 2>"$ERR" </dev/null
                RC=$?
                kill "$FAKE" 2>/dev/null
                [ "$RC" = 125 ] && has "not root" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"
                cp "$D/policy.good" /etc/execguard.ini
                "$EG" reload >/dev/null
        else
                skip "no sudo or setcap"
        fi

        begin "capabilities = ...: the session's bounding set keeps only those"
        { cat "$D/policy.good"; printf '[execguard]\ncapabilities = cap_net_bind_service, cap_chown\n'; } >/etc/execguard.ini
        "$EG" reload >/dev/null
        "$EG" run -- grep CapBnd /proc/self/status >"$OUT" 2>"$ERR"
        d_bnd=$(cat "$OUT")
        "$EG" run -c /etc/execguard.ini -- grep CapBnd /proc/self/status >"$OUT" 2>"$ERR"
        [ "$d_bnd" = "$(printf 'CapBnd:\t0000000000000401')" ] && has "0000000000000401" "$OUT" && pass ||
                fail "daemon: $d_bnd standalone: $(cat "$OUT" "$ERR")"
        cp "$D/policy.good" /etc/execguard.ini

        stop_daemon
        umount /run/execguard
        umount /etc
else
        begin "run without -c, login, setuid"
        skip "needs root in the suite's private mount namespace (overlay on /etc)"
fi

# ---- installation ------------------------------------------------------------------------

begin "install: binary with file capabilities, unit, man pages; an existing policy is kept"
rm -rf "$D/prefix"
if make -s -C "$REPO" install PREFIX="$D/prefix" UNITDIR="$D/prefix/unit" SYSCONFDIR="$D/prefix/etc" \
        >"$OUT" 2>"$ERR"; then
        echo "# mine" >>"$D/prefix/etc/execguard.ini"
        make -s -C "$REPO" install PREFIX="$D/prefix" UNITDIR="$D/prefix/unit" SYSCONFDIR="$D/prefix/etc" >/dev/null 2>&1
        getcap "$D/prefix/sbin/execguard" | grep -q "cap_setpcap,cap_sys_admin=p" &&
                [ -f "$D/prefix/share/man/man8/execguard.8" ] && [ -f "$D/prefix/share/man/man5/execguard.ini.5" ] &&
                grep -q "# mine" "$D/prefix/etc/execguard.ini" && pass || fail "$(ls -R "$D/prefix")"
else
        fail "$(cat "$ERR")"
fi

begin "install: the unit passes systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
        systemd-analyze verify --man=no "$D/prefix/unit/execguard.service" >"$OUT" 2>&1 && pass || fail "$(cat "$OUT")"
else
        skip "no systemd-analyze"
fi

begin "man pages: mandoc -Tlint is clean"
if command -v mandoc >/dev/null; then
        mandoc -Tlint -W warning "$REPO/man/execguard.8" "$REPO/man/execguard.ini.5" >"$OUT" 2>&1 && pass ||
                fail "$(cat "$OUT")"
else
        skip "no mandoc"
fi

kill "$NOTIFY_SINK" 2>/dev/null
stop_daemon
