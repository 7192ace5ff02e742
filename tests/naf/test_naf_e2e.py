"""gba-naf end to end, every part a real process on 127.0.0.1:

    m2m-node --Ub--> gba-bsf (embedded subscriber, Zn on)
    m2m-node --Ua (Digest | TLS-PSK)--> gba-naf --Zn (freeDiameter)--> gba-bsf
    gba-target --TLS-PSK--> gba-naf

Checks: Km at the node equals Km at the NAF (check values), a session key
registered by the node and retrieved by the target is the same Kc on all
three, both Ua ways, and each error case gives a clear error and stores
nothing.  Then two gba-naf (A and B) share one redis-server (a free
127.0.0.1 port): a key registered through A is retrieved through B, and a
revocation through A's admin port holds at B.  The /metrics pages of gba-naf
and gba-bsf, parsed as Prometheus does: build info, the BSF peer up (down once
the BSF stops), enrolments by Ua protocol, and Zn counted alike at both ends.

    python3 test_naf_e2e.py GBA_BSF GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET [GBA_CLIENT]
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bsf"))
import bsfenv  # noqa: E402
import gbatest  # noqa: E402
import promtext  # noqa: E402
import testpki  # noqa: E402

FQDN = "naf.test.example.org"
TARGET, TARGET_PSK = "/in-cse-target", "00112233445566778899aabbccddeeff"
OTHER, OTHER_PSK = "/in-cse-other", "ffeeddccbbaa99887766554433221100"


class Env:
    def __init__(self, procs, argv):
        self.procs = procs
        self.bsf_bin, self.naf_bin, self.subscriber, self.node_bin, self.target_bin = argv[1:6]
        self.client_bin = argv[6] if len(argv) > 6 else None
        self.zn_port = gbatest.free_port()
        self.ca = gbatest.TestCA(procs.dir)   # Zn over TLS, the default

    def start_bsf(self):
        db = os.path.join(self.procs.dir, "subscribers.db")
        tools = bsfenv.Tools([None, self.bsf_bin, "unused", self.subscriber])
        bsfenv.add_subscriber(tools, db)
        extra = {
            "zn.enabled": "on", "zn.listen": "127.0.0.1", "zn.port": str(self.zn_port),
            "zn.identity": "bsf.test.example.org", "zn.realm": "test.example.org",
            "zn.accept_unknown_peers": "yes", "zn.policy": "allow",
            **dict(a.split("=", 1) for a in self.ca.bsf_args("bsf.test.example.org")[1::2])}
        # Zn as Nbsp_GBA too, for a gba-naf with zn.transport = nbsp.
        self.pki = testpki.make_certs(os.path.join(self.procs.dir, "pki"),
                                      "bsf.test.example.org", {"naf": FQDN})
        self.nbsp_port = gbatest.free_port()
        if self.pki:
            extra.update({"zn.http_listen": f"127.0.0.1:{self.nbsp_port}",
                          "zn.http_tls_cert": self.pki["server"][1],
                          "zn.http_tls_key": self.pki["server"][0],
                          "zn.http_tls_ca": self.pki["ca"][1]})
        extra.update(getattr(self, "bsf_extra", {}))
        self.bsf = bsfenv.Bsf(self.procs, tools, db=db, extra=extra)
        self.bsf.start()
        gbatest.wait_port(self.zn_port, 10.0, self.bsf.proc)
        if self.pki:
            gbatest.wait_port(self.nbsp_port, 10.0, self.bsf.proc)

    def nbsp_args(self):
        """The --set options of a gba-naf that speaks Nbsp_GBA to this BSF (over the
        file's [zn]: a key given twice in a file is refused)."""
        zn = {"transport": "nbsp", "api_root": f"https://127.0.0.1:{self.nbsp_port}",
              "tls_cert": self.pki['naf'][1], "tls_key": self.pki['naf'][0],
              "tls_ca": self.pki['ca'][1]}
        return [a for k, v in zn.items() for a in ("--set", f"zn.{k}={v}")]

    def naf_conf(self, name, ports, fqdn=FQDN, identity=FQDN, store=None, extra=""):
        """gba-naf's config file for these ports (0600, as it holds target PSKs)."""
        conf = os.path.join(self.procs.dir, name + ".conf")
        cert, key = self.ca.issue(identity, name=name + "-zn")
        with open(conf, "w") as f:
            f.write(f"""# written by test_naf_e2e.py
[naf]
fqdn = {fqdn}
state_dir = {self.procs.dir}
[ua]
digest_listen = 127.0.0.1:{ports['digest']}
tls_listen = 127.0.0.1:{ports['tls']}
[admin]
listen = 127.0.0.1:{ports['admin']}
[store]
uri = {store or f"sqlite:{self.procs.dir}/{name}-keys.db"}
[policy]
key_lifetime = 1h
min_key_lifetime = 1
[zn]
identity = {identity}
realm = test.example.org
bsf_identity = bsf.test.example.org
bsf_address = 127.0.0.1
bsf_port = {self.zn_port}
timeout_ms = 1500
tls_cert = {cert}
tls_key = {key}
tls_ca = {self.ca.cert}
[targets]
{TARGET} = {TARGET_PSK}
{OTHER} = {OTHER_PSK}
[log]
level = debug
{extra}""")
        os.chmod(conf, 0o600)
        return conf

    def start_naf(self, name="naf", fqdn=FQDN, identity=FQDN, store=None, extra="", env=None,
                  args=()):
        """A gba-naf on free ports; extra is appended to its config file, args are more
        command-line options (--set ...)."""
        ports = {k: gbatest.free_port() for k in ("digest", "tls", "admin")}
        conf = self.naf_conf(name, ports, fqdn, identity, store, extra)
        proc = self.procs.start(name, [self.naf_bin, "--config", conf, *args],
                                wait_port=ports["tls"], env=env)
        gbatest.wait_port(ports["admin"], 10.0, proc)
        gbatest.wait_port(ports["digest"], 10.0, proc)
        return dict(ports, name=name, fqdn=fqdn)

    def node(self, naf, what, *extra, timeout=60):
        argv = [self.node_bin, "--bsf", self.bsf.url, "--impi", bsfenv.IMPI, "--k-file", "-",
                "--naf-host", "127.0.0.1", "--fqdn", naf["fqdn"],
                "--digest-port", str(naf["digest"]), "--tls-port", str(naf["tls"]),
                "--do", what, *extra]
        return parse(gbatest.run(argv, timeout=timeout,
                                 input=gbatest.keys_text(bsfenv.K, bsfenv.OPC)))

    def target(self, naf, key_id, cse=TARGET, psk=TARGET_PSK, *extra):
        path = os.path.join(self.procs.dir, "psk-" + re.sub(r"\W", "_", cse))
        with open(path, "w") as f:
            f.write(psk + "\n")
        os.chmod(path, 0o600)
        argv = [self.target_bin, "--naf", f"127.0.0.1:{naf['tls']}", "--fqdn", naf["fqdn"],
                "--cse-id", cse, "--psk-file", path, "--key-id", key_id, *extra]
        return parse(gbatest.run(argv, timeout=30))

    def admin(self, naf, method, path):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", naf["admin"], timeout=10)
        try:
            c.request(method, path)
            r = c.getresponse()
            body = r.read().decode()
            try:
                return r.status, json.loads(body)
            except ValueError:
                return r.status, {"raw": body}
        finally:
            c.close()

    def stats(self, naf):
        return self.admin(naf, "GET", "/admin/stats")[1]


def page(port):
    return promtext.scrape(f"http://127.0.0.1:{port}/metrics")


def moved(before, after, name, **labels):
    return (after.get(name, **labels) or 0) - (before.get(name, **labels) or 0)


BSF_ID = "bsf.test.example.org"


def metrics_checks(env, naf, c, n0, b0):
    """After one digest and two TLS-PSK enrolments (n0, b0: the NAF's and the
    BSF's pages before them)."""
    n1, b1 = page(naf["admin"]), page(env.bsf.admin_port)
    words = gbatest.run([env.naf_bin, "--version"]).stdout.split()
    c("metrics: gba-naf: gba_build_info as --version says",
      n1.get("gba_build_info", program="gba-naf", version=words[1],
             libgba=words[-1].rstrip(")")) == 1, n1.labels("gba_build_info"))
    c("metrics: gba-naf sees the BSF up", n1.get("gba_diameter_peer_up", peer=BSF_ID) == 1,
      n1.labels("gba_diameter_peer_up"))
    enrol = {ua: moved(n0, n1, "gba_naf_ua_requests_total", ua=ua, request="enrol", result="ok")
             for ua in ("digest", "tls1.2", "tls1.3")}
    c("metrics: enrolments by Ua protocol (1 digest, 2 TLS 1.2)",
      enrol == {"digest": 1, "tls1.2": 2, "tls1.3": 0}, enrol)
    zn = {
        "naf BIR out": moved(n0, n1, "gba_diameter_requests_total", peer=BSF_ID,
                             direction="out", command="BIR"),
        "naf BIA in 2001": moved(n0, n1, "gba_diameter_answers_total", peer=BSF_ID,
                                 direction="in", command="BIA", result="2001"),
        "naf Zn requests": moved(n0, n1, "gba_naf_zn_requests_total", transport="diameter"),
        "bsf BIR in": moved(b0, b1, "gba_diameter_requests_total", peer=FQDN, direction="in",
                            command="BIR"),
        "bsf BIA out 2001": moved(b0, b1, "gba_diameter_answers_total", peer=FQDN,
                                  direction="out", command="BIA", result="2001"),
        "bsf Zn keys": moved(b0, b1, "gba_bsf_zn_answers_total", result="keys"),
    }
    looked_up = moved(n0, n1, "gba_naf_zn_fetches_total", transport="diameter", result="ok")
    hits = moved(n0, n1, "gba_naf_zn_cache_hits_total")
    c("metrics: every BIR counted once at both ends (NAF out = BSF in = answers 2001)",
      zn["naf BIR out"] > 0 and len(set(zn.values())) == 1, zn)
    c("metrics: Zn look-ups = BIRs + cache hits, all ok",
      looked_up == zn["naf BIR out"] + hits, (looked_up, zn["naf BIR out"], hits))


def parse(r):
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {"raw": r.stdout + r.stderr}
    out["_rc"] = r.returncode
    out["_stderr"] = r.stderr
    return out


def digest_raw(naf, auth=None, path="/m2m/enrol"):
    req = f"POST {path} HTTP/1.1\r\nHost: {FQDN}\r\nContent-Length: 0\r\n"
    if auth:
        req += f"Authorization: {auth}\r\n"
    status, headers, body = bsfenv.raw_request(naf["digest"], (req + "\r\n").encode())
    try:
        j = json.loads(body)
    except ValueError:
        j = {}
    return status, headers, j


def nonce_of(headers):
    m = re.search(r'nonce="([^"]+)"', headers.get("www-authenticate", ""))
    return m.group(1) if m else ""


def fake_btid():
    return base64.b64encode(os.urandom(16)).decode() + "@" + bsfenv.DOMAIN


def authorization(btid, nonce, response="0" * 32, uri="/m2m/enrol"):
    return (f'Digest username="{btid}", realm="3GPP-bootstrapping@{FQDN}", nonce="{nonce}", '
            f'uri="{uri}", qop=auth-int, nc=00000001, cnonce="abcdef", response="{response}"')


def gnutls_cli(port, identity, key_hex, sni=None):
    """A TLS-PSK handshake by GnuTLS's own client; returns its output."""
    argv = ["gnutls-cli", "-p", str(port), "--pskusername", identity, "--pskkey", key_hex,
            "--priority", "NONE:+VERS-TLS1.2:+PSK:+AES-128-CBC:+SHA256:+COMP-NULL:+SIGN-ALL",
            "--insecure", "127.0.0.1"]
    if sni is None:
        argv.insert(1, "--disable-sni")
    else:
        argv[1:1] = ["--sni-hostname", sni]
    r = subprocess.run(argv, input=f"GET /nothing HTTP/1.1\r\nHost: {FQDN}\r\n\r\n",
                       capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def client(env, naf, via, *args):
    card = os.path.join(env.procs.dir, "card.key")
    with open(card, "w") as f:
        f.write(f"imsi = 001010000000001\nmnc_len = 2\nalgorithm = milenage\n"
                f"k = {bsfenv.K}\nopc = {bsfenv.OPC}\n")
    os.chmod(card, 0o600)
    port = naf["digest"] if via == "digest" else naf["tls"]
    argv = [env.client_bin, "--card", "soft:" + card, "--context",
            os.path.join(env.procs.dir, "client.ctx"), "--bsf", env.bsf.url, "--json",
            "--timeout", "5000", "--naf", naf["fqdn"], "-o", f"naf-addr=127.0.0.1:{port}",
            "-o", f"via={via}", *args]
    return parse(gbatest.run(argv, timeout=60))


def client_checks(env, naf, c):
    r = client(env, naf, "tls", "m2m-enrol")
    c("gba-client m2m-enrol (TLS-PSK): KmID = B-TID, Km KCV node == NAF",
      r["_rc"] == 0 and r.get("kmid") == r.get("btid") and r.get("km_kcv")
      and r.get("km_kcv") == r.get("km_kcv_naf") and "km" not in r, r)
    for form in ("comma", "bare"):
        r = client(env, naf, "tls", "-o", f"psk-identity={form}", "m2m-enrol")
        c(f"gba-client m2m-enrol -o psk-identity={form}: KmID = B-TID, Km KCV node == NAF",
          r["_rc"] == 0 and r.get("kmid") == r.get("btid") and r.get("km_kcv")
          and r.get("km_kcv") == r.get("km_kcv_naf"), r)
    r = client(env, naf, "digest", "m2m-enrol")
    c("gba-client m2m-enrol (Digest): Km KCV node == NAF",
      r["_rc"] == 0 and r.get("km_kcv") == r.get("km_kcv_naf"), r)
    r = client(env, naf, "tls", "-o", f"target={TARGET}", "m2m-session")
    t = env.target(naf, r.get("key_id", "x"))
    c("gba-client m2m-session: Kc KCV node == NAF == target",
      r["_rc"] == 0 and r.get("kc_kcv") and r.get("kc_kcv") == r.get("kc_kcv_naf")
      == t.get("kc_kcv") and "kc" not in r, (r, t))
    r = client(env, naf, "tls", "--show-key", "-o", f"target={TARGET}", "m2m-session")
    t = env.target(naf, r.get("key_id", "x"), TARGET, TARGET_PSK, "--show-key")
    c("gba-client m2m-session --show-key: the same Kc at node and target",
      r["_rc"] == 0 and len(r.get("kc", "")) == 64 and r.get("kc") == t.get("kc"), (r, t))
    print(f"     gba-client: key {r.get('key_id')} Kc KCV {r.get('kc_kcv')}")


def start_redis(procs):
    """A redis-server on a free 127.0.0.1 port, no persistence; its URI."""
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("redis-server is not installed (scripts/setup.sh installs it)")
    port = gbatest.free_port()
    procs.start("redis", [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", procs.dir], wait_port=port)
    return f"redis://127.0.0.1:{port}/2?timeout_ms=2000"


def shared_redis_checks(env, c):
    """Two gba-naf behind one name, sharing one Redis key store."""
    uri = start_redis(env.procs)
    # B has its own Zn identity (one Diameter peer each); nothing below needs
    # B's Zn: the node talks to A, the target to B.
    a = env.start_naf("naf-a", store=uri)
    b = env.start_naf("naf-b", identity="naf-b.test.example.org", store=uri)
    r = env.node(a, "session", "--target", TARGET, "--suid", "7", "--lifetime", "600")
    node_id, key_id, btid = r.get("node_id", "x"), r.get("key_id", "x"), r.get("btid", "x")
    c("redis: node enrols and registers a key through NAF A",
      r.get("result") == "ok" and r.get("kc_kcv") == r.get("kc_kcv_naf"), r)
    st, rec = env.admin(b, "GET", "/admin/nodes/" + btid)
    c("redis: NAF B sees the enrolment made through A (IMPI, Km KCV)",
      st == 200 and rec.get("impi") == bsfenv.IMPI and rec.get("km_kcv") == r.get("km_kcv"),
      (st, rec))
    t = env.target(b, key_id)
    c("redis: the target retrieves the key through NAF B: same Kc, same node",
      t.get("result") == "ok" and t.get("kc_kcv") == r.get("kc_kcv")
      and t.get("node_id") == node_id, t)
    t2 = env.target(b, key_id, OTHER, OTHER_PSK)
    c("redis: NAF B refuses a CSE that is not the target (403)", t2.get("status") == 403, t2)
    st, rv = env.admin(a, "POST", "/admin/revoke/" + node_id)
    c("redis: revoked through A's admin port", st == 200 and btid in rv.get("kmids", []), rv)
    t = env.target(b, key_id)
    c("redis: NAF B honours it: the key is gone (404)", t.get("status") == 404, t)
    st, _ = env.admin(b, "GET", "/admin/nodes/" + btid)
    c("redis: NAF B honours it: the enrolment is gone", st == 404, st)
    sb = env.stats(b)
    c("redis: NAF B counts the revocations, no node and no key",
      sb.get("revoked", 0) >= 1 and sb.get("nodes") == 0 and sb.get("keys") == 0, sb)
    r2 = env.node(a, "enrol-tls")
    c("redis: revoked node refused at A", r2.get("result") == "error", r2)
    st, _ = env.admin(b, "DELETE", "/admin/revoke/" + node_id)
    st2, _ = env.admin(b, "DELETE", "/admin/revoke/" + bsfenv.IMPI)
    r3 = env.node(a, "session", "--target", TARGET)
    t = env.target(b, r3.get("key_id", "x"))
    c("redis: reinstated through B, the node registers at A again and B serves the key",
      st == 200 and st2 == 200 and r3.get("result") == "ok"
      and t.get("kc_kcv") == r3.get("kc_kcv"), (r3, t))
    for n in ("naf-a", "naf-b"):
        code = env.procs.stop(n)
        log = env.procs.log(n)
        c(f"{n}: SIGTERM, exit 0, no sanitizer report",
          code == 0 and "Sanitizer" not in log and "runtime error" not in log, log[-2000:])
    env.procs.stop("redis")


def refused(out, alert=115):
    """gnutls-cli's output of a handshake the server broke off with a fatal
    alert (115 unknown_psk_identity, 112 unrecognized_name), never a silent
    close."""
    return "Handshake was completed" not in out and f"Received alert [{alert}]" in out


def main():
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        env = Env(procs, sys.argv)
        env.start_bsf()
        naf = env.start_naf()
        c = checks.check
        n0, b0 = page(naf["admin"]), page(env.bsf.admin_port)

        # ---- Digest Ua and Km --------------------------------------------------------
        r = env.node(naf, "enrol-digest")
        c("digest Ua: enrolled (200, Authentication-Info verified by the node)",
          r.get("result") == "ok", r)
        c("digest Ua: KmID is the B-TID", r.get("kmid") == r.get("btid"), r)
        c("digest Ua: Km at the node == Km at the NAF (check values)",
          r.get("km_kcv") and r.get("km_kcv") == r.get("km_kcv_naf"), r)
        st, rec = env.admin(naf, "GET", "/admin/nodes/" + r.get("btid", "x"))
        c("admin: the enrolment is stored with IMPI, node id and Km's KCV, no key",
          st == 200 and rec.get("impi") == bsfenv.IMPI and rec.get("km_kcv") == r.get("km_kcv")
          and "km" not in rec, rec)
        print(f"     node {r.get('node_id')}, KmID {r.get('kmid')}, Km KCV {r.get('km_kcv')}")

        # ---- TLS-PSK Ua ------------------------------------------------------------
        r = env.node(naf, "enrol-tls")
        c("TLS-PSK Ua: enrolled with psk_identity = B-TID",
          r.get("result") == "ok" and r.get("km_kcv") == r.get("km_kcv_naf"), r)
        r = env.node(naf, "enrol-tls", "--identity", "prefixed")
        c("TLS-PSK Ua: \"3GPP-bootstrapping,<B-TID>\" accepted", r.get("result") == "ok", r)
        metrics_checks(env, naf, c, n0, b0)
        out = gnutls_cli(naf["tls"], TARGET.join(["oneM2M-target,", ""]), TARGET_PSK, sni=FQDN)
        c("TLS-PSK: identity hint 3GPP-bootstrapping, TLS_PSK_WITH_AES_128_CBC_SHA256 (gnutls-cli)",
          "Handshake was completed" in out and "PSK hint '3GPP-bootstrapping'" in out
          and "AES-128-CBC" in out and "SHA256" in out, out[-1500:])

        # ---- Session key: node registers, target retrieves ----------------------
        r = env.node(naf, "session", "--target", TARGET, "--suid", "22", "--lifetime", "600")
        ok = c("session key registered over TLS-PSK", r.get("result") == "ok", r)
        key_id = r.get("key_id", "none")
        c("key id is relative@NAF-FQDN", key_id.endswith("@" + FQDN), key_id)
        c("Kc at the node == Kc at the NAF", ok and r.get("kc_kcv") == r.get("kc_kcv_naf"), r)
        t = env.target(naf, key_id)
        c("target retrieves Kc: same Kc on all three, and the node's identity",
          t.get("result") == "ok" and t.get("kc_kcv") == r.get("kc_kcv")
          and t.get("node_id") == r.get("node_id"), t)
        print(f"     key {key_id}, Kc KCV node {r.get('kc_kcv')} NAF {r.get('kc_kcv_naf')} "
              f"target {t.get('kc_kcv')}")
        t2 = env.target(naf, key_id, OTHER, OTHER_PSK)
        c("retrieval by a CSE that is not the target: refused (403)",
          t2.get("result") == "error" and t2.get("status") == 403 and "kc_kcv" not in t2, t2)
        t3 = env.target(naf, key_id, TARGET, OTHER_PSK)
        c("target with a wrong PSK: handshake refused",
          t3.get("result") == "error" and "handshake" in t3.get("detail", ""), t3)
        t4 = env.target(naf, "nosuchkey@" + FQDN)
        c("unknown key id: 404", t4.get("status") == 404, t4)

        # ---- gba-client m2m-enrol / m2m-session (the product's node side) --------
        if env.client_bin:
            client_checks(env, naf, c)

        # ---- Expired session key --------------------------------------------------
        r = env.node(naf, "session", "--target", TARGET, "--lifetime", "1")
        time.sleep(2.2)
        t = env.target(naf, r.get("key_id", "x"))
        c("expired session key: 404 key_unknown",
          t.get("status") == 404 and "key_unknown" in t.get("detail", ""), t)

        # ---- Errors that must store nothing ---------------------------------------
        before = env.stats(naf)
        m0 = page(naf["admin"])
        r = env.node(naf, "enrol-digest", "--fault", "wrong-password")
        c("wrong digest password: 401, clear error",
          r.get("result") == "error" and r.get("status") == 401
          and "reject" in r.get("detail", ""), r)
        r = env.node(naf, "enrol-tls", "--fault", "wrong-psk")
        c("wrong PSK: TLS handshake refused",
          r.get("result") == "error" and "handshake" in r.get("detail", ""), r)
        r = env.node(naf, "enrol-tls", "--fault", "bad-identity")
        c("bad PSK identity: TLS handshake refused", r.get("result") == "error", r)
        for ident in ["3GPP-bootstrapping-digest," + fake_btid(), "", "x" * 300]:
            out = gnutls_cli(naf["tls"], ident or "-", "00" * 32, sni=FQDN)
            c(f"bad PSK identity {ident[:30]!r}...: refused", refused(out), out[-400:])
        out = gnutls_cli(naf["tls"], "oneM2M-target," + TARGET, TARGET_PSK, sni=None)
        c("no SNI: handshake refused (unrecognized_name)", refused(out, 112), out[-400:])
        out = gnutls_cli(naf["tls"], "oneM2M-target," + TARGET, TARGET_PSK, sni="other.example")
        c("wrong SNI: handshake refused (unrecognized_name)", refused(out, 112), out[-400:])
        for body, what in [("{", "not JSON"), ('{"suid":"1","targets":[]}', "no target"),
                           ('{"suid":"1","targets":["a","b"]}', "two targets"),
                           ('{"suid":"1","targets":["x"],"evil":1}', "unknown member"),
                           ('{"suid":"a b","targets":["x"]}', "bad SUID"),
                           ('{"suid":"1","targets":["x"],"lifetime":-5}', "negative lifetime")]:
            r = env.node(naf, "raw-register", "--body", body)
            c(f"malformed registration ({what}): 400", r.get("status") == 400, r)
        st, h, j = digest_raw(naf, "Digest garbage")
        c("malformed Authorization: 400", st == 400 and j.get("error") == "bad_authorization",
          (st, j))
        st, h, j = digest_raw(naf, path="/elsewhere")
        c("unknown path: 404", st == 404, (st, j))
        m1 = page(naf["admin"])
        got = (moved(m0, m1, "gba_naf_psk_refused_total", reason="sni"),
               moved(m0, m1, "gba_naf_ua_requests_total", ua="digest", request="enrol",
                     result="bad_authorization"),
               moved(m0, m1, "gba_naf_ua_requests_total", ua="digest", request="other",
                     result="not_found"))
        c("metrics: 2 handshakes refused for SNI, 1 malformed Authorization, 1 unknown path",
          got == (2, 1, 1), got)
        after = env.stats(naf)
        c("the errors stored nothing (nodes and keys unchanged)",
          (before.get("nodes"), before.get("keys")) == (after.get("nodes"), after.get("keys")),
          (before, after))

        # ---- Nonces are single-use ------------------------------------------------------
        r = env.node(naf, "enrol-tls")   # a B-TID the BSF knows
        btid = r.get("btid", fake_btid())
        st, h, j = digest_raw(naf)
        nonce = nonce_of(h)
        c("challenge: realm 3GPP-bootstrapping@FQDN, qop auth-int",
          st == 401 and f'realm="3GPP-bootstrapping@{FQDN}"' in h.get("www-authenticate", "")
          and "auth-int" in h.get("www-authenticate", ""), h)
        st1, h1, j1 = digest_raw(naf, authorization(btid, nonce))
        st2, h2, j2 = digest_raw(naf, authorization(btid, nonce))
        c("replayed nonce: refused with a fresh challenge",
          st1 == 401 and j1.get("error") == "wrong_credentials" and st2 == 401
          and j2.get("error") == "nonce_invalid" and nonce_of(h2) not in ("", nonce), (j1, j2))

        # ---- Unknown/expired B-TID: 5403 -> re-bootstrap ------------------------------
        st, h, _ = digest_raw(naf)
        st, h, j = digest_raw(naf, authorization(fake_btid(), nonce_of(h)))
        c("unknown B-TID (5403): 401 with a fresh challenge and X-GBA-Bootstrap-Required",
          st == 401 and j.get("error") == "btid_unknown"
          and h.get("x-gba-bootstrap-required") == "true" and nonce_of(h), (st, h, j))
        r = env.node(naf, "enrol-digest", "--fault", "unknown-btid", "--rebootstrap")
        c("node told to bootstrap again does so and enrols",
          r.get("result") == "ok" and r.get("bootstraps") == 2, r)

        # ---- Unauthorized NAF (5402) ---------------------------------------------------
        naf2 = env.start_naf("naf2", fqdn="unlisted.example.net", identity="naf2.test.example.org")
        r = env.node(naf2, "enrol-digest")
        c("NAF not authorized for the user (5402): 403 not_authorized",
          r.get("result") == "error" and r.get("status") == 403
          and "not_authorized" in r.get("detail", ""), r)
        c("... and it stored nothing", env.stats(naf2).get("nodes") == 0, env.stats(naf2))

        # ---- Revocation -------------------------------------------------------------------
        r = env.node(naf, "session", "--target", TARGET)
        node_id, key_id = r.get("node_id", "x"), r.get("key_id", "x")
        st, rv = env.admin(naf, "POST", "/admin/revoke/" + node_id)
        c("admin revokes the node (all its enrolments)",
          st == 200 and r.get("btid") in rv.get("kmids", []), rv)
        t = env.target(naf, key_id)
        c("revoked node: its keys are gone", t.get("status") == 404, t)
        r2 = env.node(naf, "enrol-tls")
        c("revoked node: TLS-PSK refused even after a new bootstrap",
          r2.get("result") == "error", r2)
        r3 = env.node(naf, "enrol-digest")
        c("revoked node: Digest Ua refused (403)",
          r3.get("result") == "error" and r3.get("status") == 403, r3)
        st, _ = env.admin(naf, "DELETE", "/admin/revoke/" + node_id)
        st2, _ = env.admin(naf, "DELETE", "/admin/revoke/" + bsfenv.IMPI)
        r4 = env.node(naf, "enrol-tls")
        c("reinstated node enrols again", st == 200 and st2 == 200 and r4.get("result") == "ok",
          r4)

        # ---- Two NAFs sharing one Redis key store --------------------------------------
        # NAF A takes over the Zn identity (FQDN) of the first NAF, which stops
        # meanwhile (one Diameter peer per identity); it comes back afterwards.
        code = procs.stop("naf")
        c("naf: SIGTERM, exit 0 (before the Redis checks)", code == 0, f"exit {code}")
        shared_redis_checks(env, c)
        naf = env.start_naf()

        # ---- Zn as Nbsp_GBA (zn.transport = nbsp) ---------------------------------------
        if env.pki:
            code = procs.stop("naf")
            nb = env.start_naf("naf-nbsp", args=env.nbsp_args())
            r = env.node(nb, "enrol-digest")
            c("zn.transport = nbsp: digest Ua enrolment, Km from Nbsp_GBA == Km at the node",
              r.get("result") == "ok" and r.get("km_kcv") == r.get("km_kcv_naf"), r)
            st, h, _ = digest_raw(nb)
            st, h, j = digest_raw(nb, authorization(fake_btid(), nonce_of(h)))
            c("zn.transport = nbsp: unknown B-TID (Nbsp 404) -> 401 with a fresh challenge",
              st == 401, (st, j))
            m = page(nb["admin"])
            c("zn.transport = nbsp: metrics count Zn by transport nbsp, no Diameter peer",
              m.get("gba_naf_zn_requests_total", transport="nbsp") >= 2 and
              m.get("gba_naf_zn_fetches_total", transport="nbsp", result="unknown_btid") == 1
              and not m.labels("gba_diameter_peer_up"),
              (m.labels("gba_naf_zn_requests_total"), m.get("gba_naf_zn_fetches_total",
                                                            transport="nbsp",
                                                            result="unknown_btid")))
            code = procs.stop("naf-nbsp")
            c("naf-nbsp: SIGTERM, exit 0", code == 0, f"exit {code}")
            log = procs.log("naf-nbsp")
            c("naf-nbsp: zn.http_version 2 falls back to HTTP/1.1 on a port without h2, "
              "and the log says so", "Nbsp_GBA answers from" in log and "over HTTP/1.1" in log,
              log[-1500:])
            naf = env.start_naf()
        else:
            print("skip zn.transport = nbsp: no certtool")

        # ---- Dead BSF --------------------------------------------------------------------
        d0 = page(naf["admin"])
        env.bsf.stop()
        down = None
        for _ in range(50):
            down = page(naf["admin"]).get("gba_diameter_peer_up", peer=BSF_ID)
            if down == 0:
                break
            time.sleep(0.1)
        c("dead BSF: gba_diameter_peer_up of the BSF is 0", down == 0, down)
        st, h, _ = digest_raw(naf)
        t0 = time.monotonic()
        st, h, j = digest_raw(naf, authorization(fake_btid(), nonce_of(h)))
        took = time.monotonic() - t0
        c(f"dead BSF: 503 bsf_unavailable within the Zn timeout ({took:.1f} s)",
          st == 503 and j.get("error") == "bsf_unavailable" and took < 5, (st, j))
        d1 = page(naf["admin"])
        got = (moved(d0, d1, "gba_naf_zn_fetches_total", transport="diameter",
                     result="unavailable"),
               moved(d0, d1, "gba_naf_ua_requests_total", ua="digest", request="enrol",
                     result="bsf_unavailable"))
        c("metrics: the look-up counted unavailable, the request bsf_unavailable", got == (1, 1),
          got)

        # ---- Clean stop, no secrets in the log -------------------------------------
        for n in ("naf", "naf2"):
            code = procs.stop(n)
            log = procs.log(n)
            c(f"{n}: SIGTERM, exit 0", code == 0, f"exit {code}")
            c(f"{n}: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log,
              log[-2000:])
            c(f"{n}: no key in the log (target PSK, hex or base64)",
              TARGET_PSK not in log and OTHER_PSK not in log
              and base64.b64encode(bytes.fromhex(TARGET_PSK)).decode() not in log, "")
    checks.finish()


def require_gnutls_cli():
    if not shutil.which("gnutls-cli"):
        print("gnutls-cli (gnutls-bin) is needed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    require_gnutls_cli()
    main()
