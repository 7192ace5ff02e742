"""test_bsf_sentinel - the session store on Redis Sentinel
(redis-sentinel://), with real processes on 127.0.0.1: a primary, two
replicas and three sentinels (tests/harness/redis_ha.py), and three
gba-bsf on one subscriber database (IND slots 0, 1, 2).  UEs bootstrap
through BSF A (wait=1) while BSF B (wait=1) looks their B-TIDs up in the
store, as it does for Zn.

  1. One sentinel is down from the start: the stores ask the others.
  2. Under load, the primary is killed (-9): the sentinels promote a
     replica, A and B follow without restart, and every B-TID that got a
     200 before, during and after the failover is found through B.  The
     test prints how many bootstraps failed and the seconds from the kill
     to the first 200 on the new primary.
  3. Under load through BSF C (no wait), the new primary is SIGSTOPped
     (its network "cut"): the sentinels promote the last replica, C follows;
     the test prints how many of C's acknowledged B-TIDs were lost.  With
     no replica left, A (wait=1) answers 503 store_unwritable, not a 200
     that a failover could lose.  The stopped node, continued, comes back
     as a replica and A answers 200 again.

    python3 test_bsf_sentinel.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import shutil
import sys
import threading
import time

import bsfenv
from bsfenv import card_impi
import gbatest
import redis_ha

SKIP = 77
UES = 4                 # concurrent UEs, each its own subscriber and card
PHASE_S = 2.0           # load before a fault, and after the new primary is in
STORE_OPTS = "timeout_ms=500&failover_ms=15000"
WAIT_OPTS = "wait=1&wait_ms=500&" + STORE_OPTS


class Load:
    """UES threads bootstrapping through one BSF until stopped; every
    result as (start, end, exit code, B-TID)."""

    def __init__(self, tools, bsf, states):
        self.tools, self.bsf, self.states = tools, bsf, states
        self.results, self.lock = [], threading.Lock()
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(UES)]

    def run(self, i):
        deadline = time.monotonic() + 60   # bounded whatever happens
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            rc, out = bsfenv.run_ue(self.tools, self.bsf.url, self.states[i], impi=card_impi(i),
                                    extra=("--timeout", "20000"), timeout=40)
            with self.lock:
                self.results.append((t0, time.monotonic(), rc, out.get("btid", "")))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(60)
        return False

    def acked(self):
        return [r[3] for r in self.results if r[2] == 0 and r[3]]


def lost(bsf, btids):
    return [b for b in btids if bsf.session(b)[0] != 200]


def failover_under_load(checks, ha, tools, a, b, states):
    old = ha.primary_port()
    with Load(tools, a, states) as load:
        time.sleep(PHASE_S)
        t_kill = time.monotonic()
        ha.kill(ha.node_name(old))
        new = ha.wait_new_primary(old)
        t_new = time.monotonic()
        time.sleep(PHASE_S)
    ha.wait_settled(new, replicas=1)
    res = load.results
    acked = load.acked()
    failed = [r for r in res if r[2] != 0]
    after = [r[1] for r in res if r[2] == 0 and r[0] >= t_kill]
    first_ok = min(after) - t_kill if after else None
    print(f"# failover (kill -9, wait=1): {len(res)} bootstraps, {len(acked)} got 200, "
          f"{len(failed)} failed; sentinels named the new primary after "
          f"{t_new - t_kill:.2f} s; first 200 begun after the kill ended "
          f"{first_ok if first_ok is None else round(first_ok, 2)} s after it")
    checks.check("a new primary was promoted", new != old, f"{old} -> {new}")
    checks.check("bootstraps went on after the kill", first_ok is not None)
    checks.check("some bootstraps got 200 before the kill",
                 any(r[1] < t_kill and r[2] == 0 for r in res))
    missing = lost(b, acked)
    checks.check(f"wait=1: every one of {len(acked)} acknowledged B-TIDs is found through "
                 "BSF B after the failover", not missing, f"{len(missing)} lost: {missing[:3]}")
    return new


def cut_primary(checks, ha, tools, a, b, c, states):
    old = ha.primary_port()
    name = ha.node_name(old)
    with Load(tools, c, states) as load:
        time.sleep(PHASE_S)
        t_stop = time.monotonic()
        ha.sigstop(name)
        new = ha.wait_new_primary(old)
        print(f"# SIGSTOP of the primary: new primary after {time.monotonic() - t_stop:.2f} s")
        time.sleep(PHASE_S)
    acked = load.acked()
    missing = lost(b, acked)
    failed = sum(1 for r in load.results if r[2] != 0)
    print(f"# without wait: {len(acked)} acknowledged B-TIDs, {len(missing)} lost "
          f"after the failover, {failed} bootstraps failed")
    checks.check("BSF C followed the new primary (200s after the stop)",
                 any(r[0] > t_stop + 0.5 and r[2] == 0 for r in load.results))

    # No replica left: WAIT 1 cannot be satisfied, and A must say so.
    rc, out = bsfenv.run_ue(tools, a.url, states[0], impi=card_impi(0))
    checks.check("wait=1 with no replica left: the bootstrap fails", rc != 0, str(out))
    checks.check("... as 503 store_unwritable", a.failures("store_unwritable") >= 1,
                 str(a.metrics()))
    ha.cont(name)   # comes back; the sentinels make it a replica of the new primary
    ha.wait(lambda: ha.replicas_in_sync(new) >= 1, 20, "the old primary back as a replica")
    ok = False
    for _ in range(20):
        rc, out = bsfenv.run_ue(tools, a.url, states[0], impi=card_impi(0))
        if rc == 0:
            ok = b.session(out.get("btid", ""))[0] == 200
            break
        time.sleep(0.5)
    checks.check("with a replica back, A answers 200 again and B finds the B-TID", ok)


def main():
    for prog in ("redis-server", "redis-sentinel", "redis-cli"):
        if not shutil.which(prog):
            print(f"FAIL {prog} is not installed (scripts/setup.sh installs it)")
            sys.exit(1)
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        states = bsfenv.add_cards(tools, procs, db, UES)
        ha = redis_ha.RedisHA(procs).start()
        try:
            ha.kill("sentinel0")   # first in the URI: every lookup must skip it
            bsfs = []
            for n, (name, opts) in enumerate([("bsfA", WAIT_OPTS), ("bsfB", WAIT_OPTS),
                                              ("bsfC", STORE_OPTS)]):
                bsfs.append(bsfenv.Bsf(procs, tools, name=name, db=db, store=ha.uri(opts),
                                       extra={"embedded.ind": str(n)}).start())
            a, b, c = bsfs
            rc, out = bsfenv.run_ue(tools, a.url, states[0], impi=card_impi(0))
            checks.check("a sentinel down: bootstrap through A", rc == 0, str(out))
            checks.check("... and B finds it", b.session(out.get("btid", ""))[0] == 200)
            failover_under_load(checks, ha, tools, a, b, states)
            cut_primary(checks, ha, tools, a, b, c, states)
            for x in bsfs:
                checks.check(f"{x.name} still running (no restart)", x.alive())
            for x in bsfs:
                x.check_clean_stop(checks)
        finally:
            ha.cont_all()
    checks.finish()


if __name__ == "__main__":
    main()
