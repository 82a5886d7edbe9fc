#!/bin/sh
# `mpirun -np 2 lmc data dedup` must write the same bytes (output, rejected file, clusters) as one process.
# Usage: mpi_dedup_test.sh LMC MPIEXEC SHARED_DIR
set -eu
lmc=$1 mpiexec=$2 shared=$3
src="$shared/data/tinyshakespeare.txt"
[ -f "$src" ] || { echo "SKIP: $src not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# paragraphs of Tiny Shakespeare as documents (many exact and near duplicates), twice, the second time
# with a word changed in every 7th paragraph
"$lmc" --quiet data stats "$src" > /dev/null
awk 'BEGIN{RS=""; n=0} {gsub(/\\/,"\\\\"); gsub(/"/,"\\\""); gsub(/\n/,"\\n"); printf "{\"id\": %d, \"text\": \"%s\"}\n", n++, $0}' "$src" > "$tmp/a.jsonl"
awk 'NR % 7 == 0 {sub(/the/, "a")} {print}' "$tmp/a.jsonl" > "$tmp/b.jsonl"
"$lmc" --quiet data dedup "$tmp/a.jsonl" "$tmp/b.jsonl" -o "$tmp/one.jsonl" --rejected "$tmp/one.rej" --report "$tmp/one.json" 2>/dev/null
extra=""
[ "$(id -u)" = 0 ] && extra="--allow-run-as-root"
"$mpiexec" $extra --oversubscribe -np 2 "$lmc" --quiet data dedup "$tmp/a.jsonl" "$tmp/b.jsonl" \
    -o "$tmp/two.jsonl" --rejected "$tmp/two.rej" --report "$tmp/two.json" 2>/dev/null
cmp "$tmp/one.jsonl" "$tmp/two.jsonl"
cmp "$tmp/one.rej" "$tmp/two.rej"
grep -q '"mpi_ranks": 2' "$tmp/two.json" || { echo "the MPI run did not run on 2 ranks"; exit 1; }
# the cluster lists agree (the reports differ only in timing and rank fields)
if command -v python3 > /dev/null; then
python3 - "$tmp/one.json" "$tmp/two.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["dedup"] for p in sys.argv[1:])
assert a["clusters"] == b["clusters"], "clusters differ"
PY
fi
n1=$(wc -l < "$tmp/one.jsonl"); n0=$(cat "$tmp/a.jsonl" "$tmp/b.jsonl" | wc -l)
echo "mpi dedup: $n0 documents -> $n1 kept, identical for 1 and 2 processes"
[ "$n1" -lt "$n0" ]
