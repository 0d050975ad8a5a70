#!/usr/bin/env python3
"""Generate core/api/ReservedNames.h: the names under /dev that kernel drivers
create with fixed names, so that scripts cannot take them (a script that took
/dev/uinput before uinput.ko was loaded made `insmod uinput.ko` fail).

Usage: tools/gen-reserved-names.py [-o OUT] [-v] KERNEL_SRC_DIR...

Each KERNEL_SRC_DIR is an extracted Linux source tree; only its *.c and *.h
files, its Makefiles/Kbuild files (to know the module name that
KBUILD_MODNAME stands for) and drivers/android/Kconfig are read, e.g.:

    apt-get install -y linux-source-6.1 linux-source-6.12
    mkdir -p /tmp/ksrc-6.1 && tar -xJf /usr/src/linux-source-6.1.tar.xz \\
        -C /tmp/ksrc-6.1 --strip-components=1 --wildcards \\
        '*.c' '*.h' '*/Makefile' '*/Kbuild' '*/Kconfig'
    (same for 6.12)
    tools/gen-reserved-names.py /tmp/ksrc-6.1 /tmp/ksrc-6.12

Where the names come from:
  misc     struct miscdevice: `.name` and `.nodename` in its initializers
           (also arrays of them and miscdevices nested in other initializers),
           and `x.name = ...` / `x->nodename = ...` assignments to a
           variable or member declared as a struct miscdevice. The misc
           device's name matters even when its node is elsewhere (tun:
           "tun", node "net/tun"): a script's device is a misc device too, and
           two misc devices of one name collide in /sys/class/misc.
  alias    MODULE_ALIAS("devname:...") (the modules that also say
           MODULE_ALIAS_MISCDEV are found through their miscdevice).
  create   device_create()/device_create_with_groups() with a fixed name and a
           device number (tty, console, ptmx, vcs, ... and drivers/char/mem.c's
           table: mem, null, zero, ...).
  devnode  .devnode callbacks that return kasprintf()/kstrdup() of a fixed
           path ("cpu/%u/msr" -> "cpu", "snd/%s" -> "snd").
  tty      tty drivers with TTY_DRIVER_UNNUMBERED_NODE (ttyprintk, ttynull).
  config   names that come from elsewhere than the driver's code: binder's
           CONFIG_ANDROID_BINDER_DEVICES default (drivers/android/Kconfig),
           the EC names cros_ec_chardev uses (CROS_EC_DEV_*_NAME), and names
           passed to helpers that register the misc device
           (hvutil_transport_init: "vmbus/hv_kvp", ...).

A name with a '/' gives its first component (a script device of that name
would shadow the directory: "net/tun" -> "net", "mapper/control" ->
"mapper"); a name (or first component) with a printf conversion is skipped.
Values may be string literals, their concatenation, macros that expand to
them (looked up in the file, then in the headers it includes, then anywhere
in the tree when all definitions agree) and KBUILD_MODNAME.

The header is written only if the names include EXPECTED below (names
that any Linux version has; a miss means the scan broke).

Standard library only.
"""

import argparse
import os
import re
import sys
from collections import defaultdict

EXPECTED = """uinput uhid fuse cuse loop-control btrfs-control autofs kvm vhost-net vhost-vsock
userfaultfd hpet psaux rfkill snapshot nvram watchdog mcelog vga_arbiter udmabuf null zero random
urandom kmsg mem tty console ptmx net mapper cpu vfio""".split()

SKIP_TOP_DIRS = {"tools", "Documentation", "scripts", "samples", "usr", ".git"}

COMMENT_OR_LITERAL = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
DEFINE = re.compile(r'^[ \t]*#[ \t]*define[ \t]+(\w+)(?![\w(])[ \t]*([^\n]*)$', re.M)
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
TOKEN = re.compile(r'\s+|"(?:\\.|[^"\\\n])*"|[A-Za-z_]\w*|[()]|.', re.S)
FORMAT_SPEC = re.compile(r'%')
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def strip_comments(text):
    """Comments out, string and character literals kept, line numbers kept."""
    def repl(m):
        s = m.group(0)
        if s.startswith("/"):
            return "\n" * s.count("\n") or " "
        return s
    return COMMENT_OR_LITERAL.sub(repl, text)


