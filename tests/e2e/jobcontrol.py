#!/usr/bin/env python3
"""Drive an interactive `bash -i` under `execguard run` on a pseudo-terminal:
Ctrl-C interrupts a foreground job, Ctrl-Z stops it, fg resumes it; the supervisor's
process group, made the foreground one from inside the session, shrugs off Ctrl-C, Ctrl-\
and Ctrl-Z; df is blocked; exit ends the session with its status.
Usage: jobcontrol.py EXECGUARD POLICY DF"""
import os
import pty
import select
import sys
import time

eg, policy, df = sys.argv[1:4]

pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "PROMPT$ "
    os.environ["TERM"] = "dumb"
    os.execv(eg, [eg, "run", "-c", policy, "--", "bash", "--norc", "--noprofile", "-i"])

buf = b""


def expect(pattern, timeout=10.0):
    """Read until pattern appears after what was already consumed."""
    global buf
    deadline = time.monotonic() + timeout
    pat = pattern.encode()
    while pat not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.stdout.write("TIMEOUT waiting for %r; got:\n%s\n" % (pattern, buf.decode(errors="replace")))
            os.kill(pid, 9)
            sys.exit(1)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                sys.stdout.write("EOF waiting for %r; got:\n%s\n" % (pattern, buf.decode(errors="replace")))
                sys.exit(1)
            buf += chunk
    buf = buf[buf.index(pat) + len(pat):]


def send(s):
    os.write(fd, s.encode())


expect("PROMPT$ ")
send("sleep 30; echo AFTER-INT-$?\n")
time.sleep(0.5)
send("\x03")                       # Ctrl-C: the job dies, not the session
expect("PROMPT$ ")
send("sleep 30\n")
time.sleep(0.5)
send("\x1a")                       # Ctrl-Z: the job stops
expect("Stopped")
expect("PROMPT$ ")
send("jobs\n")
expect("sleep 30")
expect("PROMPT$ ")
send("fg\n")                       # resumes it in the foreground
expect("sleep 30")
time.sleep(0.5)
send("\x03")
expect("PROMPT$ ")
# The supervisor (bash's parent) is in the session, in a process group of its own, which a
# process of the session can make the foreground one: the terminal's signals then go to it.
send("python3 -c 'import os, time; bash = os.getppid(); "
     "sup = int(open(\"/proc/%d/stat\" % bash).read().rsplit(\")\", 1)[1].split()[1]); "
     "os.tcsetpgrp(0, os.getpgid(sup)); print(\"SUPERVISOR-IN-\" + \"FRONT\", flush=True); time.sleep(2)'\n")
expect("SUPERVISOR-IN-FRONT")
for key in ("\x03", "\x1c", "\x1a"):  # Ctrl-C, Ctrl-\\, Ctrl-Z: SIGINT, SIGQUIT, SIGTSTP
    send(key)
    time.sleep(0.2)
expect("PROMPT$ ")
send("df\n")
expect("execguard: blocked " + df)
expect("Permission denied")
expect("PROMPT$ ")
send("echo alive-$((6*7))\n")
expect("alive-42")
expect("PROMPT$ ")
send("exit 5\n")
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
if code != 5:
    print("session exit status %d, want 5" % code)
    sys.exit(1)
print("job control ok")
