#!/bin/bash
# Builds the engine core and the slab allocator with the flags the Linux
# kernel uses for module objects (Debian 6.1/6.12, x86-64; see
# docs/internals.md), links them into one relocatable object and
# fails on:
#   - any undefined symbol outside the allowed list (memcpy, memset,
#     memmove, memcmp, the platform interface ksp_*, and what the kernel's
#     own flags make the compiler call: stack protector, retpoline thunks),
#   - global constructor/destructor sections (.init_array, .ctors, ...),
#   - a function whose stack frame exceeds the limit (-fstack-usage).
# Usage: tools/check-freestanding.sh [OUTDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build-freestanding}
mkdir -p "$out"
CXX=${CXX:-g++}
max_frame=${KS_MAX_FRAME:-1024}

flags=(
  -nostdinc -nostdinc++ -std=gnu++20 -ffreestanding
  -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit
  -fno-unwind-tables -fno-asynchronous-unwind-tables
  -O2 -fno-strict-aliasing -fno-common -fshort-wchar -fno-PIE
  -mcmodel=kernel -mno-red-zone -mno-sse -mno-mmx -mno-sse2 -mno-3dnow -mno-avx
  -mno-80387 -mno-fp-ret-in-387 -mskip-rax-setup -mtune=generic -m64
  -falign-jumps=1 -falign-loops=1 -mindirect-branch=thunk-extern -mindirect-branch-register
  -mfunction-return=thunk-extern -fno-jump-tables -fcf-protection=branch -fno-delete-null-pointer-checks
  -fstack-protector-strong -fno-strict-overflow -fno-stack-check -fconserve-stack
  -fno-omit-frame-pointer -fno-optimize-sibling-calls -fstack-usage
  -Wall -Wextra -Werror -Wframe-larger-than=$max_frame
  -DKS_KERNEL -DKS_DISPATCH_GOTO
)

objects=()
for src in "$root"/core/*/*.cpp "$root"/slab/*.cpp; do
  rel=${src#$root/}
  obj="$out/${rel//\//_}.o"
  "$CXX" "${flags[@]}" -c "$src" -o "$obj"
  objects+=("$obj")
done
ld -r -o "$out/kscript_core.o" "${objects[@]}"

allowed='^(memcpy|memset|memmove|memcmp|__stack_chk_fail|__stack_chk_guard|__x86_indirect_thunk_r[a-z0-9]+|__x86_return_thunk|__fentry__|ksp_[a-z0-9_]+)$'
status=0
undefined=$(nm -u "$out/kscript_core.o" | awk '{print $2}' | sort -u)
bad=$(echo "$undefined" | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
  echo "freestanding: undefined symbols outside the allowed list:"
  echo "$bad" | sed 's/^/  /'
  status=1
fi
sections=$(objdump -h "$out/kscript_core.o" | awk '{print $2}' | grep -E '^\.(init_array|fini_array|ctors|dtors)' || true)
if [ -n "$sections" ]; then
  echo "freestanding: global constructor sections present: $sections"
  status=1
fi
if objdump -d "$out/kscript_core.o" | grep -qE '\s(xmm|ymm|zmm)[0-9]'; then
  echo "freestanding: SIMD/floating-point registers used"
  status=1
fi
echo "freestanding: undefined symbols used:" $(echo "$undefined" | tr '\n' ' ')
echo "freestanding: largest stack frames (bytes):"
sort -t$'\t' -k2 -n -r "$out"/*.su > "$out/stack-usage.txt"
head -5 "$out/stack-usage.txt" | sed 's/^/  /'
if [ $status -eq 0 ]; then
  echo "freestanding: ok ($(echo "${objects[@]}" | wc -w) objects, kernel flags)"
fi
exit $status
