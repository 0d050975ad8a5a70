#!/bin/bash
# A quick look for the demo (the full suite against all peers is
# bench/suite/run.sh):
# recursive fib(32) in kscript and in Debian's lua5.4, in the same run.
# Prints the median of 5 runs of each and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kscript=${KSCRIPT:-$root/build/kscript}
lua=${LUA:-lua5.4}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() {
  local start end
  start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
k=$(for i in 1 2 3 4 5; do time_ms "$kscript" run --budget 100000000000 "$root/bench/fib.k"; done | median)
l=$(for i in 1 2 3 4 5; do time_ms "$lua" "$root/bench/fib.lua"; done | median)
echo "fib(32): kscript ${k} ms, lua5.4 ${l} ms, kscript/lua = $(awk -v a="$k" -v b="$l" 'BEGIN {printf "%.2f", a / b}')"
