#!/bin/sh
# Kernel tests, run inside the guest: each prints KTEST PASS or KTEST FAIL.
cd /tests
K=/bin/kscript

t() {
	name=$1
	shift
	echo "KTEST BEGIN $name"
	if "$@" > /tmp/out 2>&1; then
		echo "KTEST PASS $name"
	else
		echo "KTEST FAIL $name"
		sed 's/^/  | /' /tmp/out
	fi
}

# Fails unless the kernel log gained a line containing $1 since the mark.
mark() { dmesg | wc -l > /tmp/mark; }
logged() { dmesg | tail -n +$(( $(cat /tmp/mark) + 1 )) | grep -q "$1"; }

hello_by_cat() {
	mark
	cat scripts/hello.k > /dev/kscript || return 1
	logged "Hello World!"
}

compile_error_by_cat() {
	mark
	# The load fails at close(2) (busybox cat does not check close, so
	# its status says nothing); the diagnostics are in the log and read().
	cat scripts/compile_error.k > /dev/kscript
	logged "error: cannot use 'String' as 'int'" && grep -q ":2:9: error: cannot use 'String' as 'int'" /dev/kscript
}

compile_error_by_cli() {
	$K load scripts/compile_error.k > /tmp/o 2>&1
	rc=$?
	cat /tmp/o
	[ $rc = 65 ] && grep -q "scripts/compile_error.k:2:9: error: cannot use 'String' as 'int'" /tmp/o
}

figure6_device() {
	$K load /examples/device.k || return 1
	[ -c /dev/hello ] || return 1
	a=$(cat /dev/hello) && b=$(cat /dev/hello) || return 1
	echo "$a / $b"
	[ "$a" = "Hello from a kscript device (open #1)" ] && [ "$b" = "Hello from a kscript device (open #2)" ] || return 1
	$K unload device && [ ! -e /dev/hello ]
}

counter_device() {
	$K load /examples/counter_device.k || return 1
	echo 40 > /dev/counter && echo 2 > /dev/counter || return 1
	[ "$(cat /dev/counter)" = "total 42" ] || return 1
	$K stats counter_device || { ls -la /proc/kscript; cat /proc/kscript/scripts; return 1; }
	$K unload counter_device
}

exception_in_handler() {
	$K load scripts/bad_handler.k || return 1
	mark
	if cat /dev/badread; then echo "read did not fail"; return 1; fi
	logged "ZeroDividedException" || return 1
	[ "$(cat /dev/badread 2>/dev/null; echo $?)" != 0 ] || return 1
	$K unload bad_handler
}

runaway_handler() {
	$K load scripts/spin_handler.k --budget 20000000 || return 1
	mark
	if cat /dev/spin; then echo "read did not fail"; return 1; fi
	logged "BudgetExceededException" || return 1
	# The kernel is still responsive and the script still works.
	[ "$(cat /dev/spinok)" = "ok" ] || return 1
	$K unload spin_handler
}

concurrent_readers() {
	$K load scripts/shared_counter.k || return 1
	for i in 1 2 3 4; do
		( j=0; while [ $j -lt 50 ]; do cat /dev/shared > /dev/null || exit 1; j=$((j + 1)); done ) &
	done
	wait || return 1
	n=$(cat /dev/shared)
	echo "reads counted: $n"
	[ "$n" = 201 ] || return 1
	$K unload shared_counter
}

unload_while_open() {
	$K load scripts/shared_counter.k --name held || return 1
	exec 3< /dev/shared
	$K unload held || return 1
	[ ! -e /dev/shared ] || return 1
	# The open file now gets an error, and closing it is fine.
	if cat <&3; then echo "read after unload succeeded"; exec 3<&-; return 1; fi
	exec 3<&-
	return 0
}

rmmod_refused_while_loaded() {
	$K load scripts/hello.k --name pinned || return 1
	if rmmod kscript; then echo "rmmod succeeded with a script loaded"; return 1; fi
	$K unload pinned
}

