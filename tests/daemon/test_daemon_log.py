"""test_daemon_log - the daemons' stderr as journald reads it: with
JOURNAL_STREAM naming the device:inode of their stderr (what systemd sets for
StandardError=journal), every line begins with a syslog priority <N>; at
log level info no line is debug (<7>), so none of freeDiameter's traces and
notices (its configuration dump, state changes), which come as debug; at
debug they do come, as <7>.  A JOURNAL_STREAM that names another file (a
child's stderr redirected) gives the plain form.

Real processes on 127.0.0.1: gba-hss-sim with a gba-bsf connected over Zh,
and gba-naf connected to a gba-bsf over Zn.

    test_daemon_log.py GBA_HSS_SIM GBA_BSF [GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET]
"""
import os
import re
import sys
import time

import gbatest

checks = gbatest.Checks()
c = checks.check
PRIORITY = re.compile(r"^<[0-7]>")
# Lines freeDiameter itself writes (libfdproto/libfdcore), whatever their level.
FD_OWN = re.compile(r"libfdproto|libfdcore|Core state|freeDiameter configuration|STATE_")


def journal_env(procs, name):
    """JOURNAL_STREAM for the log file procs.start(name) will write to."""
    path = procs.log_path(name)
    open(path, "ab").close()
    st = os.stat(path)
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def wait_log(procs, name, words, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if words in procs.log(name):
            return True
        time.sleep(0.05)
    return False


def lines(procs, name):
    return [ln for ln in procs.log(name).splitlines() if ln]


def journal_checks(procs, name, level):
    got = lines(procs, name)
    bare = [ln for ln in got if not PRIORITY.match(ln)]
    c(f"{name} at {level}: every line begins with <N> ({len(got)} lines)",
      got and not bare, "\n".join(bare[:5]))
    if level == "info":
        debug = [ln for ln in got if ln.startswith("<7>") or FD_OWN.search(ln)]
        c(f"{name} at info: no debug line, none of freeDiameter's traces", not debug,
          "\n".join(debug[:5]))


def hss_cmd(hss_bin, procs, port, level):
    return [hss_bin, "--db", os.path.join(procs.dir, "hss.db"), "--create-db",
            "--listen", f"127.0.0.1:{port}", "--zh.transport", "tcp", "--log-level", level]


def hss_and_bsf(hss_bin, bsf_bin):
    """gba-hss-sim and a gba-bsf in Zh mode toward it, both at info."""
    import bsfenv
    with gbatest.Processes() as procs:
        port = gbatest.free_port()
        procs.start("hss", hss_cmd(hss_bin, procs, port, "info"), wait_port=port,
                    env=journal_env(procs, "hss"))
        bsf = bsfenv.Bsf(procs, bsfenv.Tools([None, bsf_bin, "-", "-"]), extra={
            "embedded.create_db": "yes", "av.source": "zh", "log.level": "info",
            "zh.origin_host": "bsf.gba.test", "zh.origin_realm": "gba.test",
            "zh.hss_host": "127.0.0.1", "zh.hss_port": str(port), "zh.hss_realm": "gba.test",
            "zh.hss_identity": "hss.gba.test", "zh.transport": "tcp"}, env=journal_env(procs, "bsf")).start()
        c("gba-bsf's Zh peer is up (freeDiameter ran its state machine)",
          wait_log(procs, "bsf", "connection open"), bsf.log()[-2000:])
        c("gba-hss-sim: the BSF's peer accepted, at info",
          wait_log(procs, "hss", "<6>info: accepting peer bsf.gba.test"),
          procs.log("hss")[-2000:])
        c("gba-bsf: SIGTERM, exit 0", bsf.stop() == 0)
        c("gba-hss-sim: SIGTERM, exit 0", procs.stop("hss") == 0)
        journal_checks(procs, "hss", "info")
        journal_checks(procs, "bsf", "info")


def hss_debug(hss_bin):
    """At debug, freeDiameter's own lines come, as <7>debug."""
    with gbatest.Processes() as procs:
        port = gbatest.free_port()
        procs.start("hss", hss_cmd(hss_bin, procs, port, "debug"), wait_port=port,
                    env=journal_env(procs, "hss"))
        c("gba-hss-sim: SIGTERM, exit 0", procs.stop("hss") == 0)
        journal_checks(procs, "hss", "debug")
        fd = [ln for ln in lines(procs, "hss") if FD_OWN.search(ln)]
        c("gba-hss-sim at debug: freeDiameter's lines are there, all <7>debug",
          fd and all(ln.startswith("<7>debug: ") for ln in fd), "\n".join(fd[:5]))


def hss_plain(hss_bin):
    """JOURNAL_STREAM inherited but naming another file: the plain form."""
    with gbatest.Processes() as procs:
        port = gbatest.free_port()
        other = os.path.join(procs.dir, "other")
        open(other, "w").close()
        st = os.stat(other)
        procs.start("hss", hss_cmd(hss_bin, procs, port, "info"), wait_port=port,
                    env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        c("gba-hss-sim: SIGTERM, exit 0", procs.stop("hss") == 0)
        got = lines(procs, "hss")
        plain = re.compile(r"^gba-hss-sim: (info|warn|error): ")
        c("another file's JOURNAL_STREAM: plain lines 'gba-hss-sim: LEVEL: ...'",
          got and all(plain.match(ln) for ln in got) and
          any(ln.startswith("gba-hss-sim: info: ") for ln in got), "\n".join(got))


def naf_and_bsf(argv):
    """gba-naf at info, Zn over Diameter to a gba-bsf."""
    import test_naf_e2e
    with gbatest.Processes() as procs:
        env = test_naf_e2e.Env(procs, [None, argv[1], argv[0], argv[2], argv[3], argv[4]])
        env.start_bsf()
        naf = env.start_naf(args=["--set", "log.level=info"], env=journal_env(procs, "naf"))
        c("gba-naf's Zn peer is up", wait_log(procs, "naf", "<6>info: zn: peer "),
          procs.log("naf")[-2000:])
        c("gba-naf: SIGTERM, exit 0", procs.stop(naf["name"]) == 0)
        journal_checks(procs, "naf", "info")


def main():
    hss_bin, bsf_bin = sys.argv[1:3]
    hss_and_bsf(hss_bin, bsf_bin)
    hss_debug(hss_bin)
    hss_plain(hss_bin)
    if len(sys.argv) > 3:
        # gba-naf, gba-bsf, gba-subscriber, m2m-node, gba-target
        naf_and_bsf([sys.argv[3], bsf_bin] + sys.argv[4:7])
    checks.finish()


if __name__ == "__main__":
    main()
