#!/usr/bin/env python3
"""soak.py - mixed load with faults against real processes on 127.0.0.1.

    bench/soak.py [BUILD_DIR]        DURATION=600 (s), SUBSCRIBERS=100 per BSF,
                                     UE_THREADS=2 and RATE=150 bootstraps/s per BSF,
                                     SMOKE=1: exit 1 unless every fault kind ran,
                                     KEEP_DIR=D: copy logs and databases to D,
                                     LOG_LEVEL=info: the BSFs' log level (warn)

Two BSFs, each with Zn on:
  bsf-zh     vectors from gba-hss-sim over Zh, SQLite session store, commit_ms=0
  bsf-redis  embedded subscriber database (sqn_block=32), Redis session store
             (redis-server with appendonly yes, appendfsync always)
and gba-naf (Zn to bsf-zh).  Load, all the time: soak-ue against each BSF
(bootstraps; every 7th moves the card ahead, so a resync; every 11th is a
bad request in turn: wrong RES, replayed response, AUTS with a bad MAC-S),
zn-load against each BSF with the B-TIDs acknowledged so far plus unknown
ones, and m2m-node enrolments at gba-naf (Digest and TLS-PSK in turn).
Faults, in turn at even intervals: redis-server killed (-9) and started
again, gba-hss-sim killed and started again, bsf-zh killed with -9 and
restarted, bsf-redis killed with -9 and restarted.

It prints: lost acknowledged sessions (every B-TID a UE got with 200 and
that has not expired must still be known over Zn: zn-load --verify),
SQN repeats (every challenge's SQN per subscriber, from soak-ue's log),
the load's counts, and RSS and open file descriptors of each daemon at
start and at the end.  A figure printer: it exits non-zero only when the
soak itself breaks (a process does not start, a tool fails).

How the daemons are started is in class Daemons, and only there.  Zn and Zh
run plain TCP (zn.transport = tcp where TLS is the default): zn-load writes
Diameter by hand and speaks no TLS, as for bench/run-zn-load.sh.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
import gbatest  # noqa: E402

K = "465b5ce8b199b49faa5f0a2ee238a6bc"      # TS 35.208 test set 1 (published)
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
REALM = "soak.test"
HSS_ID, BSF_ZH_ID, BSF_REDIS_ID = "hss.soak.test", "bsf-zh.soak.test", "bsf-redis.soak.test"
NAF_FQDN = "naf.soak.test"
NAF_DOMAIN = "zn.soak.test"                  # zn-load's NAFs: naf1.zn.soak.test
FAULTS = ("redis", "hss", "bsf-zh", "bsf-redis")


def impi(i):
    return f"00101{i:010d}@ims.mnc001.mcc001.3gppnetwork.org"


class Tools:
    def __init__(self, build):
        p = lambda *a: os.path.join(build, *a)  # noqa: E731
        self.bsf = p("bsf", "gba-bsf")
        self.hss = p("simulators", "hss", "gba-hss-sim")
        self.naf = p("naf", "daemon", "gba-naf")
        self.subscriber = p("tools", "gba-subscriber")
        self.soak_ue = p("bench", "soak-ue")
        self.zn_load = p("bench", "zn-load")
        self.node = p("tests", "naf", "m2m-node")
        missing = [x for x in vars(self).values() if not os.access(x, os.X_OK)]
        if missing:
            sys.exit(f"soak: not built: {' '.join(missing)} (ninja -C {build})")


def write_conf(path, sections):
    with open(path, "w") as f:
        f.write("# written by bench/soak.py\n")
        for section, keys in sections.items():
            f.write(f"[{section}]\n")
            for k, v in keys.items():
                f.write(f"{k} = {v}\n")
    os.chmod(path, 0o600)


class Daemons:
    """Every daemon of the soak: ports, configuration, start and restart."""

    def __init__(self, procs, tools, n_subs):
        self.procs, self.t, self.dir = procs, tools, procs.dir
        self.port = {name: gbatest.free_port() for name in (
            "redis", "hss", "bsf-zh", "bsf-zh-admin", "bsf-zh-zn", "bsf-redis",
            "bsf-redis-admin", "bsf-redis-zn", "naf-digest", "naf-tls", "naf-admin")}
        self.hss_db = os.path.join(self.dir, "hss.db")
        self.embedded_db = os.path.join(self.dir, "embedded.db")
        # The UEs' K and OPc, for --k-file: no key on a command line.
        self.keys = gbatest.key_file(os.path.join(self.dir, "ue.keys"), K, OPC)
        self.n_subs = n_subs
        self.first_pid = {}
        self.restarts = {}
        # Zn and Zh in plain TCP where TLS is the default (zn.transport): zn-load
        # writes Diameter by hand and speaks no TLS (as bench/run-zn-load.sh).
        self.plain = "transport" in gbatest.run([tools.bsf, "--help"]).stdout

    # -- subscribers: 1..N (+ 4 for the NAF) in the HSS, N+1..2N in bsf-redis
    def make_subscribers(self):
        def csv(path, first, count):
            with open(path, "w") as f:
                for i in range(first, first + count):
                    f.write(f"{impi(i)},,,milenage,{K},{OPC},0,8000,0\n")
        for db, first, count in ((self.hss_db, 1, self.n_subs + 4),
                                 (self.embedded_db, self.n_subs + 5, self.n_subs)):
            path = db + ".csv"
            csv(path, first, count)
            gbatest.run([self.t.subscriber, "--db", db, "import", path], timeout=120, check=True)

    def ue_impis(self, which):
        first = 1 if which == "bsf-zh" else self.n_subs + 5
        path = os.path.join(self.dir, which + ".impis")
        with open(path, "w") as f:
            f.writelines(impi(i) + "\n" for i in range(first, first + self.n_subs))
        return path

    def naf_impis(self):
        return [impi(i) for i in range(self.n_subs + 1, self.n_subs + 5)]

    # -- the daemons
    def start(self, name):
        getattr(self, "_start_" + name.replace("-", "_"))()
        proc = self.procs.procs[name]
        self.first_pid.setdefault(name, proc.pid)
        return proc

    def _start_redis(self):
        self.procs.start("redis", [
            "redis-server", "--port", str(self.port["redis"]), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--dir", self.dir, "--protected-mode", "yes"], wait_port=self.port["redis"])

    def _start_hss(self):
        plain = ["--zh.transport", "tcp"] if self.plain else []
        self.procs.start("hss", [
            self.t.hss, "--db", self.hss_db, "--listen", f"127.0.0.1:{self.port['hss']}",
            "--identity", HSS_ID, "--realm", REALM, *plain], wait_port=self.port["hss"])

    def _bsf_sections(self, name, identity):
        return {
            "bsf": {"state_dir": self.dir, "domain": identity, "threads": "2",
                    "nonce_lifetime": "60s", "key_lifetime": "2h"},
            "ub": {"listen": f"127.0.0.1:{self.port[name]}", "retry_after": "1s"},
            "admin": {"listen": f"127.0.0.1:{self.port[name + '-admin']}"},
            "zn": {"enabled": "on", "listen": "127.0.0.1", "port": str(self.port[name + "-zn"]),
                   "identity": identity, "realm": REALM, "accept_unknown_peers": "yes",
                   "policy": "allow", "threads": "2"},
            "log": {"level": os.environ.get("LOG_LEVEL", "warn")},
        }

    def _start_bsf(self, name, sections):
        if self.plain:
            sections["zn"]["transport"] = "tcp"
            if "zh" in sections:
                sections["zh"]["transport"] = "tcp"
        conf = os.path.join(self.dir, name + ".conf")
        write_conf(conf, sections)
        proc = self.procs.start(name, [self.t.bsf, "--config", conf], wait_port=self.port[name])
        gbatest.wait_port(self.port[name + "-zn"], 10.0, proc)

    def _start_bsf_zh(self):
        s = self._bsf_sections("bsf-zh", BSF_ZH_ID)
        s["store"] = {"uri": f"sqlite:{self.dir}/bsf-zh-sessions.db?commit_ms=0"}
        s["av"] = {"source": "zh"}
        s["zh"] = {"origin_host": BSF_ZH_ID, "origin_realm": REALM, "hss_host": "127.0.0.1",
                   "hss_port": str(self.port["hss"]), "hss_realm": REALM,
                   "hss_identity": HSS_ID, "timeout_ms": "2000"}
        self._start_bsf("bsf-zh", s)

    def _start_bsf_redis(self):
        s = self._bsf_sections("bsf-redis", BSF_REDIS_ID)
        s["store"] = {"uri": f"redis://127.0.0.1:{self.port['redis']}"}
        s["embedded"] = {"db": self.embedded_db, "sqn_block": "32"}
        self._start_bsf("bsf-redis", s)

    def _start_naf(self):
        conf = os.path.join(self.dir, "naf.conf")
        write_conf(conf, {
            "naf": {"fqdn": NAF_FQDN, "state_dir": self.dir},
            "ua": {"digest_listen": f"127.0.0.1:{self.port['naf-digest']}",
                   "tls_listen": f"127.0.0.1:{self.port['naf-tls']}"},
            "admin": {"listen": f"127.0.0.1:{self.port['naf-admin']}"},
            "store": {"uri": f"sqlite:{self.dir}/naf-keys.db"},
            "policy": {"key_lifetime": "1h", "min_key_lifetime": "1"},
            "zn": {"identity": NAF_FQDN, "realm": REALM, "bsf_identity": BSF_ZH_ID,
                   "bsf_address": "127.0.0.1", "bsf_port": str(self.port["bsf-zh-zn"]),
                   "timeout_ms": "2000", **({"transport": "tcp"} if self.plain else {})},
        })
        self.procs.start("naf", [self.t.naf, "--config", conf], wait_port=self.port["naf-tls"])
        gbatest.wait_port(self.port["naf-digest"], 10.0, self.procs.procs["naf"])

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.procs.procs[name]
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def restart(self, name):
        self.restarts[name] = self.restarts.get(name, 0) + 1
        return self.start(name)

    def url(self, name):
        return f"http://127.0.0.1:{self.port[name]}/"


def proc_figures(pid):
    """(RSS in MiB, open file descriptors) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return rss / 1024.0, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.v = {}

    def add(self, key, n=1):
        with self.lock:
            self.v[key] = self.v.get(key, 0) + n


