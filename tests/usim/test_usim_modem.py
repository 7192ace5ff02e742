"""The simulator behind a pseudo-terminal, as a cellular module's AT port
(TS 27.007): ATE0, AT+CIMI, AT+CSIM (raw APDUs, T=0 61xx/GET RESPONSE left
to the caller), AT+CRSM (the module selects and fetches), errors, and the
fault option that makes card commands answer ERROR.

    test_usim_modem.py GBA_USIM_SIM PROFILES_DIR
"""
import os
import select
import sys
import termios
import time
import tty

import gbatest

SIM, PROFILES = sys.argv[1:3]
RAND = "23553cbe9637a89d218ae64dae47bf35"
AUTN = "%012x" % (0xff9bb4d0b607 ^ 0xaa689c648370) + "b9b9" + "4a9ffac354dfafb3"
RES = "a54211d5e3ba50bf"
AID_USIM = "A0000000871002FFFFFFFF8906190000"

checks = gbatest.Checks()


class Port:
    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not appear")
            time.sleep(0.05)
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)

    def cmd(self, line, timeout=5.0):
        """Send one command line; return the response up to OK/ERROR."""
        os.write(self.fd, line.encode() + b"\r")
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                buf += os.read(self.fd, 4096)
                text = buf.decode(errors="replace")
                if text.endswith("OK\r\n") or text.endswith("ERROR\r\n") or \
                        ("+CME ERROR" in text and text.endswith("\r\n")):
                    return text
        raise TimeoutError(f"no final result for {line!r}: {buf!r}")

    def close(self):
        os.close(self.fd)


def csim(port, apdu):
    out = port.cmd(f'AT+CSIM={len(apdu)},"{apdu}"')
    for line in out.split("\r\n"):
        if line.startswith("+CSIM: "):
            n, hexs = line[7:].split(",")
            assert int(n) == len(hexs.strip('"'))
            return hexs.strip('"').lower()
    return None


