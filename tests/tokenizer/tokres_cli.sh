#!/usr/bin/env bash
# lmc tokenizer canonical / eval / extend / resize-model end to end (issue 20), on a tokenizer trained
# here: exit statuses (0 canonical, 3 non-canonical with the position, 1 errors), the eval table's
# columns, an extension that shortens its domain and never lengthens, a resized checkpoint that loads.
set -u
LMC="$1"
W=$(mktemp -d "${TMPDIR:-/tmp}/lmc-tokres-XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*"; exit 1; }
for i in $(seq 1 400); do echo "The quick brown fox $i jumps over the lazy dog; it's the cat's turn."; done > text.txt
for i in $(seq 1 200); do printf 'static int f%d(int x) {\n    return x * %d;\n}\n' $i $i; done > code.txt
"$LMC" -q tokenizer train -o tok.json --vocab-size 400 --special '<|endoftext|>' text.txt || fail train
"$LMC" -q tokenizer encode -t tok.json text.txt > ids.txt || fail encode
out=$("$LMC" -q tokenizer canonical -t tok.json --ids ids.txt); rc=$?
[ $rc -eq 0 ] && [ "$out" = canonical ] || fail "canonical: rc $rc, output '$out'"
"$LMC" -q tokenizer encode -t tok.json -o t.bin text.txt || fail "encode -o"
out=$("$LMC" -q tokenizer canonical -t tok.json --shard t.bin); rc=$?
[ $rc -eq 0 ] && [ "$out" = canonical ] || fail "canonical --shard: rc $rc, output '$out'"
# "The" spelled byte by byte: same text, not the tokenizer's encoding
T=$("$LMC" -q tokenizer encode -t tok.json <(printf T)); h=$("$LMC" -q tokenizer encode -t tok.json <(printf h))
e=$("$LMC" -q tokenizer encode -t tok.json <(printf e))
printf '%s\n%s %s %s\n' "$(head -c 200 ids.txt | sed 's/ [0-9]*$//')" "$T" "$h" "$e" > bad.txt
out=$("$LMC" -q tokenizer canonical -t tok.json --ids bad.txt); rc=$?
[ $rc -eq 3 ] || fail "non-canonical: rc $rc"
echo "$out" | grep -Eq "^non-canonical: sequence 2 \(line 2 of ids\), position 1: ids $h $e$" || fail "message '$out'"
out=$("$LMC" -q tokenizer canonical -t tok.json --ids bad.txt --oracle); [ $? -eq 3 ] || fail "--oracle rc"
out=$("$LMC" -q tokenizer canonical -t tok.json --ids bad.txt --count); [ $? -eq 3 ] || fail "--count rc"
echo "$out" | grep -q "^1 of 2 sequences non-canonical" || fail "--count output '$out'"
echo "1 2 400" > oov.txt
"$LMC" -q tokenizer canonical -t tok.json --ids oov.txt 2>/dev/null; [ $? -eq 1 ] || fail "out-of-range id must exit 1"
# eval: header and one row per tokenizer
out=$("$LMC" -q tokenizer eval -t tok.json -t tok.json text.txt) || fail eval
[ "$(echo "$out" | grep -c '^tok.json ')" -eq 2 ] || fail "eval rows: $out"
echo "$out" | head -1 | grep -q "bytes/tok.*tok/word.*util%.*Shannon.*Renyi" || fail "eval header: $out"
# extend on code: shorter on code, never longer on either text (whole files and every line)
"$LMC" -q tokenizer extend -t tok.json --corpus code.txt --add 20 --domain-vocab 800 -o ext.json || fail extend
for f in code.txt text.txt; do
  b=$("$LMC" -q tokenizer encode -t tok.json $f | wc -w); x=$("$LMC" -q tokenizer encode -t ext.json $f | wc -w)
  [ "$x" -le "$b" ] || fail "$f: extended $x > base $b"
  [ $f = code.txt ] && { [ "$x" -lt "$b" ] || fail "code not shorter ($x vs $b)"; }
done
"$LMC" -q tokenizer decode -t ext.json <("$LMC" -q tokenizer encode -t ext.json code.txt) | cmp - code.txt || fail "round trip"
# resize a checkpoint to the extension
cat > run.yaml <<EOR
run: {name: r, dir: runs, sample_tokens: 0, peak_tflops: 1}
data: {train: t.bin, val: t.bin, tokenizer: tok.json}
model: {n_layer: 1, n_head: 2, d_model: 32, seq_len: 16}
train: {steps: 2, batch_size: 2, micro_batch: 2, warmup_steps: 1, eval_every: 0, eval_batches: 1, checkpoint_every: 0}
EOR
"$LMC" -q train run.yaml >/dev/null || fail train-model
ck=$(ls -d runs/r/checkpoints/step_* | tail -1)
"$LMC" -q tokenizer resize-model -m "$ck" -t ext.json -o resized || fail resize
nv=$("$LMC" -q tokenizer info -t ext.json | awk '/^ids:/ {print $2}')
[ "$nv" -gt 400 ] || fail "extension added nothing ($nv ids)"
grep -q "\"vocab_size\": $nv," resized/config.json || fail "resized vocab: $(grep vocab_size resized/config.json)"
"$LMC" -q sample -m resized -n 5 --seed 1 --ids > /dev/null || fail "sample from the resized model"
# the same through lmc export: the HF folder holds the same weights and the extended tokenizer
"$LMC" -q export -m "$ck" --format hf --resize-vocab ext.json -o exported || fail "export --resize-vocab"
cmp resized/model.safetensors exported/model.safetensors || fail "export --resize-vocab weights differ from resize-model"
cmp ext.json exported/tokenizer.json || fail "export --resize-vocab did not write the extended tokenizer"
"$LMC" -q sample -m "$ck" -n 20 --seed 1 --canonical --ids > s.txt || fail "sample --canonical"
"$LMC" -q tokenizer canonical -t tok.json --ids s.txt --prefix > /dev/null || fail "--canonical sample is not canonical"
# held-out loss with the local canonicality mask: never worse, and the true token is never masked
out=$("$LMC" -q tokenizer canonical-eval -m "$ck" -n 40 text.txt) || fail canonical-eval
echo "$out" | grep -q '"true_token_masked": 0,' || fail "canonical-eval masked a true token: $out"
awk -v s="$out" 'BEGIN { match(s, /"loss": [0-9.]+/); l = substr(s, RSTART + 8, RLENGTH - 8);
  match(s, /"loss_canonical": [0-9.]+/); c = substr(s, RSTART + 18, RLENGTH - 18); exit !(c <= l) }' ||
  fail "loss_canonical > loss: $out"
echo "tokres_cli: ok"
