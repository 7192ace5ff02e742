"""test_bsf_redis - two gba-bsf processes share one Redis session store (and
one subscriber database, in distinct IND slots): a bootstrap through the
first is found on the second's admin port, and the other way round; the
session survives the first BSF's stop.  redis-server runs on a free
127.0.0.1 port in the test's directory, with nothing saved.  Then a Redis
restarted with data to load (LOADING) gets the BSF to answer 503, not 500.

    python3 test_bsf_redis.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import shutil
import sys
import time

import bsfenv
import gbatest
from bsfenv import IMPI

SKIP = 77  # meson's "skipped"


def start_redis(procs):
    port = gbatest.free_port()
    procs.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", procs.dir,
                          "--protected-mode", "yes"], wait_port=port)
    return port


def loading_redis(procs, port, keys, delay_us=0):
    """redis-server on port, its data in <dir>/loading; keys > 0 fills it with
    that many keys and saves them; delay_us slows the loading of each key at
    start (LOADING is answered meanwhile)."""
    data = os.path.join(procs.dir, "loading")
    os.makedirs(data, exist_ok=True)
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", data]
    if delay_us:
        argv += ["--key-load-delay", str(delay_us),
                 "--loading-process-events-interval-bytes", "1024"]
    procs.start("redis-loading", argv, wait_port=port)
    if keys:
        cmds = "".join(f"SET filler{i} x\n" for i in range(keys)) + "SAVE\n"
        gbatest.run(["redis-cli", "-p", str(port)], input=cmds, timeout=60, check=True)


def test_loading(checks, tools, procs, db):
    """A Redis that is loading its data after a restart answers LOADING: the
    BSF says 503 with Retry-After, not 500 (found by bench/soak.py)."""
    port = gbatest.free_port()
    loading_redis(procs, port, keys=3000)
    bsf = bsfenv.Bsf(procs, tools, name="bsf3", db=db, store=f"redis://127.0.0.1:{port}/0",
                     extra={"embedded.ind": "2"}).start()
    state = os.path.join(procs.dir, "card3.sqn")
    procs.stop("redis-loading")
    loading_redis(procs, port, keys=0, delay_us=1000)    # about 3 s of LOADING
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("Redis loading its data: the bootstrap gets 503, not 500",
                 rc != 0 and out.get("status") == 503, str(out))
    ok = False
    for _ in range(100):
        rc, out = bsfenv.run_ue(tools, bsf.url, state)
        if rc == 0:
            ok = True
            break
        time.sleep(0.1)
    checks.check("once Redis has loaded, bootstraps succeed again", ok, str(out))
    bsf.check_clean_stop(checks)


def main():
    if not shutil.which("redis-server"):
        print("SKIP: redis-server is not installed")
        sys.exit(SKIP)
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        store = f"redis://127.0.0.1:{start_redis(procs)}/0"
        one = bsfenv.Bsf(procs, tools, name="bsf1", db=db, store=store,
                         extra={"embedded.ind": "0"}).start()
        two = bsfenv.Bsf(procs, tools, name="bsf2", db=db, store=store,
                         extra={"embedded.ind": "1"}).start()
        state = os.path.join(procs.dir, "card.sqn")

        rc, out = bsfenv.run_ue(tools, one.url, state)
        checks.check("bootstrap through BSF 1", rc == 0, str(out))
        btid1 = out.get("btid", "")
        status, sess = two.session(btid1)
        checks.check("BSF 2 knows BSF 1's B-TID", status == 200 and sess and
                     sess.get("impi") == IMPI, f"{status} {sess}")

        rc, out = bsfenv.run_ue(tools, two.url, state)
        checks.check("the same card bootstraps through BSF 2 (its own IND slot)", rc == 0,
                     str(out))
        checks.check("no resync was needed between the two", out.get("resyncs") == 0, str(out))
        btid2 = out.get("btid", "")
        checks.check("BSF 1 knows BSF 2's B-TID", one.session(btid2)[0] == 200)
        checks.check("sessions_live counts both", one.metrics().get("gba_bsf_sessions_live", 0) >= 2)

        one.check_clean_stop(checks)
        checks.check("BSF 2 still serves BSF 1's session", two.session(btid1)[0] == 200)
        status, _ = two.session("AAAAAAAAAAAAAAAAAAAAAA==@" + bsfenv.DOMAIN)
        checks.check("an unknown B-TID: 404", status == 404)
        two.check_clean_stop(checks)
        test_loading(checks, tools, procs, db)
    checks.finish()


if __name__ == "__main__":
    main()
