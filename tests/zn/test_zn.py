#!/usr/bin/env python3
"""test_zn.py - Zn end to end: a real gba-bsf (embedded subscribers, Zn on)
and libgba-naf's client (zn-probe, one process per NAF) over real
freeDiameter on 127.0.0.1; bootstraps by gba-test-ue.  The first BSF, whose
exchanges tshark decodes, runs Zn on explicit plain TCP (tshark cannot read
inside TLS); every other one runs TLS, the default, with certificates from
CAs the test makes (certtool).

Checked: Ks_NAF from Zn equals gba-test-ue's (GBA_ME) and a value computed
independently from K, OPc and the B-TID's RAND; GBA_U gives Ks_ext_NAF and
Ks_int_NAF to a GBA_U-aware NAF and Ks_ext_NAF only to an unaware one; the
USS list with the oneM2M CSE-ID in its uids; the cache (hit, forget); 5403
for unknown and expired B-TIDs; 5402 for a peer asking for another NAF's
FQDN and for a GUSS without a USS for the NAF; malformed BIRs get 5004/5005/
5009 and the BSF stays up; Zn metrics; a stopped BSF gives GBA_ERR_TIMEOUT
within the timeout and a dead one GBA_ERR_UNAVAILABLE; tshark decodes the
BIR/BIA with Wireshark's own dictionary.

The same BSF also serves Zn as Nbsp_GBA (TS 29.309, mutual TLS with
certificates made by certtool): a NAF with a client certificate gets the
same keys, another certificate's identity gets 403 (5402), an unknown B-TID
404 (5403), a client without a certificate 403; curl drives it over
HTTP/1.1 and every request and answer is checked against
nbsp_gba.schema.json (python3-jsonschema).

Zn over TLS: a NAF listed in zn.peers is refused at CER, and gets no Ks_NAF,
when it talks plain TCP to the TLS port, presents the CA's certificate for
another identity, or a certificate from another CA; with its own
certificate it gets Ks_NAF.  zn.peers (listed, *.domain, unlisted) over TLS.

A second gba-bsf then gets its vectors from gba-hss-sim over Zh (TLS) and
serves Zn on the same Diameter node (both applications in one CER), and a NAF
gets the keys of a bootstrap made through it; a client claiming the HSS's
identity on the Zn port with a NAF's certificate gets neither keys nor MARs.

Usage: test_zn.py GBA_BSF ZN_PROBE GBA_TEST_UE GBA_SUBSCRIBER TSHARK [GBA_HSS_SIM]
       (TSHARK '' if none; without GBA_HSS_SIM the Zh + Zn part is skipped)
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import diameter_raw
import gbatest
import nbsp_schema
import testpki
import tshark

BSF_BIN, PROBE_BIN, UE_BIN, SUBSCRIBER_BIN, TSHARK = sys.argv[1:6]
HSS_BIN = sys.argv[6] if len(sys.argv) > 6 else ""
HSS_ID = "hss.zn.test"

K = "465b5ce8b199b49faa5f0a2ee238a6bc"     # TS 35.208 set 1: published, not a real key
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
ALICE = "alice@ims.mnc001.mcc001.3gppnetwork.org"
CAROL = "carol@ims.mnc001.mcc001.3gppnetwork.org"
DOMAIN = "bsf.zn.test"           # B-TID domain, and so the BIRs' Destination-Realm
BSF_ID = "bsf.zn.test"
REALM = "zn.test"
NAF = "naf.zn.test"              # probe A's identity and FQDN; GBA_U-aware
NAF2 = "naf2.zn.test"            # probe B's; GBA_U-unaware, no cache
CSE1 = "cse1.zn.test"            # an FQDN NAF may ask for too (zn.nafs)
CSE_ID = "/CSE-alice-01"         # the oneM2M identity in alice's USS
KEY_LIFETIME = 3600
TIMEOUT_MS = 800

# alice: a USS for NAF (nafGroup = its FQDN) carrying the CSE-ID, and one
# for the group m2m (NAF2, CSE1).  carol: a USS for some other NAF only.
GUSS_ALICE = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<guss xmlns="uri:3gpp-gba" id="alice"><bsfInfo><uiccType>GBA_U</uiccType>'
              '</bsfInfo><ussList>'
              f'<uss id="1" type="1" nafGroup="{NAF}"><uids><uid>{CSE_ID}</uid></uids>'
              '<flags><flag>1</flag></flags></uss>'
              '<uss id="2" type="1" nafGroup="m2m"><uids><uid>/AE-alice-07</uid></uids></uss>'
              '</ussList></guss>')
GUSS_CAROL = ('<guss xmlns="uri:3gpp-gba" id="carol"><ussList>'
              '<uss id="1" type="1" nafGroup="other.zn.test"/></ussList></guss>')

checks = gbatest.Checks()


class Probe(gbatest.LineProcess):
    """zn-probe run: one command line in, one answer line out, bounded."""

    def __init__(self, procs, name, port, identity, *extra):
        super().__init__(procs, name, [
            PROBE_BIN, "run", "--bsf", f"127.0.0.1:{port}", "--bsf-id", BSF_ID,
            "--id", identity, "--realm", REALM, "--timeout", str(TIMEOUT_MS),
            "--secrets", os.path.join(procs.dir, "secrets.txt"), *extra])

    def fetch(self, btid, fqdn):
        """{'err':..., 'ms':..., 'impi':..., 'ks_naf':..., ...}"""
        words = self.cmd(f"fetch {btid} {fqdn}").split()
        out = {"err": words[1], "ms": float(words[2])}
        for w in words[3:]:
            k, _, v = w.partition("=")
            out[k] = v
        return out

    def expect(self, btid, impi, fqdn):
        words = self.cmd(f"expect {K} {OPC} {btid} {impi} {fqdn}").split()
        return dict(w.split("=", 1) for w in words[1:])

    def quit(self):
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.flush()
            rc = self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired) as e:
            rc = str(e)
        if rc != 0:
            print(f"{self.name}: exit {rc}\n" + self.procs.log(self.name)[-3000:], file=sys.stderr)
        return rc == 0


def ue(procs, url, impi, state, *extra):
    r = gbatest.run([UE_BIN, "--url", url, "--impi", impi, "--k-file", "-",
                     "--state", os.path.join(procs.dir, state), *extra], timeout=30,
                    input=gbatest.keys_text(K, OPC))
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"result": "error", "raw": r.stdout + r.stderr}


def random_btid():
    return base64.b64encode(os.urandom(16)).decode() + "@" + DOMAIN


def add_subscriber(procs, db, impi, guss):
    path = os.path.join(procs.dir, impi.split("@")[0] + ".guss")
    with open(path, "w") as f:
        f.write(guss)
    r = gbatest.run([SUBSCRIBER_BIN, "--db", db, "add", "--impi", impi, "--k-file", "-",
                     "--guss-file", path], input=f"k={K}\nopc={OPC}\n")
    checks.check(f"gba-subscriber add {impi.split('@')[0]} with a GUSS", r.returncode == 0,
                 r.stdout + r.stderr)


def make_certs(procs):
    """A CA, the BSF's server certificate, and client certificates for NAF
    and for a rogue NAF, all by certtool; None when certtool is missing."""
    pki = testpki.make_certs(os.path.join(procs.dir, "pki"), BSF_ID,
                             {"naf": NAF, "rogue": None})
    if pki:
        pki["bsf"] = pki["server"]
    return pki


def tls_probe_args(ca, identity):
    cert, key = ca.issue(identity)
    return ["--tls-cert", cert, "--tls-key", key, "--tls-ca", ca.cert]


def start_bsf(procs, db, store, zn_port, pki=None, name="bsf", extra=(), ca=None):
    """gba-bsf with Zn on: over TLS with ca's certificates, else (the run
    tshark decodes) on explicit plain TCP."""
    port, admin = gbatest.free_port(), gbatest.free_port()
    http = ca.bsf_args(BSF_ID) if ca else ["--set", "zn.transport=tcp"]
    if pki:
        http_port = gbatest.free_port()
        h2_port = gbatest.free_port()
        http += ["--set", f"zn.http_listen=127.0.0.1:{http_port}",
                 "--set", f"zn.http2_listen=127.0.0.1:{h2_port}",
                "--set", f"zn.http_tls_cert={pki['bsf'][1]}",
                "--set", f"zn.http_tls_key={pki['bsf'][0]}",
                "--set", f"zn.http_tls_ca={pki['ca'][1]}"]
    proc = procs.start(name, [
        BSF_BIN, "--set", "bsf.state_dir=" + procs.dir, "--listen", f"127.0.0.1:{port}",
        "--admin-listen", f"127.0.0.1:{admin}", "--domain", DOMAIN, "--db", db,
        "--store", store, "--set", f"bsf.key_lifetime={KEY_LIFETIME}s",
        "--set", "zn.enabled=on", "--set", "zn.listen=127.0.0.1",
        "--set", f"zn.port={zn_port}", "--set", f"zn.identity={BSF_ID}",
        "--set", f"zn.realm={REALM}", "--set", f"zn.nafs={NAF}={CSE1}",
        "--set", f"zn.naf_groups=m2m={NAF2}|{CSE1}", "--set", "log.level=debug", *http,
        *extra], wait_port=port)
    gbatest.wait_port(zn_port, 10.0, proc)
    gbatest.wait_port(admin, 10.0, proc)
    if pki:
        gbatest.wait_port(http_port, 10.0, proc)
        pki["url"] = f"https://127.0.0.1:{http_port}"
        gbatest.wait_port(h2_port, 10.0, proc)
        pki["url2"] = f"https://127.0.0.1:{h2_port}"
    return proc, f"http://127.0.0.1:{port}/", admin


def test_gba_me(procs, url, a):
    r = ue(procs, url, ALICE, "alice.sqn", "--naf", NAF)
    if not checks.check("gba-test-ue bootstraps alice (GBA_ME)", r.get("result") == "ok", str(r)):
        return None
    btid = r["btid"]
    f = a.fetch(btid, NAF)
    checks.check("Zn: keys for a known B-TID (GBA_OK)", f["err"] == "GBA_OK", str(f))
    checks.check("Zn: Ks_NAF equals the UE's", f.get("ks_naf") == r["ks_naf_kcv"],
                 f"{f.get('ks_naf')} vs {r['ks_naf_kcv']}")
    e = a.expect(btid, ALICE, NAF)
    checks.check("Zn: Ks_NAF equals Milenage + Annex B computed apart",
                 f.get("ks_naf") == e.get("ks_naf"), str(e))
    checks.check("Zn: User-Name is the IMPI", f.get("impi") == ALICE, str(f))
    checks.check("Zn: GBA_ME gives no Ks_int_NAF", f.get("ks_int_naf") == "-" and
                 f.get("gba_u") == "0", str(f))
    checks.check("Zn: Key-ExpiryTime - BootstrapInfoCreationTime = key lifetime",
                 f.get("lifetime") == str(KEY_LIFETIME), str(f))
    checks.check("Zn: the USS list carries the CSE-ID in its uids",
                 int(f.get("uss", "0")) > 0 and f.get("uid") == CSE_ID, str(f))
    checks.check("Zn: first fetch is not from the cache", f.get("cached") == "0", str(f))
    # The cache: a hit sends no BIR; forget drops it.
    before = a.cmd("stats")
    g = a.fetch(btid, NAF)
    after = a.cmd("stats")
    birs = lambda s: re.search(r"birs=(\d+)", s).group(1)
    checks.check("cache: second fetch is a hit with the same key",
                 g.get("cached") == "1" and g.get("ks_naf") == f.get("ks_naf"), str(g))
    checks.check("cache: a hit sends no BIR", birs(before) == birs(after), f"{before} / {after}")
    a.cmd(f"forget {btid}")
    h = a.fetch(btid, NAF)
    checks.check("cache: after forget the BSF is asked again",
                 h.get("cached") == "0" and h.get("ks_naf") == f.get("ks_naf"), str(h))
    # zn.nafs: NAF may ask for CSE1 too (a USS of group m2m covers it).
    c = a.fetch(btid, CSE1)
    e1 = a.expect(btid, ALICE, CSE1)
    checks.check("Zn: mapped FQDN (zn.nafs) gets its own Ks_NAF",
                 c["err"] == "GBA_OK" and c.get("ks_naf") == e1.get("ks_naf") and
                 c.get("uid") == "/AE-alice-07", str(c))
    return btid


def test_gba_u(procs, url, a, b):
    r = ue(procs, url, ALICE, "alice.sqn", "--gba-u", "--naf", NAF)
    if not checks.check("gba-test-ue bootstraps alice (GBA_U, 3gpp-gba-uicc)",
                        r.get("result") == "ok" and r.get("gba_type") == "GBA_U", str(r)):
        return
    btid = r["btid"]
    f = a.fetch(btid, NAF)
    e = a.expect(btid, ALICE, NAF)
    checks.check("GBA_U, aware NAF: Ks_ext_NAF as ME-Key-Material equals the UE's",
                 f["err"] == "GBA_OK" and f.get("ks_naf") == r["ks_naf_kcv"], str(f))
    checks.check("GBA_U, aware NAF: Ks_int_NAF as UICC-Key-Material, computed apart",
                 f.get("ks_int_naf") == e.get("ks_int_naf") and f.get("gba_u") == "1", str(f))
    g = b.fetch(btid, NAF2)
    e2 = b.expect(btid, ALICE, NAF2)
    checks.check("GBA_U, unaware NAF: Ks_ext_NAF only",
                 g["err"] == "GBA_OK" and g.get("ks_naf") == e2.get("ks_naf") and
                 g.get("ks_int_naf") == "-" and g.get("gba_u") == "0", str(g))


def test_refusals(procs, url, a, b, btid):
    f = a.fetch(random_btid(), NAF)
    checks.check("5403: unknown B-TID -> GBA_ERR_NOT_FOUND", f["err"] == "GBA_ERR_NOT_FOUND",
                 str(f))
    if btid:
        f = b.fetch(btid, NAF)
        checks.check("5402: a peer asking for another NAF's FQDN", f["err"] ==
                     "GBA_ERR_NOT_AUTHORIZED", str(f))
    r = ue(procs, url, CAROL, "carol.sqn", "--naf", NAF)
    if checks.check("gba-test-ue bootstraps carol", r.get("result") == "ok", str(r)):
        f = a.fetch(r["btid"], NAF)
        checks.check("5402: the user's GUSS has no USS for the NAF",
                     f["err"] == "GBA_ERR_NOT_AUTHORIZED", str(f))
    # Expiry: a session planted in the BSF's store, live, then rewritten
    # as expired 30 s ago.
    planted = random_btid()
    ok = b.cmd(f"plant {planted} {ALICE} me 300 -") == "plant GBA_OK"
    f = b.fetch(planted, NAF2)
    checks.check("planted live session: keys", ok and f["err"] == "GBA_OK", str(f))
    ok = b.cmd(f"plant {planted} {ALICE} me -30 -") == "plant GBA_OK"
    f = b.fetch(planted, NAF2)
    checks.check("5403: expired B-TID -> GBA_ERR_NOT_FOUND",
                 ok and f["err"] == "GBA_ERR_NOT_FOUND", str(f))


def test_malformed(a, bsf, btid):
    cases = [("good", "2001"), ("no_vsai", "5005"), ("no_btid", "5005"),
             ("two_btids", "5009"), ("no_naf_id", "5005"), ("short_naf_id", "5004"),
             ("bad_btid", "5004"), ("bad_aware", "5004")]
    for kind, code in cases:
        words = a.cmd(f"raw {kind} {btid} {NAF}").split()
        checks.check(f"raw BIR {kind}: {code}", words[-1] == code, " ".join(words))
    checks.check("the BSF is still up after malformed BIRs", bsf.poll() is None)
    a.cmd(f"forget {btid}")
    f = a.fetch(btid, NAF)
    checks.check("and still answers", f["err"] == "GBA_OK", str(f))


def test_http(procs, pki, btid):
    """Zn over HTTPS/JSON with mutual TLS, in front of the same handler."""
    def probe(name, who):
        p = Probe(procs, name, 0, NAF, "--http", pki["url"], "--tls-cert", pki[who][1],
                  "--tls-key", pki[who][0], "--tls-ca", pki["ca"][1], "--cache", "off")
        checks.check(f"HTTPS: zn-probe ({who}) ready", p.line() == "ready")
        return p
    h = probe("naf-http", "naf")
    f = h.fetch(btid, NAF)
    e = h.expect(btid, ALICE, NAF)
    checks.check("HTTPS: the NAF's certificate gets Ks_NAF, as over Diameter",
                 f["err"] == "GBA_OK" and f.get("ks_naf") == e.get("ks_naf") and
                 f.get("impi") == ALICE and f.get("uid") == CSE_ID and
                 f.get("lifetime") == str(KEY_LIFETIME), str(f))
    f = h.fetch(random_btid(), NAF)
    checks.check("HTTPS: unknown B-TID -> 404 -> GBA_ERR_NOT_FOUND",
                 f["err"] == "GBA_ERR_NOT_FOUND", str(f))
    f = h.fetch(btid, NAF2)
    checks.check("HTTPS: another NAF's FQDN -> 403 -> GBA_ERR_NOT_AUTHORIZED",
                 f["err"] == "GBA_ERR_NOT_AUTHORIZED", str(f))
    checks.check("HTTPS: zn-probe exits cleanly", h.quit())
    r = probe("naf-rogue", "rogue")
    f = r.fetch(btid, NAF)
    checks.check("HTTPS: a certificate naming another NAF -> GBA_ERR_NOT_AUTHORIZED",
                 f["err"] == "GBA_ERR_NOT_AUTHORIZED", str(f))
    checks.check("HTTPS: rogue zn-probe exits cleanly", r.quit())
    test_nbsp_curl(pki, btid, e.get("ks_naf"), "1.1")
    test_nbsp_curl(pki, btid, e.get("ks_naf"), "2")


def nbsp_request(btid, fqdn=NAF, ua="0100000002", **more):
    return {"btId": btid, "nafId": {"nafFqdn": fqdn, "uaSecProtId": ua}, **more}


def nbsp_answer_ok(status, ctype, body):
    """A 200 BootstrappingInfoResponse, or a ProblemDetails of its status, per the schema."""
    if status == 200:
        return ctype.startswith("application/json") and isinstance(body, dict) and \
            not nbsp_schema.problems("BootstrappingInfoResponse", body)
    return ctype.startswith("application/problem+json") and isinstance(body, dict) and \
        not nbsp_schema.problems("ProblemDetails", body) and body.get("status") == status


def test_nbsp_curl(pki, btid, ks_naf, version):
    """Nbsp_GBA driven by curl over HTTP/1.1 (zn.http_listen) or HTTP/2
    (zn.http2_listen, ALPN h2): every request and every answer checked
    against the JSON Schema; the malformed requests must fail the schema
    too, so that the BSF and the schema agree."""
    if not shutil.which("curl"):
        print("skip Nbsp_GBA with curl: no curl")
        return

    def post(body, **kw):
        return nbsp_schema.post(pki, body, version=version, **kw)
    good = nbsp_request(btid, gsIds=[1], gbaUAware=False)
    checks.check(f"Nbsp/{version}: the request is a BootstrappingInfoRequest per the schema",
                 not nbsp_schema.problems("BootstrappingInfoRequest", good),
                 str(nbsp_schema.problems("BootstrappingInfoRequest", good)))
    status, ctype, body = post(json.dumps(good))
    checks.check(f"Nbsp/{version}: 200 BootstrappingInfoResponse, valid per the schema",
                 status == 200 and nbsp_answer_ok(status, ctype, body),
                 f"{status} {ctype} {body} "
                 f"{nbsp_schema.problems('BootstrappingInfoResponse', body)}")
    if isinstance(body, dict):
        me = str(body.get("meKeyMaterial", ""))
        checks.check(f"Nbsp/{version}: meKeyMaterial is Ks_NAF (64 hex digits; check value as derived)",
                     len(me) == 64 and nbsp_schema.kcv(me) == ks_naf, f"kcv {ks_naf}")
        uss = [u.get("uss", {}) for u in body.get("ussList", [])]
        checks.check(f"Nbsp/{version}: ussList carries the oneM2M CSE-ID as a ueId, gbaType 3G_GBA, impi",
                     any({"ueId": CSE_ID} in u.get("ueIds", []) for u in uss) and
                     body.get("gbaType") == "3G_GBA" and body.get("impi") == ALICE, str(body))
    cases = (
        ("no client certificate", json.dumps(good), False, 403, "NAF_NOT_AUTHORIZED"),
        ("unknown btId", json.dumps(nbsp_request(random_btid())), True, 404, "BTID_NOT_FOUND"),
        ("another NAF's nafFqdn", json.dumps(nbsp_request(btid, NAF2)), True, 403,
         "NAF_NOT_AUTHORIZED"),
        ("not JSON", "{bad", True, 400, "MANDATORY_IE_INCORRECT"),
        ("no nafId", json.dumps({"btId": btid}), True, 400, "MANDATORY_IE_MISSING"),
        ("nafId as the old base64 string",
         json.dumps({"btId": btid, "nafId": base64.b64encode(NAF.encode()).decode()}), True,
         400, "MANDATORY_IE_INCORRECT"),
        ("uaSecProtId of 8 digits", json.dumps(nbsp_request(btid, ua="01000000")), True, 400,
         "MANDATORY_IE_INCORRECT"),
        ("gsIds with a negative item", json.dumps(nbsp_request(btid, gsIds=[-1])), True, 400,
         "MANDATORY_IE_INCORRECT"),
        ("gbaUAware not a boolean", json.dumps(nbsp_request(btid, gbaUAware="yes")), True, 400,
         "MANDATORY_IE_INCORRECT"),
    )
    for name, data, cert, want, cause in cases:
        if want == 400:
            try:
                req = json.loads(data)
            except ValueError:
                req = data
            checks.check(f"Nbsp/{version}: {name}: the schema refuses the request too",
                         bool(nbsp_schema.problems("BootstrappingInfoRequest", req)))
        status, ctype, body = post(data, cert=cert)
        checks.check(f"Nbsp/{version}: {name} -> {want} {cause}, a ProblemDetails per the schema",
                     status == want and nbsp_answer_ok(status, ctype, body) and
                     body.get("cause") == cause and "meKeyMaterial" not in str(body),
                     f"{status} {ctype} {body}")
    status, ctype, body = post(json.dumps(good),
                                           ctype="text/plain")
    checks.check(f"Nbsp/{version}: Content-Type text/plain -> 415 ProblemDetails",
                 status == 415 and nbsp_answer_ok(status, ctype, body), f"{status} {body}")
    status, ctype, body = post(json.dumps(good), url="{base}/nbsp-gba/v1/bootstrapping-info")
    checks.check(f"Nbsp/{version}: the old path -> 404 ProblemDetails",
                 status == 404 and nbsp_answer_ok(status, ctype, body), f"{status} {body}")


def test_metrics(admin):
    text = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10).read().decode()
    def val(result):
        m = re.search(rf'gba_bsf_zn_answers_total{{result="{result}"}} (\d+)', text)
        return int(m.group(1)) if m else -1
    checks.check("metrics: Zn keys, 5403 and 5402 counted",
                 val("keys") >= 5 and val("unknown_btid") >= 2 and val("not_authorized") >= 2,
                 re.findall(r"gba_bsf_zn.*", text))


def process_stopped(pid):
    """True once the kernel shows the process as stopped (state T)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except (OSError, IndexError):
        return False


