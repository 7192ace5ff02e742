"""gba-client with a simulated card on real transports against a real
gba-bsf on 127.0.0.1:
  pcsc:  a private pcscd with the vpcd driver and gba-usim-sim on it, T=0
         and T=1 cards; GBA_U end to end (Ks_ext_NAF equals what the BSF's
         Ks gives; the BSF never saw a CK/IK from the client: its session
         is GBA_U); a card removed mid-run; a card answering garbage and
         truncated TLVs;
  modem: gba-usim-sim behind a pseudo-terminal answering AT+CSIM, and a
         modem that answers ERROR.

    python3 test_client_card.py GBA_CLIENT GBA_BSF GBA_SUBSCRIBER GBA_USIM_SIM PROFILE_DIR
"""
import os
import signal
import sys
import time

import clientenv as ce
import gbatest


def start_card(procs, tools, name, profile, transport, extra=()):
    return ce.start_card(procs, tools, name, profile, transport, extra)[0]


def removed_mid_run(tools, env, d, bsf, card, attempts=3):
    """Start a bootstrap through a slow proxy and pull the card only once the
    client has sent its first Ub request (so it holds the card open).  pcscd
    polls its readers: right after a card arrives it may still report none
    for a moment, and the client then fails at SCardConnect before it asks
    the BSF anything; that run says nothing about removal and is retried
    (bounded).  Returns (process, got_request, out, err)."""
    import subprocess
    for attempt in range(attempts):
        ce.wait_pcsc_card(tools, env)   # pcscd polls: the card must be there
        proxy = ce.SlowProxy(bsf.port, delay=2.0)
        run = subprocess.Popen([tools.client, "--card", "pcsc", "--context",
                                os.path.join(d, "rm"), "--bsf",
                                f"http://127.0.0.1:{proxy.port}/", "bootstrap"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, **env))
        deadline = time.monotonic() + 15
        while (not proxy.first_request.is_set() and run.poll() is None and
               time.monotonic() < deadline):
            time.sleep(0.02)
        got_request = proxy.first_request.is_set()
        if got_request:
            card.send_signal(signal.SIGUSR1)
        try:
            out, err = run.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            out, err = run.communicate()
        proxy.close()
        if got_request or attempt == attempts - 1:
            if not got_request:
                card.send_signal(signal.SIGUSR1)
            return run, got_request, out, err
        print(f"     (the client found no card before its first request: {err.strip()}; again)")
    raise AssertionError("unreachable")


