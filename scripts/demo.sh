#!/usr/bin/env bash
# The main job on embedded defaults.  For now: one GBA bootstrap and one
# Ks_NAF worked through with libgba (examples/gba_example.c).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/examples/gba-example "$@"