def unescape(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching(text, pos, open_c, close_c):
    """Index just past the bracket that closes text[pos] (== open_c)."""
    depth = 0
    i = pos
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def split_top(text, seps=","):
    """Split at separators outside brackets and literals."""
    parts, depth, start, i, n = [], 0, 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in seps and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def expression_at(text, pos):
    """The expression starting at pos, up to a top-level ',', ';' or closing bracket."""
    depth, i, n = 0, pos, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c in ",;" and depth == 0:
            break
        i += 1
    return text[pos:i]


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


class Tree:
    def __init__(self, root, verbose):
        self.root = os.path.abspath(root)
        self.verbose = verbose
        self.version = self.read_version()
        self.sources = []            # relative paths of .c/.h files
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            if rel == ".":
                dirnames[:] = [d for d in dirnames if d not in SKIP_TOP_DIRS]
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith((".c", ".h")):
                    self.sources.append(os.path.normpath(os.path.join(rel, f)))
        self.source_set = set(self.sources)
        self._text = {}
        self._defines = {}
        self._includes = {}
        self._global = None
        self._makefiles = {}
        self.unresolved = []         # (file, line, what, expression)
        self.global_hits = []        # (file, macro, value)

    def read_version(self):
        try:
            with open(os.path.join(self.root, "Makefile"), encoding="latin-1") as f:
                head = f.read(2000)
        except OSError:
            return os.path.basename(self.root.rstrip("/"))
        v = {}
        for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"):
            m = re.search(r"^%s[ \t]*=[ \t]*(\S*)" % key, head, re.M)
            v[key] = m.group(1) if m else ""
        return "%s.%s.%s%s" % (v["VERSION"], v["PATCHLEVEL"], v["SUBLEVEL"], v["EXTRAVERSION"])

    # --- files -------------------------------------------------------------

    def text(self, rel):
        t = self._text.get(rel)
        if t is None:
            try:
                with open(os.path.join(self.root, rel), encoding="latin-1") as f:
                    t = strip_comments(f.read())
            except OSError:
                t = ""
            self._text[rel] = t
        return t

    def forget(self, rel):
        """Drop a source file's text once scanned (headers stay cached)."""
        if rel.endswith(".c"):
            self._text.pop(rel, None)
            self._defines.pop(rel, None)

    def array_values(self, rel, expr):
        """For `names[i]`, the literals of a `char *names[] = { ... }` in the file."""
        m = re.match(r"\s*(\w+)\s*\[[^\]]*\]\s*$", expr)
        if not m:
            return []
        d = re.search(r"\bchar\s*\*\s*(?:const\s+)?%s\s*\[[^\]]*\]\s*=\s*\{([^}]*)\}" % re.escape(m.group(1)),
                      self.text(rel))
        if not d:
            return []
        vals = [self.evaluate(rel, p) for p in split_top(d.group(1)) if p.strip()]
        return [v for v in vals if v is not None]

    def raw(self, rel):
        with open(os.path.join(self.root, rel), encoding="latin-1") as f:
            return f.read()

    def defines(self, rel):
        d = self._defines.get(rel)
        if d is None:
            d = {}
            joined = self.text(rel).replace("\\\n", " ")
            for m in DEFINE.finditer(joined):
                d.setdefault(m.group(1), m.group(2).strip())
            self._defines[rel] = d
        return d

    def arch_of(self, rel):
        parts = rel.split(os.sep)
        return parts[1] if parts[0] == "arch" and len(parts) > 1 else "x86"

    def includes(self, rel):
        inc = self._includes.get(rel)
        if inc is None:
            inc = []
            here = os.path.dirname(rel)
            arch = self.arch_of(rel)
            for m in INCLUDE.finditer(self.text(rel)):
                name = m.group(2).strip()
                cands = []
                if m.group(1) == '"':
                    cands.append(os.path.normpath(os.path.join(here, name)))
                for base in ("include", "include/uapi", "arch/%s/include" % arch,
                             "arch/%s/include/uapi" % arch):
                    cands.append(os.path.normpath(os.path.join(base, name)))
                for c in cands:
                    if c in self.source_set:
                        inc.append(c)
                        break
            self._includes[rel] = inc
        return inc

    def include_closure(self, rel, depth=3):
        seen, order, frontier = {rel}, [rel], [rel]
        for _ in range(depth):
            nxt = []
            for f in frontier:
                for h in self.includes(f):
                    if h not in seen:
                        seen.add(h)
                        order.append(h)
                        nxt.append(h)
            frontier = nxt
        return order

    def global_defines(self):
        """Macro -> set of values, for macros defined with a string literal."""
        if self._global is None:
            if self.verbose:
                print("  %s: indexing string macros of the whole tree" % self.version, file=sys.stderr)
            g = defaultdict(set)
            pat = re.compile(r'^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+("[^\n]*)$', re.M)
            for rel in self.sources:
                try:
                    with open(os.path.join(self.root, rel), encoding="latin-1") as f:
                        t = f.read()
                except OSError:
                    continue
                if '"' not in t:
                    continue
                for m in pat.finditer(t):
                    v = re.sub(r"\s*(/\*.*?\*/|//.*)$", "", m.group(2)).strip()
                    g[m.group(1)].add(v)
            self._global = g
        return self._global

    # --- KBUILD_MODNAME ----------------------------------------------------

    def makefile_objects(self, d):
        """Composite module name -> list of object paths, for the Makefile in d."""
        r = self._makefiles.get(d)
        if r is None:
            r = {}
            for name in ("Makefile", "Kbuild"):
                p = os.path.join(self.root, d, name)
                if not os.path.exists(p):
                    continue
                with open(p, encoding="latin-1") as f:
                    t = f.read().replace("\\\n", " ")
                for m in re.finditer(r"^\s*([\w-]+)-(?:y|objs|m|\$\([^)]*\))\s*[:+]?=\s*([^\n]*)$", t, re.M):
                    if m.group(1) in ("obj", "lib", "ccflags", "asflags", "ldflags", "subdir", "always",
                                      "extra", "targets", "hostprogs", "userprogs"):
                        continue
                    r.setdefault(m.group(1), []).extend(m.group(2).split())
            self._makefiles[d] = r
        return r

    def modname(self, rel):
        base = os.path.splitext(os.path.basename(rel))[0]
        d = os.path.dirname(rel)
        sub = base + ".o"
        for _ in range(4):
            for mod, objs in self.makefile_objects(d).items():
                if sub in objs and mod != base:
                    return mod.replace("-", "_")
            if not d or d == ".":
                break
            sub = os.path.join(os.path.basename(d), sub)
            d = os.path.dirname(d)
        return base.replace("-", "_")

    # --- values ------------------------------------------------------------

    def lookup(self, rel, name):
        """A macro's definition, or the initializer of a constant string variable."""
        closure = self.include_closure(rel)
        for f in closure:
            v = self.defines(f).get(name)
            if v is not None:
                return v
        var = re.compile(r"\bchar\s+(?:\*\s*(?:const\s+)?)?%s\s*(?:\[[^\]]*\])?\s*(?:__\w+\s*)*=\s*(\"[^;]*);"
                         % re.escape(name))
        for f in closure:
            m = var.search(self.text(f))
            if m:
                return m.group(1)
        vals = self.global_defines().get(name)
        if vals and len(vals) == 1:
            v = next(iter(vals))
            self.global_hits.append((rel, name, v))
            return v
        return None

    def evaluate(self, rel, expr, depth=0):
        """The string a C expression of literals and macros stands for, or None."""
        if depth > 8:
            return None
        out = []
        for m in TOKEN.finditer(expr):
            tok = m.group(0)
            if tok.isspace() or tok in "()":
                continue
            if tok.startswith('"'):
                out.append(unescape(tok[1:-1]))
            elif re.match(r"[A-Za-z_]\w*$", tok):
                if tok == "KBUILD_MODNAME":
                    out.append(self.modname(rel))
                    continue
                v = self.lookup(rel, tok)
                if v is None or v == "":
                    return None
                s = self.evaluate(rel, v, depth + 1)
                if s is None:
                    return None
                out.append(s)
            else:
                return None
        if not out:
            return None
        return "".join(out)


class Collector:
    def __init__(self):
        self.names = defaultdict(set)     # name -> {(version, kind, file:line, raw)}

    def add(self, tree, rel, text, pos, kind, value):
        if value is None:
            return
        first = value.lstrip("/").split("/")[0]
        if not first or FORMAT_SPEC.search(first):
            return
        self.names[first].add((tree.version, kind, "%s:%d" % (rel, line_of(text, pos)), value))


MISC_DECL = re.compile(r"\bstruct\s+miscdevice\b([^;={}()]*)(?=[;=)])")
MISC_INIT = re.compile(r"\bstruct\s+miscdevice\s+[^;=(){}]*=\s*\{|\(\s*struct\s+miscdevice\s*\)\s*\{")


def misc_identifiers(tree, rel):
    ids = set()
    files = [rel] + [h for h in tree.includes(rel) if os.path.dirname(h) == os.path.dirname(rel)]
    for f in files:
        text = tree.text(f)
        if "miscdevice" not in text:
            continue
        for m in MISC_DECL.finditer(text):
            for decl in m.group(1).split(","):
                mm = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", decl)
                if mm and mm.group(1) not in ("const", "__initdata", "__read_mostly"):
                    ids.add(mm.group(1))
    return ids


MISC_FIELDS = ["minor", "name", "fops", "list", "parent", "this_device", "groups", "nodename", "mode"]


def split_top_pos(text):
    """split_top() with the offset of each part."""
    out, off = [], 0
    for part in split_top(text):
        out.append((off, part))
        off += len(part) + 1
    return out


def misc_value(tree, rel, text, pos, field, expr, col):
    val = tree.evaluate(rel, expr)
    if val is None:
        for v in tree.array_values(rel, expr):
            col.add(tree, rel, text, pos, "misc", v)
            val = v
    if val is None and '"' in expr:
        tree.unresolved.append((rel, line_of(text, pos), "misc." + field, " ".join(expr.split())))
    col.add(tree, rel, text, pos, "misc", val)


def scan_misc_body(tree, rel, text, start, end, col):
    """A miscdevice initializer (or an array of them) in text[start:end], inside the braces."""
    body = text[start:end]
    stripped = body.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):    # array of miscdevices
        for off, part in split_top_pos(body):
            m = re.match(r"\s*(?:\[[^\]]*\]\s*=\s*)?\{", part)
            if m:
                b = start + off + m.end() - 1
                scan_misc_body(tree, rel, text, b + 1, matching(text, b, "{", "}") - 1, col)
        return
    index = 0                                  # the field a positional value goes to
    for off, part in split_top_pos(body):
        if not part.strip():
            continue
        m = re.match(r"\s*\.\s*(\w+)\s*=\s*", part)
        if m:
            field = m.group(1)
            index = MISC_FIELDS.index(field) + 1 if field in MISC_FIELDS else len(MISC_FIELDS)
            expr = part[m.end():]
        else:
            field = MISC_FIELDS[index] if index < len(MISC_FIELDS) else "?"
            index += 1
            expr = part
        if field in ("name", "nodename"):
            misc_value(tree, rel, text, start + off, field, expr, col)


