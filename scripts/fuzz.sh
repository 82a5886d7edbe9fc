#!/usr/bin/env bash
# Build the fuzz build (clang, libFuzzer, ASan + UBSan, the library instrumented) and fuzz every
# target in tests/fuzz/, starting from its committed corpus (tests/fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh MINUTES            a campaign: MINUTES split evenly over the targets, one at a time
#   scripts/fuzz.sh --ci SECONDS       CI smoke: each target replays its corpus, then fuzzes SECONDS
#
# Prints one line per target: coverage counters in the binary, edges covered (cov) and features (ft)
# at the end, executions, executions/s, corpus size, result. Inputs the fuzzer finds are kept under
# build-fuzz/work/<target>/corpus (so campaigns build on each other; they never touch the committed
# corpus) and crashes under build-fuzz/work/<target>/. Exit status 1 when any target found a crash
# that is not a known, already-filed defect (KNOWN below).
#
# Environment: FUZZ_TARGETS="jsonl shard" (a subset), FUZZ_JOBS=N targets at once (default 1 for a
# campaign, nproc for --ci), FUZZ_NO_BUILD=1 (use build-fuzz as it is).
set -euo pipefail
cd "$(dirname "$0")/.."

# Crashes of defects filed and being fixed elsewhere: "target:function-in-the-ASan-summary:defect".
# A crash matching one is reported, not failed. Delete a line when its fix has landed.
KNOWN=(
  "jsonl:data_simplify:D2 (heap overflow in data_simplify, issue 11; fixed in branch rel)"
)

ci=0
if [ "${1:-}" = "--ci" ]; then
  ci=1
  secs="${2:?usage: $0 --ci SECONDS}"
else
  minutes="${1:?usage: $0 MINUTES | $0 --ci SECONDS}"
fi

[ -n "${FUZZ_NO_BUILD:-}" ] || scripts/build.sh fuzz
targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
  for t in $FUZZ_TARGETS; do targets+=("$t"); done
else
  for f in tests/fuzz/fuzz_*.c; do t="${f##*/fuzz_}"; targets+=("${t%.c}"); done
fi
if [ $ci -eq 0 ]; then
  secs=$(( minutes * 60 / ${#targets[@]} ))
  [ "$secs" -ge 10 ] || secs=10
fi
jobs="${FUZZ_JOBS:-$([ $ci -eq 1 ] && nproc || echo 1)}"
work="build-fuzz/work"
mkdir -p "$work"

# Fuzz one target; writes its result line to $work/<target>/result.
run_one() {
  local t="$1" bin="build-fuzz/fuzz_$1" w="$work/$1"
  mkdir -p "$w/corpus"
  rm -f "$w"/crash-* "$w"/leak-* "$w"/timeout-* "$w"/oom-* "$w/result"
  local args=(-max_total_time="$secs" -timeout=30 -rss_limit_mb=2560 -print_final_stats=1
              -artifact_prefix="$w/" "$w/corpus" "tests/fuzz/corpus/$t")
  # In a campaign, a target with a known crash runs in fork mode (a child process per job, ~5x fewer
  # executions/s) so that crash does not end its run; the others run in-process.
  local k
  for k in "${KNOWN[@]}"; do
    if [ $ci -eq 0 ] && [ "${k%%:*}" = "$t" ]; then
      args=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 "${args[@]}")
      break
    fi
  done
  local rc=0
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
    "$bin" "${args[@]}" > "$w/log" 2>&1 || rc=$?
  local counters cov ft execs rate corp result known=""
  counters=$(sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' "$w/log" | head -1)
  local last
  last=$(grep -E '^#[0-9]+' "$w/log" | tail -1 || true)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$w/log" | grep -o '[0-9]*$' || true)
  [ -n "$execs" ] || execs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#' || echo 0)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  corp=$(find "$w/corpus" "tests/fuzz/corpus/$t" -type f | wc -l)
  rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
  # Classify every crash: the ASan/UBSan/libFuzzer summary line of its reproducer.
  local bad=0 n=0
  for a in "$w"/crash-* "$w"/leak-* "$w"/timeout-* "$w"/oom-*; do
    [ -e "$a" ] || continue
    n=$((n + 1))
    local summary k hit=""
    summary=$(ASAN_OPTIONS=detect_leaks=1 "$bin" -timeout=30 "$a" 2>&1 | grep -m1 '^SUMMARY' || true)
    [ -n "$summary" ] || summary="$(basename "$a")"
    for k in "${KNOWN[@]}"; do
      IFS=: read -r kt kf kd <<< "$k"
      if [ "$kt" = "$t" ] && [[ "$summary" == *" in $kf"* ]]; then hit="$kd"; fi
    done
    if [ -n "$hit" ]; then known="known: $hit"; else bad=1; echo "  $t: NEW: $summary ($a)" >> "$w/new"; fi
  done
  if [ $bad -eq 1 ]; then result="CRASH (see $w/)"
  elif [ $n -gt 0 ]; then result="$known"
  elif [ $rc -ne 0 ]; then result="exit $rc (see $w/log)"; bad=1
  else result="ok"; fi
  printf '%-22s %8s %6s %7s %11s %7s %7s  %s\n' "$t" "$counters" "$cov" "$ft" "$execs" "$rate" "$corp" "$result" > "$w/result"
  # every run is logged, so executions can be added up over sessions
  printf '%s %s %s\n' "$(date -u +%FT%TZ)" "$([ $ci -eq 1 ] && echo ci || echo campaign)" "$(cat "$w/result")" >> "$work/history"
  return $bad
}
export -f run_one
export ci secs work

echo "fuzzing ${#targets[@]} targets, ${secs}s each, $jobs at a time ($(date -u +%FT%TZ))"
rm -f "$work"/*/new
fail=0
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c "$(declare -p KNOWN); run_one {}" || fail=1
printf '%-22s %8s %6s %7s %11s %7s %7s  %s\n' target counters cov ft execs exec/s corpus result
for t in "${targets[@]}"; do cat "$work/$t/result" 2>/dev/null || echo "$t: no result"; done
cat "$work"/*/new 2>/dev/null || true
echo "executions over all runs logged in $work/history:"
awk '{ n[$3] += $7; runs[$3]++ } END { for (t in n) printf "  %-22s %12d in %d runs\n", t, n[t], runs[t] }' "$work/history" | sort
exit $fail
