#!/bin/sh
# Benchmark: `lmc scaling fit` (4,500-start grid, liblbfgs, OpenMP) against the same fit in SciPy
# (bench/peers/scaling_fit_scipy.py, L-BFGS-B, one process). Alternates A B A B after a warm-up and
# prints medians of wall time and of CPU time (user + sys; steadier on a shared machine) and ratios.
# usage: bench/scaling_fit.sh [RUNS.csv] [REPEATS]   (from the repository root)
set -eu
LMC=${LMC:-build/lmc}
CSV=${1:-../shared/data/chinchilla/runs_240.csv}
REPS=${2:-3}
PY=${PYTHON:-/usr/bin/python3}
[ -f "$CSV" ] || { echo "no $CSV (set the first argument)"; exit 1; }
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
# prints "wall cpu"
timed() { /usr/bin/time -f "%e %U %S" -o "$TMP" "$@" > /dev/null; awk '{print $1, $2 + $3}' "$TMP"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
"$LMC" scaling fit "$CSV" | sed -n '3,8p'                      # warm-up, and the fit itself
"$PY" bench/peers/scaling_fit_scipy.py "$CSV"
: > "$TMP.a"; : > "$TMP.a1"; : > "$TMP.b"
i=0
while [ $i -lt "$REPS" ]; do
  timed "$LMC" scaling fit "$CSV" --json >> "$TMP.a"
  timed "$LMC" scaling fit "$CSV" --json --threads 1 >> "$TMP.a1"
  timed "$PY" bench/peers/scaling_fit_scipy.py "$CSV" >> "$TMP.b"
  i=$((i + 1))
done
med() { awk -v c="$2" '{print $c}' "$1" | median; }
bw=$(med "$TMP.b" 1); bc_=$(med "$TMP.b" 2)
printf '%-34s %9s %9s %9s %9s\n' "fit, 4500 starts, $(basename "$CSV")" "wall s" "cpu s" "wall x" "cpu x"
for f in a a1 b; do
  case $f in a) n="lmc scaling fit (all cores)";; a1) n="lmc scaling fit --threads 1";; b) n="SciPy L-BFGS-B (peer)";; esac
  w=$(med "$TMP.$f" 1); c=$(med "$TMP.$f" 2)
  printf '%-34s %9.2f %9.2f %8.1fx %8.1fx\n' "$n" "$w" "$c" "$(echo "$bw / $w" | bc -l)" "$(echo "$bc_ / $c" | bc -l)"
done
rm -f "$TMP.a" "$TMP.a1" "$TMP.b"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
