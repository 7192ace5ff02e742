"""test_bsf_sqn_shared - two gba-bsf on one SQLite subscriber database
(IND slots 0 and 1, sqn_block 32: each reserves blocks of SQNs in the file
and hands them out from memory) under load from four UEs, each bootstrapping
through both BSFs in turn.  Midway BSF 1 is killed (-9), losing the rest of
its reserved blocks, and started again on the same file and slot.

The IND slots are leased (lease_ttl 3 s): a third BSF given slot 0 under
another name refuses to start, naming the holder, while BSF 1's lease runs,
also right after BSF 1 was killed; when BSF 1 (restarted) is then stopped
(SIGSTOP) past its lease, the third BSF takes slot 0 and BSF 1, continued,
answers 503 rather than issue from a slot it no longer holds;
gba-subscriber leases lists the leases, and a clean stop releases them.

Checked: every accepted AUTN's SQN (gba-test-ue prints it, from the slot
its card's SEQ moved in) is distinct per subscriber; no card ever needed a
resynchronisation (a SQN issued twice, or out of order within a slot, would
be refused by the card as not fresh); the restarted BSF issues again; and
the database's last SQN per subscriber is at or past every SQN issued.

    python3 test_bsf_sqn_shared.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import re
import signal
import sys
import threading
import time

import bsfenv
from bsfenv import card_impi
import gbatest

UES = 4
PHASE_S = 2.0
LEASE_TTL = 3
EXTRA = {"embedded.sqn_block": "32", "embedded.lease_ttl": f"{LEASE_TTL}s"}


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        states = bsfenv.add_cards(tools, procs, db, UES)

        def bsf(name, ind, start=True):
            b = bsfenv.Bsf(procs, tools, name=name, db=db,
                           extra=dict(EXTRA, **{"embedded.ind": str(ind),
                                                "embedded.lease_id": name}))
            return b.start() if start else b

        def intruder_refused(what):
            """A BSF under another name in slot 0: exits 1, naming bsf1."""
            x = bsf("intruder", 0, start=False)
            r = gbatest.run([tools.bsf, "--config", x.config], timeout=10)
            checks.check(f"{what}: a second BSF in slot 0 refuses to start, naming the holder",
                         r.returncode == 1 and "leased by bsf1" in r.stdout + r.stderr,
                         f"{r.returncode} {r.stdout}{r.stderr}")

        bsfs = [bsf("bsf1", 0), bsf("bsf2", 1)]
        intruder_refused("lease running")
        r = gbatest.run([tools.subscriber, "--db", db, "leases"])
        checks.check("gba-subscriber leases lists both slots' holders",
                     r.returncode == 0 and re.search(r"^0 bsf1 ", r.stdout, re.M) and
                     re.search(r"^1 bsf2 ", r.stdout, re.M), r.stdout + r.stderr)
        results, lock, stop = [], threading.Lock(), threading.Event()

        def worker(i):
            deadline = time.monotonic() + 60
            n = 0
            while not stop.is_set() and time.monotonic() < deadline:
                b = bsfs[n % 2]
                n += 1
                rc, out = bsfenv.run_ue(tools, b.url, states[i], impi=card_impi(i))
                with lock:
                    results.append((i, b.name, time.monotonic(), rc, out))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(UES)]
        for t in threads:
            t.start()
        try:
            time.sleep(PHASE_S)
            procs.stop("bsf1", sig=signal.SIGKILL)
            intruder_refused("just after BSF 1 was killed")
            t_restart = time.monotonic()
            bsfs[0] = bsf("bsf1", 0)   # the same holder takes its lease back at once
            time.sleep(PHASE_S)
        finally:
            stop.set()
            for t in threads:
                t.join(60)

        ok = [r for r in results if r[3] == 0]
        sqns = {}
        for i, _, _, _, out in ok:
            sqns.setdefault(i, []).append(out.get("sqn", -1))
        dups = {i: len(v) - len(set(v)) for i, v in sqns.items()}
        print(f"# {len(results)} bootstraps, {len(ok)} ok; SQNs per subscriber: "
              f"{ {i: len(v) for i, v in sqns.items()} }")
        checks.check("every accepted AUTN's SQN is known", all(
            s >= 0 for v in sqns.values() for s in v))
        checks.check("no SQN issued twice (per subscriber, across both BSFs and the restart)",
                     not any(dups.values()), str(dups))
        resyncs = sum(r[4].get("resyncs", 0) for r in ok)
        checks.check("no card needed a resynchronisation", resyncs == 0, f"{resyncs}")
        checks.check("the restarted BSF 1 issues vectors", any(
            r[1] == "bsf1" and r[2] > t_restart and r[3] == 0 for r in results))
        checks.check("both BSFs issued before the kill", {r[1] for r in ok} == {"bsf1", "bsf2"})
        for i in range(UES):
            r = gbatest.run([tools.subscriber, "--db", db, "show", card_impi(i)])
            m = re.search(r"sqn: (\d+)", r.stdout)
            last = int(m.group(1)) if m else -1
            checks.check(f"subscriber {i}: the database's SQN is past every SQN issued",
                         sqns.get(i) and last >= max(sqns[i]), f"{last} {max(sqns.get(i, [0]))}")
        # BSF 1 stopped (SIGSTOP) for longer than its lease: another BSF takes
        # the slot, and BSF 1, continued, must not issue from it any more.
        bsfs[0].proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(LEASE_TTL + 1)   # its lease expires unrenewed
            x = bsf("intruder", 0)
        finally:
            bsfs[0].proc.send_signal(signal.SIGCONT)
        checks.check("once BSF 1's lease expired, another BSF takes slot 0", x.alive())
        r = gbatest.run([tools.subscriber, "--db", db, "leases"])
        checks.check("gba-subscriber leases shows the new holder",
                     re.search(r"^0 intruder ", r.stdout, re.M), r.stdout)
        rc, out = bsfenv.run_ue(tools, bsfs[0].url, states[0], impi=card_impi(0))
        checks.check("BSF 1, its lease lapsed, issues no vector: 503",
                     rc != 0 and out.get("status") == 503, str(out))
        rc, out = bsfenv.run_ue(tools, x.url, states[0], impi=card_impi(0))
        checks.check("the slot's new holder issues, and the card needs no resync",
                     rc == 0 and out.get("resyncs") == 0, str(out))
        bsfs[0].check_clean_stop(checks)
        for b in (bsfs[1], x):
            b.check_clean_stop(checks)
        r = gbatest.run([tools.subscriber, "--db", db, "leases"])
        checks.check("a clean stop releases the lease",
                     not re.search(r"^0 |^1 ", r.stdout, re.M), r.stdout)
    checks.finish()


if __name__ == "__main__":
    main()