def test_dead_bsf(procs, a, bsf, btid):
    a.cmd(f"forget {btid}")
    bsf.send_signal(signal.SIGSTOP)
    stopped_by = time.monotonic() + 5
    while time.monotonic() < stopped_by and not process_stopped(bsf.pid):
        time.sleep(0.01)
    try:
        t0 = time.monotonic()
        f = a.fetch(btid, NAF)
        took = (time.monotonic() - t0) * 1000
        checks.check(f"stopped BSF: GBA_ERR_TIMEOUT within {TIMEOUT_MS} ms + 1 s",
                     f["err"] == "GBA_ERR_TIMEOUT" and took < TIMEOUT_MS + 1500,
                     f"{f} in {took:.0f} ms")
    finally:
        bsf.send_signal(signal.SIGCONT)
    checks.check("gba-bsf stops cleanly (exit 0; ASan/LSan clean in that build)",
                 procs.stop("bsf") == 0)
    deadline = time.monotonic() + 10
    f = {"err": "?"}
    while time.monotonic() < deadline:
        a.cmd(f"forget {btid}")
        f = a.fetch(btid, NAF)
        if f["err"] == "GBA_ERR_UNAVAILABLE":
            break
        time.sleep(0.2)
    checks.check(f"BSF gone: GBA_ERR_UNAVAILABLE, fast ({f.get('ms')} ms)",
                 f["err"] == "GBA_ERR_UNAVAILABLE" and f["ms"] < TIMEOUT_MS, str(f))


