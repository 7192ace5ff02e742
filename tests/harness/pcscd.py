"""pcscd - a private pcscd with the vpcd (virtual smart card) driver, for tests.

    import gbatest, pcscd
    with gbatest.Processes() as procs:
        reader = pcscd.start(procs)          # skips (exit 77) if impossible here
        procs.start("card", [usim_sim, "--profile", p, "--state", s,
                             "--vpcd", f"127.0.0.1:{reader.vpcd_port}"])
        reader.wait_card()                   # until pcscd sees a card (bounded)
        gbatest.run([my_pcsc_client, ...], env=reader.env)   # PCSCLITE_CSOCK_NAME
    # procs stops pcscd (and the card) on exit

API (all waits bounded):
  start(procs, name="pcscd", timeout=10, port=None) -> Reader
      Starts pcscd -f under procs (log in procs.log(name)) with a private
      reader.conf.d that has one vpcd reader on a free port, and a private
      socket.  Raises Unavailable (SkipTest-like) when no private pcscd can
      run here; call skip_if_unavailable() style handling yourself, or let
      start() exit 77 with exit_on_unavailable=True (the default).
  Reader.vpcd_port  the TCP port the card (gba-usim-sim --vpcd) connects to
  Reader.socket     the pcscd socket path
  Reader.env        {"PCSCLITE_CSOCK_NAME": socket}: pass it to PC/SC clients
  Reader.reader_name  "Virtual PCD 00 00", the reader the card appears in
  Reader.wait_card(timeout=10) / wait_no_card(timeout=10): wait until a card
      is (no longer) connected to the vpcd port, plus pcscd's polling period

How it is private: pcscd 1.9.9 takes -c <dir> for its reader.conf.d, but
its server socket is always /run/pcscd/pcscd.comm (only the client library
honours PCSCLITE_CSOCK_NAME).  So pcscd runs in its own mount namespace
(`unshare --mount`, or `unshare -r --mount` when not root) where a private
directory is bind-mounted on /run/pcscd; the socket it creates there is
reachable from outside at <private dir>/pcscd.comm, which is what
PCSCLITE_CSOCK_NAME points clients at.  The system pcscd, if any, is not
touched.  Note: the vpcd driver itself listens on all addresses (0.0.0.0),
which its DEVICENAME syntax cannot change; the port is a free one.
"""
import os
import random
import shutil
import socket
import subprocess
import sys
import time

import gbatest

VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"


class Unavailable(Exception):
    """No private pcscd can run on this machine (reason in the message)."""


class Reader:
    def __init__(self, procs, name, vpcd_port, sock):
        self.procs = procs
        self.name = name
        self.vpcd_port = vpcd_port
        self.socket = sock
        self.env = {"PCSCLITE_CSOCK_NAME": sock}
        self.reader_name = "Virtual PCD 00 00"

    def _card_connected(self):
        """True when a card holds the vpcd port (vpcd accepts one card)."""
        try:
            out = subprocess.run(["ss", "-Htn", "state", "established",
                                  f"( sport = :{self.vpcd_port} )"],
                                 capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.TimeoutExpired):
            return False
        return bool(out.strip())

    def wait_card(self, timeout=10.0):
        """Wait until a card is connected to the vpcd port; raise after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._card_connected():
                time.sleep(0.3)   # let pcscd's poll (every 400 ms) see it
                return
            time.sleep(0.05)
        raise TimeoutError(f"no card on vpcd port {self.vpcd_port} after {timeout} s")

    def wait_no_card(self, timeout=10.0):
        """Wait until no card is connected to the vpcd port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._card_connected():
                time.sleep(0.5)
                return
            time.sleep(0.05)
        raise TimeoutError(f"card still on vpcd port {self.vpcd_port} after {timeout} s")


def _unshare_prefix():
    if shutil.which("unshare") is None:
        raise Unavailable("unshare (util-linux) not found")
    if os.geteuid() == 0:
        return ["unshare", "--mount", "--propagation", "private"]
    return ["unshare", "-r", "--mount", "--propagation", "private"]


