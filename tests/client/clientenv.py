"""clientenv - what gba-client's end-to-end tests share: a gba-bsf with
subscribers (tests/bsf/bsfenv.py), gba-client runs with JSON output, the
BSF's own view of a session (its SQLite store) and Ks_NAF computed here
from it with Python's hmac - an independent check of the client's KDF.

    python3 test_x.py GBA_CLIENT GBA_BSF GBA_SUBSCRIBER [more...]
"""
import hashlib
import hmac
import json
import os
import sqlite3
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bsf"))
import bsfenv  # noqa: E402
import gbatest  # noqa: E402

K, OPC, OTHER_K, IMPI = bsfenv.K, bsfenv.OPC, bsfenv.OTHER_K, bsfenv.IMPI
IMSI = "001010000000001"
UA_HTTP_DIGEST = bytes.fromhex("0100000002")


class Tools:
    def __init__(self, argv=None):
        argv = argv if argv is not None else sys.argv
        if len(argv) < 4:
            print("usage: test.py GBA_CLIENT GBA_BSF GBA_SUBSCRIBER ...", file=sys.stderr)
            sys.exit(2)
        self.client, self.bsf, self.subscriber = argv[1], argv[2], argv[3]
        self.extra = argv[4:]
        self.ue = None


def start_bsf(procs, tools, extra=None, subscribers=((IMPI, K, OPC),)):
    db = os.path.join(procs.dir, "subscribers.db")
    for impi, k, opc in subscribers:
        bsfenv.add_subscriber(tools, db, impi=impi, k=k, opc=opc)
    # commit_ms=0: a session is in the file when the 200 leaves, so the test
    # can read the BSF's Ks right after the client's bootstrap.
    store = "sqlite:" + os.path.join(procs.dir, "bsf-sessions.db") + "?commit_ms=0"
    return bsfenv.Bsf(procs, tools, db=db, store=store, extra=extra).start()


def soft_card(dirname, name="card.key", imsi=IMSI, k=K, opc=OPC, mode=0o600):
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        f.write(f"# soft card for tests\nimsi = {imsi}\nmnc_len = 2\nalgorithm = milenage\n"
                f"k = {k}\nopc = {opc}\n")
    os.chmod(path, mode)
    return path


def client(tools, args, timeout=60, env=None):
    """Run gba-client --json ARGS; (exit code, JSON or {}, stderr)."""
    full_env = dict(os.environ)
    full_env.pop("GBA_CLIENT_CARD", None)
    if env:
        full_env.update(env)
    import subprocess
    r = subprocess.run([tools.client, "--json", *args], capture_output=True, text=True,
                       timeout=timeout, env=full_env)
    try:
        out = json.loads(r.stdout) if r.stdout.strip() else {}
    except ValueError:
        out = {"raw": r.stdout}
    return r.returncode, out, r.stderr


def _read_session(bsf, rand_hex):
    path = bsf.store[len("sqlite:"):].split("?")[0]
    con = sqlite3.connect(path, timeout=10)
    try:
        return con.execute("SELECT ks, impi, type FROM session WHERE rand = ?",
                           (bytes.fromhex(rand_hex),)).fetchone()
    finally:
        con.close()


def bsf_session(bsf, rand_hex):
    """(ks bytes, impi, type) the BSF stored for this RAND (its SQLite store).

    The BSF's SQLite store does not always show a session to other
    processes while the BSF runs (its transaction is still open), so when
    the row is not there yet the BSF is stopped cleanly (which commits) and
    started again on the same ports with the same store."""
    if rand_hex is None:
        return None
    row = _read_session(bsf, rand_hex)
    if row is None and bsf.alive():
        bsf.stop()
        row = _read_session(bsf, rand_hex)
        bsf.start()
    return row


def context_rand(path):
    with open(path) as f:
        for line in f:
            if line.startswith("rand ="):
                return line.split("=", 1)[1].strip()
    return None


def kdf(key, fc, *params):
    """TS 33.220 Annex B: HMAC-SHA-256(key, FC || P0 || L0 || ...)."""
    s = bytes([fc])
    for p in params:
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(key, s, hashlib.sha256).digest()


def ks_naf(ks, rand, impi, fqdn, ua=UA_HTTP_DIGEST, label=b"gba-me"):
    return kdf(ks, 0x01, label, rand, impi.encode(), fqdn.encode() + ua)


def kcv(key):
    return hashlib.sha256(key).digest()[:3].hex()


class SlowProxy:
    """A TCP proxy on 127.0.0.1 to the BSF that holds back the answer to the
    first request for delay seconds (first_request is set when it arrives):
    time for a test to pull the card while the client waits.  rewrite, when
    given, may change the BSF's bytes (same length) on their way back."""

    def __init__(self, target_port, delay, rewrite=None):
        self.target, self.delay, self.rewrite = target_port, delay, rewrite
        self.first_request = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _pipe(self, a, b, hold):
        try:
            while not self.stop:
                data = a.recv(65536)
                if not data:
                    break
                if hold and not self.first_request.is_set():
                    self.first_request.set()
                elif not hold and self.delay:
                    time.sleep(self.delay)
                    self.delay = 0
                if not hold and self.rewrite:
                    data = self.rewrite(data)
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def _serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            threading.Thread(target=self._pipe, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, False), daemon=True).start()

    def close(self):
        self.stop = True
        self.sock.close()
        self.thread.join(5)


def start_card(procs, tools, name, profile, transport, extra=()):
    """gba-usim-sim with PROFILE (from the profile dir, tools.extra[1]) on a
    transport (--vpcd ... or --modem ...); (process, its state file)."""
    state = os.path.join(procs.dir, name + ".state")
    argv = [tools.extra[0], "--profile", os.path.join(tools.extra[1], profile),
            "--state", state, *transport, *extra]
    return procs.start(name, argv), state


def wait_path(path, proc, timeout=10.0):
    """Until path exists (the modem pty's link), bounded; False if proc died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def wait_pcsc_card(tools, env, tries=50):
    """pcscd notices a new vpcd card on its next poll: wait until gba-client
    can connect to it (bounded: tries x 0.2 s).  True when it could."""
    for _ in range(tries):
        code, out, err = client(tools, ["--card", "pcsc", "card-info"], env=env)
        if code == 0:
            return True
        time.sleep(0.2)
    return False
