"""test_bsf_malformed - gba-bsf against bad input on raw sockets: garbage,
broken Authorization headers (unterminated quotes, duplicate parameters, NUL
bytes, missing fields, another scheme), wrong realm and uri, bad nonces and
AUTS, oversize headers and bodies, wrong methods.  Each gets a clear 4xx,
the server stays up, keeps its keep-alive connections, and stores nothing.

    python3 test_bsf_malformed.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import base64
import os
import socket

import bsfenv
import gbatest
from bsfenv import DOMAIN, IMPI, first_auth


def first_requests(host):
    """(name, request bytes, acceptable statuses); None = connection closed."""
    A = first_auth()
    return [
        ("garbage request line", b"\x16\x03\x01garbage\r\n\r\n", {400, None}),
        ("no Authorization", bsfenv.get(host), {400}),
        ("not Digest (Basic)", bsfenv.get(host, "Basic Zm9vOmJhcg=="), {400, 401}),
        ("Digest without parameters", bsfenv.get(host, "Digest"), {400}),
        ("garbage parameters", bsfenv.get(host, "Digest ,,=,\"\"=x"), {400}),
        ("unterminated quote",
         bsfenv.get(host, f'Digest username="{IMPI}, realm="{DOMAIN}", nonce="", uri="/"'), {400}),
        ("duplicate username", bsfenv.get(host, A + ', username="x@y"'), {400}),
        ("NUL byte in a value",
         bsfenv.get(host, f'Digest username="a\x00b", realm="{DOMAIN}", nonce="", uri="/", '
                          'response=""'), {400}),
        ("control character", bsfenv.get(host, A.replace("nonce=", "\x01nonce=")), {400}),
        ("invalid UTF-8 in a quoted value",
         bsfenv.get(host, A.encode().replace(b'username="', b'username="\xff\xfe')), {400}),
        ("missing uri", bsfenv.get(host, A.replace(', uri="/"', "")), {400}),
        ("missing response", bsfenv.get(host, A.replace(', response=""', "")), {400}),
        ("missing username", bsfenv.get(host, A.replace(f'username="{IMPI}", ', "")), {400}),
        ("empty username", bsfenv.get(host, first_auth(impi="")), {400}),
        ("username of 300 octets", bsfenv.get(host, first_auth(impi="a" * 300)), {400}),
        ("wrong realm", bsfenv.get(host, first_auth(realm="evil.example.com")), {400, 401}),
        ("uri not the request target", bsfenv.get(host, first_auth(uri="/other")), {400, 401}),
        ("query in the target", bsfenv.get(host, first_auth(uri="/?a=b"), path="/?a=b"), {400}),
        ("two Authorization headers",
         bsfenv.get(host, A, extra_headers=b"Authorization: " + A.encode() + b"\r\n"), {400}),
        ("100 parameters", bsfenv.get(host, A + "".join(f", x{i}=1" for i in range(100))), {400}),
        ("Authorization of 9000 octets",
         bsfenv.get(host, first_auth(impi="a" * 9000)), {400, 431}),
        ("headers over max_header_size",
         bsfenv.get(host, A, extra_headers=b"X-Big: " + b"a" * 70000 + b"\r\n"), {431}),
        ("body over max_body_size (Content-Length)",
         bsfenv.get(host, A, method=b"POST", extra_headers=b"Content-Length: 100000\r\n"), {413}),
        ("body over max_body_size (chunked)",
         bsfenv.get(host, A, method=b"POST", extra_headers=b"Transfer-Encoding: chunked\r\n") +
         b"2000\r\n" + b"x" * 0x2000 + b"\r\n0\r\n\r\n", {413}),
        ("bad Content-Length",
         bsfenv.get(host, A, method=b"POST", extra_headers=b"Content-Length: 12abc\r\n"), {400}),
        ("method PUT", bsfenv.get(host, A, method=b"PUT"), {405}),
        ("method DELETE", bsfenv.get(host, A, method=b"DELETE"), {405}),
    ]


def second_auth(p, **over):
    """A second request's Authorization from challenge params, fields overridden."""
    f = {"username": IMPI, "realm": DOMAIN, "nonce": p.get("nonce", ""), "uri": "/",
         "qop": "auth-int", "nc": "00000001", "cnonce": "0a1b2c3d", "response": "0" * 32,
         "opaque": p.get("opaque", ""), "algorithm": "AKAv1-MD5"}
    f.update(over)
    parts = []
    for k, v in f.items():
        if v is None:
            continue
        parts.append(f"{k}={v}" if k in ("qop", "nc", "algorithm") else f'{k}="{v}"')
    return "Digest " + ", ".join(parts)


def second_requests(host, p):
    """Malformed second requests carrying a real nonce: 400, nothing consumed."""
    nonce32 = base64.b64encode(os.urandom(32)).decode()
    return [
        ("nonce not base64", second_auth(p, nonce="!!!not*base64!!!"), {400}),
        ("nonce of the wrong length (RAND||AUTN only)", second_auth(p, nonce=nonce32), {400}),
        ("nonce one character short", second_auth(p, nonce=p["nonce"][:-1]), {400}),
        ("second request with a wrong realm", second_auth(p, realm="127.0.0.1"), {400, 401}),
        ("second request with a wrong uri", second_auth(p, uri="/x"), {400, 401}),
        ("opaque missing", second_auth(p, opaque=None), {400}),
        ("opaque changed", second_auth(p, opaque="0000000000000000"), {400}),
        ("qop=auth instead of auth-int", second_auth(p, qop="auth"), {400}),
        ("qop missing", second_auth(p, qop=None, nc=None, cnonce=None), {400}),
        ("nc=00000002", second_auth(p, nc="00000002"), {400}),
        ("nc not hex", second_auth(p, nc="0000000g"), {400}),
        ("cnonce missing", second_auth(p, cnonce=None), {400}),
        ("algorithm MD5", second_auth(p, algorithm="MD5"), {400}),
        ("auts not base64", second_auth(p, auts="@@@@"), {400}),
        ("auts of 10 octets", second_auth(p, auts=base64.b64encode(b"x" * 10).decode()), {400}),
    ]


