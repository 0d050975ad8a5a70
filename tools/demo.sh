#!/bin/bash
# The main job: builds kscript, runs the example scripts at the command
# line, then boots a throwaway QEMU guest (Debian's 6.1 kernel) with
# kscript.ko and loads the examples into the running kernel
# (tests/kernel/demo.sh shows what it does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
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
echo "== the kernel: a throwaway guest with kscript.ko"
kver=$(ls -d /lib/modules/6.1.*/build 2>/dev/null | head -1 | cut -d/ -f4)
"$root/tools/kernel-setup.sh"
kver=${kver:-$(ls -d /lib/modules/6.1.*/build | head -1 | cut -d/ -f4)}
KS_GUEST_ENTRY=demo.sh KS_KERNEL_OUT="$root/build-demo" "$root/tools/kernel-test.sh" "$kver" >/dev/null 2>&1 || true
sed -n '/^KTEST BEGIN demo/,/^KTEST PASS demo/p' "$root/build-demo/$kver/console.log" | grep -v '^KTEST' \
  | grep -vE '^\[ *[0-9]+\.[0-9]+\]' || { echo "the guest run failed; see build-demo/$kver/console.log"; exit 1; }
