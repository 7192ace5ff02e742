#!/usr/bin/env python3
"""test_packaging - the Debian packages, built and used as a lab user would.

Builds the packages with dpkg-buildpackage from a copy of the source tree (so
the .debs and the build directory land in a temporary folder, not beside the
checkout), checks them with lintian (no error), checks what each holds (a man
page per program, the configurations under /etc/gba as conffiles, a unit per
daemon whose ExecStart program is in the package, the system user made by
the postinst), extracts them into a throw-away root and runs the README's demo
(scripts/demo.py --installed ROOT) with the extracted programs and
libraries only.

Usage: test_packaging.py SOURCE_ROOT
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import gbatest  # noqa: E402

PACKAGES = ["libgba0", "libgba-dev", "gba-bsf", "gba-naf", "gba-client", "gba-simulators",
            "gba-doc"]
DAEMONS = {"gba-bsf": "gba-bsf", "gba-naf": "gba-naf", "gba-simulators": "gba-hss-sim"}
CONFFILES = {"gba-bsf": ["/etc/gba/bsf.conf"], "gba-naf": ["/etc/gba/naf.conf"],
             "gba-simulators": ["/etc/gba/hss-sim.env"]}


def copy_source(src, dst):
    """The files git knows (tracked or new, not ignored); every file when
    there is no git checkout.  Build directories stay behind."""
    r = subprocess.run(["git", "-C", src, "ls-files", "-co", "--exclude-standard", "-z"],
                       capture_output=True)
    if r.returncode == 0:
        names = [n for n in r.stdout.decode().split("\0") if n]
    else:
        names = []
        for d, dirs, files in os.walk(src):
            dirs[:] = [x for x in dirs if not x.startswith(("build", ".git", "obj-"))]
            names += [os.path.relpath(os.path.join(d, f), src) for f in files]
    for n in names:
        if n.startswith(("build", "debian/tmp")) or not os.path.isfile(os.path.join(src, n)):
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, n)), exist_ok=True)
        shutil.copy2(os.path.join(src, n), os.path.join(dst, n))


def build(src, work):
    tree = os.path.join(work, "gba")
    copy_source(src, tree)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
    t0 = time.monotonic()
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, env=env,
                       capture_output=True, text=True, timeout=900)
    print(f"dpkg-buildpackage: exit {r.returncode} in {time.monotonic() - t0:.0f} s")
    if r.returncode != 0:
        sys.stdout.write(r.stdout[-4000:] + r.stderr[-4000:])
    return r.returncode == 0


def debs(work):
    out = {}
    for path in glob.glob(os.path.join(work, "*.deb")):
        name = os.path.basename(path).split("_")[0]
        if not name.endswith("-dbgsym"):
            out[name] = path
    return out


def deb_field(path, what):
    """dpkg-deb --ctrl-tarfile's member ('conffiles', 'postinst'), or ''."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["dpkg-deb", "-e", path, d], check=True)
        p = os.path.join(d, what)
        return open(p).read() if os.path.exists(p) else ""


def deb_files(path):
    r = subprocess.run(["dpkg-deb", "-c", path], capture_output=True, text=True, check=True)
    return [line.split()[-1].lstrip(".") for line in r.stdout.splitlines()
            if not line.startswith("d")]


def check_contents(c, found):
    for pkg, path in sorted(found.items()):
        files = deb_files(path)
        for prog in [f for f in files if f.startswith("/usr/bin/")]:
            name = os.path.basename(prog)
            c.check(f"{pkg}: {name} has a man page",
                    any(re.search(rf"/usr/share/man/man[18]/{re.escape(name)}\.[18]\.gz$", f)
                        for f in files))
        for conf in CONFFILES.get(pkg, []):
            c.check(f"{pkg}: {conf} is a conffile", conf in deb_field(path, "conffiles").split())
        if pkg in DAEMONS:
            unit = f"/lib/systemd/system/{DAEMONS[pkg]}.service"
            c.check(f"{pkg}: ships {unit}", unit in files)
            post = deb_field(path, "postinst")
            c.check(f"{pkg}: postinst makes the system user _gba and its state directory",
                    "adduser --system" in post and "_gba" in post and
                    f"-o _gba -g _gba -m 0700 /var/lib/{DAEMONS[pkg]}" in post)


def check_units(c, root):
    for unit in glob.glob(os.path.join(root, "lib", "systemd", "system", "*.service")):
        text = open(unit).read()
        m = re.search(r"^ExecStart=(\S+)", text, re.M)
        prog = m.group(1) if m else ""
        c.check(f"{os.path.basename(unit)}: ExecStart {prog} is installed",
                prog.startswith("/usr/bin/") and os.access(root + prog, os.X_OK))
        c.check(f"{os.path.basename(unit)}: runs as _gba", "User=_gba" in text)
        for conf in sorted(set(re.findall(r"(/etc/gba/\S+)", text))):
            c.check(f"{os.path.basename(unit)}: {conf} is installed",
                    os.path.exists(root + conf))


def main():
    src = os.path.abspath(sys.argv[1])
    c = gbatest.Checks()
    with tempfile.TemporaryDirectory(prefix="gba-pkg-") as work:
        if not c.check("dpkg-buildpackage -us -uc -b builds", build(src, work)):
            c.finish()
        found = debs(work)
        c.check("every package is built", sorted(found) == sorted(PACKAGES), str(sorted(found)))
        changes = glob.glob(os.path.join(work, "*.changes"))
        r = subprocess.run(["lintian", "--no-cfg", *changes], capture_output=True, text=True,
                           timeout=300)
        errors = [x for x in r.stdout.splitlines() if x.startswith("E:")]
        c.check("lintian: no error", r.returncode in (0, 2) and not errors and changes,
                "\n".join(errors) or r.stderr[-2000:])
        check_contents(c, found)

        root = os.path.join(work, "root")
        for path in found.values():
            subprocess.run(["dpkg", "-x", path, root], check=True)
        check_units(c, root)
        libdir = glob.glob(os.path.join(root, "usr", "lib", "*-linux-gnu"))
        env = dict(os.environ, LD_LIBRARY_PATH=":".join(libdir))
        r = subprocess.run(["ldd", os.path.join(root, "usr", "bin", "gba-bsf")],
                           capture_output=True, text=True, env=env)
        c.check("gba-bsf links the extracted libgba-store",
                re.search(r"libgba-store\.so\.0 => " + re.escape(root), r.stdout), r.stdout)
        demo = os.path.join(src, "scripts", "demo.py")
        r = subprocess.run([sys.executable, demo, "--installed", root], capture_output=True,
                           text=True, env=env, timeout=180)
        sys.stdout.write(r.stdout)
        c.check("the demo runs on the installed programs",
                r.returncode == 0 and "Demo done: every side agrees." in r.stdout,
                r.stderr[-3000:])
    c.finish()


if __name__ == "__main__":
    main()
