#!/usr/bin/env python3
"""test_zh.py - the BSF's Zh source against gba-hss-sim, over real
freeDiameter on 127.0.0.1, each in its own process: TLS with certificates
from a CA made at test time (certtool), except for the exchanges tshark
decodes, which run on explicit plain TCP (tshark cannot read inside TLS).

Over TLS the HSS must refuse a BSF that connects over plain TCP, one whose
certificate (from the CA) names another identity, and one with a
certificate from another CA.

zh-probe (the BSF's bsf/zh code with a simulated USIM) asks gba-hss-sim for
vectors and checks each one on the card; then a resynchronisation with the
card ahead, an AUTS that does not verify, an unknown IMPI, malformed MARs,
an HSS that never answers (SIGSTOP), one that is down, and one that comes
back.  The normal exchanges are captured on lo and decoded by tshark,
Wireshark's stock dictionary being the independent check of the wire
format.  No log may show a CK, IK or XRES.

Usage: test_zh.py GBA_HSS_SIM ZH_PROBE GBA_SUBSCRIBER TSHARK   (TSHARK '' if none)
"""
import os
import re
import signal
import subprocess
import sys
import time

import diameter_raw
import gbatest
import tshark

HSS_BIN, PROBE_BIN, SUBSCRIBER_BIN, TSHARK = sys.argv[1:5]

K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
IMPI = "alice@ims.mnc001.mcc001.3gppnetwork.org"
UNKNOWN = "nobody@ims.mnc001.mcc001.3gppnetwork.org"
GUSS = '<guss xmlns="uri:3gpp-gba"><bsfInfo><uiccType>GBA</uiccType></bsfInfo></guss>'
HSS_ID = "hss.zh.test"
REALM = "zh.test"
TIMEOUT_MS = 800

checks = gbatest.Checks()

# How the HSS and the probes talk: set in main().  The tshark part runs on
# explicit plain TCP (tshark cannot look inside TLS); everything after it
# runs over TLS, the default.
MODE = {"hss": ["--zh.transport", "tcp"], "probe": ["--transport", "tcp"]}


class Probe(gbatest.LineProcess):
    """zh-probe run: one command line in, one answer line out, bounded."""

    def __init__(self, procs, name, port, extra=()):
        super().__init__(procs, name, [
            PROBE_BIN, "run", "--hss", f"127.0.0.1:{port}", "--hss-id", HSS_ID,
            "--realm", REALM, "--timeout", str(TIMEOUT_MS),
            "--secrets", os.path.join(procs.dir, "secrets.txt"), *MODE["probe"], *extra])

    def fetch(self, what="fetch", impi=IMPI):
        """(error name, milliseconds, GUSS length)"""
        words = self.cmd(f"{what} {impi}").split()
        return words[1], int(words[2]), int(words[3].split("=")[1])

    def open(self):
        first = self.line()
        return first == "open GBA_OK" and self.line() == "ready", first

    def quit(self):
        try:
            ok = self.cmd("quit") == "bye" and self.proc.wait(10) == 0
        except (OSError, TimeoutError, EOFError, subprocess.TimeoutExpired):
            ok = False
        if not ok:
            print(self.procs.log(self.name)[-3000:], file=sys.stderr)
        return ok


def start_hss(procs, db, port, name="hss", extra=None):
    return procs.start(name, [HSS_BIN, "--db", db, "--listen", f"127.0.0.1:{port}",
                              "--identity", HSS_ID, "--realm", REALM,
                              *(MODE["hss"] if extra is None else extra)],
                       wait_port=port)


def tls_files(cert, key, ca):
    return ["--tls-cert", cert, "--tls-key", key, "--tls-ca", ca]