def scan_misc(tree, rel, col):
    text = tree.text(rel)
    ids = misc_identifiers(tree, rel)
    if "miscdevice" not in text and not ids:
        return
    # struct miscdevice x = { ... }, struct miscdevice x[] = { ... }, (struct miscdevice) { ... }
    for m in MISC_INIT.finditer(text):
        b = m.end() - 1
        e = matching(text, b, "{", "}")
        scan_misc_body(tree, rel, text, b + 1, e - 1, col)
    if not ids:
        return
    alt = "|".join(sorted(map(re.escape, ids)))
    # Miscdevices nested in another initializer: .misc = { .name = ... }
    for m in re.finditer(r"\.\s*(?:%s)\s*=\s*\{" % alt, text):
        b = m.end() - 1
        e = matching(text, b, "{", "}")
        scan_misc_body(tree, rel, text, b + 1, e - 1, col)
    # Assignments and designators: misc.name = ..., dev->misc.nodename = ..., .misc.name = ...
    for m in re.finditer(r"\b(?:%s)\s*(?:\.|->)\s*(name|nodename)\s*=(?!=)\s*" % alt, text):
        misc_value(tree, rel, text, m.start(), m.group(1), expression_at(text, m.end()), col)


# Names that reach a miscdevice through a helper's argument: (function, argument index).
MISC_HELPERS = [("hvutil_transport_init", 0)]      # drivers/hv: "vmbus/hv_kvp", "vmbus/hv_vss", ...


