# Fault injection, sourced by run.sh after daemon.sh (it provides $EG, $H, $T, $DF, the
# counters and helpers such as sv, has, marker_absent). Each case breaks something on
# purpose — a supervisor or daemon killed or stopped, clients that lie, a policy file that
# goes bad, too few fds, memory that cannot be read — and checks that nothing blocked runs,
# that the daemon stays up (unless it was the one killed) and that it leaks no fd.
#
# Covered elsewhere, not repeated here: kill -9 of the daemon in a loop of execs, and
# restarts (daemon.sh, "restart: ..."); a client sending garbage (daemon.sh).
#
# EXECGUARD_E2E_ONLY=faults tests/e2e/run.sh EXECGUARD HELPERS runs this file alone.

F=$T/faults
mkdir -p "$F"
chmod 755 "$F"

# ---- the standalone supervisor killed -------------------------------------------------------

supervisor_of() { # PID → the execguard-sup among its children and grandchildren
        local w=$1 c
        for _ in $(seq 100); do
                for c in $(pgrep -P "$w") $(for c in $(pgrep -P "$w"); do pgrep -P "$c"; done); do
                        [ "$(cat /proc/$c/comm 2>/dev/null)" = execguard-sup ] && { echo "$c"; return 0; }
                done
                sleep 0.05
        done
        return 1
}

# Once the supervisor is gone no listener is left: the kernel fails every later exec of the
# tree with ENOSYS, the blocked program and an allowed one alike, and the tree goes on (it
# does not hang in its execs). The wrapper says why.
reset_marker
rm -f "$F"/sup.*
begin "kill -9 of the standalone supervisor: later execs fail with ENOSYS, nothing blocked runs, no hang"
timeout -k 5 60 "$EG" run -c "$P" -- sh -c ": >$F/sup.started; while [ ! -e $F/sup.go ]; do sleep 0.1; done
        $T/bin/blocked $T/work/ran; echo \$? >$F/sup.status1
        $T/bin/allowed $F/sup.allowed-ran; echo \$? >$F/sup.status2
        $T/bin/blocked $T/work/ran; echo \$? >$F/sup.status3" >/dev/null 2>"$F/sup.err" &
w=$!
if sup=$(supervisor_of $w); then
        # Killed once it supervises (the command runs), not while it sets up: a supervisor
        # that loads the kernel engine takes some 0.5 s to start here.
        for _ in $(seq 200); do [ -e "$F/sup.started" ] && break; sleep 0.05; done
        sleep 0.1
        kill -9 "$sup"
        touch "$F/sup.go"
        wait $w
        rc=$?
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then fail "the session hung (rc=$rc)"
        elif [ -e "$T/work/ran" ]; then fail "blocked program ran"
        elif [ -e "$F/sup.allowed-ran" ]; then fail "an exec succeeded without a supervisor"
        elif [ "$(cat "$F/sup.status1")" = 0 ]; then fail "exec reported success"
        elif [ "$(cat "$F/sup.status2")" != 126 ] || [ "$(cat "$F/sup.status3")" != 126 ] ||
                [ "$(grep -c 'Function not implemented' "$F/sup.err")" -lt 2 ]; then
                fail "status $(cat "$F/sup.status2") and $(cat "$F/sup.status3"), want 126 (ENOSYS): $(cat "$F/sup.err")"
        elif ! grep -qE "^execguard: the supervisor of session [0-9a-f]+ was lost \(killed by signal 9\): execs in this session now fail$" "$F/sup.err"; then
                fail "the wrapper did not say so: $(cat "$F/sup.err")"
        else pass; fi
else
        fail "no supervisor found"
        touch "$F/sup.go"
        wait $w
fi
reset_marker

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null; then
        begin "fault injection on the daemon"
        skip "need root and python3"
        return 0 2>/dev/null || exit 0
fi

# ---- the daemon: helpers ------------------------------------------------------------------

