#!/usr/bin/env bash
# End-to-end checks of the lmc binary's command line (see tests/cli/CMakeLists.txt).
set -u
LMC="$1"
fail=0
check() { # check NAME WANT_STATUS GREP_PATTERN -- CMD...
  local name="$1" want="$2" pat="$3"; shift 4
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" -ne "$want" ]; then echo "FAIL $name: exit $status, want $want: $out"; fail=$((fail+1)); return; fi
  if [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then echo "FAIL $name: output lacks /$pat/: $out"; fail=$((fail+1)); return; fi
  echo "ok   $name"
}
check help 0 '^usage: lmc' -- "$LMC" --help
check version 0 '^lmc [0-9]+\.[0-9]+\.[0-9]+ \(commit ' -- "$LMC" --version
check version-blas 0 '^BLAS: ' -- "$LMC" --version
check no-args 2 'usage: lmc' -- "$LMC"
check unknown-command 2 "^lmc: unknown command 'frobnicate'" -- "$LMC" frobnicate
check unknown-global 2 "unknown option '--frob'" -- "$LMC" --frob
check help-unknown 2 "unknown command" -- "$LMC" help frobnicate
# every listed command: help works, an unknown option (or subcommand) is exit 2 with one line
for cmd in $("$LMC" --help | awk '/^commands:/{on=1;next} on && /^  [a-z]/{print $1}'); do
  [ "$cmd" = help ] && continue
  check "help-$cmd" 0 "usage: lmc $cmd" -- "$LMC" help "$cmd"
  check "dash-help-$cmd" 0 "usage: lmc $cmd" -- "$LMC" "$cmd" --help
  out=$("$LMC" "$cmd" --no-such-option-x 2>&1 >/dev/null); status=$?
  lines=$(printf '%s\n' "$out" | wc -l)
  if [ "$status" -ne 2 ] || [ "$lines" -ne 1 ]; then
    # commands with subcommands print their help for a bad first word: exit 2 is what counts
    if [ "$status" -ne 2 ]; then echo "FAIL bad-option-$cmd: exit $status: $out"; fail=$((fail+1)); continue; fi
  fi
  echo "ok   bad-option-$cmd"
  # subcommands: each one's help, and a bad option in each
  for sub in $("$LMC" "$cmd" --help | awk '/^subcommands:/{on=1;next} on && /^  [a-z]/{print $1} /^$/{if(on)exit}'); do
    check "help-$cmd-$sub" 0 "usage: lmc $cmd $sub" -- "$LMC" "$cmd" "$sub" --help
    check "bad-option-$cmd-$sub" 2 "^lmc $cmd $sub: unknown option '--no-such-option-x'" -- "$LMC" "$cmd" "$sub" --no-such-option-x
  done
done
echo "$fail failed"
[ "$fail" -eq 0 ]
