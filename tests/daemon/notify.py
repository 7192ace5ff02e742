"""notify - the receiving end of systemd's notification protocol, as
systemd has it: an AF_UNIX datagram socket whose path goes to the daemon as
NOTIFY_SOCKET, with SO_PASSCRED so that each datagram names the process that
sent it (systemd keeps only the main PID's, NotifyAccess=main).

    with notify.Socket(procs.dir) as n:
        procs.start("hss", argv, env=n.env())
        pid, fields = n.wait("READY", proc)
"""
import os
import select
import socket
import struct
import time


class Socket:
    def __init__(self, dir):
        self.path = os.path.join(dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.seen = []   # (pid, {field: value}) in the order they came

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
        return False

    def env(self, extra=None):
        return dict(extra or {}, NOTIFY_SOCKET=self.path)

    def _receive(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", value[:12])[0]
        fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
        self.seen.append((pid, fields))
        return pid, fields

    def wait(self, field, proc, timeout=20.0):
        """The first datagram with field=1 from now on: (pid, fields); None
        when proc exits or timeout passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._receive(0.05)
            if got and got[1].get(field) == "1":
                return got
            if got is None and proc.poll() is not None:
                return None
        return None
