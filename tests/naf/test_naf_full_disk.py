"""test_naf_full_disk - issue 15, defect 2 for gba-naf: its key store on a
small tmpfs that is then filled to the last byte.  No enrolment (KmID) and
no session key may be acknowledged that is not stored: while the disk is
full gba-naf answers 503 with Retry-After (error store_unwritable) on both
Ua ports and the admin port, logs the outage once, and enrols again by
itself once space returns; every KmID answered with 200 is in the store
after a restart.  Its /metrics shows the store unwritable meanwhile, and one
failed write per 503 store_unwritable answered on Ua.  Real processes: gba-bsf (Zn on), gba-naf, m2m-node.

Needs root (mount); when mount is refused the test says why and exits 77.

    python3 test_naf_full_disk.py GBA_BSF GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET
"""
import http.client
import os
import sys

import test_naf_e2e  # noqa: E402  (puts tests/bsf on sys.path)
import gbatest  # noqa: E402
from test_naf_e2e import moved, page  # noqa: E402
from test_bsf_full_disk import Tmpfs  # noqa: E402

TARGET = test_naf_e2e.TARGET


def revoke_raw(naf, who):
    """POST /admin/revoke/<who>: (status, Retry-After header or None)."""
    c = http.client.HTTPConnection("127.0.0.1", naf["admin"], timeout=10)
    try:
        c.request("POST", "/admin/revoke/" + who)
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After")
    finally:
        c.close()


def refused(r):
    return r.get("result") == "error" and r.get("status") == 503


def main():
    checks = gbatest.Checks()
    c = checks.check
    with gbatest.Processes() as procs:
        tmpfs = Tmpfs(os.path.join(procs.dir, "small"))
        if not tmpfs.mounted:
            print(f"SKIP: cannot mount a tmpfs ({tmpfs.error}); this test needs root")
            sys.exit(77)
        try:
            env = test_naf_e2e.Env(procs, sys.argv)
            env.start_bsf()
            store = "sqlite:" + os.path.join(tmpfs.path, "naf-keys.db")
            naf = env.start_naf(store=store)
            enrolled = []
            r = env.node(naf, "enrol-digest")
            c("before: enrolled over Digest Ua", r.get("result") == "ok", r)
            enrolled.append(r.get("kmid"))
            m0 = page(naf["admin"])
            left = tmpfs.fill()
            c("the tmpfs is full", left == 0, f"{left} blocks left")

            r = env.node(naf, "enrol-digest")
            c("full: Digest enrolment refused with 503 (nothing acknowledged)", refused(r), r)
            st, _ = env.admin(naf, "GET", "/admin/nodes/" + r.get("btid", "x"))
            c("full: the refused enrolment is not in the store", st == 404, st)
            r = env.node(naf, "enrol-tls")
            c("full: TLS-PSK enrolment refused with 503", refused(r), r)
            r = env.node(naf, "session", "--target", TARGET, "--suid", "22")
            c("full: session key registration refused with 503", refused(r), r)
            st, retry = revoke_raw(naf, "nobody-CAE")
            c("full: admin revoke 503 with Retry-After", st == 503 and retry == "5",
              (st, retry))
            m1 = page(naf["admin"])
            failed = moved(m0, m1, "gba_naf_store_write_failures_total", reason="unwritable")
            answered = (m1.sum("gba_naf_ua_requests_total", result="store_unwritable") -
                        m0.sum("gba_naf_ua_requests_total", result="store_unwritable"))
            c("full: metrics show the store unwritable, one failed write per 503 on Ua",
              m0.get("gba_naf_store_writable") == 1 and m1.get("gba_naf_store_writable") == 0
              and failed == answered >= 2, (failed, answered))

            tmpfs.free()
            r = env.node(naf, "enrol-digest")
            c("space back: enrolment works again by itself", r.get("result") == "ok", r)
            enrolled.append(r.get("kmid"))
            r = env.node(naf, "session", "--target", TARGET, "--suid", "23")
            c("space back: a session key is registered", r.get("result") == "ok", r)
            c("space back: gba_naf_store_writable is 1 again",
              page(naf["admin"]).get("gba_naf_store_writable") == 1)
            log = procs.log(naf["name"])
            c("the outage is logged once, and its end",
              log.count("key store cannot write (") == 1 and "key store writes again" in log,
              log[-2000:])

            procs.stop(naf["name"])
            naf = env.start_naf(store=store)
            kept = [k for k in enrolled if env.admin(naf, "GET", "/admin/nodes/" + k)[0] == 200]
            print(f"KmIDs answered with 200: {len(enrolled)}, in the store after a restart: "
                  f"{len(kept)}")
            c("every KmID answered with 200 is in the store after a restart",
              len(kept) == len(enrolled), kept)
        finally:
            for name in list(procs.procs):
                procs.stop(name)
            tmpfs.close()
    checks.finish()


if __name__ == "__main__":
    main()
