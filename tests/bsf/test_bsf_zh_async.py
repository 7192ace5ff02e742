"""test_bsf_zh_async - gba-bsf in Zh mode with fewer Ub workers than MARs in
flight: a first challenge's MAR holds its request, not its worker
(bsf/zh/zh.c's fetch_start).  Real gba-hss-sim over freeDiameter TLS on
127.0.0.1, gba-bsf with bsf.threads = 1:

- 32 first requests of 32 subscribers while the HSS is frozen (SIGSTOP): the
  BSF's own Diameter counters show 32 MARs sent with none answered, more
  than its one worker (a worker that waited for its MAA would have sent
  one); thawed, every request gets its challenge, and the HSS counted the
  32 MARs;
- 8 resynchronisations (random AUTS) while the HSS is frozen: 8 MARs sent
  with the one worker; thawed, the HSS refuses each AUTS (403);
- 32 gba-test-ue bootstrap at once, each its own subscriber: all succeed;
- the HSS frozen again (zh.timeout_ms 1500): 8 first requests at once all
  get 503 with Retry-After within the timeout, not one after another (4 more
  whose clients hung up leave nothing behind), no challenge is left pending;
  thawed, the BSF bootstraps again;
- the HSS killed (SIGKILL) with 8 MARs in flight: each held request gets one
  503 within the timeout; the HSS restarted, the BSF bootstraps again;
- SIGTERM with 8 MARs in flight to the frozen HSS, which thaws during the
  stop (the held requests get their 401s), or only once the MARs have
  expired (each held request ends with a 503): gba-bsf exits 0 either way
  (MHD_stop_daemon with a suspended connection would abort), with no
  sanitizer report.

    python3 test_bsf_zh_async.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER GBA_HSS_SIM
"""
import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import bsfenv
import gbatest
import promtext
import test_bsf_zh as zh
from bsfenv import card_impi

UES = 32
SHORT_TIMEOUT_MS = 1500


def mars_out(bsf):
    page = promtext.scrape(f"http://127.0.0.1:{bsf.admin_port}/metrics")
    return page.get("gba_diameter_requests_total", peer=zh.HSS_ID, direction="out",
                    command="MAR") or 0


def hss_mars_in(procs):
    page = promtext.scrape(f"http://127.0.0.1:{procs.hss_metrics}/metrics")
    return page.get("gba_diameter_requests_total", peer=zh.BSF_ID, direction="in",
                    command="MAR") or 0


def first_requests(bsf, impis, timeout=20):
    """A first request per IMPI, each on its own connection, all at once;
    returns the threads and the (status, headers) list they fill."""
    results = [None] * len(impis)

    def one(i):
        try:
            status, hdrs, _ = bsfenv.raw_request(
                bsf.port, bsfenv.get(f"127.0.0.1:{bsf.port}", bsfenv.first_auth(impis[i])),
                timeout=timeout)
            results[i] = (status, hdrs)
        except OSError as e:
            results[i] = (None, {"error": str(e)})

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(impis))]
    for t in threads:
        t.start()
    return threads, results


def join_all(threads, seconds):
    deadline = time.monotonic() + seconds
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))


def wait_mars_out(bsf, want, seconds):
    """Until the BSF has sent want MARs more than now - want (bounded)."""
    got = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = mars_out(bsf)
        if got >= want:
            break
        time.sleep(0.05)
    return got


def test_in_flight(checks, procs, bsf):
    """More MARs in flight than workers: counted while the HSS cannot answer."""
    hss = procs.procs["hss"]
    impis = [card_impi(i) for i in range(UES)]
    b0, h0 = mars_out(bsf), hss_mars_in(procs)
    zh.freeze(hss)
    try:
        threads, results = first_requests(bsf, impis)
        got = wait_mars_out(bsf, b0 + UES, 5.0)
    finally:
        hss.send_signal(signal.SIGCONT)
    checks.check(f"{UES} first requests, HSS frozen, bsf.threads 1: {UES} MARs in flight "
                 f"(more than the one worker)", got - b0 == UES, f"{got - b0} sent")
    join_all(threads, 20)
    statuses = [r[0] if r else None for r in results]
    checks.check(f"HSS thawed: all {UES} get their challenge (401)",
                 statuses == [401] * UES, str(statuses))
    checks.check(f"gba-hss-sim counted the {UES} MARs", hss_mars_in(procs) - h0 == UES,
                 str(hss_mars_in(procs) - h0))


