#!/usr/bin/env python3
"""The README's demo: the whole chain on embedded defaults, every part a real
process on 127.0.0.1, in a temporary folder removed at the end:

  1. gba-hss-sim, the HSS simulator, with one subscriber (TS 35.208 test set
     1's K and OP, which are published: that is why key values may appear)
     and a GUSS that names the node's oneM2M identity;
  2. gba-bsf: Ub over HTTP, vectors from the HSS over Zh (Diameter), Zn for
     NAFs, its own SQLite session store; Zh and Zn run over TLS with a
     certificate per peer from a CA the demo makes (certtool);
  3. gba-naf, the oneM2M M2M Authentication Function: Ua over TLS-PSK and
     Digest, Zn toward the BSF, its key store;
  4. the simulated USIM (gba-usim-sim) in a private pcscd through the vpcd
     driver, so gba-client reads it as a real card in a reader (if this
     machine cannot run a private pcscd, the soft card stands in, and the
     demo says so);
  5. gba-client bootstraps (Ub) and prints the B-TID, the lifetime and a
     Ks_NAF check value;
  6. gba-client enrols with the NAF: Master Credential Km, KmID = B-TID;
  7. gba-client registers a session key for a target CSE, and gba-target
     retrieves it; all sides must agree (compared by check value).

With --hlr osmo, Debian's osmo-hlr (Osmocom's HLR, over GSUP) takes the
HSS simulator's place in step 1: the subscriber's K and OPc go into it through
its VTY, as a lab provisions its SIMs, and gba-bsf asks it for vectors
(av.source = gsup, docs/core-network.md); the GUSS stays in the BSF's own
database, which osmo-hlr has none of.

Usage: demo.py BUILD_DIR [--hlr osmo]  the programs of a meson build directory
       demo.py --installed ROOT [--hlr osmo]
                                  the installed programs: ROOT/usr/bin/gba-*,
                                  the card profiles in ROOT/usr/share/gba/profiles
                                  (ROOT '/' for an installed system; the packaging
                                  test passes the packages' files extracted there)
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
import gbatest  # noqa: E402
import osmohlr  # noqa: E402
import pcscd  # noqa: E402

IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
IMSI = "001010000000001"
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OP = "cdc202d5123e20f62b6d676ac72cb318"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
REALM = "mnc001.mcc001.3gppnetwork.org"
DOMAIN = "bsf." + REALM.replace("3gppnetwork", "pub.3gppnetwork")
NAF = "in-cse.m2m.example.org"
NODE_ID = "/CSE-demo-node-01"
TARGET, TARGET_PSK = "/in-cse-target", "00112233445566778899aabbccddeeff"

GUSS = f"""<guss xmlns="uri:3gpp-gba" id="demo">
  <bsfInfo><uiccType>GBA_U</uiccType></bsfInfo>
  <ussList>
    <uss id="1" type="1" nafGroup="{NAF}">
      <uids><uid>{NODE_ID}</uid></uids>
    </uss>
  </ussList>
