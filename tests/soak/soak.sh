#!/usr/bin/env bash
# Soak: many concurrent sessions through one daemon, allowed and blocked execs interleaved.
#   tests/soak/soak.sh PATH/TO/execguard PATH/TO/helpers PATH/TO/soak-exec
# SOAK_SESSIONS (64) sessions run at once, each SOAK_EXECS (2000) execs by soak-exec. Every
# exec must be decided rightly and accounted for exactly: by the sessions themselves, by the
# daemon's STATUS= counts, by its per-session "ended after N decisions", and by the JSON and
# syslog audit records. The daemon's VmRSS must stay flat after a warm-up, its fd count
# bounded, and back to idle once the sessions are gone. The whole run has a time bound
# (SOAK_TIMEOUT seconds); past it everything is killed and the run fails.
# Closes with "N passed, N failed". Needs root (the daemon) and python3 (the JSON check).
set -u

EG=${1:?usage: soak.sh EXECGUARD HELPERS SOAK-EXEC}
H=${2:?usage: soak.sh EXECGUARD HELPERS SOAK-EXEC}
DRIVER=${3:?usage: soak.sh EXECGUARD HELPERS SOAK-EXEC}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"

SESSIONS=${SOAK_SESSIONS:-64}
EXECS=${SOAK_EXECS:-2000}
# A floor of 100 decisions/s, far below what a loaded 2-core machine does, plus setup.
TIMEOUT=${SOAK_TIMEOUT:-$((120 + SESSIONS * (EXECS + 1) / 100))}
# Past this, an exec with no answer is a lost decision (soak-exec kills it and counts it).
EXEC_TIMEOUT=${SOAK_EXEC_TIMEOUT:-60}
WARMUP_PERCENT=20
# RSS after the warm-up may exceed its value at the end of the warm-up by this much. The
# smallest glibc allocation takes 32 bytes: one chunk leaked per blocked exec alone (half of
# the 80% of the default run after warm-up, 51,200 execs) is 1.6 MiB, beyond this bound;
# what stays within it is the noise of a heap that has reached its working set (malloc
# keeping freed chunks, pages touched once more by a peak of concurrent execs).
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-1024} # check-tsan: TSan's own memory grows with what it watches
# The daemon's fds while sessions run: each session holds its listener and its client
# connection; an exec being judged holds a few more (/proc/PID, its memory, a pidfd, the
# file), one exec at a time. A leak of one fd per exec goes far beyond; one per session is
# caught when the sessions are gone.
FD_SLACK_PER_SESSION=3
FD_SLACK=16

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null; then
        begin "soak"
        skip "needs root (the daemon) and python3"
        summary
        exit
fi

# A private mount namespace: the audit records go to a sink of ours bound over /dev/log,
# not to the host's syslog or journal (a full soak makes 130,000 of them).
if [ -z "${EXECGUARD_SOAK_NS:-}" ]; then
        exec env EXECGUARD_SOAK_NS=1 unshare --mount --propagation private "$0" "$@"
fi