def test_peer_list(procs, db, store):
    """zn.peers: only the NAFs it names (by identity, or *.domain) may connect."""
    zn_port = gbatest.free_port()
    ca = gbatest.TestCA(procs.dir, "peers-ca")
    start_bsf(procs, db, store, zn_port, name="bsf-peers", ca=ca,
              extra=("--set", f"zn.peers=other.example.org {NAF} *.m2m.zn.test"))
    named = Probe(procs, "naf-listed", zn_port, NAF, *tls_probe_args(ca, NAF))
    wild = Probe(procs, "naf-wild", zn_port, "gw.m2m.zn.test",
                 *tls_probe_args(ca, "gw.m2m.zn.test"))
    other = Probe(procs, "naf-unlisted", zn_port, NAF2, *tls_probe_args(ca, NAF2))
    for p in (named, wild, other):
        checks.check(f"zn-probe {p.name} ready", p.line() == "ready")
    checks.check("zn.peers: a NAF listed by identity connects",
                 named.cmd("wait-peer 5000") == "wait-peer GBA_OK")
    checks.check("zn.peers: a NAF under a listed *.domain connects",
                 wild.cmd("wait-peer 5000") == "wait-peer GBA_OK")
    checks.check("zn.peers: an unlisted NAF is refused",
                 other.cmd("wait-peer 1500") != "wait-peer GBA_OK")
    checks.check("zn.peers: the refusal is logged with the identity",
                 f"refusing unknown peer {NAF2}" in procs.log("bsf-peers"))
    for p in (named, wild, other):
        p.quit()
    checks.check("gba-bsf (zn.peers) stops cleanly", procs.stop("bsf-peers") == 0)
    bad = gbatest.run([BSF_BIN, "--set", "bsf.state_dir=" + procs.dir, "--listen",
                       f"127.0.0.1:{gbatest.free_port()}", "--admin-listen", "off",
                       "--domain", DOMAIN, "--db", db, "--store", store,
                       "--set", "zn.enabled=on", "--set", f"zn.port={gbatest.free_port()}",
                       "--set", f"zn.identity={BSF_ID}", "--set", f"zn.realm={REALM}",
                       "--set", "zn.transport=tcp",
                       "--set", "zn.peers=ok.zn.test bad\"name"], timeout=20)
    checks.check("zn.peers with a malformed name: gba-bsf refuses to start",
                 bad.returncode != 0, bad.stdout + bad.stderr)


