#!/usr/bin/env python3
"""Does anything but the command keep the caller's fds open?

Usage: fdhold.py READY-FILE COMMAND [ARG...]

Runs COMMAND as a caller would with, besides stdin and stdout (each a pipe), the write end
of a pipe as fd 7, a file as fd 8 and one end of a socketpair as fd 9, and keeps only the
other ends. COMMAND (execguard run ... -- sh -c '...') is expected to close all five in the
command and then create READY-FILE, while it goes on running. From then on, as without
execguard, the reader of each pipe must see EOF, the peer of the socket too, a write to
stdin's pipe must fail with EPIPE, and no process on the host may hold any of the five
(compared by identity, device and inode, not by name). Prints what is held, and by whom
(pid, comm); exits 0 when nothing is, 1 otherwise, 2 when the run itself went wrong.

COMMAND must still run when the checks are done, unless FDHOLD_MAY_END is set: then
what is checked is what is left once COMMAND has returned (up to 20 s after READY-FILE),
for a command that leaves a job of its own behind (it must outlive the checks)."""
import os
import select
import signal
import socket
import sys
import time

ready, cmd = sys.argv[1], sys.argv[2:]
signal.signal(signal.SIGPIPE, signal.SIG_IGN)

# Keep 3..9 taken while the objects are made, so that none of them lands on 7, 8 or 9.
placeholders = []
while not placeholders or placeholders[-1] < 9:
    placeholders.append(os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC))
r7, w7 = os.pipe()
rin, win = os.pipe()
rout, wout = os.pipe()
sa, sb = socket.socketpair()
# A new file each run: its identity must be this run's alone.
try:
    os.unlink(ready + ".file")
except FileNotFoundError:
    pass
filefd = os.open(ready + ".file", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)

ident = {
    "fd 7 (pipe)": os.fstat(w7),
    "fd 8 (file)": os.fstat(filefd),
    "fd 9 (socket)": os.fstat(sa.fileno()),
    "stdin (pipe)": os.fstat(rin),
    "stdout (pipe)": os.fstat(wout),
}
ident = {k: (st.st_dev, st.st_ino) for k, st in ident.items()}

for fd in placeholders:
    os.close(fd)
for src, dst in ((w7, 7), (filefd, 8), (sa.fileno(), 9)):
    os.dup2(src, dst, inheritable=True)
try:
    os.unlink(ready)
except FileNotFoundError:
    pass

start = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(rin, 0)
    os.dup2(wout, 1)
    os.closerange(3, 7)
    os.closerange(10, 1 << 16)
    os.execvp(cmd[0], cmd)
for fd in (7, 8, 9, w7, filefd, rin, wout):
    os.close(fd)
sa.close()


def finish(code):
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    sys.exit(code)


may_end = bool(os.environ.get("FDHOLD_MAY_END"))
while not os.path.exists(ready):
    if pid and os.waitpid(pid, os.WNOHANG)[0] == pid:
        pid = 0
        if not may_end:
            print("the command ended before it was ready")
            sys.exit(2)
    if time.monotonic() - start > 60:
        print("the command was not ready after 60 s")
        finish(2)
    time.sleep(0.02)
if may_end:
    for _ in range(1000):
        if not pid or os.waitpid(pid, os.WNOHANG)[0] == pid:
            pid = 0
            break
        time.sleep(0.02)
    else:
        print("the command did not return within 20 s")
        finish(2)
t_ready = time.monotonic()

problems = []
# EOF on the readers: what is left of the other ends is not the command's (it closed them).
waiting = {r7: "fd 7 (pipe)", rout: "stdout (pipe)", sb.fileno(): "fd 9 (socket)"}
deadline = t_ready + 2.0
while waiting and time.monotonic() < deadline:
    rl, _, _ = select.select(list(waiting), [], [], max(0.0, deadline - time.monotonic()))
    for fd in rl:
        if not os.read(fd, 4096):
            del waiting[fd]
for name in waiting.values():
    problems.append(f"{name}: no EOF 2 s after the command closed it")
try:
    os.write(win, b"x")
    problems.append("stdin (pipe): still has a reader after the command closed it")
except BrokenPipeError:
    pass

# Who holds them: every process of the host.
me = os.getpid()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == me:
        continue
    try:
        fds = os.listdir(f"/proc/{p}/fd")
        with open(f"/proc/{p}/comm") as f:
            comm = f.read().strip()
    except OSError:
        continue
    for fd in fds:
        try:
            st = os.stat(f"/proc/{p}/fd/{fd}")
        except OSError:
            continue
        for name, key in ident.items():
            if (st.st_dev, st.st_ino) == key:
                problems.append(f"{name}: held by pid {p} ({comm}) as fd {fd}")

running = pid and os.waitpid(pid, os.WNOHANG)[0] == 0
for line in problems:
    print(line)
if not running and not may_end:
    print("the command ended before the checks were done")
    finish(2)
print("held: none" if not problems else f"held: {len(problems)}")
finish(1 if problems else 0)
