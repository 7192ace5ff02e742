#!/bin/sh
# run-ub-load.sh - the Ub benchmark in one command: a temporary subscriber
# database with N subscribers, gba-bsf on free 127.0.0.1 ports, ub-load for
# a fixed time against it, the figures, and everything stopped again.
#
#   bench/run-ub-load.sh [BUILD_DIR]            (default: build)
#
# Settings through the environment (defaults in brackets):
#   MODE=embedded|zh|cx|gsup  where vectors come from [embedded]; zh needs the
#                      HSS simulator (simulators/hss), cx the same with --cx
#                      (av.source = cx); gsup runs Debian's
#                      osmo-hlr with the N subscribers, on a loopback address of
#                      its own (its ports are fixed)
#   STORE=sqlite|redis|sentinel  session store [sqlite]; redis starts a
#                      redis-server; sentinel a primary, two replicas and
#                      three redis-sentinel (redis-sentinel:// URI)
#   WAIT               with STORE=sentinel: replicas each write waits for
#                      (the URI's wait=N, wait_ms=1000) [0]
#   STORE_OPTS         SQLite store options, e.g. commit_ms=5&exclusive=1
#                      (docs/session-store.md) [none]
#   N                  subscribers [10000]
#   CONNECTIONS        keep-alive connections [64]
#   THREADS            ub-load threads [1]
#   DURATION           seconds of load [10]
#   BSF_THREADS        gba-bsf worker threads [0 = one per CPU]
#   SQN_BLOCK          embedded.sqn_block: SQNs per subscriber transaction [1]
#   GROUP_COMMIT       embedded.group_commit: SQN reservations per transaction,
#                      0 for one transaction per vector [the BSF's default]
#   ONCE=1             cold subscribers: each bootstraps at most once (ub-load
#                      --once); the run ends when all N have, or after DURATION
#   RATE               open loop (a power-cut storm): RATE arrivals per second,
#                      each a new subscriber on a new connection, for DURATION s;
#                      latency from the scheduled arrival (ub-load --rate)
#   MAX_OPEN           with RATE: connections ub-load keeps open at most [4000]
#   NEW_CONN=1         with RATE: a new connection per arrival (else arrivals
#                      reuse idle kept-alive connections)
#   BSF_SET            more gba-bsf settings, e.g. "ub.max_queue_wait=50ms"
#                      (words of the form section.key=value) [none]
#   KEK=softhsm        K and OPc wrapped under a KEK in a SoftHSM2 token made in
#                      the temporary directory (keys.kek; gba-hss-sim --kek for
#                      MODE=zh) [none: plain keys]
#   SPARE_TTL          MODE=gsup: gsup.spare_ttl, seconds the 4 spare vectors
#                      of each SendAuthInfo answer are kept (0: one SAI per
#                      bootstrap); MODE=cx: cx.spare_ttl [5]
#   HSS_SQN_BLOCK      MODE=zh|cx: gba-hss-sim --sqn-block [1]
#   CX_VECTORS         MODE=cx: cx.vectors, vectors per MAR [5]
#   KEEP=1             keep the temporary directory (logs, databases)
#
# Figures only: the exit status says whether the run happened, not whether
# the figures are good.
set -eu

BUILD=${1:-build}
MODE=${MODE:-embedded}
STORE=${STORE:-sqlite}
N=${N:-10000}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
DURATION=${DURATION:-10}
BSF_THREADS=${BSF_THREADS:-0}
SQN_BLOCK=${SQN_BLOCK:-1}
KEK=${KEK:-}
# A published test key (TS 35.208 set 1): never a real subscriber's.  It goes
# to the programs in a key file, never on a command line.
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
DOMAIN=bsf.mnc001.mcc001.pub.3gppnetwork.org

UB_LOAD=$BUILD/bench/ub-load
BSF=$BUILD/bsf/gba-bsf
SUBSCRIBER=$BUILD/tools/gba-subscriber
HSS=$BUILD/simulators/hss/gba-hss-sim
for prog in "$UB_LOAD" "$BSF" "$SUBSCRIBER"; do
	[ -x "$prog" ] || { echo "run-ub-load: $prog is not built (ninja -C $BUILD)" >&2; exit 1; }
