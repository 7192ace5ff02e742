"""test_bsf_zh - gba-bsf in Zh mode: vectors from gba-hss-sim over real
freeDiameter TCP on 127.0.0.1.  A full bootstrap, the resync path through
the HSS, an unknown user (5401 -> 403), a MAC failure, a frozen HSS (MAA
timeout -> 503 with Retry-After), the HSS down (503), the HSS back (the
BSF reconnects), a clean stop, and a stop bounded by bsf.shutdown_timeout
while a worker waits for a silent HSS.  The /metrics pages of both, parsed as
Prometheus does: build info, the peer up (and down once the HSS stops), and
the MAR/MAA counters of both ends moved by exactly the requests sent.

Then av.source = cx against gba-hss-sim --cx on plain TCP, captured and
decoded by tshark: bootstraps served by one MAR of several vectors, a
Public-Identity mapped with gba-subscriber, a resync, an unknown user
(5001 -> 403), every MAR/MAA on application 16777216.

    python3 test_bsf_zh.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER GBA_HSS_SIM [TSHARK]
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import bsfenv
import gbatest
import promtext
import tshark
from bsfenv import IMPI, OTHER_K

HSS_ID = "hss.gba.test"
BSF_ID = "bsf.gba.test"
REALM = "gba.test"
TIMEOUT_MS = 1000
# For sanitizer builds: freeDiameter's own one-time leak (see the file).  The
# leak is allocated inside GnuTLS, which has no frame pointers: only the slow
# unwinder sees freeDiameter's frame that the suppression names.
LSAN_ENV = {
    "LSAN_OPTIONS": "suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "lsan-freediameter.supp"),
    "ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                           "fast_unwind_on_malloc=0"])),
}


def test_ca(procs):
    """Zh runs over TLS (the default): the CA of this test's processes, made
    once per Processes (certtool), certificates for HSS_ID and BSF_ID."""
    if not hasattr(procs, "zh_ca"):
        procs.zh_ca = gbatest.TestCA(procs.dir, "zh-ca")
        procs.zh_bsf = procs.zh_ca.issue(BSF_ID)
    return procs.zh_ca


def bsf_tls(procs, identity=None):
    """gba-bsf's zh.tls_* keys (a dict for bsfenv.Bsf's extra), with a
    certificate for identity (default BSF_ID)."""
    ca = test_ca(procs)
    cert, key = ca.issue(identity) if identity else procs.zh_bsf
    return {"zh.tls_cert": cert, "zh.tls_key": key, "zh.tls_ca": ca.cert}


def start_hss(procs, hss_bin, db, port):
    """The HSS; with its metrics listener when procs.hss_metrics names a port."""
    metrics = getattr(procs, "hss_metrics", None)
    return procs.start("hss", [hss_bin, "--db", db, "--listen", f"127.0.0.1:{port}",
                               "--identity", HSS_ID, "--realm", REALM,
                               *test_ca(procs).hss_args(HSS_ID),
                               *(["--metrics", f"127.0.0.1:{metrics}"] if metrics else [])],
                       wait_port=port)


def first_request(bsf):
    return bsfenv.raw_request(bsf.port, bsfenv.get(f"127.0.0.1:{bsf.port}", bsfenv.first_auth()),
                              timeout=10)


def wait_for_vectors(bsf, timeout=30.0):
    """Until a first request gets a challenge (the Diameter connection is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, _ = first_request(bsf)
        if status == 401:
            return True
        time.sleep(0.5)
    return False


def test_bootstraps(checks, tools, bsf, state):
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("Zh: full bootstrap with a vector from the HSS", rc == 0, str(out))
    status, sess = bsf.session(out.get("btid", ""))
    checks.check("Zh: the session is stored", status == 200 and sess and sess.get("impi") == IMPI)

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--sqn-ahead", "500"])
    checks.check("Zh: resync (SIP-Authorization = RAND || AUTS to the HSS), then 200",
                 rc == 0 and out.get("resyncs") == 1, str(out))

    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(os.path.dirname(state), "u.sqn"),
                            impi="999990000000009@ims.mnc999.mcc999.3gppnetwork.org")
    checks.check("Zh: unknown user (5401): 403", rc == 1 and out.get("status") == 403, str(out))
    checks.check("Zh: counted as unknown_user", bsf.failures("unknown_user") == 1)

    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(os.path.dirname(state), "m.sqn"),
                            k=OTHER_K)
    checks.check("Zh: MAC failure: 403", rc == 1 and out.get("stage") == "usim" and
                 out.get("status") == 403, str(out))

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "bad-auts",
                                                           "--sqn-ahead", "10"])
    checks.check("Zh: corrupted AUTS refused by the HSS: 403",
                 rc == 1 and out.get("status") == 403, str(out))


