"""The simulator on a real (private) pcscd through vpcd, driven by a real
PC/SC client (pcsc_probe, libpcsclite), for a T=0 and a T=1 card:
SELECT USIM by AID and AUTHENTICATE with TS 35.208 set 1 give the
published RES/CK/IK; the card can be pulled (SIGUSR1) and put back
(SIGUSR2); it reconnects when pcscd restarts; SIGTERM saves its state.

    test_usim_pcsc.py GBA_USIM_SIM PCSC_PROBE PROFILES_DIR
"""
import base64
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time

import gbatest
import pcscd

SIM, PROBE, PROFILES = sys.argv[1:4]

# TS 35.208 4.3.1 (test set 1)
RAND = "23553cbe9637a89d218ae64dae47bf35"
SQN, AK, AMF, MAC = "ff9bb4d0b607", "aa689c648370", "b9b9", "4a9ffac354dfafb3"
AUTN = "%012x" % (int(SQN, 16) ^ int(AK, 16)) + AMF + MAC
RES, CK, IK = "a54211d5e3ba50bf", "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441"
AID_USIM = "a0000000871002ffffffff8906190000"

checks = gbatest.Checks()


def set1_profile(dirname, protocol):
    path = os.path.join(dirname, f"set1-{protocol[-1]}.conf")
    with open(os.path.join(PROFILES, "ts35208-set1.conf")) as f:
        text = f.read().replace("protocol   = T=0", f"protocol   = {protocol}")
    with open(path, "w") as f:
        f.write(text)
    return path


