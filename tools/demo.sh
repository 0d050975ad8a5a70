#!/bin/bash
# The main job: builds kscript, runs the example scripts at the command
# line, then boots a throwaway QEMU guest (Debian's 6.1 kernel) with
# kscript.ko and loads the examples into the running kernel
# (tests/kernel/demo.sh shows what it does). Works as root on a fresh
# Debian 12 machine: it installs the compiler, QEMU and the kernels itself.
#
# For the test of the kernel step (tools/test-all.sh, "demo-fresh"), three
# variables stand in for the machine: KS_MODULES_DIR (default /lib/modules),
# KS_KERNEL_SETUP and KS_KERNEL_TEST (the commands that install the kernels
# and boot the guest); KS_DEMO_STEPS=kernel runs the kernel step alone and
# KS_DEMO_OUT is the guest's output folder (default build-demo/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
modules=${KS_MODULES_DIR:-/lib/modules}
kernel_setup=${KS_KERNEL_SETUP:-"$root/tools/kernel-setup.sh"}
kernel_test=${KS_KERNEL_TEST:-"$root/tools/kernel-test.sh"}
steps=${KS_DEMO_STEPS:-all}
out=${KS_DEMO_OUT:-"$root/build-demo"}

# The release of the first Debian 6.1 kernel with headers under $modules,
# or nothing (never a failure: on a fresh machine there is none yet).
kernel_61() {
  local d
  for d in "$modules"/6.1.*/build; do
    if [ -d "$d" ]; then
      basename "$(dirname "$d")"
      return 0
    fi
  done
  return 0
}

if [ "$steps" = all ]; then
  if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq build-essential cmake g++ python3 libgtest-dev >/dev/null
    else
      echo "needs cmake and g++ (apt-get install build-essential cmake)" >&2
      exit 1
    fi
  fi
  # A fresh build/ skips the tests; one a developer configured keeps its options.
  if [ -f build/CMakeCache.txt ]; then
    cmake -S . -B build >/dev/null
  else
    cmake -S . -B build -DKS_TESTS=OFF >/dev/null
  fi
  cmake --build build -j"$(nproc)" >/dev/null
  for script in examples/*.k; do
    echo "== kscript run $script"
    build/kscript run "$script"
  done
  echo "== fib(32) against lua5.4 (if installed)"
  if command -v lua5.4 >/dev/null; then bench/first-look.sh; else echo "lua5.4 not installed; skipped"; fi
fi

echo "== the kernel: a throwaway guest with kscript.ko"
kver=$(kernel_61)
[ -n "$kver" ] || echo "no 6.1 kernel installed yet: installing QEMU and Debian's kernels (a few minutes)"
"$kernel_setup"
kver=${kver:-$(kernel_61)}
if [ -z "$kver" ]; then
  echo "still no 6.1 kernel with headers under $modules after $kernel_setup" >&2
  exit 1
fi
KS_GUEST_ENTRY=demo.sh KS_KERNEL_OUT="$out" "$kernel_test" "$kver" >/dev/null 2>&1 || true
sed -n '/^KTEST BEGIN demo/,/^KTEST PASS demo/p' "$out/$kver/console.log" 2>/dev/null | grep -v '^KTEST' \
  | grep -vE '^\[ *[0-9]+\.[0-9]+\]' || { echo "the guest run failed; see $out/$kver/console.log"; exit 1; }