def version_of(binary):
    """(program version, libgba version) from `binary --version`."""
    words = gbatest.run([binary, "--version"]).stdout.split()
    return words[1], words[-1].rstrip(")")


def scrape_both(bsf, procs):
    return (promtext.scrape(f"http://127.0.0.1:{bsf.admin_port}/metrics"),
            promtext.scrape(f"http://127.0.0.1:{procs.hss_metrics}/metrics"))


def moved(before, after, name, **labels):
    return (after.get(name, **labels) or 0) - (before.get(name, **labels) or 0)


def test_metrics(checks, tools, procs, bsf, hss_bin, state):
    """One bootstrap and one unknown user: the MAR/MAA counters of both ends
    move by exactly those exchanges (the card left ahead by the AUTS cases
    above may add a resynchronisation: one more MAR, vector and SQN)."""
    b0, h0 = scrape_both(bsf, procs)
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    rs = out.get("resyncs", 0)
    rc2, _ = bsfenv.run_ue(tools, bsf.url, os.path.join(os.path.dirname(state), "u2.sqn"),
                           impi="999990000000009@ims.mnc999.mcc999.3gppnetwork.org")
    b1, h1 = scrape_both(bsf, procs)
    checks.check("metrics: a bootstrap and an unknown user", rc == 0 and rc2 == 1)
    for page, prog, binary in ((b1, "gba-bsf", tools.bsf), (h1, "gba-hss-sim", hss_bin)):
        version, lib = version_of(binary)
        checks.check(f"metrics: {prog}: gba_build_info as --version says",
                     page.get("gba_build_info", program=prog, version=version, libgba=lib) == 1,
                     str(page.labels("gba_build_info")))
    checks.check("metrics: gba-bsf sees the HSS up, the HSS sees the BSF up",
                 b1.get("gba_diameter_peer_up", peer=HSS_ID) == 1 and
                 h1.get("gba_diameter_peer_up", peer=BSF_ID) == 1,
                 f"{b1.labels('gba_diameter_peer_up')} {h1.labels('gba_diameter_peer_up')}")
    mar, maa = dict(command="MAR"), dict(command="MAA")
    got = {
        "bsf MAR out": moved(b0, b1, "gba_diameter_requests_total", peer=HSS_ID,
                             direction="out", **mar),
        "bsf MAA in 2001": moved(b0, b1, "gba_diameter_answers_total", peer=HSS_ID,
                                 direction="in", result="2001", **maa),
        "bsf MAA in 5401": moved(b0, b1, "gba_diameter_answers_total", peer=HSS_ID,
                                 direction="in", result="5401", **maa),
        "hss MAR in": moved(h0, h1, "gba_diameter_requests_total", peer=BSF_ID,
                            direction="in", **mar),
        "hss MAA out 2001": moved(h0, h1, "gba_diameter_answers_total", peer=BSF_ID,
                                  direction="out", result="2001", **maa),
        "hss MAA out 5401": moved(h0, h1, "gba_diameter_answers_total", peer=BSF_ID,
                                  direction="out", result="5401", **maa),
        "hss vector": moved(h0, h1, "gba_hss_mars_total", type="authentication",
                            result="vector"),
        "hss resync vector": moved(h0, h1, "gba_hss_mars_total", type="resync",
                                   result="vector"),
        "hss unknown_user": moved(h0, h1, "gba_hss_mars_total", type="authentication",
                                  result="unknown_user"),
        "hss SQN reserved": moved(h0, h1, "gba_hss_sqn_reservations_total"),
    }
    want = {"bsf MAR out": 2 + rs, "hss MAR in": 2 + rs, "bsf MAA in 2001": 1 + rs,
            "hss MAA out 2001": 1 + rs, "hss resync vector": rs, "hss SQN reserved": 1 + rs}
    checks.check(f"metrics: MAR/MAA counted once per exchange on both ends, by result "
                 f"({rs} resync)", all(v == want.get(k, 1) for k, v in got.items()), str(got))


