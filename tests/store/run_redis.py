"""run_redis.py - run a test program against a real redis-server.

    run_redis.py [--auth | --sentinel | --moved] PROGRAM [ARGS...]

Starts redis-server on a free 127.0.0.1 port (no persistence), runs
PROGRAM ARGS... --redis redis://127.0.0.1:PORT/3, stops the server, and
exits with the program's status.  With --auth, a second server that wants
a password (requirepass, and an ACL user "app") runs too, and PROGRAM
also gets --redis-auth 127.0.0.1:PORT2 DIR (DIR holds default.pass,
app.pass and wrong.pass).  With --sentinel, a Sentinel deployment runs
too (tests/harness/redis_ha.py: a primary, two replicas, three
sentinels) and PROGRAM also gets --sentinel URI HOST:PORT (the store's
redis-sentinel:// URI with wait=1, and the first primary's address).
With --moved, PROGRAM runs only with --moved URI HOST:PORT URI_B: two
unrelated redis-servers A and B and one sentinel that names A as the
primary of "gbamaster" (URI is its redis-sentinel:// URI, HOST:PORT the
sentinel, URI_B a redis:// URI of B): the program moves the sentinel to B.
redis-server and redis-sentinel are installed by
scripts/setup.sh; without it this fails, loudly, rather than skip.
"""
import os
import secrets
import shutil
import subprocess
import sys

import gbatest
import redis_ha


def start_auth_server(procs, server):
    """A redis-server that wants a password: fresh passwords each run, in
    0600 files in procs.dir (what auth_file= reads).  Returns HOST:PORT."""
    words = {"default": secrets.token_hex(16), "app": secrets.token_hex(16),
             "wrong": secrets.token_hex(16)}
    for name, word in words.items():
        path = os.path.join(procs.dir, name + ".pass")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(word + "\n")
    port = gbatest.free_port()
    procs.start("redis-auth", [server, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", procs.dir,
                               "--requirepass", words["default"],
                               "--user", "app", "on", ">" + words["app"], "~*", "&*",
                               "+@all"], wait_port=port)
    return f"127.0.0.1:{port}"


def run_moved(procs, server, args):
    """Servers A and B, one sentinel naming A; runs args --moved ..."""
    ports = [gbatest.free_port(), gbatest.free_port()]
    for name, port in zip(("redis-a", "redis-b"), ports):
        procs.start(name, [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", procs.dir,
                           "--dbfilename", name + ".rdb"], wait_port=port)
    sport = gbatest.free_port()
    conf = os.path.join(procs.dir, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(f"port {sport}\nbind 127.0.0.1\ndir {procs.dir}\n"
                f"sentinel monitor gbamaster 127.0.0.1 {ports[0]} 1\n")
    procs.start("sentinel", ["redis-sentinel", conf], wait_port=sport)
    uri = f"redis-sentinel://127.0.0.1:{sport}/gbamaster?failover_ms=2000"
    try:
        return subprocess.run(args + ["--moved", uri, f"127.0.0.1:{sport}",
                                      f"redis://127.0.0.1:{ports[1]}/0"],
                              timeout=120).returncode
    except subprocess.TimeoutExpired:
        print("FAIL the test program ran for more than 120 s", file=sys.stderr)
        return 1


def main():
    args = sys.argv[1:]
    auth = bool(args) and args[0] == "--auth"
    sentinel = bool(args) and args[0] == "--sentinel"
    moved = bool(args) and args[0] == "--moved"
    if auth or sentinel or moved:
        args = args[1:]
    if not args:
        print("usage: run_redis.py [--auth] PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    server = shutil.which("redis-server")
    if not server:
        print("FAIL redis-server is not installed (scripts/setup.sh installs it: "
              "apt-get install redis-server)", file=sys.stderr)
        return 1
    if moved:
        with gbatest.Processes() as procs:
            return run_moved(procs, server, args)
    with gbatest.Processes() as procs:
        port = gbatest.free_port()
        procs.start("redis", [server, "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", procs.dir,
                              "--databases", "16"], wait_port=port)
        uri = f"redis://127.0.0.1:{port}/3"
        extra = []
        if auth:
            extra = ["--redis-auth", start_auth_server(procs, server), procs.dir]
        ha = None
        if sentinel:
            ha = redis_ha.RedisHA(procs).start()
            extra = ["--sentinel", ha.uri("wait=1&wait_ms=1000&failover_ms=20000"),
                     f"127.0.0.1:{ha.primary_port()}"]
        try:
            rc = subprocess.run(args + ["--redis", uri] + extra, timeout=300).returncode
        except subprocess.TimeoutExpired:
            print("FAIL the test program ran for more than 300 s", file=sys.stderr)
            rc = 1
        procs.stop("redis")
        if ha:
            ha.cont_all()
        if auth:
            procs.stop("redis-auth")
    return rc


if __name__ == "__main__":
    sys.exit(main())
