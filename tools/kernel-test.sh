#!/bin/bash
# Kernel tests: builds kscript.ko for each Debian kernel installed (or the
# versions given), boots each in a throwaway QEMU guest (TCG, -smp 2) with
# the module, the kscript tool and tests/kernel/, and reads the results from
# the serial console. A run fails on any failed test and on any oops,
# WARNING, BUG, stall or panic in the kernel log.
# Usage: tools/kernel-test.sh [KVER...]      (KVER: an installed kernel, e.g.
#        6.1.0-57-amd64, or the start of one, e.g. 6.1; KS_KERNEL_OUT: output folder;
#        KS_GUEST_ENTRY: the script the guest runs, default tests/kernel/run.sh;
#        KS_GUEST_TIMEOUT: seconds a guest may run)
# The debug tier: KS_DEBUG_KERNEL=1 adds one more "kernel version", 6.1-debug:
# Debian's 6.1 source built with KASAN, lockdep and DEBUG_ATOMIC_SLEEP by
# tools/debug-kernel.sh (cached in build-debug-kernel/); kscript.ko is built
# against that tree (KDIR=) and its bzImage is booted with more memory and a
# longer timeout, and lockdep's reports also fail the run. Passing 6.1-debug
# as the only KVER runs just that tier, without Debian's kernels.
# Ends with the line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${KS_KERNEL_OUT:-$root/build-kernel}
timeout_s=${KS_GUEST_TIMEOUT:-900}
mkdir -p "$out"
debug_label=6.1-debug

