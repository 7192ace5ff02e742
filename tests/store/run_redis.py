"""run_redis.py - run a test program against a real redis-server.

    run_redis.py PROGRAM [ARGS...]

Starts redis-server on a free 127.0.0.1 port (no persistence), runs
PROGRAM ARGS... --redis redis://127.0.0.1:PORT/3, stops the server, and
exits with the program's status.  redis-server is installed by
scripts/setup.sh; without it this fails, loudly, rather than skip.
"""
import shutil
import subprocess
import sys

import gbatest


def main():
    if len(sys.argv) < 2:
        print("usage: run_redis.py PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    server = shutil.which("redis-server")
    if not server:
        print("FAIL redis-server is not installed (scripts/setup.sh installs it: "
              "apt-get install redis-server)", file=sys.stderr)
        return 1
    with gbatest.Processes() as procs:
        port = gbatest.free_port()
        procs.start("redis", [server, "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", procs.dir,
                              "--databases", "16"], wait_port=port)
        uri = f"redis://127.0.0.1:{port}/3"
        try:
            rc = subprocess.run(sys.argv[1:] + ["--redis", uri], timeout=300).returncode
        except subprocess.TimeoutExpired:
            print("FAIL the test program ran for more than 300 s", file=sys.stderr)
            rc = 1
        procs.stop("redis")
    return rc


if __name__ == "__main__":
    sys.exit(main())