T=$(mktemp -d /tmp/execguard-soak.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/bin" "$T/work" "$T/run" "$T/sessions"
SOCK=$T/run/execguard.sock
NOTIFY=$T/notify.txt
DLOG=$T/daemon.log
JSON=$T/audit.json
SYSLOG=$T/syslog.txt
SAMPLES=$T/samples.txt # seconds-since-start VmRSS-kB fd-count
DAEMON_PID=""
NOTIFY_SINK=""
SYSLOG_SINK=""
declare -A SESSION_OF # wrapper pid -> session number
START=$(date +%s.%N)
DEADLINE=$(($(date +%s) + TIMEOUT))

elapsed() { # seconds since START, to the millisecond
        local now
        now=$(date +%s.%N)
        awk -v a="$START" -v b="$now" 'BEGIN { printf "%.3f", b - a }'
}

# Everything here was started by this script: stop it by its pid.
kill_sessions() {
        local pid
        for pid in "${!SESSION_OF[@]}"; do
                [ -d "/proc/$pid" ] || continue
                for child in $(pgrep -P "$pid"); do kill -KILL "$child" 2>/dev/null; done
                kill -KILL "$pid" 2>/dev/null
        done
}
cleanup() {
        kill_sessions
        [ -z "$DAEMON_PID" ] || kill -KILL "$DAEMON_PID" 2>/dev/null
        [ -z "$NOTIFY_SINK" ] || kill "$NOTIFY_SINK" 2>/dev/null
        [ -z "$SYSLOG_SINK" ] || kill "$SYSLOG_SINK" 2>/dev/null
        wait 2>/dev/null
        if [ -n "${SOAK_KEEP:-}" ]; then
                echo "soak: kept $T"
        else
                rm -rf "$T"
        fi
}
trap cleanup EXIT

# ---- sinks: syslog, journald hidden, sd_notify -------------------------------------------

if [ -d /run/systemd/journal ]; then
        mount -t tmpfs -o mode=755 tmpfs /run/systemd/journal
fi
: >"$SYSLOG"
if [ -e /dev/log ]; then
        "$H/syslog-sink" "$T/log.sock" "$SYSLOG" &
        SYSLOG_SINK=$!
        for _ in $(seq 100); do [ -S "$T/log.sock" ] && break; sleep 0.05; done
        mount --bind "$T/log.sock" /dev/log || SYSLOG=""
else
        SYSLOG="" # no syslog on this host: records go to the JSON file only
fi

: >"$NOTIFY"
python3 "$HERE/../notify-sink.py" "$T/notify.sock" "$NOTIFY" &
NOTIFY_SINK=$!
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done

# ---- fixtures and the daemon --------------------------------------------------------------

# The e2e marker: BLOCKED creates its argument if it ever runs; ALLOWED is the same program
# with one byte more, so neither its size nor its content is that of the blocked file.
MARKER=$T/work/ran
cp "$H/marker" "$T/bin/blocked"
{ cat "$H/marker"; printf '\0'; } >"$T/bin/allowed"
chmod 755 "$T/bin/allowed" "$T/bin/blocked"
cp "$DRIVER" "$T/bin/soak-exec"
cat >"$T/policy.ini" <<EOF
[execguard]
mode = enforce
action = deny
log_file = $JSON
log_allowed = yes
workers = ${SOAK_WORKERS:-2}
[block]
path = $T/bin/blocked
EOF
chmod 644 "$T/policy.ini"

NOTIFY_SOCKET=$T/notify.sock "$EG" daemon -c "$T/policy.ini" --socket "$SOCK" 2>"$DLOG" &
DAEMON_PID=$!
begin "soak: the daemon starts (READY=1)"
for _ in $(seq 300); do grep -q '^READY=1' "$NOTIFY" && break; sleep 0.1; done
if grep -q '^READY=1' "$NOTIFY" && [ -S "$SOCK" ]; then
        pass
else
        fail "no READY=1: $(tail -n 5 "$DLOG")"
        summary
        exit
fi

rss_kb() { # VmRSS of the daemon in kB, or nothing once it is gone
        local key value _
        while read -r key value _; do
                [ "$key" = "VmRSS:" ] && { echo "$value"; return; }
        done 2>/dev/null <"/proc/$DAEMON_PID/status"
}
fd_count() {
        local fds=("/proc/$DAEMON_PID/fd/"*)
        [ -e "${fds[0]}" ] && echo "${#fds[@]}"
}
# A sample that comes back empty is taken again before the daemon is called gone: one read
# of /proc came back empty once in CI while the daemon went on deciding.
sample() {
        local rss fds try
        for try in 1 2 3 4 5; do
                rss=$(rss_kb)
                fds=$(fd_count)
                if [ -n "$rss" ] && [ -n "$fds" ]; then
                        echo "$(elapsed) $rss $fds" >>"$SAMPLES"
                        return 0
                fi
                echo "soak: sample $try of the daemon came back empty (rss '$rss', fds '$fds')" >&2
                kill -0 "$DAEMON_PID" 2>/dev/null || return 1
                sleep 0.2
        done
        return 1
}
# The last STATUS= the daemon sent.
last_status() { grep -o 'STATUS=[^|]*' "$NOTIFY" | tail -n 1; }

sleep 1
sample
FD_IDLE=$(fd_count)
RSS_IDLE=$(rss_kb)

# ---- the sessions -----------------------------------------------------------------------

ALLOWED_EACH=$(((EXECS + 1) / 2))
BLOCKED_EACH=$((EXECS / 2))
T0=$(elapsed)
for k in $(seq "$SESSIONS"); do
        "$EG" run --socket "$SOCK" -- "$T/bin/soak-exec" "$EXECS" "$T/bin/allowed" "$T/bin/blocked" "$MARKER" \
                "$EXEC_TIMEOUT" >"$T/sessions/$k.out" 2>"$T/sessions/$k.err" </dev/null &
        SESSION_OF[$!]=$k
done
printf 'soak: %d sessions x %d execs started (time bound %d s)\n' "$SESSIONS" "$EXECS" "$TIMEOUT"

# Five times a second: are sessions still running? Once a second: a sample and the deadline;
# every 10 s a line of progress.
TIMED_OUT=""
DAEMON_GONE=""
last_sample=0
last_report=$(date +%s)
while :; do
        running=0
        for pid in $(jobs -rp); do [ -n "${SESSION_OF[$pid]:-}" ] && running=$((running + 1)); done
        [ "$running" = 0 ] && break
        now=$(date +%s)
        if [ "$now" != "$last_sample" ]; then
                last_sample=$now
                sample || { DAEMON_GONE=1; break; }
        fi
        if [ "$now" -ge "$DEADLINE" ]; then
                TIMED_OUT=1
                break
        fi
        if [ $((now - last_report)) -ge 10 ]; then
                printf 'soak: %5.0fs  %2d sessions running  %s\n' "$(elapsed)" "$running" "$(last_status)"
                last_report=$now
        fi
        sleep 0.2
done
T1=$(elapsed)
if [ -n "$TIMED_OUT" ] || [ -n "$DAEMON_GONE" ]; then
        kill_sessions
fi
declare -A RC_OF
for pid in "${!SESSION_OF[@]}"; do
        wait "$pid"
        RC_OF[${SESSION_OF[$pid]}]=$?
done

# After the sessions: the daemon sees each one end, closes what it held for it, and says
# its final counts. Up to 30 s for that (sampled as before).
FD_END=""
for _ in $(seq 30); do
        [ -n "$DAEMON_GONE" ] && break
        sample || { DAEMON_GONE=1; break; }
        FD_END=$(fd_count)
        if [ "$FD_END" = "$FD_IDLE" ] && last_status | grep -q '^STATUS=0 sessions'; then
                break
        fi
        sleep 1
done
RSS_END=$(rss_kb)

# ---- what the sessions saw --------------------------------------------------------------

RAN=0 REFUSED=0 WRONG=0 LOST=0 BLOCKED_RAN=0 INCOMPLETE=0 BAD_RC=0 TOLD=0
for k in $(seq "$SESSIONS"); do
        line=$(cat "$T/sessions/$k.out" 2>/dev/null)
        if [[ "$line" =~ ^ran=([0-9]+)\ refused=([0-9]+)\ wrong=([0-9]+)\ lost=([0-9]+)\ blocked-ran=([0-9]+)$ ]]; then
                RAN=$((RAN + BASH_REMATCH[1]))
                REFUSED=$((REFUSED + BASH_REMATCH[2]))
                WRONG=$((WRONG + BASH_REMATCH[3]))
                LOST=$((LOST + BASH_REMATCH[4]))
                BLOCKED_RAN=$((BLOCKED_RAN + BASH_REMATCH[5]))
                [ $((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4])) = "$EXECS" ] ||
                        INCOMPLETE=$((INCOMPLETE + 1))
        else
                INCOMPLETE=$((INCOMPLETE + 1))
        fi
        [ "${RC_OF[$k]:-x}" = 0 ] || BAD_RC=$((BAD_RC + 1))
        TOLD=$((TOLD + $(grep -c '^execguard: blocked ' "$T/sessions/$k.err")))
