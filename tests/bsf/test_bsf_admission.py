"""test_bsf_admission - Ub overload: ub.admission_limit sheds new
connections with 503 and Retry-After instead of queueing them (issue 11,
the power-cut storm).

gba-bsf with ub.admission_limit = 3 and ub.retry_after = 7s.  A new
connection counts as busy from its accept until its first answer (or for
200 ms if it sends nothing), so three silent connections opened at once hold
the BSF at its limit: every new connection right after them gets "503
Service Unavailable" with "Retry-After: 7" at once, without the BSF reading
it.  Once the silent ones are older than that (still open: idle or
slowloris sockets must not lock clients out), new connections are served
(401 with a challenge) again.  A first request on a kept-alive connection
while the limit is reached gets the 503 from its worker, the connection
kept, and is served once below the limit.  Then a burst of 60 first requests on 60
connections at once: each is answered 401 or 503 (with Retry-After), none
is left without an answer.  Afterwards a real bootstrap succeeds, the BSF
is still running, gba_bsf_ub_shed_total counts every 503 seen, and SIGTERM
stops it with exit 0.  Before ub.admission_limit, new connections queued
without limit: no 503 came and the shed counter did not exist.

    python3 test_bsf_admission.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import socket
import threading
import time

import bsfenv
import gbatest

LIMIT = 3
RETRY_AFTER = 7
BURST = 60


def first_request(port):
    """A first Ub request on a new connection: (status, headers)."""
    host = f"127.0.0.1:{port}"
    try:
        status, headers, _ = bsfenv.raw_request(
            port, bsfenv.get(host, bsfenv.first_auth()), timeout=10)
    except OSError as e:
        return None, {"error": str(e)}
    return status, headers


def shed_ok(status, headers):
    return status == 503 and headers.get("retry-after") == str(RETRY_AFTER)


def wait_open(bsf, n, deadline_s=10.0):
    """Until the BSF has accepted n connections (its accept thread may lag)."""
    end = time.monotonic() + deadline_s
    while bsf.metrics().get("gba_bsf_ub_connections_open", 0) < n and time.monotonic() < end:
        time.sleep(0.01)


def wait_until_busy_drops(port, deadline_s=10.0):
    """Until a new connection is served again (the closes are seen):
    (status, headers, 503s met on the way)."""
    end, shed = time.monotonic() + deadline_s, 0
    while True:
        status, headers = first_request(port)
        if status == 401 or time.monotonic() > end:
            return status, headers, shed
        shed += status == 503
        time.sleep(0.05)


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        bsf = bsfenv.Bsf(procs, tools, db=db, extra={
            "ub.admission_limit": str(LIMIT), "ub.retry_after": f"{RETRY_AFTER}s",
            "log.level": "info"}).start()
        state = os.path.join(procs.dir, "card.sqn")
        seen_503 = 0

        # At the limit: silent connections are busy until their first answer
        # (for 200 ms: a loaded machine may take longer than that between
        # them and the requests, so up to three tries).
        time.sleep(0.3)   # the start-up's port probes no longer count
        for _ in range(3):
            silent = [socket.create_connection(("127.0.0.1", bsf.port)) for _ in range(LIMIT)]
            wait_open(bsf, LIMIT)
            answers = [first_request(bsf.port) for _ in range(5)]
            seen_503 += sum(1 for s, _ in answers if s == 503)
            if all(shed_ok(s, h) for s, h in answers):
                break
            for s in silent:
                s.close()
            time.sleep(0.3)
        checks.check("at the limit, every new connection gets 503 with Retry-After",
                     all(shed_ok(s, h) for s, h in answers), str(answers))
        time.sleep(0.3)
        status, headers, shed = wait_until_busy_drops(bsf.port)
        seen_503 += shed
        checks.check("silent connections older than 200 ms no longer count: served (401)",
                     status == 401 and "www-authenticate" in headers and shed == 0,
                     f"{status} {headers} after {shed} x 503")
        for s in silent:
            s.close()

        # A first request on a kept-alive connection while the others are at
        # the limit: its worker answers 503 before drawing a vector; later,
        # the same connection is served.
        kept = socket.create_connection(("127.0.0.1", bsf.port), timeout=10)
        wait_open(bsf, 1)
        for _ in range(3):
            time.sleep(0.3)   # kept no longer fresh (idle), the silent ones gone
            silent = [socket.create_connection(("127.0.0.1", bsf.port)) for _ in range(LIMIT)]
            wait_open(bsf, 1 + LIMIT)
            kept.sendall(bsfenv.get(f"127.0.0.1:{bsf.port}", bsfenv.first_auth()))
            status, headers, _ = bsfenv.read_response(kept)
            seen_503 += status == 503
            for s in silent:
                s.close()
            if status == 503:
                break
        checks.check("a first request on a kept-alive connection over the limit: 503 with "
                     "Retry-After, the connection kept", shed_ok(status, headers) and
                     headers.get("connection") != "close", f"{status} {headers}")
        time.sleep(0.3)
        kept.sendall(bsfenv.get(f"127.0.0.1:{bsf.port}", bsfenv.first_auth()))
        status, headers, _ = bsfenv.read_response(kept)
        checks.check("the same connection is served once below the limit (401)",
                     status == 401, f"{status} {headers}")
        kept.close()

        # A burst: every request gets an answer, 401 or a fast 503.
        results, lock = [], threading.Lock()

        def one():
            r = first_request(bsf.port)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=one) for _ in range(BURST)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        n401 = sum(1 for s, _ in results if s == 401)
        n503 = sum(1 for s, _ in results if s == 503)
        seen_503 += n503
        print(f"# burst of {BURST}: {n401} x 401, {n503} x 503")
        checks.check("burst: every request answered, 401 or 503",
                     len(results) == BURST and n401 + n503 == BURST,
                     str([r for r in results if r[0] not in (401, 503)][:5]))
        checks.check("burst: every 503 carries Retry-After",
                     all(shed_ok(s, h) for s, h in results if s == 503))

        rc, out = bsfenv.run_ue(tools, bsf.url, state)
        checks.check("after the overload a UE bootstraps", rc == 0 and out.get("btid"),
                     str(out))
        checks.check("the BSF is still running", bsf.alive())
        shed = bsf.metrics().get("gba_bsf_ub_shed_total", -1)
        checks.check("gba_bsf_ub_shed_total counts every 503 seen",
                     shed == seen_503 and seen_503 >= 5, f"metric {shed}, seen {seen_503}")
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