def scan_misc_helpers(tree, rel, col):
    text = tree.text(rel)
    for fn, idx in MISC_HELPERS:
        if fn not in text:
            continue
        for m in re.finditer(r"\b%s\s*\(" % fn, text):
            b = m.end() - 1
            args = split_top(text[b + 1:matching(text, b, "(", ")") - 1])
            if len(args) > idx and not re.search(r"\bconst\s+char\s*\*", args[idx]):   # not the definition
                misc_value(tree, rel, text, m.start(), "name", args[idx], col)


def scan_special(tree, col):
    """Names that come from configuration or tables rather than from the driver's code."""
    # binder: misc devices named by CONFIG_ANDROID_BINDER_DEVICES (Debian: "binder"; default
    # "binder,hwbinder,vndbinder"), when binderfs is not used.
    rel = os.path.join("drivers", "android", "Kconfig")
    try:
        kconfig = tree.raw(rel)
    except OSError:
        print("  %s: no %s (extract the Kconfig files): binder's names are missing" % (tree.version, rel),
              file=sys.stderr)
    else:
        m = re.search(r"config ANDROID_BINDER_DEVICES\b.*?\bdefault\s+\"([^\"]*)\"", kconfig, re.S)
        if m:
            for name in m.group(1).split(","):
                col.add(tree, rel, kconfig, m.start(1), "config", name.strip())
    # cros_ec_chardev: the misc device is named after the EC (cros_ec, cros_fp, cros_pd, ...).
    rel = os.path.join("include", "linux", "platform_data", "cros_ec_proto.h")
    if rel in tree.source_set:
        text = tree.text(rel)
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(CROS_EC_DEV_\w*NAME)[ \t]+(\"[^\n]*)$", text, re.M):
            col.add(tree, rel, text, m.start(), "misc", tree.evaluate(rel, m.group(2)))


