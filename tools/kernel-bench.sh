#!/bin/bash
# In-kernel benchmarks, one guest run per kernel (TCG: compare only ratios
# inside one run): read() on a script device against the same device in C,
# fib(27) in the kernel against the same engine in userspace, and SLUB's
# kmem_cache_alloc/free against the engine's slab allocator; the cost per
# hit of a kprobe that counts (C module, eBPF program, script) and per
# packet of a counting netfilter hook (C, script).
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
  med() { grep -o "BENCH $1 [0-9]*" "$log" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  spread() { grep -o "BENCH $1 [0-9]*" "$log" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {printf "%s-%s", a[1], a[NR]}'; }
  pn=$(med "probe none"); pc=$(med "probe C"); pb=$(med "probe bpf"); ps=$(med "probe script")
  echo "  getppid() with a counting kprobe, ns per call (medians; ranges): none $pn ($(spread "probe none")), C $pc ($(spread "probe C")), eBPF $pb ($(spread "probe bpf")), script $ps ($(spread "probe script"))"
  echo "  cost per hit: C $((pc - pn)) ns, eBPF $((pb - pn)) ns, script $((ps - pn)) ns; script/eBPF = $(awk -v a="$((ps - pn))" -v b="$((pb - pn))" 'BEGIN {printf "%.2f", a / b}')"
  un=$(med "udp none"); uc=$(med "udp C"); us=$(med "udp script")
  echo "  UDP over loopback with a counting LOCAL_IN hook, ns per datagram: none $un ($(spread "udp none")), C $uc ($(spread "udp C")), script $us ($(spread "udp script"))"
  echo "  cost per packet: C $((uc - un)) ns, script $((us - un)) ns; script/C = $(awk -v a="$((us - un))" -v b="$((uc - un))" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
  grep -o "BENCH counted.*" "$log" | head -3 | sed 's/^BENCH /  /'
done
