#!/bin/sh
# In-guest benchmarks (tools/kernel-bench.sh): all figures of one kernel come
# from this one guest run.
cd /tests
insmod /slubbench.ko 2>/dev/null	# runs at load, then refuses to stay
dmesg | grep -o "BENCH slab.*"
insmod /refdev.ko
kscript load /bench/bench_device.k > /dev/null
for round in 1 2 3; do
	echo "BENCH read C $(/bench/readbench /dev/refdev 20000) ns"
	echo "BENCH read script $(/bench/readbench /dev/scriptdev 20000) ns"
done
for round in 1 2 3; do
	kscript load /bench/fib.k --name fib$round --budget 1000000000 > /dev/null
	dmesg | grep -o "BENCH fib27.*" | tail -1 | sed 's/^/kernel: /'
	kscript unload fib$round
	sed 's/Linux.printk(line)/System.p(line)/' /bench/fib.k > /tmp/fib_user.k
	kscript run /tmp/fib_user.k | sed 's/^/user: /'
done
# Hooks: a kprobe on the getppid syscall counting hits (none, C, eBPF,
# script), and a LOCAL_IN netfilter hook counting UDP datagrams over
# loopback (none, C, script). Configurations interleave within each round;
# the probes take 11 short rounds (under a shared machine's load a round
# can be hit by a burst, and the median of 11 paired rounds shrugs off
# more of them than the median of 5), the floods 5 longer ones.
ip link set lo up
for round in 1 2 3 4 5 6 7 8 9 10 11; do
	echo "BENCH probe none $(/bench/hookbench getppid 200000)"
	insmod /refhook.ko probe=__x64_sys_getppid
	echo "BENCH probe C $(/bench/hookbench getppid 200000)"
	rmmod refhook
	set -- $(/bench/hookbench bpf __x64_sys_getppid 200000)
	echo "BENCH probe bpf $1"
	echo "BENCH counted bpf $2"
	kscript load /bench/hook_bench.k > /dev/null
	echo "BENCH probe script $(/bench/hookbench getppid 200000)"
	echo "BENCH counted script $(cat /proc/kscript/hook_bench)"
	grep hook_bench /proc/kscript/hooks | sed 's/^/BENCH hooks /'
	kscript unload hook_bench
done
for round in 1 2 3 4 5; do
	echo "BENCH udp none $(/bench/hookbench udp 50000)"
	insmod /refhook.ko nf=1
	echo "BENCH udp C $(/bench/hookbench udp 50000)"
	rmmod refhook
	kscript load /bench/hook_bench.k > /dev/null
	echo "BENCH udp script $(/bench/hookbench udp 50000)"
	echo "BENCH counted script $(cat /proc/kscript/hook_bench)"
	grep hook_bench /proc/kscript/hooks | sed 's/^/BENCH hooks /'
	kscript unload hook_bench
done
dmesg | grep -o "refhook: .*" | sed 's/^/BENCH counted C /'
echo "KTEST PASS bench"