def scan_aliases(tree, rel, col):
    text = tree.text(rel)
    if "MODULE_ALIAS" not in text:
        return
    for m in re.finditer(r"\bMODULE_ALIAS\s*\(", text):
        b = m.end() - 1
        e = matching(text, b, "(", ")")
        expr = text[b + 1:e - 1]
        if "devname" not in expr:
            continue
        val = tree.evaluate(rel, expr)
        if val is None:
            tree.unresolved.append((rel, line_of(text, m.start()), "alias", expr.strip()))
            continue
        if val.startswith("devname:"):
            col.add(tree, rel, text, m.start(), "alias", val[len("devname:"):])


NO_DEVT = re.compile(r"^\s*(0|MKDEV\s*\(\s*0\s*,\s*0\s*\))\s*$")


def scan_device_create(tree, rel, col, nested):
    """device_create() with a fixed name; not when the file's class puts its
    nodes in a directory through a .devnode callback (nested: vduse's
    "control" is /dev/vduse/control)."""
    text = tree.text(rel)
    if "device_create" not in text or nested:
        return
    for m in re.finditer(r"\bdevice_create(_with_groups)?\s*\(", text):
        b = m.end() - 1
        e = matching(text, b, "(", ")")
        args = split_top(text[b + 1:e - 1])
        fmt_index = 5 if m.group(1) else 4
        if len(args) <= fmt_index or NO_DEVT.match(args[2]):
            continue
        col.add(tree, rel, text, m.start(), "create", tree.evaluate(rel, args[fmt_index]))


