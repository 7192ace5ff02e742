#!/usr/bin/env python3
"""test_cli - the command-line convention every program follows (test 'cli':
the installed programs, gba-example and the test tools (gba-test-ue, m2m-node,
zh-probe, zn-probe, pcsc_probe); test 'cli_bench': every bench program).

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
import glob
import os
import re
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


SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def check_man_page(c, name, path):
    """An installed program's man page names every long option its --help lists,
    and has its exit codes (programs without a man page are not installed)."""
    pages = [p for p in glob.glob(os.path.join(SOURCE, "**", f"{name}.[18]"), recursive=True)
             if "/build" not in os.path.relpath(p, SOURCE).join("//")]
    if not pages:
        return
    text = open(pages[0]).read().replace("\\-", "-")
    text = re.sub(r"\\f[BIRP]", "", text)
    usage = run([path, "--help"]).stdout
    helps = {o.rstrip(".") for o in re.findall(r"--[a-z][a-z0-9._-]*", usage)}
    missing = sorted(o for o in helps if o not in text)
    c.check(f"{name}({pages[0][-1]}) names every option of --help", not missing, str(missing))
    c.check(f"{name}({pages[0][-1]}) has an EXIT STATUS section", ".SH EXIT STATUS" in text)


DOC_RUN = re.compile(r"(?<![\w/.-])([a-z][a-z0-9_]*(?:-[a-z0-9]+)*)((?:[ \t]+[^\s|;&`#]+)*)")


def doc_runs(names):
    """(page:line, program, its options) for every command line in README.md and
    docs/*.md, in a fenced block or a `code span`, that runs one of names."""
    pages = [os.path.join(SOURCE, "README.md")] + sorted(glob.glob(os.path.join(SOURCE, "docs",
                                                                                "*.md")))
    for page in pages:
        text = re.sub(r"\\\n\s*", " ", open(page, encoding="utf-8").read())
        fenced = False
        for n, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            spans = [line] if fenced else re.findall(r"`([^`]*)`", line)
            for span in spans:
                for m in DOC_RUN.finditer(span):
                    if m.group(1) in names:
                        opts = re.findall(r"(?<![\w-])--[a-z][a-z0-9._-]*", m.group(2))
                        yield f"{os.path.basename(page)}:{n}", m.group(1), opts


def check_docs_options(c, progs):
    """The docs run each program only with options its --help lists (a stale
    option in a page is what a new user meets first)."""
    helps = {}
    for name, path in progs.items():
        usage = run([path, "--help"]).stdout
        helps[name] = {o.rstrip(".") for o in re.findall(r"--[a-z][a-z0-9._-]*", usage)}
    stale, seen = [], 0
    for where, name, opts in doc_runs(set(progs)):
        for o in opts:
            seen += 1
            if o.split("=")[0] not in helps[name]:
                stale.append(f"{where}: {name} {o}")
    c.check(f"docs: every option given to a program ({seen} seen) is one it knows",
            seen > 0 and not stale, "; ".join(stale[:10]))


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
    # --listen and --metrics through lib/conf's listen parser (as gba-bsf's ub.listen).
    db = ["--db", missing, "--zh.transport", "tcp", "--check"]
    for opt, value, ok in (("--listen", f"[::1]:{port}", True), ("--metrics", f"*:{port}", True),
                           ("--listen", f"::1:{port}", False),
                           ("--metrics", f"127.0.0.1:+{port}", False),
                           ("--listen", "127.0.0.1:0", False),
                           ("--metrics", f"localhost:{port}", False)):
        r = run([hss, opt, value] + db)
        want = r.returncode == 0 if ok else (
            r.returncode == 2 and f"bad value for {opt}: {value}" in r.stderr)
        c.check(f"gba-hss-sim {opt} {value} --check: {'taken' if ok else 'refused (exit 2)'}",
                want, f"{r.returncode} {r.stderr[-300:]}")


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


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def check_config_files(c, progs, tmp):
    """-c/--config FILE with --check on each daemon: a good file passes, a file
    with an unknown key and a missing file are refused naming the file (and the
    line), and the command line overrides the file."""
    if "gba-hss-sim" in progs:
        hss, db = progs["gba-hss-sim"], os.path.join(tmp, "conf-hss.db")
        good = write(tmp, "hss.conf", f"# a lab HSS\ndb = {db}\nlisten = 127.0.0.1:"
                     f"{gbatest.free_port()}\nlog-level = warn\n\n[zh]\ntransport = tcp\n")
        r = run([hss, "-c", good, "--create-db", "--check"])
        c.check("gba-hss-sim -c FILE --create-db --check: exit 0, db from the file made",
                r.returncode == 0 and os.path.exists(db), f"{r.returncode} {r.stderr[-300:]}")
        r = run([hss, "--config", good, "--check"])
        c.check("gba-hss-sim --config FILE --check: exit 0", r.returncode == 0, r.stderr[-300:])
        r = run([hss, "-c", good, "--zh.transport", "tls", "--check"])
        c.check("gba-hss-sim: the command line overrides the file (tls wants certificates)",
                r.returncode == 2 and "tls_cert" in r.stderr, f"{r.returncode} {r.stderr[-300:]}")
        bad = write(tmp, "hss-bad.conf", f"db = {db}\n[zh]\ncolour = blue\n")
        r = run([hss, "-c", bad, "--check"])
        c.check("gba-hss-sim -c: an unknown key is refused (exit 2) with FILE:LINE, the key "
                "and the known keys", r.returncode == 2 and f"{bad}:3" in r.stderr
                and "key 'zh.colour'" in r.stderr and "known in [zh]: transport" in r.stderr,
                f"{r.returncode} {r.stderr[-400:]}")
        bad = write(tmp, "hss-bad2.conf", f"db = {db}\nthreads = many\n")
        r = run([hss, "-c", bad, "--check"])
        c.check("gba-hss-sim -c: a bad value is refused (exit 2) with FILE:LINE and the key",
                r.returncode == 2 and f"{bad}:2" in r.stderr and "threads" in r.stderr
                and "many" not in r.stderr, f"{r.returncode} {r.stderr[-300:]}")
        bad = write(tmp, "hss-bad3.conf", f"db = {db}\n[zh]\ntransport = tcp\n"
                    "transport = tls\n")
        r = run([hss, "-c", bad, "--check"])
        c.check("gba-hss-sim -c: a key given twice is refused (exit 2) with FILE:LINE",
                r.returncode == 2 and f"{bad}:4: key 'zh.transport': given twice" in r.stderr,
                f"{r.returncode} {r.stderr[-300:]}")
    for name in ("gba-bsf", "gba-naf", "gba-hss-sim"):
        if name in progs:
            missing = os.path.join(tmp, f"no-{name}.conf")
            r = run([progs[name], "-c", missing, "--check"])
            c.check(f"{name} -c MISSING --check: refused, names the file",
                    r.returncode != 0 and missing in r.stderr,
                    f"{r.returncode} {r.stderr[-300:]}")
    if "gba-naf" in progs:
        psk = "5ec2e7" * 6
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "naf",
                               "etc", "gba-naf.conf")
        r = run([progs["gba-naf"], "-c", example, "--check"])
        c.check("gba-naf -c naf/etc/gba-naf.conf --check: exit 0", r.returncode == 0,
                f"{r.returncode} {r.stderr[-300:]}")
        r = run([progs["gba-naf"], "-c", example, "--set", f"targets./in-cse={psk}", "--check"])
        c.check("gba-naf --set targets.X=PSK: refused (exit 2), the PSK not repeated",
                r.returncode == 2 and "targets" in r.stderr and psk not in r.stdout + r.stderr,
                f"{r.returncode} {r.stderr[-300:]}")
        check_naf_listen(c, progs["gba-naf"], example)
    if "gba-bsf" in progs:
        good = write(tmp, "bsf.conf", f"[bsf]\nstate_dir = {tmp}\n[ub]\nlisten = 127.0.0.1:"
                     f"{gbatest.free_port()}\n[admin]\nlisten = off\n[embedded]\n"
                     "create_db = yes\n")
        r = run([progs["gba-bsf"], "-c", good, "--check"])
        c.check("gba-bsf -c FILE --check: exit 0, prints the configuration",
                r.returncode == 0 and "[ub]" in r.stdout, f"{r.returncode} {r.stderr[-300:]}")


def check_naf_listen(c, naf, example):
    """gba-naf takes its listen addresses through lib/conf's parser, as gba-bsf
    does: port 0 and a signed port are refused, by --check and at start-up,
    with the parser's message naming the key."""
    port_msg = "the port must be 1..65535 in decimal digits"
    for key, value, want in (
            ("ua.digest_listen", "127.0.0.1:0", f"[ua] digest_listen: '127.0.0.1:0': {port_msg}"),
            ("ua.tls_listen", "127.0.0.1:+80", f"[ua] tls_listen: '127.0.0.1:+80': {port_msg}"),
            ("admin.listen", "::1:8091",
             "[admin] listen: '::1:8091': an IPv6 address goes in brackets")):
        r = run([naf, "-c", example, "--set", f"{key}={value}", "--check"])
        c.check(f"gba-naf --set {key}={value} --check: refused (exit 2) with the parser's "
                "message", r.returncode == 2 and want in r.stderr,
                f"{r.returncode} {r.stderr[-300:]}")
    # Without --check: refused before listening (the old parser took port 0
    # and listened on a port the kernel chose).
    r = run([naf, "-c", example, "--set", "ua.digest_listen=127.0.0.1:0"])
    c.check("gba-naf with ua.digest_listen = 127.0.0.1:0: does not start (exit 2)",
            r.returncode == 2 and port_msg in r.stderr, f"{r.returncode} {r.stderr[-300:]}")


def main():
    version, progs = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
    c = gbatest.Checks()
    for name, path in sorted(progs.items()):
        check_convention(c, name, path, version)
        check_man_page(c, name, path)
    check_docs_options(c, progs)
    with tempfile.TemporaryDirectory(prefix="gba-cli-") as tmp:
        if "gba-bsf" in progs:
            check_bsf_db(c, progs["gba-bsf"], tmp)
        if "gba-hss-sim" in progs:
            check_hss_db(c, progs["gba-hss-sim"], tmp)
        check_config_errors(c, progs, tmp)
        check_config_files(c, progs, tmp)
    c.finish()


if __name__ == "__main__":
    main()