FSOCK=$F/execguard.sock
FLOG=$F/daemon.log
FPID=""
: >"$FLOG"
cat >"$F/policy.ini" <<EOF
[execguard]
mode = enforce
[block]
path = $DF
path = $T/bin/blocked
EOF
chmod 644 "$F/policy.ini"
cp "$F/policy.ini" "$F/policy.good"

# count TEXT: how many lines of the daemon's log hold TEXT.
count() { grep -cF -- "$1" "$FLOG"; }

# wait_count TEXT N [SECONDS]: until more than N lines of the log hold TEXT (10 s).
wait_count() {
        local i
        for i in $(seq $((${3:-10} * 20))); do [ "$(count "$1")" -gt "$2" ] && return 0; sleep 0.05; done
        return 1
}

# fstart [WRAPPER...]: the daemon on $FSOCK, started through WRAPPER (which must exec it),
# until it listens.
fstart() {
        local n
        n=$(count "Listening on $FSOCK")
        "$@" "$EG" daemon -c "$F/policy.ini" --socket "$FSOCK" 2>>"$FLOG" &
        FPID=$!
        wait_count "Listening on $FSOCK" "$n" 20
}

fstop() {
        [ -n "$FPID" ] || return 0
        kill -CONT "$FPID" 2>/dev/null
        kill "$FPID" 2>/dev/null
        wait "$FPID" 2>/dev/null
        FPID=""
}

alive() { kill -0 "$FPID" 2>/dev/null && [ "$(awk '{print $3}' /proc/$FPID/stat)" != Z ]; }

# fv ARGS...: a command supervised by this daemon; RC, OUT, ERR as sv.
fv() {
        timeout -k 5 60 "$EG" run --socket "$FSOCK" -- "$@" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
}

fds() { ls "/proc/$FPID/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$FPID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$FPID/stat"; }

# settled_fds: the daemon's fd count once no exec is being served (the smallest of a few looks).
settled_fds() {
        local min=999999 n
        for _ in $(seq 10); do
                n=$(fds)
                [ "$n" -lt "$min" ] && min=$n
                sleep 0.05
        done
        echo "$min"
}

# fds_back BASE: up to 10 s for the fd count to come back to BASE.
fds_back() {
        for _ in $(seq 200); do [ "$(fds)" -le "$1" ] && return 0; sleep 0.05; done
        return 1
}

# works: a fresh session through the daemon still refuses the blocked program and runs an
# allowed one. Says what went wrong on stdout.
works() {
        fv sh -c "$T/bin/blocked $T/work/ran; echo blocked=\$?; $T/bin/allowed $F/works-ran && echo allowed=ok"
        if [ "$RC" != 0 ] || ! has blocked=126 "$OUT" || ! has allowed=ok "$OUT" || ! marker_absent; then
                echo "a session afterwards: rc=$RC $(cat "$OUT" "$ERR")"
                return 1
        fi
}

# A bystander: a session that goes on exec'ing, allowed and blocked, every 0.2 s, while
# the faults are injected; by_check says whether it was served right all along.
by_start() {
        rm -f "$F"/by.*
        timeout -k 5 600 "$EG" run --socket "$FSOCK" -- bash -c '
                while [ ! -e "$0/by.stop" ]; do
                        /bin/true || echo "an allowed exec failed" >>"$0/by.bad"
                        "$1" "$0/by.ran" 2>/dev/null; [ $? = 126 ] || echo "blocked: not 126" >>"$0/by.bad"
                        echo x >>"$0/by.count"
                        sleep 0.2
                done' "$F" "$T/bin/blocked" >/dev/null 2>"$F/by.err" &
        BY=$!
        for _ in $(seq 200); do [ -s "$F/by.count" ] && return 0; sleep 0.05; done
        return 1
}
by_check() {
        local before
        before=$(grep -c . "$F/by.count")
        for _ in $(seq 100); do [ "$(grep -c . "$F/by.count")" -gt $((before + 1)) ] && break; sleep 0.1; done
        if [ -e "$F/by.ran" ]; then echo "the bystander ran the blocked program"; return 1; fi
        if [ -e "$F/by.bad" ]; then echo "bystander: $(sort -u "$F/by.bad")"; return 1; fi
        if [ "$(grep -c . "$F/by.count")" -le $((before + 1)) ]; then echo "the bystander is stuck"; return 1; fi
}
by_stop() {
        touch "$F/by.stop"
        wait "$BY"
}

