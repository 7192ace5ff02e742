"""Start gba-bsf (Zn on) and gba-naf on 127.0.0.1 and run naf_bench.

    python3 bench/run-naf-bench.py BUILD_DIR [SECONDS] [THREADS]
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "harness"), os.path.join(ROOT, "tests", "naf"),
                os.path.join(ROOT, "tests", "bsf")]
import bsfenv  # noqa: E402
import gbatest  # noqa: E402
import test_naf_e2e as e2e  # noqa: E402


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    seconds = sys.argv[2] if len(sys.argv) > 2 else "3"
    threads = sys.argv[3] if len(sys.argv) > 3 else "4"
    argv = [None, f"{build}/bsf/gba-bsf", f"{build}/naf/daemon/gba-naf",
            f"{build}/tools/gba-subscriber", "unused", "unused"]
    with gbatest.Processes() as procs:
        env = e2e.Env(procs, argv)
        env.start_bsf()
        naf = env.start_naf()
        keys = gbatest.key_file(os.path.join(procs.dir, "ue.keys"), bsfenv.K, bsfenv.OPC)
        subprocess.run([f"{build}/bench/naf_bench", "--bsf", env.bsf.url, "--impi", bsfenv.IMPI,
                        "--k-file", keys, "--naf-host", "127.0.0.1",
                        "--fqdn", naf["fqdn"], "--digest-port", str(naf["digest"]),
                        "--tls-port", str(naf["tls"]), "--target", e2e.TARGET,
                        "--seconds", seconds, "--threads", threads], check=False)


if __name__ == "__main__":
    main()