def tls_peers(procs, db, port, ca):
    """Over TLS the HSS serves a BSF whose certificate names the identity of
    its CER, and no other."""
    name = "bsf.probe.test"
    good = Probe(procs, "probe-tls", port)
    checks.check("TLS: probe with its own certificate opens", good.open())
    good.cmd(f"card {K} {OPC} 100")
    err, _, _ = good.fetch()
    checks.check("TLS: vector over TLS", err == "GBA_OK", err)
    checks.check("TLS: the card takes it", good.cmd("auth") == "auth GBA_OK")
    checks.check("TLS: probe quits", good.quit())
    checks.check("TLS: HSS accepted the BSF by its certificate",
                 f"accepting peer {name} (TLS, certificate names it)" in procs.log("hss"))

    other_cert, other_key = ca.issue("other.probe.test")
    rogue_ca = gbatest.TestCA(procs.dir, "rogue")
    rogue_cert, rogue_key = rogue_ca.issue(name)
    cases = [("plain TCP to the TLS port", ["--transport", "tcp"])]
    for i, (what, files) in enumerate(cases):
        p = Probe(procs, f"probe-bad{i}", port, files)
        opened = p.open()
        err, _, _ = p.fetch() if opened[0] else ("no-open", 0, 0)
        checks.check(f"TLS: {what}: refused, no vector", err == "GBA_ERR_UNAVAILABLE", err)
        checks.check(f"TLS: {what}: probe quits", p.quit())
    # freeDiameter will not start with a certificate that does not name its
    # identity: a hand-written client claims bsf.probe.test with the CA's
    # certificate for other.probe.test.
    c = diameter_raw.Client(port, name, "probe.test", diameter_raw.APP_ZH,
                            tls=(other_cert, other_key, ca.cert))
    code = c.cer()
    c.close()
    checks.check("TLS: a certificate from the CA for another identity: CER refused",
                 code is not None and code != 2001, str(code))
    # A certificate for the right name from another CA (the client trusts
    # the HSS's CA; freeDiameter takes one CA chain per file).
    c = diameter_raw.Client(port, name, "probe.test", diameter_raw.APP_ZH,
                            tls=(rogue_cert, rogue_key, ca.cert))
    code = c.cer()
    c.close()
    checks.check("TLS: a certificate for its name from another CA: refused",
                 code is None, f"{code} {c.handshake_error}")
    checks.check("TLS: HSS logged the refusal of the wrong identity",
                 f"refusing peer {name}: its certificate does not name it" in procs.log("hss"))


def check_capture(cap):
    summary = cap.read("-Y", "diameter")
    checks.check("tshark: Multimedia-Auth Request(303) on 3GPP Zh(16777221)",
                 re.search(r"Multimedia-Auth Request\(303\).*3GPP Zh\(16777221\)", summary))
    checks.check("tshark: Multimedia-Auth Answer(303) on 3GPP Zh(16777221)",
                 re.search(r"Multimedia-Auth Answer\(303\).*3GPP Zh\(16777221\)", summary))
    apps = cap.read("-Y", "diameter.cmd.code==303", "-T", "fields",
                       "-e", "diameter.applicationId").split()
    checks.check("tshark: every MAR/MAA on application 16777221",
                 apps and all(a == "16777221" for a in apps), str(apps))

    detail = cap.read("-Y", "diameter.cmd.code==303", "-V")
    for avp in ("User-Name(1)", "3GPP-SIP-Number-Auth-Items(607)",
                "3GPP-SIP-Auth-Data-Item(612)", "3GPP-SIP-Authentication-Scheme(608)",
                "3GPP-SIP-Authenticate(609)", "3GPP-SIP-Authorization(610)",
                "Confidentiality-Key(625)", "Integrity-Key(626)", "GBA-UserSecSettings(400)"):
        checks.check(f"tshark: AVP {avp}", f"AVP: {avp}" in detail)
    checks.check("tshark: vendor AVPs flagged V and M", "f=VM- vnd=TGPP" in detail)

    resync = cap.read("-Y",
                         "diameter.flags.request==1 && diameter.3GPP-SIP-Authorization",
                         "-T", "fields", "-e", "diameter.3GPP-SIP-Authorization").split()
    checks.check("tshark: a MAR carries SIP-Authorization of 30 octets (RAND || AUTS)",
                 resync and all(len(v.replace(":", "")) == 60 for v in resync), str(resync))
    codes = cap.read("-Y", "diameter.cmd.code==303 && diameter.flags.request==0",
                        "-T", "fields", "-e", "diameter.Result-Code",
                        "-e", "diameter.Experimental-Result-Code")
    checks.check("tshark: MAA with Result-Code 2001", "2001" in codes.split())
    checks.check("tshark: MAA with Experimental-Result-Code 5401 (unknown IMPI)",
                 "5401" in codes.split(), codes)
    checks.check("tshark: 5401 shown by name", "DIAMETER_ERROR_IMPI_UNKNOWN (5401)" in detail)

    bad, expert = cap.problems()
    checks.check("tshark: no malformed packet, no Diameter expert warning or error",
                 not bad, bad)
    checks.check("tshark: expert summary has no Warns/Errors outside TCP analysis",
                 not expert, str(expert))


