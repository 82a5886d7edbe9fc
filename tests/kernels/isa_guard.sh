#!/usr/bin/env bash
# The guard of a -march=native build on a lesser CPU, end to end: isa_guard_probe claims every
# extension, so on this CPU (which lacks at least one) it must exit 1 before main, with a message that
# names what the build assumed, what this CPU lacks, and how to rebuild. Usage: isa_guard.sh PROBE
set -u
out=$("$1" 2>&1); status=$?
[ "$status" -eq 77 ] && { echo "$out"; exit 77; }
fail=0
check() { if ! grep -qE -- "$1" <<<"$out"; then echo "FAIL: output lacks /$1/"; fail=1; fi; }
[ "$status" -eq 1 ] || { echo "FAIL: exit $status, want 1"; fail=1; }
check '^lmc: this binary was compiled for a CPU with avx avx2 fma .*avx512f'
check '^this CPU lacks [a-z0-9_. ]+, so it would stop on an illegal instruction'
check 'LMC_PORTABLE=ON'
if grep -q 'main ran' <<<"$out"; then echo "FAIL: main ran"; fail=1; fi
echo "$out" | sed 's/^/  | /'
[ "$fail" -eq 0 ] && echo "isa_guard: ok (exit 1 before main)"
exit "$fail"