done
# The first session that went wrong, for the failure messages.
first_bad() {
        local k
        for k in $(seq "$SESSIONS"); do
                if [ "${RC_OF[$k]:-x}" != 0 ]; then
                        echo "session $k: rc=${RC_OF[$k]:-?} $(head -c 300 "$T/sessions/$k.out") $(grep -v '^execguard: blocked ' "$T/sessions/$k.err" | head -c 400)"
                        return
                fi
        done
}

# ---- what the daemon counted --------------------------------------------------------------

# The driver's own exec (by `execguard run`) is one allowed decision per session too.
WANT_ALLOW=$((SESSIONS * (ALLOWED_EACH + 1)))
WANT_DENY=$((SESSIONS * BLOCKED_EACH))
STATUS_LINE=$(last_status)
if [[ "$STATUS_LINE" =~ ^STATUS=([0-9]+)\ sessions\ \(([0-9]+)\ since\ start\)\;\ decisions:\ ([0-9]+)\ allowed,\ ([0-9]+)\ denied,\ ([0-9]+)\ killed,\ ([0-9]+)\ audited\;\ decision\ latency ]]; then
        ST_SESSIONS=${BASH_REMATCH[1]} ST_EVER=${BASH_REMATCH[2]} ST_ALLOW=${BASH_REMATCH[3]}
        ST_DENY=${BASH_REMATCH[4]} ST_KILL=${BASH_REMATCH[5]} ST_AUDIT=${BASH_REMATCH[6]}