</guss>
"""


class Demo:
    def __init__(self, build, procs, root=None):
        self.build, self.root, self.procs, self.dir = build, root, procs, procs.dir
        self.env = dict(os.environ)
        # Zh and Zn over TLS: a CA made now, a certificate per Diameter peer.
        self.ca = gbatest.TestCA(self.dir, "diameter-ca")

    def prog(self, *path):
        """A program by its build-tree path; installed, by its name only."""
        if self.root is not None:
            return os.path.join(self.root, "usr", "bin", path[-1])
        return os.path.join(self.build, *path)

    def profile(self, name):
        if self.root is not None:
            return os.path.join(self.root, "usr", "share", "gba", "profiles", name)
        return os.path.join(HERE, "..", "simulators", "usim", "profiles", name)

    def private(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def run_json(self, argv):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=self.env)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            raise SystemExit(f"demo: {os.path.basename(argv[0])} {argv[-1]} failed "
                             f"(exit {r.returncode})")
        return json.loads(r.stdout)

    def start_hss(self):
        db = os.path.join(self.dir, "hss-subscribers.db")
        guss = self.private("guss.xml", GUSS)
        keys = self.private("subscriber.keys", f"k = {K}\nop = {OP}\n")   # never argv
        gbatest.run([self.prog("tools", "gba-subscriber"), "--db", db, "add", "--impi", IMPI,
                     "--imsi", IMSI, "--k-file", keys, "--amf", "0000",
                     "--guss-file", guss], check=True)
        self.hss_port = gbatest.free_port()
        self.procs.start("hss", [self.prog("simulators", "hss", "gba-hss-sim"), "--db", db,
                                 "--listen", f"127.0.0.1:{self.hss_port}",
                                 "--identity", "hss." + REALM, "--realm", REALM,
                                 *self.ca.hss_args("hss." + REALM)],
                         wait_port=self.hss_port)
        print(f"1. gba-hss-sim (Zh, Diameter over TLS) on 127.0.0.1:{self.hss_port}: "
              f"subscriber {IMPI},")
        print(f"   GUSS with a USS for {NAF} naming the node {NODE_ID}")

    def start_osmo_hlr(self):
        """osmo-hlr with the subscriber; the GUSS in the BSF's own database."""
        self.hlr = osmohlr.Hlr(self.procs, osmohlr.free_loopback())
        self.hlr.start()
        self.hlr.add(IMSI, K, OPC)
        self.bsf_db = os.path.join(self.dir, "bsf-subscribers.db")
        # A row for the GUSS only: its keys are random and never used, the HLR's are.
        keys = self.private("unused-keys", f"k={os.urandom(16).hex()}\nopc={os.urandom(16).hex()}\n")
        gbatest.run([self.prog("tools", "gba-subscriber"), "--db", self.bsf_db, "add",
                     "--impi", IMPI, "--imsi", IMSI, "--k-file", keys,
                     "--guss-file", self.private("guss.xml", GUSS)], check=True)
        print(f"1. osmo-hlr (GSUP) on {self.hlr.addr}:{osmohlr.GSUP_PORT}: IMSI {IMSI} "
              "provisioned through its VTY;")
        print(f"   the GUSS (a USS for {NAF} naming {NODE_ID}) in the BSF's database")

    def av_config(self):
        if getattr(self, "hlr", None):
            return f"""[av]
source = gsup
[gsup]
remote = {self.hlr.addr}:{osmohlr.GSUP_PORT}
name = gba-bsf-demo
[embedded]
db = {self.bsf_db}
"""
        return f"""[av]
source = zh
[zh]
origin_host = bsf.{REALM}
origin_realm = {REALM}
hss_host = 127.0.0.1
hss_port = {self.hss_port}
hss_realm = {REALM}
hss_identity = hss.{REALM}
"""

    def start_bsf(self):
        self.ub, self.zn = gbatest.free_port(), gbatest.free_port()
        admin = gbatest.free_port()
        cert, key = self.ca.issue("bsf." + REALM)
        conf = self.private("bsf.conf", f"""[bsf]
state_dir = {self.dir}
domain = {DOMAIN}
[ub]
listen = 127.0.0.1:{self.ub}
[admin]
listen = 127.0.0.1:{admin}
[store]
uri = sqlite:{self.dir}/bsf-sessions.db
{self.av_config()}[zn]
enabled = on
listen = 127.0.0.1
port = {self.zn}
identity = bsf.{REALM}
realm = {REALM}
accept_unknown_peers = yes
policy = guss
tls_cert = {cert}
tls_key = {key}
tls_ca = {self.ca.cert}
""")
        self.procs.start("bsf", [self.prog("bsf", "gba-bsf"), "--config", conf],
                         wait_port=self.ub)
        gbatest.wait_port(self.zn, 10.0)
        via = "GSUP to osmo-hlr" if getattr(self, "hlr", None) else "Zh to the HSS"
        print(f"2. gba-bsf: Ub http://127.0.0.1:{self.ub}/, {via}, "
              f"Zn on 127.0.0.1:{self.zn} (TLS, certificates from a demo CA)")

    def start_naf(self):
        self.naf_tls, digest, admin = (gbatest.free_port() for _ in range(3))
        self.naf_digest = digest
        cert, key = self.ca.issue(NAF)
        conf = self.private("naf.conf", f"""[naf]
fqdn = {NAF}
state_dir = {self.dir}
[ua]
digest_listen = 127.0.0.1:{digest}
tls_listen = 127.0.0.1:{self.naf_tls}
[admin]
listen = 127.0.0.1:{admin}
[store]
uri = sqlite:{self.dir}/naf-keys.db
[zn]
identity = {NAF}
realm = {REALM}
bsf_identity = bsf.{REALM}
bsf_address = 127.0.0.1
bsf_port = {self.zn}
tls_cert = {cert}
tls_key = {key}
tls_ca = {self.ca.cert}
[targets]
{TARGET} = {TARGET_PSK}
""")
        self.procs.start("naf", [self.prog("naf", "daemon", "gba-naf"), "--config", conf],
                         wait_port=self.naf_tls)
        print(f"3. gba-naf ({NAF}): Ua TLS-PSK on 127.0.0.1:{self.naf_tls}, "
              f"Digest on 127.0.0.1:{digest}, Zn to the BSF over TLS")

    def start_card(self):
        try:
            reader = pcscd.start(self.procs, exit_on_unavailable=False)
        except pcscd.Unavailable as e:
            card = self.private("soft-card.key",
                                "# DEVELOPMENT ONLY: a soft card, keys in a file\n"
                                f"imsi = {IMSI}\nmnc_len = 2\nalgorithm = milenage\n"
                                f"k = {K}\nopc = {OPC}\n")
            print(f"4. no private pcscd here ({e}): the soft card stands in for the USIM")
            return ["--card", "soft:" + card]
        profile = self.profile("demo.conf")
        self.procs.start("usim", [self.prog("simulators", "usim", "gba-usim-sim"),
                                  "--profile", profile,
                                  "--state", os.path.join(self.dir, "usim.state"),
                                  "--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
        reader.wait_card()
        self.env.update(reader.env)
        base = [self.prog("client", "gba-client"), "--json", "--card", "pcsc"]
        info = {}
        for _ in range(50):   # pcscd takes the card on its next poll (bounded)
            r = subprocess.run(base + ["card-info"], capture_output=True, text=True,
                               timeout=30, env=self.env)
            if r.returncode == 0:
                info = json.loads(r.stdout)
                break
            time.sleep(0.2)
        if not info:
            raise SystemExit("demo: gba-client does not see the simulated card")
        print(f"4. gba-usim-sim in pcscd's vpcd reader: IMSI {info.get('imsi')}, "
              f"IMPI {info.get('impi')} (from the {info.get('impi_source')}), "
              f"GBA_U {'yes' if info.get('gba_u') else 'no'}")
        return ["--card", "pcsc"]

    def client(self, card, *args):
        return self.run_json([self.prog("client", "gba-client"), "--json", *card,
                              "--context", os.path.join(self.dir, "node.ctx"),
                              "--bsf", f"http://127.0.0.1:{self.ub}/", "--naf", NAF,
                              "-o", f"naf-addr=127.0.0.1:{self.naf_tls}", *args])

    def target(self, key_id):
        psk = self.private("target.psk", TARGET_PSK + "\n")
        return self.run_json([self.prog("naf", "target", "gba-target"),
                              "--naf", f"127.0.0.1:{self.naf_tls}", "--fqdn", NAF,
                              "--cse-id", TARGET, "--psk-file", psk, "--key-id", key_id])


def tshark_line(d):
    """A tshark command line that decodes this run's ports (docs/wireshark.md):
    Ub and Digest Ua as HTTP, Zh and Zn as Diameter over TLS, TLS-PSK Ua as
    HTTP over TLS, the TLS opened with the key log of SSLKEYLOGFILE."""
    keys = os.environ.get("SSLKEYLOGFILE") or "/tmp/gba-demo.keys"
    decode = [f"tcp.port=={d.ub},http", f"tcp.port=={d.naf_digest},http",
              f"tcp.port=={d.zn},tls", f"tls.port=={d.zn},diameter",
              f"tcp.port=={d.naf_tls},tls", f"tls.port=={d.naf_tls},http"]
    if getattr(d, "hss_port", None):
        decode += [f"tcp.port=={d.hss_port},tls", f"tls.port=={d.hss_port},diameter"]
    args = " ".join(f"-d {x}" for x in decode)
    return (f"   export SSLKEYLOGFILE={keys}; tshark -i lo -w /tmp/gba-demo.pcapng & "
            f"scripts/demo.sh\n"
            f"   tshark -r /tmp/gba-demo.pcapng -o tls.keylog_file:{keys} {args} "
            f"-Y 'http || diameter'")


def main():
    args, root = sys.argv[1:], None
    hlr = None
    if "--hlr" in args:
        i = args.index("--hlr")
        hlr = args[i + 1] if i + 1 < len(args) else ""
        del args[i:i + 2]
        if hlr != "osmo":
            raise SystemExit("demo: --hlr takes osmo")
    if args[:1] == ["--installed"] and len(args) == 2:
        build, root = None, os.path.abspath(args[1])
    elif len(args) <= 1 and not args[:1] == ["--installed"]:
        build = os.path.abspath(args[0] if args else "build")
    else:
        raise SystemExit("usage: demo.py [BUILD_DIR] | demo.py --installed ROOT [--hlr osmo]")
    with gbatest.Processes() as procs:
        d = Demo(build, procs, root)
        if hlr:
            d.start_osmo_hlr()
        else:
            d.start_hss()
        d.start_bsf()
        d.start_naf()
        card = d.start_card()

        boot = d.client(card, "bootstrap")
        print(f"5. gba-client bootstrap ({boot.get('gba_type')}):")
        print(f"   B-TID     {boot.get('btid')}")
        print(f"   lifetime  {boot.get('lifetime')}")
        print(f"   Ks_NAF check value for {NAF}: "
              f"{boot.get('ks_naf_kcv') or boot.get('ks_ext_naf_kcv')}")

        enrol = d.client(card, "m2m-enrol")
        km_ok = enrol.get("km_kcv") and enrol.get("km_kcv") == enrol.get("km_kcv_naf")
        print("6. gba-client m2m-enrol (Ua over TLS-PSK, the NAF fetched Km over Zn):")
        print(f"   KmID      {enrol.get('kmid')}")
        print(f"   node      {enrol.get('node_id') or enrol.get('cse_id')}")
        print(f"   Km check value: node {enrol.get('km_kcv')}, NAF {enrol.get('km_kcv_naf')}"
              f" -> {'agree' if km_ok else 'DIFFER'}")

        sess = d.client(card, "-o", f"target={TARGET}", "m2m-session")
        got = d.target(sess.get("key_id", ""))
        kc = (sess.get("kc_kcv"), sess.get("kc_kcv_naf"), got.get("kc_kcv"))
        kc_ok = kc[0] and kc[0] == kc[1] == kc[2]
        print(f"7. session key for {TARGET}:")
        print(f"   key id    {sess.get('key_id')}  (expires {sess.get('key_expires')})")
        print(f"   Kc check value: node {kc[0]}, NAF {kc[1]}, target {kc[2]} -> "
              f"{'all agree' if kc_ok else 'DIFFER'}")
        print(f"   gba-target retrieved it, and learns the node: {got.get('node_id')}")

        print("8. Wireshark (docs/wireshark.md): capture lo while the demo runs, with "
              "SSLKEYLOGFILE exported\n   so every TLS side appends its secrets; this run's "
              "ports decode with:")
        print(tshark_line(d))

        last = "hlr" if hlr else "hss"
        codes = {name: procs.stop(name) for name in ("naf", "bsf", last)}
        print(f"\nStopped gba-naf, gba-bsf, {'osmo-hlr' if hlr else 'gba-hss-sim'}: "
              f"exit codes {codes}.")
        for name, code in codes.items():
            if code != 0:   # what went wrong, from the part's own log
                print(f"--- {name} exited {code}; the end of its log:\n{procs.log(name)[-3000:]}")
        ok = km_ok and kc_ok and all(c == 0 for c in codes.values())
        print("Demo done: every side agrees." if ok else "Demo FAILED.")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
