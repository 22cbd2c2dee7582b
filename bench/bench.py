#!/usr/bin/env python3
"""execguard's benchmark: bench/bench.py EXECGUARD DRIVERS-DIR OUT.json (what `make bench` runs).

Workloads (counts at BENCH_SCALE=1):
  W0  exec micro   10,000 execve() in one process of a file no binary format accepts (ENOEXEC)
  W1  exec-heavy   5,000 sequential fork+exec+wait of /bin/true
  W2  shell mix    a /bin/sh script running 2,000 small commands (basename, dirname, expr, cat,
                   /usr/bin/test): the shape of a configure script
  W3  no exec      dd bs=1 of 2,000,000 bytes: 2,000,000 read+write pairs and one exec
  W4  big policy   W1 under a policy of 100,000 path rules and 10,000 hash rules (generated);
                   also the policy's load time and RSS (`execguard check -c BIG /bin/true`)
  W5  sessions     200 concurrent sessions, each 200 fork+exec+wait of /bin/true, started
                   together; decisions/s, per-exec latency p50/p99 (session side), daemon RSS
  W6  allowlist    W1 under an allowlist (default = deny) of 10,000 allow rules and 100 argument
                   (command) rules: the arguments of every exec read, judged and verified
  W3P protected    W3 under the small policy with a [protect] section (deny = all on /etc and
                   /usr): the session's filter also traps the file operations; dd's are reads
                   and writes of fds, so only its one open for writing is trapped
  W7  file ops     20,000 rounds of create (O_WRONLY|O_CREAT|O_TRUNC) + write + rename + unlink
                   of a file in a scratch directory (bench/fileops.c), under the small policy
  W7P file ops     W7 under the [protect] policy: each open, rename and unlink is a decision,
                   performed by the supervisor for the process
Configurations: native, native-engine (native, while a daemon of its own runs with the kernel
engine loaded: what the engine costs processes no session supervises; started and stopped
around each run; W0-W2 only; root), floor (bench/floor.c: execguard's filter, CONTINUE to
everything),
floor-verify (the floor plus the bare mechanism of a race-free verification: each exec's thread
traced to its exec and let go unchecked; W0-W2 only), floor-bpf (the floor plus storing each exec's
approval for the kernel engine, loaded and proven, whose program checks it; W0-W2 only; root),
execguard (standalone `run -c`), execguard-ptrace (the same with verifier = ptrace: the fallback;
W0-W2), daemon
(`run --socket` to a private daemon, workers one per CPU), strace (`strace -f -e trace=execve`,
where installed); for W5 also daemon-w1 and daemon-w2 (workers = 1, 2) and daemon-stalled (2
workers, and one more session whose exec is stuck all along in a file system that does not
answer: build/helpers/fuse-stall).

Each round runs every workload under every configuration, the order of the configurations
rotating from round to round, so that a machine's drift falls on all of them alike. Times are
taken inside the supervised tree by the drivers (a supervisor's start-up is not counted).
Ratios are the median over the rounds of the same-round ratios.

Environment: BENCH_ROUNDS (5), BENCH_SCALE (1: every count, the big policy's size too),
BENCH_WORKLOADS and BENCH_CONFIGS (comma-separated subsets), BENCH_TIMEOUT (seconds for one
command, 900), BENCH_KEEP=1 keeps the scratch directory.

Needs root (a private mount namespace, the daemon); as another user the daemon configuration
is left out. Python 3 standard library only.
"""
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

FULL_COUNTS = {
    "W0": 10_000,
    "W1": 5_000,
    "W2": 2_000,
    "W3": 2_000_000,
    "W4": 5_000,
    "W5_sessions": 200,
    "W5_execs": 200,
    "W6": 5_000,
    "W3P": 2_000_000,
    "W7": 20_000,
    "W7P": 20_000,
    "allow_paths": 10_000,
    "argv_rules": 100,
    "big_paths": 100_000,
    "big_hashes": 10_000,
}
WORKLOADS = {
    "W0": "exec micro: execve() failing ENOEXEC, no fork",
    "W1": "exec-heavy: fork+exec+wait of /bin/true",
    "W2": "shell mix: sh running small commands",
    "W3": "no exec: dd bs=1 read+write pairs",
    "W4": "big policy: W1 under 100k path + 10k hash rules",
    "W5": "sessions: concurrent sessions of fork+exec+wait",
    "W6": "allowlist: W1 under 10k allow + 100 argv rules",
    "W3P": "protected: W3 under a [protect] policy",
    "W7": "file ops: create+write+rename+unlink",
    "W7P": "file ops under a [protect] policy",
}
UNIT = {"W0": "exec", "W1": "spawn", "W2": "command", "W3": "read+write", "W4": "spawn", "W6": "spawn",
        "W3P": "read+write", "W7": "file round", "W7P": "file round",
        "W5": "exec (wall time / all sessions' execs)"}
# W5's variants of the daemon: 1 and 2 workers ("daemon" has its default, one per CPU), and 2
# workers with one more session stalled in a file system that does not answer (fuse-stall,
# of the e2e helpers) all along.
W5_VARIANTS = ["daemon-w1", "daemon-w2", "daemon-stalled"]
W5_POLICY = {"daemon": "small", "daemon-w1": "small-w1", "daemon-w2": "small-w2", "daemon-stalled": "small-stalled"}
ALL_CONFIGS = ["native", "native-engine", "floor", "floor-verify", "floor-bpf", "execguard", "execguard-ptrace",
               "daemon"] + \
    W5_VARIANTS + ["strace"]