done
case $MODE in
embedded) ;;
zh|cx) [ -x "$HSS" ] || { echo "run-ub-load: MODE=$MODE needs $HSS (simulators/hss)" >&2; exit 1; } ;;
gsup) command -v osmo-hlr >/dev/null || { echo "run-ub-load: MODE=gsup needs osmo-hlr" >&2; exit 1; } ;;
*) echo "run-ub-load: MODE is embedded, zh, cx or gsup" >&2; exit 2 ;;
esac

tmp=$(mktemp -d /tmp/run-ub-load.XXXXXX)
pids=""
more_pids=""   # other servers whose CPU per bootstrap ub-load reports
RUN_NAME=run-ub-load
# shellcheck source=bench/run-lib.sh
. "$(dirname "$0")/run-lib.sh"

# A primary, two replicas and three sentinels (quorum 2), nothing saved;
# sets redis_pid (the primary) and sentinel_hosts.
start_sentinel_set() {
	primary_port=$(free_port)
	for i in 0 1 2; do
		port_i=$(free_port)
		[ "$i" = 0 ] && port_i=$primary_port
		replica=""
		[ "$i" = 0 ] || replica="--replicaof 127.0.0.1 $primary_port"
		# shellcheck disable=SC2086  # replica is a word list on purpose
		redis-server --port "$port_i" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$tmp" --dbfilename "r$i.rdb" $replica >"$tmp/redis$i.log" 2>&1 &
		pids="$pids $!"
		[ "$i" = 0 ] && redis_pid=$!
		wait_port "$port_i" "$!"
	done
	sentinel_hosts=""
	for i in 0 1 2; do
		sport=$(free_port)
		printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor benchmaster 127.0.0.1 %s 2\nsentinel down-after-milliseconds benchmaster 1000\nsentinel failover-timeout benchmaster 5000\n' \
			"$sport" "$tmp" "$primary_port" >"$tmp/sentinel$i.conf"
		redis-sentinel "$tmp/sentinel$i.conf" >"$tmp/sentinel$i.log" 2>&1 &
		pids="$pids $!"
		wait_port "$sport" "$!"
		sentinel_hosts="$sentinel_hosts${sentinel_hosts:+,}127.0.0.1:$sport"
	done
	i=0
	until [ "$(redis-cli -p "$primary_port" INFO replication | grep -c 'state=online')" = 2 ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { echo "run-ub-load: replicas not in sync" >&2; exit 1; }
		sleep 0.1
	done
}

# KEK=softhsm: a token of our own, an AES-256 key that never leaves it.
kek_args=""
kek_set=""
case $KEK in
'') ;;
softhsm)
	mkdir "$tmp/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$tmp/tokens" >"$tmp/softhsm2.conf"
	SOFTHSM2_CONF=$tmp/softhsm2.conf
	export SOFTHSM2_CONF
	pin=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	(umask 077; printf '%s\n' "$pin" >"$tmp/pin")
	softhsm2-util --init-token --free --label bench --pin "$pin" --so-pin "$pin" >/dev/null
	module=$(sed -n 's/^module: *//p' /usr/share/p11-kit/modules/softhsm2.module)
	pkcs11-tool --module "$module" --token-label bench --login --pin "$pin" --keygen \
		--key-type AES:32 --label kek --sensitive --usage-wrap >/dev/null 2>&1
	kek_args="--kek pkcs11:token=bench;object=kek --pin-file $tmp/pin"
	kek_set="--set keys.kek=pkcs11:token=bench;object=kek --set keys.pin_file=$tmp/pin"
	;;
*) echo "run-ub-load: KEK is softhsm or empty" >&2; exit 2 ;;
esac

(umask 077; printf 'k = %s\nopc = %s\n' "$K" "$OPC" >"$tmp/keys")
echo "run-ub-load: $N subscribers into $tmp/subscribers.db${KEK:+ (keys wrapped in $KEK)}" >&2
# K and OPc reach ub-load in a file, never on its command line (ps).
# The CSV goes straight into the import (one transaction; no file of N lines).
t_import=$(date +%s.%N)
# shellcheck disable=SC2086  # kek_args is a word list on purpose
"$UB_LOAD" --make-csv "$N" --k-file "$tmp/keys" |
	"$SUBSCRIBER" --db "$tmp/subscribers.db" $kek_args import - >&2
