"""test_naf_kek - gba-naf with keys.kek: every session key Kc in its store is
wrapped (RFC 5649) under a KEK in a SoftHSM2 token made by the test, and
unwrapped only for the answer that hands it to the target.  Checks: the
node, the NAF and the target agree on Kc; the SQLite store holds 40-octet
wrapped forms and not Kc's bytes; the same store read by a gba-naf without
the KEK, or with another box's same-named key, gives the target no key; a
wrong PIN and an extractable KEK stop gba-naf at start.

    python3 test_naf_kek.py GBA_BSF GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET
"""
import os
import sqlite3
import sys

import gbatest
import softhsm
import test_naf_e2e as e2e

PIN = "11223344"
KEK = "pkcs11:token=naf;object=kek"
KEKX = "pkcs11:token=naf;object=kek-x"


def keys_conf(uri, pin_file):
    return f"[keys]\nkek = {uri}\npin_file = {pin_file}\n"


def naf_refuses(env, name, extra, box_env, words):
    """gba-naf exits 1 at start, its log saying words."""
    ports = {k: gbatest.free_port() for k in ("digest", "tls", "admin")}
    conf = env.naf_conf(name, ports, extra=extra)
    proc = env.procs.start(name, [env.naf_bin, "--config", conf], env=box_env)
    try:
        code = proc.wait(20)
    except Exception:
        code = None
    env.procs.stop(name)
    log = env.procs.log(name)
    return code == 1 and all(w in log for w in words), f"exit {code}: {log[-500:]}"


def main():
    softhsm.require()
    checks = gbatest.Checks()
    c = checks.check
    with gbatest.Processes() as procs:
        box = softhsm.Box(os.path.join(procs.dir, "box1"))
        box.token("naf", PIN)
        box.aes_key("naf", "kek", PIN)
        box.aes_key("naf", "kek-x", PIN, extractable=True)
        pin = softhsm.pin_file(os.path.join(procs.dir, "pin"), PIN)
        wrong = softhsm.pin_file(os.path.join(procs.dir, "wrong-pin"), "99999999")
        env = e2e.Env(procs, sys.argv)
        env.start_bsf()
        store = f"sqlite:{procs.dir}/naf-keys.db"
        naf = env.start_naf(store=store, extra=keys_conf(KEK, pin), env=box.env())

        r = env.node(naf, "session", "--target", e2e.TARGET, "--lifetime", "600", "--show-key")
        ok = c("session key registered with keys.kek", r.get("result") == "ok", r)
        key_id = r.get("key_id", "none")
        t = env.target(naf, key_id)
        c("the target retrieves the same Kc (node, NAF, target check values)",
          ok and t.get("result") == "ok" and t.get("kc_kcv") == r.get("kc_kcv")
          == r.get("kc_kcv_naf"), (r, t))
        t2 = env.target(naf, key_id)
        c("the target fetches it again (the Kc unwrapped per answer)",
          t2.get("result") == "ok" and t2.get("kc_kcv") == r.get("kc_kcv"), t2)
        st = env.stats(naf)
        c("Km came from libgba-naf's cache too (kept wrapped, unwrapped per handshake)",
          st.get("zn_cache_hits", 0) >= 1 and st.get("zn_birs", 0) >= 1, st)
        path = store[len("sqlite:"):]
        rows = sqlite3.connect(path).execute("SELECT length(kc) FROM keys").fetchall()
        c("the store holds Kc wrapped (40 octets)", rows == [(40,)], str(rows))
        kc = bytes.fromhex(r.get("kc", "00"))
        found = False
        for suffix in ("", "-wal"):
            if os.path.exists(path + suffix):
                with open(path + suffix, "rb") as f:
                    found |= len(kc) == 32 and kc in f.read()
        c("Kc's bytes are in none of the store's files", len(kc) == 32 and not found,
          r.get("kc", "")[:4])
        procs.stop("naf")

        plain = env.start_naf(name="naf-plain", store=store, env=box.env())
        t = env.target(plain, key_id)
        c("without the KEK the target gets no key", t.get("result") == "error"
          and "kc_kcv" not in t, t)
        procs.stop("naf-plain")

        other = softhsm.Box(os.path.join(procs.dir, "box2"))
        other.token("naf", PIN)
        other.aes_key("naf", "kek", PIN)
        naf2 = env.start_naf(name="naf-other", store=store, extra=keys_conf(KEK, pin),
                             env=other.env())
        t = env.target(naf2, key_id)
        c("another box's same-named KEK gives the target no key",
          t.get("result") == "error" and "kc_kcv" not in t, t)
        procs.stop("naf-other")

        ok, why = naf_refuses(env, "naf-pin", keys_conf(KEK, wrong), box.env(), ["wrong PIN"])
        c("wrong PIN: gba-naf exits 1, saying so", ok, why)
        ok, why = naf_refuses(env, "naf-x", keys_conf(KEKX, pin), box.env(), ["extractable"])
        c("an extractable KEK: gba-naf exits 1, saying so", ok, why)
        empty = softhsm.Box(os.path.join(procs.dir, "empty"))
        ok, why = naf_refuses(env, "naf-none", keys_conf(KEK, pin), empty.env(),
                              ["no token", KEK])
        c("token missing: gba-naf exits 1, naming the URI", ok, why)

        naf = env.start_naf(name="naf-again", store=store, extra=keys_conf(KEK, pin),
                            env=box.env())
        t = env.target(naf, key_id)
        c("back with its token, the stored Kc serves again",
          t.get("result") == "ok" and t.get("kc_kcv") == r.get("kc_kcv"), t)
        code = procs.stop("naf-again")
        c("gba-naf with keys.kek: SIGTERM, exit 0", code == 0, f"exit {code}")
        logs = "".join(procs.log(n) for n in ("naf", "naf-plain", "naf-other", "naf-again"))
        c("no sanitizer report, no runtime error", "Sanitizer" not in logs
          and "runtime error" not in logs, logs[-2000:])
    checks.finish()


if __name__ == "__main__":
    main()
