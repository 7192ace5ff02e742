#!/usr/bin/env python3
"""The README's demo: a simulated USIM bootstraps through a real BSF.

Everything runs on 127.0.0.1 with embedded defaults, in a temporary folder
that is removed at the end:
  1. gba-subscriber creates a subscriber database with one test subscriber
     (TS 35.208 test set 1 K/OP, whose values are published);
  2. gba-bsf starts in embedded mode (its own AuC, SQLite session store);
  3. gba-test-ue, a node with a soft USIM, runs Ub (HTTP Digest AKA) and
     gets a B-TID, then derives a Ks_NAF check value;
  4. the BSF's admin port shows the stored session (never its key);
  5. the card is put far ahead of the network: the next bootstrap goes
     through a resynchronisation (AUTS) and still succeeds.

Usage: demo.py BUILD_DIR
"""
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "harness"))
import gbatest  # noqa: E402

IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
IMSI = "001010000000001"
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OP = "cdc202d5123e20f62b6d676ac72cb318"
DOMAIN = "bsf.mnc001.mcc001.pub.3gppnetwork.org"
NAF = "naf.example.org"


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    subscriber = os.path.join(build, "tools", "gba-subscriber")
    bsf = os.path.join(build, "bsf", "gba-bsf")
    ue = os.path.join(build, "tests", "tools", "gba-test-ue")

    with gbatest.Processes() as procs:
        db = os.path.join(procs.dir, "subscribers.db")
        print("1. Subscriber database", db)
        r = gbatest.run([subscriber, "--db", db, "add", "--impi", IMPI, "--imsi", IMSI,
                         "--k", K, "--op", OP, "--amf", "0000"], check=True)
        print("  ", gbatest.run([subscriber, "--db", db, "show", IMPI], check=True).stdout
              .strip().replace("\n", "\n   "))

        ub, admin = gbatest.free_port(), gbatest.free_port()
        print(f"\n2. gba-bsf (embedded mode) on 127.0.0.1:{ub}, admin on 127.0.0.1:{admin}")
        procs.start("bsf", [bsf, "--set", f"bsf.state_dir={procs.dir}", "--db", db,
                            "--listen", f"127.0.0.1:{ub}", "--admin-listen", f"127.0.0.1:{admin}",
                            "--domain", DOMAIN], wait_port=ub)

        state = os.path.join(procs.dir, "usim.state")
        ue_cmd = [ue, "--url", f"http://127.0.0.1:{ub}/", "--impi", IMPI, "--k", K, "--op", OP,
                  "--state", state, "--naf", NAF]
        print("\n3. gba-test-ue (soft USIM) bootstraps over Ub")
        out = json.loads(gbatest.run(ue_cmd, check=True).stdout)
        print(f"   B-TID     {out['btid']}")
        print(f"   lifetime  {out['lifetime']}")
        print(f"   rounds {out['rounds']}, algorithm {out['algorithm']}, "
              f"Ks_NAF check value for {NAF}: {out['ks_naf_kcv']}")

        print("\n4. The BSF's session, from its admin port (no key is ever shown)")
        url = f"http://127.0.0.1:{admin}/sessions/{urllib.request.quote(out['btid'], safe='')}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            print("  ", resp.read().decode().strip())

        print("\n5. The card jumps 1000 SQN steps ahead of the network: resync, then success")
        out2 = json.loads(gbatest.run(ue_cmd + ["--sqn-ahead", "1000"], check=True).stdout)
        print(f"   B-TID     {out2['btid']}  (resyncs: {out2['resyncs']}, rounds: {out2['rounds']})")

        code = procs.stop("bsf")
        print(f"\ngba-bsf stopped with exit code {code}. Demo done.")
        return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