def test_tls_peers(procs, db, store, btid):
    """Zn over TLS (the default): a NAF listed in zn.peers is let in only
    with a certificate from zn.tls_ca that names the identity of its CER.
    The refusals come from a hand-written client (diameter_raw), which
    does what freeDiameter will not: claim an identity its certificate
    does not name, or talk plain TCP to the TLS port."""
    zn_port = gbatest.free_port()
    ca = gbatest.TestCA(procs.dir, "tls-ca")
    start_bsf(procs, db, store, zn_port, name="bsf-tls", ca=ca,
              extra=("--set", f"zn.peers={NAF} {NAF2}", "--set", "zn.policy=allow"))
    naf_id = NAF.encode() + bytes.fromhex("0100000002")   # HTTP Digest Ua
    btid = btid or random_btid()
    good_cert, good_key = ca.issue(NAF)
    other_cert, other_key = ca.issue(NAF2)
    rogue = gbatest.TestCA(procs.dir, "rogue-ca")
    rogue_cert, rogue_key = rogue.issue(NAF)
    cases = [
        ("a listed name, no certificate (plain TCP to the TLS port)", None),
        ("a listed name, the CA's certificate for another listed NAF",
         (other_cert, other_key, ca.cert)),
        ("a listed name, a certificate for it from another CA",
         (rogue_cert, rogue_key, ca.cert)),
    ]
    for what, tls in cases:
        c = diameter_raw.Client(zn_port, NAF, REALM, diameter_raw.APP_ZN, tls=tls)
        code = c.cer()
        ans = c.bir(btid, naf_id, BSF_ID, DOMAIN) if c.sock else None
        c.close()
        checks.check(f"Zn TLS: {what}: CER refused", code != 2001,
                     f"{code} {c.handshake_error or ''}")
        checks.check(f"Zn TLS: {what}: no Ks_NAF", not ans or 405 not in ans, str(ans))
    checks.check("Zn TLS: the wrong identity is logged",
                 f"refusing peer {NAF}: its certificate does not name it" in procs.log("bsf-tls"))

    p = Probe(procs, "naf-tls", zn_port, NAF, "--tls-cert", good_cert, "--tls-key", good_key,
              "--tls-ca", ca.cert)
    checks.check("Zn TLS: zn-probe with its certificate connects", p.line() == "ready" and
                 p.cmd("wait-peer 5000") == "wait-peer GBA_OK")
    if btid:
        f = p.fetch(btid, NAF)
        checks.check("Zn TLS: libgba-naf gets Ks_NAF over TLS", f["err"] == "GBA_OK" and
                     "ks_naf" in f, str(f))
    checks.check("Zn TLS: zn-probe exits cleanly", p.quit())
    c = diameter_raw.Client(zn_port, NAF, REALM, diameter_raw.APP_ZN,
                            tls=(good_cert, good_key, ca.cert))
    code = c.cer()
    ans = c.bir(btid, naf_id, BSF_ID, DOMAIN) if code == 2001 else None
    c.close()
    checks.check("Zn TLS: the right certificate: CEA 2001", code == 2001, str(code))
    checks.check("Zn TLS: the right certificate: BIA with Ks_NAF (32 octets)",
                 ans is not None and len(ans.get(405, [b""])[0]) == 32, str(ans))
    checks.check("gba-bsf (TLS) stops cleanly", procs.stop("bsf-tls") == 0)


