#!/bin/bash
# In-kernel benchmarks, one guest run per kernel (TCG: compare only ratios
# inside one run): read() on a script device against the same device in C,
# fib(27) in the kernel against the same engine in userspace, and SLUB's
# kmem_cache_alloc/free against the engine's slab allocator.
# Usage: tools/kernel-bench.sh [KVER...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${KS_KERNEL_OUT:-$root/build-kernel-bench/guests}
mkdir -p "$out"
KS_BENCH=1 KS_GUEST_ENTRY=bench.sh KS_KERNEL_OUT="$out" "$root/tools/kernel-test.sh" "$@" > "$out/../run.log" 2>&1
for log in "$out"/*/console.log; do
  kver=$(basename "$(dirname "$log")")
  echo "== $kver"
  grep -o "BENCH slab.*" "$log" | awk '!seen[$0]++' | sed 's/^BENCH /  /'
  c=$(grep -o "BENCH read C [0-9]*" "$log" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  k=$(grep -o "BENCH read script [0-9]*" "$log" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "  read() open+read+close: C device ${c} ns, script device ${k} ns, script/C = $(awk -v a="$k" -v b="$c" 'BEGIN {printf "%.2f", a / b}')"
  kf=$(grep -o "kernel: BENCH fib27 [0-9]*" "$log" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  uf=$(grep -o "user: BENCH fib27 [0-9]*" "$log" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "  fib(27): kernel ${kf} ns, userspace ${uf} ns, kernel/user = $(awk -v a="$kf" -v b="$uf" 'BEGIN {printf "%.2f", a / b}')"
done
