"""test_bsf_kek - K and OPc wrapped under a KEK in a PKCS#11 token (SoftHSM2,
made by the test in its own directory): gba-subscriber add and import wrap
them, neither K nor OPc is anywhere in the SQLite files, gba-bsf with
keys.kek bootstraps the test UE (cold and from an SQN block), and the
database is refused without its token, with a wrong PIN, with an
extractable KEK, and on another box whose token has the same names but
another key; rewrap moves it to a new KEK; a version-1 file (before
wrapped keys) is upgraded and still serves.

With gba-hss-sim given, the same for the HSS simulator's --kek: refused
without it, and a BSF in Zh mode bootstraps and resynchronises through it.

    python3 test_bsf_kek.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER [GBA_HSS_SIM]
"""
import os
import sqlite3
import sys

import bsfenv
import gbatest
import softhsm
import test_bsf_zh as zh
from bsfenv import IMPI, K, OPC

PIN = "11223344"
KEK = "pkcs11:token=gba;object=kek"
KEK2 = "pkcs11:token=gba;object=kek2"
KEKX = "pkcs11:token=gba;object=kek-extractable"
IMPI2 = "001010000000002@ims.mnc001.mcc001.3gppnetwork.org"
# A TUAK subscriber with a 32-octet K and TOPc (made-up test keys).
IMPI3 = "001010000000003@ims.mnc001.mcc001.3gppnetwork.org"
TUAK_K = "abcdef0123456789" * 4
TUAK_TOPC = "0123456789abcdef" * 4


def subscriber(tools, db, *args, env=None, box=None, input=None):
    argv = [tools.subscriber, "--db", db, *args]
    old = dict(os.environ)
    os.environ.update(env or box.env())
    try:
        return gbatest.run(argv, input=input)
    finally:
        os.environ.clear()
        os.environ.update(old)


def kek_args(uri, pin):
    return ["--kek", uri, "--pin-file", pin]


