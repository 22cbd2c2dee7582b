# End-to-end attacks, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
#
# What the supervisor writes for a process: the "execguard: blocked ..." line on its stderr.
# The supervisor is root; the session's user is not. A user who makes fd 2 an O_PATH fd to
# something only root may write (a disk, a FIFO, another user's terminal) must not get the
# supervisor to write there: it writes only through the process's own description, and only
# one opened for writing. Every attack runs twice: through the daemon, and under a standalone
# supervisor started by root whose command drops to nobody.

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null || ! command -v setpriv >/dev/null; then
        begin "writes: attacks on the supervisor's writes"
        skip "need root, python3 and setpriv"
        return 0 2>/dev/null || exit 0
fi

W=$T/writes
mkdir -p "$W"
chmod 755 "$W"

# The attack: open TARGET with O_PATH (no permission needed but search: the default), or
# for reading (read:TARGET), or for writing (write:TARGET), make it fd 2, exec PROGRAM. Exits
# 126 when the exec is refused with EACCES, and writes nothing itself: whatever reaches
# TARGET is the supervisor's.
cat >"$W/attack.py" <<'EOF'
import errno, os, sys
target, prog = sys.argv[1], sys.argv[2:]
how, _, name = target.rpartition(":")
flags = {"": os.O_PATH, "read": os.O_RDONLY, "write": os.O_WRONLY | os.O_NOCTTY}[how]
os.dup2(os.open(name, flags), 2)
try:
    os.execv(prog[0], prog)
except OSError as e:
    os._exit(126 if e.errno == errno.EACCES else 100 + e.errno)
EOF
chmod 644 "$W/attack.py"

# The daemon's READY=1 comes to a sink of our own (an earlier file's may be gone).
rm -f "$D/notify.sock"
start_notify_sink
if ! start_daemon "$P"; then
        begin "writes: the daemon starts"
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
fi

# attack_both TARGET [PROGRAM]: the attack through the daemon and under a standalone
# root supervisor, as nobody; sets RC_DAEMON, RC_RUN (each must be 126: refused, not run).
attack_both() {
        local target=$1 prog=${2:-$DF}
        timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups "$EG" run --socket "$SOCK" -- \
                python3 "$W/attack.py" "$target" "$prog" \
                >"$OUT" 2>"$ERR" </dev/null
        RC_DAEMON=$?
        timeout 60 "$EG" run -c "$P" -- setpriv --reuid=nobody --regid=nogroup --clear-groups \
                python3 "$W/attack.py" "$target" "$prog" >"$OUT" 2>"$ERR" </dev/null
        RC_RUN=$?
}

begin "writes: an O_PATH fd 2 to a root-only block device: nothing is written to the disk"
LOOP=""
truncate -s 1M "$W/disk.img"
if LOOP=$(losetup -f --show "$W/disk.img" 2>/dev/null) && [ -b "$LOOP" ]; then
        chmod 600 "$LOOP"
        attack_both "$LOOP"
        # A long path: the "refused" message (max_path) carries it.
        write_policy "$W/short.ini" enforce deny "max_path = 64"
        long=$W/$(printf 'x%.0s' $(seq 80))
        timeout 60 "$EG" run -c "$W/short.ini" -- setpriv --reuid=nobody --regid=nogroup --clear-groups \
                python3 "$W/attack.py" "$LOOP" "$long" >"$OUT" 2>"$ERR" </dev/null
        RC_LONG=$?
        sync
        written=$(head -c 65536 "$LOOP" | tr -d '\0' | head -c 200)
        if [ -n "$written" ]; then
                fail "the disk's first bytes were written: '$written' (rc $RC_DAEMON, $RC_RUN, $RC_LONG)"
        elif [ "$RC_DAEMON" != 126 ] || [ "$RC_RUN" != 126 ] || [ "$RC_LONG" != 126 ]; then
                fail "rc $RC_DAEMON (daemon), $RC_RUN (run), $RC_LONG (refused): want 126 each"
        else
                pass
        fi
        losetup -d "$LOOP"
else
        skip "no loop device (losetup -f failed)"
fi

begin "writes: an O_PATH fd 2 to a root-only FIFO: its reader gets nothing"
mkfifo -m 600 "$W/fifo"
timeout 20 cat "$W/fifo" >"$W/fifo.out" &
READER=$!
attack_both "$W/fifo"
# Let the reader go, if it still waits: a writer of ours opens and closes the FIFO.
timeout 5 sh -c ': >"$0"' "$W/fifo" 2>/dev/null
wait "$READER"
if [ -s "$W/fifo.out" ]; then
        fail "the FIFO's reader got: $(head -c 200 "$W/fifo.out")"
elif [ "$RC_DAEMON" != 126 ] || [ "$RC_RUN" != 126 ]; then
        fail "rc $RC_DAEMON (daemon), $RC_RUN (run): want 126 each"
else
        pass
fi

