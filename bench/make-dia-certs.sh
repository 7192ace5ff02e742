#!/bin/sh
# make-dia-certs.sh - certificates for the Diameter benchmarks over TLS:
# a CA and one ECDSA P-256 certificate per identity (CN and dNSName), by
# GnuTLS's certtool, into DIR (ca.pem, IDENTITY.pem, IDENTITY.key).
#
#   bench/make-dia-certs.sh DIR [IDENTITY ...]
#   BENCH_TLS_DIR=DIR build/bench/zn_bench     (zh_bench the same)
#
# Default identities: those zh_bench and zn_bench use.
set -eu
dir=$1
shift
[ $# -gt 0 ] || set -- bsf.bench.test hss.bench.test naf.bench.test
mkdir -p "$dir"
tmpl=$(mktemp)
trap 'rm -f "$tmpl"' EXIT
key() { certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$1" 2>/dev/null; }
key "$dir/ca.key"
printf 'cn = "bench CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$tmpl"
certtool --generate-self-signed --load-privkey "$dir/ca.key" --template "$tmpl" \
	--outfile "$dir/ca.pem" 2>/dev/null
for id in "$@"; do
	key "$dir/$id.key"
	printf 'cn = "%s"\ndns_name = "%s"\nsigning_key\ntls_www_server\ntls_www_client\nexpiration_days = 30\n' \
		"$id" "$id" >"$tmpl"
	certtool --generate-certificate --load-privkey "$dir/$id.key" --load-ca-certificate "$dir/ca.pem" \
		--load-ca-privkey "$dir/ca.key" --template "$tmpl" --outfile "$dir/$id.pem" 2>/dev/null
done