kvers=("$@")
if [ ${#kvers[@]} = 1 ] && [ "${kvers[0]}" = "$debug_label" ] &&
   command -v qemu-system-x86_64 >/dev/null && [ -x /bin/busybox ] && command -v cpio >/dev/null; then
  : # the debug tier alone needs none of Debian's kernels
else
  "$root/tools/kernel-setup.sh" || exit 1
fi
# A short name ("6.1", "6.12") stands for the one installed kernel whose
# release starts with it; anything else must name an installed kernel.
for i in "${!kvers[@]}"; do
  k=${kvers[$i]}
  [ "$k" = "$debug_label" ] || [ -e "/lib/modules/$k/build/Makefile" ] && continue
  matches=()
  for d in /lib/modules/"$k".* /lib/modules/"$k"-*; do
    [ -e "$d/build/Makefile" ] && matches+=("$(basename "$d")")
  done
  if [ ${#matches[@]} = 1 ]; then
    kvers[$i]=${matches[0]}
  else
    echo "no single installed kernel matches '$k'; installed: $(ls /lib/modules | tr '\n' ' ')(or $debug_label)" >&2
    echo "0 passed, 1 failed"; exit 64
  fi
done
if [ ${#kvers[@]} = 0 ]; then
  for d in /lib/modules/*; do
    v=$(basename "$d")
    [ -e "$d/build/Makefile" ] && [ -e "/boot/vmlinuz-$v" ] && kvers+=("$v")
  done
  [ "${KS_DEBUG_KERNEL:-0}" = 1 ] && kvers+=("$debug_label")
fi
# The debug kernel is built (or found in its cache) before any guest runs.
debug_kdir=
debug_image=
for kver in "${kvers[@]}"; do
  [ "$kver" = "$debug_label" ] || continue
  echo "== $debug_label: building the debug kernel (tools/debug-kernel.sh)"
  "$root/tools/debug-kernel.sh" > "$out/debug-kernel.log" 2>&1
  grep -v -E "^(BZIMAGE|KDIR)=" "$out/debug-kernel.log" | tail -30 | sed 's/^/   /'
  debug_kdir=$(sed -n 's/^KDIR=//p' "$out/debug-kernel.log")
  debug_image=$(sed -n 's/^BZIMAGE=//p' "$out/debug-kernel.log")
  break
done
if [ ${#kvers[@]} = 0 ]; then
  echo "no kernel with headers found"; echo "0 passed, 1 failed"; exit 1
fi

# The kscript tool for the guest: static, no libc in the guest.
g++ -O2 -std=gnu++20 -static -DKS_DISPATCH_GOTO -o "$out/kscript" "$root/cli/main.cpp" "$root/cli/events.cpp" \
  "$root"/core/*/*.cpp "$root"/slab/*.cpp -x c "$root/platform/user/platform.c" 2>&1 \
  | grep -v "valid for C++" || true
[ -x "$out/kscript" ] || { echo "cannot build the static kscript tool"; echo "0 passed, 1 failed"; exit 1; }
# The tests' helper for threads, userfaultfd and raw ioctls (tests/kernel/ktest.c).
rm -f "$out/ktest"
gcc -O2 -Wall -Werror -static -pthread -o "$out/ktest" "$root/tests/kernel/ktest.c"
[ -x "$out/ktest" ] || { echo "cannot build tests/kernel/ktest.c"; echo "0 passed, 1 failed"; exit 1; }
# The same helper as a 32-bit (i386) program: its list-abi run goes through
# the compat path of KS_IOC_LIST (crossbuild-essential-i386: kernel-setup.sh).
rm -f "$out/ktest32"
i686-linux-gnu-gcc -O2 -Wall -Werror -static -pthread -o "$out/ktest32" "$root/tests/kernel/ktest.c"
[ -x "$out/ktest32" ] || { echo "cannot build tests/kernel/ktest.c for i386"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
for kver in "${kvers[@]}"; do
  dir="$out/$kver"
  rm -rf "$dir"
  mkdir -p "$dir/initramfs/bin" "$dir/initramfs/tests" "$dir/initramfs/examples"
  # Per kernel: the tree to build against, the image to boot, guest memory,
  # timeout, and extra patterns of the log scan.
  if [ "$kver" = "$debug_label" ]; then
    if [ -z "$debug_kdir" ] || [ ! -f "$debug_image" ]; then
      echo "   no debug kernel (see $out/debug-kernel.log)"; failed=$((failed + 1)); continue
    fi
    kbuild=(KDIR="$debug_kdir")
    image=$debug_image
    # KASAN's shadow takes an eighth of the memory; under KASAN and lockdep
    # the guest runs several times slower.
    memory=2048
    guest_timeout=${KS_GUEST_TIMEOUT:-1800}
    # Lockdep and the atomic-sleep check report with "WARNING:" or "BUG:"
    # headers; these catch the variants and continuation lines as well, and
    # a hung task ("INFO: task x blocked for more than N seconds").
    extra_problems='|possible circular locking|possible recursive locking|inconsistent lock state|lock inversion|sleeping function called|held when returning to user space|locks? held by|DEBUG_LOCKS_WARN_ON|INFO: |blocked for more than|lockdep is turned off'
  else
    kbuild=(KVER="$kver")
    image=/boot/vmlinuz-$kver
    memory=1024
    guest_timeout=$timeout_s
    extra_problems=
  fi
  # First the module without the compiler (KS_COMPILER=n: bytecode only),
  # which the guest loads after the full one is gone.
  echo "== $kver: building kscript.ko without the compiler"
  if ! make -C "$root/kernel" "${kbuild[@]}" clean >/dev/null 2>&1 ||
     ! make -C "$root/kernel" "${kbuild[@]}" KS_COMPILER=n KS_DISPATCH="${KS_DISPATCH:-goto}" \
       > "$dir/build-nocompiler.log" 2>&1; then
    tail -30 "$dir/build-nocompiler.log"; failed=$((failed + 1)); continue
  fi
  if grep -E "warning|objtool" "$dir/build-nocompiler.log" | grep -v "Skipping BTF"; then
    echo "   build warnings (above)"; failed=$((failed + 1))
  fi
  cp "$root/kernel/kscript.ko" "$dir/initramfs/kscript-nocompiler.ko"
  echo "== $kver: building kscript.ko"
  if ! make -C "$root/kernel" "${kbuild[@]}" clean >/dev/null 2>&1 ||
     ! make -C "$root/kernel" "${kbuild[@]}" KS_DISPATCH="${KS_DISPATCH:-goto}" > "$dir/build.log" 2>&1; then
    tail -30 "$dir/build.log"; failed=$((failed + 1)); continue
  fi
  if grep -E "warning|objtool" "$dir/build.log" | grep -v "Skipping BTF"; then
    echo "   build warnings (above)"; failed=$((failed + 1))
  fi
  cp "$root/kernel/kscript.ko" "$dir/initramfs/"
  cp /bin/busybox "$dir/initramfs/bin/busybox"
  cp "$out/kscript" "$dir/initramfs/bin/kscript"
  cp "$out/ktest" "$dir/initramfs/bin/ktest"
  # (Not into the debug tier: its small config has no IA32_EMULATION.)
  [ "$kver" != "$debug_label" ] && cp "$out/ktest32" "$dir/initramfs/bin/ktest32"
  cp "$root/tests/kernel/init" "$dir/initramfs/init"
  chmod +x "$dir/initramfs/init"
  cp -r "$root/tests/kernel/scripts" "$dir/initramfs/tests/"
  # Damaged bytecode files for the hostile set, made from a file the host's
  # tool compiled (tests/kernel/make_bad_kbc.py).
  "$out/kscript" compile "$root/examples/counter_device.k" -o "$dir/counter_device.kbc" > /dev/null &&
    python3 "$root/tests/kernel/make_bad_kbc.py" "$dir/counter_device.kbc" "$dir/initramfs/tests/scripts/hostile_kbc" 48 ||
    { echo "   cannot make the damaged bytecode files"; failed=$((failed + 1)); }
  cp "$root/tests/kernel/${KS_GUEST_ENTRY:-run.sh}" "$dir/initramfs/tests/entry.sh"
  cp "$root"/examples/*.k "$dir/initramfs/examples/"
  if [ "${KS_BENCH:-0}" = 1 ] && [ "$kver" != "$debug_label" ]; then
    # Benchmark guests also get the C reference device and the read loop.
    mkdir -p "$dir/initramfs/bench"
    make -C "$root/bench/kernel" KVER="$kver" clean >/dev/null 2>&1
    make -C "$root/bench/kernel" KVER="$kver" >> "$dir/build.log" 2>&1 &&
      cp "$root/bench/kernel/refdev.ko" "$root/bench/kernel/refhook.ko" "$root/bench/kernel/slubbench.ko" \
        "$dir/initramfs/"
    gcc -O2 -static -o "$dir/initramfs/bench/readbench" "$root/bench/kernel/readbench.c"
    gcc -O2 -Wall -static -o "$dir/initramfs/bench/hookbench" "$root/bench/kernel/hookbench.c"
    cp "$root"/bench/kernel/*.k "$dir/initramfs/bench/"
  fi
  (cd "$dir/initramfs" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$dir/initrd.gz")
  echo "== $kver: booting the guest"
  start=$(date +%s)
  timeout "$guest_timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$memory" \
    -kernel "$image" -initrd "$dir/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 loglevel=4" \
    -nographic -no-reboot < /dev/null > "$dir/console.log" 2>&1
  status=$?
  [ "$kver" = "$debug_label" ] && echo "   guest ran $(( $(date +%s) - start )) s"
  grep -E "^KTEST (PASS|FAIL|kernel|INFO)" "$dir/console.log" | sed 's/^/   /'
  grep -A30 "^KTEST FAIL" "$dir/console.log" | grep "^  |" | head -40 | sed 's/^/   /'
  p=$(grep -c "^KTEST PASS" "$dir/console.log")
  f=$(grep -c "^KTEST FAIL" "$dir/console.log")
  passed=$((passed + p)); failed=$((failed + f))
  if ! grep -q "^KTEST DONE" "$dir/console.log"; then
    echo "   the guest did not finish (exit $status); last lines:"; tail -20 "$dir/console.log" | sed 's/^/   | /'
    failed=$((failed + 1))
  fi
  problems=$(grep -E "BUG:|WARNING:|Oops|Call Trace|stack-protector|RCU stall|rcu_sched self-detected stall|soft lockup|hung task|scheduling while atomic|Kernel panic|general protection|UBSAN|KASAN|engine leaked$extra_problems" "$dir/console.log" || true)
  if [ -n "$problems" ]; then
    echo "   kernel problems in the log:"; echo "$problems" | head -20 | sed 's/^/   | /'
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
    echo "   kernel log clean"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
