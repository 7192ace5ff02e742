#!/usr/bin/env python3
"""Recompute libgba's KDF, NAF keys, B-TID, TMPI and Digest results with
Python's hmac/hashlib/base64 (an independent implementation).

Usage: check_vectors.py GEN_VECTORS_BINARY [count [seed]]
Runs the generator, checks every line, prints a summary, and exits
non-zero on any mismatch.
"""
import base64
import hashlib
import hmac
import json
import subprocess
import sys


def kdf(key, fc, params):
    """TS 33.220 Annex B: HMAC-SHA-256(key, FC || P0 || L0 || ...)."""
    s = bytes([fc])
    for p in params:
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(key, s, hashlib.sha256).digest()


def md5hex(data):
    return hashlib.md5(data).hexdigest()


def check_kdf(v):
    params = [bytes.fromhex(p) for p in v["params"]]
    return kdf(bytes.fromhex(v["key"]), v["fc"], params).hex() == v["out"]


def check_naf(v):
    ks, rand = bytes.fromhex(v["ks"]), bytes.fromhex(v["rand"])
    impi, fqdn = v["impi"].encode(), v["fqdn"].encode()
    naf_id = fqdn + bytes.fromhex(v["ua"])
    bsf_id = fqdn + bytes.fromhex("0100000100")
    tmpi_key = kdf(ks, 1, [b"gba-me", rand, impi, bsf_id])[:24]
    return (naf_id.hex() == v["naf_id"]
            and kdf(ks, 1, [b"gba-me", rand, impi, naf_id]).hex() == v["ks_naf"]
            and kdf(ks, 1, [b"gba-u", rand, impi, naf_id]).hex() == v["ks_int_naf"]
            and v["btid"] == base64.b64encode(rand).decode() + "@" + v["fqdn"]
            and v["tmpi"] == base64.b64encode(tmpi_key).decode() + "@tmpi.bsf.3gppnetwork.org")


def digest_response(v, method):
    """RFC 2617 3.2.2 with the raw password octets (RFC 3310 AKAv1)."""
    pw = bytes.fromhex(v["password"])
    ha1 = md5hex(v["username"].encode() + b":" + v["realm"].encode() + b":" + pw)
    a2 = method.encode() + b":" + v["uri"].encode()
    if v["qop"] == 2:
        a2 += b":" + md5hex(bytes.fromhex(v["body"])).encode()
    ha2 = md5hex(a2)
    if v["qop"] == 0:
        kd = ":".join([ha1, v["nonce"], ha2])
    else:
        qop = "auth" if v["qop"] == 1 else "auth-int"
        kd = ":".join([ha1, v["nonce"], v["nc"], v["cnonce"], qop, ha2])
    return md5hex(kd.encode())


def check_digest(v):
    key = bytes.fromhex(v["password"]) + bytes.fromhex(v["ik"]) + bytes.fromhex(v["ck"])
    akav2 = base64.b64encode(
        hmac.new(key, b"http-digest-akav2-password", hashlib.md5).digest()).decode()
    return (digest_response(v, v["method"]) == v["response"]
            and digest_response(v, "") == v["rspauth"]
            and akav2 == v["akav2"])


CHECKS = {"kdf": check_kdf, "naf": check_naf, "digest": check_digest}


def main():
    gen = sys.argv[1]
    args = sys.argv[2:]
    out = subprocess.run([gen] + args, check=True, capture_output=True, text=True).stdout
    counts, bad = {}, 0
    for line in out.splitlines():
        v = json.loads(line)
        kind = v["kind"]
        counts[kind] = counts.get(kind, 0) + 1
        if not CHECKS[kind](v):
            bad += 1
            if bad <= 10:
                print("MISMATCH:", line[:400], file=sys.stderr)
    total = sum(counts.values())
    print("Python hmac/hashlib cross-check:",
          ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), f"- {bad} mismatches")
    if total == 0:
        print("no vectors generated", file=sys.stderr)
        bad = 1
    print(f"{total - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
