#!/bin/sh
# In-guest benchmarks (tools/kernel-bench.sh): all figures of one kernel come
# from this one guest run.
cd /tests
rmmod kscript
insmod /kscript.ko bench=1
dmesg | grep -o "BENCH slab.*"
insmod /refdev.ko
kscript load /bench/bench_device.k > /dev/null
for round in 1 2 3; do
	echo "BENCH read C $(/bench/readbench /dev/refdev 20000) ns"
	echo "BENCH read script $(/bench/readbench /dev/scriptdev 20000) ns"
done
for round in 1 2 3; do
	kscript load /bench/fib.k --name fib$round --budget 100000000000 > /dev/null
	dmesg | grep -o "BENCH fib27.*" | tail -1 | sed 's/^/kernel: /'
	kscript unload fib$round
	sed 's/Linux.printk(line)/System.p(line)/' /bench/fib.k > /tmp/fib_user.k
	kscript run /tmp/fib_user.k | sed 's/^/user: /'
done
echo "KTEST PASS bench"
