"""gba-naf's two Ua ports under a connection flood (issue 15, defect 4): idle
and slowloris connections by the thousand must not keep a node from
enrolling.  Real processes on 127.0.0.1: gba-bsf (Zn on), gba-naf, m2m-node,
gnutls-cli; the attack sockets are the test's own.

1. Default limits.  Against each Ua port: 2,000 idle TCP connections (from
   20 loopback addresses) and 100 slowloris connections, one byte a second
   (HTTP header bytes on the Digest port, a ClientHello that never ends on
   the TLS port).  gba-naf holds them all (its admin stats say so) without
   spinning (CPU time while they are held), and a node still enrols over
   Digest and over TLS-PSK: a functional bound of 5 s; the latency is
   printed, with the Ua round trip alone.
2. Small limits (ua.max_connections=600, ua.max_connections_per_ip=150).
   One address over its limit loses its own oldest connections, not
   another's; 2,000 connections over the total evict the oldest that never
   finished a request, and a node still enrols on both ports.
3. Short timeouts (ua.handshake_timeout=2s, ua.header_timeout=3s).  Idle
   and slowloris connections are closed although they send a byte a second,
   and so is a TLS client that finished its handshake but sends no request.

    python3 test_naf_ua_flood.py GBA_BSF GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET
"""
import os
import resource
import socket
import subprocess
import sys
import threading
import time

import gbatest
import test_naf_e2e as e2e

IDLE_PER_PORT = 2000
SLOW_PER_PORT = 100
SOURCES = [f"127.0.0.{i}" for i in range(2, 22)]      # 100 idle each
SLOW_SOURCES = [f"127.0.0.{i}" for i in range(30, 35)]
ENROL_BOUND = 5.0     # functional bound, far above the expected figure
HTTP_SLOW = (b"POST /m2m/enrol HTTP/1.1\r\nHost: " + e2e.FQDN.encode() + b"\r\n",
             b"X-Slow: " + b"a" * 400)
# A TLS record of 512 octets holding a ClientHello: header sent at once, the
# rest a byte a second, so GnuTLS never has the whole record.
TLS_SLOW = (b"\x16\x03\x01\x02\x00" + b"\x01\x00\x01\xfc",
            b"\x03\x03" + os.urandom(400))
PRIORITY = "NONE:+VERS-TLS1.2:+PSK:+AES-128-CBC:+SHA256:+COMP-NULL:+SIGN-ALL"


def is_open(s):
    """The peer has not closed s (a non-blocking socket); drains what it sent."""
    try:
        while True:
            if not s.recv(4096):
                return False
    except BlockingIOError:
        return True
    except OSError:
        return False