echo "run-ub-load: imported in $(awk -v a="$t_import" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2

case $STORE in
sqlite) store_uri="sqlite:$tmp/sessions.db${STORE_OPTS:+?$STORE_OPTS}" ;;
redis)
	redis_port=$(free_port)
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$tmp" >"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	pids="$pids $redis_pid"
	more_pids="--server-pid $redis_pid"
	wait_port "$redis_port" "$redis_pid"
	store_uri="redis://127.0.0.1:$redis_port/0"
	;;
sentinel)
	start_sentinel_set
	store_uri="redis-sentinel://$sentinel_hosts/benchmaster${WAIT:+?wait=$WAIT&wait_ms=1000}"
	more_pids="--server-pid $redis_pid"
	;;
*) echo "run-ub-load: STORE is sqlite, redis or sentinel" >&2; exit 2 ;;
esac

source_args="--source embedded --db $tmp/subscribers.db"
if [ "$MODE" = zh ] || [ "$MODE" = cx ]; then
	hss_port=$(free_port)
	hss_metrics_port=$(free_port)
	hss_cx=""
	if [ "$MODE" = cx ]; then hss_cx=--cx; fi
	# Zh over TLS (the default): certificates from a CA made here.
	"$(dirname "$0")/make-dia-certs.sh" "$tmp/certs" bsf.bench.test hss.bench.test
	# shellcheck disable=SC2086
	"$HSS" --db "$tmp/subscribers.db" $kek_args --listen "127.0.0.1:$hss_port" \
		--identity hss.bench.test --realm bench.test --log-level warn $hss_cx \
		--metrics "127.0.0.1:$hss_metrics_port" \
		--sqn-block "${HSS_SQN_BLOCK:-1}" \
		--zh.tls_cert "$tmp/certs/hss.bench.test.pem" --zh.tls_key "$tmp/certs/hss.bench.test.key" \
		--zh.tls_ca "$tmp/certs/ca.pem" >"$tmp/hss.log" 2>&1 &
	hss_pid=$!
	pids="$pids $hss_pid"
	more_pids="$more_pids --server-pid $hss_pid"
	wait_port "$hss_port" "$hss_pid"
	source_args="--source zh --set zh.hss_host=127.0.0.1 --set zh.hss_port=$hss_port
		--set zh.hss_identity=hss.bench.test --set zh.hss_realm=bench.test
		--set zh.origin_host=bsf.bench.test --set zh.origin_realm=bench.test
		--set zh.tls_cert=$tmp/certs/bsf.bench.test.pem --set zh.tls_key=$tmp/certs/bsf.bench.test.key
		--set zh.tls_ca=$tmp/certs/ca.pem"
	# Cx: no BSF database of Public-Identities (sip:IMPI for all).
	if [ "$MODE" = cx ]; then
		source_args="$source_args --source cx --set cx.vectors=${CX_VECTORS:-5}
		--set cx.spare_ttl=${SPARE_TTL:-5} --set embedded.db=$tmp/no-such.db"
	fi
fi

if [ "$MODE" = gsup ]; then
	# osmo-hlr makes its database's schema; the same N subscribers (IMSI
	# 00101 + 10 digits, algo 5 = Milenage) then go in with one statement.
	hlr_addr=127.$(( $$ % 250 + 1 )).$(od -An -N1 -tu1 /dev/urandom | tr -d ' ').$(( $$ % 200 + 20 ))
	printf 'log stderr\n logging level main error\n logging level db error\n logging level auc error\nline vty\n bind %s\nctrl\n bind %s\nhlr\n gsup\n  bind ip %s\n' \
		"$hlr_addr" "$hlr_addr" "$hlr_addr" >"$tmp/osmo-hlr.cfg"
	osmo-hlr -c "$tmp/osmo-hlr.cfg" -l "$tmp/hlr.db" >"$tmp/hlr.log" 2>&1 &
	hlr_pid=$!
	pids="$pids $hlr_pid"
	more_pids="$more_pids --server-pid $hlr_pid"
	sleep 1
	sqlite3 -cmd ".timeout 5000" "$tmp/hlr.db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $N)
		INSERT INTO subscriber(id, imsi) SELECT i + 1, printf('00101%010d', i) FROM n;
		INSERT INTO auc_3g(subscriber_id, algo_id_3g, k, opc, sqn, ind_bitlen)
		SELECT id, 5, '$K', '$OPC', 0, 5 FROM subscriber;"
	# The database keeps only mappings and GUSSs in this mode: a fresh one.
	source_args="--source gsup --db $tmp/bsf-gsup.db --set gsup.remote=$hlr_addr:4222
		--set gsup.name=bench-bsf --set gsup.spare_ttl=${SPARE_TTL:-5}"
