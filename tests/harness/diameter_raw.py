"""diameter_raw - a Diameter client written by hand (RFC 6733 framing), for
the tests that must do what no honest freeDiameter does: claim in its CER
an identity its TLS certificate does not name (freeDiameter refuses to
start with such a certificate), or talk plain TCP to a TLS port.

    c = diameter_raw.Client(port, origin="naf.zn.test", realm="zn.test",
                            app=diameter_raw.APP_ZN, tls=(cert, key, ca))
    code = c.cer()          # the CEA's Result-Code, or None: connection refused
    avps = c.bir(btid, naf_id, dest_host, dest_realm)
"""
import os
import socket
import ssl
import struct

APP_ZH = 16777221
APP_ZN = 16777220
VENDOR_3GPP = 10415
FLAG_V, FLAG_M = 0x80, 0x40


def avp(code, data, vendor=0, mandatory=True):
    flags = (FLAG_M if mandatory else 0) | (FLAG_V if vendor else 0)
    head = 12 if vendor else 8
    out = struct.pack(">IB", code, flags) + (head + len(data)).to_bytes(3, "big")
    if vendor:
        out += struct.pack(">I", vendor)
    out += data
    return out + b"\0" * (-len(out) % 4)


def u32(code, v, vendor=0, mandatory=True):
    return avp(code, struct.pack(">I", v), vendor, mandatory)


def message(code, app, flags, avps, hbh=1):
    body = b"".join(avps)
    return (struct.pack(">B", 1) + (20 + len(body)).to_bytes(3, "big") + struct.pack(">B", flags)
            + code.to_bytes(3, "big") + struct.pack(">III", app, hbh, hbh) + body)


def parse_avps(data):
    """{code: [value, ...]} of the top-level AVPs (grouped ones as dicts)."""
    out = {}
    while len(data) >= 8:
        code, flags = struct.unpack(">IB", data[:5])
        length = int.from_bytes(data[5:8], "big")
        head = 12 if flags & FLAG_V else 8
        if length < head or length > len(data):
            break
        value = data[head:length]
        out.setdefault(code, []).append(value)
        data = data[length + (-length % 4):]
    return out


class Client:
    def __init__(self, port, origin, realm, app, tls=None, timeout=5.0):
        self.origin, self.realm, self.app = origin, realm, app
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = raw
        self.handshake_error = None
        if tls:
            cert, key, ca = tls
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_cert_chain(cert, key)
            ctx.load_verify_locations(ca)
            ctx.check_hostname = False   # the server's name is not the point here
            try:
                self.sock = ctx.wrap_socket(raw)
            except (ssl.SSLError, OSError) as e:
                self.handshake_error = str(e)
                raw.close()
                self.sock = None

    def close(self):
        if self.sock:
            self.sock.close()

    def send(self, msg):
        self.sock.sendall(msg)

    def recv(self):
        """(command code, {avp code: [values]}) of the next message, or None
        when the peer closes or says nothing."""
        try:
            head = self._read(20)
            if not head:
                return None
            length = int.from_bytes(head[1:4], "big")
            body = self._read(length - 20)
            if body is None:
                return None
        except (OSError, ssl.SSLError):
            return None
        return int.from_bytes(head[5:8], "big"), parse_avps(body)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def cer(self):
        """Send a CER; the CEA's Result-Code, or None (refused, closed)."""
        if not self.sock:
            return None
        vsai = avp(260, u32(266, VENDOR_3GPP) + u32(258, self.app))
        try:
            self.send(message(257, 0, 0x80, [
                avp(264, self.origin.encode()), avp(296, self.realm.encode()),
                avp(257, b"\0\1" + socket.inet_aton("127.0.0.1")), u32(266, 0),
                avp(269, b"diameter_raw", mandatory=False), u32(265, VENDOR_3GPP), vsai]))
        except (OSError, ssl.SSLError):
            return None
        ans = self.recv()
        if not ans or ans[0] != 257 or 268 not in ans[1]:
            return None
        return struct.unpack(">I", ans[1][268][0])[0]

    def bir(self, btid, naf_id, dest_host, dest_realm):
        """Send a BIR; the BIA's AVPs, or None (closed, no answer)."""
        sid = f"{self.origin};{os.getpid()};{os.urandom(4).hex()};zn".encode()
        try:
            self.send(message(310, APP_ZN, 0xC0, [
                avp(263, sid), avp(260, u32(266, VENDOR_3GPP) + u32(258, APP_ZN)),
                u32(277, 1), avp(264, self.origin.encode()), avp(296, self.realm.encode()),
                avp(283, dest_realm.encode()), avp(293, dest_host.encode()),
                avp(401, btid.encode(), VENDOR_3GPP), avp(402, naf_id, VENDOR_3GPP)], hbh=2))
        except (OSError, ssl.SSLError):
            return None
        ans = self.recv()
        return ans[1] if ans and ans[0] == 310 else None
