# The daemon's test fixtures, sourced by daemon.sh and policy.sh (and through them by
# limits.sh): a private socket, a NOTIFY_SOCKET sink, starting and stopping the daemon,
# commands supervised through it, and the JSON audit log's checks.

REPO=$(cd "$HERE/../.." && pwd)
D=$T/daemon
mkdir -p "$D"
chmod 755 "$D"
SOCK=$D/execguard.sock
NOTIFY=$D/notify.txt
DLOG=$D/daemon.log
JSON=$D/audit.json
DAEMON_PID=""

# The sd_notify datagrams the daemon sends, one per line ('|' for each newline in it).
start_notify_sink() {
        rm -f "$D/notify.sock" # an earlier file's sink may hold the name: ours takes it
        python3 "$HERE/../notify-sink.py" "$D/notify.sock" "$NOTIFY" &
        NOTIFY_SINK=$!
        for _ in $(seq 100); do [ -S "$D/notify.sock" ] && break; sleep 0.02; done
}

# start_daemon POLICY [ARGS...]: in the background, until it has said READY=1.
start_daemon() {
        local policy=$1
        shift
        : >"$NOTIFY"
        NOTIFY_SOCKET=$D/notify.sock "$EG" daemon -c "$policy" --socket "$SOCK" "$@" 2>>"$DLOG" &
        DAEMON_PID=$!
        for _ in $(seq 250); do grep -q '^READY=1' "$NOTIFY" && return 0; sleep 0.02; done
        stop_daemon # not ready: it must not hold the socket for the next one
        return 1
}

stop_daemon() {
        [ -n "$DAEMON_PID" ] || return 0
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_RC=$?
        DAEMON_PID=""
}

# dv ARGS...: a command supervised through the daemon.
dv() {
        timeout --kill-after=5 120 "$EG" run --socket "$SOCK" -- "$@" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
}

# wait_for FILE TEXT: up to 3 s for TEXT to appear in FILE.
wait_for() {
        for _ in $(seq 150); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.02; done
        return 1
}

# json_check FILE PYTHON-EXPR: every line of FILE is a JSON object; EXPR (over `recs`, the
# list of them, and get(rec, "a.b.c") for ECS dotted names) must be true.
json_check() {
        python3 - "$1" "$2" <<'EOF'
import json, sys
recs = []
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        text = line.decode("utf-8")       # must be valid UTF-8
        if not text.endswith("\n"):
            sys.exit(f"line {n} not terminated")
        recs.append(json.loads(text))     # must be one valid JSON object per line
        assert isinstance(recs[-1], dict)
def get(rec, dotted):
    for part in dotted.split("."):
        if not isinstance(rec, dict) or part not in rec:
            return None
        rec = rec[part]
    return rec
ok = eval(sys.argv[2])
if not ok:
    sys.exit("condition false; records:\n" + "\n".join(json.dumps(r) for r in recs[-3:]))
EOF
}
