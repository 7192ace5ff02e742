#!/usr/bin/env bash
# The main job on embedded defaults: a simulated USIM bootstraps through a
# real BSF (gba-bsf, embedded subscriber database) over Ub on 127.0.0.1.
# scripts/demo.py says step by step what happens.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec python3 scripts/demo.py build