hostile_scripts() {
	ok=0
	for f in scripts/hostile/*.k; do
		timeout 120 $K load "$f" --budget 20000000 --memory 4000000 > /tmp/h 2>&1
		rc=$?
		if [ $rc = 0 ]; then
			echo "$f: loaded (expected a failure)"; cat /tmp/h
			$K unload "$(basename "$f" .k)"
			continue
		fi
		ok=$((ok + 1))
		echo "$f: refused ($rc): $(head -c 200 /tmp/h | tr '\n' ' ')"
	done
	echo "$ok hostile scripts refused"
	# After all of them, a normal script still works.
	mark
	$K load scripts/hello.k --name after_hostile || return 1
	logged "Hello World!" || return 1
	$K unload after_hostile || return 1
	[ "$ok" = "$(ls scripts/hostile/*.k | wc -l)" ]
}

timer_and_proc() {
	$K load /examples/timer_proc.k || return 1
	[ -e /proc/kscript/ticks ] || return 1
	sleep 2
	n=$(cut -d' ' -f2 /proc/kscript/ticks)
	echo "ticks after 2 s: $n"
	[ "$n" -ge 2 ] || return 1
	echo reset > /proc/kscript/ticks || return 1
	m=$(cut -d' ' -f2 /proc/kscript/ticks)
	echo "after reset: $m"
	[ "$m" -lt "$n" ] || return 1
	$K unload timer_proc || return 1
	[ ! -e /proc/kscript/ticks ] || return 1
	# Unloaded: no timer runs any more (the log would show a crash if one did).
	sleep 1
}

name_clashes() {
	$K load scripts/proc_state.k --name first || return 1
	if $K load scripts/proc_state.k --name second; then echo "duplicate /proc name accepted"; return 1; fi
	if $K load scripts/misc_clash.k; then echo "duplicate misc device accepted"; return 1; fi
	$K unload first
}

each_exception_in_handler() {
	$K load scripts/each_exception.k --memory 8000000 --budget 20000000 || return 1
	mark
	i=1
	while [ $i -le 10 ]; do
		if cat /dev/thrower > /dev/null 2>&1; then echo "read $i did not fail"; return 1; fi
		i=$((i + 1))
	done
	for e in AssertionException OutOfBoundsException NullReferenceException StackOverflowException \
		 OutOfMemoryException BudgetExceededException RuntimeScriptException TypeCastException \
		 "Exception: user exception" ZeroDividedException; do
		logged "$e" || { echo "not logged: $e"; return 1; }
	done
	[ "$(cat /dev/thrower)" = "ok 11" ] || return 1
	$K unload each_exception
}

every_example() {
	for f in /examples/*.k; do
		n=$(basename "$f" .k)
		$K load "$f" > /dev/null || { echo "$f did not load"; return 1; }
		$K unload "$n" || return 1
	done
}

info_functions() {
	mark
	$K load scripts/info.k || return 1
	logged "pid " || return 1
	logged "comm kscript" || return 1
	logged "uid 0" || return 1
	$K unload info
}

# An empty loaded script holds under 16 KiB of pages (state and slab).
empty_script_memory() {
	: > /tmp/empty.k
	$K load /tmp/empty.k --name empty || return 1
	held=$(awk '$1 == "empty" {print $10}' /proc/kscript/scripts)
	echo "KTEST INFO empty script holds $held bytes" > /dev/console
	$K unload empty
	[ -n "$held" ] && [ "$held" -lt 16384 ]
}

list_and_slabinfo() {
	$K load scripts/hello.k --name listed || return 1
	$K list > /tmp/list 2>&1
	cat /tmp/list
	grep -q "^listed " /tmp/list || return 1
	head -5 /proc/kscript/slabinfo
	grep -q "kmalloc-64" /proc/kscript/slabinfo || return 1
	$K unload listed
}

t hello_by_cat hello_by_cat
t compile_error_by_cat compile_error_by_cat
t compile_error_by_cli compile_error_by_cli
t figure6_device figure6_device
t counter_device counter_device
t exception_in_handler exception_in_handler
t runaway_handler runaway_handler
t concurrent_readers concurrent_readers
t unload_while_open unload_while_open
t rmmod_refused_while_loaded rmmod_refused_while_loaded
t hostile_scripts hostile_scripts
t list_and_slabinfo list_and_slabinfo
t empty_script_memory empty_script_memory
t timer_and_proc timer_and_proc
t each_exception_in_handler each_exception_in_handler
t every_example every_example
t info_functions info_functions
t name_clashes name_clashes
# Leave nothing loaded, then the module must unload.
for s in $(cut -d' ' -f1 /proc/kscript/scripts | grep -v '^#'); do $K unload "$s"; done
t rmmod rmmod kscript
