"""nbsp_schema - checks Nbsp_GBA bodies against nbsp_gba.schema.json (written
from shared/spec/interop.md section 3) with Debian's python3-jsonschema, and
drives the BSF's Nbsp_GBA service with curl.

    problems("BootstrappingInfoRequest", obj) -> [] or the schema's complaints
    post(pki, body, cert=True) -> (status, content type, parsed body or text)
    kcv(hex key) -> its check value as the tools print it (SHA-256, 3 octets)
"""
import hashlib
import json
import os
import shutil
import tempfile

import gbatest

try:
    import jsonschema
except ImportError:       # scripts/setup.sh installs python3-jsonschema
    jsonschema = None

PATH = "/nbsp-gba/v1/bootstrapping-info-retrieval"
_SCHEMA = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "nbsp_gba.schema.json")))


def problems(kind, obj):
    """The schema's complaints about obj as a `kind` (a definitions name)."""
    if jsonschema is None:
        raise RuntimeError("python3-jsonschema is not installed (scripts/setup.sh)")
    schema = dict(_SCHEMA)
    schema["$ref"] = f"#/definitions/{kind}"
    v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [e.message for e in v.iter_errors(obj)]


def post(pki, body, cert=True, url=None, ctype="application/json", version="1.1"):
    """POST body (str) with curl over HTTP/1.1 (pki["url"]) or HTTP/2 (version
    "2": pki["url2"], ALPN h2; an answer over another version is an error);
    (status, content type, JSON or text)."""
    curl = shutil.which("curl")
    with tempfile.NamedTemporaryFile(mode="r") as out:
        proto = "--http1.1" if version == "1.1" else "--http2"
        args = [curl, "-s", proto, "-o", out.name,
                "-w", "%{http_code} %{http_version} %{content_type}",
                "--cacert", pki["ca"][1], "-H", f"Content-Type: {ctype}", "-d", body]
        if cert:
            args += ["--cert", pki["naf"][1], "--key", pki["naf"][0]]
        base = pki["url"] if version == "1.1" else pki["url2"]
        r = gbatest.run(args + [(url or PATH).replace("{base}", base) if url else base + PATH],
                        timeout=20)
        code, _, rest = r.stdout.partition(" ")
        got_version, _, ctype = rest.partition(" ")
        text = out.read()
    if code and code != "000" and got_version != version:
        raise RuntimeError(f"curl spoke HTTP/{got_version}, not HTTP/{version}")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    return int(code or 0), ctype.strip(), parsed


def kcv(hex_key):
    return hashlib.sha256(bytes.fromhex(hex_key)).hexdigest()[:6]
