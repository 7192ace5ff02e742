"""redis_ha - a Redis Sentinel deployment on 127.0.0.1 for the HA tests:
one redis-server primary, two replicas and three redis-sentinel processes,
each with its own config file in the test's directory and a free port,
nothing saved to disk.  Sentinels declare a node down after down_ms of
silence (1000 ms here, against 30 s by default) so a failover takes a few
seconds.  Every wait is bounded; gbatest.Processes stops them all (a
SIGSTOPped node is sent SIGCONT first by cont()).

    ha = redis_ha.RedisHA(procs).start()
    uri = ha.uri("wait=1&wait_ms=500")
    ha.kill_primary(); ha.wait_new_primary(old)

redis-server and redis-sentinel (Debian package redis-sentinel) are
installed by scripts/setup.sh.
"""
import os
import signal
import subprocess
import time

import gbatest

MASTER = "gbamaster"


def cli(port, *args, timeout=3.0):
    """redis-cli -p port args...: its stdout lines, or None on failure."""
    try:
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return r.stdout.splitlines() if r.returncode == 0 else None


class RedisHA:
    def __init__(self, procs, replicas=2, sentinels=3, down_ms=1000, failover_ms=5000):
        self.procs = procs
        self.down_ms, self.failover_ms = down_ms, failover_ms
        self.nodes = {f"redis{i}": gbatest.free_port() for i in range(1 + replicas)}
        self.sentinels = {f"sentinel{i}": gbatest.free_port() for i in range(sentinels)}
        self.stopped = set()

    def start(self, timeout=20.0):
        primary = self.nodes["redis0"]
        for name, port in self.nodes.items():
            argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", self.procs.dir,
                    "--dbfilename", name + ".rdb", "--repl-diskless-sync", "yes",
                    "--repl-diskless-sync-delay", "0"]
            if name != "redis0":
                argv += ["--replicaof", "127.0.0.1", str(primary)]
            self.procs.start(name, argv, wait_port=port)
        for name, port in self.sentinels.items():
            conf = os.path.join(self.procs.dir, name + ".conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndir {self.procs.dir}\n"
                        f"sentinel monitor {MASTER} 127.0.0.1 {primary} 2\n"
                        f"sentinel down-after-milliseconds {MASTER} {self.down_ms}\n"
                        f"sentinel failover-timeout {MASTER} {self.failover_ms}\n"
                        f"sentinel parallel-syncs {MASTER} 2\n")
            self.procs.start(name, ["redis-sentinel", conf], wait_port=port)
        self.wait(lambda: self.replicas_in_sync(primary) >= len(self.nodes) - 1 and
                  all(self.sentinel_sees(p) for p in self.sentinels.values()),
                  timeout, "replicas in sync and every sentinel sees the others")
        return self

    def uri(self, options=""):
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinels.values())
        return f"redis-sentinel://{hosts}/{MASTER}" + ("?" + options if options else "")

    # ---- state ---------------------------------------------------------------------

    def replicas_in_sync(self, port):
        out = cli(port, "INFO", "replication") or []
        return sum(1 for l in out if l.startswith("slave") and "state=online" in l)

    def sentinel_sees(self, port):
        out = cli(port, "SENTINEL", "master", MASTER) or []
        fields = dict(zip(out[0::2], out[1::2]))
        return (fields.get("num-other-sentinels") == str(len(self.sentinels) - 1) and
                int(fields.get("num-slaves", "0")) >= 1)

    def primary_port(self):
        """The primary's port as the first sentinel that answers says."""
        for name, port in self.sentinels.items():
            if name in self.stopped:
                continue
            out = cli(port, "SENTINEL", "get-master-addr-by-name", MASTER)
            if out and len(out) == 2:
                return int(out[1])
        return None

    def node_name(self, port):
        return next(n for n, p in self.nodes.items() if p == port)

    def wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.1)
        raise TimeoutError(f"redis_ha: {what}: not after {timeout} s")

    def wait_new_primary(self, old_port, timeout=20.0):
        """Wait until the sentinels name a primary other than old_port that
        answers ROLE master; returns its port."""
        def moved():
            p = self.primary_port()
            return p and p != old_port and (cli(p, "ROLE") or [""])[0] == "master"
        self.wait(moved, timeout, "a new primary")
        return self.primary_port()

    def wait_settled(self, primary, replicas, timeout=20.0):
        """Wait until every live sentinel names primary and it has replicas
        replicas in sync: a failover is over, not only begun."""
        def settled():
            for name, port in self.sentinels.items():
                if name in self.stopped:
                    continue
                out = cli(port, "SENTINEL", "get-master-addr-by-name", MASTER)
                if not out or len(out) != 2 or int(out[1]) != primary:
                    return False
            return self.replicas_in_sync(primary) >= replicas
        self.wait(settled, timeout, "the failover to settle")

    # ---- faults --------------------------------------------------------------------

    def kill(self, name):
        self.procs.stop(name, sig=signal.SIGKILL)
        self.stopped.add(name)

    def sigstop(self, name):
        self.procs.procs[name].send_signal(signal.SIGSTOP)
        self.stopped.add(name)

    def cont(self, name):
        self.procs.procs[name].send_signal(signal.SIGCONT)
        self.stopped.discard(name)

    def cont_all(self):
        """SIGCONT every stopped process still there, so its stop is quick."""
        for name in list(self.stopped):
            if name in self.procs.procs:
                self.cont(name)
