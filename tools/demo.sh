#!/bin/bash
# The main job, for now in userspace: builds kscript and runs every example
# script. (The kernel demo — a throwaway QEMU guest with kscript.ko — comes
# with the kernel module.)
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
cmake -S . -B build -DKS_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
for script in examples/*.k; do
  echo "== kscript run $script"
  build/kscript run "$script"
done
echo "== fib(32) against lua5.4 (if installed)"
if command -v lua5.4 >/dev/null; then bench/first-look.sh; else echo "lua5.4 not installed; skipped"; fi