def secrets_absent(db):
    """K and OPc, raw or in hex, in none of the database's files."""
    needles = [bytes.fromhex(K), bytes.fromhex(OPC), K.encode(), OPC.encode(),
               K.upper().encode(), OPC.upper().encode(), bytes.fromhex(TUAK_K)[:16],
               bytes.fromhex(TUAK_TOPC)[:16]]
    for suffix in ("", "-wal", "-shm"):
        try:
            with open(db + suffix, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        if any(n in data for n in needles):
            return False
    return True


def bsf_refuses(procs, tools, name, db, extra, env, words):
    """gba-bsf exits 1 at start and its log says words (all of them)."""
    b = bsfenv.Bsf(procs, tools, name=name, db=db, extra=extra, env=env)
    proc = procs.start(name, [tools.bsf, "--config", b.config], env=env)
    try:
        code = proc.wait(20)
    except Exception:
        code = None
    procs.stop(name)
    log = b.log()
    return code == 1 and all(w in log for w in words), f"exit {code}: {log[-600:]}"


def bootstrap(procs, tools, name, db, extra, env, state):
    b = bsfenv.Bsf(procs, tools, name=name, db=db, extra=extra, env=env).start()
    results = [bsfenv.run_ue(tools, b.url, state) for _ in range(3)]
    return b, results


def hss_checks(checks, procs, tools, hss_bin, db, kek, pin, env, state):
    """gba-hss-sim on the wrapped database: refused without --kek, serves with it."""
    port = gbatest.free_port()
    argv = [hss_bin, "--db", db, "--listen", f"127.0.0.1:{port}", "--identity", zh.HSS_ID,
            "--realm", zh.REALM, *zh.test_ca(procs).hss_args(zh.HSS_ID)]
    proc = procs.start("hss-nokek", argv, env=env)
    code = proc.wait(20)
    log = procs.log("hss-nokek")
    checks.check("gba-hss-sim without --kek refuses the database, naming the URI",
                 code == 1 and kek in log, f"exit {code}: {log[-400:]}")
    procs.start("hss", argv + ["--kek", kek, "--pin-file", pin], wait_port=port,
                env=dict(env, **zh.LSAN_ENV))
    bsf = bsfenv.Bsf(procs, tools, name="bsf-zh", db=db, env=zh.LSAN_ENV, extra={
        "av.source": "zh", "zh.origin_host": zh.BSF_ID, "zh.origin_realm": zh.REALM,
        "zh.hss_host": "127.0.0.1", "zh.hss_port": str(port), "zh.hss_realm": zh.REALM,
        "zh.hss_identity": zh.HSS_ID, **zh.bsf_tls(procs)}).start()
    checks.check("Zh: the BSF reaches gba-hss-sim", zh.wait_for_vectors(bsf))
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    checks.check("Zh: bootstrap with vectors from gba-hss-sim --kek", rc == 0, str(out))
    rc, out = bsfenv.run_ue(tools, bsf.url, state, extra=["--sqn-ahead", "500"])
    checks.check("Zh: resync through gba-hss-sim --kek (AUTS checked with unwrapped keys)",
                 rc == 0 and out.get("resyncs") == 1, str(out))
    bsf.check_clean_stop(checks)
    code = procs.stop("hss")
    checks.check("gba-hss-sim --kek: SIGTERM, exit 0", code == 0, f"exit {code}")


def make_v1(path):
    """A database as version 1 wrote it (no wrapped column, no kek table)."""
    c = sqlite3.connect(path)
    c.executescript(
        "CREATE TABLE subscriber(id INTEGER PRIMARY KEY, impi TEXT NOT NULL UNIQUE,"
        " imsi TEXT NOT NULL, impus TEXT NOT NULL, algo INTEGER NOT NULL, k BLOB NOT NULL,"
        " opc BLOB NOT NULL, tuak_iterations INTEGER NOT NULL, res_len INTEGER NOT NULL,"
        " amf BLOB NOT NULL, sqn INTEGER NOT NULL, ind_bits INTEGER NOT NULL, guss BLOB);"
        "PRAGMA user_version = 1;")
    c.execute("INSERT INTO subscriber(impi, imsi, impus, algo, k, opc, tuak_iterations,"
              " res_len, amf, sqn, ind_bits) VALUES (?, '', '', 0, ?, ?, 0, 8, ?, 0, 5)",
              (IMPI, bytes.fromhex(K), bytes.fromhex(OPC), bytes(2)))
    c.commit()
    c.close()
    os.chmod(path, 0o600)


def main():
    softhsm.require()
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        d = procs.dir
        box = softhsm.Box(os.path.join(d, "box1"))
        box.token("gba", PIN)
        box.aes_key("gba", "kek", PIN)
        box.aes_key("gba", "kek2", PIN)
        box.aes_key("gba", "kek-extractable", PIN, extractable=True)
        env = box.env()
        pin = softhsm.pin_file(os.path.join(d, "pin"), PIN)
        wrong = softhsm.pin_file(os.path.join(d, "wrong-pin"), "99999999")
        db = os.path.join(d, "subscribers.db")
        keys = {"keys.kek": KEK, "keys.pin_file": pin}

        r = subscriber(tools, db, *kek_args(KEK, pin), "add", "--impi", IMPI, "--k-file", "-",
                       box=box, input=f"k={K}\nopc={OPC}\n")
        checks.check("add --kek wraps and stores", r.returncode == 0, r.stderr)
        csv = os.path.join(d, "subs.csv")
        with open(csv, "w") as f:
            f.write(f"{IMPI2},,,milenage,{K},{OPC},0,,0\n")
        r = subscriber(tools, db, *kek_args(KEK, pin), "import", csv, box=box)
        checks.check("import --kek wraps and stores", r.returncode == 0, r.stderr)
        r = subscriber(tools, db, *kek_args(KEK, pin), "add", "--impi", IMPI3, "--algo", "tuak",
                       "--k-file", "-", box=box, input=f"k={TUAK_K}\nopc={TUAK_TOPC}\n")
        checks.check("add --kek of a TUAK subscriber (32-octet K and TOPc)", r.returncode == 0,
                     r.stderr)
        checks.check("neither K nor OPc is in the SQLite files", secrets_absent(db))
        row = sqlite3.connect(db).execute("SELECT length(k), length(opc), wrapped FROM "
                                          "subscriber ORDER BY id").fetchall()
        checks.check("rows hold K || OPc as one RFC 5649 form (40, TUAK 72), the wrapped flag",
                     row == [(40, 0, 1), (40, 0, 1), (72, 0, 1)], str(row))

        r = subscriber(tools, db, *kek_args(KEK, pin), "--kek-module", softhsm.module_path(),
                       "show", IMPI3, box=box)
        checks.check("--kek-module names the PKCS#11 module instead of p11-kit's list",
                     r.returncode == 0 and "tuak" in r.stdout, r.stderr)
        r = subscriber(tools, db, "list", box=box)
        checks.check("list without the KEK: refused, naming the URI",
                     r.returncode == 1 and KEK in r.stderr, r.stderr)
        r = subscriber(tools, db, *kek_args(KEK, wrong), "list", box=box)
        checks.check("wrong PIN: refused, said so", r.returncode == 1 and
                     "wrong PIN" in r.stderr, r.stderr)
        os.chmod(pin, 0o644)
        r = subscriber(tools, db, *kek_args(KEK, pin), "list", box=box)
        checks.check("a PIN file others can read is refused",
                     r.returncode == 1 and "0600" in r.stderr, r.stderr)
        os.chmod(pin, 0o600)
        r = subscriber(tools, db, *kek_args(KEKX, pin), "list", box=box)
        checks.check("an extractable KEK is refused", r.returncode == 1 and
                     "extractable" in r.stderr, r.stderr)

        # gba-bsf: cold (a transaction per vector) and from an SQN block (cache path).
        state = os.path.join(d, "card.sqn")
        b, res = bootstrap(procs, tools, "bsf", db, dict(keys), env, state)
        checks.check("gba-bsf with keys.kek: three bootstraps",
                     all(rc == 0 for rc, _ in res), str(res))
        rc, out = bsfenv.run_ue(tools, b.url, os.path.join(d, "tuak.sqn"), impi=IMPI3,
                                k=TUAK_K, opc=TUAK_TOPC, extra=["--algo", "tuak"])
        checks.check("a wrapped TUAK subscriber bootstraps", rc == 0, str(out))
        b.check_clean_stop(checks)
        b, res = bootstrap(procs, tools, "bsf-block", db,
                           dict(keys, **{"embedded.sqn_block": "8"}), env, state)
        checks.check("gba-bsf with keys.kek and sqn_block=8: three bootstraps",
                     all(rc == 0 for rc, _ in res), str(res))
        rc, out = bsfenv.run_ue(tools, b.url, state, extra=["--sqn-ahead", "500"])
        checks.check("resync with wrapped keys (AUTS checked, then a fresh vector)",
                     rc == 0 and out.get("resyncs") == 1, str(out))
        b.check_clean_stop(checks)
        checks.check("K and OPc still absent after the bootstraps", secrets_absent(db))
        if len(sys.argv) > 4:
            hss_checks(checks, procs, tools, sys.argv[4], db, KEK, pin, env, state)

        ok, why = bsf_refuses(procs, tools, "bsf-nokek", db, {}, env, [KEK])
        checks.check("gba-bsf without keys.kek refuses the database, naming the URI", ok, why)
        ok, why = bsf_refuses(procs, tools, "bsf-pin", db, {"keys.kek": KEK,
                                                              "keys.pin_file": wrong},
                              env, ["wrong PIN"])
        checks.check("gba-bsf with a wrong PIN exits 1, saying so", ok, why)
        empty = softhsm.Box(os.path.join(d, "empty"))
        ok, why = bsf_refuses(procs, tools, "bsf-notoken", db, keys, empty.env(),
                              ["no token", KEK])
        checks.check("gba-bsf with the token missing exits 1, naming the URI", ok, why)
        r = subscriber(tools, db, *kek_args(KEK, pin), "list", env=empty.env())
        checks.check("gba-subscriber with the token missing: refused",
                     r.returncode == 1 and "no token" in r.stderr, r.stderr)

        # Another box: the file copied, a token with the same names but its own key.
        other = softhsm.Box(os.path.join(d, "box2"))
        other.token("gba", PIN)
        other.aes_key("gba", "kek", PIN)
        r = subscriber(tools, db, *kek_args(KEK, pin), "show", IMPI, env=other.env())
        checks.check("another box's same-named KEK fails the check value",
                     r.returncode == 1 and "check values differ" in r.stderr, r.stderr)
        ok, why = bsf_refuses(procs, tools, "bsf-other", db, keys, other.env(),
                              ["check values differ"])
        checks.check("gba-bsf on another box refuses the copied database", ok, why)

        # rewrap to kek2: the old KEK no longer opens it, the new one serves.
        r = subscriber(tools, db, *kek_args(KEK, pin), "rewrap", "--new-kek", KEK2,
                       "--new-pin-file", pin, box=box)
        checks.check("rewrap to a new KEK", r.returncode == 0 and "rewrapped 3" in r.stdout,
                     r.stdout + r.stderr)
        r = subscriber(tools, db, *kek_args(KEK, pin), "list", box=box)
        checks.check("after rewrap the old KEK is refused", r.returncode == 1, r.stderr)
        checks.check("K and OPc absent after rewrap", secrets_absent(db))
        b, res = bootstrap(procs, tools, "bsf-kek2", db, {"keys.kek": KEK2,
                                                          "keys.pin_file": pin}, env, state)
        checks.check("gba-bsf under the new KEK bootstraps", all(rc == 0 for rc, _ in res),
                     str(res))
        b.check_clean_stop(checks)

        # A version-1 file: upgraded on open, serves plain, then moves under a KEK.
        v1 = os.path.join(d, "v1.db")
        make_v1(v1)
        state1 = os.path.join(d, "card1.sqn")
        b, res = bootstrap(procs, tools, "bsf-v1", v1, {}, env, state1)
        checks.check("a version-1 database is upgraded and serves",
                     all(rc == 0 for rc, _ in res), str(res))
        b.check_clean_stop(checks)
        version = sqlite3.connect(v1).execute("PRAGMA user_version").fetchone()[0]
        checks.check("its user_version is now 2", version == 2, str(version))
        ok, why = bsf_refuses(procs, tools, "bsf-plain", v1, keys, env, ["plain keys"])
        checks.check("keys.kek on a database of plain keys: refused, pointing to rewrap",
                     ok, why)
        checks.check("the grep finds plain keys (the check can fail)", not secrets_absent(v1))
        r = subscriber(tools, v1, "rewrap", "--new-kek", KEK, "--new-pin-file", pin, box=box)
        checks.check("rewrap of plain keys under a KEK", r.returncode == 0, r.stderr)
        checks.check("no plain K or OPc left in the files", secrets_absent(v1))
        b, res = bootstrap(procs, tools, "bsf-v1-kek", v1, keys, env, state1)
        checks.check("the moved database serves under its KEK",
                     all(rc == 0 for rc, _ in res), str(res))
        b.check_clean_stop(checks)
        r = subscriber(tools, v1, *kek_args(KEK, pin), "rewrap", "--to-plain", box=box)
        checks.check("rewrap --to-plain takes the keys out of the token", r.returncode == 0 and
                     not secrets_absent(v1), r.stdout + r.stderr)
        r = subscriber(tools, v1, "show", IMPI, box=box)
        checks.check("... and the file opens without a KEK again", r.returncode == 0, r.stderr)
    checks.finish()


if __name__ == "__main__":
    main()