else
        ST_SESSIONS=? ST_EVER=? ST_ALLOW=? ST_DENY=? ST_KILL=? ST_AUDIT=?
fi

# "Session ID: ended after N decisions", one per session.
ENDED=$(grep -c ': ended after ' "$DLOG")
ENDED_RIGHT=$(grep -c ": ended after $((EXECS + 1)) decisions\$" "$DLOG")
# Anything else the daemon said (warnings, errors) is a finding.
OTHER_LOG=$(grep -Ev '^execguard: (Listening on |Session [0-9a-f]+: (supervising for|ended after) )' "$DLOG" |
        grep -v 'records will be lost\|neither journald nor syslog' |
        grep -v 'kernel.yama.ptrace_scope' | head -n 5) # the host's ptrace warning at start

# The JSON records: by action and executable, and per session.
JSON_COUNTS=$(python3 - "$JSON" "$T/bin/allowed" "$T/bin/blocked" "$T/bin/soak-exec" "$((EXECS + 1))" <<'EOF'
import collections, json, sys
path, allowed, blocked, driver, per_session = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
count = collections.Counter()
sessions = collections.Counter()
bad = 0
with open(path, "rb") as f:
    for line in f:
        try:
            rec = json.loads(line.decode("utf-8"))
            action = rec["event"]["action"]
            exe = rec["process"]["executable"]
            sessions[rec["execguard"]["session"]] += 1
        except Exception:
            bad += 1
            continue
        if action == "exec-allowed" and exe == allowed:
            count["allowed"] += 1
        elif action == "exec-allowed" and exe == driver:
            count["driver"] += 1
        elif action == "exec-denied" and exe == blocked:
            count["denied"] += 1
        else:
            count["other"] += 1
print(f"allowed={count['allowed']} driver={count['driver']} denied={count['denied']} other={count['other']}"
      f" bad={bad} sessions={len(sessions)}"
      f" sessions_right={sum(1 for n in sessions.values() if n == per_session)}")
EOF
)
json_get() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$JSON_COUNTS"; }
SYSLOG_SAID="not checked (no /dev/log on this host)"
if [ -n "$SYSLOG" ]; then
        SYS_ALLOW=$(grep -c 'execguard\[[0-9]*\]: decision=allow ' "$SYSLOG")
        SYS_DENY=$(grep -c 'execguard\[[0-9]*\]: decision=deny ' "$SYSLOG")
        SYSLOG_SAID="allow $SYS_ALLOW, deny $SYS_DENY"
fi

# ---- RSS and fds -------------------------------------------------------------------------

