#!/bin/sh
# The demo the README's first command shows: scripts loaded into a running
# kernel, their devices used from the shell.
cd /tests
show() { echo "guest# $*"; "$@"; }
echo "KTEST BEGIN demo"
show sh -c 'cat /examples/hello.k > /dev/kscript'
dmesg | grep "Hello World!" | tail -1 | sed "s/^/kernel log: /"
show kscript load /examples/device.k
show cat /dev/hello
show cat /dev/hello
show kscript load /examples/counter_device.k
show sh -c 'echo 40 > /dev/counter'
show sh -c 'echo 2 > /dev/counter'
show cat /dev/counter
show kscript load scripts/compile_error.k
show kscript list
show sh -c "head -6 /proc/kscript/slabinfo"
show kscript load /examples/opencount.k
show sh -c 'cat /etc/passwd /proc/version > /dev/null'
show sh -c 'head -4 /proc/kscript/opencount'
show ip link set lo up
show kscript load /examples/udp_filter.k
show ktest udp 9999 10
show ktest udp 53 10
show cat /proc/kscript/udp_filter
show cat /proc/kscript/hooks
show kscript unload device
show kscript unload counter_device
show kscript unload opencount
show kscript unload udp_filter
echo "KTEST PASS demo"
