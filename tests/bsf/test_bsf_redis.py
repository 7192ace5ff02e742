"""test_bsf_redis - two gba-bsf processes share one Redis session store (and
one subscriber database, in distinct IND slots): a bootstrap through the
first is found on the second's admin port, and the other way round; the
session survives the first BSF's stop.  redis-server runs on a free
127.0.0.1 port in the test's directory, with nothing saved.

    python3 test_bsf_redis.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import shutil
import sys

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
    checks.finish()


if __name__ == "__main__":
    main()
