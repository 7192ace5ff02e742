"""test_naf_ua_psk - gba-naf's TLS-PSK Ua as independent TLS stacks speak it
(shared/spec/interop.md section 1), every part a real process on 127.0.0.1:
gba-bsf (embedded subscriber, Zn on), gba-naf, gba-client (bootstraps, and
derives Ks_NAF with libgba for any Ua id), gnutls-cli and openssl s_client.

Checked, each key computed by libgba for the exact NAF_Id the handshake
implies (TS 33.220 H.3: 01 00 01 + the suite negotiated for TLS 1.2;
TS 33.222 5.4.0.2: 01 00 00 00 07 for TLS 1.3 with an external PSK):
  - every identity form: 3GPP-bootstrapping followed by '.', ',' or nothing,
    then the B-TID, and the bare B-TID;
  - each offered TLS 1.2 suite (00AE, 00A8, C0A8) and TLS 1.3, by gnutls-cli
    and by openssl s_client;
  - an enrolment over each: Km's check value is that of the handshake's
    NAF_Id and the answer names its Ua id (KmID = B-TID);
  - gba-client m2m-enrol/m2m-session: TLS 1.3 by default, each TLS 1.2
    suite when its tls-priorities narrow to it, and the fallback from a
    TLS 1.3 ClientHello to a TLS 1.2 answer (a gba-naf whose
    ua.tls_priorities has 1.2 and 00A8 only; a gnutls-serv holding the key
    libgba derives for the Ua id it negotiates): Km is Ks_NAF of the
    handshake's NAF_Id, both sides, and --trace names version, suite, Ua id;
  - SSLKEYLOGFILE: gba-client and gba-naf append the TLS secrets to it (mode
    0600) when it is set, and only then; a tshark capture of an enrolment
    decrypted with gba-client's key log shows the HTTP inside, without it not;
  - failed handshakes end with a fatal alert: a wrong key over TLS 1.2
    (bad_record_mac), an identity of no form or not a B-TID
    (unknown_psk_identity), a wrong key over TLS 1.3 (decrypt_error: the
    binder does not verify), by gnutls-cli and openssl s_client.
  - gba-naf's /metrics counts each enrolment under its TLS version.

    python3 test_naf_ua_psk.py GBA_BSF GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET GBA_CLIENT
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_naf_e2e as e2e  # noqa: E402
import gbatest  # noqa: E402
import tshark  # noqa: E402

FQDN = e2e.FQDN
GNUTLS_12 = "NONE:+VERS-TLS1.2:+PSK:+COMP-NULL:+SIGN-ALL:"
SUITES = [  # (Ua id, gnutls ciphers, openssl cipher)
    ("01000100ae", "+AES-128-CBC:+SHA256", "PSK-AES128-CBC-SHA256"),
    ("01000100a8", "+AES-128-GCM:+AEAD", "PSK-AES128-GCM-SHA256"),
    ("010001c0a8", "+AES-128-CCM-8:+AEAD", "PSK-AES128-CCM8"),
]
TLS13 = "0100000007"
GNUTLS_13 = "NONE:+VERS-TLS1.3:+PSK:+AES-128-GCM:+AEAD:+SHA256:+GROUP-ALL:+SIGN-ALL"
ENROL = (f"POST /m2m/enrol HTTP/1.1\r\nHost: {FQDN}\r\nContent-Length: 0\r\n"
         "Connection: close\r\n\r\n")


def kcv(hex_key):
    return hashlib.sha256(bytes.fromhex(hex_key)).hexdigest()[:6]


def ks_naf(env, ua_id):
    """(B-TID, Ks_NAF hex) for NAF_Id = FQDN || ua_id, by gba-client (libgba)."""
    r = e2e.client(env, {"fqdn": FQDN, "digest": 0, "tls": 0}, "digest", "--ua-id", ua_id,
                   "--show-key", "naf-key")
    return r.get("btid"), r.get("ks_naf")


def gnutls_cli(port, identity, key, priority, request=ENROL):
    argv = ["gnutls-cli", "-p", str(port), "--sni-hostname", FQDN, "--pskusername", identity,
            "--pskkey", key, "--priority", priority, "--insecure", "127.0.0.1"]
    r = subprocess.run(argv, input=request, capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def openssl(port, identity, key, args, request=ENROL):
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", FQDN,
            "-psk_identity", identity, "-psk", key, "-ign_eof", *args]
    r = subprocess.run(argv, input=request, capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def enrolled(out):
    """The JSON answer of the enrolment in a TLS client's output, or {}."""
    i = out.find('{"kmid"')
    if i < 0:
        return {}
    try:
        return json.JSONDecoder().raw_decode(out[i:])[0]
    except ValueError:
        return {}


