#!/bin/sh
# Benchmark: `lmc scaling fit` (4,500-start grid, liblbfgs, OpenMP) against the same fit in SciPy
# (bench/peers/scaling_fit_scipy.py, L-BFGS-B, one process). Alternates A B A B after a warm-up and
# prints medians and the ratio.  usage: bench/scaling_fit.sh [RUNS.csv] [REPEATS]   (from the repo root)
set -eu
LMC=${LMC:-build/lmc}
CSV=${1:-../shared/data/chinchilla/runs_240.csv}
REPS=${2:-3}
PY=${PYTHON:-/usr/bin/python3}
[ -f "$CSV" ] || { echo "no $CSV (set the first argument)"; exit 1; }
now() { date +%s.%N; }
lmc_t() { t0=$(now); "$LMC" scaling fit "$CSV" --json > /dev/null; t1=$(now); echo "$t1 - $t0" | bc; }
lmc1_t() { t0=$(now); "$LMC" scaling fit "$CSV" --json --threads 1 > /dev/null; t1=$(now); echo "$t1 - $t0" | bc; }
py_t() { t0=$(now); "$PY" bench/peers/scaling_fit_scipy.py "$CSV" > /dev/null; t1=$(now); echo "$t1 - $t0" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
"$LMC" scaling fit "$CSV" | sed -n '3,8p'
"$PY" bench/peers/scaling_fit_scipy.py "$CSV"
A=""; A1=""; B=""
i=0
while [ $i -lt "$REPS" ]; do
  A="$A $(lmc_t)"; A1="$A1 $(lmc1_t)"; B="$B $(py_t)"
  i=$((i + 1))
done
ma=$(echo $A | tr ' ' '\n' | median); ma1=$(echo $A1 | tr ' ' '\n' | median); mb=$(echo $B | tr ' ' '\n' | median)
printf '%-40s %10s %8s\n' "fit, 4500 starts ($(basename "$CSV"))" "median s" "vs SciPy"
printf '%-40s %10.2f %8.1fx\n' "lmc scaling fit (all cores)" "$ma" "$(echo "$mb / $ma" | bc -l)"
printf '%-40s %10.2f %8.1fx\n' "lmc scaling fit --threads 1" "$ma1" "$(echo "$mb / $ma1" | bc -l)"
printf '%-40s %10.2f %8.1fx\n' "SciPy L-BFGS-B (peer)" "$mb" 1
