#!/usr/bin/env bash
# Configures (once) and builds one build directory; on failure, shows why.
#   build.sh DIR [meson setup options...]
set -euo pipefail
dir=$1; shift
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$dir/build.ninja" ]; then
  if ! meson setup "$dir" "$@" >"$log" 2>&1; then
    tail -40 "$log"; echo "build.sh: meson setup $dir failed" >&2; exit 1
  fi
fi
if ! ninja -C "$dir" >"$log" 2>&1; then
  grep -E -A12 "FAILED|error" "$log" | head -60; echo "build.sh: ninja -C $dir failed" >&2; exit 1
fi
