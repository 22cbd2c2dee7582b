#!/usr/bin/env bash
# The daemon's threads under ThreadSanitizer (make check-tsan):
#   tests/tsan.sh BUILD-TSAN-DIR HELPERS-DIR BENCH-DRIVERS-DIR
# execguard built with -fsanitize=thread runs the daemon's end-to-end cases (daemon.sh;
# stall.sh: workers stuck and replaced; workers.sh: racers against workers that are the
# ptrace check's tracers, two sessions at once), a short soak (sessions at once, every decision
# counted once, workers = 2) and W5 of the benchmark (200 sessions at once, one round, the
# daemon only); then fails if ThreadSanitizer wrote a report. As for check-asan, every
# report goes to a file of a directory made fresh for this run, and "zero reports" means
# that directory is empty: the daemon's stderr is the cases' to read.
set -u

B=${1:?usage: tsan.sh BUILD-TSAN-DIR HELPERS-DIR BENCH-DRIVERS-DIR}
H=${2:?usage: tsan.sh BUILD-TSAN-DIR HELPERS-DIR BENCH-DRIVERS-DIR}
BENCH=${3:?usage: tsan.sh BUILD-TSAN-DIR HELPERS-DIR BENCH-DRIVERS-DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
EG=$(cd "$B" && pwd)/execguard
H=$(cd "$H" && pwd)
start=$(date +%s)

if [ "$(id -u)" != 0 ]; then
        echo "check-tsan: needs root (the daemon)"
        exit 1
fi

REPORTS=$(mktemp -d /tmp/execguard-tsan.XXXXXX)
chmod 1777 "$REPORTS"
# halt_on_error=0: a race is reported and the run goes on, so that one run finds them all.
export TSAN_OPTIONS="log_path=$REPORTS/tsan:log_exe_name=1:halt_on_error=0:second_deadlock_stack=1"

status=0
for part in daemon stall workers; do
        echo "== e2e: $part.sh under TSan"
        EXECGUARD_E2E_ONLY=$part "$HERE/e2e/run.sh" "$EG" "$H" || status=1
done

echo "== soak under TSan (8 sessions x 200 execs, workers = 2)"
# The soak's bound on RSS growth is the normal build's: TSan's shadow memory and its
# threads' histories grow with what they watch. Counting every decision once is the point.
SOAK_SESSIONS=8 SOAK_EXECS=200 SOAK_WORKERS=2 SOAK_RSS_SLACK_KB=32768 "$HERE/soak/soak.sh" "$EG" "$H" "$(dirname "$H")/soak/soak-exec" ||
        status=1

echo "== W5 under TSan (one round, the daemon)"
OUT=$(mktemp -d /tmp/execguard-tsan-bench.XXXXXX)
if BENCH_ROUNDS=1 BENCH_SCALE=${TSAN_BENCH_SCALE:-0.25} BENCH_WORKLOADS=W5 BENCH_CONFIGS=daemon \
        python3 "$HERE/../bench/bench.py" "$EG" "$BENCH" "$OUT/bench.json" >"$OUT/bench.log" 2>&1 &&
        python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1])) if x["workload"]=="W5"]; sys.exit(0 if r and all(not x.get("failed") and not x.get("errors") for x in r) else 1)' "$OUT/bench.json"; then
        grep -A3 "^W5 sessions" "$OUT/bench.log"
        echo "ok   W5 ran under TSan"
else
        tail -n 20 "$OUT/bench.log"
        echo "FAIL W5 under TSan"
        status=1
fi
rm -rf "$OUT"

n=$(find "$REPORTS" -type f | wc -l)
if [ "$n" != 0 ]; then
        echo "ThreadSanitizer reports: $n"
        for f in "$REPORTS"/*; do
                echo "---- $f"
                head -n 60 "$f"
        done
        status=1
else
        echo "ThreadSanitizer reports: 0"
fi
rm -rf "$REPORTS"
echo "check-tsan: $(($(date +%s) - start)) s"
exit $status