# strace under a big policy is W1 again. W5 is the daemon's workload: 200 standalone
# supervisors would each need an inotify instance (the rule watch), beyond the default
# fs.inotify.max_user_instances = 128.
SKIP = {("W4", "strace"), ("W6", "strace")} | {("W5", c) for c in ALL_CONFIGS if c not in W5_POLICY}
SKIP |= {(w, c) for w in WORKLOADS if w != "W5" for c in W5_VARIANTS}
# execguard-ptrace (standalone with verifier = ptrace) is the fallback's cost, where there are
# execs to verify.
SKIP |= {(w, "execguard-ptrace") for w in ("W3", "W4", "W6")}
# floor-verify says what the second hand-off of a verification costs where there are execs
# to verify, against the floor: W3 has one exec, and W4-W6 are W1 again for it.
SKIP |= {(w, f) for w in ("W3", "W4", "W5", "W6") for f in ("floor-verify", "floor-bpf", "native-engine")}
# The [protect] workloads: what trapping file operations costs, against native and against the
# same workload without [protect] (the floor traps exec alone, and none verifies here).
PROTECT_WORKLOADS = ("W3P", "W7", "W7P")
SKIP |= {(w, f) for w in PROTECT_WORKLOADS
         for f in ("floor", "floor-verify", "floor-bpf", "native-engine", "execguard-ptrace", "strace")}
W5_NOTE = ("W5 runs under the daemon only (a fresh daemon each round): 200 standalone supervisors "
           "would need 200 inotify instances, beyond fs.inotify.max_user_instances = 128")
# The policy each workload runs under; W4 and W6 are W1 under another policy.
POLICY_OF = {"W4": "big", "W6": "allow", "W3P": "protect", "W7P": "protect"}
# What each of those is compared with: the same work under the small policy.
BASE_OF = {"W4": "W1", "W6": "W1", "W3P": "W3", "W7P": "W7"}
# Where the benchmark reports the supervisor's CPU time per decision: the drivers that
# measure their parent's (exec-micro, spawn), and the daemon's from outside.
SUP_CPU_WORKLOADS = ("W0", "W1", "W4", "W6")
RATIO_METHOD = "median over rounds of the same-round ratio (config time / reference time)"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log("bench: " + msg)
    sys.exit(1)


