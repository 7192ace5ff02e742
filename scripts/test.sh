#!/usr/bin/env bash
# Every test: the unit, cross-check and example suites in a normal build and
# in an ASan+UBSan build, then each libFuzzer target for a short run.
#   FUZZ_SECONDS=20 (per target) can be changed; 0 skips fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
passed=0
failed=0

# meson test, then add its counts to the totals.
run_suite() {
  local dir=$1 log
  log=$(mktemp)
  if meson test -C "$dir" --print-errorlogs --num-processes 2 >"$log" 2>&1; then :; fi
  grep -E "^ *[0-9]+/[0-9]+ " "$log" || true
  grep -A40 "Summary of Failures" "$log" || true
  local ok fail
  ok=$(awk '/^Ok:/ {print $2}' "$log"); fail=$(awk '/^Fail:/ {print $2}' "$log")
  local timeout; timeout=$(awk '/^Timeout:/ {print $2}' "$log")
  if [ -z "$ok" ]; then cat "$log"; ok=0; fail=1; fi
  passed=$((passed + ok)); failed=$((failed + fail + ${timeout:-0}))
  rm -f "$log"
}

echo "== build (gcc, -Werror)"
scripts/build.sh build
run_suite build

echo "== build with ASan+UBSan"
scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
run_suite build-asan

# One libFuzzer target's short run from its corpus; its verdict (and the
# log's tail when it failed) go to the file $2.
fuzz_one() {
  local fuzzer=$1 out=$2 name corpus
  name=$(basename "$fuzzer"); name=${name#fuzz_}
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  if "$fuzzer" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "$corpus" >"$corpus.log" 2>&1; then
    echo "fuzz $name: OK ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$corpus.log" | awk '{print $2}') runs)" >"$out"
  else
    { echo "fuzz $name: FAILED"; tail -40 "$corpus.log"; } >"$out"
  fi
  rm -rf "$corpus" "$corpus.log"
}

if [ "$FUZZ_SECONDS" -gt 0 ]; then
  echo "== libFuzzer targets, ${FUZZ_SECONDS} s each"
  CC=clang scripts/build.sh build-fuzz -Dfuzz=true -Dbench=false \
    -Db_sanitize=address,undefined -Db_lundef=false
  # A target uses one CPU: as many run at once as there are CPUs, each for
  # its full time (the suite's wall clock counts against CI's budget).
  at_once=$(nproc)
  results=$(mktemp -d)
  n=0
  for fuzzer in build-fuzz/tests/fuzz/fuzz_*; do
    [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
    fuzz_one "$fuzzer" "$results/$(printf '%03d' "$n")" &
    n=$((n + 1))
    if [ $((n % at_once)) -eq 0 ]; then wait; fi
  done
  wait
  for r in "$results"/*; do
    [ -f "$r" ] || continue
    cat "$r"
    if head -1 "$r" | grep -q ': OK '; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  rm -rf "$results"
fi

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
