#!/bin/bash
# The benchmark suite: seven programs, each in kscript and in every peer
# installed (Lua 5.4, LuaJIT with and without its JIT, mruby, Python 3, Ruby,
# Perl, and C -O2 as the floor), run in one session. Every output is checked
# against kscript's checksum. Prints the median time (ms) of KS_BENCH_RUNS runs,
# kscript's ratio to Lua 5.4 and to `luajit -joff`, each peer's geometric mean
# ratio to Lua 5.4, then startup time (a one-line program) and the time to load
# and run a generated 10,000-line program (gen_big.py), and for kscript the
# same program from a bytecode file.
#
# Usage: bench/suite/run.sh [OUTDIR]   (KSCRIPT=path to the CLI, default build/kscript)
# Peers install on Debian 12 with: apt-get install lua5.4 luajit mruby ruby python3 perl
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/bench/suite"
out=${1:-$root/build-bench-suite}
runs=${KS_BENCH_RUNS:-3}
kscript=${KSCRIPT:-$root/build/kscript}
mkdir -p "$out"
[ -x "$kscript" ] || { echo "no kscript CLI at $kscript (build it, or set KSCRIPT)" >&2; exit 2; }

# name|command|source extension ("c" compiles NAME.c with gcc -O2)
all_peers=("kscript|$kscript run --budget 1000000000000|k"
           "lua5.4|lua5.4|lua"
           "luajit|luajit|luajit.lua"
           "luajit-joff|luajit -joff|luajit.lua"
           "mruby|mruby|rb"
           "python3|/usr/bin/python3|py"
           "ruby|ruby|rb"
           "perl|perl|pl"
           "C -O2|c|c")
