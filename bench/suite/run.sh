#!/bin/bash
# The benchmark suite: each program in kscript and in the peers available
# (lua5.4 always; luajit and luajit -joff when installed; C -O2 where a C
# version exists), run in one session. Checks every checksum against
# kscript's, prints median times (ms, of KS_BENCH_RUNS runs) and the ratio
# to Lua 5.4, and the geometric mean of those ratios.
# Still to come (issue 5): mruby, Python 3, Ruby and Perl versions, startup
# time and the compile time of a 10,000-line script.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/bench/suite"
out=${1:-$root/build-bench-suite}
runs=${KS_BENCH_RUNS:-3}
kscript=${KSCRIPT:-$root/build/kscript}
mkdir -p "$out"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local s e; s=$(date +%s%N); "$@" > "$out/last.out" 2>&1 || return 1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
peers=("kscript:$kscript run --budget 1000000000000" "lua5.4:lua5.4")
command -v luajit >/dev/null && peers+=("luajit:luajit" "luajit-joff:luajit -joff")
peers+=("C -O2:c")
printf "%-9s" benchmark; for p in "${peers[@]}"; do printf " %12s" "${p%%:*}"; done; printf "  %s\n" "kscript/lua"
declare -A logsum
status=0
for b in fib loop sieve strings map trees methods; do
  expect=$($kscript run --budget 1000000000000 "$dir/$b.k")
  printf "%-9s" "$b"
  declare -A t=()
  for p in "${peers[@]}"; do
    name=${p%%:*}; cmd=${p#*:}
    if [ "$cmd" = c ]; then
      [ -f "$dir/$b.c" ] || { printf " %12s" "-"; continue; }
      gcc -O2 -o "$out/$b.c.bin" "$dir/$b.c" || { printf " %12s" "build?"; continue; }
      run=("$out/$b.c.bin")
    elif [ "$name" = kscript ]; then
      run=($cmd "$dir/$b.k")
    else
      run=($cmd "$dir/$b.lua")
    fi
    times=()
    for i in $(seq "$runs"); do times+=("$(ms "${run[@]}")"); done
    got=$(cat "$out/last.out")
    if [ "$got" != "$expect" ]; then printf " %12s" "WRONG"; status=1; continue; fi
    t[$name]=$(printf "%s\n" "${times[@]}" | median)
    printf " %12s" "${t[$name]}"
  done
  ratio=$(awk -v a="${t[kscript]}" -v b="${t[lua5.4]}" 'BEGIN {printf "%.2f", a / b}')
  logsum[$b]=$ratio
  printf "  %s\n" "$ratio"
done
printf "%s\n" "${logsum[@]}" | awk '{s += log($1); n++} END {printf "geometric mean kscript/lua5.4: %.2f\n", exp(s / n)}'
exit $status