def check_all(checks, bsf, cases):
    host = f"127.0.0.1:{bsf.port}"
    for name, data, ok in cases:
        if isinstance(data, str):
            data = bsfenv.get(host, data)
        try:
            status, _, body = bsfenv.raw_request(bsf.port, data)
        except OSError as e:
            status, body = None, str(e).encode()
        checks.check(f"{name}: {sorted(ok, key=str)}", status in ok,
                     f"got {status} {body[:120]!r}")
        if not bsf.alive():
            checks.check("gba-bsf is still running", False, bsf.log()[-2000:])
            return


def test_keepalive(checks, bsf):
    """Several requests, good and bad, on one connection."""
    host = f"127.0.0.1:{bsf.port}"
    with socket.create_connection(("127.0.0.1", bsf.port), timeout=5) as s:
        statuses = []
        for data in (bsfenv.get(host, first_auth()), bsfenv.get(host, "Digest ,,"),
                     bsfenv.get(host, first_auth())):
            s.sendall(data)
            status, hdrs, _ = bsfenv.read_response(s)
            statuses.append(status)
    checks.check("keep-alive: 401, 400, 401 on one connection", statuses == [401, 400, 401],
                 str(statuses))


def test_nonces(checks, bsf):
    host = f"127.0.0.1:{bsf.port}"
    status, hdrs, _ = bsfenv.raw_request(bsf.port, bsfenv.get(host, first_auth()))
    p = bsfenv.challenge_params(hdrs.get("www-authenticate", ""))
    checks.check("challenge: nonce of 64 base64 characters, qop auth-int, opaque",
                 status == 401 and len(p.get("nonce", "")) == 64 and p.get("qop") == "auth-int"
                 and p.get("opaque") and p.get("algorithm") == "AKAv1-MD5", str(hdrs))
    pending = bsf.metrics().get("gba_bsf_challenges_pending")
    check_all(checks, bsf, second_requests(host, p))
    checks.check("malformed second requests consumed no challenge",
                 bsf.metrics().get("gba_bsf_challenges_pending") == pending)

    # Well-formed but never issued: a fresh challenge, counted unknown_nonce.
    fake = base64.b64encode(os.urandom(48)).decode()
    status, hdrs, _ = bsfenv.raw_request(bsf.port, bsfenv.get(host, second_auth(p, nonce=fake)))
    checks.check("a made-up nonce: 401 with a fresh challenge",
                 status == 401 and "nonce=" in hdrs.get("www-authenticate", ""), str(status))
    checks.check("counted as unknown_nonce", bsf.failures("unknown_nonce") == 1)

    # Another user's nonce: a fresh challenge for the one asking, the owner's stays.
    other = "001010000000002@ims.mnc001.mcc001.3gppnetwork.org"
    status, hdrs, _ = bsfenv.raw_request(
        bsf.port, bsfenv.get(host, second_auth(p, username=other)))
    checks.check("someone else's nonce: not answered (403 unknown user here)", status == 403,
                 str(status))

    # The real nonce with a wrong response: 403, and the nonce is used up.
    status, _, body = bsfenv.raw_request(bsf.port, bsfenv.get(host, second_auth(p)))
    checks.check("a wrong response: 403", status == 403, f"{status} {body!r}")
    status, hdrs, _ = bsfenv.raw_request(bsf.port, bsfenv.get(host, second_auth(p)))
    checks.check("the same nonce again: 401 with a fresh challenge (single use)",
                 status == 401 and "nonce=" in hdrs.get("www-authenticate", ""), str(status))


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        bsf = bsfenv.Bsf(procs, tools, db=db,
                         extra={"ub.max_header_size": "16384", "ub.max_body_size": "1024"}).start()
        state = os.path.join(procs.dir, "card.sqn")
        rc, out = bsfenv.run_ue(tools, bsf.url, state)
        checks.check("a good bootstrap first", rc == 0, str(out))
        before = bsf.metrics()

        check_all(checks, bsf, first_requests(f"127.0.0.1:{bsf.port}"))
        test_keepalive(checks, bsf)
        test_nonces(checks, bsf)

        after = bsf.metrics()
        checks.check("gba-bsf is still running", bsf.alive())
        checks.check("no session was stored by any of it",
                     after["gba_bsf_bootstraps_total"] == before["gba_bsf_bootstraps_total"] and
                     after.get("gba_bsf_sessions_live") == before.get("gba_bsf_sessions_live"))
        checks.check("bad requests are counted as malformed",
                     after['gba_bsf_failures_total{cause="malformed"}'] >= 30,
                     str(after['gba_bsf_failures_total{cause="malformed"}']))
        rc, out = bsfenv.run_ue(tools, bsf.url, state)
        checks.check("a good bootstrap still works afterwards", rc == 0, str(out))
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
