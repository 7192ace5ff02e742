#!/usr/bin/env python3
"""test_cli - the command-line convention every program follows.

Table-driven: each program answers --help (exit 0, usage on stdout),
--version and -V (exit 0, "NAME VERSION (libgba VERSION)" with the
project's version), and an unknown option with exit 2 and the list of the
options it knows.  gba-bsf and gba-hss-sim refuse a --db that does not exist
(a typo used to make an empty database, and every UE got 403) and make it
with --create-db; --check answers without serving.  Every program that
reads a configuration or key file (all through lib/conf) refuses a bad one
with a message naming the file, the line and the key, and never the value
of a secret; gba-client refuses an -o key no subcommand knows, listing them.

Usage: test_cli.py VERSION NAME=PATH...
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import gbatest  # noqa: E402


def run(argv, timeout=20):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env=gbatest.child_env(), stdin=subprocess.DEVNULL)


def check_convention(c, name, path, version):
    r = run([path, "--help"])
    c.check(f"{name} --help: exit 0, usage on stdout",
            r.returncode == 0 and "usage" in r.stdout.lower(), f"{r.returncode} {r.stderr[-300:]}")
    for flag in ("--version", "-V"):
        r = run([path, flag])
        want = f"{name} {version} (libgba {version})"
        c.check(f"{name} {flag}: '{want}'", r.returncode == 0 and r.stdout.strip() == want,
                f"{r.returncode} {r.stdout!r}")
    r = run([path, "--no-such-option"])
    c.check(f"{name} --no-such-option: exit 2, names it, lists the known options",
            r.returncode == 2 and "no-such-option" in r.stderr and "known options" in r.stderr
            and "--help" in r.stderr and "--version" in r.stderr,
            f"{r.returncode} {r.stderr[-400:]}")


def check_bsf_db(c, bsf, tmp):
    missing = os.path.join(tmp, "typo-subscribers.db")
    port = gbatest.free_port()
    base = [bsf, "--set", f"bsf.state_dir={tmp}", "--listen", f"127.0.0.1:{port}",
            "--admin-listen", "off", "--db", missing]
    r = run(base)
    c.check("gba-bsf refuses a --db that does not exist (exit 1, says how to make it)",
            r.returncode == 1 and "typo-subscribers.db" in r.stderr and "--create-db" in r.stderr
            and not os.path.exists(missing), f"{r.returncode} {r.stderr[-400:]}")
    r = run(base + ["--check"])
    c.check("gba-bsf --check: exit 0, prints the configuration",
            r.returncode == 0 and "embedded" in r.stdout, f"{r.returncode} {r.stderr[-300:]}")
    with gbatest.Processes() as procs:
        procs.start("bsf", base + ["--create-db"], wait_port=port)
        c.check("gba-bsf --create-db makes it and serves", os.path.exists(missing))


def check_hss_db(c, hss, tmp):
    missing = os.path.join(tmp, "typo-hss.db")
    port = gbatest.free_port()
    base = [hss, "--db", missing, "--listen", f"127.0.0.1:{port}", "--zh.transport", "tcp"]
    r = run(base)
    c.check("gba-hss-sim refuses a --db that does not exist (exit 1, says how to make it)",
            r.returncode == 1 and "typo-hss.db" in r.stderr and "--create-db" in r.stderr
            and not os.path.exists(missing), f"{r.returncode} {r.stderr[-400:]}")
    r = run(base + ["--create-db", "--check"])
    c.check("gba-hss-sim --create-db --check: exit 0, the database made",
            r.returncode == 0 and os.path.exists(missing), f"{r.returncode} {r.stderr[-300:]}")
    r = run(base + ["--check"])
    c.check("gba-hss-sim --check on the existing database: exit 0", r.returncode == 0,
            r.stderr[-300:])


K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"

# name: (file text, line, key, secret that must not show, exit status, argv after the
# program with {f} for the file's path).  One bad line in each kind of file.
CONFIG_ERRORS = {
    "gba-bsf": ("[bsf]\ndomain = bsf.test\n[ub]\nmax_connections = lots\n", 4,
                "ub.max_connections", None, 2, ["--config", "{f}", "--check"]),
    "gba-naf": ("[naf]\nfqdn = naf.test\n[ua]\nthreads = 1m\n[targets]\n/x = " + K + "\n",
                4, "ua.threads", None, 2, ["-c", "{f}", "--check"]),
    "gba-usim-sim": ("# a card\nimsi = 001010000000001\nk = " + K[:-2] + "\nopc = " + OPC +
                     "\n", 3, "k", K[:-2], 1,
                     ["--profile", "{f}", "--state", "{f}.state", "--vpcd", "127.0.0.1:1"]),
    "gba-subscriber": ("k = " + K + "\nkey2 = " + OPC + "\n", 2, "key2", OPC, 2,
                       ["--db", "{f}.db", "add", "--impi", "a@b.test", "--k-file", "{f}"]),
    "gba-client": ("imsi = 001010000000001\nk = " + K + "\nopc = " + OPC[:-1] +
                   "\nmnc_len = 2\n", 3, "opc", OPC[:-1], 7, ["-c", "soft:{f}", "card-info"]),
}


def check_config_errors(c, progs, tmp):
    for name, (text, line, key, secret, status, argv) in sorted(CONFIG_ERRORS.items()):
        if name not in progs:
            continue
        path = os.path.join(tmp, name + "-bad.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        r = run([progs[name]] + [a.replace("{f}", path) for a in argv])
        want = f"{path}:{line}: key '{key}': "
        c.check(f"{name}: a bad line: exit {status}, the message names file, line and key",
                r.returncode == status and want in r.stderr, f"{r.returncode} {r.stderr[-400:]}")
        if secret:
            c.check(f"{name}: the message does not show the secret", secret not in r.stderr)
    if "gba-client" in progs:
        ctx = os.path.join(tmp, "context")
        with open(ctx, "w") as f:
            f.write("btid = a@bsf.test\nlifetime = soon\n")
        os.chmod(ctx, 0o600)
        r = run([progs["gba-client"], "-C", ctx, "status"])
        c.check("gba-client: a bad context file: exit 7, file, line and key named",
                r.returncode == 7 and f"{ctx}:2: key 'lifetime': " in r.stderr, r.stderr[-300:])
        r = run([progs["gba-client"], "-o", "colour=blue", "status"])
        c.check("gba-client -o colour=blue: exit 2, the known -o keys listed",
                r.returncode == 2 and "-o: key 'colour': unknown key; known: app," in r.stderr,
                f"{r.returncode} {r.stderr[-300:]}")


def main():
    version, progs = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
    c = gbatest.Checks()
    for name, path in sorted(progs.items()):
        check_convention(c, name, path, version)
    with tempfile.TemporaryDirectory(prefix="gba-cli-") as tmp:
        if "gba-bsf" in progs:
            check_bsf_db(c, progs["gba-bsf"], tmp)
        if "gba-hss-sim" in progs:
            check_hss_db(c, progs["gba-hss-sim"], tmp)
        check_config_errors(c, progs, tmp)
    c.finish()


if __name__ == "__main__":
    main()
