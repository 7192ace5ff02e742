"""gba-naf's Digest Ua port answers when 128 or more requests are ready at
once on one event-loop thread.

libmicrohttpd 0.9.75's epoll loop takes at most 128 events per epoll_wait
and, when it got exactly 128, waits again with the same timeout before
serving any of them: the thread then sleeps until some other event comes
(docs/bsf.md, "Overload"; lib/http/gba_http.c).  gba-naf's Digest port ran
on epoll, so 128 (or 256) requests arriving together on one thread sat
there until the Ua header deadline closed their connections, seconds later.

How the requests are made to arrive together: gba-naf runs with
ua.threads = 1 (one thread holds every connection); the test opens N
keep-alive connections and lets gba-naf settle, stops it with SIGSTOP,
sends one request on each connection, and lets it go on with SIGCONT.  Its
thread then finds all N sockets readable at once.  Every connection must
get its 401 challenge within BOUND seconds (a functional bound: it takes
milliseconds; the stall lasted until ua.header_timeout, 10 s).  Rounds
for N = 128 and 256 (two full epoll batches), then SIGTERM, exit 0.

gba-naf alone (no BSF: a request without credentials is answered with a
challenge and needs no Zn), real process on 127.0.0.1.

    python3 test_naf_ua_ready.py GBA_BSF GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET
"""
import os
import resource
import selectors
import signal
import socket
import sys
import time

import gbatest
import test_naf_e2e as e2e

ROUNDS = (128, 256)
BOUND = 5.0
SOURCES = [f"127.0.0.{i}" for i in range(40, 48)]   # under ua.max_connections_per_ip
REQUEST = (f"POST /m2m/enrol HTTP/1.1\r\nHost: {e2e.FQDN}\r\n"
           "Content-Length: 0\r\n\r\n").encode()


def all_stopped(pid):
    """Every thread of pid is stopped (state T)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in "Tt":
                    return False
        except FileNotFoundError:
            pass
    return True


def open_conns(port, n):
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((SOURCES[i % len(SOURCES)], 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def wait_open(env, naf, n, timeout=5.0):
    """gba-naf's Digest port holds n connections (its admin stats)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if env.stats(naf).get("ua", {}).get("digest", {}).get("open", 0) >= n:
            return True
        time.sleep(0.05)
    return False


def read_statuses(socks, bound):
    """The status code each socket got within bound seconds (0: none)."""
    sel = selectors.DefaultSelector()
    got = {s: b"" for s in socks}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + bound
    pending = len(socks)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            got[s] += data
            if not data or b"\r\n\r\n" in got[s]:
                sel.unregister(s)
                pending -= 1
    sel.close()
    out = []
    for s in socks:
        parts = got[s].split(b" ", 2)
        out.append(int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0)
    return out


def ready_round(env, naf, n, c):
    pid = env.procs.procs["naf"].pid
    socks = open_conns(naf["digest"], n)
    try:
        c(f"{n} connections: gba-naf holds them", wait_open(env, naf, n), env.stats(naf))
        time.sleep(0.3)   # their arrival events are served: the thread waits
        os.kill(pid, signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 5
            while not all_stopped(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            for s in socks:
                s.sendall(REQUEST)
        finally:
            os.kill(pid, signal.SIGCONT)
        t0 = time.monotonic()
        statuses = read_statuses(socks, BOUND)
        took = time.monotonic() - t0
        answered = sum(1 for st in statuses if st == 401)
        c(f"{n} requests ready at once on one thread: every one answered 401 within "
          f"{BOUND:.0f} s ({answered} in {took * 1000:.0f} ms)", answered == n,
          {st: statuses.count(st) for st in set(statuses)})
    finally:
        for s in socks:
            s.close()


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(ROUNDS) + 512
    if hard != resource.RLIM_INFINITY and hard < need:
        print(f"skipped: RLIMIT_NOFILE hard limit {hard} < {need}")
        sys.exit(77)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        env = e2e.Env(procs, sys.argv)
        naf = env.start_naf(args=["--set", "ua.threads=1"])
        for n in ROUNDS:
            ready_round(env, naf, n, checks.check)
            # The closed connections leave the table before the next round.
            deadline = time.monotonic() + 5
            while env.stats(naf).get("ua", {}).get("digest", {}).get("open", 0) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        code = procs.stop("naf")
        log = procs.log("naf")
        checks.check("gba-naf: SIGTERM, exit 0, no sanitizer report",
                     code == 0 and "Sanitizer" not in log and "runtime error" not in log,
                     log[-2000:])
        if checks.failed:
            print("---- naf log (tail)\n" + log[-3000:], file=sys.stderr)
    checks.finish()


if __name__ == "__main__":
    main()