def client_checks(env, naf, keys, c):
    """gba-client's Ua: the key follows what the handshake negotiated."""
    r = e2e.client(env, naf, "tls", "--trace", "m2m-enrol")
    c("gba-client m2m-enrol: TLS 1.3 by default, Km = Ks_NAF(01 00 00 00 07) both sides",
      r["_rc"] == 0 and r.get("tls_version") == "TLS1.3" and r.get("km_ua_id") == TLS13
      and r.get("km_ua_id_naf") == TLS13 and r.get("km_kcv") == kcv(keys[TLS13])
      == r.get("km_kcv_naf"), r)
    c("gba-client --trace: version, suite and Ua id of the handshake",
      "Ua TLS-PSK: TLS1.3, TLS_AES_128_GCM_SHA256, psk_identity 3GPP-bootstrapping."
      in r.get("_stderr", "") and "Km's Ua id 0100000007" in r.get("_stderr", ""), r)
    for ua, ciphers, _ in SUITES:
        r = e2e.client(env, naf, "tls", "-o", "tls-priorities=" + GNUTLS_12 + ciphers,
                       "m2m-enrol")
        c(f"gba-client -o tls-priorities=<1.2, {ua[6:]}>: Km = Ks_NAF({ua}) both sides",
          r["_rc"] == 0 and r.get("tls_version") == "TLS1.2" and r.get("km_ua_id") == ua
          and r.get("km_ua_id_naf") == ua and r.get("km_kcv") == kcv(keys[ua])
          == r.get("km_kcv_naf"), r)
    r = e2e.client(env, naf, "tls", "-o", f"target={e2e.TARGET}", "m2m-session")
    c("gba-client m2m-session over TLS 1.3: Kc KCV node == NAF",
      r["_rc"] == 0 and r.get("tls_version") == "TLS1.3" and r.get("kc_kcv")
      and r.get("kc_kcv") == r.get("kc_kcv_naf"), r)
    # A priority string that sets nothing up crashed client/m2m (gnutls_bye
    # on a session without a handshake).
    r = e2e.client(env, naf, "tls", "-o", "tls-priorities=NONE:+VERS-TLS1.2:+RSA", "m2m-enrol")
    c("gba-client -o tls-priorities without PSK: a clear failure, no crash",
      r["_rc"] in (1, 2) and "TLS set-up" in r.get("_stderr", ""), r)


def keylog_lines(path):
    """The NSS key log's lines (label, client random) in path; [] if none."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [tuple(line.split()[:2]) for line in f if line.strip()]


def keylog_checks(env, naf, c):
    """SSLKEYLOGFILE: a capture of gba-client's Ua decrypts with its key log."""
    keys = os.path.join(env.procs.dir, "client.keys")
    e2e.client(env, naf, "tls", "m2m-enrol")
    c("gba-client without SSLKEYLOGFILE: no key log", not os.path.exists(keys))
    cap = tshark.start(env.procs, shutil.which("tshark"), naf["tls"], "ua.pcapng", "tls")
    os.environ["SSLKEYLOGFILE"] = keys
    try:
        r = e2e.client(env, naf, "tls", "m2m-enrol")
    finally:
        del os.environ["SSLKEYLOGFILE"]
    lines = keylog_lines(keys)
    c("gba-client with SSLKEYLOGFILE: TLS 1.3 secrets appended, mode 0600, a warning",
      r["_rc"] == 0 and os.stat(keys).st_mode & 0o777 == 0o600 and
      ("CLIENT_TRAFFIC_SECRET_0" in [x[0] for x in lines]) and
      "TLS secrets are written" in r.get("_stderr", ""), (r, lines))
    e2e.client(env, naf, "tls", "m2m-enrol")
    c("a later run without SSLKEYLOGFILE adds nothing", keylog_lines(keys) == lines)
    if not cap:
        return
    cap.stop()
    plain = cap.read("-Y", "http.request", "-T", "fields", "-e", "http.request.uri")
    opened = cap.read("-o", f"tls.keylog_file:{keys}", "-d", f"tls.port=={naf['tls']},http",
                      "-Y", "http.request", "-T", "fields", "-e", "http.request.uri")
    c("tshark with gba-client's key log: the enrolment's HTTP inside the TLS",
      "/m2m/enrol" in opened, opened)
    c("tshark without the key log: no HTTP", "/m2m/enrol" not in plain, plain)


