#!/bin/sh
# run-zn-load.sh - the BSF's Zn capacity in one command: gba-bsf (embedded
# subscribers, SQLite session store, Zn on) on free 127.0.0.1 ports, real
# B-TIDs from real bootstraps (gba-test-ue over Ub), zn-load sending
# BIRs for a fixed time, the figures, and everything stopped again.
#
#   bench/run-zn-load.sh [BUILD_DIR]            (default: build)
#
# Settings through the environment (defaults in brackets):
#   CONNECTIONS   Diameter connections, one NAF each: naf1..nafC.bench.test [2]
#                 (at most 128: they all go into one zn.naf_groups line)
#   IN_FLIGHT     BIRs in flight, shared among the connections [64]
#   THREADS       zn-load threads [1]
#   DURATION      seconds of load [10]
#   BTIDS         subscribers bootstrapped; zn-load uses their B-TIDs in turn [4]
#   POLICY        zn.policy [guss]: guss = each subscriber's GUSS has a USS for
#                 the NAF group "bench" (zn.naf_groups: all the NAFs), which the
#                 BSF parses for every BIR; allow = keys without any USS
#   STORE_OPTS    options of the SQLite store URI, e.g. commit_ms=0 []
#   BSF_ZN_THREADS  gba-bsf's zn.threads: freeDiameter application threads
#                 [0: one per CPU]
#   STRICT=1      exit 1 unless zn-load saw no failure, the BSF's metrics count
#                 at least as many keys sent as zn-load counted, and the Ks_NAF
#                 the BSF sends (zn-load --kcv) equals the UE's (gba-test-ue
#                 --naf), by check value, for every B-TID
#   KEEP=1        keep the temporary directory (logs, databases, B-TIDs)
#
# Figures only (unless STRICT=1): the exit status says whether the run
# happened, not whether the figures are good.
#
# Zn runs on explicit plain TCP here (zn.transport=tcp): zn-load writes its
# Diameter by hand on raw sockets and speaks no TLS.  What TLS costs per
# BIR: zn_bench with BENCH_TLS_DIR (docs/zn.md).
set -eu

BUILD=${1:-build}
CONNECTIONS=${CONNECTIONS:-2}
IN_FLIGHT=${IN_FLIGHT:-64}
THREADS=${THREADS:-1}
DURATION=${DURATION:-10}
BTIDS=${BTIDS:-4}
POLICY=${POLICY:-guss}
STRICT=${STRICT:-0}
# A published test key (TS 35.208 set 1): never a real subscriber's.
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
DOMAIN=bsf.bench.test            # the B-TIDs' domain: the BIRs' Destination-Realm
BSF_ID=bsf.bench.test            # the BSF's Diameter identity
NAF_DOMAIN=bench.test            # NAF i is naf<i>.bench.test, realm bench.test

ZN_LOAD=$BUILD/bench/zn-load
BSF=$BUILD/bsf/gba-bsf
SUBSCRIBER=$BUILD/tools/gba-subscriber
UE=$BUILD/tests/tools/gba-test-ue
for prog in "$ZN_LOAD" "$BSF" "$SUBSCRIBER" "$UE"; do
	[ -x "$prog" ] || { echo "run-zn-load: $prog is not built (ninja -C $BUILD)" >&2; exit 1; }
done
case $POLICY in
guss | allow) ;;
*) echo "run-zn-load: POLICY is guss or allow" >&2; exit 2 ;;
esac
case $CONNECTIONS in
'' | *[!0-9]*) echo "run-zn-load: CONNECTIONS is a number" >&2; exit 2 ;;
esac
case $BTIDS in
'' | *[!0-9]*) echo "run-zn-load: BTIDS is a number" >&2; exit 2 ;;
esac
if [ "$CONNECTIONS" -lt 1 ] || [ "$CONNECTIONS" -gt 128 ] || [ "$BTIDS" -lt 1 ]; then
	echo "run-zn-load: need 1 <= CONNECTIONS <= 128 and BTIDS >= 1" >&2
	exit 2
