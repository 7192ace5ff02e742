"""bsfenv - what the BSF's end-to-end tests share: a subscriber database
made with gba-subscriber, a gba-bsf started on free 127.0.0.1 ports with a
config file in the test's temporary directory, gba-test-ue runs, and the
admin port's /metrics and /sessions.

    python3 test_x.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse

import gbatest
import promtext

# TS 35.208 test set 1 (Milenage): K, OPc.  A second K for the MAC failure.
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
OTHER_K = "fec86ba6eb707ed08905757b1bb44b8f"
IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
DOMAIN = "bsf.mnc001.mcc001.pub.3gppnetwork.org"


class Tools:
    """The three programs, from the command line meson gives the test."""

    def __init__(self, argv=None):
        argv = argv if argv is not None else sys.argv
        if len(argv) < 4:
            print("usage: test.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER", file=sys.stderr)
            sys.exit(2)
        self.bsf, self.ue, self.subscriber = argv[1], argv[2], argv[3]


def add_subscriber(tools, db, impi=IMPI, k=K, opc=OPC, sqn=0):
    """One Milenage subscriber in the SQLite database db (created if needed);
    K and OPc through stdin (--k-file -), never on the command line."""
    r = gbatest.run([tools.subscriber, "--db", db, "add", "--impi", impi, "--k-file", "-",
                     "--sqn", str(sqn)], input=f"k={k}\nopc={opc}\n")
    if r.returncode != 0:
        raise RuntimeError(f"gba-subscriber add failed: {r.stdout}{r.stderr}")


def card_impi(i):
    """The IMPI of numbered test subscriber i, for tests with several UEs."""
    return f"00101000000{i:04d}@ims.mnc001.mcc001.3gppnetwork.org"


def add_cards(tools, procs, db, n):
    """n numbered subscribers (card_impi) in db; returns a card state file
    path for each, in procs.dir."""
    for i in range(n):
        add_subscriber(tools, db, impi=card_impi(i))
    return [os.path.join(procs.dir, f"card{i}.sqn") for i in range(n)]


class Bsf:
    """One gba-bsf process with its config file and ports."""

    def __init__(self, procs, tools, name="bsf", db=None, store=None, extra=None,
                 tls=None, env=None):
        self.procs, self.tools, self.name = procs, tools, name
        self.env = env
        self.port = gbatest.free_port()
        self.admin_port = gbatest.free_port()
        self.db = db or os.path.join(procs.dir, "subscribers.db")
        self.store = store or "sqlite:" + os.path.join(procs.dir, name + "-sessions.db")
        self.config = os.path.join(procs.dir, name + ".conf")
        sections = {
            "bsf": {"state_dir": procs.dir, "domain": DOMAIN, "realm": DOMAIN,
                    "threads": "2"},
            "ub": {"listen": f"127.0.0.1:{self.port}"},
            "admin": {"listen": f"127.0.0.1:{self.admin_port}"},
            "store": {"uri": self.store},
            # Many tests run a second BSF on the database in the same IND
            # slot for one card, one at a time: no slot lease unless the test
            # asks (test_bsf_sqn_shared does).  Its holder is the test's name
            # for the BSF, so a restart on new ports takes its lease back.
            "embedded": {"db": self.db, "lease_id": name, "lease_ttl": "0"},
            "log": {"level": "debug"},
        }
        if tls:
            sections["ub"]["tls_cert"], sections["ub"]["tls_key"] = tls
        for key, value in (extra or {}).items():
            section, k = key.split(".", 1)
            sections.setdefault(section, {})[k] = value
        with open(self.config, "w") as f:
            f.write("# written by the test\n")
            for section, keys in sections.items():
                f.write(f"[{section}]\n")
                for k, v in keys.items():
                    f.write(f"{k} = {v}\n")
        self.proc = None

    def start(self):
        self.proc = self.procs.start(self.name, [self.tools.bsf, "--config", self.config],
                                     wait_port=self.port, env=self.env)
        gbatest.wait_port(self.admin_port, 10.0, self.proc)
        return self

    def stop(self):
        return self.procs.stop(self.name)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def log(self):
        return self.procs.log(self.name)

    def check_clean_stop(self, checks):
        """Stop it; it must exit 0 and its log show no sanitizer report."""
        code = self.stop()
        log = self.log()
        checks.check(f"{self.name}: SIGTERM, exit 0", code == 0, f"exit {code}")
        checks.check(f"{self.name}: no sanitizer report, no runtime error",
                     "Sanitizer" not in log and "runtime error" not in log,
                     log[-3000:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- admin port --------------------------------------------------------------

    def admin_get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def metrics(self):
        """The metrics as {name or name{labels}: float}."""
        status, text = self.admin_get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        promtext.parse(text)   # raises unless Prometheus's parser reads it, series once each
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def failures(self, cause):
        return self.metrics().get(f'gba_bsf_failures_total{{cause="{cause}"}}', 0)

    def session(self, btid):
        """(status, parsed JSON or None) of /sessions/<btid>."""
        status, text = self.admin_get("/sessions/" + urllib.parse.quote(btid, safe="@"))
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None


def run_ue(tools, url, state, impi=IMPI, k=K, opc=OPC, extra=(), timeout=30):
    """Run gba-test-ue; returns (exit code, parsed JSON or {"raw": output})."""
    argv = [tools.ue, "--url", url, "--impi", impi, "--k-file", "-", "--state", state, *extra]
    r = gbatest.run(argv, timeout=timeout, input=gbatest.keys_text(k, opc))
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"raw": r.stdout + r.stderr}


def run_ues_at_once(tools, url, states, impis, deadline_s=60, k=K, opc=OPC):
    """gba-test-ue for each state file at once, UE i as impis[i]; their
    parsed outputs (bounded wait: a UE still running then is killed)."""
    keys = gbatest.key_file(os.path.join(os.path.dirname(states[0]), "ue.keys"), k, opc)
    ues = [subprocess.Popen([tools.ue, "--url", url, "--impi", impi, "--k-file", keys,
                             "--state", st, "--timeout", "20000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for impi, st in zip(impis, states)]
    outs = []
    deadline = time.monotonic() + deadline_s
    for p in ues:
        try:
            stdout, _ = p.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, _ = p.communicate()
        try:
            outs.append(json.loads(stdout))
        except ValueError:
            outs.append({"raw": stdout})
    return outs


# ---- raw HTTP ------------------------------------------------------------------------

def raw_request(port, data, timeout=5.0):
    """Send bytes on a fresh connection; return (status or None, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_response(s)


def read_response(s):
    """Read one HTTP response from socket s (Content-Length framed)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            d = b""
        if not d:
            return None, {}, buf
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return (int(m.group(1)) if m else None), headers, body[:length]


def get(host_port, authorization=None, path="/", extra_headers=b"", method=b"GET"):
    """A Ub request as bytes."""
    req = method + b" " + path.encode() + b" HTTP/1.1\r\nHost: " + host_port.encode() + \
        b"\r\nUser-Agent: 3gpp-gba\r\n"
    if authorization is not None:
        if isinstance(authorization, str):
            authorization = authorization.encode()
        req += b"Authorization: " + authorization + b"\r\n"
    return req + extra_headers + b"\r\n"


def first_auth(impi=IMPI, realm=DOMAIN, uri="/"):
    return f'Digest username="{impi}", realm="{realm}", nonce="", uri="{uri}", response=""'


def challenge_params(www_authenticate):
    """The parameters of a Digest challenge as a dict."""
    return {k: a or b for k, a, b in
            re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', www_authenticate)}
