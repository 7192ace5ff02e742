#!/bin/sh
# run-scale.sh - the scale curve in one command: for each store (SQLite,
# Redis) and each size, the store filled with that many live B-TIDs
# (scale-fill), then gba-bsf on it: Ub bootstraps (ub-load) and Zn BIRs for
# B-TIDs drawn at random from the filled set (zn-load), the BSF's CPU and
# RSS, and the store's bytes per B-TID; a table at the end.
#
#   bench/run-scale.sh [BUILD_DIR]            (default: build)
#
# Settings through the environment (defaults in brackets):
#   STORES        which stores, in turn ["sqlite redis"]
#   SIZES         live B-TIDs before each measurement, ascending; the store
#                 is filled up to each in turn ["10000 1000000 10000000"]
#   DIR           where the big files go (SQLite: about 180 bytes per B-TID;
#                 Redis: an RDB of about 110) [a directory in /tmp]
#   N             subscribers ub-load bootstraps (their SQNs live in the
#                 embedded database, apart from the store) [10000]
#   CONNECTIONS   ub-load keep-alive connections [64]
#   DURATION      seconds of Ub load at each size [10]
#   ZN_DURATION   seconds of Zn load at each size [5]
#   SAMPLE        B-TIDs drawn from the filled set for zn-load [100000]
#   SQN_BLOCK     embedded.sqn_block [1]
#   STORE_OPTS    SQLite store options for gba-bsf, e.g. commit_ms=5 [none]
#   SQLITE_FILE   the SQLite store: kept afterwards, and when it exists, used
#                 as it is, filled (by this script) up to FILLED [in DIR,
#                 removed at the end]
#   FILLED        with SQLITE_FILE: scale-fill sessions it already holds [0]
#   KEEP=1        keep the directory (logs; the big files too)
#
# Figures only: the exit status says whether the run happened.  Runs one
# fill at a time; a 10-million SQLite store takes about 2 GB of disk, a
# Redis one about 3 GB of memory.
set -eu

BUILD=${1:-build}
STORES=${STORES:-sqlite redis}
SIZES=${SIZES:-10000 1000000 10000000}
N=${N:-10000}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10}
ZN_DURATION=${ZN_DURATION:-5}
SAMPLE=${SAMPLE:-100000}
SQN_BLOCK=${SQN_BLOCK:-1}
# A published test key (TS 35.208 set 1): never a real subscriber's.
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
DOMAIN=bsf.bench.test            # the B-TIDs' domain: the BIRs' Destination-Realm
NAF_DOMAIN=bench.test            # zn-load's NAFs: naf1.bench.test, naf2.bench.test

FILL=$BUILD/bench/scale-fill
UB_LOAD=$BUILD/bench/ub-load
ZN_LOAD=$BUILD/bench/zn-load
BSF=$BUILD/bsf/gba-bsf
SUBSCRIBER=$BUILD/tools/gba-subscriber
for prog in "$FILL" "$UB_LOAD" "$ZN_LOAD" "$BSF" "$SUBSCRIBER"; do
	[ -x "$prog" ] || { echo "run-scale: $prog is not built (ninja -C $BUILD)" >&2; exit 1; }
done
for s in $STORES; do
	case $s in
	sqlite) ;;
	redis) command -v redis-server >/dev/null || { echo "run-scale: no redis-server" >&2; exit 1; } ;;
	*) echo "run-scale: STORES are sqlite and/or redis" >&2; exit 2 ;;
	esac
done

tmp=${DIR:-}
[ -n "$tmp" ] && mkdir -p "$tmp" && tmp=$(mktemp -d "$tmp/run-scale.XXXXXX")
[ -n "$tmp" ] || tmp=$(mktemp -d /tmp/run-scale.XXXXXX)
pids=""
RUN_NAME=run-scale
# shellcheck source=bench/run-lib.sh
. "$(dirname "$0")/run-lib.sh"

# "VmRSS RssAnon RssFile" of a process, in MiB.
rss_of() {
	awk '/^(VmRSS|RssAnon|RssFile):/ { v[$1] = $2 }
		END { printf "%.1f %.1f %.1f", v["VmRSS:"] / 1024, v["RssAnon:"] / 1024, v["RssFile:"] / 1024 }' \
		"/proc/$1/status"
}

# Stop one process we started, by pid, within 10 s.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# A field of redis-server's INFO.
redis_info() {
	redis-cli -p "$redis_port" INFO "$1" | tr -d '\r' | sed -n "s/^$2://p"
}

echo "run-scale: $N subscribers into $tmp/subscribers.db" >&2
# K and OPc reach ub-load in a file, never on its command line (ps).
(umask 077 && printf 'k=%s\nopc=%s\n' "$K" "$OPC" >"$tmp/ue.keys")
"$UB_LOAD" --make-csv "$N" --k-file "$tmp/ue.keys" >"$tmp/subs.csv"
"$SUBSCRIBER" --db "$tmp/subscribers.db" import "$tmp/subs.csv" >&2
cp "$tmp/subscribers.db" "$tmp/subscribers.clean"

