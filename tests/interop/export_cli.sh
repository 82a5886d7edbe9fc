#!/bin/bash
# lmc export (gguf, hf) and lmc merge through the binary on the lmc-trained tiny checkpoints:
# the GGUF file evaluates to the checkpoint's loss (f32 exactly), the HF folder reloads to the same
# loss and carries a model card, merge with one model at scale 1 reloads, bad command lines exit 2.
set -u
LMC=$1
FIX=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
for a in gpt2 llama; do
  printf 'KATHARINA:\nI will see thee hanged on Sunday first.\n\nGREMIO:\nHark, Petruchio; she says she will see thee\n' > "$T/text.txt"
  "$LMC" tokenizer encode -q -t "$FIX/tiny_$a/tokenizer.json" -o "$T/$a.bin" "$T/text.txt" || fail=1
  ref=$("$LMC" eval -q --model "$FIX/tiny_$a" --data "$T/$a.bin" --seq-len 16 | sed 's/.*"loss": \([^,]*\),.*/\1/')
  "$LMC" export -q --model "$FIX/tiny_$a" -o "$T/$a.gguf" || fail=1
  got=$("$LMC" eval -q --model "$T/$a.gguf" --data "$T/$a.bin" --seq-len 16 | sed 's/.*"loss": \([^,]*\),.*/\1/')
  check "$a gguf f32 loss $got == checkpoint $ref" '[ "$got" = "$ref" ]'
  "$LMC" export -q --model "$FIX/tiny_$a" -o "$T/$a-q8.gguf" --dtype q8_0 || fail=1
  q8=$("$LMC" eval -q --model "$T/$a-q8.gguf" --data "$T/$a.bin" --seq-len 16 | sed 's/.*"loss": \([^,]*\),.*/\1/')
  check "$a gguf q8_0 loss $q8 ~ $ref" "awk -v a=$q8 -v b=$ref 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d < 0.01*b)}'"
  s1=$("$LMC" sample -q --model "$FIX/tiny_$a" --prompt "GREMIO:" --temperature 0 --max-tokens 12 --no-stop --ids)
  s2=$("$LMC" sample -q --model "$T/$a.gguf" --tokenizer "$FIX/tiny_$a/tokenizer.json" --prompt "GREMIO:" --temperature 0 --max-tokens 12 --no-stop --ids)
  check "$a greedy from gguf ($s2) == from checkpoint ($s1)" '[ "$s1" = "$s2" ]'
  "$LMC" export -q --model "$FIX/tiny_$a" --format hf -o "$T/hf_$a" || fail=1
  hf=$("$LMC" eval -q --model "$T/hf_$a" --data "$T/$a.bin" --seq-len 16 | sed 's/.*"loss": \([^,]*\),.*/\1/')
  check "$a hf export loss $hf == $ref" '[ "$hf" = "$ref" ]'
  check "$a model card" 'grep -q "optimizer steps: 300" "$T/hf_$a/README.md" && grep -q "^license: unknown" "$T/hf_$a/README.md" && [ -f "$T/hf_$a/tokenizer.json" ]'
  "$LMC" merge -q -o "$T/m_$a" --base "$FIX/tiny_$a" "$FIX/tiny_$a" --method ties --density 0.5 || fail=1
  mg=$("$LMC" eval -q --model "$T/m_$a" --data "$T/$a.bin" --seq-len 16 | sed 's/.*"loss": \([^,]*\),.*/\1/')
  check "$a merge of the base with itself == base ($mg vs $ref)" '[ "$mg" = "$ref" ]'
done
# lmc tokenizer count: every token counted once, most frequent first, ties by id
"$LMC" tokenizer count -q "$T/gpt2.bin" -o "$T/counts.txt" 2>/dev/null || fail=1
ntok=$("$LMC" tokenizer encode -q -t "$FIX/tiny_gpt2/tokenizer.json" --ids "$T/text.txt" | wc -w)
check "counts sum to the shard's tokens" '[ "$(awk "{s+=\$2} END {print s}" "$T/counts.txt")" = "$((ntok + 1))" ]'
check "counts sorted" 'sort -k2,2nr -k1,1n -s "$T/counts.txt" | cmp -s - "$T/counts.txt"'
# speculative sampling through the binary: greedy equals plain, the summary line is printed
s1=$("$LMC" sample -q --model "$FIX/tiny_llama" --prompt "GREMIO:" --temperature 0 --max-tokens 20 --no-stop --ids)
s2=$("$LMC" sample -q --model "$FIX/tiny_llama" --prompt "GREMIO:" --temperature 0 --max-tokens 20 --no-stop --ids --speculative --draft "$T/llama.gguf" --gamma 3)
check "speculative greedy ($s2) == plain ($s1)" '[ "$s1" = "$s2" ]'
"$LMC" sample --model "$FIX/tiny_llama" --speculative 2>/dev/null; check "--speculative without --draft exits 2" '[ $? -eq 2 ]'
"$LMC" export --model "$FIX/tiny_gpt2" -o "$T/x.gguf" --dtype q4 2>/dev/null; check "bad --dtype exits 2" '[ $? -eq 2 ]'
"$LMC" export --model "$FIX/tiny_gpt2" -o "$T/x" --format onnx 2>/dev/null; check "bad --format exits 2" '[ $? -eq 2 ]'
"$LMC" merge -o "$T/x" --base "$FIX/tiny_gpt2" "$FIX/tiny_gpt2" --method steer 2>/dev/null; check "steer with one model exits 2" '[ $? -eq 2 ]'
"$LMC" merge -o "$T/x" --base "$FIX/tiny_gpt2" "$FIX/tiny_llama" 2>/dev/null; check "merge of different models exits 1" '[ $? -eq 1 ]'
"$LMC" eval --model "$FIX/../../../fuzz/corpus/gguf/bad_magic.gguf" --data "$T/gpt2.bin" --seq-len 8 2>/dev/null; check "eval of a bad file exits 1" '[ $? -eq 1 ]'
ls "$T" | grep -q tmp && { echo "FAIL: temporary left"; fail=1; }
[ $fail = 0 ] && echo "export_cli: all checks passed"
exit $fail
