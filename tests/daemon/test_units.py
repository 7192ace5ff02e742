"""test_units - the systemd units meson builds (bsf/etc, naf/etc,
simulators/hss) pass `systemd-analyze verify` without a word, and are
Type=notify (the daemons send READY=1: test_daemon_notify.py).  verify
needs ExecStart's program to exist: each unit is checked with ExecStart
pointing at the program just built; man pages are not looked up.

    test_units.py UNIT PROGRAM [UNIT PROGRAM ...]
"""
import os
import re
import subprocess
import sys
import tempfile

import gbatest


def main():
    checks = gbatest.Checks()
    c = checks.check
    args = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="gba-units-") as tmp:
        for unit, prog in zip(args[0::2], args[1::2]):
            name = os.path.basename(unit)
            text = open(unit).read()
            c(f"{name}: Type=notify", re.search(r"^Type=notify$", text, re.M) is not None)
            text, n = re.subn(r"^ExecStart=\S+", "ExecStart=" + os.path.abspath(prog), text,
                              flags=re.M)
            c(f"{name}: one ExecStart", n == 1)
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True, timeout=60)
            out = (r.stdout + r.stderr).strip()
            c(f"{name}: systemd-analyze verify: exit 0, nothing said",
              r.returncode == 0 and not out, out)
    checks.finish()


if __name__ == "__main__":
    main()