# Over the samples taken while the sessions ran (from T0 to T1) and after: the value at the
# end of the warm-up (the first WARMUP_PERCENT of the run), the highest after it, the fd peak.
read -r RSS_WARM RSS_MAX_AFTER RSS_PEAK FD_MAX N_SAMPLES <<<"$(awk -v t0="$T0" -v t1="$T1" -v w="$WARMUP_PERCENT" '
        BEGIN { edge = t0 + (t1 - t0) * w / 100; warm = ""; after = 0; peak = 0; fdmax = 0; n = 0 }
        $1 >= t0 { n++; if ($3 > fdmax) fdmax = $3; if ($2 > peak) peak = $2
                   if ($1 <= edge) warm = $2; else if ($2 > after) after = $2 }
        END { if (warm == "") warm = after; print warm, after, peak, fdmax, n }' "$SAMPLES")"

# ---- the daemon stops cleanly -------------------------------------------------------------

DAEMON_RC=x
if [ -z "$DAEMON_GONE" ]; then
        kill -TERM "$DAEMON_PID"
        for _ in $(seq 100); do [ -d "/proc/$DAEMON_PID" ] || break; sleep 0.1; done
        wait "$DAEMON_PID"
        DAEMON_RC=$?
fi
DAEMON_PID=""

# ---- the summary, then the checks ---------------------------------------------------------

DURATION=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
# The decisions the daemon made (all of them, when nothing went wrong).
DECISIONS=$((SESSIONS * (EXECS + 1)))
[[ "$ST_ALLOW$ST_DENY$ST_KILL" =~ ^[0-9]+$ ]] && DECISIONS=$((ST_ALLOW + ST_DENY + ST_KILL))
RATE=$(awk -v n="$DECISIONS" -v d="$DURATION" 'BEGIN { printf "%.0f", (d > 0 ? n / d : 0) }')
mib() { awk -v k="$1" 'BEGIN { printf "%.2f MiB", k / 1024 }'; }
cat <<EOF

