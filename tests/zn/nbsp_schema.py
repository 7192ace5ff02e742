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


def post(pki, body, cert=True, url=None, ctype="application/json"):
    """POST body (str) with curl over HTTP/1.1; (status, content type, JSON or text)."""
    curl = shutil.which("curl")
    with tempfile.NamedTemporaryFile(mode="r") as out:
        args = [curl, "-s", "--http1.1", "-o", out.name, "-w", "%{http_code} %{content_type}",
                "--cacert", pki["ca"][1], "-H", f"Content-Type: {ctype}", "-d", body]
        if cert:
            args += ["--cert", pki["naf"][1], "--key", pki["naf"][0]]
        r = gbatest.run(args + [url or pki["url"] + PATH], timeout=20)
        code, _, ctype = r.stdout.partition(" ")
        text = out.read()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    return int(code or 0), ctype.strip(), parsed


def kcv(hex_key):
    return hashlib.sha256(bytes.fromhex(hex_key)).hexdigest()[:6]