def test_tshark(cap):
    if cap is None:
        print("skip tshark checks: no tshark or no capture")
        return
    checks.check("tshark saw the whole run", cap.stop())
    read = cap.read
    summary = read("-Y", "diameter")
    # Wireshark's dictionary spells the command "Boostrapping-Info".
    checks.check("tshark: Bootstrapping-Info Request(310) on 3GPP Zn(16777220)",
                 re.search(r"Boot?strapping-Info Request\(310\).*3GPP Zn\(16777220\)", summary),
                 summary[-2000:])
    checks.check("tshark: Bootstrapping-Info Answer(310) on 3GPP Zn(16777220)",
                 re.search(r"Boot?strapping-Info Answer\(310\).*3GPP Zn\(16777220\)", summary))
    detail = read("-Y", "diameter.cmd.code==310", "-V")
    for avp in ("Transaction-Identifier(401)", "NAF-Hostname(402)", "ME-Key-Material(405)",
                "UICC-Key-Material(406)", "Key-ExpiryTime(404)",
                "BootstrapInfoCreationTime(408)", "GBA-UserSecSettings(400)",
                "GBA_U-Awareness-Indicator(407)", "GBA-Type(410)", "User-Name(1)",
                "Experimental-Result-Code(298)"):
        checks.check(f"tshark: AVP {avp}", re.search(rf"AVP: (3GPP-)?{re.escape(avp)}", detail),
                     "")
    checks.check("tshark: 5403 DIAMETER_ERROR_TRANSACTION_IDENTIFIER_INVALID seen",
                 "5403" in detail)
    bad, expert = cap.problems()
    checks.check("tshark: no malformed packet, no Diameter expert warning or error",
                 not bad, bad[-2000:])
    checks.check("tshark: expert summary has no Warns/Errors outside TCP analysis",
                 not expert, str(expert))


