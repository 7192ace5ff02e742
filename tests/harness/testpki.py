"""testpki - a small PKI by certtool for the tests' mutual TLS: a CA, a
server certificate and client certificates, ECDSA, valid two days.

    make_certs(dir, server_name, clients) -> {"ca": (key, pem), "server": ...,
                                              <client>: (key, pem), ...} or None
    clients: {name: dNSName or None (a CN only)}
"""
import os
import shutil

import gbatest


def make_certs(d, server_name, clients):
    certtool = shutil.which("certtool")
    if not certtool:
        return None
    os.makedirs(d, exist_ok=True)
    out = {}

    def make(name, template, ca=False):
        key, pem, tmpl = (os.path.join(d, name + ext) for ext in (".key", ".pem", ".tmpl"))
        with open(tmpl, "w") as f:
            f.write(template + "expiration_days = 2\n")
        r = gbatest.run([certtool, "--generate-privkey", "--key-type", "ecdsa",
                         "--outfile", key])
        if r.returncode:
            raise RuntimeError(r.stderr)
        sign = (["--generate-self-signed"] if ca else
                ["--generate-certificate", "--load-ca-certificate", out["ca"][1],
                 "--load-ca-privkey", out["ca"][0]])
        r = gbatest.run([certtool, *sign, "--load-privkey", key, "--template", tmpl,
                         "--outfile", pem])
        if r.returncode:
            raise RuntimeError(r.stderr)
        out[name] = (key, pem)

    make("ca", 'cn = "Zn test CA"\nca\ncert_signing_key\n', ca=True)
    make("server", f'cn = "{server_name}"\ndns_name = "{server_name}"\n'
         'ip_address = "127.0.0.1"\ntls_www_server\nsigning_key\n')
    for name, dns in clients.items():
        make(name, f'cn = "{dns or name + ".example"}"\n' +
             (f'dns_name = "{dns}"\n' if dns else "") + 'tls_www_client\nsigning_key\n')
    return out