def acknowledged(path, fails=None):
    """(B-TID -> expiry) of every 200, and the SQNs per IMPI, from soak-ue's log;
    fails (a dict) counts the failed good bootstraps by kind and status."""
    btids, sqns = {}, {}
    if not os.path.exists(path):
        return btids, sqns
    with open(path) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue     # a line cut by the end of the run
            if ev["ev"] == "ok":
                btids[ev["btid"]] = ev["expiry"]
            elif ev["ev"] == "sqn":
                sqns.setdefault(ev["impi"], []).append(ev["sqn"])
            elif ev["ev"] == "fail" and not ev["bad"] and fails is not None:
                key = f'{ev["kind"]} {ev["status"]}'
                fails[key] = fails.get(key, 0) + 1
    return btids, sqns


class Tail:
    """The last B-TIDs acknowledged in a soak-ue log, read as it grows."""

    def __init__(self, path, keep=200):
        self.path, self.keep, self.off, self.btids = path, keep, 0, []

    def latest(self):
        if os.path.exists(self.path):
            with open(self.path) as f:
                f.seek(self.off)
                for line in f:
                    if not line.endswith("\n"):
                        break
                    self.off += len(line.encode())
                    if '"ev":"ok"' in line:
                        self.btids.append(json.loads(line)["btid"])
            self.btids = self.btids[-self.keep:]
        return self.btids