class Flood:
    """Connections the test holds open: idle, or fed one byte a second."""

    def __init__(self):
        self.socks = {}      # tag -> [socket]
        self.slow = []       # [socket, rest of payload]
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    @staticmethod
    def connect(port, source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        return s

    def idle(self, tag, port, n, sources):
        for i in range(n):
            self.socks.setdefault(tag, []).append(self.connect(port, sources[i % len(sources)]))

    def slowloris(self, tag, port, n, sources, payload):
        for i in range(n):
            s = self.connect(port, sources[i % len(sources)])
            s.send(payload[0])
            self.socks.setdefault(tag, []).append(s)
            with self.lock:
                self.slow.append([s, payload[1]])

    def _feed(self):
        while not self.done.wait(1.0):
            with self.lock:
                for rec in self.slow:
                    if rec[1]:
                        try:
                            rec[0].send(rec[1][:1])
                            rec[1] = rec[1][1:]
                        except OSError:
                            rec[1] = b""

    def open_count(self, tag):
        return sum(1 for s in self.socks.get(tag, []) if is_open(s))

    def close(self):
        self.done.set()
        self.thread.join(5)
        for socks in self.socks.values():
            for s in socks:
                s.close()
        self.socks.clear()
        self.slow.clear()


def ua_stats(env, naf):
    """gba-naf's connection counts per Ua port ({} when it has none)."""
    return env.stats(naf).get("ua", {})


def wait_for(cond, timeout):
    """Poll cond() until true or timeout; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def enrol(env, naf, how):
    t0 = time.monotonic()
    r = env.node(naf, how, timeout=30)
    return r, time.monotonic() - t0


def ua_round_trips(naf):
    """The Ua exchanges alone: a Digest challenge, and a TLS-PSK handshake plus
    a request (gnutls-cli, a target's PSK): seconds each."""
    t0 = time.monotonic()
    try:
        st, _, _ = e2e.digest_raw(naf)
    except OSError:
        st = 0
    t1 = time.monotonic()
    try:
        out = e2e.gnutls_cli(naf["tls"], "oneM2M-target," + e2e.TARGET, e2e.TARGET_PSK,
                             sni=e2e.FQDN)
    except subprocess.TimeoutExpired:
        out = "timed out"
    t2 = time.monotonic()
    return st == 401, t1 - t0, "Handshake was completed" in out, t2 - t1


def enrol_both(env, naf, c, what):
    for how, port in (("enrol-digest", "Digest"), ("enrol-tls", "TLS-PSK")):
        r, took = enrol(env, naf, how)
        c(f"{what}: a node enrols over {port} Ua (bootstrap + Ua in {took * 1000:.0f} ms, "
          f"bound {ENROL_BOUND:.0f} s)",
          r.get("result") == "ok" and r.get("km_kcv") == r.get("km_kcv_naf")
          and took < ENROL_BOUND, r)
        print(f"     latency {what}, {port}: {took * 1000:.0f} ms (m2m-node: Ub + Ua)")


def default_limits(env, c):
    naf = env.start_naf()
    enrol_both(env, naf, c, "no load")
    ok1, d1, ok2, d2 = ua_round_trips(naf)
    print(f"     Ua round trip, no load: Digest 401 {d1 * 1000:.1f} ms, "
          f"TLS-PSK handshake + request {d2 * 1000:.1f} ms")
    rss0 = vm_rss(env.procs.procs["naf"].pid)
    flood = Flood()
    try:
        t0 = time.monotonic()
        for kind in ("digest", "tls"):
            flood.idle(kind, naf[kind], IDLE_PER_PORT, SOURCES)
        flood.slowloris("digest-slow", naf["digest"], SLOW_PER_PORT, SLOW_SOURCES, HTTP_SLOW)
        flood.slowloris("tls-slow", naf["tls"], SLOW_PER_PORT, SLOW_SOURCES, TLS_SLOW)
        print(f"     opened {2 * (IDLE_PER_PORT + SLOW_PER_PORT)} connections in "
              f"{time.monotonic() - t0:.2f} s")
        want = IDLE_PER_PORT + SLOW_PER_PORT

        def held_all():
            u = ua_stats(env, naf)
            return u if all(u.get(k, {}).get("open", 0) >= want for k in ("digest", "tls")) \
                else None
        held = wait_for(held_all, 10) or ua_stats(env, naf)
        c(f"gba-naf holds {want} idle and slowloris connections on each Ua port",
          all(held.get(k, {}).get("open", 0) >= want for k in ("digest", "tls")), held)
        enrol_both(env, naf, c, f"{want} idle+slowloris per port")
        ok1, d1, ok2, d2 = ua_round_trips(naf)
        c("under the flood: a Digest challenge and a TLS-PSK handshake still answered",
          ok1 and ok2, (ok1, ok2))
        print(f"     Ua round trip under the flood: Digest 401 {d1 * 1000:.1f} ms, "
              f"TLS-PSK handshake + request {d2 * 1000:.1f} ms")
        still = {k: flood.open_count(k) for k in ("digest", "tls", "digest-slow", "tls-slow")}
        c("the flood was held open throughout (no eviction under the default limits)",
          still == {"digest": IDLE_PER_PORT, "tls": IDLE_PER_PORT,
                    "digest-slow": SLOW_PER_PORT, "tls-slow": SLOW_PER_PORT}, still)
        pid = env.procs.procs["naf"].pid
        c0 = cpu_seconds(pid)
        time.sleep(2)
        used = cpu_seconds(pid) - c0
        c(f"gba-naf idles while the flood is held: {used:.2f} s of CPU in 2 s (bound 0.5 s; "
          "a busy loop on stalled handshakes takes a core)", used < 0.5, used)
        rss = vm_rss(pid)
        print(f"     gba-naf RSS: {rss0 / 1024:.1f} MiB, with {2 * want} connections open "
              f"{rss / 1024:.1f} MiB ({(rss - rss0) / (2 * want):.1f} KiB each)")
    finally:
        flood.close()
    stop_clean(env, "naf", c)


def small_limits(env, c):
    naf = env.start_naf(args=["--set", "ua.max_connections=600",
                              "--set", "ua.max_connections_per_ip=150"])
    flood = Flood()
    try:
        flood.idle("bystander", naf["digest"], 50, ["127.0.0.50"])
        flood.idle("greedy", naf["digest"], 300, ["127.0.0.51"])
        greedy = wait_for(lambda: flood.open_count("greedy") <= 150, 5)
        n = flood.open_count("greedy")
        c("per address: 300 connections from one address keep 150 open (its own oldest "
          "evicted)", greedy and n == 150, n)
        c("per address: another address's connections are untouched",
          flood.open_count("bystander") == 50, flood.open_count("bystander"))
        r, took = enrol(env, naf, "enrol-digest")
        c("per address: a node enrols meanwhile", r.get("result") == "ok", r)
        flood.close()

        flood = Flood()
        t0 = time.monotonic()
        for kind in ("digest", "tls"):
            flood.idle(kind, naf[kind], IDLE_PER_PORT, SOURCES)
        print(f"     opened {2 * IDLE_PER_PORT} connections in {time.monotonic() - t0:.2f} s")
        opened = wait_for(lambda: all(flood.open_count(k) <= 600 for k in ("digest", "tls")), 5)
        counts = {k: flood.open_count(k) for k in ("digest", "tls")}
        newest = {k: sum(1 for s in flood.socks[k][-100:] if is_open(s)) for k in counts}
        c("total: 2,000 connections against a limit of 600 keep at most 600 open",
          opened and all(400 <= v <= 600 for v in counts.values()), counts)
        c("total: the newest stay, the oldest were evicted", newest == {"digest": 100,
                                                                        "tls": 100}, newest)
        u = ua_stats(env, naf)
        c("total: the evictions are counted",
          all(u.get(k, {}).get("evicted", 0) >= IDLE_PER_PORT - 600 for k in ("digest", "tls")),
          u)
        enrol_both(env, naf, c, "2,000 idle per port over a limit of 600")
    finally:
        flood.close()
    stop_clean(env, "naf", c)


def gnutls_idle(port):
    """A target completes a TLS-PSK handshake, then sends nothing."""
    argv = ["gnutls-cli", "-p", str(port), "--pskusername", "oneM2M-target," + e2e.TARGET,
            "--pskkey", e2e.TARGET_PSK, "--priority", PRIORITY, "--sni-hostname", e2e.FQDN,
            "--insecure", "127.0.0.1"]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def short_timeouts(env, c):
    naf = env.start_naf(args=["--set", "ua.handshake_timeout=2s",
                              "--set", "ua.header_timeout=3s"])
    flood = Flood()
    cli = None
    try:
        t0 = time.monotonic()
        flood.idle("digest", naf["digest"], 20, SOURCES)
        flood.idle("tls", naf["tls"], 20, SOURCES)
        flood.slowloris("digest-slow", naf["digest"], 20, SLOW_SOURCES, HTTP_SLOW)
        flood.slowloris("tls-slow", naf["tls"], 20, SLOW_SOURCES, TLS_SLOW)
        cli = gnutls_idle(naf["tls"])
        closed = {}
        deadline = t0 + 15
        while time.monotonic() < deadline and (len(closed) < 4 or cli.poll() is None):
            for k in ("digest", "tls", "digest-slow", "tls-slow"):
                if k not in closed and flood.open_count(k) == 0:
                    closed[k] = time.monotonic() - t0
            time.sleep(0.1)
        cli_took = time.monotonic() - t0 if cli.poll() is not None else None
        print(f"     closed after (s): {({k: round(v, 1) for k, v in closed.items()})}, "
              f"idle TLS client {cli_took and round(cli_took, 1)}")
        c("Digest port: idle and slowloris (a header byte a second) closed by "
          "ua.header_timeout, not held", "digest" in closed and "digest-slow" in closed,
          closed)
        c("TLS port: idle and a ClientHello that never ends closed by ua.handshake_timeout",
          "tls" in closed and "tls-slow" in closed, closed)
        out = cli.stdout.read() if cli.poll() is not None else ""
        c("TLS port: a client that finished its handshake but sends no request is closed "
          "by ua.header_timeout", cli_took is not None and "Handshake was completed" in out,
          out[-600:])
        u = ua_stats(env, naf)
        c("the timeouts are counted",
          u.get("digest", {}).get("timed_out", 0) >= 40
          and u.get("tls", {}).get("timed_out", 0) >= 41, u)
        enrol_both(env, naf, c, "after the timeouts")
    finally:
        if cli and cli.poll() is None:
            cli.kill()
            cli.wait(5)
        if cli:
            cli.stdout.close()
            cli.stdin.close()
        flood.close()
    stop_clean(env, "naf", c)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stop_clean(env, name, c):
    code = env.procs.stop(name)
    log = env.procs.log(name)
    c(f"{name}: SIGTERM, exit 0, no sanitizer report",
      code == 0 and "Sanitizer" not in log and "runtime error" not in log, log[-2000:])


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * (IDLE_PER_PORT + SLOW_PER_PORT) + 512
    if hard != resource.RLIM_INFINITY and hard < need:
        print(f"skipped: RLIMIT_NOFILE hard limit {hard} < {need}")
        sys.exit(77)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))   # gba-naf inherits it
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        env = e2e.Env(procs, sys.argv)
        env.start_bsf()
        default_limits(env, checks.check)
        small_limits(env, checks.check)
        short_timeouts(env, checks.check)
    checks.finish()


if __name__ == "__main__":
    e2e.require_gnutls_cli()
    main()
