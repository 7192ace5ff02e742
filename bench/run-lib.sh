# shellcheck shell=sh
# shellcheck disable=SC2154  # tmp, pids, RUN_NAME: set by the runner
# run-lib.sh - what the bench/run-*.sh runners share; sourced, not run.
#
# Before sourcing, set:
#   RUN_NAME   the runner's name, for messages (e.g. run-ub-load)
#   tmp        the runner's temporary directory
#   pids       the pids to stop at exit (the runner appends as it starts things)
#   RUN_LOG    optional: a log whose end is shown when the runner fails
# Sourcing installs the exit trap that stops them and removes tmp (KEEP=1
# keeps it).

# Stop what we started, by pid, within bounds; then remove the files.
run_cleanup() {
	status=$?
	if [ "$status" -ne 0 ] && [ -n "${RUN_LOG:-}" ] && [ -s "$RUN_LOG" ]; then
		echo "$RUN_NAME: exit $status; the end of $RUN_LOG:" >&2
		tail -n 20 "$RUN_LOG" >&2
	fi
	for pid in $pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "$RUN_NAME: files kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait (at most 10 s) until something accepts on 127.0.0.1:$1; $2 is its pid.
wait_port() {
	python3 - "$1" "$2" "$RUN_NAME" <<'PYEOF'
import os, socket, sys, time
port, pid, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"{name}: the process exited before listening")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(f"{name}: nothing listens on 127.0.0.1:{port}")
PYEOF
}