def probe(reader, *items, wait_ms=5000):
    r = subprocess.run([PROBE, "--wait-card", str(wait_ms), *items], env={**os.environ, **reader.env},
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def answers(out):
    return [line[2:] for line in out.splitlines() if line.startswith("< ")]


def run_card(procs, reader, protocol, state):
    profile = set1_profile(procs.dir, protocol)
    procs.start("card", [SIM, "--profile", profile, "--state", state,
                         "--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
    reader.wait_card()
    le = "00" if protocol == "T=1" else ""
    select = "00a4040410" + AID_USIM + le
    auth = "0088008122" + "10" + RAND + "10" + AUTN + le
    rc, out = probe(reader, select, auth)
    print(out)
    checks.check(f"{protocol}: probe ran", rc == 0, out)
    checks.check(f"{protocol}: pcscd negotiated {protocol}", f"protocol: {protocol}" in out)
    want_atr = "3b045553494d" if protocol == "T=0" else "3b840155534"
    checks.check(f"{protocol}: ATR {want_atr}...", f"atr: {want_atr}" in out)
    ans = answers(out)
    if protocol == "T=0":
        checks.check("T=0: SELECT answered 61xx, data came by GET RESPONSE",
                     len(ans) == 4 and ans[0].startswith("61") and ans[2] == "612c", str(ans))
    else:
        checks.check("T=1: SELECT answered the FCP directly", len(ans) == 2 and
                     ans[0].startswith("62") and ans[0].endswith("9000"), str(ans))
    want = "db08" + RES + "10" + CK + "10" + IK + "9000"
    checks.check(f"{protocol}: AUTHENTICATE gives TS 35.208 set 1 RES/CK/IK",
                 bool(ans) and ans[-1] == want, ans[-1] if ans else "no answer")
    # The same AUTN again is a replay: the card answers a sync failure.
    rc, out = probe(reader, select, auth)
    ans = answers(out)
    checks.check(f"{protocol}: replayed AUTN -> DC 0E AUTS",
                 bool(ans) and ans[-1].startswith("dc0e") and len(ans[-1]) == 36, str(ans))


def kdf(key, fc, *params):
    """TS 33.220 Annex B KDF in Python's hmac (independent of libgba)."""
    s = bytes([fc])
    for p in params:
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(key, s, hashlib.sha256).digest()


def test_gba_u(procs, reader, state):
    """GBA_U on a fresh T=1 card through pcscd: bootstrap, the ME's B-TID,
    NAF derivation; Ks_ext_NAF checked against Python's own KDF."""
    profile = set1_profile(procs.dir, "T=1")
    procs.start("card", [SIM, "--profile", profile, "--state", state,
                         "--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
    reader.wait_card()
    rand = bytes.fromhex(RAND)
    btid = (base64.b64encode(rand).decode() + "@bsf.example.org").encode()
    life = b"2026-11-24T10:15:00Z"
    gbabp = bytes([16]) + rand + bytes([len(btid)]) + btid + bytes([len(life)]) + life
    impi = b"001010123456789@ims.mnc001.mcc001.3gppnetwork.org"
    naf_id = b"naf.example.org" + bytes.fromhex("0100000002")
    de = bytes([0xDE, len(naf_id)]) + naf_id + bytes([len(impi)]) + impi
    rc, out = probe(reader, "00a4040410" + AID_USIM + "00",
                    "0088008423dd10" + RAND + "10" + AUTN + "00",
                    "00a4000c026fd6",
                    "00d60000%02x" % len(gbabp) + gbabp.hex(),
                    "00880084%02x" % len(de) + de.hex() + "00")
    ans = answers(out)
    print(out)
    checks.check("GBA bootstrap through pcscd -> DB 08 RES only (CK, IK stay in the card)",
                 len(ans) == 5 and ans[1] == "db08" + RES + "9000", str(ans))
    ks = bytes.fromhex(CK + IK)
    want = kdf(ks, 0x01, b"gba-me", rand, impi, naf_id).hex()
    checks.check("NAF derivation -> DB 20 Ks_ext_NAF = Python HMAC-SHA-256 KDF over CK||IK",
                 len(ans) == 5 and ans[4] == "db20" + want + "9000", str(ans))
    procs.stop("card")
    reader.wait_no_card()


def test_remove_and_reinsert(procs, reader):
    card = procs.procs["card"]
    select = "00a4040410" + AID_USIM
    # Pull the card while the probe is connected and sleeping.
    p = subprocess.Popen([PROBE, select, "sleep:2500", select], env={**os.environ, **reader.env},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)
    card.send_signal(signal.SIGUSR1)
    out, _ = p.communicate(timeout=30)
    print(out)
    checks.check("card removed mid-session: the PC/SC client gets an error, not a hang",
                 p.returncode == 3 and "error: SCardTransmit" in out, out)
    reader.wait_no_card()
    rc, out = probe(reader, select, wait_ms=0)
    checks.check("no card: SCardConnect fails", rc == 3 and "SCardConnect" in out, out)
    card.send_signal(signal.SIGUSR2)
    reader.wait_card()
    rc, out = probe(reader, select)
    checks.check("card reinserted: SELECT works again", rc == 0 and "< 61" in out, out)


def test_pcscd_restart(procs, reader):
    port = reader.vpcd_port
    procs.stop("pcscd")
    time.sleep(0.5)
    reader2 = pcscd.start(procs, name="pcscd", port=port)
    reader2.wait_card(timeout=15)
    rc, out = probe(reader2, "00a4040410" + AID_USIM)
    checks.check("pcscd restarted: the card reconnected by itself", rc == 0 and "< 61" in out, out)
    return reader2


def main():
    with gbatest.Processes() as procs:
        reader = pcscd.start(procs)
        print(f"private pcscd: socket {reader.socket}, vpcd port {reader.vpcd_port}")
        state = os.path.join(procs.dir, "card.state")
        run_card(procs, reader, "T=0", state)
        test_remove_and_reinsert(procs, reader)
        reader = test_pcscd_restart(procs, reader)
        rc = procs.stop("card")
        checks.check("SIGTERM: the card exits 0", rc == 0, procs.log("card"))
        with open(state) as f:
            st = f.read()
        checks.check("state saved: SEQ_MS of set 1's SQN in slot 7",
                     f"seq 7 {int(SQN, 16) >> 5}" in st)
        checks.check("log names commands and SWs, never keys",
                     "AUTHENTICATE P1=00 P2=81" in procs.log("card") and
                     "465b5ce8" not in procs.log("card").lower() and
                     CK not in procs.log("card").lower())
        reader.wait_no_card()
        os.unlink(state)
        test_gba_u(procs, reader, state)
        os.unlink(state)
        run_card(procs, reader, "T=1", state)
    checks.finish()


main()