def zn_load_loop(d, name, log_path, stop, counts):
    """zn-load against one BSF, a second in every five, on what its UEs got lately."""
    btid_file = os.path.join(d.dir, name + ".zn-btids")
    tail = Tail(log_path)
    while not stop.is_set():
        btids = tail.latest()
        if not btids:
            time.sleep(0.5)
            continue
        domain = BSF_ZH_ID if name == "bsf-zh" else BSF_REDIS_ID
        with open(btid_file, "w") as f:
            f.writelines(b + "\n" for b in btids)
            f.write(f"AAAAAAAAAAAAAAAAAAAAAA==@{domain}\n")   # unknown: 5403
        # One second in five: Zn is part of the mix, not the whole of it.
        r = subprocess.run([d.t.zn_load, "--bsf", f"127.0.0.1:{d.port[name + '-zn']}",
                            "--btid-file", btid_file, "--duration", "1", "--in-flight", "2",
                            "--naf-domain", NAF_DOMAIN, "--timeout", "3000"],
                           capture_output=True, text=True, timeout=60)
        stop.wait(4.0)
        m = re.search(r"^BIR/BIA\s+(\d+) ok, (\d+) failed", r.stdout, re.M)
        if m:
            counts.add(name + " BIR ok", int(m.group(1)))
            counts.add(name + " BIR failed (incl. unknown B-TID)", int(m.group(2)))
        else:
            counts.add(name + " zn-load runs without a connection")
            stop.wait(1.0)


