"""promtext - a daemon's /metrics page read the way Prometheus reads it, with
Debian's python3-prometheus-client (scripts/setup.sh installs it): a page the
parser refuses, or one that repeats a series, fails the test that scrapes it.

    page = promtext.scrape(f"http://127.0.0.1:{port}/metrics")
    page.get("gba_diameter_peer_up", peer="hss.gba.test")      -> 1.0 or None
    page.get("gba_build_info", program="gba-bsf", version=..., libgba=...)
    page.sum("gba_diameter_answers_total", command="MAA", direction="in")
"""
import sys
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # A python3 of its own (pyenv, a venv) does not see Debian's packages:
    # the parser is pure Python, take it from where apt put it.
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families


class Page:
    """The samples of one scrape: (name, labels, value), names as written
    (counters keep their _total)."""

    def __init__(self, text):
        self.text = text
        self.samples = []
        self.types = {}
        for fam in text_string_to_metric_families(text):
            self.types[fam.name] = fam.type
            for s in fam.samples:
                self.samples.append((s.name, dict(s.labels), s.value))
        seen = set()
        for name, labels, _ in self.samples:
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise ValueError(f"series given twice: {name}{labels}")
            seen.add(key)

    def get(self, name, **labels):
        """The value of the series with exactly these labels, or None."""
        for n, l, v in self.samples:
            if n == name and l == labels:
                return v
        return None

    def sum(self, name, **labels):
        """The sum over the series of name whose labels include these."""
        return sum(v for n, l, v in self.samples
                   if n == name and all(l.get(k) == w for k, w in labels.items()))

    def labels(self, name):
        """The label sets of name's series."""
        return [l for n, l, _ in self.samples if n == name]


def parse(text):
    return Page(text)


def scrape(url, timeout=10):
    """GET url and parse it; raises when the answer is not 200 or not the
    text format (version 0.0.4 in its Content-Type)."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        ctype = r.headers.get("Content-Type", "")
        if "version=0.0.4" not in ctype:
            raise ValueError(f"{url}: Content-Type {ctype!r}, not the text format 0.0.4")
        return Page(r.read().decode())
