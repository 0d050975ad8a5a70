#!/bin/bash
# The debug kernel of the kernel tests' debug tier (KS_DEBUG_KERNEL=1
# tools/kernel-test.sh): Debian's Linux 6.1 source (package linux-source-6.1)
# built with a small config plus KASAN, lockdep (PROVE_LOCKING) and
# DEBUG_ATOMIC_SLEEP, so that the guest tests also catch out-of-bounds and
# use-after-free accesses, lock-order and lock-state bugs, and sleeping in
# atomic context, which Debian's production kernels let pass silently.
#
# The config is tinyconfig plus the fragment below (what the QEMU test guest
# needs, what kscript.ko and its planned kprobe/netfilter/eBPF work use, and
# the debugging options), then olddefconfig; every option of the fragment is
# checked in the final .config, because Kconfig silently drops an option whose
# dependencies are missing. Options that change how modules are compiled
# (ORC/objtool, retpoline, stack protector, -O2, jump labels) follow Debian's
# config, so that kscript.ko is built here as it is for Debian's kernels.
#
# The build is cached in KS_DEBUG_KERNEL_DIR (default build-debug-kernel/ at
# the root, ignored by git): a tree whose stamp holds the hash of the fragment
# and of the source version is reused without any work. The tree is built
# with `make` (vmlinux, bzImage, Module.symvers) and `make modules_prepare`,
# so it serves as KDIR for `make -C kernel KDIR=...`. It runs under nice -n 19
# with two jobs, leaving room to other work on a small machine; a first build
# takes 35-60 minutes on two cores and leaves 1.8 GB in the cache.
#
# Usage: tools/debug-kernel.sh      (root on Debian 12 when packages are missing)
# Ends with the lines "BZIMAGE=<path>" and "KDIR=<path>".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${KS_DEBUG_KERNEL_DIR:-$root/build-debug-kernel}
jobs=${KS_DEBUG_KERNEL_JOBS:-2}

# What the kernel build needs besides gcc and make.
packages=(linux-source-6.1 build-essential bc flex bison libelf-dev libssl-dev xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} != 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "the debug kernel needs (as root): apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "== debug kernel: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Waits for the dpkg lock: tools/kernel-setup.sh may be installing Debian's
  # kernels at the same time.
  apt-get -o DPkg::Lock::Timeout=1800 update -qq
  apt-get -o DPkg::Lock::Timeout=1800 install -y -qq "${missing[@]}" >/dev/null
fi
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1)
[ -n "$tarball" ] || { echo "no /usr/src/linux-source-6.1.tar.* after installing linux-source-6.1" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)

