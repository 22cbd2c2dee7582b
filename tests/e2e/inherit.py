#!/usr/bin/env python3
"""A caller that holds fds, or has signals ignored and blocked, and runs several commands
with exactly that state, so that what each command sees can be compared.

Usage: inherit.py MODE OUTDIR CMD1... [:: CMD2...]...

Each command (argv lists separated by '::') is forked and exec'd in turn, with stdout on
OUTDIR/N.out and stderr on OUTDIR/N.err (N from 1), and waited for; the exit statuses go
to OUTDIR/status, one a line. Every command gets the very same objects: what one command
lists of its fds (by readlink) is comparable with the others', pipe inodes included.

MODE:
  fds          the caller holds, besides stdio (stdin a pipe): a pipe's read end as fd 3
               and its write end as fd 4, a file as fd 5, a socket as fd 6, a file opened
               close-on-exec whose flag was then cleared as fd 7, another pipe's write end
               as fd 42, a file read-only as fd 200; and /dev/null as fd 9, close-on-exec,
               which no command may get.
  fds-nostdin  the same, with stdin closed.
  sig          SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1 and SIGRTMIN+2
               ignored; SIGUSR2, SIGHUP, SIGWINCH, SIGALRM and SIGCHLD blocked.
  sig-default  every signal at its default, none blocked.
  sig-chld     SIGCHLD ignored (set in the child, so that the caller can still wait).

A command that has not ended after 30 s is killed; its status is then 124.
"""
import os
import signal
import socket
import sys
import time

mode, outdir, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
cmds = [[]]
for a in rest:
    if a == "::":
        cmds.append([])
    else:
        cmds[-1].append(a)

keep = []
stdin_closed = False
if mode in ("fds", "fds-nostdin"):
    stdin_closed = mode == "fds-nostdin"
    # Keep the low numbers taken while the objects are made, so that none lands on a
    # number it is then moved to.
    placeholders = [os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC) for _ in range(8)]
    pr, pw = os.pipe()
    qr, qw = os.pipe()
    sa, sb = socket.socketpair()
    held = os.open(os.path.join(outdir, "held.file"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    cloexec_cleared = os.open(os.path.join(outdir, "cloexec.file"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    ro = os.open("/etc/passwd", os.O_RDONLY)
    devnull = os.open("/dev/null", os.O_RDONLY)
    for fd in placeholders:
        os.close(fd)
    for src, dst in ((pr, 3), (pw, 4), (held, 5), (sa.fileno(), 6), (qw, 42), (ro, 200)):
        os.dup2(src, dst, inheritable=True)
    os.dup2(cloexec_cleared, 7, inheritable=False)
    os.set_inheritable(7, True)  # FD_CLOEXEC cleared by fcntl
    os.dup2(devnull, 9, inheritable=False)  # close-on-exec: no command gets it
    keep = [qr, sb]  # the other ends stay open: the objects live for every command
    for fd in (pr, pw, held, cloexec_cleared, ro, devnull, qw):
        if fd not in (3, 4, 5, 6, 7, 9, 42, 200):
            os.close(fd)
    os.close(sa.detach())
    stdin_r, stdin_w = os.pipe()
    keep.append(stdin_w)
elif mode in ("sig", "sig-default", "sig-chld"):
    # Python itself ignores SIGPIPE and SIGXFSZ: the caller's state is set in full here.
    for s in range(1, signal.NSIG):
        if s in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(s, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    if mode == "sig":
        for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTSTP, signal.SIGTTIN,
                  signal.SIGTTOU, signal.SIGUSR1, signal.SIGRTMIN + 2):
            signal.signal(s, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2, signal.SIGHUP, signal.SIGWINCH,
                                                  signal.SIGALRM, signal.SIGCHLD})
    stdin_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
else:
    sys.exit(f"unknown mode {mode}")

statuses = []
for n, cmd in enumerate(cmds, 1):
    out = os.open(os.path.join(outdir, f"{n}.out"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    err = os.open(os.path.join(outdir, f"{n}.err"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    pid = os.fork()
    if pid == 0:
        os.dup2(out, 1)
        os.dup2(err, 2)
        if mode == "sig-chld":
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        if stdin_closed:
            os.close(0)
        else:
            os.dup2(stdin_r, 0)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(out)
    os.close(err)
    for _ in range(1500):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            statuses.append(os.waitstatus_to_exitcode(status))
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        statuses.append(124)
with open(os.path.join(outdir, "status"), "w") as f:
    for s in statuses:
        print(s, file=f)
