"""usim_pcsc_bench - APDU round trips through a real pcscd and vpcd to
gba-usim-sim (the path a PC/SC client of a virtual card takes), for a T=0
and a T=1 card: READ BINARY (one exchange) and AUTHENTICATE (T=0: two
exchanges, 61xx then GET RESPONSE).  Prints figures; fails nothing.

    python3 bench/usim_pcsc_bench.py GBA_USIM_SIM PCSC_PROBE PROFILES_DIR [N]
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "harness"))
import gbatest  # noqa: E402
import pcscd  # noqa: E402

SIM, PROBE, PROFILES = sys.argv[1:4]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 500
AID = "a0000000871002ffffffff8906190000"
# TS 35.208 set 1 RAND/AUTN: after the first one the card answers AUTS (a
# replay), which costs the same AKA computation and no state save.
AUTH = ("0088008122" + "10" + "23553cbe9637a89d218ae64dae47bf35" + "10" +
        "%012x" % (0xff9bb4d0b607 ^ 0xaa689c648370) + "b9b9" + "4a9ffac354dfafb3")


def run(reader, items):
    r = subprocess.run([PROBE, "--wait-card", "5000", *items], capture_output=True, text=True,
                       env={**os.environ, **reader.env}, timeout=300)
    return [tuple(map(float, m)) for m in
            re.findall(r"repeat: (\d+) exchanges in ([\d.]+) ms", r.stdout)]


def main():
    with gbatest.Processes() as procs:
        reader = pcscd.start(procs)
        for proto in ("T=0", "T=1"):
            prof = os.path.join(procs.dir, "card.conf")
            with open(os.path.join(PROFILES, "ts35208-set1.conf")) as f:
                text = f.read().replace("protocol   = T=0", f"protocol   = {proto}")
            with open(prof, "w") as f:
                f.write(text)
            state = os.path.join(procs.dir, "card.state")
            procs.start("card", [SIM, "--quiet", "--profile", prof, "--state", state,
                                 "--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
            reader.wait_card()
            le = "00" if proto == "T=1" else ""
            res = run(reader, ["00a4040c10" + AID, "00a4000c026f07",
                               f"repeat:{N}:00b0000009", f"repeat:{N}:{AUTH}{le}"])
            for name, (n, ms) in zip(("READ BINARY", "AUTHENTICATE 3G"), res):
                print(f"{proto} {name:16s}: {N} commands, {int(n)} exchanges, "
                      f"{ms / N:.3f} ms per command, {1000 * N / ms:.0f} commands/s")
            procs.stop("card")
            os.unlink(state)
            reader.wait_no_card()


main()