class Bench:
    def __init__(self, execguard, drivers, out):
        self.eg = execguard
        self.drv = drivers
        self.out = out
        self.rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
        self.scale = float(os.environ.get("BENCH_SCALE", "1"))
        self.timeout = float(os.environ.get("BENCH_TIMEOUT", "900"))
        self.counts = {k: max(2, int(round(v * self.scale))) for k, v in FULL_COUNTS.items()}
        # W2 runs its commands five to a loop iteration.
        self.counts["W2"] = max(5, self.counts["W2"] // 5 * 5)
        self.root = os.geteuid() == 0
        wanted_w = os.environ.get("BENCH_WORKLOADS")
        self.workloads = [w for w in WORKLOADS if not wanted_w or w in wanted_w.split(",")]
        wanted_c = os.environ.get("BENCH_CONFIGS")
        self.configs = [c for c in ALL_CONFIGS if not wanted_c or c in wanted_c.split(",")]
        self.notes = []
        if "W5" in self.workloads:
            self.notes.append(W5_NOTE)
        if "strace" in self.configs and not shutil.which("strace"):
            self.configs.remove("strace")
            self.notes.append("strace is not installed: no strace configuration")
        if "daemon" in self.configs and not self.root:
            self.configs.remove("daemon")
        if "native-engine" in self.configs and not self.root:
            self.configs.remove("native-engine")
        if not self.root:
            self.configs = [c for c in self.configs if c not in W5_VARIANTS]
        self.fuse_stall = os.path.join(os.path.dirname(os.path.abspath(drivers)), "helpers", "fuse-stall")
        if "daemon-stalled" in self.configs and not (os.access(self.fuse_stall, os.X_OK) and
                                                     os.path.exists("/dev/fuse")):
            self.configs.remove("daemon-stalled")
            self.notes.append("no daemon-stalled configuration: %s or /dev/fuse missing" % self.fuse_stall)
            self.notes.append("not root: no daemon configuration")
        self.verifiers = {}  # execguard, daemon -> the check after exec each used
        self.daemons = {}  # policy name -> (Popen, socket path, notify socket)
        self.results = {}  # (workload, config) -> [per-round dict]
        self.loads = {}  # policy name -> [(seconds, max RSS kB)]
        self.floor_mode = "?"

    # ---- scratch: policies, fixtures, daemons ---------------------------------------------

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix="execguard-bench.")
        os.chmod(self.tmp, 0o755)
        self.runs = os.path.join(self.tmp, "runs")
        os.mkdir(self.runs)
        # W0's file: executable, but neither ELF nor #! (and no binfmt_misc magic).
        self.noexec = os.path.join(self.tmp, "noexec")
        with open(self.noexec, "wb") as f:
            f.write(b"\0\0\0\0execguard bench: no binary format accepts this file\n")
        os.chmod(self.noexec, 0o755)
        self.script = os.path.join(self.tmp, "w2.sh")
        with open(self.script, "w") as f:
            f.write(W2_SCRIPT.replace("@ITER@", str(self.counts["W2"] // 5)))
        self.policies = {"small": os.path.join(self.tmp, "small.ini"), "big": os.path.join(self.tmp, "big.ini"),
                         "allow": os.path.join(self.tmp, "allow.ini"), "protect": os.path.join(self.tmp, "protect.ini")}
        with open(self.policies["small"], "w") as f:
            f.write(SMALL_POLICY)
        with open(self.policies["protect"], "w") as f:
            f.write(SMALL_POLICY + PROTECT_SECTION)
        self.policies["small-ptrace"] = os.path.join(self.tmp, "small-ptrace.ini")
        with open(self.policies["small-ptrace"], "w") as f:
            f.write(SMALL_POLICY.replace("[execguard]\n", "[execguard]\nverifier = ptrace\n"))
        # The stalled session's exec must stay stuck all along: no timeout within the run.
        for name, extra in (("small-w1", "workers = 1\n"), ("small-w2", "workers = 2\n"),
                            ("small-stalled", "workers = 2\nresolve_timeout = 3600\n")):
            self.policies[name] = os.path.join(self.tmp, name + ".ini")
            with open(self.policies[name], "w") as f:
                f.write(SMALL_POLICY.replace("[execguard]\n", "[execguard]\n" + extra))
        t = time.monotonic()
        self.write_big_policy(self.policies["big"])
        log("bench: big policy (%d path rules, %d hash rules) written in %.1f s"
            % (self.counts["big_paths"], self.counts["big_hashes"], time.monotonic() - t))
        self.write_allow_policy(self.policies["allow"])
        for p in self.policies.values():
            os.chmod(p, 0o644)
        self.floor_mode = self.probe_floor()
        if "floor-bpf" in self.configs:
            p = subprocess.run([os.path.join(self.drv, "floor"), "--bpf", "--", "/bin/true"], capture_output=True,
                               text=True, timeout=60)
            if p.returncode != 0:
                self.configs.remove("floor-bpf")
                self.notes.append("no floor-bpf configuration: " + p.stderr.strip())
        if "execguard" in self.configs:
            p = subprocess.run([self.eg, "run", "-v", "-c", self.policies["small"], "--", "/bin/true"],
                               capture_output=True, text=True, timeout=60)
            m = re.search(r"Verifier: (\w+)", p.stderr)
            self.verifiers["execguard"] = m.group(1) if m else "?"

    def write_big_policy(self, path):
        """Path rules: one in a hundred names a file that exists (a small script, so the rule
        has an identity, a size and a content to match), the others files that do not, spread
        over directories that do not exist either. Hash rules: digests of nothing on the host."""
        files = os.path.join(self.tmp, "blocked")
        os.mkdir(files)
        n_paths, n_hashes = self.counts["big_paths"], self.counts["big_hashes"]
        lines = ["; generated by bench/bench.py", "[execguard]", "mode = enforce", "action = deny", "[block]"]
        for i in range(n_paths):
            if i % 100 == 0:
                p = os.path.join(files, "prog%06d" % i)
                with open(p, "w") as f:
                    f.write("#!/bin/sh\n# execguard bench: blocked program %d\n" % i)
                os.chmod(p, 0o755)
            else:
                p = os.path.join(self.tmp, "absent", "d%03d" % (i % 1000), "prog%06d" % i)
            lines.append("path = " + p)
        for i in range(n_hashes):
            lines.append("hash = sha256:" + hashlib.sha256(b"execguard bench hash rule %d" % i).hexdigest())
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def write_allow_policy(self, path):
        """An allowlist: /bin/true, the loader and the drivers among 10,000 allow rules (the others
        name files that do not exist, in directories that do not either), and 100 command rules:
        blocks of /bin/true and of other programs with arguments W6 never passes, and allows."""
        n_paths, n_argv = self.counts["allow_paths"], self.counts["argv_rules"]
        lines = ["; generated by bench/bench.py", "[execguard]", "mode = enforce", "action = deny",
                 "default = deny", "[allow]", "path = /bin/true", "path = /lib64/ld-linux-x86-64.so.2",
                 "dir = " + self.drv]
        for i in range(n_paths - 3):
            lines.append("path = " + os.path.join(self.tmp, "absent", "d%03d" % (i % 1000), "prog%06d" % i))
        for i in range(n_argv // 2):
            lines.append("command = /usr/bin/prog%03d --mode=%d *" % (i, i))
        lines.append("[block]")
        for i in range(n_argv - n_argv // 2):
            program = "/bin/true" if i % 2 == 0 else "/usr/bin/prog%03d" % i
            lines.append("command = %s --never-%d *" % (program, i))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def probe_floor(self):
        p = subprocess.run([os.path.join(self.drv, "floor"), "-v", "--", "/bin/true"], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            die("the floor does not work: " + p.stderr.strip())
        for line in p.stderr.splitlines():
            if line.startswith("floor: wake-up mode: "):
                return line[len("floor: wake-up mode: "):]
        return "?"

    def start_daemon(self, name, policy=None):
        """A daemon of our own on a private socket, telling us READY= and STATUS= through a
        NOTIFY_SOCKET of ours (as tests/soak/soak.sh does). A thread reads that socket all
        along: sd_notify() blocks once a datagram socket's short queue is full, and with it
        the daemon."""
        sock = os.path.join(self.tmp, "daemon-%s.sock" % name)
        notify_path = os.path.join(self.tmp, "notify-%s.sock" % name)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        d = {"sock": sock, "notify": notify, "notify_path": notify_path, "status": "", "ready": threading.Event()}
        threading.Thread(target=self.read_notify, args=(d,), daemon=True).start()
        errlog = open(os.path.join(self.tmp, "daemon-%s.log" % name), "w")
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        d["proc"] = subprocess.Popen([self.eg, "daemon", "-c", self.policies[policy or name], "--socket", sock],
                                     stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog, env=env)
        errlog.close()
        self.daemons[name] = d
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and d["proc"].poll() is None:
            if d["ready"].wait(0.2) and os.path.exists(sock):
                return
        die("the %s daemon did not start: see %s" % (name, os.path.join(self.tmp, "daemon-%s.log" % name)))

    @staticmethod
    def read_notify(d):
        """The daemon's sd_notify datagrams, until the socket is closed: READY=1 sets
        d["ready"], the last STATUS= is kept in d["status"]."""
        while True:
            try:
                msg = d["notify"].recv(65536).decode(errors="replace")
            except OSError:
                return
            for line in msg.splitlines():
                if line == "READY=1":
                    d["ready"].set()
                elif line.startswith("STATUS="):
                    d["status"] = line[len("STATUS="):]

    def stop_daemons(self):
        for name in list(self.daemons):
            self.stop_daemon(name)

    def stop_daemon(self, name):
        d = self.daemons.pop(name)
        if d["proc"].poll() is None:
            d["proc"].terminate()
            try:
                d["proc"].wait(30)
            except subprocess.TimeoutExpired:
                d["proc"].kill()
                d["proc"].wait()
        try:
            d["notify"].shutdown(socket.SHUT_RDWR)  # wakes its reader
        except OSError:
            pass
        d["notify"].close()
        for path in (d["sock"], d["notify_path"]):
            try:
                os.unlink(path)
            except OSError:
                pass

    @staticmethod
    def parse_status(status):
        """The daemon's STATUS= (src/daemon.c notify_status()): decisions and latency."""
        m = re.search(r"decisions: (\d+) allowed, (\d+) denied, (\d+) killed, (\d+) audited; "
                      r"decision latency p50 (\d+) us, p99 (\d+) us, max (\d+) us", status)
        if not m:
            return None
        v = [int(x) for x in m.groups()]
        return {"decided": sum(v[:4]), "p50_us": v[4], "p99_us": v[5], "max_us": v[6]}

    @staticmethod
    def rss_kb(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    # ---- running one thing under one configuration ----------------------------------------

    def prefix(self, config, policy="small"):
        if config in ("native", "native-engine"):
            return []
        if config == "floor":
            return [os.path.join(self.drv, "floor"), "--"]
        if config == "floor-verify":
            return [os.path.join(self.drv, "floor"), "--verify", "--"]
        if config == "floor-bpf":
            return [os.path.join(self.drv, "floor"), "--bpf", "--"]
        if config == "execguard":
            return [self.eg, "run", "-c", self.policies[policy], "--"]
        if config == "execguard-ptrace":
            return [self.eg, "run", "-c", self.policies["small-ptrace"], "--"]
        if config == "daemon":
            return [self.eg, "run", "--socket", self.daemons[policy]["sock"], "--"]
        if config == "strace":
            return ["strace", "-f", "-qq", "-e", "trace=execve", "-o", "/dev/null", "--"]
        raise ValueError(config)

    def result_path(self, tag):
        path = os.path.join(self.runs, tag)
        for p in (path, path + ".ready"):
            if os.path.exists(p):
                os.unlink(p)
        return path

    @staticmethod
    def read_result(path):
        with open(path) as f:
            first = f.readline().split()
            rest = [int(x) for x in f.read().split()]
        start, end, errors = int(first[0]), int(first[1]), int(first[2])
        return start, end, errors, rest

    @staticmethod
    def parent_cpu_ns(path):
        """The CPU time the driver's parent used during its loop (bench/parentcpu.h), or None."""
        with open(path) as f:
            first = f.readline().split()
        return int(first[3]) if len(first) > 3 and int(first[3]) >= 0 else None

    @staticmethod
    def cpu_ns(pid):
        """A process's CPU time so far, all its threads' (/proc/PID/task/*/schedstat, ns: the
        daemon's workers too; a spare worker that has ended is not counted), or None."""
        total = 0
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                        total += int(f.read().split()[0])
                except OSError:
                    pass  # ended meanwhile
        except (OSError, ValueError, IndexError):
            return None
        return total

    def run_one(self, w, config, rnd):
        tag = "%s-%s-%d" % (w, config, rnd)
        res = self.result_path(tag)
        d = self.drv
        policy = POLICY_OF.get(w, "small")
        if w == "W0":
            cmd = [os.path.join(d, "exec-micro"), str(self.counts["W0"]), self.noexec, res]
        elif w in ("W1", "W4", "W6"):
            cmd = [os.path.join(d, "spawn"), str(self.counts[w]), "/bin/true", res]
        elif w == "W2":
            cmd = [os.path.join(d, "timeit"), res, "/bin/sh", self.script]
        elif w in ("W3", "W3P"):
            cmd = [os.path.join(d, "timeit"), res, "dd", "if=/dev/zero", "of=/dev/null", "bs=1",
                   "count=%d" % self.counts[w], "status=none"]
        elif w in ("W7", "W7P"):
            scratch = os.path.join(self.tmp, "files-" + tag)
            os.mkdir(scratch)
            cmd = [os.path.join(d, "fileops"), str(self.counts[w]), scratch, res]
        else:
            return self.run_sessions(config, rnd)
        # native-engine: a daemon of its own, for this run only (its engine is unloaded when
        # it stops, so that no other configuration runs with it), which must use the engine.
        if config == "native-engine":
            self.start_daemon("engine", "small")
            m = re.search(r"verifier (\w+)", self.daemons["engine"]["status"])
            self.verifiers["native-engine"] = m.group(1) if m else "?"
            if self.verifiers["native-engine"] != "kernel":
                self.stop_daemon("engine")
                return {"failed": "the daemon does not use the kernel engine here (%s)" % self.verifiers["native-engine"]}
        daemon_pid = self.daemons[policy]["proc"].pid if config == "daemon" else None
        daemon_cpu = self.cpu_ns(daemon_pid) if daemon_pid else None
        p = subprocess.run(self.prefix(config, policy) + cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, errors="replace", timeout=self.timeout)
        daemon_cpu_end = self.cpu_ns(daemon_pid) if daemon_pid else None
        if config == "native-engine":
            self.stop_daemon("engine")
        try:
            start, end, errors, _ = self.read_result(res)
            parent_cpu = self.parent_cpu_ns(res)
        except (OSError, ValueError, IndexError):
            return {"failed": "exit status %d, no result: %s" % (p.returncode, tail(p.stderr))}
        r = {"seconds": (end - start) / 1e9, "ops": self.counts[w], "errors": errors}
        # The supervisor's CPU time per exec (each one decision): the driver's parent under a
        # supervisor of the session's own, measured by the driver around its loop; the
        # daemon's, around the whole run (its session's set-up and the driver's own exec too).
        if w in SUP_CPU_WORKLOADS:
            if config in ("execguard", "execguard-ptrace", "floor", "floor-verify", "floor-bpf") and parent_cpu is not None:
                r["sup_cpu_us"] = parent_cpu / 1e3 / self.counts[w]
            elif daemon_cpu is not None and daemon_cpu_end is not None:
                r["sup_cpu_us"] = (daemon_cpu_end - daemon_cpu) / 1e3 / self.counts[w]
        if errors:
            r["error_text"] = tail(p.stderr)
        return r

    def run_sessions(self, config, rnd):
        """W5: start every session, wait until each is set up and gated, then open the gate
        (end of file on the pipe that is their standard input) and let them all run."""
        n, execs = self.counts["W5_sessions"], self.counts["W5_execs"]
        daemon = None
        if config in W5_POLICY:
            # A daemon of its own, so that its counts, latency histogram and RSS are this
            # round's alone.
            name = "w5-%s-%d" % (config, rnd)
            self.start_daemon(name, W5_POLICY[config])
            daemon = self.daemons[name]
            stall = None
            try:
                if config == "daemon-stalled":
                    stall = self.start_stall(name, daemon)
                    if "failed" in stall:
                        return stall
                return self.run_sessions_with(config, rnd, n, execs, daemon)
            finally:
                if stall:
                    self.stop_stall(stall)
                self.stop_daemon(name)
        return self.run_sessions_with(config, rnd, n, execs, None)

    def start_stall(self, name, daemon):
        """One more session, whose first exec is stuck in a file system that does not
        answer (fuse-stall holds every lookup of "prog") until stop_stall()."""
        mnt = os.path.join(self.tmp, "stall-%s" % name)
        os.makedirs(mnt, exist_ok=True)
        out = os.path.join(self.tmp, "stall-%s.out" % name)
        st = {"mnt": mnt, "out": out, "session": None}
        with open(out, "w") as f:
            st["fuse"] = subprocess.Popen([self.fuse_stall, mnt], stdin=subprocess.DEVNULL, stdout=f, stderr=f)
        if not self.wait_text(out, "ready"):
            return dict(st, failed="fuse-stall did not mount: " + tail(open(out).read()))
        st["session"] = subprocess.Popen([self.eg, "run", "--socket", daemon["sock"], "--", os.path.join(mnt, "prog")],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        if not self.wait_text(out, "held 1"):
            return dict(st, failed="the stalled session's lookup was never held")
        return st

    @staticmethod
    def wait_text(path, text, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with open(path) as f:
                if text in f.read():
                    return True
            time.sleep(0.02)
        return False

    def stop_stall(self, st):
        st["fuse"].send_signal(signal.SIGUSR1)  # the held lookups answered: the session ends
        if st["session"]:
            try:
                st["session"].wait(10)
            except subprocess.TimeoutExpired:
                st["session"].kill()
                st["session"].wait()
        st["fuse"].terminate()
        st["fuse"].wait()
        subprocess.run(["umount", "-l", st["mnt"]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run_sessions_with(self, config, rnd, n, execs, daemon):
        gate_r, gate_w = os.pipe()
        rss_idle = self.rss_kb(daemon["proc"].pid) if daemon else None
        procs, results = [], []
        errfiles = []
        try:
            for k in range(n):
                res = self.result_path("W5-%s-%d-%d" % (config, rnd, k))
                results.append(res)
                err = open(res + ".err", "w")
                errfiles.append(err)
                prefix = [self.eg, "run", "--socket", daemon["sock"], "--"] if daemon else self.prefix(config)
                cmd = prefix + [os.path.join(self.drv, "spawn"), "-g", "-l", str(execs), "/bin/true", res]
                procs.append(subprocess.Popen(cmd, stdin=gate_r, stdout=subprocess.DEVNULL, stderr=err))
        finally:
            os.close(gate_r)
            for err in errfiles:
                err.close()
        deadline = time.monotonic() + self.timeout
        while sum(os.path.exists(r + ".ready") for r in results) < n:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                os.close(gate_w)
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                    p.wait()
                return {"failed": "sessions did not all get ready: " + first_error(results)}
            time.sleep(0.05)
        rss_ready = self.rss_kb(daemon["proc"].pid) if daemon else None
        os.close(gate_w)
        rss_peak = rss_ready or 0
        while any(p.poll() is None for p in procs):
            if time.monotonic() > deadline:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                    p.wait()
                return {"failed": "timed out"}
            if daemon:
                rss_peak = max(rss_peak, self.rss_kb(daemon["proc"].pid) or 0)
            time.sleep(0.1)
        starts, ends, lat, errors = [], [], [], 0
        try:
            for res in results:
                start, end, e, values = self.read_result(res)
                starts.append(start)
                ends.append(end)
                errors += e
                lat.extend(values)
        except (OSError, ValueError, IndexError):
            return {"failed": "a session left no result: " + first_error(results)}
        seconds = (max(ends) - min(starts)) / 1e9
        lat.sort()
        r = {"seconds": seconds, "ops": n * execs, "errors": errors, "decisions_per_s": n * execs / seconds,
             "spawn_p50_us": percentile(lat, 50), "spawn_p99_us": percentile(lat, 99)}
        if errors:
            r["error_text"] = first_error(results)
        if daemon:
            # Every exec is one decision: each session's driver (run by `execguard run`) and
            # its execs. STATUS= follows the counts within a second.
            want = n * (execs + 1)
            deadline = time.monotonic() + 10
            st = self.parse_status(daemon["status"])
            while (not st or st["decided"] < want) and time.monotonic() < deadline:
                time.sleep(0.2)
                st = self.parse_status(daemon["status"])
            if not st:
                return {"failed": "no decision counts in the daemon's STATUS=: " + daemon["status"]}
            r.update(decided=st["decided"], decisions_lost=want - st["decided"] + errors,
                     p50_us=st["p50_us"], p99_us=st["p99_us"], max_us=st["max_us"])
            if st["decided"] != want:
                r["errors"] += abs(want - st["decided"])
                r["error_text"] = "the daemon made %d decisions, not %d (STATUS=%s)" % (st["decided"], want,
                                                                                         daemon["status"])
        if daemon and rss_idle and rss_ready:
            r.update(rss_idle_kb=rss_idle, rss_ready_kb=rss_ready, rss_peak_kb=rss_peak,
                     rss_kb_per_session=(rss_ready - rss_idle) / n, rss_peak_kb_per_session=(rss_peak - rss_idle) / n)
        return r

    def measure_load(self, name):
        """`execguard check -c POLICY /bin/true` under timeit: the policy's whole load (parse,
        index, hashing the blocked files that exist) and one check; wall time and peak RSS."""
        res = self.result_path("load-%s" % name)
        p = subprocess.run([os.path.join(self.drv, "timeit"), res, self.eg, "check", "-c", self.policies[name],
                            "/bin/true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, errors="replace", timeout=self.timeout)
        try:
            with open(res) as f:
                start, end, errors, max_rss = (int(x) for x in f.readline().split())
        except (OSError, ValueError):
            return {"failed": "no result: " + tail(p.stderr)}
        if errors:
            return {"failed": "execguard check failed: " + tail(p.stderr)}
        return {"seconds": (end - start) / 1e9, "max_rss_kb": max_rss}

    # ---- the whole run ----------------------------------------------------------------------

    def run(self):
        self.setup()
        try:
            if "daemon" in self.configs:
                self.start_daemon("small")
                if "W4" in self.workloads:
                    t = time.monotonic()
                    self.start_daemon("big")
                    self.big_daemon_start_s = time.monotonic() - t
                if "W6" in self.workloads:
                    self.start_daemon("allow")
                if any(w in self.workloads for w in ("W3P", "W7P")):
                    self.start_daemon("protect")
            if "small" in self.daemons:
                m = re.search(r"verifier (\w+)", self.daemons["small"]["status"])
                self.verifiers["daemon"] = m.group(1) if m else "?"
            self.header()
            for rnd in range(self.rounds):
                rot = rnd % len(self.configs)
                order = self.configs[rot:] + self.configs[:rot]
                for w in self.workloads:
                    if w == "W4":
                        for name in ("small", "big", "allow"):
                            self.loads.setdefault(name, []).append(self.measure_load(name))
                    for c in order:
                        if (w, c) in SKIP:
                            continue
                        r = self.run_one(w, c, rnd)
                        self.results.setdefault((w, c), []).append(r)
                        if "failed" in r:
                            log("bench: round %d %s %s FAILED: %s" % (rnd + 1, w, c, r["failed"]))
                        elif r["errors"]:
                            log("bench: round %d %s %s: %d errors: %s"
                                % (rnd + 1, w, c, r["errors"], r.get("error_text", "")))
                log("bench: round %d of %d done" % (rnd + 1, self.rounds))
            self.daemon_rss = {n: self.rss_kb(d["proc"].pid) for n, d in self.daemons.items()}
        finally:
            self.stop_daemons()
            if os.environ.get("BENCH_KEEP"):
                log("bench: kept " + self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        records = self.summarise()
        self.table(records)
        os.makedirs(os.path.dirname(self.out) or ".", exist_ok=True)
        with open(self.out, "w") as f:
            json.dump(records, f, indent=1)
            f.write("\n")
        print("\nwritten: " + self.out)
        bad = ["%s %s" % (r["workload"], r["config"]) for r in records if r.get("failed_rounds") or r.get("errors")]
        if bad:
            print("bench: failed rounds or wrong outcomes (see above; the figures of those measure something "
                  "else): " + ", ".join(bad))
            return 1
        return 0

    def header(self):
        c = self.counts
        print("execguard bench: %d round(s), BENCH_SCALE=%g; %s" % (self.rounds, self.scale, platform.release()))
        print("  W0 %d execs, W1 %d spawns, W2 %d commands, W3 %d read+write, W4 %d spawns under %d path + %d hash "
              "rules, W5 %d sessions x %d execs, W6 %d spawns under %d allow + %d argv rules, W7 %d file rounds"
              % (c["W0"], c["W1"], c["W2"], c["W3"], c["W4"], c["big_paths"], c["big_hashes"], c["W5_sessions"],
                 c["W5_execs"], c["W6"], c["allow_paths"], c["argv_rules"], c["W7"]))
        print("  floor wake-up mode: " + self.floor_mode)
        if self.verifiers:
            print("  check after exec: " + ", ".join("%s %s" % kv for kv in sorted(self.verifiers.items())))
        print("  ratios: " + RATIO_METHOD)
        for n in self.notes:
            print("  note: " + n)
        sys.stdout.flush()

    def summarise(self):
        records = [{
            "workload": "meta", "config": None, "rounds": self.rounds, "scale": self.scale,
            "counts": self.counts, "configs": self.configs, "ratio_method": RATIO_METHOD,
            "floor_wake_mode": self.floor_mode, "kernel": platform.release(), "verifiers": self.verifiers,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "notes": self.notes,
        }]
        for w in self.workloads:
            for c in self.configs:
                rounds = self.results.get((w, c))
                if rounds is None:
                    continue
                good = [r for r in rounds if "failed" not in r]
                rec = {"workload": w, "config": c, "rounds": len(good), "failed_rounds": len(rounds) - len(good),
                       "ops": good[0]["ops"] if good else None, "unit": UNIT[w],
                       "errors": sum(r["errors"] for r in good)}
                if good:
                    secs = [r["seconds"] for r in good]
                    rec.update(median_s=statistics.median(secs), min_s=min(secs), max_s=max(secs),
                               per_op_us=statistics.median(secs) / rec["ops"] * 1e6)
                else:
                    rec.update(median_s=None, min_s=None, max_s=None, per_op_us=None)
                cpu = [r["sup_cpu_us"] for r in good if "sup_cpu_us" in r]
                if cpu:
                    rec.update(sup_cpu_us=statistics.median(cpu), sup_cpu_min_us=min(cpu), sup_cpu_max_us=max(cpu))
                for ref in ("native", "floor"):
                    rec["ratio_to_" + ref] = self.ratio(w, c, ref)
                if w in BASE_OF:
                    # The same work under the small policy, same configuration, same round.
                    rec["ratio_to_" + BASE_OF[w]] = self.ratio(w, c, c, ref_workload=BASE_OF[w])
                if w == "W5" and good:
                    for k in ("decisions_per_s", "p50_us", "p99_us", "max_us", "spawn_p50_us", "spawn_p99_us"):
                        vals = [r[k] for r in good if k in r]
                        if vals:
                            rec[k] = statistics.median(vals)
                    rec["decisions_lost"] = sum(r.get("decisions_lost", 0) for r in good)
                    rec["latency_source"] = ("p50_us/p99_us/max_us: the daemon's decision latency, notification "
                                             "received to answer sent (STATUS=); spawn_*: session side wall time "
                                             "of each fork+exec+wait")
                    for k in ("rss_idle_kb", "rss_ready_kb", "rss_peak_kb", "rss_kb_per_session", "rss_peak_kb_per_session"):
                        vals = [r[k] for r in good if k in r]
                        if vals:
                            rec[k] = statistics.median(vals)
                records.append(rec)
        if "W4" in self.workloads:
            for name, runs in self.loads.items():
                good = [r for r in runs if "failed" not in r]
                secs = [r["seconds"] for r in good]
                records.append({
                    "workload": "W4-load", "config": "execguard check", "policy": name,
                    "rules_path": {"big": self.counts["big_paths"], "allow": self.counts["allow_paths"]}.get(name, 1),
                    "rules_hash": self.counts["big_hashes"] if name == "big" else 0,
                    "rounds": len(good), "failed_rounds": len(runs) - len(good),
                    "median_s": statistics.median(secs) if secs else None,
                    "min_s": min(secs) if secs else None, "max_s": max(secs) if secs else None,
                    "max_rss_kb": statistics.median(r["max_rss_kb"] for r in good) if good else None,
                })
            for name, rss in getattr(self, "daemon_rss", {}).items():
                rec = {"workload": "W4-load", "config": "daemon", "policy": name, "rss_kb_at_end": rss}
                if name == "big":
                    rec["start_to_ready_s"] = getattr(self, "big_daemon_start_s", None)
                records.append(rec)
        return records

    def ratio(self, w, c, ref, ref_workload=None):
        """Median over rounds of this round's time over the reference's in the same round."""
        mine, theirs = self.results.get((w, c), []), self.results.get((ref_workload or w, ref), [])
        ratios = [a["seconds"] / b["seconds"] for a, b in zip(mine, theirs)
                  if "failed" not in a and "failed" not in b and b["seconds"] > 0]
        return statistics.median(ratios) if ratios else None

    def table(self, records):
        print()
        print("%-3s %-16s %9s %-22s %10s %8s %8s  %s" % ("", "config", "µs/op", "  (min–max)", "median s", "×native",
                                                         "×floor", "unit / notes"))
        for r in records:
            if r["workload"] not in WORKLOADS:
                continue
            if r["median_s"] is None:
                print("%-3s %-16s %9s %-22s %10s %8s %8s  FAILED (%d rounds)" % (r["workload"], r["config"], "-", "",
                                                                                 "-", "-", "-", r["failed_rounds"]))
                continue
            ops = r["ops"]
            span = "(%s–%s)" % (fmt(r["min_s"] / ops * 1e6), fmt(r["max_s"] / ops * 1e6))
            notes = "per " + r["unit"]
            if r["errors"]:
                notes += "; %d ERRORS" % r["errors"]
            if r["failed_rounds"]:
                notes += "; %d rounds FAILED" % r["failed_rounds"]
            base = BASE_OF.get(r["workload"])
            if base and r.get("ratio_to_" + base) is not None:
                notes += "; ×%s %s" % (base, fmt(r["ratio_to_" + base]))
            if r.get("sup_cpu_us") is not None:
                notes += "; supervisor CPU %s µs/decision (%s–%s)" % (fmt(r["sup_cpu_us"]), fmt(r["sup_cpu_min_us"]),
                                                                     fmt(r["sup_cpu_max_us"]))
            print("%-3s %-16s %9s %-22s %10.4f %8s %8s  %s" % (r["workload"], r["config"], fmt(r["per_op_us"]), span,
                                                               r["median_s"], fmt(r["ratio_to_native"]),
                                                               fmt(r["ratio_to_floor"]), notes))
        w5 = [r for r in records if r["workload"] == "W5" and r.get("decisions_per_s")]
        if w5:
            print("\nW5 sessions: %d x %d execs at once. Decision latency: the daemon's, from a notification "
                  "received to its answer sent; spawn: a session's wall time of one fork+exec+wait"
                  % (self.counts["W5_sessions"], self.counts["W5_execs"]))
            print("    %-10s %12s %8s %8s %8s %10s %10s %6s" % ("config", "decisions/s", "p50 µs", "p99 µs", "max µs",
                                                              "spawn p50", "spawn p99", "lost"))
            for r in w5:
                print("    %-10s %12.0f %8s %8s %8s %10s %10s %6s" % (
                    r["config"], r["decisions_per_s"], fmt(r.get("p50_us")), fmt(r.get("p99_us")),
                    fmt(r.get("max_us")), fmt(r.get("spawn_p50_us")), fmt(r.get("spawn_p99_us")),
                    r.get("decisions_lost", "-")))
                if "rss_kb_per_session" in r and r["config"] == "daemon":
                    print("    daemon RSS: idle %d kB; %d sessions set up (idle) %d kB: %.1f kB/session; peak %d kB "
                          "(%.1f kB/session)" % (r["rss_idle_kb"], self.counts["W5_sessions"], r["rss_ready_kb"],
                                                 r["rss_kb_per_session"], r["rss_peak_kb"],
                                                 r["rss_peak_kb_per_session"]))
        by = {r["config"]: r for r in w5}
        if "daemon-w1" in by and "daemon-w2" in by:
            print("    2 workers: %.2fx the decisions/s of 1" % (by["daemon-w2"]["decisions_per_s"] /
                                                              by["daemon-w1"]["decisions_per_s"]))
        if "daemon-w2" in by and "daemon-stalled" in by and by["daemon-w2"].get("p99_us"):
            print("    one session stalled: the others' decision p99 %.2fx unstalled (2 workers each)" % (
                by["daemon-stalled"]["p99_us"] / by["daemon-w2"]["p99_us"]))
        loads = [r for r in records if r["workload"] == "W4-load"]
        if loads:
            print("\nW4 policy load (`execguard check -c POLICY /bin/true`, whole process):")
            for r in loads:
                if r["config"] == "execguard check" and r["median_s"] is not None:
                    print("    %-5s %6d path + %5d hash rules: %.3f s (%.3f–%.3f), max RSS %d kB" % (
                        r["policy"], r["rules_path"], r["rules_hash"], r["median_s"], r["min_s"], r["max_s"],
                        r["max_rss_kb"]))
                elif r["config"] == "daemon":
                    extra = ""
                    if r.get("start_to_ready_s") is not None:
                        extra = ", start to READY=1 %.3f s" % r["start_to_ready_s"]
                    print("    daemon (%s policy): RSS at the end %s kB%s" % (r["policy"], r["rss_kb_at_end"], extra))
        sys.stdout.flush()


def fmt(x):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 1:
        return "%.2f" % x
    return "%.3f" % x


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    """Nearest rank."""
    k = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[k]


def tail(text, n=300):
    """What a failing command said: its first lines but the supervisors' warning that audit
    records are lost (on purpose, in the private namespace)."""
    lines = [line for line in (text or "").splitlines() if line.strip() and "audit records will be lost" not in line]
    return " | ".join(lines[:3])[:n]


def first_error(results):
    for res in results:
        try:
            with open(res + ".err") as f:
                text = f.read().strip()
        except OSError:
            continue
        if tail(text):
            return tail(text)
    return "(nothing on stderr)"


# W2: the shape of a configure script: command substitutions, expr arithmetic, tests.
W2_SCRIPT = """#!/bin/sh
# execguard bench W2: @ITER@ iterations of five small commands.
set -e
i=0
while [ "$i" -lt @ITER@ ]; do
        b=$(basename /usr/lib/x86_64-linux-gnu/libc.so.6 .so.6)
        d=$(dirname /usr/share/doc/execguard/README)
        i=$(expr "$i" + 1)
        cat /dev/null
        /usr/bin/test -n "$b$d"
done
[ "$i" = @ITER@ ]
"""

# The policy of every configuration but W4's: the shipped example's one rule.
SMALL_POLICY = """; generated by bench/bench.py
[execguard]
mode = enforce
action = deny
[block]
path = /usr/bin/df
"""
PROTECT_SECTION = """[protect]
dir = /etc
dir = /usr
deny = all
"""


def enter_private_namespace():
    """Root: re-run in a private mount namespace, where the journal's socket directory is an
    empty tmpfs and /dev/log is /dev/null, so that nothing the supervisors log reaches the
    host's journal or syslog (tests/soak/soak.sh does the same)."""
    if os.geteuid() != 0:
        return
    if not os.environ.get("EXECGUARD_BENCH_NS"):
        env = dict(os.environ, EXECGUARD_BENCH_NS="1")
        argv = ["unshare", "--mount", "--propagation", "private", sys.executable, os.path.abspath(__file__)]
        os.execvpe("unshare", argv + sys.argv[1:], env)
    if os.path.isdir("/run/systemd/journal"):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run/systemd/journal"], check=True)
    if os.path.exists("/dev/log"):
        subprocess.run(["mount", "--bind", "/dev/null", "/dev/log"], check=True)


def main():
    if len(sys.argv) != 4:
        die("usage: bench.py EXECGUARD DRIVERS-DIR OUT.json")
    enter_private_namespace()
    # SIGTERM and SIGHUP unwind like ^C: the daemons are stopped, the scratch directory removed.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    execguard, drivers, out = sys.argv[1:]
    sys.exit(Bench(execguard, drivers, out).run())


if __name__ == "__main__":
    main()
