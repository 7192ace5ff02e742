"""test_bsf_https - Ub over HTTPS: a throwaway certificate made with certtool
in the test's directory, gba-bsf serving TLS with it, a bootstrap by
gba-test-ue through a local TLS relay (the test UE speaks plain HTTP), the
challenge read directly over TLS with the certificate verified, and plain
HTTP on the TLS port refused without harm.

    python3 test_bsf_https.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import http.client
import os
import select
import shutil
import socket
import ssl
import sys
import threading

import bsfenv
import gbatest
from bsfenv import IMPI

SKIP = 77  # meson's "skipped"


def make_cert(directory):
    """An ECDSA key and a self-signed certificate for 127.0.0.1, one day."""
    key = os.path.join(directory, "bsf.key")
    cert = os.path.join(directory, "bsf.crt")
    tmpl = os.path.join(directory, "cert.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "127.0.0.1"\nip_address = "127.0.0.1"\nexpiration_days = 1\n'
                "tls_www_server\nsigning_key\nserial = 1\n")
    r = gbatest.run(["certtool", "--generate-privkey", "--key-type", "ecdsa",
                     "--outfile", key])
    if r.returncode:
        raise RuntimeError("certtool key: " + r.stderr)
    r = gbatest.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                     "--template", tmpl, "--outfile", cert])
    if r.returncode:
        raise RuntimeError("certtool cert: " + r.stderr)
    return cert, key


class TlsRelay:
    """Plain TCP on a free port, relayed over TLS to the BSF, one thread per connection."""

    def __init__(self, target_port, cafile):
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.target = target_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn):
        try:
            raw = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            tls = self.ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        except OSError:
            conn.close()
            return
        socks = [conn, tls]
        try:
            while not self.stop.is_set():
                readable, _, _ = select.select(socks, [], [], 0.2)
                if tls in socks and tls.pending():
                    readable.append(tls)
                for s in set(readable):
                    data = s.recv(65536)
                    if not data:
                        return
                    (tls if s is conn else conn).sendall(data)
        except OSError:
            pass
        finally:
            conn.close()
            tls.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


def main():
    if not shutil.which("certtool"):
        print("SKIP: certtool (gnutls-bin) is not installed")
        sys.exit(SKIP)
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        bsfenv.add_subscriber(tools, db)
        cert, key = make_cert(procs.dir)
        bsf = bsfenv.Bsf(procs, tools, db=db, tls=(cert, key)).start()
        checks.check("gba-bsf starts with a TLS certificate", bsf.alive())

        ctx = ssl.create_default_context(cafile=cert)
        c = http.client.HTTPSConnection("127.0.0.1", bsf.port, context=ctx, timeout=10)
        c.request("GET", "/", headers={"Authorization": bsfenv.first_auth(),
                                       "User-Agent": "3gpp-gba"})
        r = c.getresponse()
        r.read()
        checks.check("HTTPS: certificate verified, 401 with a Digest AKA challenge",
                     r.status == 401 and "AKAv1-MD5" in (r.getheader("WWW-Authenticate") or ""))
        checks.check("HTTPS: TLS 1.2 or later", c.sock.version() in ("TLSv1.2", "TLSv1.3"),
                     str(c.sock.version()))
        c.close()

        relay = TlsRelay(bsf.port, cert)
        try:
            rc, out = bsfenv.run_ue(tools, f"http://127.0.0.1:{relay.port}/",
                                    os.path.join(procs.dir, "card.sqn"))
        finally:
            relay.close()
        checks.check("a full bootstrap over HTTPS", rc == 0 and out.get("result") == "ok", str(out))
        status, sess = bsf.session(out.get("btid", ""))
        checks.check("its session is stored", status == 200 and sess and sess.get("impi") == IMPI)

        try:
            status, _, _ = bsfenv.raw_request(bsf.port,
                                              bsfenv.get(f"127.0.0.1:{bsf.port}",
                                                         bsfenv.first_auth()))
        except OSError:
            status = None
        checks.check("plain HTTP on the TLS port gets no Ub answer", status is None or status >= 400,
                     str(status))
        checks.check("gba-bsf is still running", bsf.alive())
        bsf.check_clean_stop(checks)
    checks.finish()


if __name__ == "__main__":
    main()