def scan_mem_devlist(tree, rel, col):
    """drivers/char/mem.c: devlist[] = { [1] = { "mem", ... }, ... }."""
    text = tree.text(rel)
    m = re.search(r"\bdevlist\s*\[\s*\]\s*=\s*\{", text)
    if not m:
        return
    e = matching(text, m.end() - 1, "{", "}")
    for mm in re.finditer(r"\{\s*(\"[^\"]*\"|\w+)\s*,", text[m.end():e]):
        col.add(tree, rel, text, m.end() + mm.start(), "create", tree.evaluate(rel, mm.group(1)))


def scan_devnode(tree, rel, col):
    """Returns whether a callback gives a path with a directory."""
    text = tree.text(rel)
    nested = False
    if "devnode" not in text:
        return nested
    funcs = set(re.findall(r"(?:\.|->)\s*devnode\s*=\s*(\w+)\s*[,;}]", text))
    for fn in funcs:
        for m in re.finditer(r"\bchar\s*\*\s*%s\s*\(" % re.escape(fn), text):
            p = matching(text, m.end() - 1, "(", ")")
            b = text.find("{", p)
            if b < 0 or text[p:b].strip():
                continue                         # a declaration, not the definition
            e = matching(text, b, "{", "}")
            body = text[b:e]
            for c in re.finditer(r"\b(kasprintf|kstrdup|kstrdup_const|devm_kasprintf)\s*\(", body):
                cb = c.end() - 1
                ce = matching(body, cb, "(", ")")
                args = split_top(body[cb + 1:ce - 1])
                idx = {"kasprintf": 1, "kstrdup": 0, "kstrdup_const": 0, "devm_kasprintf": 2}[c.group(1)]
                if len(args) > idx:
                    val = tree.evaluate(rel, args[idx])
                    if val is not None and "/" in val.lstrip("/"):
                        nested = True
                    col.add(tree, rel, text, b + c.start(), "devnode", val)
    return nested


def scan_tty_unnumbered(tree, rel, col):
    """A tty driver with TTY_DRIVER_UNNUMBERED_NODE has a node of its own name
    (ttyprintk, ttynull) rather than name + index."""
    text = tree.text(rel)
    if "TTY_DRIVER_UNNUMBERED_NODE" not in text or rel.endswith("tty_io.c"):
        return
    for m in re.finditer(r"->\s*name\s*=(?!=)\s*", text):
        col.add(tree, rel, text, m.start(), "tty", tree.evaluate(rel, expression_at(text, m.end())))


def scan_tree(tree, col):
    for rel in tree.sources:
        if not rel.endswith(".c"):
            continue
        scan_misc(tree, rel, col)
        scan_misc_helpers(tree, rel, col)
        scan_aliases(tree, rel, col)
        nested = scan_devnode(tree, rel, col)
        scan_device_create(tree, rel, col, nested)
        scan_tty_unnumbered(tree, rel, col)
        if rel == os.path.join("drivers", "char", "mem.c"):
            scan_mem_devlist(tree, rel, col)
        tree.forget(rel)
    scan_special(tree, col)


