"""test_ue_bsf - gba-test-ue against the real gba-bsf (embedded mode), and
ub-load's short smoke run, all on 127.0.0.1 with real processes.

What the BSF's own tests do not look at: the test UE's card state file
(created 0600, carried from run to run, so a second run needs no resync),
its JSON (no key, only check values), its usage errors, and that ub-load
runs real bootstraps through the BSF without a failure and reports the
BSF's CPU time and the store's bytes per B-TID.

    python3 test_ue_bsf.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER           the UE
    python3 test_ue_bsf.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER UB_LOAD   ub-load
"""
import json
import os
import re
import stat
import sys

import gbatest

K = "465b5ce8b199b49faa5f0a2ee238a6bc"     # TS 35.208 set 1: published, not a real key
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
DOMAIN = "bsf.mnc001.mcc001.pub.3gppnetwork.org"


def ue(tools, url, state, *extra, impi=IMPI):
    r = gbatest.run([tools["ue"], "--url", url, "--impi", impi, "--k-file", "-",
                     "--state", state, *extra], timeout=30, input=gbatest.keys_text(K, OPC))
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {"raw": r.stdout + r.stderr}
    return r.returncode, out, r.stdout + r.stderr


def start_bsf(procs, tools, db):
    port, admin = gbatest.free_port(), gbatest.free_port()
    proc = procs.start("bsf", [tools["bsf"], "--set", "bsf.state_dir=" + procs.dir,
                               "--listen", f"127.0.0.1:{port}",
                               "--admin-listen", f"127.0.0.1:{admin}",
                               "--domain", DOMAIN, "--db", db,
                               "--store", "sqlite:" + os.path.join(procs.dir, "sessions.db"),
                               # ub-load bootstraps each of its 40 subscribers
                               # many times a second: no per-IMPI rate for it.
                               "--set", "ub.impi_challenge_rate=0"],
                       wait_port=port)
    gbatest.wait_port(admin, 10.0, proc)
    return proc, port, admin


def test_ue(checks, tools, url, procs):
    state = os.path.join(procs.dir, "card.sqn")
    rc, out, text = ue(tools, url, state, "--naf", "naf.example.org")
    checks.check("UE: bootstrap ok, exit 0", rc == 0 and out.get("result") == "ok", text)
    checks.check("UE: B-TID in the BSF's domain, 2 rounds on one keep-alive connection",
                 out.get("btid", "").endswith("@" + DOMAIN) and out.get("rounds") == 2, text)
    checks.check("UE: key check values are 6 hex digits",
                 re.fullmatch(r"[0-9a-f]{6}", out.get("ks_naf_kcv", "")) is not None and
                 re.fullmatch(r"[0-9a-f]{6}", out.get("ks_kcv", "")) is not None, text)
    checks.check("UE: neither K nor OPc in the output", K not in text and OPC not in text, text)
    mode = os.stat(state).st_mode if os.path.exists(state) else 0
    checks.check("UE: state file created, mode 0600", stat.S_IMODE(mode) == 0o600, oct(mode))
    with open(state) as f:
        first = f.read()

    rc, out2, text = ue(tools, url, state)
    checks.check("UE: second run with the same card: ok, no resync",
                 rc == 0 and out2.get("resyncs") == 0, text)
    checks.check("UE: a new B-TID each time", out2.get("btid") != out.get("btid"), text)
    with open(state) as f:
        checks.check("UE: the card's SEQ_MS moved on in the state file", f.read() != first)

    rc, out, text = ue(tools, url, state, "--sqn-ahead", "50")
    checks.check("UE: card ahead: one resync, then ok", rc == 0 and out.get("resyncs") == 1 and
                 out.get("rounds") == 3, text)
    rc, out, text = ue(tools, url, state)
    checks.check("UE: after the resync the card and the AuC agree", rc == 0 and
                 out.get("resyncs") == 0, text)

    rc, out, text = ue(tools, url, state, "--fault", "wrong-password")
    checks.check("UE: wrong password: exit 1, stage response, 401/403",
                 rc == 1 and out.get("stage") == "response" and out.get("status") in (401, 403), text)
    rc, out, text = ue(tools, url, state, impi="001019999999999@ims.mnc001.mcc001.3gppnetwork.org")
    checks.check("UE: unknown IMPI: exit 1 with the BSF's status", rc == 1 and
                 out.get("result") == "error" and out.get("status", 0) >= 400, text)

    with open(state, "w") as f:
        f.write("not a state file\n")
    rc, out, text = ue(tools, url, state)
    checks.check("UE: a corrupt state file is refused, not overwritten",
                 rc == 1 and out.get("stage") == "state" and
                 open(state).read() == "not a state file\n", text)
    for bad in (["--fault", "nonsense"], ["--url", "ftp://x/"], ["--k-file"]):
        r = gbatest.run([tools["ue"], "--url", url, "--impi", IMPI, "--k-file", "-", *bad],
                        timeout=10, input=gbatest.keys_text(K, OPC))
        try:
            out = json.loads(r.stdout)
        except ValueError:
            out = {}
        checks.check(f"UE: usage error {bad[0]}: exit 2, one JSON object",
                     r.returncode == 2 and out.get("stage") == "usage", r.stdout + r.stderr)
    # No key on the command line: --k, --opc, --op and abbreviations of --k-file
    # are refused, and neither message nor output repeats the key.
    for bad in (["--k", K, "--opc", OPC], ["--k=" + K], ["--opc", OPC], ["--k-fi", K],
                ["--bogus", K]):
        r = gbatest.run([tools["ue"], "--url", url, "--impi", IMPI, *bad], timeout=10)
        text = r.stdout + r.stderr
        checks.check(f"UE: {bad[0].split('=')[0]} KEY refused (exit 2), the key not echoed",
                     r.returncode == 2 and "unknown option" in r.stderr and K not in text
                     and OPC not in text, text)


