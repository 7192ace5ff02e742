"""test_bsf_bootstrap - gba-bsf in embedded mode against gba-test-ue, all real
processes on 127.0.0.1: a full bootstrap (GBA_ME and GBA_U), the resync path,
a MAC failure, a wrong password, a replayed nonce, a bad AUTS, an unknown user,
a stale nonce, AKAv2-MD5 and the realms a first request may name, SIGTERM
with a connection open, and a restart with the B-TID still known.  Failures never leave a session; the log never shows a key.

    python3 test_bsf_bootstrap.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import socket
import time

import bsfenv
import gbatest
from bsfenv import DOMAIN, IMPI, K, OPC, OTHER_K


def check_success(checks, name, rc, out):
    return checks.check(name, rc == 0 and out.get("result") == "ok" and out.get("status") == 200,
                        str(out))


def bootstraps(bsf):
    m = bsf.metrics()
    return m.get("gba_bsf_bootstraps_total", -1), m.get("gba_bsf_sessions_live", -1)


def test_success(checks, tools, bsf, state):
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    check_success(checks, "full bootstrap: 200, rspauth verified, BootstrappingInfo", rc, out)
    btid = out.get("btid", "")
    local, _, domain = btid.partition("@")
    checks.check("B-TID is base64(RAND)@<configured domain>", len(local) == 24 and domain == DOMAIN,
                 btid)
    expected = time.time() + 24 * 3600
    checks.check("lifetime is 24 h ahead", abs(out.get("lifetime_unix", 0) - expected) < 120,
                 str(out.get("lifetime")))
    status, sess = bsf.session(btid)
    checks.check("admin /sessions/<B-TID>: IMPI, GBA_ME, times", status == 200 and sess and
                 sess.get("impi") == IMPI and sess.get("type") == "GBA_ME" and
                 sess.get("expiry") == out.get("lifetime_unix"), str(sess))
    checks.check("the session's JSON has no key material",
                 sess is not None and not any("ks" == k.lower() or "key" in k.lower() for k in sess))
    status, _ = bsf.session("AAAAAAAAAAAAAAAAAAAAAA==@" + DOMAIN)
    checks.check("admin /sessions/<unknown B-TID>: 404", status == 404, str(status))

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--gba-u"])
    check_success(checks, "GBA_U bootstrap (User-Agent 3gpp-gba-uicc)", rc, out)
    status, sess = bsf.session(out.get("btid", ""))
    checks.check("the session records GBA_U", status == 200 and sess and sess.get("type") == "GBA_U",
                 str(sess))
    return btid


def test_resync(checks, tools, bsf, state):
    before = bsf.metrics().get("gba_bsf_resyncs_total", 0)
    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--sqn-ahead", "1000"])
    check_success(checks, "resync: card SQN ahead, AUTS, fresh challenge, 200", rc, out)
    checks.check("resync: the UE went through one resync", out.get("resyncs") == 1, str(out))
    checks.check("resync: gba_bsf_resyncs_total counted it",
                 bsf.metrics().get("gba_bsf_resyncs_total", 0) == before + 1)


def test_failures(checks, tools, bsf, state):
    """Each failure: the right status, its cause counted, no session."""
    n0, live0 = bootstraps(bsf)

    other = os.path.join(os.path.dirname(state), "other-card.sqn")
    rc, out = bsfenv.run_ue(tools, bsf.url, other, k=OTHER_K)
    checks.check("MAC failure: the card rejects AUTN, the BSF answers 403",
                 rc == 1 and out.get("stage") == "usim" and out.get("status") == 403, str(out))
    checks.check("MAC failure counted as mac_failure", bsf.failures("mac_failure") == 1)

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "wrong-password"])
    checks.check("wrong password: 403", rc == 1 and out.get("status") == 403, str(out))
    checks.check("wrong password counted as wrong_response", bsf.failures("wrong_response") == 1)

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "replay"])
    checks.check("replayed nonce: the first run succeeds", rc == 0, str(out))
    checks.check("replayed nonce: 401 with a fresh challenge, never a session",
                 out.get("replay_status") == 401 and out.get("replay_fresh_challenge") is True,
                 str(out))
    checks.check("replay counted as replayed_nonce", bsf.failures("replayed_nonce") == 1)

    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "bad-auts",
                                                           "--sqn-ahead", "10"])
    checks.check("corrupted AUTS: 403", rc == 1 and out.get("status") == 403, str(out))
    checks.check("bad AUTS counted as bad_auts", bsf.failures("bad_auts") == 1)

    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(os.path.dirname(state), "x.sqn"),
                            impi="999990000000001@ims.mnc999.mcc999.3gppnetwork.org")
    checks.check("unknown user: 403 to the first request",
                 rc == 1 and out.get("status") == 403 and out.get("stage") == "challenge", str(out))
    checks.check("unknown user counted as unknown_user", bsf.failures("unknown_user") == 1)

    n1, live1 = bootstraps(bsf)
    # The replay run's own first bootstrap is the only new session.
    checks.check("failures stored no session", n1 == n0 + 1 and live1 == live0 + 1,
                 f"bootstraps {n0}->{n1}, live {live0}->{live1}")


def test_stale(checks, tools, procs, db, state):
    """A BSF whose nonces live 1 s: an answer after 3 s is stale."""
    bsf = bsfenv.Bsf(procs, tools, name="bsf-stale", db=db,
                     extra={"bsf.nonce_lifetime": "1s"}).start()
    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "stale:3"])
    checks.check("stale nonce: 401 with a fresh challenge",
                 rc == 1 and out.get("status") == 401 and out.get("fresh_challenge") is True,
                 str(out))
    checks.check("stale nonce counted as stale_nonce", bsf.failures("stale_nonce") == 1)

    # The same by hand, to see stale=true on the wire.
    status, hdrs, _ = bsfenv.raw_request(bsf.port, bsfenv.get(f"127.0.0.1:{bsf.port}",
                                                               bsfenv.first_auth()))
    p = bsfenv.challenge_params(hdrs.get("www-authenticate", ""))
    time.sleep(2.5)
    auth = (f'Digest username="{IMPI}", realm="{DOMAIN}", nonce="{p.get("nonce")}", uri="/", '
            f'qop=auth-int, nc=00000001, cnonce="0a1b", response="{"0" * 32}", '
            f'opaque="{p.get("opaque")}", algorithm=AKAv1-MD5')
    status, hdrs, _ = bsfenv.raw_request(bsf.port, bsfenv.get(f"127.0.0.1:{bsf.port}", auth))
    p2 = bsfenv.challenge_params(hdrs.get("www-authenticate", ""))
    checks.check("stale nonce: WWW-Authenticate says stale=true with a new nonce",
                 status == 401 and p2.get("stale") == "true" and p2.get("nonce") != p.get("nonce"),
                 f"{status} {hdrs}")
    checks.check("the stale BSF stored no session", bsf.metrics().get("gba_bsf_bootstraps_total") == 0)
    bsf.check_clean_stop(checks)


def test_akav2_and_realms(checks, tools, procs, db, state):
    """AKAv2-MD5, and a realm that differs from the domain: the first
    request may name the realm, the domain or the host it connected to."""
    bsf = bsfenv.Bsf(procs, tools, name="bsf-akav2", db=db,
                     extra={"bsf.algorithm": "AKAv2-MD5", "bsf.realm": "realm.bsf.test"}).start()
    for realm in (None, "realm.bsf.test", DOMAIN):
        extra = ["--realm", realm] if realm else []
        rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=extra)
        check_success(checks, f"AKAv2-MD5 bootstrap, first realm {realm or 'the host'}", rc, out)
        checks.check("  the challenge offered AKAv2-MD5", out.get("algorithm") == "AKAv2-MD5")
    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--realm", "other.example"])
    checks.check("a first request naming another realm: 400",
                 rc == 1 and out.get("status") == 400, str(out))
    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--fault", "wrong-password"])
    checks.check("AKAv2-MD5 with a wrong password: 403", rc == 1 and out.get("status") == 403,
                 str(out))
    bsf.check_clean_stop(checks)


def test_log(checks, bsf, btid):
    log = bsf.log()
    checks.check("the log has one line per outcome", "bootstrap ok" in log and btid in log and
                 "cause=wrong_response" in log and "cause=unknown_user" in log)
    checks.check("the log never shows K or OPc", K not in log and OPC not in log and
                 OTHER_K not in log and K.upper() not in log)


def test_restart(checks, tools, procs, bsf, btid):
    # An idle keep-alive connection must not hold the stop up.
    idle = socket.create_connection(("127.0.0.1", bsf.port), timeout=5)
    t0 = time.monotonic()
    bsf.check_clean_stop(checks)
    print(f"     (stopped in {time.monotonic() - t0:.2f} s, a keep-alive connection open)")
    idle.close()
    checks.check("SIGTERM: 'stopped' logged", "stopped" in bsf.log())
    bsf.start()
    status, sess = bsf.session(btid)
    checks.check("restart: the B-TID is still known", status == 200 and sess and
                 sess.get("impi") == IMPI, f"{status} {sess}")


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        state = os.path.join(procs.dir, "card.sqn")
        bsf = bsfenv.Bsf(procs, tools, db=db).start()
        btid = test_success(checks, tools, bsf, state)
        test_resync(checks, tools, bsf, state)
        test_failures(checks, tools, bsf, state)
        test_log(checks, bsf, btid)
        test_stale(checks, tools, procs, db, os.path.join(procs.dir, "stale-card.sqn"))
        test_akav2_and_realms(checks, tools, procs, db, os.path.join(procs.dir, "v2-card.sqn"))
        test_restart(checks, tools, procs, bsf, btid)
        rc, out = bsfenv.run_ue(tools, bsf.url, state)
        check_success(checks, "after the restart: another bootstrap", rc, out)
        checks.check("gba-bsf stayed up throughout", bsf.alive())
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
