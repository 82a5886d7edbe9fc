#!/usr/bin/env bash
# lmc tokenizer train on tinyshakespeare at vocab 2000, 2 threads (issue 11, D1). Under ASan a
# use-after-free made it fail; here it must exit 0 and write a 2000-id tokenizer.
set -u
LMC="$1" SHARED="$2"
in="$SHARED/data/tinyshakespeare.txt"
if [ ! -f "$in" ]; then echo "SKIP: $in is absent"; exit 77; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if ! "$LMC" -q tokenizer train -o "$dir/tok.json" --vocab-size 2000 --special '<|endoftext|>' --threads 2 "$in"; then
  echo "FAIL: lmc tokenizer train exited $?"; exit 1
fi

n=$("$LMC" tokenizer info -t "$dir/tok.json" | awk '/^ids:/{print $2}')
if [ "$n" != 2000 ]; then echo "FAIL: expected 2000 ids, info says '$n'"; exit 1; fi
echo "ok: $n ids"
