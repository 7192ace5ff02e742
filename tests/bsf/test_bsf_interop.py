"""test_bsf_interop - gba-bsf where it meets UEs and HSSs that read the specs
differently (shared/spec/interop.md section 2), all real processes on
127.0.0.1:

- rspauth with qop=auth-int over the 200's own body by default, over the
  request's with ub.rspauth_body=request; gba-test-ue accepts either and
  says in --trace which one matched;
- ub.realm_check: strict refuses a second request whose realm is the Host,
  lenient accepts it (and logs it);
- B-TID collisions: gba-hss-sim --fixed-rand gives every user the same RAND;
  the second bootstrap fails with 500, logged and counted, and the first
  session stays intact, with the SQLite store (group commit and commit_ms=0)
  and with Redis (SET NX).

    python3 test_bsf_interop.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER [GBA_HSS_SIM]
"""
import json
import os
import shutil
import sys
import time

import bsfenv
import gbatest
from bsfenv import IMPI, K, OPC
from test_bsf_zh import BSF_ID, HSS_ID, LSAN_ENV, REALM, bsf_tls, test_ca

IMPI2 = "001010000000002@ims.mnc001.mcc001.3gppnetwork.org"
FIXED_RAND = "23553cbe9637a89d218ae64dae47bf35"   # TS 35.208 test set 1


def run_ue(tools, url, state, impi=IMPI, extra=()):
    """gba-test-ue with --trace: (exit code, JSON, stderr)."""
    r = gbatest.run([tools.ue, "--url", url, "--impi", impi, "--k-file", "-",
                     "--state", state, "--trace", *extra], timeout=30,
                    input=gbatest.keys_text(K, OPC))
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {"raw": r.stdout}
    return r.returncode, out, r.stderr


def test_rspauth(checks, tools, procs, state):
    bsf = bsfenv.Bsf(procs, tools, name="bsf-rsp").start()
    rc, out, err = run_ue(tools, bsf.url, state)
    checks.check("default: rspauth over the 200's body; the UE says so",
                 rc == 0 and out.get("rspauth_body") == "response", str(out))
    checks.check("--trace names the body rspauth matched",
                 "rspauth verified over the response body" in err, err)
    bsf.stop()
    bsf = bsfenv.Bsf(procs, tools, name="bsf-rsp-req",
                     extra={"ub.rspauth_body": "request"}).start()
    rc, out, err = run_ue(tools, bsf.url, state)
    checks.check("ub.rspauth_body=request: rspauth over the GET's (empty) body, accepted",
                 rc == 0 and out.get("rspauth_body") == "request" and
                 "rspauth verified over the request body" in err, f"{out} {err}")
    bsf.check_clean_stop(checks)


def test_realm(checks, tools, procs, state):
    bsf = bsfenv.Bsf(procs, tools, name="bsf-strict").start()
    rc, out, _ = run_ue(tools, bsf.url, state, extra=["--fault", "host-realm"])
    checks.check("ub.realm_check=strict (default): realm = Host in the answer: 400",
                 rc == 1 and out.get("status") == 400, str(out))
    bsf.stop()
    bsf = bsfenv.Bsf(procs, tools, name="bsf-lenient",
                     extra={"ub.realm_check": "lenient"}).start()
    rc, out, _ = run_ue(tools, bsf.url, state, extra=["--fault", "host-realm"])
    checks.check("ub.realm_check=lenient: realm = Host accepted, 200, rspauth verified",
                 rc == 0 and out.get("status") == 200, str(out))
    checks.check("lenient: the log names the realm it let through",
                 f'realm "127.0.0.1:{bsf.port}" accepted' in bsf.log(), bsf.log()[-1500:])
    rc, out, _ = run_ue(tools, bsf.url, state)
    checks.check("lenient: a UE that echoes the challenge's realm still works", rc == 0, str(out))
    bsf.check_clean_stop(checks)


