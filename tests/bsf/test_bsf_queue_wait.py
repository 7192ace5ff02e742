"""test_bsf_queue_wait - ub.max_queue_wait_ms: a new bootstrap whose request
lay unread in its socket longer than the limit gets 503 with Retry-After at
once (issue 11, the storm: requests queued in kept-alive sockets are unseen
by ub.admission_limit until a worker reads them).

The BSF is made to fall behind for certain: it is stopped (SIGSTOP) while a
request arrives on a kept-alive connection and continued 300 ms later.

- ub.max_queue_wait_ms = 100 and ub.admission_limit = 2 (the wait counts
  only while half of the admission limit is busy; here the one request
  itself is half): that first request gets 503 with Retry-After,
  the connection is kept, gba_bsf_ub_shed_queued_total and
  gba_bsf_ub_shed_total count it; the next one on the same connection,
  read at once, is served (401).  A UE's answer to its 401 that waited the
  same way is not shed: it finishes work begun (answered 403 for its wrong
  response, not 503).  A real bootstrap then succeeds.
- The default (0): the same delayed first request is served (401).
- ub.max_queue_wait_ms = 100 with the default admission limit (256): one
  busy request is far from half of it, so the delayed request is served.

    python3 test_bsf_queue_wait.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import signal
import socket
import time

import bsfenv
import gbatest

WAIT_MS = 100
ADMISSION = 2   # one busy request is half of it: the wait is looked at
RETRY_AFTER = 7
STOPPED_S = 0.3


def wait_stopped(pid, deadline_s=5.0):
    """Until every thread of pid has stopped: kill() returns before the
    signal is delivered, and a thread still running could read the request."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        states = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass
        if states and all(s in ("T", "t") for s in states):
            return
        time.sleep(0.005)


def delayed(bsf, sock, request):
    """Send request while the BSF is stopped; its answer once it runs again."""
    os.kill(bsf.proc.pid, signal.SIGSTOP)
    try:
        wait_stopped(bsf.proc.pid)
        sock.sendall(request)
        time.sleep(STOPPED_S)
    finally:
        os.kill(bsf.proc.pid, signal.SIGCONT)
    return bsfenv.read_response(sock)


def served(sock, request, tries=3):
    """A request answered without delay: its status (a loaded machine may
    delay one past the limit, so up to three tries)."""
    for _ in range(tries):
        sock.sendall(request)
        status, headers, _ = bsfenv.read_response(sock)
        if status != 503:
            return status, headers
        time.sleep(0.2)
    return status, headers


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        bsf = bsfenv.Bsf(procs, tools, db=db, extra={
            "ub.max_queue_wait_ms": str(WAIT_MS), "ub.retry_after": f"{RETRY_AFTER}s",
            "ub.admission_limit": str(ADMISSION)}).start()
        host = f"127.0.0.1:{bsf.port}"
        first = bsfenv.get(host, bsfenv.first_auth())
        kept = socket.create_connection(("127.0.0.1", bsf.port), timeout=10)

        status, headers = served(kept, first)
        checks.check("a first request read at once is served (401)", status == 401,
                     f"{status} {headers}")
        status, headers, _ = delayed(bsf, kept, first)
        checks.check(f"a first request that waited {STOPPED_S * 1000:.0f} ms unread: 503 with "
                     "Retry-After, the connection kept",
                     status == 503 and headers.get("retry-after") == str(RETRY_AFTER) and
                     headers.get("connection") != "close", f"{status} {headers}")
        status, headers = served(kept, first)
        checks.check("the same connection is served again (401)", status == 401,
                     f"{status} {headers}")

        # A UE's answer to its challenge is never shed, however late it is read.
        params = bsfenv.challenge_params(headers.get("www-authenticate", ""))
        answer = (f'Digest username="{bsfenv.IMPI}", realm="{params.get("realm", "")}", '
                  f'nonce="{params.get("nonce", "")}", opaque="{params.get("opaque", "")}", '
                  f'uri="/", qop=auth-int, '
                  f'nc=00000001, cnonce="0a1b2c3d", response="{"0" * 32}", '
                  f'algorithm=AKAv1-MD5')
        status, headers, body = delayed(bsf, kept, bsfenv.get(host, answer))
        checks.check("an answer to a 401 that waited unread is not shed (its wrong response "
                     "gets 403, not 503)", status == 403, f"{status} {headers} {body}")
        kept.close()

        metrics = bsf.metrics()
        checks.check("gba_bsf_ub_shed_queued_total counts the one shed",
                     metrics.get("gba_bsf_ub_shed_queued_total") == 1, str(metrics.get(
                         "gba_bsf_ub_shed_queued_total")))
        checks.check("gba_bsf_ub_shed_total counts it too",
                     metrics.get("gba_bsf_ub_shed_total", 0) >= 1)
        rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(procs.dir, "card.sqn"))
        checks.check("a UE bootstraps", rc == 0 and out.get("btid"), str(out))
        bsf.check_clean_stop(checks)

        # The default, and a BSF far from busy: nothing is shed for its wait.
        for name, extra, what in (
                ("bsf-default", {}, "by default (max_queue_wait_ms = 0)"),
                ("bsf-idle", {"ub.max_queue_wait_ms": str(WAIT_MS)},
                 "with max_queue_wait_ms but 1 of admission_limit 256 busy")):
            bsf = bsfenv.Bsf(procs, tools, name=name, db=db, extra=extra).start()
            kept = socket.create_connection(("127.0.0.1", bsf.port), timeout=10)
            status, headers, _ = delayed(bsf, kept, bsfenv.get(f"127.0.0.1:{bsf.port}",
                                                               bsfenv.first_auth()))
            checks.check(f"{what} the delayed first request is served (401)",
                         status == 401, f"{status} {headers}")
            kept.close()
            bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
