#!/usr/bin/env python3
"""test_zn_http_fds.py - the BSF's Nbsp_GBA server (zn.http_listen) serves a
NAF whose socket in the BSF is numbered above FD_SETSIZE (1024).

gba-bsf started that server with no event-loop flag, so libmicrohttpd used
select(), which cannot watch a descriptor at or above FD_SETSIZE: it closed
every such connection at accept ("Socket descriptor larger than
FD_SETSIZE").  A busy BSF holds that many sockets easily (Ub's keep-alive
connections), and from then on no NAF got an answer over Nbsp_GBA.  Every
libmicrohttpd daemon now polls (lib/http/gba_http.c).

A real gba-bsf (embedded subscriber database, Zn over Nbsp_GBA with mutual
TLS, certificates by certtool) and curl with a NAF's client certificate, on
127.0.0.1:
  1. A BootstrappingInfoRequest for an unknown B-TID is answered 404
     BTID_NOT_FOUND (ProblemDetails), the BSF's descriptors all low.
  2. The test holds 1,100 idle keep-alive connections on the Ub port, so
     that every descriptor up to 1,100 in the BSF is taken (checked in
     /proc, but for the few that threads blocked in accept(2) hold), and
     asks again: the same answer, over a connection whose descriptor in the
     BSF is above 1,100.
  3. The idle connections closed, a third request is answered; SIGTERM,
     exit 0, no sanitizer report.

    python3 test_zn_http_fds.py GBA_BSF GBA_SUBSCRIBER
"""
import json
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bsf"))
import bsfenv  # noqa: E402
import gbatest  # noqa: E402
import nbsp_schema  # noqa: E402
import testpki  # noqa: E402

BSF_BIN, SUBSCRIBER_BIN = sys.argv[1:3]
BSF_ID = "bsf.test.example.org"
NAF = "naf.test.example.org"
IDLE = 1100
HOLES = 4      # numbers below IDLE held by threads in accept(2), at most
UNKNOWN_BTID = "AAAAAAAAAAAAAAAAAAAAAA==@" + bsfenv.DOMAIN
checks = gbatest.Checks()


def fd_numbers(pid):
    return {int(n) for n in os.listdir(f"/proc/{pid}/fd")}


def free_below(pid, n):
    """The descriptor numbers below n that pid has not open.  A thread blocked
    in accept(2) holds one that /proc does not show: Linux takes the number
    before it waits (freeDiameter's listeners do)."""
    return sorted(set(range(n)) - fd_numbers(pid))


def start_bsf(procs, pki):
    tools = bsfenv.Tools([None, BSF_BIN, "unused", SUBSCRIBER_BIN])
    db = os.path.join(procs.dir, "subscribers.db")
    bsfenv.add_subscriber(tools, db)
    port = gbatest.free_port()
    extra = {
        "zn.enabled": "on", "zn.listen": "127.0.0.1", "zn.port": str(gbatest.free_port()),
        "zn.identity": BSF_ID, "zn.realm": "test.example.org", "zn.transport": "tcp",
        "zn.accept_unknown_peers": "yes", "zn.policy": "allow",
        "zn.http_listen": f"127.0.0.1:{port}",
        "zn.http_tls_cert": pki["server"][1], "zn.http_tls_key": pki["server"][0],
        "zn.http_tls_ca": pki["ca"][1],
        # The idle connections must stay: no admission shedding of fresh
        # connections, room for all of them, and no idle timeout meanwhile.
        "ub.admission_limit": "0", "ub.max_connections": str(IDLE + 500),
        "ub.connection_timeout": "60s"}
    bsf = bsfenv.Bsf(procs, tools, db=db, extra=extra).start()
    gbatest.wait_port(port, 10.0, bsf.proc)
    pki["url"] = f"https://127.0.0.1:{port}"
    return bsf


def ask(pki, what):
    """One BootstrappingInfoRequest for an unknown B-TID: served means 404
    BTID_NOT_FOUND as a ProblemDetails."""
    body = {"btId": UNKNOWN_BTID, "nafId": {"nafFqdn": NAF, "uaSecProtId": "0100000002"}}
    status, ctype, answer = nbsp_schema.post(pki, json.dumps(body))
    ok = status == 404 and ctype.startswith("application/problem+json") and \
        isinstance(answer, dict) and answer.get("cause") == "BTID_NOT_FOUND"
    checks.check(f"{what}: an unknown B-TID is answered 404 BTID_NOT_FOUND", ok,
                 f"{status} {ctype} {answer}")


def hold_idle(port, n):
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((f"127.0.0.{2 + i % 16}", 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE + 1024
    if hard != resource.RLIM_INFINITY and hard < need:
        print(f"skipped: RLIMIT_NOFILE hard limit {hard} < {need}")
        sys.exit(77)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))   # gba-bsf inherits it
    with gbatest.Processes() as procs:
        pki = testpki.make_certs(os.path.join(procs.dir, "pki"), BSF_ID, {"naf": NAF})
        if not pki:
            print("skipped: certtool (gnutls-bin) is not installed")
            sys.exit(77)
        bsf = start_bsf(procs, pki)
        pid = bsf.proc.pid
        ask(pki, "few descriptors")
        socks = hold_idle(bsf.port, IDLE)
        try:
            deadline = time.monotonic() + 10
            while len(free_below(pid, IDLE)) > HOLES and time.monotonic() < deadline:
                time.sleep(0.05)
            free = free_below(pid, IDLE)
            checks.check(f"the BSF holds the {IDLE} idle Ub connections: descriptors "
                         f"0..{IDLE - 1} taken but {free}", len(free) <= HOLES, free)
            ask(pki, f"every descriptor to {IDLE} taken (FD_SETSIZE is 1024)")
        finally:
            for s in socks:
                s.close()
        ask(pki, "idle connections closed")
        bsf.check_clean_stop(checks)
        if checks.failed:
            print("---- bsf log (tail)\n" + procs.log("bsf")[-3000:], file=sys.stderr)
    checks.finish()


if __name__ == "__main__":
    main()