def wrap_names(names, indent="    ", width=110):
    lines, cur = [], indent
    for n in names:
        item = '"%s",' % n
        if len(cur) + len(item) + 1 > width and cur.strip():
            lines.append(cur.rstrip())
            cur = indent
        cur += item + " "
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def render(names, versions):
    vs = " and ".join("Linux %s" % v for v in versions)
    out = [
        "// Generated by tools/gen-reserved-names.py from the sources of %s; do not edit." % vs,
        "//",
        "// The names under /dev that drivers of the kernel create with fixed names, whether their",
        "// module is loaded or not: a script may not take them for its devices, or the driver",
        "// would fail to load later (a script that took /dev/uinput made `insmod uinput.ko` fail).",
        "// They come from struct miscdevice names and node names (a script's device is a misc device",
        "// too: two of one name collide in /sys/class/misc), MODULE_ALIAS(\"devname:...\"),",
        "// device_create() with a fixed name (drivers/char/mem.c, tty, console, ptmx, ...), .devnode",
        "// callbacks returning a fixed path, and a few configured names (binder). Of a path",
        "// (\"net/tun\") the first component is kept (\"net\"): a script device of that name would",
        "// shadow the directory. Numbered nodes (loop0, ttyS0, watchdog0, ...) are not listed.",
        "//",
        "// To regenerate (see the script's docstring for the details):",
        "//   apt-get install linux-source-6.1 linux-source-6.12",
        "//   mkdir -p /tmp/ksrc-6.1; tar -xJf /usr/src/linux-source-6.1.tar.xz -C /tmp/ksrc-6.1",
        "//       --strip-components=1 --wildcards '*.c' '*.h' '*/Makefile' '*/Kbuild' '*/Kconfig'",
        "//   (one command; the same for 6.12), then",
        "//   python3 tools/gen-reserved-names.py /tmp/ksrc-6.1 /tmp/ksrc-6.12",
        "#pragma once",
        "",
        "namespace ks {",
        "",
        "static const char* const kReservedDeviceNames[] = {",
    ]
    out += wrap_names(names)
    out += [
        "};",
        "",
        "} // namespace ks",
        "",
    ]
    for line in out:
        assert len(line) < 120 and not line.endswith("\\"), line
    return "\n".join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+", help="extracted Linux source trees")
    ap.add_argument("-o", "--output", default=os.path.join(here, "..", "core", "api", "ReservedNames.h"))
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list each name's sources and the values that could not be resolved")
    args = ap.parse_args()

    col = Collector()
    trees = []
    for root in args.trees:
        if not os.path.exists(os.path.join(root, "drivers", "char", "mem.c")):
            ap.error("%s: not a Linux source tree (no drivers/char/mem.c)" % root)
        tree = Tree(root, args.verbose)
        print("scanning Linux %s in %s (%d files)" % (tree.version, root, len(tree.sources)), file=sys.stderr)
        scan_tree(tree, col)
        trees.append(tree)

    names = sorted(n for n in col.names if '"' not in n and "\\" not in n and n.isprintable())
    if args.verbose:
        for n in names:
            print("%-24s %s" % (n, "; ".join(sorted("%s %s %s %r" % s for s in col.names[n]))), file=sys.stderr)
        for tree in trees:
            for rel, name, v in sorted(set(tree.global_hits)):
                print("  %s: %s: %s = %s (the tree's only definition)" % (tree.version, rel, name, v), file=sys.stderr)
            for u in sorted(set(tree.unresolved)):
                print("  %s: unresolved %s:%d %s = %s" % ((tree.version,) + u), file=sys.stderr)
    for tree in trees:
        only = sorted(n for n in names if {s[0] for s in col.names[n]} == {tree.version})
        print("only in %s: %s" % (tree.version, " ".join(only) or "-"), file=sys.stderr)

    missing = [n for n in EXPECTED if n not in names]
    if missing:
        sys.exit("error: names every kernel has were not found: %s; %s not written"
                 % (" ".join(missing), args.output))
    with open(args.output, "w") as f:
        f.write(render(names, [t.version for t in trees]))
    print("%d names -> %s" % (len(names), os.path.normpath(args.output)), file=sys.stderr)


if __name__ == "__main__":
    main()
