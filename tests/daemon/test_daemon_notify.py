"""test_daemon_notify - sd_notify(3) from every daemon (lib/daemon/
gba_notify.c) to a real AF_UNIX datagram socket named by NOTIFY_SOCKET, as
systemd runs a Type=notify unit: READY=1 comes from the main process only
once its listeners accept connections (each one is connected to the moment
READY=1 arrives), STOPPING=1 on SIGTERM, before the process exits 0, and
STATUS= lines say what it is doing.

    test_daemon_notify.py GBA_HSS_SIM GBA_BSF GBA_USIM_SIM PROFILES_DIR \
        [GBA_NAF GBA_SUBSCRIBER M2M_NODE GBA_TARGET]
"""
import os
import signal
import socket
import sys

import gbatest
import notify

checks = gbatest.Checks()
c = checks.check


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def run_daemon(procs, name, argv, ports, ready_check=None):
    """Start argv with NOTIFY_SOCKET, wait for READY=1, check that ports
    accept at once (and ready_check()), then SIGTERM: STOPPING=1, exit 0."""
    with notify.Socket(procs.dir) as n:
        proc = procs.start(name, argv, env=n.env())
        got = n.wait("READY", proc)
        if not c(f"{name}: READY=1", got is not None, procs.log(name)[-2000:]):
            return
        up = [p for p in ports if accepts(p)]
        c(f"{name}: its listeners accept when READY=1 comes ({len(ports)})",
          up == list(ports), f"{up} of {ports}")
        if ready_check:
            c(f"{name}: ready when READY=1 comes", ready_check())
        c(f"{name}: READY=1 from the main process (NotifyAccess=main)",
          got[0] == proc.pid, f"{got[0]} != {proc.pid}")
        c(f"{name}: STATUS= with READY=1", bool(got[1].get("STATUS")), got[1])
        early = [f for _, f in n.seen[:-1] if f.get("STOPPING")]
        c(f"{name}: no STOPPING=1 before the stop", not early, n.seen)
        proc.send_signal(signal.SIGTERM)
        got = n.wait("STOPPING", proc, timeout=10.0)
        c(f"{name}: SIGTERM -> STOPPING=1 from the main process",
          got is not None and got[0] == proc.pid, n.seen)
        code = procs.stop(name)
        c(f"{name}: then exit 0", code == 0, f"exit {code}\n{procs.log(name)[-2000:]}")


def hss(procs, hss_bin):
    port = gbatest.free_port()
    run_daemon(procs, "hss", [hss_bin, "--db", os.path.join(procs.dir, "hss.db"),
                              "--create-db", "--listen", f"127.0.0.1:{port}",
                              "--zh.transport", "tcp"], [port])


def bsf(procs, bsf_bin):
    import bsfenv
    b = bsfenv.Bsf(procs, bsfenv.Tools([None, bsf_bin, "-", "-"]),
                   extra={"embedded.create_db": "yes"})
    run_daemon(procs, "bsf", [bsf_bin, "--config", b.config], [b.port, b.admin_port])


def usim(procs, sim_bin, profiles):
    link = os.path.join(procs.dir, "ttyGBA")

    def answers_at():
        import termios
        import tty
        import select
        fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            termios.tcflush(fd, termios.TCIOFLUSH)
            os.write(fd, b"AT\r")
            buf = b""
            while select.select([fd], [], [], 5.0)[0]:
                buf += os.read(fd, 256)
                if buf.endswith(b"OK\r\n"):
                    return True
            return False
        finally:
            os.close(fd)

    run_daemon(procs, "usim", [sim_bin, "--profile", os.path.join(profiles, "demo.conf"),
                               "--state", os.path.join(procs.dir, "card.state"),
                               "--modem", link], [], answers_at)


def naf(procs, argv):
    import test_naf_e2e
    env = test_naf_e2e.Env(procs, [None, argv[1], argv[0], argv[2], argv[3], argv[4]])
    ports = {k: gbatest.free_port() for k in ("digest", "tls", "admin")}
    conf = env.naf_conf("naf", ports)
    run_daemon(procs, "naf", [argv[0], "--config", conf],
               [ports["digest"], ports["tls"], ports["admin"]])


def main():
    hss_bin, bsf_bin, sim_bin, profiles = sys.argv[1:5]
    with gbatest.Processes() as procs:
        hss(procs, hss_bin)
    with gbatest.Processes() as procs:
        bsf(procs, bsf_bin)
    with gbatest.Processes() as procs:
        usim(procs, sim_bin, profiles)
    if len(sys.argv) > 5:
        with gbatest.Processes() as procs:
            # gba-naf, gba-bsf, gba-subscriber, m2m-node, gba-target
            naf(procs, [sys.argv[5], bsf_bin] + sys.argv[6:9])
    checks.finish()


if __name__ == "__main__":
    main()