soak: $SESSIONS sessions x $EXECS execs ($ALLOWED_EACH allowed, $BLOCKED_EACH blocked each, interleaved)
  duration      ${DURATION} s for $DECISIONS decisions (with each session's own start): $RATE decisions/s
  sessions saw  ran $RAN, refused $REFUSED (EACCES), wrong $WRONG, lost $LOST, blocked ran $BLOCKED_RAN; \
$INCOMPLETE incomplete, $BAD_RC exit status not 0; told "blocked" $TOLD times
  want          allowed $WANT_ALLOW (incl. $SESSIONS driver execs), denied $WANT_DENY
  STATUS=       allowed $ST_ALLOW, denied $ST_DENY, killed $ST_KILL, audited $ST_AUDIT; $ST_SESSIONS sessions ($ST_EVER since start)
  daemon log    $ENDED sessions ended, $ENDED_RIGHT of them after exactly $((EXECS + 1)) decisions
  JSON log      $JSON_COUNTS
  syslog        $SYSLOG_SAID
  RSS           idle $(mib "$RSS_IDLE"), at warm-up ($WARMUP_PERCENT%) $(mib "$RSS_WARM"), max after warm-up $(mib "$RSS_MAX_AFTER") (bound +$(mib $RSS_SLACK_KB)), peak $(mib "$RSS_PEAK"), end $(mib "${RSS_END:-0}"); $N_SAMPLES samples
  fds           idle $FD_IDLE, max $FD_MAX (bound $((FD_IDLE + FD_SLACK_PER_SESSION * SESSIONS + FD_SLACK))), end ${FD_END:-?}

EOF

begin "soak: within the time bound ($TIMEOUT s)"
[ -z "$TIMED_OUT" ] && pass || fail "timed out after $T1 s; sessions killed"
begin "soak: the daemon ran through it and stopped cleanly"
[ -z "$DAEMON_GONE" ] && [ "$DAEMON_RC" = 0 ] && grep -q '^STOPPING=1' "$NOTIFY" && pass ||
        fail "gone during the run: ${DAEMON_GONE:-no}; exit status $DAEMON_RC; $(tail -n 3 "$DLOG")"
begin "soak: every session ran all its execs and exited 0"
[ "$INCOMPLETE" = 0 ] && [ "$BAD_RC" = 0 ] && pass || fail "$INCOMPLETE incomplete, $BAD_RC failed; $(first_bad)"
begin "soak: every allowed exec ran ($((SESSIONS * ALLOWED_EACH)))"
[ "$RAN" = $((SESSIONS * ALLOWED_EACH)) ] && pass || fail "$RAN ran"
begin "soak: every blocked exec was refused with EACCES ($((SESSIONS * BLOCKED_EACH)))"
[ "$REFUSED" = $((SESSIONS * BLOCKED_EACH)) ] && pass || fail "$REFUSED refused"
begin "soak: no wrong decision, none lost"
[ "$WRONG" = 0 ] && [ "$LOST" = 0 ] && pass || fail "wrong $WRONG, lost $LOST; $(first_bad)"
begin "soak: the blocked program never ran"
[ "$BLOCKED_RAN" = 0 ] && [ ! -e "$MARKER" ] && pass || fail "ran $BLOCKED_RAN times; marker: $(ls "$MARKER" 2>&1)"
begin "soak: the daemon's STATUS= counts every decision"
[ "$ST_ALLOW" = "$WANT_ALLOW" ] && [ "$ST_DENY" = "$WANT_DENY" ] && [ "$ST_KILL" = 0 ] && [ "$ST_AUDIT" = 0 ] &&
        [ "$ST_SESSIONS" = 0 ] && [ "$ST_EVER" = "$SESSIONS" ] && pass || fail "$STATUS_LINE"
begin "soak: the daemon saw each session end after exactly $((EXECS + 1)) decisions"
[ "$ENDED" = "$SESSIONS" ] && [ "$ENDED_RIGHT" = "$SESSIONS" ] && pass ||
        fail "$ENDED ended, $ENDED_RIGHT right: $(grep ': ended after ' "$DLOG" | grep -v "after $((EXECS + 1)) decisions" | head -n 3)"
begin "soak: one JSON record per decision, each with its session"
[ "$(json_get allowed)" = $((SESSIONS * ALLOWED_EACH)) ] && [ "$(json_get driver)" = "$SESSIONS" ] &&
        [ "$(json_get denied)" = "$WANT_DENY" ] && [ "$(json_get other)" = 0 ] && [ "$(json_get bad)" = 0 ] &&
        [ "$(json_get sessions)" = "$SESSIONS" ] && [ "$(json_get sessions_right)" = "$SESSIONS" ] && pass ||
        fail "$JSON_COUNTS"
if [ -n "$SYSLOG" ]; then
        begin "soak: one syslog record per decision"
        [ "$SYS_ALLOW" = "$WANT_ALLOW" ] && [ "$SYS_DENY" = "$WANT_DENY" ] && pass ||
                fail "allow $SYS_ALLOW, deny $SYS_DENY"
fi
begin "soak: the daemon logged nothing but sessions starting and ending"
[ -z "$OTHER_LOG" ] && pass || fail "$OTHER_LOG"
begin "soak: daemon RSS flat after warm-up (max <= warm-up + $RSS_SLACK_KB kB)"
[ -n "$RSS_WARM" ] && [ "$RSS_MAX_AFTER" -le $((RSS_WARM + RSS_SLACK_KB)) ] && pass ||
        fail "warm-up ${RSS_WARM:-?} kB, max after $RSS_MAX_AFTER kB"
begin "soak: daemon fd count bounded during the run (idle + $FD_SLACK_PER_SESSION per session + $FD_SLACK)"
[ "$FD_MAX" -le $((FD_IDLE + FD_SLACK_PER_SESSION * SESSIONS + FD_SLACK)) ] && pass || fail "idle $FD_IDLE, max $FD_MAX"
begin "soak: daemon fd count back to idle after the sessions"
[ "${FD_END:-x}" = "$FD_IDLE" ] && pass || fail "idle $FD_IDLE, end ${FD_END:-?}"

summary
