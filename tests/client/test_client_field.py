"""gba-client with the cards and modems a node meets in the field (issue 9),
through the real paths: a private pcscd with vpcd and gba-usim-sim, and the
simulator's modem pty, against a real gba-bsf on 127.0.0.1.

  pin:   PIN1 enabled (3 tries): no PIN given, a 0644 PIN file, a wrong PIN
         (tries left reported), the right one, the last try refused unless
         --pin-last-try; a card with PIN1 disabled gets no VERIFY.  The
         card's counter is read from the simulator's state file before and
         after each run.
  pcsc:  another PC/SC program (pcsc_probe) selects the MF, or resets the
         card, while the client waits for the BSF between two card
         procedures: the bootstrap still succeeds (transactions, the
         application selected again, PIN1 verified again after the reset);
         --card pcsc:NAME with an unknown reader lists the readers.
  status words: a card answering 91xx (proactive command pending) to
         everything and 63C1 to UPDATE BINARY (sw-quirks.conf), on PC/SC
         T=1 and behind the modem: GBA_U bootstraps succeed.
  isim:  a card whose ISIM has its own IMPI and K (isim-own-k.conf): by
         default GBA_U on the ISIM with the ISIM's IMPI (the BSF holds the
         ISIM's K for it), Ks_ext_NAF equal to the BSF side's, status says
         isim; -o app=usim: the USIM with the IMSI-derived IMPI; -o app=isim
         on a card without an ISIM is refused.
  gbabp: a card whose EF_GBABP has 64 octets (gbabp-64.conf): a bootstrap
         does GBA_ME and says why; --gba-u fails before the BSF sees a
         request.
  trace: --trace shows each APDU and HTTP exchange; CK and IK (the
         context's Ks) and the PIN are not in it; with --show-key CK and IK
         are, the PIN still not; --json errors are one JSON object on stdout.
  card-info: with PIN1 enabled and no PIN: reader, protocol, ICCID, PIN1
         enabled and the tries left (equal to the card's counter), EF_DIR's
         applications with labels, EF_GBABP sizes, exit 3 with the error;
         with the PIN the identity too (UST 68, IST 2) and the stored
         context.
  modem: logical channels (AT+CCHO/CGLA/CCHC) on a chatty, strict module
         (echo stays on, URCs and blank lines before answers, lowercase hex
         and Le on T=0 refused): GBA_U bootstrap, Ks_ext_NAF equal to the
         BSF side's, every client command on a channel, no MF on the basic
         channel; an old module (AT+CCHO refused) -> AT+CSIM fallback, still
         no MF on the basic channel; channel=basic; a bad spec; a modem
         that never answers -> exit 8 with a clear message.

    python3 test_client_field.py GBA_CLIENT GBA_BSF GBA_SUBSCRIBER GBA_USIM_SIM PROFILE_DIR \
        [PCSC_PROBE]
"""
import os
import sys
import time

import clientenv as ce
import gbatest

ISIM_IMPI = "isim-001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
PIN = "97531"
WRONG_PIN = "86420"


start_card = ce.start_card
wait_path = ce.wait_path


