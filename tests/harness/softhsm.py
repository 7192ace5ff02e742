"""softhsm - PKCS#11 tokens for the tests of wrapped keys: a SoftHSM2 token
directory of the test's own (SOFTHSM2_CONF), tokens made with softhsm2-util,
AES keys made with pkcs11-tool (OpenSC).  gba's programs find the tokens
through p11-kit, which loads SoftHSM2 from its registered module.

    box = softhsm.Box(os.path.join(procs.dir, "box1"))
    box.token("gba", PIN)
    box.aes_key("gba", "kek", PIN)           # sensitive, never extractable
    env = box.env()                          # {"SOFTHSM2_CONF": ...}
"""
import os
import shutil
import subprocess
import sys

SO_PIN = "87654321"


def missing():
    """The tools these tests need that are not installed (empty: none)."""
    need = ["softhsm2-util", "pkcs11-tool"]
    out = [t for t in need if not shutil.which(t)]
    if not module_path():
        out.append("libsofthsm2.so")
    return out


def require():
    """Exit with meson's "skipped" (77) when SoftHSM2 or pkcs11-tool is missing."""
    lacking = missing()
    if lacking:
        print("SKIP: not installed: " + ", ".join(lacking))
        sys.exit(77)


def module_path():
    """SoftHSM2's PKCS#11 module, as p11-kit's registration names it."""
    reg = "/usr/share/p11-kit/modules/softhsm2.module"
    try:
        with open(reg) as f:
            for line in f:
                if line.startswith("module:"):
                    path = line.split(":", 1)[1].strip()
                    if os.path.exists(path):
                        return path
    except OSError:
        pass
    for path in ("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                 "/usr/lib/softhsm/libsofthsm2.so"):
        if os.path.exists(path):
            return path
    return None


def pin_file(path, pin):
    """A PIN file as the programs want it: ours, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pin + "\n")
    os.chmod(path, 0o600)
    return path


class Box:
    """One machine's SoftHSM2: its own token directory and config file."""

    def __init__(self, directory):
        self.dir = directory
        self.tokens = os.path.join(directory, "tokens")
        os.makedirs(self.tokens, exist_ok=True)
        self.conf = os.path.join(directory, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {self.tokens}\n"
                    "objectstore.backend = file\nlog.level = ERROR\n")

    def env(self):
        return {"SOFTHSM2_CONF": self.conf}

    def _run(self, argv):
        env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {r.stdout}{r.stderr}")
        return r.stdout

    def token(self, label, pin):
        self._run(["softhsm2-util", "--init-token", "--free", "--label", label,
                   "--pin", pin, "--so-pin", SO_PIN])

    def aes_key(self, token, label, pin, extractable=False):
        """An AES-256 key that may wrap and unwrap; sensitive; extractable only if asked."""
        argv = ["pkcs11-tool", "--module", module_path(), "--token-label", token,
                "--login", "--pin", pin, "--keygen", "--key-type", "AES:32",
                "--label", label, "--sensitive", "--usage-wrap"]
        if extractable:
            argv.append("--extractable")
        self._run(argv)