def start_gnutls_serv(procs, name, pskfile, prio):
    """gnutls-serv on a free port; it binds every address (no option to bind
    127.0.0.1 alone), where a port free on loopback may be taken: 3 draws."""
    for _ in range(3):
        port = gbatest.free_port()
        proc = procs.start(name, ["gnutls-serv", "-p", str(port), "--pskpasswd", pskfile,
                                  "--priority", prio])
        try:
            gbatest.wait_port(port, 10.0, proc)
            if proc.poll() is None:
                return port
        except Exception:
            pass
        procs.stop(name)
    raise RuntimeError("gnutls-serv found no free port")


def fallback_checks(env, btid, keys, c):
    """A TLS 1.3 ClientHello answered with TLS 1.2: gba-client's key follows."""
    narrow = GNUTLS_12 + SUITES[1][1]
    naf_keys = os.path.join(env.procs.dir, "naf12.keys")
    # Its Zn: Nbsp_GBA to the BSF's HTTP/2 port (zn.http_version's default, ALPN h2).
    h2 = [a.replace(f":{env.nbsp_port}", f":{env.h2_port}") for a in env.nbsp_args()]
    naf12 = env.start_naf("naf12", env={"SSLKEYLOGFILE": naf_keys},
                          args=h2 + ["--set", "ua.tls_priorities=" + narrow])
    r = e2e.client(env, naf12, "tls", "--trace", "m2m-enrol")
    c("gba-naf narrowed to TLS 1.2 00A8: gba-client falls back, Km = Ks_NAF(01000100a8)",
      r["_rc"] == 0 and r.get("tls_version") == "TLS1.2" and r.get("km_ua_id") == SUITES[1][0]
      and r.get("km_ua_id_naf") == SUITES[1][0] and r.get("km_kcv") == kcv(keys[SUITES[1][0]])
      == r.get("km_kcv_naf"), (r, env.procs.log("naf12")[-1500:]))
    c("gba-client asked for 1.3's key (ClientHello), then 1.2's (after the ServerHello)",
      "Km of Ua id 0100000007" in r.get("_stderr", "") and
      "Km of Ua id 01000100a8" in r.get("_stderr", ""), r.get("_stderr"))
    env.procs.stop("naf12")
    log = env.procs.log("naf12")
    c("libgba-naf: Nbsp_GBA over HTTP/2 (ALPN h2) by default, and says so in the log",
      "Nbsp_GBA answers from" in log and "over HTTP/2" in log, log[-1500:])
    lines = keylog_lines(naf_keys)
    c("gba-naf with SSLKEYLOGFILE: TLS 1.2 secrets (CLIENT_RANDOM) appended, mode 0600",
      ("CLIENT_RANDOM" in [x[0] for x in lines]) and os.stat(naf_keys).st_mode & 0o777 == 0o600
      and "TLS secrets are written" in env.procs.log("naf12"), lines)
    if not shutil.which("gnutls-serv"):
        return
    # An independent server: gnutls-serv holding the key libgba derives for the
    # Ua id it negotiates (TLS 1.3; 1.2 with CCM_8 only).
    for ua, prio, version in ((TLS13, GNUTLS_13, "TLS1.3"),
                              (SUITES[2][0], GNUTLS_12 + SUITES[2][1], "TLS1.2")):
        pskfile = os.path.join(env.procs.dir, "serv.psk")
        with open(pskfile, "w") as f:
            f.write(f"3GPP-bootstrapping.{btid}:{keys[ua]}\n")
        name = "gnutls-serv-" + ua
        port = start_gnutls_serv(env.procs, name, pskfile, prio)
        r = e2e.client(env, {"fqdn": FQDN, "tls": port, "digest": 0}, "tls", "m2m-enrol")
        env.procs.stop(name)
        log = env.procs.log(name)
        # gnutls-serv answers no JSON: the handshake is what counts here.
        c(f"gba-client against gnutls-serv holding Ks_NAF({ua}): {version} handshake done",
          "handshake failed" not in r.get("_stderr", "") and
          f"Connected as '3GPP-bootstrapping.{btid}'" in log and f"Version: {version}" in log,
          (r, log[-1500:]))


