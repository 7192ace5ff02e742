"""Nbsp_GBA retrievals per second: gba-bsf (embedded subscriber, Zn as
Nbsp_GBA on zn.http_listen, mutual TLS) on 127.0.0.1, one bootstrap by
gba-test-ue, then curl POSTs N BootstrappingInfoRequests over one HTTP/1.1
keep-alive connection (one TLS handshake), and K curl processes at once;
then the same over HTTP/2 (zn.http2_listen); then libgba-naf itself (the
NAF's Nbsp_GBA client, bench/zn_bench --nbsp) over HTTP/1.1 and HTTP/2,
each request a BIR for a NAF_Id of its own (no cache hit).
Prints figures; passes or fails nothing.

    python3 bench/run-nbsp-bench.py BUILD_DIR [N] [K]
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "harness"), os.path.join(ROOT, "tests", "naf"),
                os.path.join(ROOT, "tests", "bsf")]
import bsfenv  # noqa: E402
import gbatest  # noqa: E402
import test_naf_e2e as e2e  # noqa: E402

PATH = "/nbsp-gba/v1/bootstrapping-info-retrieval"


def curl_argv(env, body, n, h2=False):
    pki = env.pki
    url = f"https://127.0.0.1:{env.h2_port if h2 else env.nbsp_port}{PATH}"
    return ["curl", "-s", "--http2" if h2 else "--http1.1", *(["-o", "/dev/null"] * n),
            "-w", "%{http_code}\\n",
            "--cacert", pki["ca"][1], "--cert", pki["naf"][1], "--key", pki["naf"][0],
            "-H", "Content-Type: application/json", "-d", body] + [url] * n


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    argv = [None, f"{build}/bsf/gba-bsf", "unused", f"{build}/tools/gba-subscriber", "unused",
            "unused"]
    with gbatest.Processes() as procs:
        env = e2e.Env(procs, argv)
        env.h2_port = gbatest.free_port()
        env.bsf_extra = {"zn.http2_listen": f"127.0.0.1:{env.h2_port}"}
        env.start_bsf()
        if not env.pki:
            sys.exit("certtool is needed")
        tools = bsfenv.Tools([None, argv[1], f"{build}/tests/tools/gba-test-ue", argv[3]])
        rc, out = bsfenv.run_ue(tools, env.bsf.url, os.path.join(procs.dir, "ue.sqn"))
        body = json.dumps({"btId": out["btid"], "nafId": {"nafFqdn": e2e.FQDN,
                                                          "uaSecProtId": "0100000002"}})
        for h2 in (False, True):
            run(env, body, n, k, h2)
        pki = env.pki
        for port, version in ((env.nbsp_port, "1.1"), (env.h2_port, "2")):
            subprocess.run([f"{build}/bench/zn_bench", "2", "--nbsp", f"https://127.0.0.1:{port}",
                            pki["naf"][1], pki["naf"][0], pki["ca"][1], out["btid"], e2e.FQDN,
                            version], check=False)


def run(env, body, n, k, h2):
    name = "HTTP/2" if h2 else "HTTP/1.1"
    t0 = time.monotonic()
    r = subprocess.run(curl_argv(env, body, n, h2), capture_output=True, text=True)
    one = time.monotonic() - t0
    ok = r.stdout.split().count("200")
    print(f"Nbsp_GBA {name}, 1 connection: {ok}/{n} answered 200 in {one:.2f} s: "
          f"{ok / one:.0f} retrievals/s")
    t0 = time.monotonic()
    ps = [subprocess.Popen(curl_argv(env, body, n, h2), stdout=subprocess.PIPE, text=True)
          for _ in range(k)]
    ok = sum(p.communicate()[0].split().count("200") for p in ps)
    many = time.monotonic() - t0
    print(f"Nbsp_GBA {name}, {k} connections: {ok}/{n * k} answered 200 in {many:.2f} s: "
          f"{ok / many:.0f} retrievals/s")

if __name__ == "__main__":
    main()
