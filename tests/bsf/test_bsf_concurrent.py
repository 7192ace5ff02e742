"""test_bsf_concurrent - 20 gba-test-ue bootstrap the same IMPI at once
against one gba-bsf: every one succeeds (or gets a clean 503 to retry), all
B-TIDs differ, and no SQN was handed out twice (each card's state file holds
the SQN it accepted; they must all differ).

    python3 test_bsf_concurrent.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os

import bsfenv
import gbatest
from bsfenv import IMPI

N = 20


def card_seqs(path):
    """The non-zero SEQ_MS values of a gba-test-ue state file."""
    seqs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "seq" and int(parts[2]):
                seqs.append((int(parts[1]), int(parts[2])))
    return seqs


def run_round(checks, tools, procs, db, name, sqn_block):
    """N parallel bootstraps of one IMPI against a fresh gba-bsf."""
    label = f"[sqn_block {sqn_block}] "
    # N cards of one IMPI at once is a load test, not a UE: the per-IMPI
    # limits (test_bsf_flood.py) would replace or resend their challenges.
    bsf = bsfenv.Bsf(procs, tools, name=name, db=db, extra={
        "log.level": "info", "embedded.sqn_block": str(sqn_block),
        "ub.max_challenges_per_impi": str(N), "ub.impi_challenge_rate": "0"}).start()
    # Each UE is its own card (same K): what matters is what the BSF hands out.
    states = [os.path.join(procs.dir, f"{name}-card{i}.sqn") for i in range(N)]
    outs = bsfenv.run_ues_at_once(tools, bsf.url, states, [IMPI] * len(states))

    ok = [o for o in outs if o.get("result") == "ok"]
    retry = [o for o in outs if o.get("status") == 503]
    checks.check(label + f"{N} parallel bootstraps of one IMPI: all 200 or a clean 503",
                 len(ok) + len(retry) == N, str([o for o in outs if o not in ok]))
    print(f"     ({len(ok)} succeeded, {len(retry)} told to retry)")
    checks.check(label + "at least one succeeded", len(ok) > 0)
    btids = [o["btid"] for o in ok]
    checks.check(label + "all B-TIDs differ", len(set(btids)) == len(btids))
    seqs = []
    for st, o in zip(states, outs):
        if o.get("result") == "ok":
            seqs.extend(card_seqs(st))
    checks.check(label + "each successful card accepted exactly one SQN",
                 len(seqs) == len(ok), str(seqs))
    checks.check(label + "no SQN was handed out twice",
                 len({s for _, s in seqs}) == len(seqs), str(sorted(seqs)))
    m = bsf.metrics()
    checks.check(label + "the BSF counted one bootstrap per success",
                 m.get("gba_bsf_bootstraps_total") == len(ok))
    checks.check(label + "every session is in the store",
                 all(bsf.session(b)[0] == 200 for b in btids))
    checks.check(label + "no challenge left pending",
                 m.get("gba_bsf_challenges_pending") == 0)
    checks.check(label + "gba-bsf is still running", bsf.alive())
    bsf.check_clean_stop(checks)
    return {s for _, s in seqs}


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        first = run_round(checks, tools, procs, db, "bsf", 1)
        # SQN blocks: one transaction reserves 32 SQNs; a restart skips the
        # rest of a block, and still no SQN may come twice.
        second = run_round(checks, tools, procs, db, "bsf-block", 32)
        checks.check("no SQN of the second BSF repeats one of the first",
                     not (first & second), str(sorted(first & second)))
    checks.finish()

if __name__ == "__main__":
    main()