# pty_attack MODE: root opens a pseudo-terminal; the session's stderr is its slave, reached
# as nobody with O_PATH (MODE attack: the slave is root's, 0600) or opened for writing by
# nobody itself (MODE own: the slave is nobody's, as a login's terminal is; MODE stopped:
# the same, with its output stopped by ^S). Prints what the master read, then the exit
# statuses and how long the slowest run took.
pty_attack() {
        python3 - "$1" "$EG" "$P" "$SOCK" "$W/attack.py" "$DF" <<'EOF'
import os, pty, select, subprocess, sys, termios, time
mode, eg, policy, sock, attack, df = sys.argv[1:7]
master, slave = pty.openpty()
name = os.ttyname(slave)
if mode == "attack":
    os.chmod(name, 0o600)
else:
    os.chown(name, 65534, 65534)
if mode == "stopped":
    termios.tcflow(slave, termios.TCOOFF)
nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
# nobody reaches the terminal with O_PATH, or opens it for writing itself, as its stderr.
cmd = ["python3", attack, name if mode == "attack" else "write:" + name, df]
rcs, slowest = [], 0.0
for argv in ([*nobody, eg, "run", "--socket", sock, "--", *cmd], [eg, "run", "-c", policy, "--", *nobody, *cmd]):
    start = time.monotonic()
    try:
        rcs.append(subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=30).returncode)
    except subprocess.TimeoutExpired:
        rcs.append("timeout")
    slowest = max(slowest, time.monotonic() - start)
if mode == "stopped":
    termios.tcflow(slave, termios.TCOON)
got = b""
while select.select([master], [], [], 0.5)[0]:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    got += chunk
print(got.decode(errors="replace").replace("\n", "|"))
print(*rcs, "%.1f" % slowest)
EOF
}

begin "writes: an O_PATH fd 2 to root's terminal: nothing appears on it"
pty_attack attack >"$W/pty.txt" 2>&1
read -r RCS <<<"$(sed -n 2p "$W/pty.txt")"
if grep -q execguard "$W/pty.txt"; then
        fail "root's terminal got: $(head -n 1 "$W/pty.txt")"
elif [ "${RCS% *}" != "126 126" ]; then
        fail "rc and time: $RCS (want 126 126): $(cat "$W/pty.txt")"
else
        pass
fi

begin "writes: a terminal the session opened for writing itself is still told"
pty_attack own >"$W/pty.txt" 2>&1
n=$(head -n 1 "$W/pty.txt" | grep -o "execguard: blocked $DF" | wc -l)
read -r RCS <<<"$(sed -n 2p "$W/pty.txt")"
[ "$n" = 2 ] && [ "${RCS% *}" = "126 126" ] && pass || fail "told $n times of 2; $(cat "$W/pty.txt")"

begin "writes: a terminal whose output is stopped (^S) does not hold the supervisor"
pty_attack stopped >"$W/pty.txt" 2>&1
read -r RCS <<<"$(sed -n 2p "$W/pty.txt")"
if [ "${RCS% *}" != "126 126" ] || ! awk -v s="${RCS##* }" 'BEGIN { exit !(s < 10) }'; then
        fail "rc and seconds: $RCS: $(cat "$W/pty.txt")"
else
        pass
fi

begin "writes: a full pipe as stderr does not hold the supervisor, and the exec is refused"
python3 - "$EG" "$P" "$SOCK" "$DF" >"$W/pipe.txt" 2>&1 <<'EOF'
import fcntl, os, subprocess, sys, time
eg, policy, sock, df = sys.argv[1:5]
r, w = os.pipe()
os.set_blocking(w, False)
try:
    while True:
        os.write(w, b"x" * 65536)
except BlockingIOError:
    pass
os.set_blocking(w, True)  # the session's stderr: a blocking pipe nobody reads
rcs = []
start = time.monotonic()
# The session writes nothing itself, which would block natively too.
cmd = ["python3", "-c", "import os, sys\ntry: os.execv(sys.argv[1], sys.argv[1:])\nexcept OSError: os._exit(126)", df]
for argv in ([eg, "run", "--socket", sock, "--", *cmd], [eg, "run", "-c", policy, "--", *cmd]):
    try:
        rcs.append(subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=w,
                                  timeout=30).returncode)
    except subprocess.TimeoutExpired:
        rcs.append("timeout")
print(*rcs, "%.1f" % (time.monotonic() - start))
EOF
read -r RCS <"$W/pipe.txt"
[ "${RCS% *}" = "126 126" ] && awk -v s="${RCS##* }" 'BEGIN { exit !(s < 10) }' && pass ||
        fail "rc and seconds: $(cat "$W/pipe.txt")"

begin "writes: a file the session holds open read-only as fd 2 is not written"
: >"$W/readonly.txt"
chown nobody "$W/readonly.txt"
attack_both "$W/readonly.txt" # O_PATH: not even readable
timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups "$EG" run --socket "$SOCK" -- \
        python3 "$W/attack.py" "read:$W/readonly.txt" "$DF" \
        >"$OUT" 2>"$ERR" </dev/null
RC_RO=$?
[ ! -s "$W/readonly.txt" ] && [ "$RC_RO" = 126 ] && pass || fail "rc $RC_RO; file: $(head -c 200 "$W/readonly.txt")"

begin "writes: a pipe the session writes its stderr to is still told"
dv sh -c "\"$DF\" 2>&1 | cat"
has "execguard: blocked $DF" "$OUT" && pass || fail "stdout: $(head -c 300 "$OUT")"

stop_daemon
kill "$NOTIFY_SINK" 2>/dev/null
