"""gba-client with the soft card against a real gba-bsf on 127.0.0.1:
bootstrap, status, naf-key (Ks_NAF checked against the BSF's stored Ks),
an expired context, resync, MAC failure, unknown user, BSF down, and
files with loose permissions.

    python3 test_client_soft.py GBA_CLIENT GBA_BSF GBA_SUBSCRIBER
"""
import os
import re
import time

import clientenv as ce
import gbatest


def main():
    tools = ce.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        bsf = ce.start_bsf(procs, tools)
        d = procs.dir
        card = ce.soft_card(d)
        ctx = os.path.join(d, "context")
        base = ["--card", "soft:" + card, "--context", ctx, "--bsf", bsf.url, "--timeout", "5000"]

        code, out, err = ce.client(tools, ["--card", "soft:" + card, "card-info"])
        checks.check("card-info: exit 0", code == 0, err)
        checks.check("card-info: IMSI, derived IMPI and BSF host",
                     out.get("imsi") == ce.IMSI and out.get("impi") == ce.IMPI and
                     out.get("impi_source") == "derived" and
                     out.get("bsf_host") == "bsf.mnc001.mcc001.pub.3gppnetwork.org", out)
        checks.check("card-info: soft card labelled development only",
                     out.get("development_only") is True and "DEVELOPMENT ONLY" in err, err)

        code, out, err = ce.client(tools, base + ["--naf", "naf.example.org", "--trace",
                                                  "bootstrap"])
        checks.check("bootstrap: exit 0", code == 0, err)
        checks.check("bootstrap --trace: says which body rspauth was verified over",
                     "rspauth: verified over the response body" in err, err[-1500:])
        btid = out.get("btid", "")
        checks.check("bootstrap: B-TID of the BSF's domain, GBA_ME, two requests",
                     btid.endswith("@" + ce.bsfenv.DOMAIN) and out.get("gba_type") == "GBA_ME"
                     and out.get("http_requests") == 2 and out.get("resyncs") == 0, out)
        checks.check("bootstrap: rspauth matched over the 200's body (the BSF's default)",
                     out.get("rspauth_body") == "response", out)
        status, sess = bsf.session(btid)
        checks.check("bootstrap: the BSF holds the session (GBA_ME, our IMPI)",
                     status == 200 and sess and sess.get("type") == "GBA_ME" and
                     sess.get("impi") == ce.IMPI, f"{status} {sess}")
        st = os.stat(ctx)
        checks.check("context file is 0600", (st.st_mode & 0o777) == 0o600, oct(st.st_mode))
        rand = ce.context_rand(ctx)
        row = ce.bsf_session(bsf, rand)
        checks.check("BSF store has the context's RAND", row is not None)
        if row:
            ks_bsf = bytes(row[0])
            want = ce.ks_naf(ks_bsf, bytes.fromhex(rand), ce.IMPI, "naf.example.org")
            checks.check("bootstrap: Ks KCV equals the BSF's Ks", out.get("ks_kcv") == ce.kcv(ks_bsf),
                         out)
            checks.check("bootstrap: Ks_NAF KCV equals Python's KDF over the BSF's Ks",
                         out.get("ks_naf_kcv") == ce.kcv(want), out)
            checks.check("no key printed without --show-key",
                         ks_bsf.hex() not in str(out) and want.hex() not in str(out) and
                         "ks" not in out and "ks_naf" not in out, out)
            code, out, err = ce.client(tools, base + ["--naf", "naf.example.org", "--show-key",
                                                      "naf-key"])
            checks.check("naf-key: valid context reused (no bootstrap)",
                         code == 0 and out.get("bootstrapped") is False and
                         out.get("btid") == btid, f"{code} {out} {err}")
            checks.check("naf-key --show-key: Ks_NAF equals the BSF side's",
                         out.get("ks_naf") == want.hex(), out)
            code, out, err = ce.client(tools, base + ["--naf", "naf.example.org", "--ua-id",
                                                      "tls13", "naf-key"])
            want13 = ce.ks_naf(ks_bsf, bytes.fromhex(rand), ce.IMPI, "naf.example.org",
                               bytes.fromhex("0100000007"))
            checks.check("naf-key --ua-id tls13: NAF_Id uses 01 00 00 00 07",
                         code == 0 and out.get("ks_naf_kcv") == ce.kcv(want13), out)

        code, out, err = ce.client(tools, ["--context", ctx, "status"])
        checks.check("status: valid, exit 0", code == 0 and out.get("valid") is True and
                     out.get("btid") == btid, f"{code} {out}")

        # An expired context: the next naf-key bootstraps again.
        text = open(ctx).read()
        open(ctx, "w").write(re.sub(r"lifetime = \d+", f"lifetime = {int(time.time()) - 10}", text))
        code, out, err = ce.client(tools, ["--context", ctx, "status"])
        checks.check("status: expired context, exit 6", code == 6 and out.get("valid") is False,
                     f"{code} {out}")
        code, out, err = ce.client(tools, base + ["--naf", "naf.example.org", "naf-key"])
        checks.check("naf-key: expired context -> re-bootstrap, new B-TID",
                     code == 0 and out.get("bootstrapped") is True and out.get("btid") != btid,
                     f"{code} {out} {err}")
        btid2 = out.get("btid")
        # Within --margin of its end counts as expired too (the BSF gave 24 h).
        code, out, err = ce.client(tools, base + ["--margin", "90000", "--naf", "n.example.org",
                                                  "naf-key"])
        checks.check("naf-key --margin beyond the lifetime: re-bootstrap",
                     code == 0 and out.get("bootstrapped") is True and out.get("btid") != btid2,
                     f"{code} {out} {err}")

        # Resync: the card's SQN far ahead of the BSF's.
        with open(card + ".sqn", "w") as f:
            f.write("\n".join(["5000"] * 32) + "\n")
        code, out, err = ce.client(tools, base + ["bootstrap"])
        checks.check("resync: exit 0 after one AUTS round",
                     code == 0 and out.get("resyncs") == 1 and out.get("http_requests") == 3,
                     f"{code} {out} {err}")

        # MAC failure: the card holds another K.  One run, clear error, no loop.
        bad = ce.soft_card(d, "bad.key", k=ce.OTHER_K)
        before = bsf.failures("mac_failure")
        t0 = time.monotonic()
        code, out, err = ce.client(tools, ["--card", "soft:" + bad, "--context",
                                           os.path.join(d, "bad.ctx"), "--bsf", bsf.url,
                                           "bootstrap"])
        checks.check("MAC failure: exit 5 with a clear message",
                     code == 5 and "MAC failure" in err and "9862" in err, f"{code} {err}")
        checks.check("MAC failure: the BSF was told once (empty password), no loop",
                     bsf.failures("mac_failure") == before + 1 and time.monotonic() - t0 < 10,
                     str(bsf.failures("mac_failure")))
        checks.check("MAC failure: no context written", not os.path.exists(os.path.join(d, "bad.ctx")))

        # An IMSI the BSF does not know.
        other = ce.soft_card(d, "other.key", imsi="001019999999999")
        code, out, err = ce.client(tools, ["--card", "soft:" + other, "--context",
                                           os.path.join(d, "o.ctx"), "--bsf", bsf.url, "bootstrap"])
        checks.check("unknown user: exit 5 (refused)", code == 5 and "refused" in err, f"{code} {err}")

        # Loose permissions: refused, no key read.
        loose = ce.soft_card(d, "loose.key", mode=0o644)
        code, out, err = ce.client(tools, ["--card", "soft:" + loose, "card-info"])
        checks.check("soft key file 0644: refused, exit 7", code == 7 and "0600" in err,
                     f"{code} {err}")
        os.chmod(ctx, 0o640)
        code, out, err = ce.client(tools, ["--context", ctx, "status"])
        checks.check("context file 0640: refused, exit 7", code == 7 and "0600" in err,
                     f"{code} {err}")
        os.chmod(ctx, 0o600)

        # A man in the middle that cannot know RES: rspauth does not verify.
        def tamper(data):
            i = data.find(b'rspauth="')
            if i < 0:
                return data
            j = i + len(b'rspauth="')
            return data[:j] + (b"0" if data[j:j + 1] != b"0" else b"1") + data[j + 1:]
        proxy = ce.SlowProxy(bsf.port, 0, rewrite=tamper)
        code, out, err = ce.client(tools, ["--card", "soft:" + card, "--context",
                                           os.path.join(d, "mitm.ctx"), "--bsf",
                                           f"http://127.0.0.1:{proxy.port}/", "bootstrap"])
        proxy.close()
        checks.check("wrong rspauth: exit 5, 'not authentic', no context written",
                     code == 5 and "not authentic" in err and
                     not os.path.exists(os.path.join(d, "mitm.ctx")), f"{code} {err}")

        # A second BSF: HTTPS (a throwaway certificate) and AKAv2-MD5 (RFC 4169).
        from test_bsf_https import make_cert
        cert, key = make_cert(d)
        store2 = "sqlite:" + os.path.join(d, "bsf2-sessions.db") + "?commit_ms=0"
        bsf2 = ce.bsfenv.Bsf(procs, tools, name="bsf2", db=bsf.db, store=store2, tls=(cert, key),
                             extra={"bsf.algorithm": "AKAv2-MD5"}).start()
        url2 = f"https://127.0.0.1:{bsf2.port}/"
        ctx2 = os.path.join(d, "ctx2")
        code, out, err = ce.client(tools, ["--card", "soft:" + card, "--context", ctx2, "--bsf",
                                           url2, "--ca-file", cert, "--naf", "naf.example.org",
                                           "bootstrap"])
        checks.check("HTTPS + AKAv2-MD5: bootstrap, exit 0", code == 0, f"{code} {out} {err}")
        row = ce.bsf_session(bsf2, ce.context_rand(ctx2)) if code == 0 else None
        checks.check("HTTPS + AKAv2-MD5: Ks_NAF KCV equals the BSF side's",
                     row is not None and out.get("ks_naf_kcv") == ce.kcv(
                         ce.ks_naf(bytes(row[0]), bytes.fromhex(ce.context_rand(ctx2)), ce.IMPI,
                                   "naf.example.org")), f"{out}")
        code, out, err = ce.client(tools, ["--card", "soft:" + card, "--context", ctx2, "--bsf",
                                           url2, "bootstrap"])
        checks.check("HTTPS with an untrusted certificate: exit 4, curl's reason",
                     code == 4 and "certificate" in err.lower(), f"{code} {err}")
        bsf2.check_clean_stop(checks)

        # The BSF is gone: a network error, exit 4.
        bsf.check_clean_stop(checks)
        code, out, err = ce.client(tools, base + ["bootstrap"])
        checks.check("BSF down: exit 4 with the URL in the message",
                     code == 4 and "127.0.0.1" in err, f"{code} {err}")
        code, out, err = ce.client(tools, ["--card", "soft:" + card, "frobnicate"])
        checks.check("unknown command: exit 2", code == 2, f"{code} {err}")
    checks.finish()


if __name__ == "__main__":
    main()
