"""test_bsf_cli - gba-bsf's command line and configuration as a user meets
them: --help lists every key and docs/bsf.md documents each; the shipped
example configs pass --check; options override the file; bad files and
options exit 2 naming the file and line; a port in use exits 1.

    python3 test_bsf_cli.py GBA_BSF SOURCE_ROOT
"""
import os
import re
import socket
import subprocess
import sys

import gbatest


def run(bsf, *args, cwd=None):
    return subprocess.run([bsf, *args], capture_output=True, text=True, timeout=30, cwd=cwd)


def keys_in_help(text):
    """[(section, key)] from the key list of --help."""
    keys, section = [], None
    for line in text.splitlines():
        m = re.match(r"^  \[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^    (\w+)\s", line)
        if m and section:
            keys.append((section, m.group(1)))
    return keys


def documented(doc):
    """{(section, key)} from the tables under '### [section]' in docs/bsf.md."""
    out, section = set(), None
    for line in doc.splitlines():
        m = re.match(r"^### \[(\w+)\]", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^\| `(\w+)` \|", line)
        if m and section:
            out.add((section, m.group(1)))
    return out


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    if len(sys.argv) < 3:
        print("usage: test_bsf_cli.py GBA_BSF SOURCE_ROOT", file=sys.stderr)
        sys.exit(2)
    bsf, root = sys.argv[1], sys.argv[2]
    checks = gbatest.Checks()

    r = run(bsf, "--help")
    keys = keys_in_help(r.stdout)
    checks.check("--help exits 0 and lists the keys", r.returncode == 0 and len(keys) > 30,
                 f"{r.returncode} {len(keys)}")
    with open(os.path.join(root, "docs", "bsf.md")) as f:
        doc = documented(f.read())
    missing = [f"{s}.{k}" for s, k in keys if (s, k) not in doc]
    checks.check("docs/bsf.md documents every key --help lists", not missing, str(missing))
    stale = sorted(f"{s}.{k}" for s, k in doc - set(keys))
    checks.check("docs/bsf.md documents no key that does not exist", not stale, str(stale))
    for flag in ("--config", "--listen", "--admin-listen", "--domain", "--db", "--store",
                 "--set", "--check", "--version"):
        checks.check(f"--help mentions {flag}", flag in r.stdout)
    r = run(bsf, "--version")
    checks.check("--version", r.returncode == 0 and r.stdout.startswith("gba-bsf "))

    for name in ("bsf-embedded.conf", "bsf-zh.conf", "bsf-cx.conf"):
        path = os.path.join(root, "bsf", "etc", name)
        r = run(bsf, "--config", path, "--check")
        checks.check(f"bsf/etc/{name} passes --check", r.returncode == 0, r.stderr)

    with gbatest.Processes() as procs:
        d = procs.dir
        good = write(os.path.join(d, "good.conf"),
                     "[bsf]\ndomain = bsf.test\nnonce_lifetime = 10s\n[ub]\nlisten = 127.0.0.1:1\n")
        r = run(bsf, "--set", "bsf.nonce_lifetime=7", "--config", good, "--domain", "bsf.other",
                "--check")
        checks.check("options override the file whatever their order",
                     r.returncode == 0 and "nonce_lifetime = 7\n" in r.stdout and
                     "domain = bsf.other\n" in r.stdout and "realm = bsf.other\n" in r.stdout,
                     r.stdout + r.stderr)
        r = run(bsf, "--config", good, "--check")
        checks.check("--check prints the file's values",
                     "nonce_lifetime = 10\n" in r.stdout and "domain = bsf.test\n" in r.stdout)

        bad = write(os.path.join(d, "bad.conf"), "# ok\n[bsf]\ndomain = bsf.test\nbogus = 1\n")
        r = run(bsf, "--config", bad, "--check")
        checks.check("an unknown key: exit 2 with file:line",
                     r.returncode == 2 and
                     f"{bad}:4: key 'bsf.bogus': unknown key; known in [bsf]: state_dir,"
                     in r.stderr,
                     r.stderr)
        bad = write(os.path.join(d, "bad2.conf"), "[ub]\nmax_connections = lots\n")
        r = run(bsf, "--config", bad)
        checks.check("a bad number: exit 2 with file:line, nothing started",
                     r.returncode == 2 and f"{bad}:2:" in r.stderr, r.stderr)
        r = run(bsf, "--config", os.path.join(d, "missing.conf"))
        checks.check("a missing file: exit 2", r.returncode == 2 and "missing.conf" in r.stderr)
        r = run(bsf, "--set", "nosuch.key=1", "--check")
        checks.check("--set of an unknown key: exit 2", r.returncode == 2 and "nosuch" in r.stderr)
        r = run(bsf, "--bogus-option")
        checks.check("an unknown option: exit 2", r.returncode == 2)
        r = run(bsf, "--listen", "localhost:80", "--check")
        checks.check("a non-numeric listen address: exit 2",
                     r.returncode == 2 and "ub.listen" in r.stderr, r.stderr)

        # A port already taken: a start-up failure, exit 1, said clearly.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            r = run(bsf, "--set", f"bsf.state_dir={d}", "--listen", f"127.0.0.1:{port}",
                    "--admin-listen", "off", "--store", "sqlite:" + os.path.join(d, "s.db"),
                    "--db", os.path.join(d, "subscribers.db"), "--create-db")
        checks.check("a port in use: exit 1 with a message",
                     r.returncode == 1 and "cannot start the Ub server" in r.stderr, r.stderr)
    checks.finish()


if __name__ == "__main__":
    main()