def freeze(proc, timeout=2.0):
    """SIGSTOP, then wait until every thread of proc is stopped (state T in
    /proc): kill() returns before the threads have stopped, and a thread
    still running could answer one more MAR (the frozen check's rare 401)."""
    proc.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            states = []
            for tid in os.listdir(f"/proc/{proc.pid}/task"):
                with open(f"/proc/{proc.pid}/task/{tid}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            states = []
        if states and all(st in "tT" for st in states):
            return
        time.sleep(0.01)


def test_hss_trouble(checks, tools, procs, bsf, hss_bin, db, hss_port, state):
    # Frozen: connected but silent.  The MAA never comes; the BSF gives up.
    pending = bsf.metrics().get("gba_bsf_challenges_pending")
    hss = procs.procs["hss"]
    freeze(hss)
    t0 = time.monotonic()
    try:
        status, hdrs, body = first_request(bsf)
    finally:
        hss.send_signal(signal.SIGCONT)
    waited = time.monotonic() - t0
    checks.check("HSS frozen: 503 with Retry-After", status == 503 and
                 hdrs.get("retry-after", "").isdigit(), f"{status} {hdrs} {body!r}")
    print(f"     (answered after {waited:.2f} s; zh.timeout_ms is {TIMEOUT_MS})")
    checks.check("HSS frozen: counted as hss_unavailable", bsf.failures("hss_unavailable") >= 1)

    procs.stop("hss")
    down = None
    for _ in range(50):
        down = promtext.scrape(f"http://127.0.0.1:{bsf.admin_port}/metrics").get(
            "gba_diameter_peer_up", peer=HSS_ID)
        if down == 0:
            break
        time.sleep(0.1)
    checks.check("HSS down: gba_diameter_peer_up of the HSS is 0", down == 0, str(down))
    status, hdrs, _ = first_request(bsf)
    checks.check("HSS down: 503 with Retry-After", status == 503 and
                 hdrs.get("retry-after", "").isdigit(), f"{status} {hdrs}")
    checks.check("HSS down: the BSF stays up", bsf.alive())
    after = bsf.metrics().get("gba_bsf_challenges_pending")
    checks.check("503s left no challenge behind", after == pending, f"{pending} -> {after}")

    start_hss(procs, hss_bin, db, hss_port)
    checks.check("HSS back: the BSF reconnects and challenges again", wait_for_vectors(bsf))
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("HSS back: a full bootstrap", rc == 0, str(out))


def test_bounded_stop(checks, tools, procs, db, hss_port):
    """A worker held by a silent HSS (zh.timeout_ms 30 s) must not hold up the
    stop past bsf.shutdown_timeout: the process exits 1, saying why."""
    bsf = bsfenv.Bsf(procs, tools, name="bsf-stuck", extra={
        "av.source": "zh", "bsf.shutdown_timeout": "2s", "ub.impi_challenge_rate": "0",
        "zh.origin_host": "bsf2.gba.test", "zh.origin_realm": REALM,
        "zh.hss_host": "127.0.0.1", "zh.hss_port": str(hss_port),
        "zh.hss_realm": REALM, "zh.hss_identity": HSS_ID,
        "zh.timeout_ms": "30000", **bsf_tls(procs, "bsf2.gba.test")}, env=LSAN_ENV).start()
    if not checks.check("bounded stop: a second BSF gets vectors", wait_for_vectors(bsf)):
        return
    hss = procs.procs["hss"]
    freeze(hss)
    try:
        stuck = threading.Thread(target=lambda: first_request(bsf), daemon=True)
        stuck.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        bsf.proc.send_signal(signal.SIGTERM)
        try:
            code = bsf.proc.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - t0
    finally:
        hss.send_signal(signal.SIGCONT)
    checks.check("bounded stop: SIGTERM with a worker stuck on the HSS: gone after "
                 "bsf.shutdown_timeout (2 s), exit 1", code == 1 and took < 5,
                 f"exit {code} after {took:.1f} s")
    checks.check("bounded stop: the log says why",
                 "not stopped after bsf.shutdown_timeout" in bsf.log(), bsf.log()[-1500:])
    bsf.stop()


CX_HSS_ID = "hss-cx.gba.test"
CX_BSF_ID = "bsf-cx.gba.test"
CX_PUBLIC_ID = "sip:alice.cx@gba.test"
CX_VECTORS = 3


def cx_mars(procs):
    """How many Cx MARs gba-hss-sim --cx has answered (its info lines)."""
    return procs.log("hss-cx").count("Cx MAR from " + CX_BSF_ID)


def test_cx(checks, tools, procs, hss_bin, db, tshark_bin):
    """av.source = cx: plain TCP, so that tshark can read the exchange."""
    port = gbatest.free_port()
    procs.start("hss-cx", [hss_bin, "--db", db, "--listen", f"127.0.0.1:{port}",
                           "--identity", CX_HSS_ID, "--realm", REALM, "--cx",
                           "--zh.transport", "tcp"], wait_port=port)
    cap = tshark.start(procs, tshark_bin, port, "cx.pcapng")
    checks.check("Cx: tshark captures", cap is not None)
    bsf_db = os.path.join(procs.dir, "bsf-cx.db")
    r = gbatest.run([tools.subscriber, "--db", bsf_db, "map", IMPI, CX_PUBLIC_ID])
    checks.check("Cx: gba-subscriber map IMPI sip:URI", r.returncode == 0, r.stdout + r.stderr)
    bsf = bsfenv.Bsf(procs, tools, name="bsf-cx", db=bsf_db, extra={
        "av.source": "cx", "ub.impi_challenge_rate": "0",
        "zh.origin_host": CX_BSF_ID, "zh.origin_realm": REALM,
        "zh.hss_host": "127.0.0.1", "zh.hss_port": str(port), "zh.hss_realm": REALM,
        "zh.hss_identity": CX_HSS_ID, "zh.transport": "tcp", "zh.timeout_ms": "3000",
        "cx.vectors": str(CX_VECTORS), "cx.spare_ttl": "60s", "av.spare_users": "1"},
        env=LSAN_ENV).start()
    state = os.path.join(procs.dir, "cx-card.sqn")
    for i in range(CX_VECTORS):
        rc, out = bsfenv.run_ue(tools, bsf.url, state)
        checks.check(f"Cx: bootstrap {i + 1} with a vector from a Cx MAA", rc == 0, str(out))
    checks.check(f"Cx: {CX_VECTORS} bootstraps took one MAR ({CX_VECTORS} vectors)",
                 cx_mars(procs) == 1, procs.log("hss-cx")[-1500:])
    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--sqn-ahead", "500"])
    checks.check("Cx: resync (RAND || AUTS in SIP-Authorization), then 200",
                 rc == 0 and out.get("resyncs") == 1, str(out))
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("Cx: a spare vector of the resync's MAA after the resync", rc == 0, str(out))
    check_cx_spares(checks, bsf)
    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(procs.dir, "cx-u.sqn"),
                            impi="999990000000009@ims.mnc999.mcc999.3gppnetwork.org")
    checks.check("Cx: unknown user (5001): 403", rc == 1 and out.get("status") == 403, str(out))
    checks.check("Cx: counted as unknown_user", bsf.failures("unknown_user") == 1)
    bsf.check_clean_stop(checks)
    if cap is None:
        return
    checks.check("Cx: capture complete", cap.stop())
    check_cx_capture(checks, cap)


