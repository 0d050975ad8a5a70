#!/usr/bin/env python3
"""Golden script tests: runs every .k file under a folder through the kscript
CLI and checks its output against the expectations written in the file.

Expectations (comments in the script):
  // expect: TEXT                 the next line of standard output is TEXT
  // expect error: MESSAGE        a compile error on this line, whose message
                                  starts with MESSAGE (exit status 65)
  // expect warning: MESSAGE      a compile warning on this line
  // expect runtime error: NAME   an uncaught exception NAME raised on this
                                  line (exit status 70)
  // args: ARGS                   extra arguments for `kscript run`
  // command: check|disasm        run another command instead of `run`
  // expect exit: N               the exit status (when none of the above says)
  // expect stderr: TEXT          the next line of standard error is TEXT, the
                                  script's path written FILE (the lines that
                                  hooks' exceptions print, which do not stop
                                  the script)

A script without any expectation is an error of the test itself.
Prints one line per failure and a closing line "N passed, N failed".
"""
import os
import re
import subprocess
import sys

EXPECT = re.compile(r"//\s*expect:\s?(.*)$")
EXPECT_ERROR = re.compile(r"//\s*expect error:\s*(.*?)\s*$")
EXPECT_WARNING = re.compile(r"//\s*expect warning:\s*(.*?)\s*$")
EXPECT_RUNTIME = re.compile(r"//\s*expect runtime error:\s*(\w+)\s*$")
ARGS = re.compile(r"//\s*args:\s*(.*?)\s*$")
COMMAND = re.compile(r"//\s*command:\s*(\w+)\s*$")
EXIT = re.compile(r"//\s*expect exit:\s*(\d+)\s*$")
EXPECT_STDERR = re.compile(r"//\s*expect stderr:\s?(.*)$")


def parse(path):
    spec = {"stdout": [], "errors": [], "warnings": [], "runtime": None, "args": [], "command": "run", "exit": None,
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


def check(kscript, path, rel):
    spec = parse(path)
    if not (spec["stdout"] or spec["errors"] or spec["warnings"] or spec["runtime"] or spec["exit"] is not None
            or spec["stderr"]):
        return ["test has no expectations"]
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
    err = "\n".join(x for x in err.splitlines() if ": warning: " not in x)
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
    if len(sys.argv) != 3:
        print("usage: run_golden.py KSCRIPT DIR", file=sys.stderr)
        return 2
    kscript, root = sys.argv[1], sys.argv[2]
    files = []
    for dirpath, _, names in os.walk(root):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".k")]
    files.sort()
    passed = failed = 0
    for path in files:
        rel = os.path.relpath(path, root)
        problems = check(kscript, path, rel)
        if problems:
            failed += 1
            print("FAIL %s" % rel)
            for p in problems:
                print("  " + p)
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
