"""client_bench.py - runs bench/client_bench (libgba-client) end to end
against a real gba-bsf on 127.0.0.1: with the soft card, and with the USIM
simulator behind a private pcscd + vpcd (T=1 and T=0), and behind the
simulator's modem pty (T=0, strict) on the basic channel (AT+CSIM) and on
logical channels (AT+CCHO/AT+CGLA).  Prints figures.

    python3 bench/client_bench.py BUILD_DIR [RUNS]
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "client"))
import clientenv as ce  # noqa: E402
import gbatest  # noqa: E402


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    runs = sys.argv[2] if len(sys.argv) > 2 else "200"
    bench = os.path.join(build, "bench", "client_bench")
    tools = ce.Tools([None, os.path.join(build, "client", "gba-client"),
                      os.path.join(build, "bsf", "gba-bsf"),
                      os.path.join(build, "tools", "gba-subscriber")])
    sim = os.path.join(build, "simulators", "usim", "gba-usim-sim")
    profiles = os.path.join(HERE, "..", "simulators", "usim", "profiles")
    with gbatest.Processes() as procs:
        # One card bootstraps back to back, faster than the per-IMPI vector rate
        # (ub.impi_challenge_rate, 10/s after a burst of 20) lets it: 503s after
        # the 20th.  The limit guards SQNs against a client, not a benchmark.
        bsf = ce.start_bsf(procs, tools, extra={"log.level": "warn",
                                                "ub.impi_challenge_rate": "0"})
        card = ce.soft_card(procs.dir)
        subprocess.run([bench, "--card", "soft:" + card, "--bsf", bsf.url, "--runs", runs],
                       check=True)
        tty = os.path.join(procs.dir, "ttyBENCH")
        modem = procs.start("modem", [sim, "--profile", os.path.join(profiles, "demo-t0.conf"),
                                      "--quiet", "--state", os.path.join(procs.dir, "m.state"),
                                      "--modem", tty])
        for _ in range(100):
            if os.path.exists(tty) or modem.poll() is not None:
                break
            time.sleep(0.05)
        for spec, label in ((tty + ",channel=basic", "basic channel, AT+CSIM"),
                            (tty, "logical channels, AT+CCHO/AT+CGLA")):
            print(f"modem pty, simulator demo-t0.conf, {label}:")
            for mode in (["--gba-me"], []):
                subprocess.run([bench, "--card", "modem:" + spec, "--bsf", bsf.url,
                                "--runs", runs, *mode], check=True)
        procs.stop("modem")
        import pcscd
        try:
            reader = pcscd.start(procs, exit_on_unavailable=False)
        except pcscd.Unavailable as e:
            print(f"pcsc: skipped ({e})")
            return
        env = dict(os.environ, **reader.env)
        for profile in ("demo.conf", "demo-t0.conf"):
            procs.start("card", [sim, "--profile", os.path.join(profiles, profile), "--quiet",
                                 "--state", os.path.join(procs.dir, profile + ".state"),
                                 "--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
            reader.wait_card()
            if not ce.wait_pcsc_card(tools, reader.env):
                print("pcsc: the card did not show up in pcscd")
                return
            print(f"pcscd + vpcd, simulator {profile}:")
            for mode in (["--gba-me"], []):
                subprocess.run([bench, "--card", "pcsc", "--bsf", bsf.url, "--runs", runs,
                                *mode], check=True, env=env)
            procs.stop("card")
            reader.wait_no_card()


if __name__ == "__main__":
    main()