fi

tmp=$(mktemp -d /tmp/run-zn-load.XXXXXX)
pids=""
# K and OPc reach gba-subscriber and gba-test-ue in a file, never on a command line.
(umask 077 && printf 'k=%s\nopc=%s\n' "$K" "$OPC" >"$tmp/ue.keys")
RUN_NAME=run-zn-load
RUN_LOG="$tmp/bsf.log"
# shellcheck source=bench/run-lib.sh
. "$(dirname "$0")/run-lib.sh"

# gba_bsf_zn_answers_total{result="keys"} from the BSF's /metrics (bounded).
keys_sent() {
	python3 - "$1" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
for line in text.splitlines():
    if line.startswith('gba_bsf_zn_answers_total{result="keys"}'):
        print(line.split()[-1])
        break
else:
    sys.exit("run-zn-load: no gba_bsf_zn_answers_total in /metrics")
EOF
}

# The NAF group every USS names: all the connections' identities.
group=""
i=1
while [ $i -le "$CONNECTIONS" ]; do
	group="$group${group:+|}naf$i.$NAF_DOMAIN"
	i=$((i + 1))
done

echo "run-zn-load: $BTIDS subscribers into $tmp/subscribers.db (zn.policy = $POLICY)" >&2
i=1
while [ $i -le "$BTIDS" ]; do
	impi=$(printf '00101%010d@ims.mnc001.mcc001.3gppnetwork.org' $i)
	guss_args=""
	if [ "$POLICY" = guss ]; then
		printf '<guss xmlns="uri:3gpp-gba" id="bench%d"><ussList><uss id="1" type="1" nafGroup="bench"><uids><uid>/CSE-bench-%d</uid></uids><flags><flag>1</flag></flags></uss></ussList></guss>\n' \
			$i $i >"$tmp/guss$i.xml"
		guss_args="--guss-file $tmp/guss$i.xml"
	fi
	# shellcheck disable=SC2086  # guss_args is a word list on purpose
	"$SUBSCRIBER" --db "$tmp/subscribers.db" add --impi "$impi" --k-file "$tmp/ue.keys" \
		$guss_args >/dev/null
	i=$((i + 1))
done

port=$(free_port)
admin_port=$(free_port)
zn_port=$(free_port)
"$BSF" --set "bsf.state_dir=$tmp" --listen "127.0.0.1:$port" \
	--admin-listen "127.0.0.1:$admin_port" --domain "$DOMAIN" --db "$tmp/subscribers.db" \
	--store "sqlite:$tmp/sessions.db${STORE_OPTS:+?$STORE_OPTS}" \
	--set zn.enabled=on --set zn.transport=tcp --set zn.listen=127.0.0.1 --set "zn.port=$zn_port" \
	--set "zn.identity=$BSF_ID" --set "zn.realm=$NAF_DOMAIN" --set "zn.policy=$POLICY" \
	--set "zn.naf_groups=bench=$group" --set "zn.threads=${BSF_ZN_THREADS:-0}" \
	--set log.level=warn >"$tmp/bsf.log" 2>&1 &
bsf_pid=$!
pids="$bsf_pid"
wait_port "$port" "$bsf_pid"
wait_port "$admin_port" "$bsf_pid"
# Not wait_port on the Zn port: freeDiameter would log the probe as a peer
# in error.  gba-bsf starts its Diameter node (listening) before Ub.

