#!/usr/bin/env python3
"""test_bsf_subscriber_admin - gba-subscriber's lab commands (list --json,
show by IMPI or IMSI, export CSV/JSON, update, set-sqn, reset-sqn), checked
on the database and by their effect on real bootstraps through gba-bsf with
gba-test-ue: a new K works and the old one stops working after update; after
reset-sqn the card is ahead and the next bootstrap resynchronises.  On a
file whose keys are wrapped under a KEK in SoftHSM2, update stores the new
keys wrapped (not in the file in clear) and gba-bsf with the KEK bootstraps
with them.  No output carries K, OP or OPc.

    test_bsf_subscriber_admin.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import csv
import io
import json
import os
import subprocess

import bsfenv
import gbatest
import softhsm

K2 = "0396eb317b6d1c36f19c1c84cd6ffd16"     # TS 35.208 set 2: published, not a real key
OPC2 = "53c15671c60a4b731c55b4a441c0bde2"
IMSI = "001010000000001"
IMPI2 = "second@ims.example.org"
IMPI3 = 'quo"te@ims.example.org'   # a quote: RFC 4180 and JSON escaping
SECRETS = [bsfenv.K, bsfenv.OPC, K2, OPC2]


class Tool:
    def __init__(self, prog, db):
        self.prog, self.db, self.output = prog, db, []

    def run(self, *args):
        r = gbatest.run([self.prog, "--db", self.db, *args])
        self.output.append(r.stdout + r.stderr)
        return r


def key_file(d, name, k, opc):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(f"k={k}\nopc={opc}\n")
    os.chmod(path, 0o600)
    return path


def setup(t, d):
    keys = key_file(d, "s1.keys", bsfenv.K, bsfenv.OPC)
    for args in (["--impi", bsfenv.IMPI, "--imsi", IMSI, "--impu", "sip:a@x", "--impu",
                  "tel:+1555"], ["--impi", IMPI2], ["--impi", IMPI3]):
        r = t.run("add", *args, "--k-file", keys)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)


def test_views(c, t, d):
    r = t.run("list", "--json")
    rows = json.loads(r.stdout) if r.returncode == 0 else []
    c.check("list --json: every subscriber, in IMPI order",
            [x["impi"] for x in rows] == sorted([bsfenv.IMPI, IMPI2, IMPI3]), r.stdout)
    one = next((x for x in rows if x["impi"] == bsfenv.IMPI), {})
    c.check("list --json: the fields", one.get("imsi") == IMSI and
            one.get("impus") == ["sip:a@x", "tel:+1555"] and one.get("algorithm") ==
            "milenage" and one.get("amf") == "0000" and one.get("sqn") == 0, str(one))
    r = t.run("show", IMSI)
    c.check("show IMSI: the subscriber with that IMSI",
            r.returncode == 0 and f"impi: {bsfenv.IMPI}" in r.stdout, r.stdout + r.stderr)
    r = t.run("show", IMSI, "--json")
    c.check("show IMSI --json: an array of its subscribers",
            r.returncode == 0 and [x["impi"] for x in json.loads(r.stdout)] == [bsfenv.IMPI])
    r = t.run("show", IMPI3, "--json")
    c.check("show IMPI --json: one object, the quote escaped",
            r.returncode == 0 and json.loads(r.stdout)["impi"] == IMPI3, r.stdout)
    r = t.run("show", "001019999999999")
    c.check("show of an unknown IMSI: exit 3", r.returncode == 3, r.stderr)
    r = t.run("list", "--xml")
    c.check("list --xml: exit 2", r.returncode == 2 and "--xml" in r.stderr)

    r = t.run("export")
    table = list(csv.reader(io.StringIO(r.stdout, newline="")))
    c.check("export: CSV with a header row",
            r.returncode == 0 and table[0] == ["impi", "imsi", "impus", "algorithm", "amf", "sqn",
                                               "ind_bits", "guss_octets"], r.stdout)
    c.check("export: RFC 4180 quoting reads back (quote in an IMPI, IMPUs with ';')",
            sorted(x[0] for x in table[1:]) == sorted([bsfenv.IMPI, IMPI2, IMPI3]) and
            ["sip:a@x;tel:+1555"] == [x[2] for x in table[1:] if x[0] == bsfenv.IMPI])
    out = os.path.join(d, "subs.json")
    r = t.run("export", "--format", "json", "--out", out)
    with open(out) as f:
        exported = json.load(f)
    c.check("export --format json --out FILE: what list --json shows", r.returncode == 0 and
            exported == rows)
    r = t.run("export", "--format", "yaml")
    c.check("export --format yaml: exit 2", r.returncode == 2)


def test_sqn(c, t, tools, bsf, d):
    state = os.path.join(d, "card.state")
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    rc2, out2 = bsfenv.run_ue(tools, bsf.url, state)
    c.check("two bootstraps, no resync", rc == 0 and rc2 == 0 and out2.get("resyncs") == 0,
            str(out2))
    r = t.run("reset-sqn", bsfenv.IMPI)
    shown = t.run("show", bsfenv.IMPI).stdout
    c.check("reset-sqn: sqn 0", r.returncode == 0 and "sqn: 0 " in shown, shown + r.stderr)
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    c.check("after reset-sqn the card is ahead: one resync, then ok",
            rc == 0 and out.get("resyncs") == 1, str(out))
    r = t.run("set-sqn", bsfenv.IMPI, "4096")
    shown = t.run("show", bsfenv.IMPI).stdout
    c.check("set-sqn 4096: shown", r.returncode == 0 and "sqn: 4096 (seq 128, ind 0)" in shown,
            shown + r.stderr)
    rc, out = bsfenv.run_ue(tools, bsf.url, state)
    c.check("after set-sqn ahead of the card: ok without resync",
            rc == 0 and out.get("resyncs") == 0, str(out))
    for args, code, what in ((["set-sqn", "nobody@x", "1"], 3, "unknown IMPI"),
                             (["set-sqn", bsfenv.IMPI, "12x"], 2, "not a number"),
                             (["set-sqn", bsfenv.IMPI, str(1 << 48)], 2, "over 2^48-1"),
                             (["reset-sqn"], 2, "no IMPI")):
        r = t.run(*args)
        c.check(f"set-sqn/reset-sqn, {what}: exit {code}", r.returncode == code, r.stderr)


def test_update(c, t, tools, bsf, d):
    r = t.run("update", bsfenv.IMPI, "--amf", "8000")
    c.check("update --amf: shown", r.returncode == 0 and
            json.loads(t.run("show", bsfenv.IMPI, "--json").stdout)["amf"] == "8000")
    guss = os.path.join(d, "guss.xml")
    with open(guss, "w") as f:
        f.write('<guss xmlns="uri:3gpp-gba" id="x"><ussList/></guss>\n')
    r = t.run("update", bsfenv.IMPI, "--guss-file", guss)
    c.check("update --guss-file: its size shown", r.returncode == 0 and
            json.loads(t.run("show", bsfenv.IMPI, "--json").stdout)["guss_octets"] ==
            os.path.getsize(guss))
    r = t.run("update", bsfenv.IMPI, "--no-guss")
    c.check("update --no-guss: none", r.returncode == 0 and
            json.loads(t.run("show", bsfenv.IMPI, "--json").stdout)["guss_octets"] == 0)
    t.run("update", bsfenv.IMPI, "--amf", "0000")

    r = t.run("update", IMPI2, "--k-file", key_file(d, "new.keys", K2, OPC2))
    c.check("update --k-file: exit 0", r.returncode == 0, r.stderr)
    state = os.path.join(d, "card2.state")
    rc, out = bsfenv.run_ue(tools, bsf.url, state, impi=IMPI2, k=K2, opc=OPC2)
    c.check("after update the new K bootstraps", rc == 0 and out.get("result") == "ok",
            str(out))
    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(d, "card3.state"), impi=IMPI2)
    c.check("after update the old K does not", rc != 0, str(out))
    for args, code, what in ((["update", IMPI2], 2, "nothing to change"),
                             (["update", IMPI2, "--algo", "tuak"], 2, "--algo without keys"),
                             (["update", "nobody@x", "--amf", "0001"], 3, "unknown IMPI"),
                             (["update", IMPI2, "--amf", "12"], 2, "a short AMF"),
                             (["update", IMPI2, "--k", K2], 2, "a key on the command line")):
        r = t.run(*args)
        c.check(f"update, {what}: exit {code}", r.returncode == code, r.stderr)


def test_update_kek(c, tools, procs, d):
    """update on a wrapped file: the new keys wrapped too, and they work."""
    pin_code, kek = "11223344", "pkcs11:token=gba;object=kek"
    box = softhsm.Box(os.path.join(d, "box"))
    box.token("gba", pin_code)
    box.aes_key("gba", "kek", pin_code)
    env = box.env()
    pin = softhsm.pin_file(os.path.join(d, "pin"), pin_code)
    db = os.path.join(d, "wrapped.db")
    run = [tools.subscriber, "--db", db, "--kek", kek, "--pin-file", pin]
    keys = key_file(d, "kek-s1.keys", bsfenv.K, bsfenv.OPC)
    r = subprocess.run(run + ["add", "--impi", IMPI2, "--k-file", keys],
                       capture_output=True, text=True, env=gbatest.child_env(env))
    c.check("add --kek", r.returncode == 0, r.stderr)
    r = subprocess.run(run + ["update", IMPI2, "--k-file",
                              key_file(d, "kek-new.keys", K2, OPC2)],
                       capture_output=True, text=True, env=gbatest.child_env(env))
    c.check("update --kek --k-file: exit 0", r.returncode == 0, r.stderr)
    r = gbatest.run([tools.subscriber, "--db", db, "update", IMPI2, "--amf", "0001"])
    c.check("update of a wrapped file without its KEK: refused (exit 1)", r.returncode == 1,
            r.stderr)
    with open(db, "rb") as f:
        data = f.read()
    c.check("the new K and OPc are not in the file in clear",
            bytes.fromhex(K2) not in data and bytes.fromhex(OPC2) not in data)
    bsf = bsfenv.Bsf(procs, tools, name="bsf-kek", db=db, env=env,
                     extra={"keys.kek": kek, "keys.pin_file": pin}).start()
    rc, out = bsfenv.run_ue(tools, bsf.url, os.path.join(d, "kek-card.state"), impi=IMPI2,
                            k=K2, opc=OPC2)
    c.check("gba-bsf with the KEK bootstraps with the updated keys",
            rc == 0 and out.get("result") == "ok", str(out))


def main():
    tools = bsfenv.Tools()
    c = gbatest.Checks()
    with gbatest.Processes() as procs:
        d = procs.dir
        db = os.path.join(d, "subscribers.db")
        t = Tool(tools.subscriber, db)
        setup(t, d)
        test_views(c, t, d)
        bsf = bsfenv.Bsf(procs, tools, db=db).start()
        test_sqn(c, t, tools, bsf, d)
        test_update(c, t, tools, bsf, d)
        if not softhsm.missing():
            test_update_kek(c, tools, procs, d)
        else:
            print("SoftHSM2 missing: the KEK case is not run")
    c.check("no output carries K or OPc",
            not any(s in o.lower() for o in t.output for s in SECRETS))
    c.finish()


if __name__ == "__main__":
    main()