def normal_exchanges(procs, port, probe):
    """Vectors, resynchronisation, a refused AUTS, an unknown IMPI."""
    checks.check("probe opens and connects", probe.open())
    checks.check("card set", probe.cmd(f"card {K} {OPC}") == "card ok")
    for i in range(3):
        err, ms, guss = probe.fetch()
        checks.check(f"vector {i + 1} fetched", err == "GBA_OK", err)
        checks.check(f"vector {i + 1} carries the GUSS", guss == len(GUSS), str(guss))
        checks.check(f"vector {i + 1} accepted by the USIM (RES, CK, IK match)",
                     probe.cmd("auth") == "auth GBA_OK")

    # The card is ahead of the HSS: sync failure, resync with RAND || AUTS.
    checks.check("card ahead", probe.cmd(f"card {K} {OPC} 5000") == "card ok")
    err, _, _ = probe.fetch()
    checks.check("vector from an HSS behind the card", err == "GBA_OK", err)
    checks.check("USIM answers sync failure (AUTS)",
                 probe.cmd("auth") == "auth GBA_ERR_SYNC_FAILURE")
    err, _, guss = probe.fetch("resync")
    checks.check("resync MAR answered with a fresh vector", err == "GBA_OK", err)
    checks.check("USIM accepts the vector after resync", probe.cmd("auth") == "auth GBA_OK")
    err, _, _ = probe.fetch()
    checks.check("next vector after resync", err == "GBA_OK" and
                 probe.cmd("auth") == "auth GBA_OK", err)

    # An AUTS whose MAC-S does not verify: refused, SQN left alone.
    probe.cmd(f"card {K} {OPC} 9000")
    probe.fetch()
    checks.check("sync failure again", probe.cmd("auth") == "auth GBA_ERR_SYNC_FAILURE")
    err, _, _ = probe.fetch("badresync")
    checks.check("spoiled AUTS -> GBA_ERR_AUTS_INVALID", err == "GBA_ERR_AUTS_INVALID", err)

    err, ms, _ = probe.fetch(impi=UNKNOWN)
    checks.check("unknown IMPI -> GBA_ERR_NOT_FOUND (5401)", err == "GBA_ERR_NOT_FOUND", err)


def malformed_mars(procs, port):
    """Crafted MARs from a probe sharing its node: clear errors, HSS alive."""
    probe = Probe(procs, "probe-raw", port, ["--shared-node"])
    checks.check("raw probe opens", probe.open())
    want = {
        "no-user-name": "5005",          # DIAMETER_MISSING_AVP (freeDiameter, our rules)
        "two-user-names": "5009",        # DIAMETER_AVP_OCCURS_TOO_MANY_TIMES
        "no-vsai": "5005",
        "two-items": "5009",
        "newline-user-name": "5004",     # DIAMETER_INVALID_AVP_VALUE (+ Failed-AVP)
        "long-user-name": "5004",
        "short-authorization": "5004",
        "bad-scheme": "5004",
        "wrong-application": "3007",     # DIAMETER_APPLICATION_UNSUPPORTED
        "good": "2001",                  # well-formed: a vector
    }
    for kind, code in want.items():
        words = probe.cmd(f"raw {kind}").split()
        checks.check(f"malformed MAR '{kind}' -> {code}", words[2:3] == [code], " ".join(words))
    checks.check("HSS still running after malformed MARs", procs.procs["hss"].poll() is None)
    checks.check("raw probe quits", probe.quit())