# The config fragment: "CONFIG_X=y" must end up exactly so in .config,
# "# CONFIG_X is not set" must end up not set.
fragment='
# Build like Debian builds: this decides how kscript.ko is compiled.
CONFIG_64BIT=y
CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y
CONFIG_UNWINDER_ORC=y
CONFIG_OBJTOOL=y
CONFIG_CPU_MITIGATIONS=y
CONFIG_RETPOLINE=y
CONFIG_RETHUNK=y
CONFIG_SLS=y
CONFIG_STACKPROTECTOR=y
CONFIG_STACKPROTECTOR_STRONG=y
CONFIG_JUMP_LABEL=y
CONFIG_VMAP_STACK=y
CONFIG_KERNEL_GZIP=y
# Choices that tinyconfig makes otherwise (a choice keeps the first y).
# CONFIG_CC_OPTIMIZE_FOR_SIZE is not set
# CONFIG_KERNEL_XZ is not set
# CONFIG_SLOB is not set
# CONFIG_UNWINDER_GUESS is not set
# The QEMU guest: 2 CPUs, serial console, initramfs, busybox userland.
CONFIG_SMP=y
CONFIG_NR_CPUS=8
CONFIG_PREEMPT=y
CONFIG_HIGH_RES_TIMERS=y
CONFIG_PCI=y
CONFIG_ACPI=y
CONFIG_PRINTK=y
CONFIG_PRINTK_TIME=y
CONFIG_BUG=y
CONFIG_EARLY_PRINTK=y
CONFIG_TTY=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_PROC_FS=y
CONFIG_PROC_SYSCTL=y
CONFIG_SYSFS=y
CONFIG_SHMEM=y
CONFIG_TMPFS=y
CONFIG_MULTIUSER=y
CONFIG_POSIX_TIMERS=y
CONFIG_FUTEX=y
CONFIG_EPOLL=y
CONFIG_SIGNALFD=y
CONFIG_TIMERFD=y
CONFIG_EVENTFD=y
CONFIG_FILE_LOCKING=y
CONFIG_USERFAULTFD=y
CONFIG_SLUB=y
# Modules: loadable, unloadable, unsigned.
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
# CONFIG_MODULE_SIG is not set
CONFIG_KALLSYMS=y
CONFIG_KALLSYMS_ALL=y
# What kscript uses or will use: kprobes, netfilter hooks, eBPF (comparison).
CONFIG_KPROBES=y
CONFIG_KRETPROBES=y
CONFIG_NET=y
CONFIG_UNIX=y
CONFIG_INET=y
CONFIG_IPV6=y
CONFIG_NETFILTER=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
# The debugging options: the reason for this kernel.
CONFIG_DEBUG_KERNEL=y
CONFIG_DEBUG_INFO_NONE=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_KASAN_VMALLOC=y
CONFIG_PROVE_LOCKING=y
CONFIG_LOCKDEP=y
CONFIG_PROVE_RCU=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_LOCKUP_DETECTOR=y
CONFIG_SOFTLOCKUP_DETECTOR=y
CONFIG_DETECT_HUNG_TASK=y
# CONFIG_DEBUG_KMEMLEAK is not set
'
hash=$(printf '%s\n%s\n' "$srcver" "$fragment" | sha256sum | cut -c1-16)
tree=$cache/linux-source-6.1
stamp=$cache/stamp

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] &&
   [ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$tree/Module.symvers" ]; then
  echo "== debug kernel: cached ($hash)"
else
  mkdir -p "$cache"
  # A tree of another source version is extracted anew; a tree of the same
  # version is reused (a changed config or an interrupted build then only
  # rebuilds what changed).
  if [ "$(cat "$cache/source-version" 2>/dev/null)" != "$srcver" ] || [ ! -f "$tree/Makefile" ]; then
    echo "== debug kernel: extracting $tarball ($srcver)"
    rm -rf "$tree" "$stamp"
    tar -xf "$tarball" -C "$cache"
    echo "$srcver" > "$cache/source-version"
  fi
  rm -f "$stamp"
  echo "$fragment" > "$cache/fragment.config"
  cd "$tree"
  # ARCH=x86_64: with the default ARCH=x86, tinyconfig turns 64BIT off.
  make -s ARCH=x86_64 tinyconfig > "$cache/config.log" 2>&1
  scripts/kconfig/merge_config.sh -m .config "$cache/fragment.config" >> "$cache/config.log" 2>&1
  make -s olddefconfig >> "$cache/config.log" 2>&1
  bad=0
  while read -r line; do
    case "$line" in
      CONFIG_*=*)
        grep -qx "$line" .config || { echo "debug kernel config: wanted $line, got: $(grep "^${line%%=*}=\|^# ${line%%=*} is" .config || echo "nothing")" >&2; bad=1; } ;;
      "# CONFIG_"*" is not set")
        opt=${line#\# }; opt=${opt%% *}
        ! grep -q "^$opt=" .config || { echo "debug kernel config: wanted $opt off, got $(grep "^$opt=" .config)" >&2; bad=1; } ;;
    esac
  done <<< "$fragment"
  [ $bad = 0 ] || exit 1
  echo "== debug kernel: building in $tree (log: $cache/build.log)"
  start=$(date +%s)
  # `make` builds vmlinux, bzImage and Module.symvers (external modules link
  # against the latter); modules_prepare the rest that KDIR needs.
  if ! nice -n 19 make -j"$jobs" > "$cache/build.log" 2>&1 ||
     ! nice -n 19 make -j"$jobs" modules_prepare >> "$cache/build.log" 2>&1; then
    tail -30 "$cache/build.log" >&2
    exit 1
  fi
  echo "== debug kernel: built in $(( $(date +%s) - start )) s"
  echo "$hash" > "$stamp"
fi
echo "BZIMAGE=$tree/arch/x86/boot/bzImage"
echo "KDIR=$tree"
