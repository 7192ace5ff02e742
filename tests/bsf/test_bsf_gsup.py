"""test_bsf_gsup - gba-bsf with av.source = gsup: vectors from Debian's real
osmo-hlr over GSUP.  The HLR runs with its own config and database on a
loopback address of its own (127.x.y.z: osmo-hlr 1.5 has fixed ports
4222/4258/4259, so parallel tests each take an address), subscribers
provisioned through its VTY as a lab does.  A bootstrap with a vector from
the HLR, an IMPI mapped with gba-subscriber map, a resync (a card SQN
ahead of the HLR's), an unknown IMSI (403), the HLR frozen (timeout ->
503), stopped (503 with Retry-After, the outage counted once) and back
(bootstraps resume), and a clean stop.

    python3 test_bsf_gsup.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import shutil
import signal
import socket
import sys
import threading
import time

import bsfenv
import gbatest
from osmohlr import GSUP_PORT, Hlr, free_loopback
from bsfenv import IMPI, K, OPC, OTHER_K

IMSI = IMPI.split("@")[0]
OTHER_IMSI = "001010000000002"
# Never bootstrapped before the HLR trouble: no spare vectors to hide it.
FRESH_IMPI = "001010000000003@ims.mnc001.mcc001.3gppnetwork.org"
SLOW_IMPI = "001010000000004@ims.mnc001.mcc001.3gppnetwork.org"   # after the freeze
ISIM_IMPI = "alice@ims.example.org"     # not IMSI-derived: needs a mapping
TIMEOUT_MS = 1000
def first_request(bsf, impi=IMPI):
    return bsfenv.raw_request(bsf.port, bsfenv.get(f"127.0.0.1:{bsf.port}",
                                                   bsfenv.first_auth(impi)), timeout=10)


def wait_for_vectors(bsf, impi=IMPI, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, _ = first_request(bsf, impi)
        if status == 401:
            return True
        time.sleep(0.3)
    return False


def test_bootstraps(checks, tools, bsf, hlr, state):
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("GSUP: full bootstrap with a vector from osmo-hlr", rc == 0, str(out))
    status, sess = bsf.session(out.get("btid", ""))
    checks.check("GSUP: the session is stored", status == 200 and sess and
                 sess.get("impi") == IMPI)
    rc2, out2 = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("GSUP: a second bootstrap (a spare vector, a fresher SQN)",
                 rc2 == 0 and out2.get("btid") != out.get("btid"), str(out2))

    seq = hlr.seq(IMSI)
    checks.check("GSUP: three vectors (a challenge, two bootstraps) from one SendAuthInfo: "
                 "the HLR's SEQ moved by its 5 only", seq == 5, f"SEQ {seq}")
    m = bsf.metrics()
    spares = (m.get("gba_bsf_spare_users"), m.get("gba_bsf_spare_vectors"),
              m.get('gba_bsf_spare_vectors_dropped_total{reason="evicted"}'))
    checks.check("GSUP: /metrics: the IMSI's 2 unused spares kept, none evicted",
                 spares == (1, 2, 0), str(spares))

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--sqn-ahead", "500"])
    checks.check("GSUP: resync (AUTS + RAND in SendAuthInfo), fresh vector, then 200",
                 rc == 0 and out.get("resyncs") == 1, str(out))
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("GSUP: after the resync the HLR's SQN is ahead: no new resync",
                 rc == 0 and out.get("resyncs", 0) == 0, str(out))

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "bad-auts",
                                                           "--sqn-ahead", "10"])
    checks.check("GSUP: corrupted AUTS refused by osmo-hlr: 403",
                 rc == 1 and out.get("status") == 403, str(out))

    d = os.path.dirname(state)
    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(d, "u.sqn"),
                            impi="001019999999999@ims.mnc001.mcc001.3gppnetwork.org")
    checks.check("GSUP: IMSI unknown to the HLR: 403", rc == 1 and out.get("status") == 403,
                 str(out))
    status, _, _ = first_request(bsf, "nobody@ims.example.org")
    checks.check("GSUP: an IMPI with no IMSI (no rule, no mapping): 403", status == 403)
    checks.check("GSUP: both counted as unknown_user", bsf.failures("unknown_user") == 2)

    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(d, "m.sqn"), k=OTHER_K)
    checks.check("GSUP: a card with another K: MAC failure, 403",
                 rc == 1 and out.get("status") == 403, str(out))

    r = gbatest.run([tools.subscriber, "--db", bsf.db, "map", ISIM_IMPI, OTHER_IMSI])
    checks.check("gba-subscriber map", r.returncode == 0, r.stdout + r.stderr)
    r = gbatest.run([tools.subscriber, "--db", bsf.db, "show", ISIM_IMPI])
    checks.check("gba-subscriber show lists the mapping",
                 r.returncode == 0 and f"mapped_imsi: {OTHER_IMSI}" in r.stdout, r.stdout)
    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(d, "isim.sqn"), impi=ISIM_IMPI,
                            k=OTHER_K, opc=OPC)
    checks.check("GSUP: a mapped (non-IMSI) IMPI bootstraps", rc == 0, str(out))
    r = gbatest.run([tools.subscriber, "--db", bsf.db, "unmap", ISIM_IMPI])
    status, _, _ = first_request(bsf, ISIM_IMPI)
    checks.check("gba-subscriber unmap: that IMPI is unknown again",
                 r.returncode == 0 and status == 403, f"{r.stdout}{r.stderr} {status}")


def test_hlr_trouble(checks, tools, procs, bsf, hlr, state):
    proc = procs.procs["hlr"]
    proc.send_signal(signal.SIGSTOP)
    try:
        status, hdrs, body = first_request(bsf, FRESH_IMPI)
    finally:
        proc.send_signal(signal.SIGCONT)
    checks.check("HLR frozen: 503 with Retry-After", status == 503 and
                 hdrs.get("retry-after", "").isdigit(), f"{status} {hdrs} {body!r}")
    status, _, _ = first_request(bsf, SLOW_IMPI)
    log = bsf.log()
    checks.check("HLR slow: logged once, and once when it answers again",
                 log.count("not answering") == 1 and log.count("answers again") == 1 and
                 status == 401, f"{status} " + log[-1500:])
    checks.check("HLR slow: counted as an outage", bsf.metrics().get(
        "gba_bsf_gsup_outages_total") == 1)

    procs.stop("hlr")
    time.sleep(0.3)
    answers = [first_request(bsf, FRESH_IMPI) for _ in range(3)]
    checks.check("HLR down: 503 with Retry-After, at once",
                 all(a[0] == 503 and a[1].get("retry-after", "").isdigit() for a in answers),
                 str([a[:2] for a in answers]))
    checks.check("HLR down: the BSF stays up", bsf.alive())
    m = bsf.metrics()
    checks.check("HLR down: one more outage counted", m.get("gba_bsf_gsup_outages_total") == 2,
                 str(m.get("gba_bsf_gsup_outages_total")))
    log = bsf.log()
    checks.check("HLR down: logged once per outage", log.count("unreachable") == 1,
                 log[-1500:])

    hlr.start()
    checks.check("HLR back: the BSF reconnects and challenges again",
                 wait_for_vectors(bsf, FRESH_IMPI),
                 bsf.log()[-3000:] + procs.log("hlr")[-2000:])
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("HLR back: a full bootstrap", rc == 0, str(out))
    checks.check("HLR back: logged", "is back" in bsf.log())


class BadHlr(threading.Thread):
    """A GSUP peer that answers a SendAuthInfo with a malformed message and an
    unexpected one (bytes the BSF must log and drop, never trust), then nothing."""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.got_sai = threading.Event()

    @staticmethod
    def ipa_gsup(payload):
        body = b"\x05" + payload            # IPA OSMO extension 5: GSUP
        return len(body).to_bytes(2, "big") + b"\xee" + body

    def run(self):
        conn, _ = self.srv.accept()
        with conn:
            conn.settimeout(10)
            buf = b""
            while b"\xee\x05\x08" not in buf:      # a SendAuthInfo Request
                d = conn.recv(4096)
                if not d:
                    return
                buf += d
            self.got_sai.set()
            imsi_ie = b"\x01\x08" + bytes.fromhex("00010100000000f1")
            # A SendAuthInfo Result whose auth tuple IE claims 32 octets and has 2.
            conn.sendall(self.ipa_gsup(b"\x0a" + imsi_ie + b"\x03\x20\x20\x10"))
            # An Update Location Request: a message a BSF never expects.
            conn.sendall(self.ipa_gsup(b"\x04" + imsi_ie))
            time.sleep(3)


def test_bad_peer(checks, tools, procs):
    bad = BadHlr()
    bad.start()
    bsf = bsfenv.Bsf(procs, tools, name="bsf-bad-hlr", extra={
        "av.source": "gsup", "gsup.remote": f"127.0.0.1:{bad.port}",
        "gsup.timeout_ms": str(TIMEOUT_MS)}).start()
    deadline = time.monotonic() + 10
    status, hdrs = None, {}
    while time.monotonic() < deadline and not bad.got_sai.is_set():
        status, hdrs, _ = first_request(bsf)
        time.sleep(0.2)
    time.sleep(0.5)
    checks.check("bad GSUP peer: the SendAuthInfo reached it", bad.got_sai.is_set())
    checks.check("bad GSUP peer: 503 with Retry-After, no vector trusted",
                 status == 503 and hdrs.get("retry-after", "").isdigit(), f"{status} {hdrs}")
    m = bsf.metrics()
    checks.check("bad GSUP peer: both messages counted as dropped",
                 m.get("gba_bsf_gsup_dropped_total") == 2,
                 str(m.get("gba_bsf_gsup_dropped_total")))
    log = bsf.log()
    checks.check("bad GSUP peer: logged as malformed and as unexpected",
                 "dropped a malformed message" in log and "dropped an unexpected" in log,
                 log[-1500:])
    bsf.check_clean_stop(checks)


def main():
    if not shutil.which("osmo-hlr"):
        print("SKIP: osmo-hlr is not installed (scripts/setup.sh)")
        sys.exit(77)
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        hlr = Hlr(procs, free_loopback())
        hlr.start()
        out = hlr.add(IMSI, K, OPC)
        checks.check("osmo-hlr VTY: subscriber created", "Created subscriber" in out, out)
        hlr.add(OTHER_IMSI, OTHER_K, OPC)
        hlr.add(FRESH_IMPI.split("@")[0], K, OPC)
        hlr.add(SLOW_IMPI.split("@")[0], K, OPC)
        bsf = bsfenv.Bsf(procs, tools, name="bsf-gsup", extra={
            "av.source": "gsup", "bsf.threads": "4", "ub.retry_after": "3s",
            "gsup.remote": f"{hlr.addr}:{GSUP_PORT}", "gsup.name": "bsf-test",
            "gsup.timeout_ms": str(TIMEOUT_MS)}).start()
        checks.check("gba-bsf starts in GSUP mode and gets vectors", wait_for_vectors(bsf),
                     bsf.log()[-2000:])
        state = os.path.join(procs.dir, "card.sqn")
        test_bootstraps(checks, tools, bsf, hlr, state)
        test_hlr_trouble(checks, tools, procs, bsf, hlr, state)
        log = bsf.log()
        checks.check("the log never shows K or OPc", K not in log and OPC not in log)
        bsf.check_clean_stop(checks)
        test_bad_peer(checks, tools, procs)
    checks.finish()


if __name__ == "__main__":
    main()
