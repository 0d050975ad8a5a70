#!/usr/bin/env python3
"""Golden script tests: runs every .k file under a folder through the kscript
CLI and checks its output against the expectations written in the file.

Expectations (comments in the script):
  // expect: TEXT                 the next line of standard output is TEXT
  // expect error: MESSAGE        a compile error on this line, whose message
                                  starts with MESSAGE (exit status 65)
  // expect warning: MESSAGE      a compile warning on this line
  // expect info: MESSAGE         an info diagnostic on this line (info lines
                                  not expected are allowed: `var` makes one)
  // expect runtime error: NAME   an uncaught exception NAME raised on this
                                  line (exit status 70)
  // args: ARGS                   extra arguments for `kscript run`
  // command: check|disasm        run another command instead of `run`
  // expect exit: N               the exit status (when none of the above says)
  // expect stderr: TEXT          the next line of standard error is TEXT, the
                                  script's path written FILE (the lines that
                                  hooks' exceptions print, which do not stop
                                  the script; or a compile error with the
                                  source line and caret the CLI prints under
                                  it). Warnings, with their source line and
                                  caret, are left out of the comparison.

A script without any expectation is an error of the test itself.
Prints one line per failure and a closing line "N passed, N failed".

With --bytecode (the round-trip test), each script that runs is first
compiled to a bytecode file (`kscript compile`), and the file is run with the
same arguments and checked against the same expectations. Scripts whose
expectations are about compiling (errors, warnings, the check and disasm
commands, compile diagnostics in transcript mode) are skipped: a bytecode
file has none.
"""
import os
import re
import subprocess
import sys
import tempfile

EXPECT = re.compile(r"//\s*expect:\s?(.*)$")
EXPECT_ERROR = re.compile(r"//\s*expect error:\s*(.*?)\s*$")
EXPECT_WARNING = re.compile(r"//\s*expect warning:\s*(.*?)\s*$")
EXPECT_INFO = re.compile(r"//\s*expect info:\s*(.*?)\s*$")
EXPECT_RUNTIME = re.compile(r"//\s*expect runtime error:\s*(\w+)\s*$")
ARGS = re.compile(r"//\s*args:\s*(.*?)\s*$")
COMMAND = re.compile(r"//\s*command:\s*(\w+)\s*$")
EXIT = re.compile(r"//\s*expect exit:\s*(\d+)\s*$")
EXPECT_STDERR = re.compile(r"//\s*expect stderr:\s?(.*)$")


def parse(path):
    spec = {"stdout": [], "errors": [], "warnings": [], "infos": [], "runtime": None, "args": [], "command": "run", "exit": None,
            "stderr": []}
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = EXPECT.search(line)
            if m:
                spec["stdout"].append(m.group(1))
            m = EXPECT_ERROR.search(line)
            if m:
                spec["errors"].append((number, m.group(1)))
            m = EXPECT_WARNING.search(line)
            if m:
                spec["warnings"].append((number, m.group(1)))
            m = EXPECT_INFO.search(line)
            if m:
                spec["infos"].append((number, m.group(1)))
            m = EXPECT_RUNTIME.search(line)
            if m:
                spec["runtime"] = (number, m.group(1))
            m = ARGS.search(line)
            if m:
                spec["args"] += m.group(1).split()
            m = COMMAND.search(line)
            if m:
                spec["command"] = m.group(1)
            m = EXIT.search(line)
            if m:
                spec["exit"] = int(m.group(1))
            m = EXPECT_STDERR.search(line)
            if m:
                spec["stderr"].append(m.group(1))
    return spec


def strip_diagnostics(lines, kinds):
    """Standard error without the diagnostics of [kinds] ("info",
    "warning"): each such line and the source line and caret that the CLI
    prints under it (two lines starting with two spaces)."""
    marks = [": %s: " % k for k in kinds]
    out = []
    skip = 0
    for x in lines:
        if skip and x.startswith("  "):
            skip -= 1
            continue
        skip = 0
        if any(m in x for m in marks):
            skip = 2
            continue
        out.append(x)
    return out


def compile_to_bytecode(kscript, spec, path, outdir):
    """Compiles [path] to a bytecode file; returns its path, or None when the
    script is not one for the round trip (it does not compile cleanly)."""
    if spec["command"] != "run" or spec["errors"] or spec["warnings"] or spec["infos"]:
        return None
    out = os.path.join(outdir, os.path.basename(path) + "bc")
    proc = subprocess.run([kscript, "compile"] + spec["args"] + [path, "-o", out], capture_output=True, timeout=60)
    diagnostics = strip_diagnostics(proc.stderr.decode("utf-8", errors="replace").splitlines(), ["info"])
    if proc.returncode != 0 or proc.stdout or diagnostics:
        return None
    return out


