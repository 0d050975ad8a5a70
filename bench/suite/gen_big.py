#!/usr/bin/env python3
"""Writes the 10,000-line program of the compile-time benchmark in one language.

990 functions of ten lines each (arithmetic, a branch, a loop), then 100 lines
that sum up calls to them and print the sum: 10,000 lines. Lua functions are
global (a Lua function may have only 200 locals).
Running it takes microseconds; the time is reading and compiling it.
Usage: gen_big.py LANG > FILE, LANG one of k lua luajit py rb pl.
"""
import sys

FUNCS, PER_LINE = 990, 10


def body(lang, i):
    if lang == "k":
        return [f"int f{i}(int x) {{", f"  int a = x * 3 + {i}", "  int b = a % 7 + x",
                "  if (a > b) a = a - b", "  else b = b - a", "  int c = (a ^ b) & 255",
                "  while (c > 10) c = c / 2", "  int d = c << 2", "  return a + b + c + d", "}"]
    if lang in ("lua", "luajit"):
        xor, band, shl, div = (("bit.bxor(a, b)", "bit.band(%s, 255)", "bit.lshift(c, 2)", "math.floor(c / 2)")
                               if lang == "luajit" else ("(a ~ b)", "%s & 255", "c << 2", "c // 2"))
        return [f"function f{i}(x)", f"  local a = x * 3 + {i}", "  local b = a % 7 + x",
                "  if a > b then a = a - b", "  else b = b - a end", "  local c = " + band % xor,
                f"  while c > 10 do c = {div} end", f"  local d = {shl}", "  return a + b + c + d", "end"]
    if lang == "py":
        return [f"def f{i}(x):", f"    a = x * 3 + {i}", "    b = a % 7 + x", "    if a > b:",
                "        a = a - b", "    else: b = b - a", "    c = (a ^ b) & 255",
                "    while c > 10: c = c // 2", "    d = c << 2", "    return a + b + c + d"]
    if lang == "rb":
        return [f"def f{i}(x)", f"  a = x * 3 + {i}", "  b = a % 7 + x", "  if a > b then a = a - b",
                "  else b = b - a end", "  c = (a ^ b) & 255", "  c = c / 2 while c > 10",
                "  d = c << 2", "  a + b + c + d", "end"]
    if lang == "pl":
        return [f"sub f{i} {{", "  my $x = shift;", f"  my $p = $x * 3 + {i};", "  my $q = $p % 7 + $x;",
                "  if ($p > $q) { $p = $p - $q }", "  else { $q = $q - $p }", "  my $c = ($p ^ $q) & 255;",
                "  $c = int($c / 2) while $c > 10;", "  return $p + $q + $c + ($c << 2);", "}"]
    raise SystemExit(f"unknown language {lang}")


def main():
    lang = sys.argv[1]
    lines = []
    for i in range(FUNCS):
        lines += body(lang, i)
    first = {"k": "int sum = 0", "lua": "local sum = 0", "luajit": "local sum = 0", "py": "sum = 0",
             "rb": "sum = 0", "pl": "my $sum = 0;"}[lang]
    end = {"k": "System.p(sum)", "lua": "print(sum)", "luajit": "print(sum)", "py": "print(sum)",
           "rb": "puts sum", "pl": 'print "$sum\\n";'}[lang]
    semi = ";" if lang == "pl" else ""
    lines.append(first)
    for row in range(FUNCS // PER_LINE - 1):
        calls = " + ".join(f"f{row * PER_LINE + j}({row + j})" for j in range(PER_LINE))
        lines.append(f"sum = sum + {calls}{semi}".replace("sum", "$sum") if lang == "pl" else f"sum = sum + {calls}")
    lines.append(end)
    sys.stdout.write("\n".join(lines) + "\n")


main()