# Real B-TIDs: one whole Ub bootstrap per subscriber.  The UE also prints
# the check value of its Ks_NAF for naf1 (Ua over HTTP Digest), which
# zn-load --kcv gets from the BSF over Zn: kcv.txt has "B-TID KCV" lines.
: >"$tmp/btids.txt"
: >"$tmp/kcv.txt"
i=1
while [ $i -le "$BTIDS" ]; do
	impi=$(printf '00101%010d@ims.mnc001.mcc001.3gppnetwork.org' $i)
	"$UE" --url "http://127.0.0.1:$port/" --impi "$impi" --k-file "$tmp/ue.keys" \
		--naf "naf1.$NAF_DOMAIN" --state "$tmp/ue$i.sqn" >"$tmp/ue$i.json" ||
		{ echo "run-zn-load: bootstrap of $impi failed: $(cat "$tmp/ue$i.json")" >&2; exit 1; }
	python3 - "$tmp/ue$i.json" "$tmp/btids.txt" "$tmp/kcv.txt" <<'EOF'
import json, sys
ue = json.load(open(sys.argv[1]))
open(sys.argv[2], "a").write(ue["btid"] + "\n")
open(sys.argv[3], "a").write(ue["btid"] + " " + ue["ks_naf_kcv"] + "\n")
EOF
	i=$((i + 1))
done

echo "run-zn-load: gba-bsf (embedded, SQLite store, zn.policy = $POLICY) Zn on" \
	"127.0.0.1:$zn_port, pid $bsf_pid; $CONNECTIONS connections, $IN_FLIGHT BIRs in flight," \
	"$BTIDS B-TIDs, $DURATION s" >&2
keys0=$(keys_sent "$admin_port")
strict_arg=""
[ "$STRICT" = 1 ] && strict_arg=--strict
rc=0
# shellcheck disable=SC2086  # strict_arg is empty or one word
"$ZN_LOAD" --bsf "127.0.0.1:$zn_port" --btid-file "$tmp/btids.txt" \
	--connections "$CONNECTIONS" --in-flight "$IN_FLIGHT" --threads "$THREADS" \
	--duration "$DURATION" --naf-domain "$NAF_DOMAIN" --server-pid "$bsf_pid" --kcv \
	$strict_arg >"$tmp/zn-load.out" || rc=$?
cat "$tmp/zn-load.out"
keys1=$(keys_sent "$admin_port")
# Each B-TID's Ks_NAF check value: from the BSF (zn-load --kcv) and the UE.
kcv_same=0
while read -r btid kcv; do
	awk -v b="$btid" -v k="$kcv" '$1 == "key" && $2 == "check" && $3 == b && $5 == k { f = 1 }
		END { exit !f }' "$tmp/zn-load.out" && kcv_same=$((kcv_same + 1))
done <"$tmp/kcv.txt"
echo "Ks_NAF            the BSF's equals the UE's for $kcv_same of $BTIDS B-TIDs (check values)"
echo "gba-bsf metrics   +$((keys1 - keys0)) BIAs with keys (gba_bsf_zn_answers_total{result=\"keys\"}," \
	"also those answered after the run's end)"
echo "zn.policy         $POLICY$([ "$POLICY" = guss ] && echo ' (a GUSS with one USS for the NAF group, parsed per BIR)')"
echo "box: $(nproc) CPU(s), $(uname -r)"

if [ "$STRICT" = 1 ]; then
	ok=$(sed -n 's/^BIR\/BIA  *\([0-9][0-9]*\) ok.*/\1/p' "$tmp/zn-load.out")
	if [ "$rc" -ne 0 ] || [ -z "$ok" ] || [ "$ok" -eq 0 ] || [ $((keys1 - keys0)) -lt "$ok" ] ||
		[ "$kcv_same" -ne "$BTIDS" ]; then
		echo "run-zn-load: STRICT: zn-load exit $rc, ${ok:-no} BIRs ok," \
			"the BSF counted $((keys1 - keys0)) keys sent," \
			"$kcv_same of $BTIDS Ks_NAF check values equal" >&2
		exit 1
	fi
	echo "run-zn-load: STRICT: every BIA 2001 with 32 octets of key material, the BSF's" \
		"metrics agree, its Ks_NAF equals the UE's" >&2
fi
exit "$rc"
