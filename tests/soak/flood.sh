#!/usr/bin/env bash
# The daemon under a flood (issue 20): FLOOD_SESSIONS sessions (default 1000), each with
# FLOOD_PENDING threads (default 64) that exec a blocked program at once, FLOOD_ROUNDS times
# each (default 2), all let go together:
#   tests/soak/flood.sh PATH/TO/execguard PATH/TO/helpers PATH/TO/flood-exec
# Every exec must be refused with EACCES and counted once (by the sessions and by the
# daemon's STATUS=); the daemon's RSS must stay within FLOOD_SLACK_KB (2048) of its value
# with the sessions set up: the notifications pending at once wait in the kernel, not in
# the daemon, which holds no more than its workers can take. Root and python3; the audit
# records go to sinks of a private mount namespace, as in the soak.
set -u

EG=${1:?usage: flood.sh EXECGUARD HELPERS FLOOD-EXEC}
H=${2:?usage: flood.sh EXECGUARD HELPERS FLOOD-EXEC}
DRIVER=${3:?usage: flood.sh EXECGUARD HELPERS FLOOD-EXEC}
HERE=$(cd "$(dirname "$0")" && pwd)
SESSIONS=${FLOOD_SESSIONS:-1000}
PENDING=${FLOOD_PENDING:-64}
ROUNDS=${FLOOD_ROUNDS:-2}
SLACK_KB=${FLOOD_SLACK_KB:-2048}
TIMEOUT=${FLOOD_TIMEOUT:-600}

. "$HERE/../e2e/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null; then
        begin "flood"
        skip "needs root (the daemon) and python3"
        summary
        exit
fi
if [ -z "${EXECGUARD_FLOOD_NS:-}" ]; then
        exec env EXECGUARD_FLOOD_NS=1 unshare --mount --propagation private "$0" "$@"
fi