def collision(checks, tools, procs, name, hss_port, store, state_dir):
    """Two users, one RAND: the second bootstrap must not take the first's B-TID."""
    bsf = bsfenv.Bsf(procs, tools, name=name, store=store, extra={
        "av.source": "zh", "zh.origin_host": BSF_ID, "zh.origin_realm": REALM, **bsf_tls(procs),
        "zh.hss_host": "127.0.0.1", "zh.hss_port": str(hss_port),
        "zh.hss_realm": REALM, "zh.hss_identity": HSS_ID, "zh.timeout_ms": "2000"},
                     env=LSAN_ENV).start()
    ok = False
    for _ in range(60):
        rc, first, _ = run_ue(tools, bsf.url, os.path.join(state_dir, name + "-1.sqn"))
        if rc == 0:
            ok = True
            break
        time.sleep(0.5)   # the Diameter connection comes up
    if not checks.check(f"{name}: the first user bootstraps (RAND fixed by the HSS)", ok,
                        str(first)):
        bsf.stop()
        return
    btid = first.get("btid", "")
    rc, second, _ = run_ue(tools, bsf.url, os.path.join(state_dir, name + "-2.sqn"),
                           impi=IMPI2)
    checks.check(f"{name}: the second user, same RAND: 500", rc == 1 and
                 second.get("status") == 500, str(second))
    checks.check(f"{name}: counted as btid_collision", bsf.failures("btid_collision") == 1,
                 str(bsf.metrics()))
    checks.check(f"{name}: logged with the B-TID", f"B-TID collision: btid={btid}" in bsf.log(),
                 bsf.log()[-1500:])
    status, sess = bsf.session(btid)
    checks.check(f"{name}: the first session intact (its IMPI, its lifetime)",
                 status == 200 and sess and sess.get("impi") == IMPI and
                 sess.get("expiry") == first.get("lifetime_unix"), str(sess))
    # A second later: a session that differs from the first at least in its
    # times (Redis takes a value identical to its own as a retried write).
    time.sleep(1.1)
    rc, again, _ = run_ue(tools, bsf.url, os.path.join(state_dir, name + "-1.sqn"))
    checks.check(f"{name}: the first user again, same RAND: 500 too (never overwritten)",
                 rc == 1 and again.get("status") == 500, str(again))
    code = bsf.stop()
    log = bsf.log()
    checks.check(f"{name}: SIGTERM, exit 0, no sanitizer report", code == 0 and
                 "Sanitizer" not in log and "runtime error" not in log,
                 f"exit {code}: {log[-3000:]}")


def test_collisions(checks, tools, procs, hss_bin):
    db = os.path.join(procs.dir, "hss.db")
    bsfenv.add_subscriber(tools, db)
    bsfenv.add_subscriber(tools, db, impi=IMPI2)
    port = gbatest.free_port()
    procs.start("hss", [hss_bin, "--db", db, "--listen", f"127.0.0.1:{port}",
                        "--identity", HSS_ID, "--realm", REALM, "--fixed-rand", FIXED_RAND,
                        *test_ca(procs).hss_args(HSS_ID)],
                wait_port=port)
    collision(checks, tools, procs, "bsf-sqlite", port, None, procs.dir)
    collision(checks, tools, procs, "bsf-sqlite-now", port,
              "sqlite:" + os.path.join(procs.dir, "now.db") + "?commit_ms=0", procs.dir)
    if shutil.which("redis-server"):
        rport = gbatest.free_port()
        procs.start("redis", ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", procs.dir],
                    wait_port=rport)
        collision(checks, tools, procs, "bsf-redis", port, f"redis://127.0.0.1:{rport}/0",
                  procs.dir)
    else:
        print("skip: redis-server is not installed; Redis collision not tested")


def main():
    tools = bsfenv.Tools()
    hss_bin = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        state = os.path.join(procs.dir, "card.sqn")
        bsfenv.add_subscriber(tools, os.path.join(procs.dir, "subscribers.db"))
        test_rspauth(checks, tools, procs, state)
        test_realm(checks, tools, procs, state)
        if hss_bin:
            test_collisions(checks, tools, procs, hss_bin)
        else:
            print("skip: gba-hss-sim is not built; B-TID collisions not tested")
    checks.finish()


if __name__ == "__main__":
    main()