# after_case BASE: the common assertions after a fault: the daemon is up, serves a new
# session and the bystander, and holds BASE fds again. Pass or fail the current test.
after_case() {
        local why
        if ! alive; then fail "the daemon died: $(tail -n 3 "$FLOG")"
        elif ! why=$(works); then fail "$why"
        elif ! why=$(by_check); then fail "$why"
        elif ! fds_back "$1"; then fail "fd leak: $1 fds before, $(fds) after: $(ls -l /proc/$FPID/fd | tail -n +2 | awk '{print $NF}' | sort | uniq -c | sort -rn | head -n 5 | tr '\n' ' ')"
        else pass; fi
}

# ---- the daemon stopped, or killed while stopped ------------------------------------------

fstart || fail "the daemon did not start: $(tail -n 5 "$FLOG")"
by_start || fail "the bystander session did not start: $(cat "$F/by.err")"
BASE=$(settled_fds)
RSS0=$(rss_kb)

# A session that waits on a FIFO, then execs an allowed program and the blocked one.
mkfifo "$F/go"
stopped_session() { # OUTFILE
        timeout -k 5 120 "$EG" run --socket "$FSOCK" -- bash -c 'read x <"$0/go"
                "$1" "$0/st.allowed-ran"; echo allowed=$?
                "$2" "$3"; echo blocked=$?' "$F" "$T/bin/allowed" "$T/bin/blocked" "$T/work/ran" >"$1" 2>&1 &
}

# pending_on_stopped_daemon OUTFILE: a stopped_session whose exec is made, and waits in the
# kernel, while the daemon is stopped (ST: its PID).
pending_on_stopped_daemon() {
        rm -f "$F/st.allowed-ran"
        local n
        n=$(count "supervising for uid")
        stopped_session "$1"
        ST=$!
        wait_count "supervising for uid" "$n"
        sleep 0.3
        kill -STOP "$FPID"
        echo go >"$F/go"
}

begin "SIGSTOP of the daemon for 5 s: execs wait, then go on right after SIGCONT"
pending_on_stopped_daemon "$F/st.out"
# A session started while the daemon is stopped waits too.
timeout -k 5 120 "$EG" run --socket "$FSOCK" -- "$T/bin/allowed" "$F/st.new-ran" >/dev/null 2>"$F/st.new.err" &
NEW=$!
sleep 5
early=""
[ -e "$F/st.allowed-ran" ] && early="the exec did not wait"
[ -e "$F/st.new-ran" ] && early="the new session did not wait"
kill -CONT "$FPID"
wait "$ST"
rc=$?
wait "$NEW"
new_rc=$?
if [ -n "$early" ]; then fail "$early"
elif [ "$rc" != 0 ] || ! has allowed=0 "$F/st.out" || ! has blocked=126 "$F/st.out"; then
        fail "rc=$rc $(cat "$F/st.out")"
elif [ "$new_rc" != 0 ] || [ ! -e "$F/st.new-ran" ]; then fail "the new session: rc=$new_rc $(cat "$F/st.new.err")"
else after_case "$BASE"; fi
rm -f "$F/st.new-ran"

# daemon.sh kills the daemon in a loop of execs; here it is killed while stopped, with an
# exec left pending in the kernel for the next daemon to answer.
begin "kill -9 of a stopped daemon with an exec pending: the next daemon refuses the blocked program"
pending_on_stopped_daemon "$F/st.out"
sleep 1
kill -9 "$FPID"
wait "$FPID" 2>/dev/null
FPID=""
sleep 0.5
fstart || fail "the daemon did not start again"
wait "$ST"
rc=$?
if [ "$rc" != 0 ] || ! has allowed=0 "$F/st.out" || ! has blocked=126 "$F/st.out" || ! marker_absent; then
        fail "rc=$rc $(cat "$F/st.out")"
