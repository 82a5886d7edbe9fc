#!/usr/bin/env bash
# Thread scaling of shard encoding (`lmc tokenizer encode -o`): 1, 2 and 4 threads on ~50 MB of text
# (this repository's sources and docs, repeated), medians of 3 runs, and a check that the shards are
# byte-identical. Needs no shared data: the tokenizer is the committed tests/tokenizer/fixtures/hf_small.json
# unless TOK is set.   LMC=build/lmc TOK=../shared/vocab/cl100k_base.tiktoken bench/tokenizer_scaling.sh
set -euo pipefail
LMC=${LMC:-build/lmc}
TOK=${TOK:-tests/tokenizer/fixtures/hf_small.json}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
find src docs tests -type f \( -name '*.c' -o -name '*.h' -o -name '*.md' -o -name '*.py' \) | sort | xargs cat > "$dir/unit.txt"
size=$(stat -c %s "$dir/unit.txt")
for _ in $(seq $((50000000 / size + 1))); do cat "$dir/unit.txt"; done > "$dir/corpus.txt"
mb=$(awk -v s="$(stat -c %s "$dir/corpus.txt")" 'BEGIN { printf "%.1f", s / 1e6 }')
echo "corpus: $mb MB, tokenizer: $TOK, cores: $(nproc)"
"$LMC" --quiet tokenizer encode -t "$TOK" -o "$dir/warm.bin" --threads 1 "$dir/corpus.txt"
declare -A med
for t in 1 2 4; do
  times=()
  for _ in 1 2 3; do
    s=$(date +%s.%N)
    "$LMC" --quiet tokenizer encode -t "$TOK" -o "$dir/out$t.bin" --threads "$t" "$dir/corpus.txt"
    e=$(date +%s.%N)
    times+=("$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }')")
  done
  med[$t]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  echo "threads=$t  runs ${times[*]} s  median ${med[$t]} s  $(awk -v m="$mb" -v t="${med[$t]}" 'BEGIN { printf "%.1f", m / t }') MB/s"
done
for t in 2 4; do
  cmp "$dir/out1.bin" "$dir/out$t.bin" && echo "threads=$t: shard byte-identical to threads=1"
  echo "speedup 1 -> $t threads: $(awk -v a="${med[1]}" -v b="${med[$t]}" 'BEGIN { printf "%.2f", a / b }')x"
done