def test_ub_load(checks, tools, url, admin, bsf_pid, procs):
    r = gbatest.run([tools["ub_load"], "--url", url, "--impi-prefix", "00102", "--count", "40",
                     "--k-file", "-",
                     "--connections", "8", "--threads", "2", "--duration", "2",
                     "--server-pid", str(bsf_pid), "--admin", f"http://127.0.0.1:{admin}/metrics"],
                    timeout=60, input=gbatest.keys_text(K, OPC))
    text = r.stdout + r.stderr
    m = re.search(r"bootstraps\s+(\d+) ok, (\d+) shed \(503\), (\d+) failed", text)
    checks.check("ub-load: exit 0, bootstraps done, none shed or failed",
                 r.returncode == 0 and m and int(m.group(1)) > 0 and m.group(2) == "0" and
                 m.group(3) == "0", text)
    checks.check("ub-load: reports rate, latency, errors",
                 re.search(r"bootstraps/s\s+\d+", text) and "p50" in text and "p99" in text and
                 re.search(r"errors\s+none", text), text)
    checks.check("ub-load: reports the BSF's CPU per bootstrap",
                 re.search(r"bsf cpu\s+[\d.]+ us/bootstrap", text), text)
    checks.check("ub-load: reports the store's bytes per live B-TID",
                 re.search(r"store\s+\d+ bytes/live B-TID", text), text)


def main():
    if len(sys.argv) < 4:
        print("usage: test_ue_bsf.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER [UB_LOAD]", file=sys.stderr)
        sys.exit(2)
    tools = {"bsf": sys.argv[1], "ue": sys.argv[2], "subscriber": sys.argv[3],
             "ub_load": sys.argv[4] if len(sys.argv) > 4 else None}
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        r = gbatest.run([tools["subscriber"], "--db", db, "add", "--impi", IMPI,
                         "--k-file", "-"], input=gbatest.keys_text(K, OPC))
        checks.check("gba-subscriber add", r.returncode == 0, r.stdout + r.stderr)
        if tools["ub_load"]:
            csv = os.path.join(procs.dir, "subs.csv")
            with open(csv, "w") as f:
                r = gbatest.run([tools["ub_load"], "--make-csv", "40", "--impi-prefix", "00102",
                                 "--k-file", "-"], input=gbatest.keys_text(K, OPC))
                f.write(r.stdout)
            checks.check("ub-load --make-csv: 40 subscribers",
                         r.returncode == 0 and r.stdout.count("\n") == 41, r.stderr)
            r = gbatest.run([tools["subscriber"], "--db", db, "import", csv])
            checks.check("gba-subscriber import of that CSV", r.returncode == 0,
                         r.stdout + r.stderr)
        proc, port, admin = start_bsf(procs, tools, db)
        url = f"http://127.0.0.1:{port}/"
        if tools["ub_load"]:
            test_ub_load(checks, tools, url, admin, proc.pid, procs)
        else:
            test_ue(checks, tools, url, procs)
        code = procs.stop("bsf")
        log = procs.log("bsf")
        checks.check("BSF stopped cleanly", code == 0, f"exit {code}")
        checks.check("BSF log has neither K nor OPc", K not in log and OPC not in log)
    checks.finish()


if __name__ == "__main__":
    main()