def main():
    with gbatest.Processes() as procs:
        link = os.path.join(procs.dir, "ttyGBA")
        state = os.path.join(procs.dir, "card.state")
        profile = os.path.join(PROFILES, "ts35208-set1.conf")
        procs.start("modem", [SIM, "--profile", profile, "--state", state, "--modem", link])
        port = Port(link)
        out = port.cmd("AT")
        checks.check("AT echoed (ATE1 default) and OK", out == "AT\r\r\nOK\r\n", repr(out))
        out = port.cmd("ATE0")
        checks.check("ATE0 -> OK", out.endswith("\r\nOK\r\n"), repr(out))
        out = port.cmd("AT+CIMI")
        checks.check("AT+CIMI -> the IMSI", out == "\r\n001010123456789\r\n\r\nOK\r\n", repr(out))
        r = csim(port, "00A4040410" + AID_USIM)
        checks.check("AT+CSIM SELECT USIM -> 61xx (T=0 card)", r is not None and r.startswith("61"), r)
        r = csim(port, "00C00000" + r[2:])
        checks.check("AT+CSIM GET RESPONSE -> FCP 9000", r.startswith("62") and r.endswith("9000"), r)
        r = csim(port, "0088008122" + "10" + RAND + "10" + AUTN)
        checks.check("AT+CSIM AUTHENTICATE -> 612C", r == "612c", r)
        r = csim(port, "00C000002C")
        checks.check("AT+CSIM GET RESPONSE -> DB 08 RES (TS 35.208 set 1)",
                     r is not None and r.startswith("db08" + RES) and r.endswith("9000"), r)
        out = port.cmd("AT+CRSM=176,28589,0,0,4")
        checks.check("AT+CRSM READ BINARY EF_AD -> 144,0 and MNC length 2",
                     '+CRSM: 144,0,"00000002"' in out, repr(out))
        out = port.cmd("AT+CRSM=176,12258,0,0,10")
        checks.check("AT+CRSM READ BINARY EF_ICCID (MF)", '+CRSM: 144,0,"988812010000000010F1"' in out,
                     repr(out))
        out = port.cmd("AT+CRSM=176,4660,0,0,4")
        checks.check("AT+CRSM on a missing file -> 106,130 (6A82)", "+CRSM: 106,130" in out, repr(out))
        out = port.cmd('AT+CSIM=4,"00A4"')
        checks.check("AT+CSIM with a 2-octet APDU -> 6700 from the card", '"6700"' in out, repr(out))
        out = port.cmd('AT+CSIM=9,"00A40"')
        checks.check("AT+CSIM with a wrong length -> ERROR", out.endswith("ERROR\r\n"), repr(out))
        out = port.cmd("AT+CMEE=2")
        out = port.cmd("AT+CCHO=\"A0000000871002\"")
        checks.check("AT+CCHO (partial USIM AID) -> session id 1, OK",
                     out == "\r\n1\r\n\r\nOK\r\n", repr(out))
        out = port.cmd('AT+CGLA=1,14,"00A4000C026FAD"')
        checks.check("AT+CGLA SELECT EF_AD on the USIM's channel -> 9000",
                     '+CGLA: 4,"9000"' in out, repr(out))
        out = port.cmd('AT+CGLA=1,10,"00B0000004"')
        checks.check("AT+CGLA READ BINARY EF_AD (channel 1 in CLA) -> MNC length 2",
                     '+CGLA: 12,"000000029000"' in out, repr(out))
        out = port.cmd('AT+CSIM=10,"00B0000004"')
        checks.check("the basic channel keeps its own current file (EF_ICCID from AT+CRSM, "
                     "not channel 1's EF_AD)", '"988812019000"' in out, repr(out))
        out = port.cmd("AT+CCHC=1")
        checks.check("AT+CCHC=1 -> OK", out.endswith("\r\nOK\r\n"), repr(out))
        out = port.cmd('AT+CGLA=1,10,"00B0000004"')
        checks.check("AT+CGLA on a closed channel -> +CME ERROR", "+CME ERROR" in out, repr(out))
        out = port.cmd('AT+CSIM=10,"0070000001"')
        out2 = port.cmd('AT+CSIM=8,"01708001"')
        checks.check("MANAGE CHANNEL open -> 01 9000; close on it -> 9000",
                     '"019000"' in out and '"9000"' in out2, repr(out) + repr(out2))
        out = port.cmd("AT+FOO")
        checks.check("unknown command -> ERROR", out == "\r\nERROR\r\n", repr(out))
        port.close()
        rc = procs.stop("modem")
        checks.check("SIGTERM: exits 0 and removes the link", rc == 0 and not os.path.lexists(link),
                     procs.log("modem"))
        checks.check("log names commands, never keys", "AUTHENTICATE P1=00 P2=81" in procs.log("modem")
                     and "465b5ce8" not in procs.log("modem").lower())

        procs.start("modem2", [SIM, "--profile", profile, "--state", state, "--modem", link,
                               "--modem-fault"])
        port = Port(link)
        port.cmd("ATE0")
        out = port.cmd('AT+CSIM=10,"00A4000C02"')
        checks.check("--modem-fault: AT+CSIM -> ERROR", out.endswith("\r\nERROR\r\n"), repr(out))
        out = port.cmd("AT")
        checks.check("--modem-fault: AT still OK", out.endswith("\r\nOK\r\n"), repr(out))
        port.close()
        procs.stop("modem2")

        # An old, strict module: no logical channels, upper-case hex only,
        # and a T=0 card that refuses the Le of a case 4 command.
        procs.start("modem3", [SIM, "--profile", os.path.join(PROFILES, "modem-old.conf"),
                               "--state", state + "3", "--modem", link])
        port = Port(link)
        port.cmd("ATE0")
        port.cmd("AT+CMEE=2")
        out = port.cmd('AT+CCHO="A0000000871002"')
        checks.check("modem_channels = no: AT+CCHO -> +CME ERROR: operation not supported",
                     "+CME ERROR: operation not supported" in out, repr(out))
        out = port.cmd('AT+CSIM=14,"00a4000c023f00"')
        checks.check("strict: lowercase hex in AT+CSIM -> +CME ERROR: invalid parameter",
                     "+CME ERROR: invalid parameter" in out, repr(out))
        out = port.cmd(f'AT+CSIM={(5 + 16 + 1) * 2},"00A4040410{AID_USIM}00"')
        checks.check("strict T=0: a case 4 SELECT with Le -> 6700", '"6700"' in out, repr(out))
        out = port.cmd(f'AT+CSIM={(5 + 16) * 2},"00A4040410{AID_USIM}"')
        checks.check("strict T=0: the same SELECT without Le -> 61xx", '"61' in out, repr(out))
        port.close()
    checks.finish()


main()