def check_cx_spares(checks, bsf):
    """The spare cache in /metrics after test_cx's bootstraps: the resync
    dropped the spares of the MAA whose challenge the card refused; one of
    the resync MAA's is left (av.spare_users = 1 is enough for one IMPI)."""
    m = bsf.metrics()
    dropped = 'gba_bsf_spare_vectors_dropped_total{reason="%s"}'
    want = {"gba_bsf_spare_users": 1, "gba_bsf_spare_vectors": CX_VECTORS - 2,
            dropped % "resync": CX_VECTORS - 1, dropped % "evicted": 0,
            dropped % "expired": 0, dropped % "replaced": 0}
    got = {k: m.get(k) for k in want}
    checks.check("Cx: /metrics counts the spares kept and dropped", got == want, str(got))


def check_cx_capture(checks, cap):
    """Three reads of the capture: the summary lines, a field table, and
    the MARs in full; then tshark's own complaints."""
    summary = cap.read("-Y", "diameter")
    checks.check("tshark: Multimedia-Auth Request(303) and Answer on 3GPP Cx(16777216)",
                 re.search(r"Multimedia-Auth Request\(303\).*3GPP Cx\(16777216\)", summary) and
                 re.search(r"Multimedia-Auth Answer\(303\).*3GPP Cx\(16777216\)", summary),
                 summary[-2000:])
    rows = [line.split("\t") for line in cap.read(
        "-Y", "diameter.cmd.code==303", "-T", "fields", "-E", "occurrence=a",
        "-e", "diameter.applicationId", "-e", "diameter.flags.request",
        "-e", "diameter.Result-Code", "-e", "diameter.Experimental-Result-Code",
        "-e", "diameter.3GPP-SIP-Item-Number",
        "-e", "diameter.3GPP-SIP-Authorization").splitlines() if line]
    checks.check("tshark: every MAR/MAA on application 16777216",
                 rows and all(r[0] == "16777216" for r in rows), str(rows)[:500])
    mars = [r for r in rows if r[1] in ("1", "True")]
    maas = [r for r in rows if r[1] not in ("1", "True")]
    resync = [r[5] for r in mars if len(r) > 5 and r[5]]
    checks.check("tshark: a MAR carries SIP-Authorization of 30 octets (RAND || AUTS)",
                 len(resync) == 1 and len(resync[0].replace(":", "")) == 60, str(resync))
    items = [r[4] for r in maas if r[2] == "2001"]
    checks.check(f"tshark: MAAs with {CX_VECTORS} SIP-Auth-Data-Items numbered 1..{CX_VECTORS}",
                 items and all(i == ",".join(str(n + 1) for n in range(CX_VECTORS))
                               for i in items), str(items))
    checks.check("tshark: Experimental-Result-Code 5001 (unknown user)",
                 any(r[3] == "5001" for r in maas), str(maas)[:500])
    mar = cap.read("-Y", "diameter.cmd.code==303 && diameter.flags.request==1", "-V")
    for avp in ("Public-Identity(601)", "Server-Name(602)", "3GPP-SIP-Number-Auth-Items(607)",
                "3GPP-SIP-Auth-Data-Item(612)", "3GPP-SIP-Authentication-Scheme(608)"):
        checks.check(f"tshark: MAR AVP {avp}", f"AVP: {avp}" in mar)
    checks.check("tshark: Public-Identity as mapped", CX_PUBLIC_ID in mar)
    checks.check("tshark: Server-Name sip:<zh.origin_host>", "sip:" + CX_BSF_ID in mar)
    bad, expert = cap.problems()
    checks.check("tshark: no malformed packet, no Diameter expert warning or error",
                 not bad, bad)
    checks.check("tshark: expert summary has no Warns/Errors outside TCP analysis",
                 not expert, str(expert))