table="$tmp/table.txt"
: >"$table"

# One measurement: gba-bsf on $store_uri, ub-load, then zn-load; appends a
# row to the table.  $1 store name, $2 size, $3 fill seconds, $4 bytes on
# disk per B-TID, $5 bytes in memory per B-TID, $6 live B-TIDs in the store.
measure() {
	# Every size starts from the same SQNs: a fresh copy of the subscribers.
	cp "$tmp/subscribers.clean" "$tmp/subscribers.db"
	rm -f "$tmp/subscribers.db-wal" "$tmp/subscribers.db-shm"
	port=$(free_port)
	admin_port=$(free_port)
	zn_port=$(free_port)
	"$BSF" --set "bsf.state_dir=$tmp" --listen "127.0.0.1:$port" \
		--admin-listen "127.0.0.1:$admin_port" --domain "$DOMAIN" --db "$tmp/subscribers.db" \
		--store "$store_uri" --set "embedded.sqn_block=$SQN_BLOCK" --set log.level=warn \
		--set ub.impi_challenge_rate=1000 --set ub.impi_challenge_burst=1000 \
		--set zn.enabled=on --set zn.transport=tcp --set zn.listen=127.0.0.1 \
		--set "zn.port=$zn_port" --set "zn.identity=$DOMAIN" --set "zn.realm=$NAF_DOMAIN" \
		--set zn.policy=allow --set "zn.naf_groups=bench=naf1.$NAF_DOMAIN|naf2.$NAF_DOMAIN" \
		>"$tmp/bsf-$1-$2.log" 2>&1 &
	bsf_pid=$!
	pids="$bsf_pid $pids"
	wait_port "$port" "$bsf_pid"
	wait_port "$admin_port" "$bsf_pid"
	rss0=$(rss_of "$bsf_pid")
	load0=$(cut -d' ' -f1 /proc/loadavg)
	echo "run-scale: $1, $2 B-TIDs: ub-load $CONNECTIONS connections, $DURATION s" >&2
	# shellcheck disable=SC2086  # more_pids is a word list on purpose
	"$UB_LOAD" --url "http://127.0.0.1:$port/" --count "$N" --k-file "$tmp/ue.keys" \
		--connections "$CONNECTIONS" --duration "$DURATION" --server-pid "$bsf_pid" $more_pids \
		--admin "http://127.0.0.1:$admin_port/metrics" >"$tmp/ub-$1-$2.out"
	cat "$tmp/ub-$1-$2.out"
	rss1=$(rss_of "$bsf_pid")
	echo "run-scale: $1, $2 B-TIDs: zn-load, $SAMPLE B-TIDs drawn from the store, $ZN_DURATION s" >&2
	# shellcheck disable=SC2086
	"$ZN_LOAD" --bsf "127.0.0.1:$zn_port" --btid-file "$tmp/sample.txt" --connections 2 \
		--in-flight 64 --duration "$ZN_DURATION" --naf-domain "$NAF_DOMAIN" \
		--server-pid "$bsf_pid" $more_pids >"$tmp/zn-$1-$2.out" || true
	cat "$tmp/zn-$1-$2.out"
	rss2=$(rss_of "$bsf_pid")
	load1=$(cut -d' ' -f1 /proc/loadavg)
	stop_pid "$bsf_pid"
	pids=${pids#"$bsf_pid "}
	ub=$(awk '/^bootstraps\/s/ { r = $2 } /^gba-bsf cpu/ { c = $3 } /^redis-server cpu/ { s = $3 }
		/^latency us/ { l = sprintf("%.1f/%.1f", $4 / 1000, $6 / 1000) }
		/^bootstraps / { f = $4 }
		END { printf "%s %s %s %s %s", r, c, l, f, s != "" ? s : "-" }' "$tmp/ub-$1-$2.out")
	zn=$(awk '/^BIR\/BIA\/s/ { r = $2 } /^gba-bsf cpu/ { c = $3 } /^BIR\/BIA / { f = $4 }
		/^redis-server cpu/ { s = $3 }
		END { printf "%s %s %s %s", r != "" ? r : "-", c != "" ? c : "-", f != "" ? f : "-",
			s != "" ? s : "-" }' "$tmp/zn-$1-$2.out")
	live_now=$6
	# shellcheck disable=SC2086  # word lists on purpose
	set -- "$1" "$2" "$3" "$4" "$5" $ub $zn $rss0 $rss1 $rss2
	# 1 store 2 size 3 fill 4 disk 5 mem 6 rate 7 cpu 8 p50/p99 9 failed 10 redis cpu
	# 11 bir/s 12 cpu/bir 13 bir failed 14 redis cpu/bir 15-17 rss0 18-20 rss1 21-23 rss2
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s -> %s -> %s (anon %s, file %s) | %s - %s |\n' \
		"$1" "$live_now" "$6" "$7" "${10}" "$8" "${11}" "${12}" "$4" "$5" "$3" "${15}" "${18}" \
		"${21}" "${22}" "${23}" "$load0" "$load1" >>"$table"
	[ "$9" = 0 ] || echo "run-scale: $1 $2: $9 bootstraps failed" >>"$table.notes"
	[ "${13}" = 0 ] || echo "run-scale: $1 $2: ${13} BIRs failed" >>"$table.notes"
}

for store in $STORES; do
	filled=0
	case $store in
	sqlite)
		db=${SQLITE_FILE:-$tmp/sessions.db}
		[ -n "${SQLITE_FILE:-}" ] && filled=${FILLED:-0}
		[ -n "${SQLITE_FILE:-}" ] || rm -f "$db" "$db-wal" "$db-shm"
		# The fill writes larger transactions than the BSF; the file is the same.
		fill_uri="sqlite:$db?commit_ms=1000&batch=1024"
		fill_threads=1
		probe=--probe
		more_pids=""
		store_uri="sqlite:$db${STORE_OPTS:+?$STORE_OPTS}"
		;;
	redis)
		redis_port=$(free_port)
		mkdir -p "$tmp/redis"
		redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$tmp/redis" >"$tmp/redis.log" 2>&1 &
		redis_pid=$!
		pids="$pids $redis_pid"
		wait_port "$redis_port" "$redis_pid"
		mem0=$(redis_info memory used_memory)
		fill_uri="redis://127.0.0.1:$redis_port/0?pool=8"
		fill_threads=8
		probe=""
		more_pids="--server-pid $redis_pid"
		store_uri="redis://127.0.0.1:$redis_port/0"
		;;
	esac
	for size in $SIZES; do
		[ "$size" -ge "$filled" ] || continue
		fill_s=-
		if [ "$size" -gt "$filled" ]; then
			echo "run-scale: $store: filling $filled .. $size" >&2
			t0=$(date +%s.%N)
			# shellcheck disable=SC2086  # probe is empty or one word
			"$FILL" --store "$fill_uri" --start "$filled" --count $((size - filled)) \
				--threads "$fill_threads" --domain "$DOMAIN" $probe \
				>"$tmp/fill-$store-$size.out"
			t1=$(date +%s.%N)
			cat "$tmp/fill-$store-$size.out"
			fill_s=$(echo "$t0 $t1" | awk '{ printf "%.0f", $2 - $1 }')
			filled=$size
		fi
		"$FILL" --store "$fill_uri" --start "$filled" --count 0 --domain "$DOMAIN" \
			--sample "$SAMPLE" --sample-file "$tmp/sample.txt" >"$tmp/store-$store-$size.out"
		cat "$tmp/store-$store-$size.out"
		# Every live B-TID the store holds (the fill's and earlier sizes' bootstraps).
		live=$(awk '/^store / { print $2 }' "$tmp/store-$store-$size.out")
		case $store in
		sqlite)
			bytes=$(stat -c %s "$db")
			disk=$(echo "$bytes $live" | awk '{ printf "%.0f", $1 / $2 }')
			mem="-"
			;;
		redis)
			mem=$(echo "$(redis_info memory used_memory) $mem0 $live" |
				awk '{ printf "%.0f", ($1 - $2) / $3 }')
			redis-cli -p "$redis_port" SAVE >/dev/null
			disk=$(echo "$(stat -c %s "$tmp/redis/dump.rdb") $live" |
				awk '{ printf "%.0f (RDB)", $1 / $2 }')
			;;
		esac
		echo "run-scale: $store: $live B-TIDs in the store, $disk bytes each on disk, $mem in memory" >&2
		measure "$store" "$size" "$fill_s" "$disk" "$mem" "$live"
	done
	if [ "$store" = redis ]; then
		echo "redis-server: used_memory $(redis_info memory used_memory_human)," \
			"RSS $(redis_info memory used_memory_rss_human)" >>"$table.notes"
		stop_pid "$redis_pid"
		pids=${pids%" $redis_pid"}
		rm -rf "$tmp/redis"
	elif [ -z "${SQLITE_FILE:-}" ]; then
		rm -f "$db" "$db-wal" "$db-shm"
	fi
done

echo
echo "| store | live B-TIDs | bootstraps/s | gba-bsf µs CPU per bootstrap | redis-server µs per bootstrap | p50/p99 ms | Zn BIR/s | gba-bsf µs CPU per BIR | bytes per B-TID on disk | bytes per B-TID in memory | fill s | gba-bsf RSS MiB start -> after Ub -> after Zn | load average |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$table"
[ -f "$table.notes" ] && cat "$table.notes"
echo "box: $(nproc) CPU(s), $(uname -r)"
