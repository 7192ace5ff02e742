"""test_bsf_flood - one client floods the pending-challenge table (issue 15,
defect 3).

Before the fix, 70,000 pipelined first requests for one IMPI filled the
table (everyone then got 503) and moved that IMPI's SQN by 65,534.  Here
4 connections pipeline 1,000 first requests each for IMPI A against a
table of 256 slots.  Checked: IMPI B then bootstraps; A's SQN (gba-subscriber
show) and the number of distinct nonces A was sent grew by at most
impi_challenge_burst + impi_challenge_rate * duration; A never holds more
than max_challenges_per_impi pending; every answer is a 401 (its newest
pending challenge sent again once over the rate); A's own UE still
bootstraps afterwards; one address gets 503 beyond max_challenges_per_ip;
/metrics counts what was shed.

    python3 test_bsf_flood.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import os
import re
import socket
import threading
import time

import bsfenv
import gbatest

IMPI_A = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
IMPI_B = "001010000000002@ims.mnc001.mcc001.3gppnetwork.org"
OTHERS = [f"00101000000001{i}@ims.mnc001.mcc001.3gppnetwork.org" for i in range(5)]
CONNS = 4
PER_CONN = 1000
PER_IMPI = 4
RATE = 5
BURST = 10
PER_IP = 4
TABLE = 256


def seq_of(tools, db, impi):
    r = gbatest.run([tools.subscriber, "--db", db, "show", impi])
    m = re.search(r"^sqn: \d+ \(seq (\d+),", r.stdout, re.M)
    if not m:
        raise RuntimeError(f"gba-subscriber show {impi}: {r.stdout}{r.stderr}")
    return int(m.group(1))


def read_responses(sock, n, timeout=30.0):
    """n pipelined responses from sock: [(status, headers dict)]."""
    out, buf = [], b""
    sock.settimeout(timeout)
    while len(out) < n:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            data = sock.recv(262144)
            if not data:
                break
            buf += data
            continue
        lines = buf[:head_end].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        end = head_end + 4 + int(headers.get("content-length", "0"))
        while len(buf) < end:
            data = sock.recv(262144)
            if not data:
                return out
            buf += data
        out.append((int(lines[0].split()[1]), headers))
        buf = buf[end:]
    return out


def flood(port):
    """CONNS connections from 127.0.0.2, each pipelining PER_CONN first requests
    for A; returns every response and the flood's duration."""
    req = bsfenv.get(f"127.0.0.1:{port}", bsfenv.first_auth(IMPI_A))
    socks = []
    for _ in range(CONNS):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    start = time.monotonic()
    senders = [threading.Thread(target=s.sendall, args=(req * PER_CONN,), daemon=True)
               for s in socks]
    for t in senders:
        t.start()
    answers = []
    for s in socks:
        answers.extend(read_responses(s, PER_CONN))
    took = time.monotonic() - start
    for s in socks:
        s.close()
    return answers, took


def nonce_of(headers):
    return bsfenv.challenge_params(headers.get("www-authenticate", "")).get("nonce")


def per_ip(checks, bsf):
    """First requests for PER_IP + 1 subscribers from one address."""
    statuses, retry = [], None
    for impi in OTHERS[:PER_IP + 1]:
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", bsf.port))
        s.sendall(bsfenv.get(f"127.0.0.1:{bsf.port}", bsfenv.first_auth(impi)))
        status, headers, _ = bsfenv.read_response(s)
        s.close()
        statuses.append(status)
        retry = headers.get("retry-after", retry)
    checks.check(f"one address: {PER_IP} challenges pending, the next gets 503 with Retry-After",
                 statuses == [401] * PER_IP + [503] and retry and retry.isdigit(),
                 f"{statuses} retry-after {retry}")


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        for impi in [IMPI_A, IMPI_B] + OTHERS:
            bsfenv.add_subscriber(tools, db, impi=impi)
        bsf = bsfenv.Bsf(procs, tools, db=db, extra={
            # A small table, so that a flood that is not contained fills it.
            "log.level": "info", "bsf.max_pending": str(TABLE),
            "ub.max_challenges_per_impi": str(PER_IMPI),
            "ub.impi_challenge_rate": str(RATE), "ub.impi_challenge_burst": str(BURST),
            "ub.max_challenges_per_ip": str(PER_IP)}).start()
        seq_before = seq_of(tools, db, IMPI_A)

        answers, took = flood(bsf.port)
        # Right after: A's challenges are all still pending (nonce_lifetime).
        rc_b, out_b = bsfenv.run_ue(tools, bsf.url, os.path.join(procs.dir, "b.sqn"),
                                    impi=IMPI_B, extra=["--timeout", "10000"])
        bound = BURST + RATE * (int(took) + 1)
        print(f"     ({len(answers)} answers in {took:.2f} s; bound {bound} vectors)")

        checks.check(f"every one of {CONNS * PER_CONN} pipelined first requests answered",
                     len(answers) == CONNS * PER_CONN, str(len(answers)))
        statuses = {st for st, _ in answers}
        checks.check("all 401 (over the rate: the pending challenge again)", statuses == {401},
                     str(statuses))
        checks.check("IMPI B bootstraps while the flood's challenges are pending", rc_b == 0,
                     str(out_b))
        nonces = {nonce_of(h) for _, h in answers}
        checks.check(f"A was sent at most {bound} distinct challenges", len(nonces) <= bound,
                     str(len(nonces)))
        grown = seq_of(tools, db, IMPI_A) - seq_before
        checks.check(f"A's SQN advanced by at most {bound}", 0 < grown <= bound,
                     f"seq +{grown}")
        m = bsf.metrics()
        checks.check(f"A holds at most {PER_IMPI} pending challenges",
                     m.get("gba_bsf_challenges_pending", 99) <= PER_IMPI,
                     str(m.get("gba_bsf_challenges_pending")))
        reused = m.get('gba_bsf_challenges_shed_total{reason="reused"}', 0)
        replaced = m.get('gba_bsf_challenges_shed_total{reason="replaced"}', 0)
        checks.check("/metrics counts the resent and the replaced challenges",
                     reused >= CONNS * PER_CONN - bound and replaced >= 1,
                     f"reused {reused} replaced {replaced}")

        rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(procs.dir, "a.sqn"), impi=IMPI_A,
                                extra=["--timeout", "10000"])
        checks.check("A's own UE bootstraps after the flood", rc == 0, str(out))
        per_ip(checks, bsf)
        m = bsf.metrics()
        checks.check("/metrics counts the per-address refusal",
                     m.get('gba_bsf_challenges_shed_total{reason="per_ip"}') == 1,
                     str(m.get('gba_bsf_challenges_shed_total{reason="per_ip"}')))
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