T=$(mktemp -d /tmp/execguard-flood.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/bin" "$T/run" "$T/sessions"
SOCK=$T/run/execguard.sock
NOTIFY=$T/notify.txt
DLOG=$T/daemon.log
DAEMON_PID="" NOTIFY_SINK="" SYSLOG_SINK=""
cleanup() {
        pkill -KILL -f "$T/bin/flood-exec" 2>/dev/null
        [ -z "$DAEMON_PID" ] || kill -KILL "$DAEMON_PID" 2>/dev/null
        [ -z "$NOTIFY_SINK" ] || kill "$NOTIFY_SINK" 2>/dev/null
        [ -z "$SYSLOG_SINK" ] || kill "$SYSLOG_SINK" 2>/dev/null
        wait 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# Sinks of our own: 128,000 records must not reach the host's journal.
[ -d /run/systemd/journal ] && mount -t tmpfs -o mode=755 tmpfs /run/systemd/journal
if [ -e /dev/log ]; then
        "$H/syslog-sink" "$T/log.sock" /dev/null &
        SYSLOG_SINK=$!
        for _ in $(seq 100); do [ -S "$T/log.sock" ] && break; sleep 0.05; done
        mount --bind "$T/log.sock" /dev/log
fi
python3 "$HERE/../notify-sink.py" "$T/notify.sock" "$NOTIFY" &
NOTIFY_SINK=$!
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done

cp "$H/marker" "$T/bin/blocked"
cp "$DRIVER" "$T/bin/flood-exec"
chmod 755 "$T/bin/blocked" "$T/bin/flood-exec"
cat >"$T/policy.ini" <<EOF
[execguard]
max_sessions_per_user = $((SESSIONS + 8))
[block]
path = $T/bin/blocked
EOF
chmod 644 "$T/policy.ini"
# Two fds a session in the daemon, beyond its own.
ulimit -n $((SESSIONS * 4 + 1024)) 2>/dev/null
# Every thread takes a PID: raised for the flood if need be, and put back.
PID_MAX=$(cat /proc/sys/kernel/pid_max)
NEED=$((SESSIONS * (PENDING + 2) + 8192))
if [ "$NEED" -gt "$PID_MAX" ]; then
        echo "$NEED" >/proc/sys/kernel/pid_max
        trap 'echo "$PID_MAX" >/proc/sys/kernel/pid_max; cleanup' EXIT
fi

NOTIFY_SOCKET=$T/notify.sock "$EG" daemon -c "$T/policy.ini" --socket "$SOCK" 2>"$DLOG" &
DAEMON_PID=$!
begin "flood: the daemon starts (READY=1)"
for _ in $(seq 300); do grep -q '^READY=1' "$NOTIFY" && break; sleep 0.1; done
if grep -q '^READY=1' "$NOTIFY"; then pass; else
        fail "no READY=1: $(tail -n 5 "$DLOG")"
        summary
        exit
fi

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null; }

# Every session waits at the gate, a FIFO we hold open for writing: closing it lets all go.
SESSION_PIDS=()
mkfifo "$T/gate"
exec 3<>"$T/gate"
for k in $(seq "$SESSIONS"); do
        "$EG" run --socket "$SOCK" -- "$T/bin/flood-exec" "$PENDING" "$ROUNDS" "$T/bin/blocked" \
                "$T/sessions/$k.ready" <"$T/gate" >"$T/sessions/$k.out" 2>"$T/sessions/$k.err" 3>&- &
        SESSION_PIDS+=($!)
done
begin "flood: $SESSIONS sessions of $PENDING threads each are set up"
deadline=$(($(date +%s) + TIMEOUT))
while [ "$(find "$T/sessions" -name '*.ready' | wc -l)" -lt "$SESSIONS" ] && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 0.5
done
READY=$(find "$T/sessions" -name '*.ready' | wc -l)
[ "$READY" = "$SESSIONS" ] && pass || fail "$READY ready; $(tail -n 3 "$DLOG"; cat "$T/sessions/1.err")"
sleep 1
RSS_READY=$(rss_kb)
RSS_MAX=$RSS_READY
start=$(date +%s.%N)
exec 3>&- # the gate opens: $((SESSIONS * PENDING)) execs at once
sessions_running() {
        local pid
        for pid in "${SESSION_PIDS[@]}"; do [ -d "/proc/$pid" ] && return 0; done
        return 1
}
while sessions_running && [ "$(date +%s)" -lt "$deadline" ]; do
        rss=$(rss_kb)
        [ -n "$rss" ] && [ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss
        sleep 0.2
done
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
WANT=$((SESSIONS * PENDING * ROUNDS))

begin "flood: every exec refused with EACCES, none lost ($WANT execs in $took s)"
bad=0 refused=0
for k in $(seq "$SESSIONS"); do
        line=$(cat "$T/sessions/$k.out" 2>/dev/null)
        n=${line#refused=}
        n=${n%% *}
        if [ "$line" = "refused=$((PENDING * ROUNDS)) wrong=0" ]; then refused=$((refused + n)); else bad=$((bad + 1)); fi
done
[ "$bad" = 0 ] && [ "$refused" = "$WANT" ] && pass || fail "$bad sessions wrong, $refused refused of $WANT"

begin "flood: the daemon counted every decision once"
# Each session's flood-exec is one allowed exec more. STATUS= follows within a second.
for _ in $(seq 50); do
        st=$(grep -o 'STATUS=[^|]*' "$NOTIFY" | tail -n 1)
        denied=$(echo "$st" | sed -n 's/.* \([0-9]*\) denied.*/\1/p')
        [ "${denied:-0}" -ge "$WANT" ] && break
        sleep 0.2
done
[ "$denied" = "$WANT" ] && pass || fail "denied $denied of $WANT: $st"

begin "flood: the daemon's RSS stays within $SLACK_KB kB of its value with the sessions set up"
echo "     RSS with $SESSIONS sessions set up ${RSS_READY} kB, max during the flood ${RSS_MAX} kB"
[ "$RSS_MAX" -le $((RSS_READY + SLACK_KB)) ] && pass || fail "max $RSS_MAX kB, set up $RSS_READY kB"

kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
summary
