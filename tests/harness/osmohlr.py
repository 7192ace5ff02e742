"""osmohlr - Debian's osmo-hlr for tests and the demo: its own config file
and database in a temporary directory, on a loopback address of its own
(osmo-hlr 1.5's ports are fixed: 4222 GSUP, 4258 VTY, 4259 CTRL, so parallel
runs each take a 127.x.y.z), subscribers provisioned through its VTY as a
lab does.
"""
import os
import random
import socket
import sqlite3
import time

GSUP_PORT, VTY_PORT = 4222, 4258


def free_loopback():
    """A 127.x.y.z address whose GSUP port nobody holds."""
    for _ in range(50):
        addr = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        with socket.socket() as s:
            try:
                s.bind((addr, GSUP_PORT))
                return addr
            except OSError:
                continue
    raise RuntimeError("no free loopback address")


def wait_addr(addr, port, timeout, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Hlr:
    """osmo-hlr with its config file and database in the test's directory."""

    def __init__(self, procs, addr):
        self.procs, self.addr = procs, addr
        self.db = os.path.join(procs.dir, "hlr.db")
        self.config = os.path.join(procs.dir, "osmo-hlr.cfg")
        with open(self.config, "w") as f:
            f.write("log stderr\n logging level main notice\n logging level db notice\n"
                    " logging level auc notice\n"
                    f"line vty\n bind {addr}\nctrl\n bind {addr}\n"
                    f"hlr\n gsup\n  bind ip {addr}\n")

    def start(self):
        proc = self.procs.start("hlr", ["osmo-hlr", "-c", self.config, "-l", self.db])
        if not (wait_addr(self.addr, GSUP_PORT, 10, proc) and
                wait_addr(self.addr, VTY_PORT, 10, proc)):
            raise RuntimeError("osmo-hlr did not start: " + self.procs.log("hlr")[-2000:])
        return proc

    def vty(self, *commands):
        """Run commands at the enable node; returns the transcript."""
        out = b""
        with socket.create_connection((self.addr, VTY_PORT), timeout=5) as s:
            for cmd in ("enable",) + commands:
                s.sendall(cmd.encode() + b"\r\n")
                buf = b""
                while not buf.rstrip().endswith(b"OsmoHLR#") or cmd.encode() not in buf:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
                out += buf
        return out.decode(errors="replace")

    def seq(self, imsi):
        """SEQ of the subscriber's last SQN in osmo-hlr's database (IND 5 bits)."""
        with sqlite3.connect(self.db, timeout=5) as db:
            row = db.execute("SELECT sqn FROM auc_3g JOIN subscriber ON id = subscriber_id"
                             " WHERE imsi = ?", (imsi,)).fetchone()
        return row[0] >> 5 if row else None

    def add(self, imsi, k, opc):
        return self.vty(f"subscriber imsi {imsi} create",
                        f"subscriber imsi {imsi} update aud3g milenage k {k} opc {opc} "
                        "ind-bitlen 5")
