#!/usr/bin/env python3
"""test_install - `meson install` installs what the docs use.

Installs the build directory into a temporary DESTDIR and checks: every
program the README and docs/*.md run in their command examples (a gba-*
name at the start of a command in a fenced block) that this build makes is
installed, with a man page; the systemd units, with ExecStart naming the
installed program and the configuration installed beside it; the sysusers
file; the docs; the card profiles.  The installed headers: each compiles
alone as C11 and as C++ (self-contained, C++-safe), and every function one
declares is exported by an installed shared library that an installed .pc
file names (no header without the library that implements it).

Usage: test_install.py SOURCE_ROOT BUILD_DIR
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import gbatest  # noqa: E402

COMMAND = re.compile(r"(?:^\s*|[|;&]\s*|\$\s+|sudo\s+|\$\()(gba-[a-z][a-z0-9-]*)\b")


def doc_commands(src):
    names = {}
    for path in [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs",
                                                                                  "*.md"))):
        fenced = False
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif fenced:
                for m in COMMAND.finditer(line):
                    names.setdefault(m.group(1), f"{os.path.basename(path)}:{n}")
    return names


def built_programs(build):
    out = set()
    for d, dirs, files in os.walk(build):
        dirs[:] = [x for x in dirs if not x.endswith(".p") and x != "meson-private"]
        for f in files:
            p = os.path.join(d, f)
            if f.startswith("gba-") and os.access(p, os.X_OK) and "." not in f:
                out.add(f)
    return out


PROTO = re.compile(r"\b(gba_[a-z0-9_]+)\s*\(")


def declared_functions(text):
    """The gba_* functions a header declares: names followed by '(' outside
    comments, macros and typedefs of function types."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)
    out = set()
    for stmt in text.split(";"):
        if re.search(r"\btypedef\b|\bstatic\s+inline\b|\(\s*\*", stmt):
            continue
        m = PROTO.search(stmt)
        if m and "{" not in stmt[:m.start()]:
            out.add(m.group(1))
    return out


def check_headers(c, prefix):
    inc = os.path.join(prefix, "include")
    headers = sorted(glob.glob(os.path.join(inc, "gba", "*.h")))
    c.check("headers installed under include/gba", len(headers) > 0)
    for h in headers:
        name = "gba/" + os.path.basename(h)
        for lang, cmd in (("C11", ["cc", "-std=c11", "-pedantic", "-x", "c"]),
                          ("C++", ["c++", "-std=c++11", "-x", "c++"])):
            r = subprocess.run(cmd + ["-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                      "-I", inc, "-"], input=f"#include <{name}>\n",
                               capture_output=True, text=True, timeout=60)
            c.check(f"{name} compiles alone as {lang}", r.returncode == 0, r.stderr[-600:])
    exported = set()
    pcs = glob.glob(os.path.join(prefix, "**", "pkgconfig", "*.pc"), recursive=True)
    for pc in pcs:
        m = re.search(r"^Libs:.*-l(\S+)", open(pc).read(), re.M)
        libs = glob.glob(os.path.join(prefix, "**", f"lib{m.group(1)}.so"), recursive=True) \
            if m else []
        c.check(f"{os.path.basename(pc)} names an installed library", len(libs) == 1, str(libs))
        for lib in libs:
            r = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True,
                               text=True, timeout=60)
            exported |= {line.split()[-1].split("@")[0] for line in r.stdout.splitlines()}
    for h in headers:
        missing = sorted(declared_functions(open(h).read()) - exported)
        c.check(f"gba/{os.path.basename(h)}: every function it declares is exported by an "
                "installed library with a .pc file", not missing, " ".join(missing[:12]))


def main():
    src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    c = gbatest.Checks()
    with tempfile.TemporaryDirectory(prefix="gba-install-") as dest:
        r = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--destdir", dest],
                           capture_output=True, text=True, timeout=300)
        if not c.check("meson install", r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]):
            c.finish()
        bindirs = glob.glob(os.path.join(dest, "**", "bin"), recursive=True)
        c.check("one bindir", len(bindirs) == 1, str(bindirs))
        prefix = os.path.dirname(bindirs[0])
        installed = set(os.listdir(bindirs[0]))
        man = {os.path.basename(p) for p in glob.glob(os.path.join(prefix, "share", "man",
                                                                   "man*", "*"))}
        built = built_programs(build)
        for name, where in sorted(doc_commands(src).items()):
            if name in built:
                c.check(f"{name} (run in {where}) is installed", name in installed)
                c.check(f"{name} has a man page",
                        f"{name}.1" in man or f"{name}.8" in man, str(sorted(man)))
        for unit, conf in [("gba-bsf", "bsf.conf"), ("gba-naf", "naf.conf"),
                           ("gba-hss-sim", "hss-sim.env")]:
            paths = glob.glob(os.path.join(dest, "**", f"{unit}.service"), recursive=True)
            if not c.check(f"{unit}.service installed", len(paths) == 1):
                continue
            text = open(paths[0]).read()
            m = re.search(r"^ExecStart=(\S+)", text, re.M)
            c.check(f"{unit}.service: ExecStart is the installed {unit}",
                    m and os.access(dest + m.group(1), os.X_OK), m and m.group(1))
            m = re.search(r"(/\S*/gba/" + re.escape(conf) + ")", text)
            c.check(f"{unit}.service: names {conf}, installed",
                    m and os.path.isfile(dest + m.group(1)), m and m.group(1))
        c.check("sysusers.d/gba.conf installed",
                os.path.isfile(os.path.join(prefix, "lib", "sysusers.d", "gba.conf")))
        for doc in ["README.md", "bsf.md", "naf.md", "subscribers.md"]:
            c.check(f"doc {doc} installed",
                    os.path.isfile(os.path.join(prefix, "share", "doc", "gba", doc)))
        c.check("card profiles installed", os.path.isfile(
            os.path.join(prefix, "share", "gba", "profiles", "demo.conf")))
        check_headers(c, prefix)
    c.finish()


if __name__ == "__main__":
    main()