def main():
    if not shutil.which("gnutls-cli") or len(sys.argv) < 7:
        print("SKIP: needs gnutls-cli and gba-client")
        sys.exit(77)
    checks = gbatest.Checks()
    c = checks.check
    with gbatest.Processes() as procs:
        env = e2e.Env(procs, sys.argv)
        env.h2_port = gbatest.free_port()
        env.bsf_extra = {"zn.http2_listen": f"127.0.0.1:{env.h2_port}"}
        env.start_bsf()
        naf = env.start_naf()
        port = naf["tls"]
        m0 = e2e.page(naf["admin"])
        keys = {}
        btid = None
        for ua, _, _ in SUITES + [(TLS13, None, None)]:
            btid, keys[ua] = ks_naf(env, ua)
        if not c("gba-client: a B-TID and Ks_NAF for each Ua id", btid and all(keys.values()),
                 str(keys)):
            checks.finish()

        # Identity forms, over the default suite.
        ua, ciphers, _ = SUITES[0]
        for form in ("3GPP-bootstrapping.", "3GPP-bootstrapping,", "3GPP-bootstrapping", ""):
            out = gnutls_cli(port, form + btid, keys[ua], GNUTLS_12 + ciphers)
            j = enrolled(out)
            c(f"gnutls-cli, identity '{form}<B-TID>': enrolled, Km = Ks_NAF(01 00 01 00 AE)",
              j.get("kmid") == btid and j.get("km_kcv") == kcv(keys[ua]) and
              j.get("ua_id") == ua, out[-1500:])

        # Each suite and TLS 1.3, both TLS stacks; Km's NAF_Id follows the handshake.
        for ua, ciphers, ossl in SUITES:
            out = gnutls_cli(port, "3GPP-bootstrapping." + btid, keys[ua], GNUTLS_12 + ciphers)
            j = enrolled(out)
            c(f"gnutls-cli TLS 1.2 suite {ua[6:]}: Km = Ks_NAF(NAF_Id with {ua})",
              j.get("km_kcv") == kcv(keys[ua]) and j.get("ua_id") == ua, out[-1500:])
            if shutil.which("openssl"):
                out = openssl(port, "3GPP-bootstrapping." + btid, keys[ua],
                              ["-tls1_2", "-cipher", ossl])
                j = enrolled(out)
                c(f"openssl s_client TLS 1.2 {ossl}: Km = Ks_NAF(NAF_Id with {ua})",
                  j.get("km_kcv") == kcv(keys[ua]) and j.get("ua_id") == ua, out[-1500:])
        out = gnutls_cli(port, "3GPP-bootstrapping." + btid, keys[TLS13], GNUTLS_13)
        j = enrolled(out)
        c("gnutls-cli TLS 1.3 external PSK: Km = Ks_NAF(NAF_Id with 01 00 00 00 07)",
          j.get("km_kcv") == kcv(keys[TLS13]) and j.get("ua_id") == TLS13, out[-1500:])
        if shutil.which("openssl"):
            out = openssl(port, "3GPP-bootstrapping." + btid, keys[TLS13],
                          ["-tls1_3", "-allow_no_dhe_kex", "-ciphersuites",
                           "TLS_AES_128_GCM_SHA256"])
            j = enrolled(out)
            c("openssl s_client TLS 1.3 external PSK: Km = Ks_NAF(01 00 00 00 07)",
              j.get("km_kcv") == kcv(keys[TLS13]) and j.get("ua_id") == TLS13, out[-1500:])

        m1 = e2e.page(naf["admin"])
        stacks = 2 if shutil.which("openssl") else 1
        got = {ua: e2e.moved(m0, m1, "gba_naf_ua_requests_total", ua=ua, request="enrol",
                             result="ok") for ua in ("tls1.2", "tls1.3", "digest")}
        c("metrics: enrolments counted by TLS version (the 4 identity forms and each suite "
          "over TLS 1.2, TLS 1.3 by each stack)",
          got == {"tls1.2": 4 + len(SUITES) * stacks, "tls1.3": stacks, "digest": 0}, got)
        client_checks(env, naf, keys, c)
        fallback_checks(env, btid, keys, c)
        keylog_checks(env, naf, c)

        # Failures end with a fatal alert, never a silent close.
        m2 = e2e.page(naf["admin"])
        out = gnutls_cli(port, "3GPP-bootstrapping." + btid, keys[SUITES[0][0]],
                         GNUTLS_12 + SUITES[1][1])
        c("wrong key (00AE's key over 00A8, TLS 1.2): fatal alert bad_record_mac",
          "Handshake was completed" not in out and "Received alert [20]" in out, out[-1500:])
        out = gnutls_cli(port, "3GPP-bootstrapping." + btid, keys[SUITES[0][0]], GNUTLS_13)
        c("wrong key over TLS 1.3 (a binder that does not verify): fatal alert decrypt_error",
          "Handshake was completed" not in out and '{"kmid"' not in out and
          "Received alert [51]" in out, out[-1500:])
        if shutil.which("openssl"):
            out = openssl(port, "3GPP-bootstrapping." + btid, keys[SUITES[0][0]],
                          ["-tls1_3", "-allow_no_dhe_kex", "-ciphersuites",
                           "TLS_AES_128_GCM_SHA256"])
            c("openssl s_client, wrong key over TLS 1.3: alert decrypt error",
              "decrypt error" in out.lower() and '{"kmid"' not in out, out[-1500:])
        out = gnutls_cli(port, "3GPP-bootstrapping-digest." + btid, keys[SUITES[0][0]],
                         GNUTLS_12 + SUITES[0][1])
        c("identity of no form (GBA_Digest): fatal alert unknown_psk_identity",
          "Handshake was completed" not in out and "Received alert [115]" in out, out[-1500:])
        out = gnutls_cli(port, "3GPP-bootstrapping.AAAA@nowhere", keys[SUITES[0][0]],
                         GNUTLS_12 + SUITES[0][1])
        c("identity that is not a B-TID: fatal alert unknown_psk_identity",
          "Received alert [115]" in out, out[-1500:])
        if shutil.which("openssl"):
            out = openssl(port, "3GPP-bootstrapping-digest." + btid, keys[SUITES[0][0]],
                          ["-tls1_2", "-cipher", SUITES[0][2]])
            c("openssl s_client, identity of no form: alert unknown psk identity",
              "unknown psk identity" in out.lower(), out[-1500:])
        m3 = e2e.page(naf["admin"])
        c("metrics: each wrong TLS 1.3 binder counted as refused (wrong_binder)",
          e2e.moved(m2, m3, "gba_naf_psk_refused_total", reason="wrong_binder") == stacks,
          e2e.moved(m2, m3, "gba_naf_psk_refused_total", reason="wrong_binder"))
        code = procs.stop(naf["name"])
        log = procs.log(naf["name"])
        c("gba-naf: SIGTERM, exit 0, no sanitizer report", code == 0 and
          "Sanitizer" not in log and "runtime error" not in log, f"exit {code} {log[-2000:]}")
        c("gba-naf logs which TLS each enrolment used (TLS1.3, TLS1.2 with its suite)",
          "over TLS1.3" in log and "Km's Ua id 0100000007" in log and
          "TLS_PSK_WITH_AES_128_CCM_8, Km's Ua id 010001c0a8" in log, log[-2000:])
        c("gba-naf logs each refusal with its cause",
          "GBA_Digest is not supported" in log and "bad_record_mac sent" in log and
          "decrypt_error sent" in log, log[-2000:])
    checks.finish()


if __name__ == "__main__":
    main()