def resync_auth(impi, params):
    """A resynchronisation answering the challenge params with an AUTS of
    random octets (the BSF passes RAND || AUTS on; the HSS checks MAC-S)."""
    auts = base64.b64encode(os.urandom(14)).decode()
    return (f'Digest username="{impi}", realm="{params.get("realm", "")}", '
            f'nonce="{params.get("nonce", "")}", uri="/", qop=auth-int, nc=00000001, '
            f'cnonce="0a1b2c3d", response="{"0" * 32}", opaque="{params.get("opaque", "")}", '
            f'algorithm=AKAv1-MD5, auts="{auts}"')


def test_resync_in_flight(checks, procs, bsf):
    """Resynchronisations' MARs hold their requests, not the worker, too."""
    hss = procs.procs["hss"]
    impis = [card_impi(i) for i in range(8)]
    threads, results = first_requests(bsf, impis)
    join_all(threads, 20)
    params = [bsfenv.challenge_params(r[1].get("www-authenticate", "")) if r else {}
              for r in results]
    if not checks.check("resync: 8 challenges to answer",
                        all(r and r[0] == 401 for r in results), str(results)):
        return
    b0 = mars_out(bsf)
    zh.freeze(hss)
    out = [None] * len(impis)

    def one(i):
        try:
            status, _, _ = bsfenv.raw_request(
                bsf.port, bsfenv.get(f"127.0.0.1:{bsf.port}", resync_auth(impis[i], params[i])),
                timeout=20)
            out[i] = status
        except OSError as e:
            out[i] = str(e)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(impis))]
    try:
        for t in threads:
            t.start()
        got = wait_mars_out(bsf, b0 + len(impis), 5.0)
    finally:
        hss.send_signal(signal.SIGCONT)
    checks.check("resync: 8 resynchronisation MARs in flight with one worker, HSS frozen",
                 got - b0 == len(impis), f"{got - b0} sent")
    join_all(threads, 20)
    checks.check("resync: thawed, the HSS refuses the random AUTS: 403 each",
                 out == [403] * len(impis), str(out))


def test_concurrent_ues(checks, tools, procs, bsf, states):
    outs = bsfenv.run_ues_at_once(tools, bsf.url, states,
                                   [card_impi(i) for i in range(len(states))], 90)
    ok = [o for o in outs if o.get("result") == "ok"]
    checks.check(f"{UES} gba-test-ue at once, one worker: all bootstrap",
                 len(ok) == UES, str([o for o in outs if o not in ok])[:1500])
    btids = {o.get("btid") for o in ok}
    checks.check("all B-TIDs differ", len(btids) == len(ok))


