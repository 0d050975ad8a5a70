#!/bin/bash
# Runs every test of the project: this is what .ci/run calls.
#   1. installs what it needs (Debian 12, as root) when something is missing
#   2. release build: unit tests + golden script tests, also run from
#      bytecode files (the round trip)
#   3. ASan + UBSan build: the same suites
#   4. freestanding check: the core built with kernel flags, symbols checked;
#      demo.sh's kernel step on a machine without kernels (stand-ins)
#   5. libFuzzer for a bounded time each (KS_FUZZ_SECONDS): scripts through
#      the compiler and VM, and mutated bytecode files through the reader,
#      the verifier and the VM
#   6. kernel tests: kscript.ko in QEMU guests of Debian's 6.1 and 6.12
#      kernels, and the DKMS build (KS_SKIP_KERNEL=1 skips them);
#      KS_DEBUG_KERNEL=1 tools/test-all.sh adds a guest of a 6.1 kernel built
#      with KASAN and lockdep (tools/debug-kernel.sh; the first build of that
#      kernel takes 35-60 minutes and 1.8 GB, later runs reuse it)
# Ends with the line "N passed, N failed" over all of them.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${KS_FUZZ_SECONDS:-60}
log=$(mktemp -d)
passed=0
failed=0

packages=(build-essential cmake g++ python3 libgtest-dev clang libclang-rt-14-dev binutils)
need_install=0
for tool in cmake g++ python3 clang++ nm objdump; do
  command -v "$tool" >/dev/null 2>&1 || need_install=1
done
[ -f /usr/include/gtest/gtest.h ] || need_install=1
ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need_install=1
if [ $need_install = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing build dependencies"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "missing build dependencies; as root: apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

# Adds the counts of a "N passed, N failed" line or a ctest summary in $1.
count() {
  local file=$1 line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$file" | tail -1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + p)); failed=$((failed + f))
  fi
}

step() {
  local name=$1; shift
  echo "== $name"
  if "$@" >"$log/$name.log" 2>&1; then
    echo "   ok"
    return 0
  fi
  echo "   FAILED (log follows)"
  tail -60 "$log/$name.log" | sed 's/^/   | /'
  return 1
}

# Builds in [dir] with cmake [args], then runs the unit tests and the golden
# tests, counting each test case.
suite() {
  local name=$1 dir=$2; shift 2
  if ! step "$name-build" bash -c "cmake -S . -B '$dir' $* >/dev/null && cmake --build '$dir' -j$jobs"; then
    failed=$((failed + 1))
    return
  fi
  step "$name-unit" "$dir/tests/unit_tests"
  local unit_passed unit_failed
  unit_passed=$(grep -cE '^\[       OK \]' "$log/$name-unit.log")
  unit_failed=$(grep -cE '^\[  FAILED  \] [A-Za-z]' "$log/$name-unit.log" | awk '{print $1}')
  unit_failed=$(grep -E '^\[  FAILED  \] [A-Za-z0-9_]+\.[A-Za-z0-9_]+ \(' "$log/$name-unit.log" | wc -l)
  if [ "$unit_passed" = 0 ] && [ "$unit_failed" = 0 ]; then unit_failed=1; fi
  passed=$((passed + unit_passed)); failed=$((failed + unit_failed))
  step "$name-golden" python3 tests/run_golden.py "$dir/kscript" tests/scripts
  count "$log/$name-golden.log"
  grep -E '^FAIL' "$log/$name-golden.log" | head -20 | sed 's/^/   /'
  step "$name-cli" python3 tests/cli_test.py "$dir/kscript"
  count "$log/$name-cli.log"
  step "$name-examples" python3 tests/run_golden.py "$dir/kscript" examples
  count "$log/$name-examples.log"
  # The round trip through bytecode files (kscript compile, then run).
  step "$name-bytecode" python3 tests/run_golden.py --bytecode "$dir/kscript" tests/scripts
  count "$log/$name-bytecode.log"
  grep -E '^FAIL' "$log/$name-bytecode.log" | head -20 | sed 's/^/   /'
  step "$name-examples-bytecode" python3 tests/run_golden.py --bytecode "$dir/kscript" examples
  count "$log/$name-examples-bytecode.log"
}

suite release build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
suite asan build-ci-asan -DCMAKE_BUILD_TYPE=Debug -DKS_SANITIZE=ON

# The committed prelude header matches its .k sources (tools/gen-prelude.py).
if step prelude-header python3 tools/gen-prelude.py --check; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

if step freestanding tools/check-freestanding.sh build-ci-freestanding; then
  passed=$((passed + 1)); grep '^freestanding: ok' "$log/freestanding.log" | sed 's/^/   /'
else
  failed=$((failed + 1))
fi

# demo.sh's kernel step as a fresh machine reaches it (no kernel installed
# yet), with stand-ins for the install and the guest: seconds, no QEMU.
if step demo-fresh tools/demo-fresh-check.sh; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

# Both fuzz targets: scripts (engine) and mutated bytecode files.
for target in engine bytecode; do
  name=fuzz; [ $target = engine ] || name=fuzz-$target
  if step $name tools/run-fuzz.sh "$fuzz_seconds" build-ci-fuzz $target; then
    if grep -qE 'ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error:' "$log/$name.log"; then
      failed=$((failed + 1)); echo "   fuzzer found a problem:"; tail -40 "$log/$name.log" | sed 's/^/   | /'
    else
      passed=$((passed + 1)); grep -E 'number_of_executed_units' "$log/$name.log" | sed 's/^/   /'
    fi
  else
    failed=$((failed + 1))
  fi
done

if [ "${KS_SKIP_KERNEL:-0}" != 1 ]; then
  step kernel tools/kernel-test.sh
  count "$log/kernel.log"
  grep -E '^   KTEST FAIL|kernel problems|did not finish' "$log/kernel.log" | head -20 | sed 's/^/   /'
  if step dkms tools/dkms-check.sh; then
    passed=$((passed + 1)); grep '^dkms:' "$log/dkms.log" | sed 's/^/   /'
  else
    failed=$((failed + 1))
  fi
  # DKMS's option for the module without the compiler.
  if step dkms-nocompiler env KS_COMPILER=n tools/dkms-check.sh; then
    passed=$((passed + 1)); grep '^dkms:' "$log/dkms-nocompiler.log" | sed 's/^/   /'
  else
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