else
        # A new daemon: a new baseline (the bystander was handed over, as every session).
        BASE=$(settled_fds)
        after_case "$BASE"
fi

# ---- clients that lie ---------------------------------------------------------------------

# client.py SOCKET CASE: one kind of misbehaving client; prints what the daemon answered
# ("error=N message=..."), or "no reply". Requests are well-formed unless the case says so.
cat >"$F/client.py" <<'PY'
import os, socket, struct, sys, time
path, case = sys.argv[1], sys.argv[2]
MAGIC, VERSION, HELLO, SESSION = 0x47584545, 1, 1, 2
REQ = "@III17s"
REP = "@Ii17sBBQI508s"
def request(kind, session=b"0123456789abcdef"):
    return struct.pack(REQ, MAGIC, VERSION, kind, session).ljust(32, b"\0")
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(20)
    s.connect(path)
    return s
def reply(s):
    try:
        data = s.recv(4096)
    except (OSError, socket.timeout) as e:
        return "no reply (%s)" % e
    if len(data) != struct.calcsize(REP):
        return "no reply (%d bytes)" % len(data)
    _, err, _, _, _, _, _, msg = struct.unpack(REP, data)
    return "error=%d message=%s" % (err, msg.rstrip(b"\0").decode())
def send_fds(s, payload, fds):
    socket.send_fds(s, [payload], fds)
null = os.open("/dev/null", os.O_RDONLY)
if case in ("pipe", "file", "eventfd", "memfd", "socket"):
    # A SESSION request with an fd that is no seccomp listener.
    r, w = os.pipe()
    fd = {"pipe": r, "file": os.open(sys.argv[0], os.O_RDONLY), "eventfd": os.eventfd(0),
          "memfd": os.memfd_create("seccomp notify"), "socket": socket.socket().detach()}[case]
    s = conn(); send_fds(s, request(SESSION), [fd]); print(reply(s))
elif case == "nofd":
    s = conn(); s.send(request(SESSION)); print(reply(s))
elif case == "hello-with-fd":
    s = conn(); send_fds(s, request(HELLO), [null]); print(reply(s))
elif case == "short":
    s = conn(); s.send(request(HELLO)[:16]); print(reply(s))
elif case == "long":
    s = conn(); s.send(request(HELLO) + b"x" * 4000); print(reply(s))
elif case == "wrong-magic-with-fd":
    s = conn(); send_fds(s, struct.pack(REQ, 0xdeadbeef, VERSION, SESSION, b"").ljust(32, b"\0"), [null])
    print(reply(s))