fi

port=$(free_port)
admin_port=$(free_port)
# ub-load bootstraps each subscriber about twice a second (a UE does it
# rarely): a per-IMPI rate that never binds, so its bookkeeping is measured.
# shellcheck disable=SC2086  # source_args is a word list on purpose
"$BSF" --set "bsf.state_dir=$tmp" --listen "127.0.0.1:$port" \
	--admin-listen "127.0.0.1:$admin_port" --domain "$DOMAIN" --store "$store_uri" \
	$source_args $kek_set --set "bsf.threads=$BSF_THREADS" --set "embedded.sqn_block=$SQN_BLOCK" --set log.level=warn \
	${GROUP_COMMIT:+--set embedded.group_commit=$GROUP_COMMIT} \
	$(for s in ${BSF_SET:-}; do printf '%s %s ' --set "$s"; done) \
	--set ub.impi_challenge_rate=1000 --set ub.impi_challenge_burst=1000 \
	>"$tmp/bsf.log" 2>&1 &
bsf_pid=$!
pids="$bsf_pid $pids"
wait_port "$port" "$bsf_pid"
wait_port "$admin_port" "$bsf_pid"

load_args="--connections $CONNECTIONS"
[ -n "${ONCE:-}" ] && load_args="$load_args --once"
[ -n "${RATE:-}" ] && load_args="$load_args --rate $RATE --max-open ${MAX_OPEN:-4000}"
[ -n "${NEW_CONN:-}" ] && load_args="$load_args --new-connections"
echo "run-ub-load: gba-bsf ($MODE, $STORE store) on 127.0.0.1:$port, pid $bsf_pid;" \
	"$load_args for $DURATION s" >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086  # more_pids and load_args likewise
"$UB_LOAD" --url "http://127.0.0.1:$port/" --count "$N" --k-file "$tmp/keys" \
	$load_args --threads "$THREADS" --duration "$DURATION" \
	--server-pid "$bsf_pid" $more_pids --admin "http://127.0.0.1:$admin_port/metrics" \
	>"$tmp/ub-load.out" || { st=$?; cat "$tmp/ub-load.out"; exit "$st"; }
cat "$tmp/ub-load.out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -s "http://127.0.0.1:$admin_port/metrics" >"$tmp/bsf.metrics" || true
# The vectors gba-hss-sim handed out (an SQN each) over the bootstraps made:
# 1.00 when none was wasted.  The spares the BSF still keeps when the run
# stops count as drawn (up to 4 per subscriber: a short run with many
# subscribers reads high), so the figure without them is given too; the
# BSF's dropped spares (gba_bsf_spare_vectors_dropped_total) are the waste.
if [ -n "${hss_metrics_port:-}" ]; then
	vectors=$(curl -s "http://127.0.0.1:$hss_metrics_port/metrics" |
		sed -n 's/^gba_hss_sqn_reservations_total //p')
	boots=$(sed -n 's/^bootstraps  *\([0-9]*\) ok.*/\1/p' "$tmp/ub-load.out")
	kept=$(sed -n 's/^gba_bsf_spare_vectors //p' "$tmp/bsf.metrics")
	awk -v v="${vectors:-0}" -v b="${boots:-0}" -v k="$kept" 'BEGIN {
		printf "gba-hss-sim       %d vectors for %d bootstraps: %.2f per bootstrap", v, b, b ? v / b : 0
		if (k != "")
			printf " (%.2f without the %d spares still kept)", b ? (v - k) / b : 0, k
		printf "\n" }'
fi
grep -E '^gba_bsf_(ub_shed|failures_total\{cause="overload"\}|spare_)' "$tmp/bsf.metrics" || true
echo "box: $(nproc) CPU(s), $(uname -r)"
