#!/bin/bash
# Slab allocator benchmark: our allocator against glibc malloc, mimalloc,
# jemalloc and tcmalloc, in one run, on three patterns. Prints ns per
# alloc+free pair (median of KS_BENCH_RUNS runs, default 7) and peak
# anonymous resident memory (RssAnon) over peak payload.
# Needs: libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-bench-slab}
mkdir -p "$out"
CXX=${CXX:-g++}
opt=(-O2 -std=gnu++20 -DNDEBUG)
"$CXX" "${opt[@]}" -DUSE_SLAB -o "$out/bench_slab" "$root/bench/slab/alloc_bench.cpp" "$root/slab/Slab.cpp" \
  -x c "$root/platform/user/platform.c"
"$CXX" "${opt[@]}" -DUSE_GLIBC -o "$out/bench_glibc" "$root/bench/slab/alloc_bench.cpp"
"$CXX" "${opt[@]}" -DUSE_MIMALLOC -o "$out/bench_mimalloc" "$root/bench/slab/alloc_bench.cpp" -lmimalloc
"$CXX" "${opt[@]}" -DUSE_JEMALLOC -o "$out/bench_jemalloc" "$root/bench/slab/alloc_bench.cpp" -ljemalloc
"$CXX" "${opt[@]}" -DUSE_TCMALLOC -o "$out/bench_tcmalloc" "$root/bench/slab/alloc_bench.cpp" -ltcmalloc_minimal
# The VM's own allocation trace, from a tracing build of the engine.
core=("$root"/core/*/*.cpp "$root"/slab/*.cpp)
"$CXX" "${opt[@]}" -DKS_ALLOC_TRACE -DKS_DISPATCH_GOTO -ffreestanding -fno-exceptions -fno-rtti \
  -o "$out/trace" "$root/bench/slab/trace_main.cpp" "${core[@]}" -x c "$root/platform/user/platform.c" 2>&1 \
  | grep -v "valid for C++" || true
"$out/trace" "$root/bench/slab/workload.k" "$out/vm.trace"
# (ns are per alloc+free pair; memory is peak RssAnon over peak payload)
echo "trace: $(grep -c '^a' "$out/vm.trace") allocations, $(grep -c '^f' "$out/vm.trace") frees"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
allocators=(slab glibc mimalloc jemalloc tcmalloc)
runs=${KS_BENCH_RUNS:-7}
# Runs are interleaved across allocators so that machine noise hits all alike.
for i in $(seq "$runs"); do
  for a in "${allocators[@]}"; do
    b="$out/bench_$a"
    "$b" pairs time | awk '{print $NF}' >> "$out/$a.pairs.$$"
    "$b" bulk time | awk '{print $NF}' >> "$out/$a.bulk.$$"
    "$b" trace time "$out/vm.trace" | awk '{print $NF}' >> "$out/$a.trace.$$"
  done
done
printf "%-14s %12s %12s %12s %14s %14s\n" allocator "pairs ns" "bulk ns" "trace ns" "bulk mem over" "trace mem over"
for a in "${allocators[@]}"; do
  b="$out/bench_$a"
  p=$(median < "$out/$a.pairs.$$")
  k=$(median < "$out/$a.bulk.$$")
  t=$(median < "$out/$a.trace.$$")
  km=$("$b" bulk memory | awk '{print $NF}')
  tm=$("$b" trace memory "$out/vm.trace" | awk '{print $NF}')
  printf "%-14s %12s %12s %12s %14s %14s\n" "$a" "$p" "$k" "$t" "$km" "$tm"
  rm -f "$out/$a".*."$$"
done