def enrol_loop(d, stop, counts):
    """m2m-node enrolments at gba-naf, Digest and TLS-PSK in turn."""
    n = 0
    while not stop.is_set():
        what = ("enrol-digest", "enrol-tls")[n % 2]
        who = d.naf_impis()[n % 4]
        n += 1
        r = subprocess.run([d.t.node, "--bsf", d.url("bsf-zh"), "--impi", who,
                            "--k-file", d.keys, "--naf-host", "127.0.0.1", "--fqdn", NAF_FQDN,
                            "--digest-port", str(d.port["naf-digest"]),
                            "--tls-port", str(d.port["naf-tls"]), "--do", what],
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            counts.add(f"NAF {what} ok")
        else:
            try:
                why = json.loads(r.stdout).get("stage", "?")
            except ValueError:
                why = "?"
            counts.add(f"NAF {what} failed at {why}")
        stop.wait(0.5)


def inject_faults(d, stop, duration, t0, counts):
    """The four faults in turn, evenly spread; each down for a few seconds."""
    rounds = max(1, duration // 120)
    n = len(FAULTS) * rounds
    gap = duration / (n + 1)
    down = min(5.0, gap / 3)
    for i in range(n):
        if stop.wait(max(0.0, t0 + gap * (i + 1) - time.monotonic())):
            return
        name = FAULTS[i % len(FAULTS)]
        d.kill(name)
        if name in ("redis", "hss"):
            time.sleep(down)       # the BSFs run without it meanwhile
        d.restart(name)
        counts.add(f"fault {name}")


def verify(d, name, btids, now):
    """Lost: acknowledged, unexpired B-TIDs the BSF no longer knows (5403)."""
    live = [b for b, exp in btids.items() if exp > now + 60]
    path = os.path.join(d.dir, name + ".verify")
    with open(path, "w") as f:
        f.writelines(b + "\n" for b in live)
    if not live:
        return 0, 0, {}
    r = subprocess.run([d.t.zn_load, "--bsf", f"127.0.0.1:{d.port[name + '-zn']}",
                        "--btid-file", path, "--verify", "--naf-domain", NAF_DOMAIN],
                       capture_output=True, text=True, timeout=600)
    codes = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == "key" and f[1] == "check":
            codes[f[5]] = codes.get(f[5], 0) + 1
    if r.returncode != 0 or sum(codes.values()) != len(live):
        raise RuntimeError(f"zn-load --verify against {name} did not finish: "
                           f"{r.stderr.strip()[-500:]}")
    return len(live), codes.get("5403", 0), codes


def sqn_repeats(sqns):
    return sum(len(v) - len(set(v)) for v in sqns.values())


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build")
    duration = int(os.environ.get("DURATION", "600"))
    n_subs = int(os.environ.get("SUBSCRIBERS", "100"))
    ue_threads = os.environ.get("UE_THREADS", "2")
    rate = os.environ.get("RATE", "150")
    tools = Tools(build)
    counts = Counter()
    with gbatest.Processes() as procs:
        d = Daemons(procs, tools, n_subs)
        d.make_subscribers()
        for name in ("redis", "hss", "bsf-zh", "bsf-redis", "naf"):
            d.start(name)
        time.sleep(1.0)
        start_fig = {n: proc_figures(p.pid) for n, p in procs.procs.items()}
        print(f"soak: {duration} s, {n_subs} subscribers per BSF, {ue_threads} UE threads and"
              f" at most {rate} bootstraps/s per BSF, faults {', '.join(FAULTS)}; box {os.cpu_count()} CPUs, load average"
              f" {os.getloadavg()[0]:.1f} at start", flush=True)
        logs = {n: os.path.join(d.dir, n + ".ue.jsonl") for n in ("bsf-zh", "bsf-redis")}
        stop = threading.Event()
        t0 = time.monotonic()
        ues = {n: subprocess.Popen(
            [tools.soak_ue, "--url", d.url(n), "--impis", d.ue_impis(n), "--k-file", d.keys,
             "--duration", str(duration), "--out", logs[n], "--threads", ue_threads,
             "--rate", rate,
             "--resync-every", "7", "--bad-every", "11", "--timeout", "3000"],
            stdout=subprocess.PIPE, text=True) for n in logs}
        helpers = [threading.Thread(target=zn_load_loop, args=(d, n, logs[n], stop, counts))
                   for n in logs]
        helpers.append(threading.Thread(target=enrol_loop, args=(d, stop, counts)))
        faults = threading.Thread(target=inject_faults, args=(d, stop, duration, t0, counts))
        for t in helpers + [faults]:
            t.daemon = True
            t.start()
        ue_out = {n: p.communicate(timeout=duration + 120)[0].strip() for n, p in ues.items()}
        stop.set()
        faults.join(timeout=60)
        for t in helpers:
            t.join(timeout=90)
        elapsed = time.monotonic() - t0
        end_fig = {n: proc_figures(p.pid) for n, p in procs.procs.items()}
        now = time.time()

        print(f"load ({elapsed:.0f} s):")
        for n in logs:
            print(f"  {n:9} {ue_out[n]}")
        for k in sorted(counts.v):
            print(f"  {k:50} {counts.v[k]}")
        broken = []
        print("durability and SQNs:")
        for n in logs:
            fails = {}
            btids, sqns = acknowledged(logs[n], fails)
            live, lost, codes = verify(d, n, btids, now)
            issued = sum(len(v) for v in sqns.values())
            print(f"  {n:9} lost acknowledged sessions {lost} of {live} unexpired"
                  f" (Zn answers {dict(sorted(codes.items()))});"
                  f" SQN repeats {sqn_repeats(sqns)} in {issued} challenges"
                  f" to {len(sqns)} subscribers")
            print(f"  {'':9} failed bootstraps (not the bad ones) by kind and status:"
                  f" {dict(sorted(fails.items()))}")
            if not btids:
                broken.append(f"{n}: no bootstrap succeeded")
        print("daemons (RSS MiB / open fds, at start -> at the end; restarts):")
        for n in sorted(end_fig):
            a, b = start_fig.get(n), end_fig.get(n)
            fmt = lambda x: f"{x[0]:6.1f} MiB {x[1]:4d} fds" if x else "   (gone)"  # noqa: E731
            print(f"  {n:9} {fmt(a)} -> {fmt(b)}; restarts {d.restarts.get(n, 0)}")
        if os.environ.get("SMOKE") == "1":
            missing = [f for f in FAULTS if not counts.v.get(f"fault {f}")]
            if missing:
                broken.append(f"faults not injected: {missing}")
        if os.environ.get("KEEP_DIR"):
            subprocess.run(["cp", "-r", d.dir, os.environ["KEEP_DIR"]], check=False)
            print(f"soak: logs and databases copied to {os.environ['KEEP_DIR']}")
        if broken:
            sys.exit("soak: broken: " + "; ".join(broken))


if __name__ == "__main__":
    main()
