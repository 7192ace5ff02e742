"""gbatest - starting and stopping the real processes of an end-to-end test.

Every process listens on 127.0.0.1 only, on a port the kernel picked free;
every wait is bounded; every process is stopped (SIGTERM, then SIGKILL) when
the test ends, whatever happened.  Tests print what they check, and end with
'N passed, N failed' like the rest of the suite.

    with gbatest.Processes() as procs:
        port = gbatest.free_port()
        procs.start("bsf", [bsf_bin, "--listen", f"127.0.0.1:{port}"], wait_port=port)
        ...
"""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time


ASAN_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "asan-freediameter.supp")


def child_env(extra=None):
    """os.environ plus extra, with ASAN_OPTIONS naming asan-freediameter.supp
    (a defect of freeDiameter over TLS; see the file)."""
    env = dict(os.environ)
    if extra:
        env.update(extra)
    opts = env.get("ASAN_OPTIONS", "")
    if "suppressions=" not in opts:
        env["ASAN_OPTIONS"] = ":".join(filter(None, [opts, "suppressions=" + ASAN_SUPP]))
    return env


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None):
    """Wait until something accepts on 127.0.0.1:port; raise after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Processes:
    """Owns the processes of one test; stops them all on exit."""

    def __init__(self):
        self.procs = {}
        # GBATEST_KEEP=1: the folder (logs, databases) stays, for a failure to look at.
        self.keep = bool(os.environ.get("GBATEST_KEEP"))
        self.tmp = None if self.keep else tempfile.TemporaryDirectory(prefix="gbatest-")
        self.dir = tempfile.mkdtemp(prefix="gbatest-") if self.keep else self.tmp.name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for name in list(self.procs):
            self.stop(name)
        if self.keep:
            print(f"gbatest: kept {self.dir}", file=sys.stderr)
        else:
            self.tmp.cleanup()
        return False

    def log_path(self, name):
        return os.path.join(self.dir, name + ".log")

    def start(self, name, argv, wait_port=None, timeout=10.0, env=None):
        """Start argv with stdout+stderr in <dir>/<name>.log."""
        log = open(self.log_path(name), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=child_env(env))
        log.close()
        self.procs[name] = proc
        if wait_port is not None:
            try:
                globals()["wait_port"](wait_port, timeout, proc)
            except Exception:
                print(self.log(name), file=sys.stderr)
                raise
        return proc

    def stop(self, name, sig=signal.SIGTERM, timeout=10.0):
        """Stop one process; returns its exit code."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode

    def log(self, name):
        try:
            with open(self.log_path(name), "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class LineProcess:
    """A test program driven one command line in, one answer line out (the
    probes of tests/zh and tests/zn): started under procs (its stderr in
    procs' log for name, stopped with the rest), every read bounded."""

    def __init__(self, procs, name, argv):
        self.name = name
        self.procs = procs
        log = open(procs.log_path(name), "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log, env=child_env())
        log.close()
        procs.procs[name] = self.proc   # stopped by Processes whatever happens
        self.buf = b""

    def line(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no answer in {timeout} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise EOFError(f"{self.name} exited")
                self.buf += chunk
        text, self.buf = self.buf.split(b"\n", 1)
        return text.decode()

    def cmd(self, text, timeout=15.0):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()
        return self.line(timeout)


class TestCA:
    """A certificate authority made at test time with GnuTLS's certtool
    (gnutls-bin), in dir: ECDSA P-256 keys (fast), one certificate per
    Diameter identity, its CN and dNSName the identity (or as told).

        ca = gbatest.TestCA(procs.dir)
        cert, key = ca.issue("bsf.gba.test")
        ... --set zn.tls_cert=cert --set zn.tls_key=key --set zn.tls_ca=ca.cert
    """

    def __init__(self, dir, name="ca"):
        self.dir = dir
        self.name = name
        self.key = self._privkey(name)
        self.cert = os.path.join(dir, name + "-cert.pem")
        tmpl = self._template(name, [f"cn = \"GBA test CA {name}\"", "ca",
                                     "cert_signing_key", "crl_signing_key"])
        run(["certtool", "--generate-self-signed", "--load-privkey", self.key,
             "--template", tmpl, "--outfile", self.cert], check=True)

    def _privkey(self, name):
        path = os.path.join(self.dir, name + "-key.pem")
        run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--curve",
             "secp256r1", "--outfile", path], check=True)
        os.chmod(path, 0o600)
        return path

    def _template(self, name, lines):
        path = os.path.join(self.dir, name + ".tmpl")
        with open(path, "w") as f:
            f.write("\n".join(lines + ["expiration_days = 30", "serial = %d" %
                                        int.from_bytes(os.urandom(7), "big")]) + "\n")
        return path

    def issue(self, identity, cn=None, dns=None, name=None):
        """A certificate and key for identity: CN cn (default identity),
        dNSNames dns (default [identity]; [] for none).  Returns (cert, key)."""
        name = name or f"{self.name}-{identity}"
        key = self._privkey(name)
        cert = os.path.join(self.dir, name + "-cert.pem")
        lines = [f"cn = \"{cn if cn is not None else identity}\"", "signing_key",
                 "tls_www_server", "tls_www_client"]
        lines += [f"dns_name = \"{d}\"" for d in (dns if dns is not None else [identity])]
        tmpl = self._template(name, lines)
        run(["certtool", "--generate-certificate", "--load-privkey", key,
             "--load-ca-certificate", self.cert, "--load-ca-privkey", self.key,
             "--template", tmpl, "--outfile", cert], check=True)
        return cert, key

    def bsf_args(self, identity, sections=("zn",)):
        """gba-bsf --set options: TLS files for identity in each section."""
        cert, key = self.issue(identity)
        out = []
        for sec in sections:
            out += ["--set", f"{sec}.tls_cert={cert}", "--set", f"{sec}.tls_key={key}",
                    "--set", f"{sec}.tls_ca={self.cert}"]
        return out

    def hss_args(self, identity):
        """gba-hss-sim options: TLS files for identity."""
        cert, key = self.issue(identity)
        return ["--zh.tls_cert", cert, "--zh.tls_key", key, "--zh.tls_ca", self.cert]


def run(argv, timeout=30.0, check=False, input=None):
    """Run a command to completion; returns CompletedProcess with text output."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          check=check, input=input, env=child_env())


def keys_text(k, opc):
    """A key file (k=, opc= lines) as gba-subscriber and the test UEs read it
    through --k-file: no program takes a key on its command line (ps)."""
    return f"k={k}\nopc={opc}\n"


def key_file(path, k, opc):
    """keys_text(k, opc) written to path, mode 0600; returns path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(keys_text(k, opc))
    return path


class Checks:
    """Counts named checks; prints each; exits 0 only when all passed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)