def check(kscript, path, rel, bytecode_dir=None):
    spec = parse(path)
    if not (spec["stdout"] or spec["errors"] or spec["warnings"] or spec["infos"] or spec["runtime"]
            or spec["exit"] is not None
            or spec["stderr"]):
        return ["test has no expectations"]
    if bytecode_dir is not None:
        path = compile_to_bytecode(kscript, spec, path, bytecode_dir)
        if path is None:
            return None
    cmd = [kscript, spec["command"]] + spec["args"] + [path]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return ["timed out after 60 s"]
    out = proc.stdout.decode("utf-8", errors="replace").splitlines()
    err = proc.stderr.decode("utf-8", errors="replace")
    problems = []
    if proc.returncode < 0:
        problems.append("killed by signal %d" % -proc.returncode)
    expected_exit = spec["exit"]
    if expected_exit is None:
        expected_exit = 65 if spec["errors"] else 70 if spec["runtime"] else 0
    if proc.returncode != expected_exit:
        problems.append("exit status %d, expected %d" % (proc.returncode, expected_exit))
    if not spec["errors"] and out != spec["stdout"]:
        problems.append("stdout differs:\n    expected: %r\n    actual:   %r" % (spec["stdout"], out))
    if spec["errors"]:
        reported = re.findall(r"^.*?:(\d+):(\d+): error: (.*)$", err, re.M)
        for line, message in spec["errors"]:
            if not any(int(l) == line and m.startswith(message) for l, _, m in reported):
                problems.append("missing compile error on line %d: %r\n    stderr: %s" % (line, message, err.strip()))
        expected_lines = {line for line, _ in spec["errors"]}
        for l, c, m in reported:
            if int(l) not in expected_lines:
                problems.append("unexpected compile error %s:%s: %s" % (l, c, m))
    warnings = re.findall(r"^.*?:(\d+):(\d+): warning: (.*)$", err, re.M)
    for line, message in spec["warnings"]:
        if not any(int(l) == line and m.startswith(message) for l, _, m in warnings):
            problems.append("missing warning on line %d: %r" % (line, message))
    expected_warning_lines = {line for line, _ in spec["warnings"]}
    for l, c, m in warnings:
        if int(l) not in expected_warning_lines:
            problems.append("unexpected warning %s:%s: %s" % (l, c, m))
    infos = re.findall(r"^.*?:(\d+):(\d+): info: (.*)$", err, re.M)
    for line, message in spec["infos"]:
        if not any(int(l) == line and m.startswith(message) for l, _, m in infos):
            problems.append("missing info on line %d: %r" % (line, message))
    err = "\n".join(strip_diagnostics(err.splitlines(), ["warning", "info"]))
    if spec["stderr"]:
        lines = [x.replace(path, "FILE") for x in err.splitlines()]
        if lines != spec["stderr"]:
            problems.append("stderr differs:\n    expected: %r\n    actual:   %r" % (spec["stderr"], lines))
    elif spec["runtime"]:
        line, name = spec["runtime"]
        if not re.search(r":%d: error: uncaught %s\b" % (line, name), err):
            problems.append("missing runtime error %s on line %d\n    stderr: %s" % (name, line, err.strip()))
    elif not spec["errors"] and err and expected_exit == 0 and "--stats" not in spec["args"] \
            and "--slabinfo" not in spec["args"]:
        problems.append("unexpected stderr: %s" % err.strip())
    return problems


def main():
    args = sys.argv[1:]
    bytecode = args[:1] == ["--bytecode"]
    if bytecode:
        args = args[1:]
    if len(args) != 2:
        print("usage: run_golden.py [--bytecode] KSCRIPT DIR", file=sys.stderr)
        return 2
    kscript, root = args
    bytecode_dir = tempfile.mkdtemp(prefix="ks-golden-") if bytecode else None
    files = []
    for dirpath, _, names in os.walk(root):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".k")]
    files.sort()
    passed = failed = skipped = 0
    for path in files:
        rel = os.path.relpath(path, root)
        problems = check(kscript, path, rel, bytecode_dir)
        if problems is None:
            skipped += 1
        elif problems:
            failed += 1
            print("FAIL %s" % rel)
            for p in problems:
                print("  " + p)
        else:
            passed += 1
    if bytecode_dir is not None:
        for name in os.listdir(bytecode_dir):
            os.unlink(os.path.join(bytecode_dir, name))
        os.rmdir(bytecode_dir)
    if bytecode:
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    else:
        print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