def test_zh_and_zn(procs, db, store):
    """gba-bsf with av.source = zh and Zn on: one node, two applications."""
    hss_port, zn_port = gbatest.free_port(), gbatest.free_port()
    ca = gbatest.TestCA(procs.dir, "zh-ca")
    procs.start("hss", [HSS_BIN, "--db", db, "--listen", f"127.0.0.1:{hss_port}",
                        "--identity", HSS_ID, "--realm", REALM, *ca.hss_args(HSS_ID)],
                wait_port=hss_port)
    port = gbatest.free_port()
    bsf = procs.start("bsf-zh", [
        BSF_BIN, "--set", "bsf.state_dir=" + procs.dir, "--listen", f"127.0.0.1:{port}",
        "--admin-listen", "off", "--domain", DOMAIN, "--store", store, "--source", "zh",
        "--set", f"zh.origin_host={BSF_ID}", "--set", f"zh.origin_realm={REALM}",
        "--set", "zh.hss_host=127.0.0.1", "--set", f"zh.hss_port={hss_port}",
        "--set", f"zh.hss_realm={REALM}", "--set", f"zh.hss_identity={HSS_ID}",
        "--set", "zn.enabled=on", "--set", f"zn.port={zn_port}",
        *ca.bsf_args(BSF_ID)], wait_port=port)
    gbatest.wait_port(zn_port, 10.0, bsf)
    c = Probe(procs, "naf-zh", zn_port, NAF, *tls_probe_args(ca, NAF))
    checks.check("Zh + Zn: NAF connected to the BSF", c.line() == "ready" and
                 c.cmd("wait-peer 5000") == "wait-peer GBA_OK")
    r = ue(procs, f"http://127.0.0.1:{port}/", ALICE, "alice.sqn", "--naf", NAF)
    if checks.check("Zh + Zn: gba-test-ue bootstraps with a vector from the HSS",
                    r.get("result") == "ok", str(r)):
        f = c.fetch(r["btid"], NAF)
        checks.check("Zh + Zn: the NAF gets the UE's Ks_NAF and the GUSS from the HSS",
                     f["err"] == "GBA_OK" and f.get("ks_naf") == r["ks_naf_kcv"] and
                     f.get("uid") == CSE_ID, str(f))
    checks.check("Zh + Zn: probe exits cleanly", c.quit())
    test_hss_impostor(procs, ca, zn_port, port, r.get("btid"))
    checks.check("Zh + Zn: gba-bsf stops cleanly (exit 0)", procs.stop("bsf-zh") == 0)


