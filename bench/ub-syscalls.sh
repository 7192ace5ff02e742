#!/bin/sh
# ub-syscalls.sh - system calls and context switches per bootstrap of gba-bsf
# and, for MODE=zh|cx, gba-hss-sim: bench/run-ub-load.sh once, with perf stat
# counting on both servers for the whole load; the counts divided by the
# bootstraps ub-load made.  Tracing slows the servers down: read the counts,
# not the rates or CPU of this run (run run-ub-load.sh alone for those).
#
#   bench/ub-syscalls.sh [BUILD_DIR]        (default: build)
#
# Needs perf (Debian's linux-perf) and the rights to trace (root, or
# kernel.perf_event_paranoid <= 1).  Settings as run-ub-load.sh's (MODE, N,
# CONNECTIONS, ...); DURATION [10].
set -eu

BUILD=${1:-build}
DURATION=${DURATION:-10}
export DURATION
command -v perf >/dev/null || { echo "ub-syscalls: needs perf (linux-perf)" >&2; exit 1; }
out=$(mktemp -d /tmp/ub-syscalls.XXXXXX)
trap 'rm -rf "$out"' EXIT
# Only the calls a bootstrap makes: one counter per event and thread.
events=context-switches
for s in futex recvfrom recvmsg sendto sendmsg writev write read pwrite64 pread64 \
	epoll_wait fcntl fdatasync getrandom; do
	events="$events,syscalls:sys_enter_$s"
done

"$(dirname "$0")/run-ub-load.sh" "$BUILD" >"$out/run" 2>&1 &
run=$!
i=0
until grep -q ", pid " "$out/run" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 1200 ] || ! kill -0 "$run" 2>/dev/null; then
		cat "$out/run" >&2
		exit 1
	fi
	sleep 0.05
done
bsf=$(sed -n 's/.*, pid \([0-9]*\);.*/\1/p' "$out/run")
dir=$(sed -n 's/.* into \(\/tmp\/run-ub-load\.[A-Za-z0-9]*\)\/.*/\1/p' "$out/run" | head -n 1)
hss=$(pgrep -f "gba-hss-sim --db $dir/" | head -n 1 || true)
perf stat -e "$events" -p "$bsf" -o "$out/bsf" -- sleep "$DURATION.5" &
stat_pids=$!
if [ -n "$hss" ]; then
	perf stat -e "$events" -p "$hss" -o "$out/hss" -- sleep "$DURATION.5" &
	stat_pids="$stat_pids $!"
fi
# shellcheck disable=SC2086  # a list of pids
wait $stat_pids
wait "$run"
grep -E "^(bootstraps|latency|ub-load cpu|gba-bsf cpu|gba-hss-sim cpu)" "$out/run"
n=$(awk '/^bootstraps / {print $2}' "$out/run")
for who in bsf hss; do
	[ -s "$out/$who" ] || continue
	echo "per bootstrap, $( [ "$who" = bsf ] && echo gba-bsf || echo gba-hss-sim ):"
	awk -v n="$n" '$1 ~ /^[0-9,]+$/ { gsub(",", "", $1); if ($1 + 0 > 0)
		printf "  %7.2f %s\n", $1 / n, $2 }' "$out/$who" | sed 's/syscalls:sys_enter_//' |
		sort -rn
done
