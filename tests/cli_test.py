#!/usr/bin/env python3
"""Tests of the kscript command line itself, which golden scripts cannot
reach (they always run `kscript COMMAND ARGS FILE`): --help, --version, the
exit status of each kind of failure, and the source line with a caret under
compile errors (--no-caret turns it off).

usage: cli_test.py KSCRIPT
Prints one line per failure and a closing line "N passed, N failed".
"""
import os
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) != 2:
        print("usage: cli_test.py KSCRIPT", file=sys.stderr)
        return 2
    kscript = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="ks-cli-")
    files = {
        "ok.k": 'System.p("hi")\n',
        "bad.k": 'int x = 1\nString s = x\n',
        "tabs.k": '\tint y = "no"\n',
        "throw.k": 'int[] a = [1]\nSystem.p(a[3])\n',
        # Columns count characters: the caret steps over each é as one.
        "utf8.k": 'String s = "\u00e9\u00e9";\tint x = "no"\n',
        # A long line is cut to a window that ends on whole characters.
        "long.k": 'String s = "' + "\u00e9" * 300 + '" + ;\n',
        # An uncaught exception's message is printed whole, NULs included.
        "longmsg.k": 'throw new Exception("x".repeat(600) + "END")\n',
        "nulmsg.k": 'throw new Exception("a" + String.fromCharCode(0) + "b")\n',
    }
    for name, text in files.items():
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
            f.write(text)
    p = lambda name: os.path.join(tmp, name)
    # (arguments, exit status, a text stdout must contain, a text stderr must contain, one stderr must not)
    cases = [
        (["--help"], 0, "usage: kscript run", "", None),
        (["-h"], 0, "exit status: 0 ok", "", None),
        (["run", "--help"], 0, "--no-caret", "", None),
        (["--version"], 0, "kscript 0.", "", None),
        ([], 64, "", "usage: kscript", None),
        (["frobnicate", p("ok.k")], 64, "", "usage: kscript", None),
        (["run", "--frob", p("ok.k")], 64, "", "unknown option '--frob'", None),
        (["run", p("missing.k")], 66, "", "cannot read", None),
        (["run", "--budget", "-5", p("ok.k")], 64, "", "--budget needs a positive number, not '-5'", "unknown option"),
        (["run", "--memory", "abc", p("ok.k")], 64, "", "--memory needs a positive number, not 'abc'", None),
        (["run", p("ok.k")], 0, "hi", "", None),
        (["run", p("bad.k")], 65, "", "bad.k:2:12: error: cannot use 'int' as 'String'\n  String s = x\n             ^\n", None),
        (["check", "--no-caret", p("bad.k")], 65, "", "error: cannot use 'int' as 'String'", "^"),
        (["check", p("tabs.k")], 65, "", "\tint y = \"no\"\n  \t        ^\n", None),
        (["run", p("throw.k")], 70, "", "uncaught OutOfBoundsException", None),
        (["check", p("utf8.k")], 65, "", ":1:26: error:", None),
        (["check", p("utf8.k")], 65, "", "\n  " + " " * 16 + "\t" + " " * 8 + "^\n", None),
        (["check", p("long.k")], 65, "", "\u00e9\u00e9\" + ;\n  " + " " * 120 + "^\n", None),
        (["compile", p("ok.k"), "-o", os.path.join(tmp, "nodir", "x.kbc")], 73, "", "cannot write", None),
        (["compile", p("ok.k"), "-o", p("ok.kbc")], 0, "", "", None),
        (["run", p("ok.kbc"), "an-argument"], 64, "", "takes no arguments", None),
        (["run", p("longmsg.k")], 70, "", "uncaught Exception: " + "x" * 600 + "END\n", None),
        (["run", p("nulmsg.k")], 70, "", "uncaught Exception: a\0b\n", None),
        # --stats times ks_load's two phases: compile or read, then verify.
        (["check", "--stats", p("ok.k")], 0, "", " us, verify ", "load: read"),
        (["check", "--stats", p("ok.kbc")], 0, "", "load: read ", "load: compile"),
    ]
    passed = failed = 0
    for args, status, out, err, not_err in cases:
        proc = subprocess.run([kscript] + args, capture_output=True, timeout=60)
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        problems = []
        if proc.returncode != status:
            problems.append("exit status %d, expected %d" % (proc.returncode, status))
        if out not in stdout:
            problems.append("stdout lacks %r: %r" % (out, stdout[:300]))
        if err not in stderr:
            problems.append("stderr lacks %r: %r" % (err, stderr[:300]))
        if not_err is not None and not_err in stderr:
            problems.append("stderr has %r: %r" % (not_err, stderr[:300]))
        if problems:
            failed += 1
            print("FAIL kscript %s" % " ".join(os.path.basename(a) for a in args))
            for x in problems:
                print("  " + x)
        else:
            passed += 1
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
