#!/usr/bin/env python3
"""test_install - `meson install` installs what the docs use.

Installs the build directory into a temporary DESTDIR and checks: every
program the README and docs/*.md run in their command examples (a gba-*
name at the start of a command in a fenced block) that this build makes is
installed, with a man page; the systemd units, with ExecStart naming the
installed program and the configuration installed beside it; the sysusers
file; the docs; the card profiles.

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
    c.finish()


if __name__ == "__main__":
    main()