def test_silent_hss(checks, tools, procs, bsf, state):
    """A frozen HSS: 503 for every held request within zh.timeout_ms."""
    hss = procs.procs["hss"]
    pending = bsf.metrics().get("gba_bsf_challenges_pending")
    zh.freeze(hss)
    t0 = time.monotonic()
    try:
        # Four UEs that give up at once: their held requests end on closed
        # sockets (the job is still finished and freed: LSan at the stop).
        for i in range(8, 12):
            with socket.create_connection(("127.0.0.1", bsf.port), timeout=5) as s:
                s.sendall(bsfenv.get(f"127.0.0.1:{bsf.port}", bsfenv.first_auth(card_impi(i))))
        threads, results = first_requests(bsf, [card_impi(i) for i in range(8)])
        join_all(threads, 15)
    finally:
        hss.send_signal(signal.SIGCONT)
    took = time.monotonic() - t0
    ok = all(r and r[0] == 503 and r[1].get("retry-after", "").isdigit() for r in results)
    checks.check("HSS frozen: 8 first requests at once, one worker: each 503 with "
                 "Retry-After", ok, str(results))
    # Together, not one after another: 8 x zh.timeout_ms would be 12 s.
    checks.check("HSS frozen: the 8 answered within about one zh.timeout_ms",
                 took < 2 * SHORT_TIMEOUT_MS / 1000 + 2, f"{took:.1f} s")
    print(f"     (answered after {took:.2f} s; zh.timeout_ms is {SHORT_TIMEOUT_MS})")
    deadline = time.monotonic() + 3
    while (bsf.metrics().get("gba_bsf_challenges_pending") != pending and
           time.monotonic() < deadline):
        time.sleep(0.05)   # the abandoned four may end a moment later
    checks.check("HSS frozen: no challenge left pending",
                 bsf.metrics().get("gba_bsf_challenges_pending") == pending)
    checks.check("HSS thawed: the BSF challenges again", zh.wait_for_vectors(bsf))
    rc, out = bsfenv.run_ue(tools, bsf.url, state, impi=card_impi(0))
    checks.check("HSS thawed: a full bootstrap", rc == 0, str(out))


def test_peer_lost(checks, tools, procs, bsf, hss_bin, db, hss_port, state):
    """The HSS dies (SIGKILL) with MARs in flight: freeDiameter answers them
    itself (3002) or lets them expire; each held request gets one 503."""
    hss = procs.procs["hss"]
    pending = bsf.metrics().get("gba_bsf_challenges_pending")
    b0 = mars_out(bsf)
    zh.freeze(hss)
    threads, results = first_requests(bsf, [card_impi(i) for i in range(8)])
    got = wait_mars_out(bsf, b0 + 8, 5.0)
    t0 = time.monotonic()
    procs.stop("hss", sig=signal.SIGKILL)
    join_all(threads, 15)
    took = time.monotonic() - t0
    checks.check("HSS killed with 8 MARs in flight: each held request 503 with Retry-After",
                 got - b0 == 8 and all(r and r[0] == 503 and
                                       r[1].get("retry-after", "").isdigit() for r in results),
                 f"{got - b0} MARs, {results}")
    checks.check("HSS killed: answered within zh.timeout_ms", took < SHORT_TIMEOUT_MS / 1000 + 2,
                 f"{took:.1f} s")
    print(f"     (answered after {took:.2f} s: "
          f"{bsf.log().count('UNABLE_TO_DELIVER')} MAAs 3002 from freeDiameter so far)")
    checks.check("HSS killed: no challenge left pending, the BSF stays up",
                 bsf.metrics().get("gba_bsf_challenges_pending") == pending and bsf.alive())
    zh.start_hss(procs, hss_bin, db, hss_port)
    checks.check("HSS back: the BSF reconnects and challenges again", zh.wait_for_vectors(bsf))
    rc, out = bsfenv.run_ue(tools, bsf.url, state, impi=card_impi(0))
    checks.check("HSS back: a full bootstrap", rc == 0, str(out))


def log_count(bsf, text, after):
    log = bsf.log()
    return log[log.find(after):].count(text) if after in log else 0


def stop_in_flight(checks, procs, bsf, label, thaw_when):
    """SIGTERM while 8 MARs are in flight to the frozen HSS; the HSS thaws
    once thaw_when(bsf) holds (bounded): it must answer the BSF's DPR, or
    freeDiameter's stop waits for it up to 16 s.  Returns the exit code."""
    hss = procs.procs["hss"]
    b0 = mars_out(bsf)
    zh.freeze(hss)
    code = None
    try:
        threads, results = first_requests(bsf, [card_impi(i) for i in range(8)])
        got = wait_mars_out(bsf, b0 + 8, 5.0)
        checks.check(f"{label}: 8 MARs in flight", got - b0 == 8, f"{got - b0}")
        t0 = time.monotonic()
        bsf.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not thaw_when(bsf) and bsf.alive():
            time.sleep(0.05)
        thawed = thaw_when(bsf)
    finally:
        hss.send_signal(signal.SIGCONT)
    try:
        code = bsf.proc.wait(15)
    except subprocess.TimeoutExpired:
        pass
    took = time.monotonic() - t0
    join_all(threads, 5)
    log = bsf.log()
    checks.check(f"{label}: SIGTERM with MARs in flight: exit 0, no abort", code == 0,
                 f"exit {code} after {took:.1f} s: {log[-1500:]}")
    checks.check(f"{label}: no sanitizer report, no runtime error",
                 "Sanitizer" not in log and "runtime error" not in log, log[-3000:])
    bsf.stop()
    return thawed, results