def _check_prerequisites():
    if shutil.which("pcscd") is None:
        raise Unavailable("pcscd not installed (Debian: pcscd)")
    if not os.path.exists(VPCD_DRIVER):
        raise Unavailable(f"{VPCD_DRIVER} missing (Debian: vsmartcard-vpcd)")


def _write_conf(confdir, port):
    os.makedirs(confdir, exist_ok=True)
    with open(os.path.join(confdir, "vpcd"), "w") as f:
        # DEVICENAME /dev/null:<port>: vpcd listens on <port> for the card.
        f.write('FRIENDLYNAME "Virtual PCD"\n')
        f.write(f"DEVICENAME   /dev/null:0x{port:04X}\n")
        f.write(f"LIBPATH      {VPCD_DRIVER}\n")
        f.write(f"CHANNELID    0x{port:04X}\n")


def _listening(port):
    try:
        out = subprocess.run(["ss", "-Hltn", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(out.strip())


def _free_port_pair():
    """vpcd opens port and port+1 (two slots) on every address, without
    SO_REUSEADDR; find a free pair.  Below the kernel's ephemeral range
    (32768 up): there, the thousands of client sockets the load tests leave
    in TIME_WAIT made vpcd's bind fail again and again."""
    for _ in range(200):
        p = random.randrange(20000, 32000)
        try:
            for port in (p, p + 1):
                with socket.socket() as s:
                    s.bind(("0.0.0.0", port))
        except OSError:
            continue
        return p
    raise Unavailable("no free port pair for vpcd")


def start(procs, name="pcscd", timeout=10.0, exit_on_unavailable=True, port=None):
    """Start a private pcscd with one vpcd reader; returns a Reader.

    port: reuse a vpcd port (e.g. the Reader.vpcd_port of a pcscd that was
    stopped, to test that the card reconnects); default: a free one.
    """
    try:
        _check_prerequisites()
        prefix = _unshare_prefix()
    except Unavailable as e:
        if exit_on_unavailable:
            print(f"SKIP: private pcscd impossible here: {e}")
            sys.exit(77)
        raise
    # The free port can be taken by another test between the check and
    # vpcd's bind (vpcd then says "Address already in use"): another port,
    # a bounded number of times.
    for attempt in range(5):
        try:
            return _start_once(procs, name, timeout, exit_on_unavailable, prefix,
                               port or _free_port_pair())
        except TimeoutError:
            if port or attempt == 4 or "Address already in use" not in procs.log(name):
                raise
            procs.stop(name)
            os.unlink(procs.log_path(name))


def _start_once(procs, name, timeout, exit_on_unavailable, prefix, port):
    base = os.path.join(procs.dir, name)
    rundir = os.path.join(base, "run")
    confdir = os.path.join(base, "reader.conf.d")
    os.makedirs(rundir, exist_ok=True)
    _write_conf(confdir, port)
    sock = os.path.join(rundir, "pcscd.comm")
    for stale in (sock, os.path.join(rundir, "pcscd.pid")):
        if os.path.exists(stale):   # left by a pcscd that was killed
            os.unlink(stale)
    inner = (f"mkdir -p /run/pcscd && mount --bind '{rundir}' /run/pcscd && "
             f"exec pcscd -f -c '{confdir}'")
    procs.start(name, prefix + ["sh", "-c", inner])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = procs.procs.get(name)
        if proc is not None and proc.poll() is not None:
            msg = f"pcscd exited with {proc.returncode}: {procs.log(name)[-400:]}"
            if exit_on_unavailable:
                print(f"SKIP: private pcscd impossible here: {msg}")
                sys.exit(77)
            raise Unavailable(msg)
        # Not a connect() probe: vpcd would take it for a card.
        if os.path.exists(sock) and _listening(port):
            return Reader(procs, name, port, sock)
        if "Address already in use" in procs.log(name):
            raise TimeoutError(f"vpcd port {port} taken:\n{procs.log(name)}")
        time.sleep(0.05)
    raise TimeoutError(f"private pcscd not ready after {timeout} s:\n{procs.log(name)}")