def main():
    if len(sys.argv) < 5 or not sys.argv[4]:
        print("SKIP: gba-hss-sim is not built")
        sys.exit(77)
    tools = bsfenv.Tools()
    hss_bin = sys.argv[4]
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "hss.db")
        bsfenv.add_subscriber(tools, db)
        hss_port = gbatest.free_port()
        procs.hss_metrics = gbatest.free_port()
        start_hss(procs, hss_bin, db, hss_port)
        # Every first request must draw a fresh vector from the HSS (the
        # frozen and stopped HSS checks count on it): no per-IMPI rate, which
        # would resend a pending challenge without asking the HSS.
        bsf = bsfenv.Bsf(procs, tools, name="bsf-zh", extra={
            "av.source": "zh", "bsf.threads": "4", "ub.retry_after": "3s",
            "ub.impi_challenge_rate": "0",
            "zh.origin_host": BSF_ID, "zh.origin_realm": REALM,
            "zh.hss_host": "127.0.0.1", "zh.hss_port": str(hss_port),
            "zh.hss_realm": REALM, "zh.hss_identity": HSS_ID,
            "zh.timeout_ms": str(TIMEOUT_MS), **bsf_tls(procs)}, env=LSAN_ENV).start()
        checks.check("gba-bsf starts in Zh mode and gets vectors", wait_for_vectors(bsf),
                     bsf.log()[-2000:])
        state = os.path.join(procs.dir, "card.sqn")
        test_bootstraps(checks, tools, bsf, state)
        test_metrics(checks, tools, procs, bsf, hss_bin, state)
        test_hss_trouble(checks, tools, procs, bsf, hss_bin, db, hss_port, state)
        t0 = time.monotonic()
        test_cx(checks, tools, procs, hss_bin, db, sys.argv[5] if len(sys.argv) > 5 else "")
        print(f"     (the Cx part took {time.monotonic() - t0:.1f} s)")
        test_bounded_stop(checks, tools, procs, db, hss_port)
        log = bsf.log()
        checks.check("the Diameter node logs into the BSF's log", "zh:" in log)
        checks.check("the log never shows K or OPc", bsfenv.K not in log and bsfenv.OPC not in log)
        bsf.check_clean_stop(checks)
        up = None
        for _ in range(50):
            up = promtext.scrape(f"http://127.0.0.1:{procs.hss_metrics}/metrics").get(
                "gba_diameter_peer_up", peer=BSF_ID)
            if up != 1:
                break
            time.sleep(0.1)
        print(f"     (the HSS's gba_diameter_peer_up of the stopped BSF: {up})")
        checks.check("BSF stopped: the HSS no longer shows it up", up in (0, None), str(up))
    checks.finish()


if __name__ == "__main__":
    main()