def pcsc_tests(procs, tools, checks, bsf):
    import pcscd
    try:
        reader = pcscd.start(procs, exit_on_unavailable=False)
    except pcscd.Unavailable as e:
        print(f"skip pcsc: {e}")
        return
    env = reader.env
    d = procs.dir
    for profile, label in (("demo-t0.conf", "T=0"), ("demo.conf", "T=1")):
        card = start_card(procs, tools, "card", profile,
                          ["--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
        reader.wait_card()
        ctx = os.path.join(d, f"ctx-{label}")
        base = ["--card", "pcsc", "--context", ctx, "--bsf", bsf.url]
        # pcscd sees the card on its next poll: wait for it (bounded).
        for _ in range(30):
            code, out, err = ce.client(tools, ["--card", "pcsc", "card-info"], env=env)
            if code != 3 or "No smart card" not in err:
                break
            time.sleep(0.2)
        checks.check(f"pcsc {label}: card-info reads the ISIM's IMPI, GBA_U offered",
                     code == 0 and out.get("impi") == ce.IMPI and
                     out.get("impi_source") == "isim" and out.get("gba_u") is True,
                     f"{code} {out} {err}")
        code, out, err = ce.client(tools, base + ["--gba-me", "--naf", "naf.example.org",
                                                  "bootstrap"], env=env)
        ok = code == 0 and out.get("gba_type") == "GBA_ME"
        checks.check(f"pcsc {label}: GBA_ME bootstrap, exit 0", ok, f"{code} {out} {err}")
        row = ce.bsf_session(bsf, ce.context_rand(ctx)) if ok else None
        checks.check(f"pcsc {label}: the BSF stored the session", row is not None,
                     f"rand {ce.context_rand(ctx) if ok else None} {out} "
                     f"admin: {bsf.session(out.get('btid', 'x@y'))}")
        if row:
            want = ce.ks_naf(bytes(row[0]), bytes.fromhex(ce.context_rand(ctx)), ce.IMPI,
                             "naf.example.org")
            checks.check(f"pcsc {label}: Ks_NAF KCV equals the BSF side's",
                         out.get("ks_naf_kcv") == ce.kcv(want), out)
        # GBA_U: the card keeps Ks, Ks_ext_NAF comes from the card.
        code, out, err = ce.client(tools, base + ["--naf", "naf.example.org", "--show-key",
                                                  "bootstrap"], env=env)
        ok = code == 0 and out.get("gba_type") == "GBA_U"
        checks.check(f"pcsc {label}: GBA_U bootstrap, exit 0", ok, f"{code} {out} {err}")
        rand = ce.context_rand(ctx) if ok else None
        row = ce.bsf_session(bsf, rand) if ok else None
        if row:
            want = ce.ks_naf(bytes(row[0]), bytes.fromhex(rand), ce.IMPI, "naf.example.org")
            checks.check(f"pcsc {label}: the BSF marked the session GBA_U", row[2] == 1, row[2])
            checks.check(f"pcsc {label}: Ks_ext_NAF from the card equals the BSF side's",
                         out.get("ks_ext_naf") == want.hex(), out)
            text = open(ctx).read()
            checks.check(f"pcsc {label}: Ks never left the card (no ks in the context file)",
                         "ks =" not in text and bytes(row[0]).hex() not in text and
                         "ks" not in out, text)
            # A later naf-key: the saved GBA_U context, Ks_ext_NAF from the card again.
            code, out2, err = ce.client(tools, base + ["--naf", "naf.example.org",
                                                       "--show-key", "naf-key"], env=env)
            checks.check(f"pcsc {label}: naf-key reuses the GBA_U context, same Ks_ext_NAF",
                         code == 0 and out2.get("bootstrapped") is False and
                         out2.get("ks_ext_naf") == want.hex(), f"{code} {out2} {err}")
        procs.stop("card")
        reader.wait_no_card()

    # A card removed mid-run: the client reads the card, sends its first
    # request to a proxy that holds the BSF's 401 back for a while, and the
    # card leaves vpcd (SIGUSR1) before the client gets to AUTHENTICATE.
    card = start_card(procs, tools, "card", "demo.conf", ["--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
    reader.wait_card()
    run, got_request, out, err = removed_mid_run(tools, env, d, bsf, card)
    checks.check("pcsc: card removed mid-run (after the first Ub request) -> exit 3, "
                 "'removed' in the message, no crash",
                 got_request and run.returncode == 3 and "removed" in err and
                 "Sanitizer" not in err, f"{run.returncode} {err}")
    reader.wait_no_card()
    procs.stop("card")

    for fault in ("garbage", "truncated"):
        start_card(procs, tools, "card", "demo.conf",
                   ["--vpcd", f"127.0.0.1:{reader.vpcd_port}"], ["--fault", fault])
        reader.wait_card()
        for _ in range(30):
            code, out, err = ce.client(tools, ["--card", "pcsc", "--gba-me", "--context",
                                               os.path.join(d, "f"), "--bsf", bsf.url,
                                               "bootstrap"], env=env)
            if code != 3 or "No smart card" not in err:
                break
            time.sleep(0.2)
        checks.check(f"pcsc: card answering {fault} -> exit 3, clear message",
                     code == 3 and "AUTHENTICATE" in err and "Sanitizer" not in err,
                     f"{code} {err}")
        procs.stop("card")
        reader.wait_no_card()


wait_path = ce.wait_path


def modem_tests(procs, tools, checks, bsf):
    d = procs.dir
    tty = os.path.join(d, "ttyGBA")
    card = start_card(procs, tools, "modem", "demo-t0.conf", ["--modem", tty])
    if not wait_path(tty, card):
        checks.check("modem: simulator made its pseudo-terminal", False, procs.log("modem"))
        return
    ctx = os.path.join(d, "ctx-modem")
    code, out, err = ce.client(tools, ["--card", "modem:" + tty, "--context", ctx,
                                       "--bsf", bsf.url, "--gba-me", "--naf", "naf.example.org",
                                       "bootstrap"])
    checks.check("modem: AT+CSIM bootstrap (GBA_ME), exit 0",
                 code == 0 and out.get("gba_type") == "GBA_ME", f"{code} {out} {err}")
    if code == 0:
        rand = ce.context_rand(ctx)
        row = ce.bsf_session(bsf, rand)
        want = ce.ks_naf(bytes(row[0]), bytes.fromhex(rand), ce.IMPI, "naf.example.org")
        checks.check("modem: Ks_NAF KCV equals the BSF side's",
                     out.get("ks_naf_kcv") == ce.kcv(want), out)
    code, out, err = ce.client(tools, ["--card", "modem:" + tty, "--context", ctx,
                                       "--bsf", bsf.url, "bootstrap"])
    checks.check("modem: GBA_U bootstrap through AT+CSIM", code == 0 and
                 out.get("gba_type") == "GBA_U", f"{code} {out} {err}")
    procs.stop("modem")

    tty2 = os.path.join(d, "ttyERR")
    card = start_card(procs, tools, "modem-err", "demo-t0.conf", ["--modem", tty2],
                      ["--modem-fault"])
    if wait_path(tty2, card):
        t0 = time.monotonic()
        code, out, err = ce.client(tools, ["--card", "modem:" + tty2, "--timeout", "3000",
                                           "card-info"])
        checks.check("modem answering ERROR: exit 3 with the modem's words, promptly",
                     code == 3 and "ERROR" in err and time.monotonic() - t0 < 15,
                     f"{code} {err}")
    procs.stop("modem-err")
    # A device that is not a modem at all.
    code, out, err = ce.client(tools, ["--card", "modem:/dev/null", "card-info"])
    checks.check("modem: /dev/null is refused clearly (exit 3)", code == 3 and "/dev/null" in err,
                 f"{code} {err}")


def main():
    tools = ce.Tools()
    if len(tools.extra) < 2:
        print("usage: test_client_card.py GBA_CLIENT GBA_BSF GBA_SUBSCRIBER GBA_USIM_SIM PROFILES")
        sys.exit(2)
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        bsf = ce.start_bsf(procs, tools)
        modem_tests(procs, tools, checks, bsf)
        pcsc_tests(procs, tools, checks, bsf)
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