def wait_stopped(pid, timeout=5.0):
    """SIGSTOP takes effect asynchronously: wait for state T in /proc."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    return True
        except OSError:
            return False
        time.sleep(0.01)
    return False


def timeouts_and_outages(procs, db, port):
    probe = Probe(procs, "probe-fail", port)
    checks.check("probe 2 opens", probe.open())
    probe.cmd(f"card {K} {OPC} 20000")
    err, _, _ = probe.fetch()
    checks.check("vector before the HSS stops answering", err == "GBA_OK", err)

    hss = procs.procs["hss"]
    hss.send_signal(signal.SIGSTOP)
    checks.check("HSS stopped (SIGSTOP)", wait_stopped(hss.pid))
    try:
        err, ms, _ = probe.fetch()
    finally:
        hss.send_signal(signal.SIGCONT)
    checks.check("stopped HSS -> GBA_ERR_TIMEOUT", err == "GBA_ERR_TIMEOUT", err)
    checks.check(f"timeout after {TIMEOUT_MS} ms, within the 1 s grace",
                 TIMEOUT_MS - 50 <= ms <= TIMEOUT_MS + 1000, f"{ms} ms")
    # The late answer arrives now: freeDiameter drops it, the probe lives on.
    deadline = time.monotonic() + 5
    while "dropped answer 303" not in procs.log("probe-fail") and time.monotonic() < deadline:
        time.sleep(0.05)
    checks.check("late MAA dropped and logged as such",
                 "dropped answer 303" in procs.log("probe-fail"))
    err, _, _ = probe.fetch()
    checks.check("next vector after the late answer", err == "GBA_OK", err)
    checks.check("... and the card takes it", probe.cmd("auth") in
                 ("auth GBA_OK", "auth GBA_ERR_SYNC_FAILURE"))

    rc = procs.stop("hss")
    checks.check("gba-hss-sim stops cleanly on SIGTERM", rc == 0, str(rc))
    time.sleep(0.3)
    err, ms, _ = probe.fetch()
    checks.check("HSS down -> GBA_ERR_UNAVAILABLE", err == "GBA_ERR_UNAVAILABLE", err)
    checks.check("... at once, well within the timeout", ms < TIMEOUT_MS, f"{ms} ms")

    # The HSS comes back: the node reconnects by itself (Tc 5 s, +-2 s).
    start_hss(procs, db, port)
    deadline = time.monotonic() + 15
    err = None
    while time.monotonic() < deadline:
        err, _, _ = probe.fetch()
        if err == "GBA_OK":
            break
        time.sleep(0.25)
    checks.check("reconnected to the restarted HSS", err == "GBA_OK", err)
    checks.check("probe 2 quits", probe.quit())

    # An HSS that was never there: open succeeds, fetch says unavailable.
    dead = gbatest.free_port()
    probe = Probe(procs, "probe-dead", dead)
    checks.check("probe toward nothing still opens", probe.open())
    err, ms, _ = probe.fetch()
    checks.check("no HSS at all -> GBA_ERR_UNAVAILABLE", err == "GBA_ERR_UNAVAILABLE", err)
    checks.check("probe 3 quits", probe.quit())


def no_secrets_in_logs(procs):
    try:
        with open(os.path.join(procs.dir, "secrets.txt")) as f:
            secrets = {s.strip().lower() for s in f if s.strip()}
    except OSError:
        secrets = set()
    checks.check("secrets recorded for the leak check", len(secrets) >= 10, str(len(secrets)))
    for name in ("hss", "probe", "probe-raw", "probe-fail", "probe-dead"):
        text = procs.log(name).lower()
        leaked = [s for s in secrets if s in text]
        checks.check(f"no CK/IK/XRES in the log of {name}", not leaked, str(leaked[:2]))
        # In sanitizer builds: UBSan reports go to the log without failing.
        checks.check(f"no sanitizer report in the log of {name}",
                     "runtime error:" not in text and "addresssanitizer" not in text)


def main():
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        keys = os.path.join(procs.dir, "alice.keys")
        guss = os.path.join(procs.dir, "alice.guss")
        with open(os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(f"k={K}\nopc={OPC}\n")
        with open(guss, "w") as f:
            f.write(GUSS)
        added = gbatest.run([SUBSCRIBER_BIN, "--db", db, "add", "--impi", IMPI,
                             "--k-file", keys, "--guss-file", guss])
        checks.check("subscriber added (gba-subscriber)", added.returncode == 0,
                     added.stdout + added.stderr)
        port = gbatest.free_port()
        start_hss(procs, db, port)

        cap = tshark.start(procs, TSHARK, port, "zh.pcapng")
        checks.check("tshark installed and capturing on lo", cap is not None,
                     procs.log("tshark")[-300:])
        probe = Probe(procs, "probe", port)
        normal_exchanges(procs, port, probe)
        checks.check("probe quits", probe.quit())
        if cap:
            checks.check("tshark saw the whole exchange", cap.stop())
            check_capture(cap)

        # From here on: TLS (the default), certificates from a test CA.
        procs.stop("hss")
        ca = gbatest.TestCA(procs.dir)
        cert, key = ca.issue("bsf.probe.test")
        MODE["hss"] = ca.hss_args(HSS_ID)
        MODE["probe"] = tls_files(cert, key, ca.cert)
        start_hss(procs, db, port)
        tls_peers(procs, db, port, ca)
        malformed_mars(procs, port)
        timeouts_and_outages(procs, db, port)
        checks.check("HSS log names the outcomes",
                     all(s in procs.log("hss") for s in ("vector sent", "(resync)",
                                                          "not found")))
        procs.stop("hss")
        no_secrets_in_logs(procs)
    checks.finish()


if __name__ == "__main__":
    main()