peers=()
for p in "${all_peers[@]}"; do
  IFS='|' read -r name cmd ext <<< "$p"
  if [ "$cmd" = c ] || command -v "${cmd%% *}" > /dev/null; then peers+=("$p"); else echo "($name is not installed: left out)"; fi
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Runs a command, output to $out/last.out; prints the elapsed microseconds.
us() { local s e; s=$(date +%s%N); "$@" > "$out/last.out" 2>&1 || return 1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
# The source of benchmark $1 for a peer with extension $2 (a LuaJIT version
# exists where a program needs Lua 5.3 operators).
source_for() {
  local b=$1 ext=$2
  if [ "$ext" = luajit.lua ]; then
    [ -f "$dir/$b.luajit.lua" ] && { echo "$dir/$b.luajit.lua"; return; }
    ext=lua
  fi
  [ -f "$dir/$b.$ext" ] && echo "$dir/$b.$ext"
}
command_for() {  # sets run=(...) for benchmark file $1 and peer command $2; false if none
  local file=$1 cmd=$2
  if [ "$cmd" = c ]; then
    gcc -O2 -o "$out/$(basename "$file").bin" "$file" || return 1
    run=("$out/$(basename "$file").bin")
  else
    read -ra run <<< "$cmd"; run+=("$file")
  fi
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "versions: kscript $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(lua5.4 -v 2>&1 | head -1 | cut -d' ' -f1-2),\
 $(luajit -v 2>/dev/null | cut -d' ' -f1-2), $(mruby --version 2>/dev/null | cut -d' ' -f1-2),\
 Python $(/usr/bin/python3 --version 2>&1 | cut -d' ' -f2), $(ruby --version 2>/dev/null | cut -d' ' -f1-2),\
 perl $(perl -e 'print $^V'), $(gcc --version | head -1)"
echo "median of $runs runs, ms"
printf "%-9s" benchmark
for p in "${peers[@]}"; do printf " %11s" "${p%%|*}"; done
printf "  %s\n" "kscript/lua kscript/joff"

status=0
declare -A ratio_sum ratio_n
for b in fib loop sieve strings map trees methods; do
  expect=$($kscript run --budget 1000000000000 "$dir/$b.k")
  printf "%-9s" "$b"
  declare -A t=()
  for p in "${peers[@]}"; do
    IFS='|' read -r name cmd ext <<< "$p"
    file=$(source_for "$b" "$ext")
    if [ -z "$file" ] || ! command_for "$file" "$cmd"; then printf " %11s" "-"; continue; fi
    times=()
    for _ in $(seq "$runs"); do times+=("$(us "${run[@]}")"); done
    if [ "$(cat "$out/last.out")" != "$expect" ]; then printf " %11s" "WRONG"; status=1; continue; fi
    t[$name]=$(printf "%s\n" "${times[@]}" | median)
    printf " %11s" "$(( t[$name] / 1000 ))"
  done
  for p in "${peers[@]}"; do
    name=${p%%|*}
    [ -n "${t[$name]:-}" ] && [ -n "${t[lua5.4]:-}" ] || continue
    ratio_sum[$name]=$(awk -v s="${ratio_sum[$name]:-0}" -v a="${t[$name]}" -v b="${t[lua5.4]}" 'BEGIN {print s + log(a / b)}')
    ratio_n[$name]=$(( ${ratio_n[$name]:-0} + 1 ))
  done
  awk -v a="${t[kscript]:-0}" -v b="${t[lua5.4]:-0}" -v j="${t[luajit-joff]:-0}" \
    'BEGIN {printf "  %11s %12s\n", b ? sprintf("%.2f", a / b) : "-", j ? sprintf("%.2f", a / j) : "-"}'
done
printf "%-9s" "geomean"
for p in "${peers[@]}"; do
  name=${p%%|*}
  if [ -n "${ratio_n[$name]:-}" ]; then
    awk -v s="${ratio_sum[$name]}" -v n="${ratio_n[$name]}" 'BEGIN {printf " %11.2f", exp(s / n)}'
  else printf " %11s" "-"; fi
done
printf "  (ratio to lua5.4 over the benchmarks each has)\n"

# Startup: a program that prints one number; 20 runs per measure, so the
# figure (ms per run, one decimal) is finer than the clock of one run.
# Load: the generated 10,000-line program, median of $runs runs.
declare -A one=([k]="System.p(1)" [lua]="print(1)" [luajit.lua]="print(1)" [rb]="puts 1" [py]="print(1)" [pl]='print "1\n";' [c]='int puts(const char *); int main(void) { puts("1"); return 0; }')
declare -A gen=([k]=k [lua]=lua [luajit.lua]=luajit [rb]=rb [py]=py [pl]=pl)
printf "%-9s" startup
startup_line=""
for p in "${peers[@]}"; do
  IFS='|' read -r name cmd ext <<< "$p"
  file="$out/one.${ext}"; printf "%s\n" "${one[$ext]}" > "$file"
  command_for "$file" "$cmd" || { printf " %11s" "-"; continue; }
  times=()
  for _ in 1 2 3; do
    s=$(date +%s%N); for _ in $(seq 20); do "${run[@]}" > "$out/last.out" 2>&1; done; e=$(date +%s%N)
    times+=("$(( (e - s) / 20000 ))")
  done
  [ "$(cat "$out/last.out")" = 1 ] || { printf " %11s" "WRONG"; status=1; continue; }
  v=$(printf "%s\n" "${times[@]}" | median)
  printf " %11s" "$(awk -v v="$v" 'BEGIN {printf "%.1f", v / 1000}')"
done
printf "  (ms per run)\n%-9s" "10k lines"
big_expect=""
for p in "${peers[@]}"; do
  IFS='|' read -r name cmd ext <<< "$p"
  [ -n "${gen[$ext]:-}" ] || { printf " %11s" "-"; continue; }
  file="$out/big.${ext}"; python3 "$dir/gen_big.py" "${gen[$ext]}" > "$file"
  command_for "$file" "$cmd"
  times=()
  for _ in $(seq "$runs"); do times+=("$(us "${run[@]}")"); done
  got=$(cat "$out/last.out"); [ -n "$big_expect" ] || big_expect=$got
  [ "$got" = "$big_expect" ] || { printf " %11s" "WRONG"; status=1; continue; }
  printf " %11s" "$(awk -v v="$(printf "%s\n" "${times[@]}" | median)" 'BEGIN {printf "%.1f", v / 1000}')"
done
printf "  (ms to load and run)\n"
# kscript's 10,000-line program from a bytecode file (kscript compile):
# read and verified instead of compiled.
if "$kscript" compile "$out/big.k" -o "$out/big.kbc" > /dev/null 2>&1; then
  times=()
  for _ in $(seq "$runs"); do times+=("$(us "$kscript" run "$out/big.kbc")"); done
  if [ "$(cat "$out/last.out")" = "$big_expect" ]; then
    printf "%-9s %11s  (ms for kscript to load the .kbc and run it)\n" "10k .kbc" \
      "$(awk -v v="$(printf "%s\n" "${times[@]}" | median)" 'BEGIN {printf "%.1f", v / 1000}')"
  else
    printf "%-9s %11s\n" "10k .kbc" "WRONG"; status=1
  fi
  # Without running: compiling the source (which verifies the code too)
  # against reading and verifying the .kbc, each less the time of checking
  # a one-line script (process start and exit, the same for both). The
  # second is an upper bound of the verification alone, so its ratio to the
  # first bounds verify/compile (the target: at most 0.1), and the inverse
  # is how much faster a .kbc loads than source compiles (at least 5).
  printf "System.p(1)\n" > "$out/tiny.k"
  base_times=(); src_times=(); kbc_times=()
  for _ in $(seq "$runs"); do
    base_times+=("$(us "$kscript" check "$out/tiny.k")")
    src_times+=("$(us "$kscript" check "$out/big.k")")
    kbc_times+=("$(us "$kscript" check "$out/big.kbc")")
  done
  base=$(printf "%s\n" "${base_times[@]}" | median)
  src=$(( $(printf "%s\n" "${src_times[@]}" | median) - base ))
  kbc=$(( $(printf "%s\n" "${kbc_times[@]}" | median) - base ))
  [ "$kbc" -gt 0 ] || kbc=1
  printf "%-9s %11s  (ms to compile and verify the source, process start excluded)\n" "10k check" \
    "$(awk -v v="$src" 'BEGIN {printf "%.1f", v / 1000}')"
  printf "%-9s %11s  (ms to read and verify the .kbc: %s of compiling, %sx faster)\n" \
    ".kbc check" "$(awk -v v="$kbc" 'BEGIN {printf "%.1f", v / 1000}')" \
    "$(awk -v a="$kbc" -v b="$src" 'BEGIN {printf "%.3f", a / b}')" \
    "$(awk -v a="$kbc" -v b="$src" 'BEGIN {printf "%.1f", b / a}')"
  # The phases inside one process (`check --stats` prints the engine's own
  # clock of each): compiling the source, and verifying the .kbc's code
  # alone (reading it excluded), medians of $runs runs each.
  compile_us=(); verify_us=()
  for _ in $(seq "$runs"); do
    compile_us+=("$("$kscript" check --stats "$out/big.k" 2>&1 | sed -n 's/^load: compile \([0-9]*\) us.*/\1/p')")
    verify_us+=("$("$kscript" check --stats "$out/big.kbc" 2>&1 | sed -n 's/^load: read [0-9]* us, verify \([0-9]*\) us/\1/p')")
  done
  c=$(printf "%s\n" "${compile_us[@]}" | median); v=$(printf "%s\n" "${verify_us[@]}" | median)
  printf "%-9s %11s  (ms to verify the .kbc's code alone, in process: %s of compiling's %s ms)\n" \
    "10k verify" "$(awk -v v="$v" 'BEGIN {printf "%.1f", v / 1000}')" \
    "$(awk -v a="$v" -v b="$c" 'BEGIN {printf "%.3f", a / b}')" "$(awk -v v="$c" 'BEGIN {printf "%.1f", v / 1000}')"
fi
exit $status
