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
  # Hooks: each round measures every configuration back to back; a hook's
  # cost is its round's time minus that round's time without hooks (paired,
  # so that the guest's drift between rounds cancels), median over rounds.
  vals() { grep -o "BENCH $1 [0-9]*" "$log" | awk '{print $NF}'; }
  paired() { paste <(vals "$1") <(vals "$2") | awk '{print $1 - $2}' | sort -n | awk '{a[NR]=$1} END {printf "%d (%d..%d)", a[int((NR+1)/2)], a[1], a[NR]}'; }
  med1() { vals "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  pc=$(paired "probe C" "probe none"); pb=$(paired "probe bpf" "probe none"); ps=$(paired "probe script" "probe none")
  echo "  getppid() with a counting kprobe: none $(med1 "probe none") ns per call; cost per hit (paired medians, ranges): C $pc, eBPF $pb, script $ps; script/eBPF = $(awk -v a="${ps%% *}" -v b="${pb%% *}" 'BEGIN {printf "%.2f", a / b}')"
  # The same from each configuration's fastest round (a shared machine's
  # load only ever adds time): a second estimate, not paired.
  low() { vals "$1" | sort -n | head -1; }
  n=$(low "probe none")
  echo "  cost per hit from the fastest rounds: C $(($(low "probe C") - n)), eBPF $(($(low "probe bpf") - n)), script $(($(low "probe script") - n)); script/eBPF = $(awk -v a="$(($(low "probe script") - n))" -v b="$(($(low "probe bpf") - n))" 'BEGIN {printf "%.2f", a / b}')"
  uc=$(paired "udp C" "udp none"); us=$(paired "udp script" "udp none")
  echo "  UDP over loopback with a counting LOCAL_IN hook: none $(med1 "udp none") ns per datagram, C $(med1 "udp C"), script $(med1 "udp script"); cost per packet (paired medians, ranges): C $uc, script $us; script/C per datagram = $(awk -v a="$(med1 "udp script")" -v b="$(med1 "udp C")" 'BEGIN {printf "%.2f", a / b}')"
  # What each configuration counted, and in how many rounds.
  grep -o "BENCH counted.*" "$log" | sort | uniq -c | sed 's/BENCH counted /rounds counted /'
  # The hooks file's time in the script's kprobe handler, per hit (rounds).
  echo "  script kprobe handler per hit (hooks file): $(grep -o "BENCH hooks hook_bench kprobe.*" "$log" | awk '$6 > 0 {print int($NF / $6)}' | sort -n | awk '{a[NR]=$1} END {printf "%d..%d ns, median %d", a[1], a[NR], a[int((NR+1)/2)]}')"
done
