"""prom_roundtrip - the writer's escaped label values (test_prom --print)
read back by Prometheus's own parser (python3-prometheus-client) as the
values written; those the writer replaces ('?') read back replaced.

    python3 prom_roundtrip.py TEST_PROM
"""
import subprocess
import sys

import gbatest
import promtext

# What test_prom.c writes (tricky[]), as the parser must read it back.
WANT = ["plain", "back\\slash", "quo\"te", "line\nfeed", "\\\"\n", "", "tab?here", "caf??"]


def main():
    checks = gbatest.Checks()
    out = subprocess.run([sys.argv[1], "--print"], capture_output=True, text=True, timeout=10)
    page = promtext.parse(out.stdout)
    for i, want in enumerate(WANT):
        got = [l["v"] for l in page.labels("t_labels_total") if l["i"] == str(i)]
        checks.check(f"label value {want!r} reads back", got == [want], repr(got))
    checks.check("the HELP text reads back with its backslash and line feed",
                 "\\\\ and a\\nline" in out.stdout and page.types.get("t_labels") == "counter")
    checks.finish()


if __name__ == "__main__":
    main()