def test_stop_answered(checks, procs, bsf):
    """The MAAs come during the stop: the held requests get their challenges."""
    thawed, results = stop_in_flight(checks, procs, bsf, "stop, HSS answers",
                                     lambda b: "SIGTERM: stopping" in b.log())
    statuses = [r[0] if r else None for r in results]
    checks.check("stop, HSS answers: the 8 held requests answered 401 before the exit",
                 thawed and statuses == [401] * 8, str(statuses))


def test_stop_expired(checks, procs, bsf):
    """The MARs expire during the stop: each held request ends with a 503."""
    thawed, _ = stop_in_flight(
        checks, procs, bsf, "stop, HSS silent",
        lambda b: log_count(b, "status=503 cause=hss_unavailable", "SIGTERM: stopping") == 8)
    checks.check("stop, HSS silent: the 8 held requests ended by their timeout (503) "
                 "during the stop", thawed, bsf.log()[-3000:])


def zh_bsf(procs, tools, name, hss_port, timeout_ms):
    return bsfenv.Bsf(procs, tools, name=name, extra={
        "av.source": "zh", "bsf.threads": "1", "ub.retry_after": "3s",
        "ub.impi_challenge_rate": "0", "log.level": "info",
        "zh.origin_host": zh.BSF_ID, "zh.origin_realm": zh.REALM,
        "zh.hss_host": "127.0.0.1", "zh.hss_port": str(hss_port),
        "zh.hss_realm": zh.REALM, "zh.hss_identity": zh.HSS_ID,
        "zh.timeout_ms": str(timeout_ms), **zh.bsf_tls(procs)}, env=zh.LSAN_ENV).start()


def main():
    if len(sys.argv) < 5 or not sys.argv[4]:
        print("SKIP: gba-hss-sim is not built")
        sys.exit(77)
    tools = bsfenv.Tools()
    hss_bin = sys.argv[4]
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "hss.db")
        states = bsfenv.add_cards(tools, procs, db, UES)   # card 1 is bsfenv.IMPI
        hss_port = gbatest.free_port()
        procs.hss_metrics = gbatest.free_port()
        zh.start_hss(procs, hss_bin, db, hss_port)

        # A long timeout: the frozen HSS thaws well before any MAR expires.
        bsf = zh_bsf(procs, tools, "bsf-async", hss_port, 20000)
        if checks.check("gba-bsf (bsf.threads 1) gets vectors", zh.wait_for_vectors(bsf),
                        bsf.log()[-2000:]):
            test_in_flight(checks, procs, bsf)
            test_resync_in_flight(checks, procs, bsf)
            test_concurrent_ues(checks, tools, procs, bsf, states)
            test_stop_answered(checks, procs, bsf)
        else:
            bsf.stop()

        # A short one: the frozen HSS lets the MARs expire.
        bsf = zh_bsf(procs, tools, "bsf-short", hss_port, SHORT_TIMEOUT_MS)
        if checks.check("gba-bsf (zh.timeout_ms 1500) gets vectors", zh.wait_for_vectors(bsf),
                        bsf.log()[-2000:]):
            test_silent_hss(checks, tools, procs, bsf, states[0])
            test_peer_lost(checks, tools, procs, bsf, hss_bin, db, hss_port, states[0])
            test_stop_expired(checks, procs, bsf)
        else:
            bsf.stop()
    checks.finish()


if __name__ == "__main__":
    main()
