#!/usr/bin/env bash
# The main job on embedded defaults, the whole chain on 127.0.0.1: HSS
# simulator, BSF (Zh, Zn), NAF, and the simulated USIM in a private pcscd;
# gba-client bootstraps, enrols (KmID, Km) and registers a session key that
# gba-target retrieves.  scripts/demo.py says step by step what happens.
#   scripts/demo.sh [--hlr osmo]   osmo-hlr over GSUP instead of the HSS simulator
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec python3 scripts/demo.py build "$@"
