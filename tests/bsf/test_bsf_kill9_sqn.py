"""test_bsf_kill9_sqn - no SQN issued twice across a kill -9 (issue 11).

gba-bsf with its defaults (embedded subscriber database with the group
commit of SQN reservations, SQLite session store, IND slot lease) and 300
subscribers.  ub-load bootstraps them for 3 s over 24 connections and
records every challenge it receives (IMPI, RAND, AUTN: --challenge-log);
1.2 s in, the BSF is killed with SIGKILL.  It is started again on the same
database (the same lease holder takes its slot back at once) and ub-load
runs 1.5 s more against it, recording again.

Then every SQN is recovered from its AUTN: SQN = (SQN xor AK) xor f5(RAND)
with the subscribers' K and OPc, through libgba's Milenage (ub-load
--sqn-of, so that the test also runs on a sanitizer build).
Checked: challenges were recorded both before the kill and after the
restart; no (subscriber, SQN) pair appears twice; and each subscriber's SQNs
increase in the order the challenges arrived.  A vector handed out before
its SQN reservation is in the file would show here after the kill as a
repeat or a step back.

    python3 test_bsf_kill9_sqn.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER UB_LOAD
"""
import os
import signal
import subprocess
import sys
import time

import bsfenv
import gbatest

SUBSCRIBERS = 300
CONNECTIONS = 24
RUN1_S, KILL_AFTER_S, RUN2_S = 3.0, 1.2, 1.5


def write_key_file(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"k = {bsfenv.K}\nopc = {bsfenv.OPC}\n")


def import_subscribers(ub_load, subscriber, db, keys):
    make = subprocess.Popen([ub_load, "--make-csv", str(SUBSCRIBERS), "--k-file", keys],
                            stdout=subprocess.PIPE)
    r = subprocess.run([subscriber, "--db", db, "import", "-"], stdin=make.stdout,
                       capture_output=True, text=True, timeout=60)
    make.stdout.close()
    return make.wait(30) == 0 and r.returncode == 0, r.stdout + r.stderr


def load(ub_load, bsf, keys, seconds, log):
    """ub-load against bsf in the background, its challenges to log."""
    return subprocess.Popen(
        [ub_load, "--url", bsf.url, "--count", str(SUBSCRIBERS), "--k-file", keys,
         "--connections", str(CONNECTIONS), "--duration", str(seconds),
         "--timeout", "2000", "--challenge-log", log],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_log(ub_load, keys, path):
    """[(impi, sqn)] in the order the challenges arrived (ub-load --sqn-of)."""
    r = subprocess.run([ub_load, "--sqn-of", path, "--k-file", keys], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"ub-load --sqn-of {path}: {r.stderr}")
    return [(impi, int(sqn)) for impi, sqn in (line.split() for line in r.stdout.splitlines())]


def main():
    tools = bsfenv.Tools()
    ub_load = sys.argv[4]
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        keys = os.path.join(procs.dir, "keys")
        write_key_file(keys)
        ok, text = import_subscribers(ub_load, tools.subscriber, db, keys)
        checks.check(f"{SUBSCRIBERS} subscribers imported", ok, text)
        store = "sqlite:" + os.path.join(procs.dir, "sessions.db")
        # No per-IMPI rate: each subscriber bootstraps about 10 times a second here.
        defaults = {"embedded.lease_ttl": "30s", "log.level": "warn",
                    "ub.impi_challenge_rate": "0"}

        bsf = bsfenv.Bsf(procs, tools, db=db, store=store, extra=defaults).start()
        log1, log2 = (os.path.join(procs.dir, f"challenges{i}.log") for i in (1, 2))
        run1 = load(ub_load, bsf, keys, RUN1_S, log1)
        time.sleep(KILL_AFTER_S)
        procs.stop("bsf", sig=signal.SIGKILL)
        out1 = run1.communicate(timeout=60)[0]
        print("# run 1 (killed):", " | ".join(out1.splitlines()[1:3]))

        bsf = bsfenv.Bsf(procs, tools, db=db, store=store, extra=defaults).start()
        run2 = load(ub_load, bsf, keys, RUN2_S, log2)
        out2 = run2.communicate(timeout=60)[0]
        print("# run 2 (restarted):", " | ".join(out2.splitlines()[1:3]))
        checks.check("the restarted BSF bootstraps", run2.returncode == 0, out2)

        seen1, seen2 = read_log(ub_load, keys, log1), read_log(ub_load, keys, log2)
        print(f"# challenges: {len(seen1)} before the kill, {len(seen2)} after the restart")
        checks.check("challenges before the kill and after the restart",
                     len(seen1) > SUBSCRIBERS and len(seen2) > SUBSCRIBERS,
                     f"{len(seen1)} / {len(seen2)}")
        by_impi, repeats, backwards = {}, [], []
        for impi, sqn in seen1 + seen2:
            prev = by_impi.setdefault(impi, [])
            if sqn in prev:
                repeats.append((impi, sqn))
            elif prev and sqn < prev[-1]:
                backwards.append((impi, prev[-1], sqn))
            prev.append(sqn)
        checks.check("no SQN issued twice to a subscriber (AUTNs of both runs)",
                     not repeats, f"{len(repeats)}: {repeats[:5]}")
        checks.check("each subscriber's SQNs increase", not backwards,
                     f"{len(backwards)}: {backwards[:5]}")
        both = {i for i, _ in seen1} & {i for i, _ in seen2}
        checks.check("subscribers with challenges on both sides of the kill", len(both) > 0,
                     f"{len(both)}")
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
