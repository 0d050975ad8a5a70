#!/bin/bash
# Builds a libFuzzer target with clang (ASan + UBSan) and runs it for a
# bounded time.
#   engine (default): any input is a script; seeded with the golden scripts
#   bytecode: valid bytecode files mutated (tests/fuzz/fuzz_bytecode.cpp)
# Usage: tools/run-fuzz.sh [SECONDS] [OUTDIR] [engine|bytecode]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
out=${2:-$root/build-fuzz}
target=${3:-engine}
case "$target" in engine|bytecode) ;; *) echo "unknown fuzz target '$target'" >&2; exit 64 ;; esac
mkdir -p "$out/corpus-$target" "$out/obj"
CXX=${FUZZ_CXX:-clang++}
CC=${FUZZ_CC:-clang}
flags=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
core_flags=(-std=gnu++20 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -nostdinc++
  -DKS_DISPATCH_GOTO -Wall -Wextra -Werror -Wno-unknown-warning-option)
objects=()
# Objects are rebuilt when any source or header is newer (headers change
# layouts that every object must agree on).
newest=$(ls -t "$root"/core/*/*.h "$root"/core/*/*.cpp "$root"/slab/* "$root"/include/*.h | head -n 1 || true)
for src in "$root"/core/*/*.cpp "$root"/slab/*.cpp; do
  rel=${src#$root/}
  obj="$out/obj/${rel//\//_}.o"
  if [ ! -f "$obj" ] || [ "$newest" -nt "$obj" ]; then
    "$CXX" "${flags[@]}" "${core_flags[@]}" -c "$src" -o "$obj"
  fi
  objects+=("$obj")
done
"$CC" "${flags[@]}" -c "$root/platform/user/platform.c" -o "$out/obj/platform.o"
"$CXX" "${flags[@]}" -fsanitize=fuzzer -std=gnu++20 -o "$out/fuzz_$target" \
  "$root/tests/fuzz/fuzz_$target.cpp" "${objects[@]}" "$out/obj/platform.o"
corpus="$out/corpus-$target"
if [ "$target" = engine ]; then
  cp "$root"/tests/scripts/*/*.k "$root"/tests/fuzz/regressions/*.k "$corpus/" 2>/dev/null || true
else
  # Each seed program unchanged, structurally (mode 0) and raw (mode 1),
  # plus the saved regressions.
  for seed in 0 1 2 3; do
    printf "\\x0$seed\\x00" > "$corpus/seed$seed-structural"
    printf "\\x0$seed\\x01" > "$corpus/seed$seed-raw"
  done
  cp "$root"/tests/fuzz/regressions/*.kfz "$corpus/" 2>/dev/null || true
fi
# -rss_limit_mb bounds memory; -timeout flags any input that runs too long.
"$out/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/$target-" 2>&1 | tail -25
