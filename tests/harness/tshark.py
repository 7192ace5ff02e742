"""tshark - capture a test's Diameter traffic on lo and read it back with
Wireshark's own dictionary (an independent check of what we send).

    cap = tshark.start(procs, TSHARK, port, "zh.pcapng")   # None: no tshark,
                                        # decode="tls" for a TLS port
    ... exchanges ...                                      # or not capturing
    ok = cap.stop()                  # False if tshark missed the end
    text = cap.read("-Y", "diameter", "-V")
    bad = cap.problems()             # malformed packets, expert warnings

tshark says 'Capturing on' a moment before packets really flow, and writes
them a moment after they flow: so the capture sends UDP datagrams to a port
of its own until tshark's packet summaries (-P) show one, before the test's
exchanges and again after them.  The capture lasts at most 120 s.
"""
import os
import re
import signal
import socket
import time

import gbatest


class Capture:
    def __init__(self, procs, tshark, port, pcap_name, decode="diameter"):
        self.procs, self.tshark, self.port, self.decode = procs, tshark, port, decode
        self.pcap = os.path.join(procs.dir, pcap_name)
        self.ping_port = gbatest.free_port()
        procs.start("tshark", [tshark, "-i", "lo", "-f",
                               f"tcp port {port} or udp port {self.ping_port}",
                               "-w", self.pcap, "-P", "-l", "-a", "duration:120"])

    def sync(self, payload, timeout=20.0):
        """Send payload until tshark has seen it; False if it never does."""
        seen = re.compile(rf"UDP \d+ \d+ . {self.ping_port} Len={len(payload)}\b")
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ping:
            while time.monotonic() < deadline:
                if self.procs.procs["tshark"].poll() is not None:
                    return False
                ping.sendto(payload, ("127.0.0.1", self.ping_port))
                time.sleep(0.1)
                if seen.search(self.procs.log("tshark")):
                    return True
        return False

    def stop(self):
        """End the capture once tshark has seen everything sent before."""
        synced = self.sync(b"capture-done")
        self.procs.stop("tshark", sig=signal.SIGINT)
        return synced

    def read(self, *args):
        """tshark -r on the capture, the test's port decoded as Diameter (or
        as decode says)."""
        return gbatest.run([self.tshark, "-r", self.pcap, "-d",
                            f"tcp.port=={self.port},{self.decode}", *args], timeout=60).stdout

    def problems(self):
        """(malformed packets or Diameter expert warnings/errors, expert
        summary entries outside TCP analysis).  TCP's own analysis
        (duplicate ACKs, SACKs on a busy loopback) is not about what we send;
        every other warning or error, and any malformed packet, is."""
        bad = self.read("-Y", "_ws.malformed || (diameter && _ws.expert.severity >= 0x00600000)")
        expert = [e for e in expert_entries(self.read("-q", "-z", "expert")) if e[1] != "TCP"]
        return bad.strip(), expert


def expert_entries(summary):
    """(severity, protocol, text) of each Error/Warning line of '-z expert'."""
    entries, severity = [], None
    for line in summary.splitlines():
        head = re.match(r"(Errors|Warns|Notes|Chats|Comments) \(\d+\)", line)
        if head:
            severity = head.group(1)
            continue
        row = re.match(r"\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)", line)
        if row and severity in ("Errors", "Warns") and row.group(1) != "Frequency":
            entries.append((severity, row.group(3), row.group(4).strip()))
    return entries


def start(procs, tshark, port, pcap_name, decode="diameter"):
    """A running capture, or None when tshark is missing or never captures."""
    if not tshark:
        return None
    cap = Capture(procs, tshark, port, pcap_name, decode)
    return cap if cap.sync(b"capture-ready?") else None