def test_hss_impostor(procs, ca, zn_port, ub_port, btid):
    """The HSS is a peer the BSF configured, so freeDiameter does not ask
    the validation callback when a client of the Zn port claims its
    identity.  With the HSS down, a NAF's certificate claiming to be the HSS
    gets nowhere: no keys, no MAR routed to it."""
    procs.stop("hss")
    cert, key = ca.issue(NAF, name="impostor")
    deadline = time.monotonic() + 10
    code = None
    while time.monotonic() < deadline:   # until the BSF has seen the HSS go
        c = diameter_raw.Client(zn_port, HSS_ID, REALM, diameter_raw.APP_ZN,
                                tls=(cert, key, ca.cert))
        code = c.cer()
        if code is not None:
            break
        c.close()
        time.sleep(0.3)
    if code == 2001:
        ans = c.bir(btid or random_btid(), NAF.encode() + bytes.fromhex("0100010002"), BSF_ID,
                    DOMAIN)
        checks.check("HSS impostor (a NAF's certificate): no Ks_NAF for its BIR",
                     ans is None or 405 not in ans, str(ans))
        r = ue(procs, f"http://127.0.0.1:{ub_port}/", ALICE, "alice.sqn")
        checks.check("HSS impostor: no MAR routed to it (the UE gets no challenge from it)",
                     r.get("result") != "ok", str(r))
    else:
        checks.check("HSS impostor: refused at CER", True)
    c.close()
    checks.check("HSS impostor: the BSF logs that the certificate does not name it",
                 f"its certificate does not name {HSS_ID}" in procs.log("bsf-zh"),
                 procs.log("bsf-zh")[-1500:])