def pcsc_card(procs, tools, reader, name, profile):
    """The simulator as a card in the private reader (pcscd saw it); its state file."""
    _, state = start_card(procs, tools, name, profile,
                          ["--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
    reader.wait_card()
    return state


def pull_card(procs, reader, name):
    procs.stop(name)
    reader.wait_no_card()


def pin_tries(state):
    """The card's PIN1 counter, as the simulator saved it (None: not there)."""
    try:
        with open(state) as f:
            for line in f:
                if line.startswith("pin_tries "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def pin_file(d, name, pin, mode=0o600):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(pin + "\n")
    os.chmod(path, mode)
    return path


def wait_reader(tools, env, base):
    """Until pcscd shows the card (its next poll), bounded; the last result."""
    for _ in range(30):
        code, out, err = ce.client(tools, base + ["card-info"], env=env)
        if code != 3 or "No smart card" not in err:
            break
        time.sleep(0.2)
    return code, out, err


def no_pin_in(text):
    return PIN not in text and WRONG_PIN not in text


def pin_tests(procs, tools, checks, bsf, reader):
    d, env = procs.dir, reader.env
    state = pcsc_card(procs, tools, reader, "pincard", "demo-pin.conf")
    ctx = os.path.join(d, "ctx-pin")
    base = ["--card", "pcsc", "--context", ctx, "--bsf", bsf.url]
    good, wrong = pin_file(d, "pin", PIN), pin_file(d, "wrong", WRONG_PIN)
    loose = pin_file(d, "loose", PIN, 0o644)

    code, out, err = wait_reader(tools, env, base)
    checks.check("pin: PIN1 enabled, no PIN given -> exit 3, says PIN1 and 3 tries left; "
                 "counter stays 3", code == 3 and "PIN1 is enabled" in err and
                 "3 tries left" in err and pin_tries(state) == 3, f"{code} {err} {pin_tries(state)}")
    code, out, err = ce.client(tools, base + ["--pin-file", loose, "card-info"], env=env)
    checks.check("pin: a 0644 PIN file is refused (exit 7), counter stays 3",
                 code == 7 and "0600" in err and pin_tries(state) == 3, f"{code} {err}")

    code, out, err = ce.client(tools, base + ["--pin-file", wrong, "card-info"], env=env)
    checks.check("pin: wrong PIN -> exit 3, '2 tries left'; counter 3 -> 2",
                 code == 3 and "wrong PIN1: 2 tries left" in err and pin_tries(state) == 2,
                 f"{code} {err} {pin_tries(state)}")
    checks.check("pin: the PIN is in no message", no_pin_in(err), err)

    code, out, err = ce.client(tools, base + ["--pin-file", good, "--naf", "naf.example.org",
                                              "bootstrap"], env=env)
    checks.check("pin: right PIN -> GBA_U bootstrap, exit 0; counter 2 -> 3",
                 code == 0 and out.get("gba_type") == "GBA_U" and pin_tries(state) == 3,
                 f"{code} {out} {err} {pin_tries(state)}")
    checks.check("pin: the PIN is in no message and not in the simulator's log",
                 no_pin_in(err) and PIN not in procs.log("pincard"), err)

    # The card stays verified while powered: a later run sends no PIN at all.
    code, out, err = ce.client(tools, base + ["--pin-file", wrong, "card-info"], env=env)
    checks.check("pin: card still verified (same power session) -> no PIN sent, exit 0, "
                 "counter stays 3", code == 0 and pin_tries(state) == 3,
                 f"{code} {err} {pin_tries(state)}")

    # Power-cycle the card (the simulator restarts on the same state).
    pull_card(procs, reader, "pincard")
    pcsc_card(procs, tools, reader, "pincard", "demo-pin.conf")
    wait_reader(tools, env, base)
    for _ in range(2):
        ce.client(tools, base + ["--pin-file", wrong, "card-info"], env=env)
    checks.check("pin: two wrong PINs leave one try", pin_tries(state) == 1, pin_tries(state))
    verifies = procs.log("pincard").count("VERIFY PIN P1=00 P2=01 Lc=8")
    code, out, err = ce.client(tools, base + ["--pin-file", good, "card-info"], env=env)
    checks.check("pin: one try left -> refused without --pin-last-try (exit 3), no VERIFY "
                 "with a PIN sent, counter stays 1",
                 code == 3 and "one try left" in err and "--pin-last-try" in err and
                 pin_tries(state) == 1 and
                 procs.log("pincard").count("VERIFY PIN P1=00 P2=01 Lc=8") == verifies,
                 f"{code} {err} {pin_tries(state)}")
    code, out, err = ce.client(tools, base + ["--pin-file", good, "--pin-last-try",
                                              "card-info"], env=env)
    checks.check("pin: --pin-last-try uses it: exit 0, counter 1 -> 3",
                 code == 0 and out.get("imsi") == ce.IMSI and pin_tries(state) == 3,
                 f"{code} {out} {err} {pin_tries(state)}")
    pull_card(procs, reader, "pincard")

    # PIN1 disabled: a PIN file is harmless and nothing is verified.
    pcsc_card(procs, tools, reader, "nopin", "demo.conf")
    code, out, err = wait_reader(tools, env, base + ["--pin-file", good])
    checks.check("pin: PIN1 disabled + --pin-file -> exit 0, the card got no VERIFY",
                 code == 0 and "VERIFY" not in procs.log("nopin"),
                 f"{code} {err} {procs.log('nopin')[-500:]}")
    pull_card(procs, reader, "nopin")


def with_interloper(procs, tools, bsf, env, args, probe_items):
    """Run gba-client ARGS (its BSF behind a proxy that holds the first
    answer back); while it waits, pcsc_probe sends probe_items to the same
    card.  (exit code, JSON, stderr, probe output)."""
    import subprocess
    proxy = ce.SlowProxy(bsf.port, delay=1.5)
    run = subprocess.Popen([tools.client, "--json", *args, "--bsf",
                            f"http://127.0.0.1:{proxy.port}/", "bootstrap"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, **env))
    probe = "no request"
    if proxy.first_request.wait(15):
        r = subprocess.run([tools.extra[2], *probe_items], capture_output=True, text=True,
                           timeout=30, env=dict(os.environ, **env))
        probe = r.stdout + r.stderr
    try:
        out, err = run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        run.kill()
        out, err = run.communicate()
    proxy.close()
    try:
        js = ce.json.loads(out) if out.strip() else {}
    except ValueError:
        js = {"raw": out}
    return run.returncode, js, err, probe


def pcsc_tests(procs, tools, checks, bsf, reader):
    d, env = procs.dir, reader.env
    code, out, err = ce.client(tools, ["--card", "pcsc:No Such Reader", "card-info"], env=env)
    checks.check("pcsc: an unknown reader -> exit 3, the message lists the readers",
                 code == 3 and "No Such Reader" in err and reader.reader_name in err,
                 f"{code} {err}")
    if len(tools.extra) < 3:
        print("skip pcsc interloper tests: no pcsc_probe")
        return
    pcsc_card(procs, tools, reader, "tcard", "demo.conf")
    ctx = os.path.join(d, "ctx-tx")
    wait_reader(tools, env, ["--card", "pcsc"])
    for gba in (["--gba-me"], []):
        code, out, err, probe = with_interloper(
            procs, tools, bsf, env, ["--card", "pcsc", "--context", ctx, *gba],
            ["00A4000C023F00"])
        checks.check(f"pcsc: another program selects the MF between our procedures -> "
                     f"{'GBA_ME' if gba else 'GBA_U'} bootstrap still succeeds",
                     code == 0 and "< 9000" in probe and
                     out.get("gba_type") == ("GBA_ME" if gba else "GBA_U"),
                     f"{code} {out} {err} probe: {probe}")
    pull_card(procs, reader, "tcard")

    # A reset by another program: PIN1 must be verified again.
    state = pcsc_card(procs, tools, reader, "rcard", "demo-pin.conf")
    good = pin_file(d, "pin-r", PIN)
    base = ["--card", "pcsc", "--context", ctx, "--pin-file", good]
    wait_reader(tools, env, base)
    before = procs.log("rcard").count("VERIFY PIN P1=00 P2=01 Lc=8")
    code, out, err, probe = with_interloper(procs, tools, bsf, env, base, ["reset"])
    after = procs.log("rcard").count("VERIFY PIN P1=00 P2=01 Lc=8")
    checks.check("pcsc: the card reset by another program mid-run -> reconnected, "
                 "PIN1 verified again, GBA_U bootstrap succeeds, counter 3",
                 code == 0 and "reset: ok" in probe and after == before + 1 and
                 out.get("gba_type") == "GBA_U" and pin_tries(state) == 3,
                 f"{code} {out} {err} probe: {probe} verifies {before}->{after}")
    pull_card(procs, reader, "rcard")


def basic_mf_selects(log):
    """SELECTs of the MF on the basic channel (the simulator's log lines)."""
    return [l for l in log.splitlines() if "fid=3F00" in l and " ch=" not in l]


def modem_tests(procs, tools, checks, bsf):
    d = procs.dir
    tty = os.path.join(d, "ttyLOG")
    card, state = start_card(procs, tools, "chatty", "modem-chatty.conf", ["--modem", tty])
    if not wait_path(tty, card):
        checks.check("modem: simulator made its pty", False, procs.log("chatty"))
        return
    ctx = os.path.join(d, "ctx-modem")
    code, out, err = ce.client(tools, ["--card", "modem:" + tty, "--context", ctx, "--bsf",
                                       bsf.url, "--naf", "naf.example.org", "--show-key",
                                       "bootstrap"])
    log = procs.log("chatty")
    auth = [l for l in log.splitlines() if "AUTHENTICATE" in l]
    checks.check("modem logical (chatty, strict module): GBA_U bootstrap, exit 0",
                 code == 0 and out.get("gba_type") == "GBA_U", f"{code} {out} {err}")
    checks.check("modem logical: channels opened (MANAGE CHANNEL), every AUTHENTICATE on "
                 "a channel, no MF selected on the basic channel",
                 "MANAGE CHANNEL P1=00" in log and auth and all(" ch=" in l for l in auth) and
                 not basic_mf_selects(log), log[-1500:])
    rand = ce.context_rand(ctx) if code == 0 else None
    row = ce.bsf_session(bsf, rand) if rand else None
    if row:
        want = ce.ks_naf(bytes(row[0]), bytes.fromhex(rand), ce.IMPI, "naf.example.org")
        checks.check("modem logical: Ks_ext_NAF from the card equals the BSF side's",
                     out.get("ks_ext_naf") == want.hex(), out)
    checks.check("modem logical: channels closed at the end (AT+CCHC)",
                 "MANAGE CHANNEL P1=80" in procs.log("chatty"), log[-800:])
    procs.stop("chatty")

    tty = os.path.join(d, "ttyOLD")
    card, _ = start_card(procs, tools, "old", "modem-old.conf", ["--modem", tty])
    if wait_path(tty, card):
        code, out, err = ce.client(tools, ["--card", "modem:" + tty, "--context", ctx,
                                           "--bsf", bsf.url, "bootstrap"])
        log = procs.log("old")
        checks.check("modem refusing AT+CCHO -> AT+CSIM fallback, GBA_U bootstrap, exit 0, "
                     "no MF selected on the basic channel",
                     code == 0 and out.get("gba_type") == "GBA_U" and
                     "MANAGE CHANNEL" not in log and not basic_mf_selects(log),
                     f"{code} {out} {err} {log[-1500:]}")
        code, out, err = ce.client(tools, ["--card", f"modem:{tty},channel=basic", "card-info"])
        checks.check("modem:DEV,channel=basic -> card-info, ISIM IMPI found without EF_DIR",
                     code == 0 and out.get("impi_source") == "isim", f"{code} {out} {err}")
    procs.stop("old")
    code, out, err = ce.client(tools, ["--card", f"modem:{tty},channel=sideways", "card-info"])
    checks.check("modem: a bad channel option -> exit 2", code == 2 and "channel=" in err,
                 f"{code} {err}")

    # A card without an ISIM: -o app=isim is refused (the USIM is not used instead).
    tty = os.path.join(d, "ttyNOISIM")
    card, _ = start_card(procs, tools, "noisim", "ts35208-set1.conf", ["--modem", tty])
    if wait_path(tty, card):
        code, out, err = ce.client(tools, ["--card", "modem:" + tty, "-o", "app=isim",
                                           "card-info"])
        checks.check("isim: -o app=isim on a card without an ISIM -> exit 3, 'no ISIM'",
                     code == 3 and "no ISIM" in err, f"{code} {out} {err}")
    procs.stop("noisim")

    # A device that never answers: the deadline, and a message that says so.
    master, slave = os.openpty()
    try:
        t0 = time.monotonic()
        code, out, err = ce.client(tools, ["--card", "modem:" + os.ttyname(slave),
                                           "--timeout", "500", "card-info"])
        checks.check("modem that never answers -> exit 8, 'no answer within 500 ms', promptly",
                     code == 8 and "no answer within 500 ms" in err and
                     time.monotonic() - t0 < 10, f"{code} {err}")
    finally:
        os.close(master)
        os.close(slave)


def quirk_run(checks, procs, name, label, code, out, err):
    log = procs.log(name)
    checks.check(f"{label}: a card answering 910B and 63C1 -> GBA_U bootstrap, exit 0",
                 code == 0 and out.get("gba_type") == "GBA_U" and "-> 910B" in log and
                 "UPDATE BINARY P1=00 P2=00" in log and "-> 63C1" in log,
                 f"{code} {out} {err} {log[-800:]}")


def sw_tests(procs, tools, checks, bsf, reader):
    d = procs.dir
    ctx = os.path.join(d, "ctx-sw")
    if reader:
        pcsc_card(procs, tools, reader, "quirks", "sw-quirks.conf")
        wait_reader(tools, reader.env, ["--card", "pcsc"])
        code, out, err = ce.client(tools, ["--card", "pcsc", "--context", ctx, "--bsf",
                                           bsf.url, "--naf", "naf.example.org", "bootstrap"],
                                   env=reader.env)
        quirk_run(checks, procs, "quirks", "status words, PC/SC T=1", code, out, err)
        pull_card(procs, reader, "quirks")
    tty = os.path.join(d, "ttyQ")
    card, _ = start_card(procs, tools, "mquirks", "sw-quirks.conf", ["--modem", tty])
    if wait_path(tty, card):
        code, out, err = ce.client(tools, ["--card", "modem:" + tty, "--context", ctx,
                                           "--bsf", bsf.url, "--naf", "naf.example.org",
                                           "bootstrap"])
        quirk_run(checks, procs, "mquirks", "status words, modem logical", code, out, err)
    procs.stop("mquirks")


def isim_tests(procs, tools, checks, bsf, reader):
    d, env = procs.dir, reader.env
    pcsc_card(procs, tools, reader, "isim", "isim-own-k.conf")
    ctx = os.path.join(d, "ctx-isim")
    base = ["--card", "pcsc", "--context", ctx, "--bsf", bsf.url]
    code, out, err = wait_reader(tools, env, base)
    checks.check("isim: card-info chooses the ISIM (its IMPI, IST service 2)",
                 code == 0 and out.get("app") == "isim" and out.get("impi") == ISIM_IMPI,
                 f"{code} {out} {err}")
    code, out, err = ce.client(tools, base + ["--naf", "naf.example.org", "--show-key",
                                              "bootstrap"], env=env)
    checks.check("isim: GBA_U bootstrap on the ISIM with its own K and IMPI, exit 0",
                 code == 0 and out.get("gba_type") == "GBA_U" and out.get("app") == "isim" and
                 out.get("impi") == ISIM_IMPI, f"{code} {out} {err}")
    rand = ce.context_rand(ctx) if code == 0 else None
    row = ce.bsf_session(bsf, rand) if rand else None
    if row:
        want = ce.ks_naf(bytes(row[0]), bytes.fromhex(rand), ISIM_IMPI, "naf.example.org")
        checks.check("isim: the BSF's session is the ISIM's IMPI; Ks_ext_NAF equals its side's",
                     row[1] == ISIM_IMPI and out.get("ks_ext_naf") == want.hex(),
                     f"{row[1]} {out}")
    code, out, err = ce.client(tools, ["--context", ctx, "status"])
    checks.check("isim: status says app isim", code == 0 and out.get("app") == "isim",
                 f"{code} {out} {err}")
    code, out, err = ce.client(tools, base + ["-o", "app=usim", "--gba-me", "bootstrap"],
                               env=env)
    checks.check("isim: -o app=usim -> the USIM with the IMSI-derived IMPI, exit 0",
                 code == 0 and out.get("app") == "usim" and out.get("impi") == ce.IMPI,
                 f"{code} {out} {err}")
    code, out, err = ce.client(tools, ["--context", ctx, "status"])
    checks.check("isim: status then says app usim", code == 0 and out.get("app") == "usim",
                 f"{code} {out} {err}")
    code, out, err = ce.client(tools, base + ["-o", "app=sim", "card-info"], env=env)
    checks.check("isim: -o app=sim -> exit 2", code == 2, f"{code} {err}")
    pull_card(procs, reader, "isim")


def gbabp_tests(procs, tools, checks, bsf, reader):
    d, env = procs.dir, reader.env
    pcsc_card(procs, tools, reader, "small", "gbabp-64.conf")
    ctx = os.path.join(d, "ctx-small")
    base = ["--card", "pcsc", "--context", ctx]
    wait_reader(tools, env, base)
    code, out, err = ce.client(tools, base + ["--bsf", bsf.url, "bootstrap"], env=env)
    checks.check("gbabp: 64-octet EF_GBABP -> GBA_ME bootstrap, exit 0, the warning says why",
                 code == 0 and out.get("gba_type") == "GBA_ME" and
                 out.get("gba_u_fallback") == "EF_GBABP too small" and
                 "EF_GBABP holds 64 octets" in err, f"{code} {out} {err}")
    proxy = ce.SlowProxy(bsf.port, delay=0)
    code, out, err = ce.client(tools, base + ["--bsf", f"http://127.0.0.1:{proxy.port}/",
                                              "--gba-u", "bootstrap"], env=env)
    time.sleep(0.2)
    asked = proxy.first_request.is_set()
    proxy.close()
    checks.check("gbabp: --gba-u with a 64-octet EF_GBABP -> exit 3 before any request "
                 "to the BSF", code == 3 and "EF_GBABP holds 64 octets" in err and not asked,
                 f"{code} {err} bsf asked: {asked}")
    pull_card(procs, reader, "small")


def trace_tests(procs, tools, checks, bsf, reader):
    d, env = procs.dir, reader.env
    pcsc_card(procs, tools, reader, "tcardp", "demo-pin.conf")
    good, wrong = pin_file(d, "pin-t", PIN), pin_file(d, "wrong-t", WRONG_PIN)
    ctx = os.path.join(d, "ctx-trace")
    base = ["--card", "pcsc", "--context", ctx, "--bsf", bsf.url]
    wait_reader(tools, env, base)
    code, out, err = ce.client(tools, base + ["--json", "--pin-file", wrong, "card-info"],
                               env=env)
    e = out.get("error", {})
    checks.check("json: a wrong PIN -> exit 3 and {\"error\": {code 3, kind pin, message}} "
                 "on stdout", code == 3 and e.get("code") == 3 and e.get("kind") == "pin" and
                 "tries left" in e.get("message", ""), f"{code} {out} {err}")
    code, out, err = ce.client(tools, ["--context", os.path.join(d, "none"), "status"])
    checks.check("json: status without a context -> exit 6, one object, error kind no_context",
                 code == 6 and out.get("valid") is False and
                 out.get("error", {}).get("kind") == "no_context", f"{code} {out} {err}")
    code, out, err = ce.client(tools, ["frobnicate"])
    checks.check("json: an unknown command -> exit 2, error kind usage on stdout",
                 code == 2 and out.get("error", {}).get("kind") == "usage", f"{code} {out}")
    pin_hex = PIN.encode().hex()
    # The first run verifies PIN1 (its VERIFY traced masked); the second finds
    # the card still verified.
    for show in (False, True):
        extra = ["--show-key"] if show else []
        code, out, err = ce.client(tools, base + ["--pin-file", good, "--gba-me", "--trace",
                                                  *extra, "bootstrap"], env=env)
        ks = ""
        if code == 0:
            for line in open(ctx):
                if line.startswith("ks ="):
                    ks = line.split("=", 1)[1].strip().lower()
        ck, ik, low = ks[:32], ks[32:], err.lower()
        shown = bool(ks) and ck in low and ik in low
        checks.check(f"trace{' --show-key' if show else ''}: APDUs and HTTP exchanges traced, "
                     f"PIN masked, CK/IK {'shown' if show else 'masked'}",
                     code == 0 and "trace: > 00a4" in low and "trace: < " in err and
                     "HTTP > GET" in err and "HTTP < 401" in err and "HTTP < 200" in err and
                     "WWW-Authenticate: Digest" in err and "body:" in err and
                     (show or "[8 octets masked]" in err) and pin_hex not in low and
                     shown == show and (show or "octets masked] 9000" in err),
                     f"{code} ks={ks} " + " / ".join(l for l in err.splitlines() if "masked" in l or "< db" in l.lower() or "0088" in l))
    pull_card(procs, reader, "tcardp")


def card_info_tests(procs, tools, checks, bsf, reader):
    d, env = procs.dir, reader.env
    state = pcsc_card(procs, tools, reader, "lab", "demo-pin.conf")
    ctx = os.path.join(d, "ctx-lab")
    base = ["--card", "pcsc", "--context", ctx, "--bsf", bsf.url]
    code, out, err = wait_reader(tools, env, base)
    apps = out.get("applications", [])
    checks.check("card-info without the PIN: reader, T=0, ICCID, PIN1 enabled with the "
                 "card's tries, EF_DIR's USIM and ISIM with labels, EF_GBABP 256, exit 3",
                 code == 3 and out.get("where") == reader.reader_name and
                 out.get("protocol") == "T=0" and out.get("iccid") == "8988211000000000028" and
                 out.get("pin1") == "enabled" and
                 out.get("pin1_tries_left") == pin_tries(state) == 3 and
                 [a.get("label") for a in apps] == ["USIM", "ISIM"] and
                 apps[0].get("aid", "").startswith("a0000000871002") and
                 out.get("usim_gbabp_size") == 256 and out.get("context") == "none" and
                 out.get("error", {}).get("kind") == "pin", f"{code} {out} {err}")
    good = pin_file(d, "pin-lab", PIN)
    ce.client(tools, base + ["--pin-file", good, "--gba-me", "bootstrap"], env=env)
    code, out, err = ce.client(tools, base + ["--pin-file", good, "card-info"], env=env)
    checks.check("card-info with the PIN: identity, UST 68 and IST 2, app, the stored context",
                 code == 0 and out.get("imsi") == ce.IMSI and out.get("app") == "isim" and
                 out.get("usim_gba_u_ust68") is True and out.get("isim_gba_ist2") is True and
                 out.get("context_type") == "GBA_ME" and out.get("context_valid") is True and
                 out.get("context_of_this_card") is True and "error" not in out,
                 f"{code} {out} {err}")
    pull_card(procs, reader, "lab")


def main():
    tools = ce.Tools()
    if len(tools.extra) < 2:
        print(__doc__)
        sys.exit(2)
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        bsf = ce.start_bsf(procs, tools, subscribers=((ce.IMPI, ce.K, ce.OPC),
                                                      (ISIM_IMPI, ce.OTHER_K, ce.OPC)))
        modem_tests(procs, tools, checks, bsf)
        import pcscd
        try:
            reader = pcscd.start(procs, exit_on_unavailable=False)
        except pcscd.Unavailable as e:
            print(f"skip pcsc: {e}")
            reader = None
        if reader:
            pin_tests(procs, tools, checks, bsf, reader)
            pcsc_tests(procs, tools, checks, bsf, reader)
            isim_tests(procs, tools, checks, bsf, reader)
            gbabp_tests(procs, tools, checks, bsf, reader)
            trace_tests(procs, tools, checks, bsf, reader)
            card_info_tests(procs, tools, checks, bsf, reader)
        sw_tests(procs, tools, checks, bsf, reader)
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
