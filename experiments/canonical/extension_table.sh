#!/usr/bin/env bash
# The extension length-reduction table of docs/tokenizer.md (issue 20). Usage, from the repository root:
#   experiments/canonical/extension_table.sh build/lmc OUT_DIR
# Domain: this repository's C sources outside src/tokenizer and src/cli (training), src/tokenizer +
# src/cli (held out); general: WikiText-2 valid.
set -euo pipefail
LMC=$(realpath "$1") OUT=$2 V=../shared/vocab
mkdir -p "$OUT"
find src -name '*.c' -o -name '*.h' | grep -v 'src/tokenizer/\|src/cli/' | sort | xargs cat > "$OUT/dom_train.c.txt"
cat src/tokenizer/*.[ch] src/cli/*.c > "$OUT/dom_test.c.txt"
for b in gpt2 cl100k_base o200k_base; do
  "$LMC" -q tokenizer extend -t $V/$b.tiktoken --corpus "$OUT/dom_train.c.txt" --add 1000 --domain-vocab 16384 -o "$OUT/${b}_ext.json"
done
for f in "$OUT/dom_test.c.txt" ../shared/data/wikitext-2/valid.txt; do
  echo "== $f"
  "$LMC" tokenizer eval -t $V/gpt2.tiktoken -t "$OUT/gpt2_ext.json" -t $V/cl100k_base.tiktoken -t "$OUT/cl100k_base_ext.json" \
    -t $V/o200k_base.tiktoken -t "$OUT/o200k_base_ext.json" "$f"
done | tee "$OUT/table.txt"