def test_no_secrets_in_logs(procs):
    """Every Ks_NAF / Ks_ext_NAF / Ks_int_NAF the probes got, in hex, must be in
    no process's log (the BSF logs at debug level in this test)."""
    try:
        with open(os.path.join(procs.dir, "secrets.txt")) as f:
            keys = {line.strip() for line in f if line.strip()}
    except OSError:
        keys = set()
    logs = "".join(procs.log(n) for n in ("bsf", "naf", "naf2", "bsf-zh", "naf-zh",
                                          "hss", "naf-http", "naf-rogue", "bsf-peers",
                                          "naf-listed", "naf-wild", "naf-unlisted",
                                          "bsf-tls", "naf-tls")).lower()
    leaked = [k for k in keys if k in logs]
    checks.check(f"no log shows any of the {len(keys)} NAF keys fetched",
                 len(keys) >= 6 and not leaked, str(leaked))


def main():
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        # commit_ms=0 on every handle: the probes plant sessions in the BSF's
        # store, and with group commit the BSF's reads share one transaction
        # (lib/store), which would keep showing it the rows of before.
        store = "sqlite:" + os.path.join(procs.dir, "sessions.db") + "?commit_ms=0"
        add_subscriber(procs, db, ALICE, GUSS_ALICE)
        add_subscriber(procs, db, CAROL, GUSS_CAROL)
        zn_port = gbatest.free_port()
        cap = tshark.start(procs, TSHARK, zn_port, "zn.pcap")
        pki = make_certs(procs)
        bsf, url, admin = start_bsf(procs, db, store, zn_port, pki)
        # The run tshark decodes: explicit plain TCP (tshark cannot read TLS).
        a = Probe(procs, "naf", zn_port, NAF, "--gba-u-aware", "--store", store,
                  "--transport", "tcp")
        b = Probe(procs, "naf2", zn_port, NAF2, "--cache", "off", "--store", store,
                  "--transport", "tcp")
        checks.check("zn-probe (NAF, GBA_U-aware) ready", a.line() == "ready")
        checks.check("zn-probe (NAF2, unaware, no cache) ready", b.line() == "ready")
        checks.check("NAF connected to the BSF", a.cmd("wait-peer 5000") == "wait-peer GBA_OK")
        checks.check("NAF2 connected to the BSF", b.cmd("wait-peer 5000") == "wait-peer GBA_OK")
        btid = test_gba_me(procs, url, a)
        test_gba_u(procs, url, a, b)
        test_refusals(procs, url, a, b, btid)
        if btid:
            test_malformed(a, bsf, btid)
        if btid and pki:
            test_http(procs, pki, btid)
        elif not pki:
            print("skip Zn over HTTPS: no certtool")
        test_metrics(admin)
        log = procs.log("bsf")
        checks.check("BSF log names no IMPI in Zn lines",
                     not any("zn:" in l and "alice@" in l for l in log.splitlines()))
        if btid:
            test_dead_bsf(procs, a, bsf, btid)
        checks.check("zn-probe NAF exits cleanly", a.quit())
        checks.check("zn-probe NAF2 exits cleanly", b.quit())
        test_tshark(cap)
        test_peer_list(procs, db, store)
        test_tls_peers(procs, db, store, btid)
        if HSS_BIN:
            test_zh_and_zn(procs, db, store)
        else:
            print("skip Zh + Zn: no gba-hss-sim")
        test_no_secrets_in_logs(procs)
        if checks.failed:
            for name in ("bsf", "naf", "naf2", "bsf-zh", "naf-zh", "hss", "bsf-tls", "naf-tls"):
                print(f"---- {name} log (tail)\n" + procs.log(name)[-3000:], file=sys.stderr)
    checks.finish()


if __name__ == "__main__":
    main()