elif case == "many-fds":
    # 10,000 fds in all: 39 messages of 253 (SCM_MAX_FD, the most one message carries) and
    # one of 133, two messages to a connection, every connection open at once. A second
    # message the daemon hung up on before it came is sent again on a new connection.
    counts = [253] * 39 + [133]
    conns = [conn() for _ in range(len(counts) // 2)]
    sent = 0
    for i, n in enumerate(counts):
        try:
            send_fds(conns[i // 2], request(SESSION), [null] * n)
        except OSError:
            conns.append(conn())
            send_fds(conns[-1], request(SESSION), [null] * n)
        sent += n
    # The daemon answers the first message and hangs up: with the second still unread, the
    # kernel resets the connection, and the answer may be lost with it.
    rs = set("reset" if "reset by peer" in r else r for r in (reply(s) for s in conns))
    print("%d fds sent; " % sent + ("each refused" if all(r == "reset" or r.startswith("error=-74 message=bad request")
                                                          for r in rs) else str(sorted(rs))))
    for s in conns:
        s.close()
elif case == "connect-close":
    conn().close(); print("closed")
elif case == "hello-close":
    s = conn(); s.send(request(HELLO)); s.close(); print("closed")
elif case == "session-close":
    r, w = os.pipe()
    s = conn(); send_fds(s, request(SESSION), [r]); s.close(); print("closed")
elif case == "hello-reply-close":
    s = conn()
    try:
        s.send(request(HELLO))
    except BrokenPipeError:
        pass # hung up on before it came: its answer may still be there
    print(reply(s)); s.close()
elif case == "half-close":
    s = conn(); s.send(request(HELLO)); s.shutdown(socket.SHUT_WR); print(reply(s))
elif case == "idle":
    # Connected and silent while a real session comes and goes, then gone.
    s = conn(); time.sleep(3); s.close(); print("closed")
else:
    sys.exit("unknown case " + case)
PY

# client NAME CASE EXPECT: run a misbehaving client; its output must hold EXPECT; then the
# daemon must be up, serve a session and the bystander, and hold as many fds as before.
client() {
        local name=$1 case=$2 expect=$3
        begin "bad client: $name: the daemon goes on serving, no fd leak"
        timeout 60 python3 "$F/client.py" "$FSOCK" "$case" >"$F/client.out" 2>&1
        if ! has "$expect" "$F/client.out"; then fail "client said: $(head -c 400 "$F/client.out")"
        else after_case "$BASE"; fi
}
client "a pipe as the listener" pipe "error=-9 message=no seccomp listener attached"
client "a regular file as the listener" file "error=-9 message=no seccomp listener attached"
client "an eventfd as the listener" eventfd "error=-9 message=no seccomp listener attached"
client "a memfd named 'seccomp notify' as the listener" memfd "error=-9 message=no seccomp listener attached"
client "a socket as the listener" socket "error=-9 message=no seccomp listener attached"
client "a session request with no fd" nofd "error=-9 message=no seccomp listener attached"
client "a hello with an fd attached" hello-with-fd "error=0"
client "a short request" short "error=-74 message=bad request"
client "a long request" long "error=-74 message=bad request"
client "a wrong magic, with an fd" wrong-magic-with-fd "error=-71 message=bad request"
client "10,000 fds over 20 connections, 253 to a message" many-fds "10000 fds sent; each refused"
client "connect and close" connect-close closed
client "hello, and gone before the reply" hello-close closed
client "a session request with an fd, and gone before the reply" session-close closed
client "hello, the reply, and gone" hello-reply-close "error=0"
client "hello, then shutdown for writing" half-close "error=0"

begin "bad client: idle connections while a session starts and ends"
timeout 60 python3 "$F/client.py" "$FSOCK" idle >"$F/client.out" 2>&1 &
IDLE=$!
sleep 0.5
works >"$F/works.out" || echo bad >>"$F/works.out"
wait "$IDLE"
if has bad "$F/works.out"; then fail "$(cat "$F/works.out")"; else after_case "$BASE"; fi

begin "bad client: a real wrapper killed while it waits for the daemon's hello"
kill -STOP "$FPID"
{
        timeout -k 5 60 "$EG" run --socket "$FSOCK" -- "$T/bin/blocked" "$T/work/ran" >/dev/null 2>&1 &
        KW=$!
        sleep 1
        pkill -9 -P "$KW"
        kill -CONT "$FPID"
        wait "$KW"
} 2>/dev/null
marker_absent && after_case "$BASE" || fail "the blocked program ran"

# Not under ASan (make check-asan), whose quarantine keeps freed memory on purpose: there
# LeakSanitizer checks the daemon's memory at its exit instead.
if [ -z "${EXECGUARD_E2E_SANITIZED:-}" ]; then
        begin "bad clients: the daemon's memory does not grow"
        RSS1=$(rss_kb)
        # Generous: the first sessions warm caches; a leak of the 10,000 fds' worth would show.
        [ "$RSS1" -lt $((RSS0 + 2048)) ] && pass || fail "VmRSS ${RSS0} kB before, ${RSS1} kB after"
fi

# ---- the policy file goes bad ---------------------------------------------------------------

# restore_policy: the good policy back in place, by rename (as an editor does); the
# daemon's watch reloads it.
restore_policy() {
        local n
        n=$(count "Policy reloaded")
        rm -rf "$F/policy.ini"
        cp "$F/policy.good" "$F/policy.tmp"
        mv "$F/policy.tmp" "$F/policy.ini"
        wait_count "Policy reloaded" "$n"
}

# policy_fault NAME REASON COMMAND: COMMAND breaks the policy file; the change itself
# (inotify), SIGHUP and `execguard reload` must each fail with REASON logged, and leave the
# old policy in force.
policy_fault() {
        local name=$1 reason=$2 cmd=$3 n why=""
        begin "policy file $name: inotify, SIGHUP and execguard reload keep the old policy, say why"
        n=$(count "Reload failed, the policy in force is unchanged")
        eval "$cmd"
        wait_count "Reload failed, the policy in force is unchanged" "$n" || why="no failure logged on the change"
        n=$(count "Reload failed, the policy in force is unchanged")
        kill -HUP "$FPID"
        wait_count "Reload failed, the policy in force is unchanged" "$n" || why="$why; no failure logged on SIGHUP"
        timeout 20 "$EG" reload --socket "$FSOCK" >"$F/reload.out" 2>&1
        rc=$?
        [ "$rc" = 1 ] && has "$reason" "$F/reload.out" || why="$why; reload: rc=$rc $(cat "$F/reload.out")"
        [ "$(grep 'Reload failed' "$FLOG" | tail -n 3 | grep -cF -- "$reason")" = 3 ] ||
                why="$why; the log does not say '$reason': $(grep 'Reload failed' "$FLOG" | tail -n 3)"
        if [ -n "$why" ]; then fail "${why#; }"; else after_case "$BASE"; fi
        reset_marker
        restore_policy || echo "the good policy did not come back: $(tail -n 2 "$FLOG")"
}

policy_fault "deleted" "No such file or directory" 'rm "$F/policy.ini"'
policy_fault "truncated to nothing" "empty" ': >"$F/policy.ini"'
policy_fault "truncated in a section header" "section header without ']'" \
        '{ head -c "$(grep -bo "^\[block" "$F/policy.good" | cut -d: -f1)" "$F/policy.good"; printf "[blo"; } >"$F/policy.ini"'
policy_fault "replaced by a directory" "not a regular file" 'rm "$F/policy.ini"; mkdir "$F/policy.ini"'
policy_fault "replaced by a symlink to /dev/zero" "must not be a symlink" 'ln -sfn /dev/zero "$F/policy.ini"'
policy_fault "replaced by a FIFO" "not a regular file" 'rm "$F/policy.ini"; mkfifo -m 644 "$F/policy.ini"'

# ---- the memory of the exec'ing process cannot be read --------------------------------------

# The daemon reads an exec's path with process_vm_readv() (procmem.c; there is no other
# way in). A session waits; the daemon is replaced by one for which that call fails with
# EPERM for the session's shell alone (a seccomp filter on the daemon, tests/e2e/helpers/
# no-vm-read.c), as a kernel or LSM refusal would; the session is handed to it as to any
# new daemon. Every exec of that shell must be denied, and the log and the audit record must
# say why; a child of the shell, another PID, is judged as usual.
begin "unreadable memory of the exec'ing process: its execs are denied (fail closed), log and record say why"
mkfifo "$F/mem.go"
rm -f "$F"/mem.*-ran "$F/mem.pid"
n=$(count "supervising for uid")
# The shell's own execs are exec builtins (execfail: a failed one returns); a command
# without exec runs in a child.
timeout -k 5 120 "$EG" run --socket "$FSOCK" -- bash -c 'shopt -s execfail
        echo $$ >"$0/mem.pid"; read x <"$0/mem.go"
        "$1" "$0/mem.child-ran"; echo child=$?
        exec "$2" "$3"; echo blocked=$?
        exec "$1" "$0/mem.allowed-ran"; echo allowed=$?' "$F" "$T/bin/allowed" "$T/bin/blocked" "$T/work/ran" \
        >"$F/mem.out" 2>&1 &
MS=$!
wait_count "supervising for uid" "$n"
for _ in $(seq 100); do [ -s "$F/mem.pid" ] && break; sleep 0.05; done
SPID=$(cat "$F/mem.pid")
fstop
n=$(count "supervising for uid")
if fstart "$H/no-vm-read" "$SPID"; then
        wait_count "supervising for uid" $((n + 1)) # the bystander and this session, handed over
        BASE=$(settled_fds)
        echo go >"$F/mem.go"
        wait "$MS"
        rc=$?
        if ! marker_absent; then fail "the blocked program ran"
        elif [ "$rc" != 0 ] || ! has blocked=126 "$F/mem.out" || ! has allowed=126 "$F/mem.out" ||
                [ -e "$F/mem.allowed-ran" ]; then
                fail "rc=$rc $(cat "$F/mem.out")"
        elif ! has child=0 "$F/mem.out" || [ ! -e "$F/mem.child-ran" ]; then
                fail "a child of the shell was not allowed: $(cat "$F/mem.out")"
        elif ! has "Cannot read the memory of $SPID: Operation not permitted; exec denied" "$FLOG"; then
                fail "no log of why: $(tail -n 5 "$FLOG")"
        elif [ -n "$SYSLOG" ] && ! grep "decision=deny pid=$SPID " "$SYSLOG" |
                grep -qF "note=\"cannot read the process's memory: Operation not permitted\""; then
                fail "no audit record of the denial: $(grep "pid=$SPID " "$SYSLOG" | tail -n 2)"
        else after_case "$BASE"; fi
else
        fail "the daemon did not start under no-vm-read: $(tail -n 3 "$FLOG")"
        echo go >"$F/mem.go"
        wait "$MS"
fi
reset_marker
fstop
fstart || fail "the daemon did not start again: $(tail -n 5 "$FLOG")"

# ---- the daemon runs out of fds -------------------------------------------------------------

printf '#!/bin/sh\nexec %s "$@"\n' "$T/bin/allowed" >"$F/allowed.sh"
chmod 755 "$F/allowed.sh"
go() { timeout 10 sh -c 'echo go >"$1"' sh "$1"; } # FIFO: a reader that is gone fails, not hangs

# fd_limit_case NAME: with the daemon limited to 48 fds (by the caller), start sessions one
# by one until one is refused. The refused one must say why and run nothing, the daemon
# must not spin (EMFILE on a listening socket in a level-triggered epoll set is a busy
# loop), and the sessions it took, and the bystander, must still be served right.
fd_limit_case() {
        local name=$1 i n took=0 refused="" hung="" cpu0 cpu1 why=""
        begin "fd limit 48 ($name): new sessions are refused clearly, running ones go on, no spin, no leak"
        rm -f "$F"/lim.*
        BASE=$(settled_fds)
        cpu0=$(cpu_ticks)
        for i in $(seq 20); do
                mkfifo "$F/lim.$i.go"
                n=$(count "supervising for uid")
                # The allowed program through a #! script: a longer chain, more fds at once.
                timeout -k 5 120 "$EG" run --socket "$FSOCK" -- bash -c 'read x <"$0.go"
                        "$2" "$3"; echo blocked=$?
                        "$1" "$0.allowed-ran"; echo allowed=$?' "$F/lim.$i" "$F/allowed.sh" "$T/bin/blocked" \
                        "$T/work/ran" >"$F/lim.$i.out" 2>"$F/lim.$i.err" &
                eval "LIM_$i=\$!"
                # Taken (the daemon says so) or refused (the wrapper exits), within 10 s.
                for _ in $(seq 200); do
                        [ "$(count "supervising for uid")" -gt "$n" ] && { took=$i; break; }
                        kill -0 "$(eval echo "\$LIM_$i")" 2>/dev/null || { refused=$i; break; }
                        sleep 0.05
                done
                [ -n "$refused" ] && break
                [ "$took" = "$i" ] || { hung=$i; break; }
        done
        sleep 2 # a spinning daemon would burn these
        cpu1=$(cpu_ticks)
        if [ -n "$hung" ]; then
                why="session $hung neither taken nor refused in 10 s"
                kill "$(eval echo "\$LIM_$hung")" 2>/dev/null
        elif [ -z "$refused" ]; then
                why="20 sessions taken with 48 fds?"
        else
                wait "$(eval echo "\$LIM_$refused")"
                rc=$?
                if [ "$rc" != 125 ] || ! has "file descriptors" "$F/lim.$refused.err"; then
                        why="the refused session: rc=$rc $(cat "$F/lim.$refused.err")"
                elif [ -s "$F/lim.$refused.out" ]; then
                        why="the refused session ran: $(cat "$F/lim.$refused.out")"
                fi
        fi
        [ $((cpu1 - cpu0)) -lt 100 ] || why="$why; the daemon burnt $((cpu1 - cpu0)) ticks of CPU"
        # The sessions taken go on.
        for i in $(seq "$took"); do
                go "$F/lim.$i.go"
                wait "$(eval echo "\$LIM_$i")"
                rc=$?
                if [ "$rc" != 0 ] || ! has blocked=126 "$F/lim.$i.out" || ! has allowed=0 "$F/lim.$i.out"; then
                        why="$why; session $i: rc=$rc $(cat "$F/lim.$i.out" "$F/lim.$i.err")"
                fi
        done
        marker_absent || why="$why; the blocked program ran"
        [ "$took" -ge 1 ] || why="$why; not one session fitted"
        if [ -n "$why" ]; then fail "${why#; } (took $took)"; else after_case "$BASE"; fi
        reset_marker
}

fstop
fstart prlimit --nofile=48 || fail "the daemon did not start with 48 fds: $(tail -n 5 "$FLOG")"
sleep 0.5 # the bystander is handed over
fd_limit_case "prlimit --nofile=48 at start"
fstop
fstart || fail "the daemon did not start again: $(tail -n 5 "$FLOG")"
sleep 0.5
prlimit --pid "$FPID" --nofile=48
fd_limit_case "prlimit --nofile=48 on the running daemon"

# Lowered under what the daemon holds already: no fd can be opened. A new session must be
# refused with the reason (the daemon keeps one fd for saying so), not left waiting while
# the daemon spins; the execs of running sessions fail closed meanwhile; with the limit
# raised again, all is as before.
begin "fd limit under what the daemon holds: refused with a reason, no spin, execs fail closed, then recovers"
BASE=$(settled_fds)
SOFT=$(awk '/^Max open files/ {print $4}' "/proc/$FPID/limits")
# The soft limit only: raising a hard limit again takes CAP_SYS_RESOURCE.
prlimit --pid "$FPID" --nofile=$((BASE - 2)):
cpu0=$(cpu_ticks)
rm -f "$F/under.ran"
timeout -k 5 30 "$EG" run --socket "$FSOCK" -- "$T/bin/allowed" "$F/under.ran" >"$OUT" 2>"$ERR"
rc=$?
for _ in 1 2 3; do timeout 10 python3 "$F/client.py" "$FSOCK" hello-reply-close >>"$F/under.clients" 2>&1; done
sleep 2
cpu1=$(cpu_ticks)
n_denied=$(count "exec denied")
sleep 1 # the bystander tries an exec or two meanwhile
why=""
[ "$rc" = 125 ] && has "file descriptors" "$ERR" || why="the new session: rc=$rc $(cat "$ERR")"
[ ! -e "$F/under.ran" ] || why="$why; the refused session ran its command"
[ "$(grep -c 'error=-24 message=the daemon has too few file descriptors' "$F/under.clients")" = 3 ] ||
        why="$why; clients: $(sort -u "$F/under.clients")"
[ $((cpu1 - cpu0)) -lt 100 ] || why="$why; the daemon burnt $((cpu1 - cpu0)) ticks of CPU"
[ -e "$F/by.ran" ] && why="$why; the bystander ran the blocked program"
alive || why="$why; the daemon died"
prlimit --pid "$FPID" --nofile="$SOFT":
# The bystander's execs were denied meanwhile, as they must be: forget that, once the
# iteration that may have begun under the low limit is over (two more counted).
c0=$(grep -c . "$F/by.count")
for _ in $(seq 100); do [ "$(grep -c . "$F/by.count")" -ge $((c0 + 2)) ] && break; sleep 0.1; done
rm -f "$F/by.bad"
if [ -n "$why" ]; then fail "${why#; }"; else after_case "$BASE"; fi

by_stop
fstop
