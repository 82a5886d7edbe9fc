#!/usr/bin/env bash
# lmc's OpenMP wait policy end to end (src/kernels/cpu/threads.c): with neither OMP_WAIT_POLICY nor
# GOMP_SPINCOUNT in the environment, an lmc executable re-executes itself once with GOMP_SPINCOUNT=1000,
# and libgomp itself (OMP_DISPLAY_ENV) must report that value; a user's setting is left alone.
# Usage: omp_wait.sh LMC
set -u
lmc=$1
fail=0
expect() {   # expect WHAT PATTERN OUTPUT
  if ! grep -qE -- "$2" <<<"$3"; then echo "FAIL: $1: output lacks /$2/"; echo "$3" | sed 's/^/  | /'; fail=1; fi
}
out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose "$lmc" --version 2>&1)
expect "default" "GOMP_SPINCOUNT = '1000'" "$out"
expect "default" "^OpenMP wait: idle threads spin 1000 times" "$out"
out=$(env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active OMP_DISPLAY_ENV=verbose "$lmc" --version 2>&1)
expect "user's OMP_WAIT_POLICY" "OMP_WAIT_POLICY = 'ACTIVE'" "$out"
expect "user's OMP_WAIT_POLICY" "^OpenMP wait: OMP_WAIT_POLICY=active \(from the environment\)" "$out"
out=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=12345 OMP_DISPLAY_ENV=verbose "$lmc" --version 2>&1)
expect "user's GOMP_SPINCOUNT" "GOMP_SPINCOUNT = '12345'" "$out"
# same arguments after the re-exec: a command that echoes them still works
out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$lmc" help train 2>&1)
expect "arguments kept" "lmc train" "$out"
# started through the dynamic loader by name, /proc/self/exe is the loader: no re-exec, libgomp's default
ldso=/lib64/ld-linux-x86-64.so.2
if [ -x "$ldso" ]; then
  out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$ldso" "$lmc" --version 2>&1)
  expect "through the loader" "^OpenMP wait: libgomp's default" "$out"
fi
[ "$fail" -eq 0 ] && echo "omp_wait: ok (libgomp runs with GOMP_SPINCOUNT=1000 unless the user set one)"
exit "$fail"
