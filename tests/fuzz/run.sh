#!/usr/bin/env bash
# Run the fuzz targets: run.sh BUILD_DIR SECONDS TARGET...
# For each target: replay every seed (tests/fuzz/corpus/T) and every regression input
# (tests/fuzz/regressions/T) once, then fuzz for SECONDS on a scratch copy of the seeds,
# so that the committed corpus never grows. Any crash, leak, sanitizer report, timeout or
# broken invariant fails the run; its input is kept under BUILD_DIR/artifacts/T/.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=$1 seconds=$2
shift 2
fuzz_dir=tests/fuzz
failed=()

for t in "$@"; do
        bin=$build/fuzz_$t
        artifacts=$build/artifacts/$t
        mkdir -p "$artifacts"

        mapfile -t inputs < <(find "$fuzz_dir/corpus/$t" "$fuzz_dir/regressions/$t" -type f 2>/dev/null | sort)
        echo "== fuzz_$t: replaying ${#inputs[@]} inputs"
        # Files rather than directories: each runs once, nothing is written back.
        if [ "${#inputs[@]}" -gt 0 ] &&
                ! "$bin" -artifact_prefix="$artifacts/" "${inputs[@]}" >"$artifacts/replay.log" 2>&1; then
                tail -n 40 "$artifacts/replay.log" >&2
                echo "== fuzz_$t: an input of the corpus or the regressions fails (see $artifacts/replay.log)" >&2
                failed+=("$t")
                continue
        fi

        [ "$seconds" -gt 0 ] || continue
        work=$(mktemp -d "${TMPDIR:-/tmp}/eg-corpus-$t.XXXXXX")
        cp "$fuzz_dir/corpus/$t"/* "$work"/
        dict=()
        [ -f "$fuzz_dir/$t.dict" ] && dict=(-dict="$fuzz_dir/$t.dict")
        echo "== fuzz_$t: fuzzing for $seconds s"
        # -timeout: a lookup that blocks is a finding too. -jobs stays 1: the machine is shared.
        if "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
                -artifact_prefix="$artifacts/" "${dict[@]}" "$work" >"$artifacts/fuzz.log" 2>&1; then
                grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+.*DONE' \
                        "$artifacts/fuzz.log" | sed "s/^/   /"
        else
                tail -n 60 "$artifacts/fuzz.log" >&2
                echo "== fuzz_$t: FAILED; the input is in $artifacts/ (log: $artifacts/fuzz.log)" >&2
                failed+=("$t")
        fi
        rm -rf "$work"
done

if [ "${#failed[@]}" -gt 0 ]; then
        echo "fuzz: failed: ${failed[*]}" >&2
        exit 1
fi
