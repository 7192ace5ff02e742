#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on Debian 12, and
# nothing when it is all there already.  Needs root (or sudo) to install.
set -euo pipefail

PACKAGES=(
  # build
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev python3
  # libgba
  nettle-dev libxml2-dev
  # stores: SQLite (embedded default), Redis (shared), Redis Sentinel (HA)
  libsqlite3-dev sqlite3 libhiredis-dev redis-server redis-sentinel
  # servers and clients: HTTP, TLS, Diameter
  libmicrohttpd-dev libgnutls28-dev gnutls-bin libcurl4-gnutls-dev
  libfreediameter-dev
  # Nbsp_GBA over HTTP/2 (the BSF side; libcurl speaks it on the client side)
  libnghttp2-dev
  # gba-naf and client/m2m: JSON bodies of the oneM2M key API
  libjansson-dev
  # tests and benchmarks
  libcmocka-dev libosmocore-dev tshark
  # Nbsp_GBA bodies checked against tests/zn/nbsp_gba.schema.json
  python3-jsonschema
  # the daemons' /metrics parsed as Prometheus reads it
  python3-prometheus-client
  # smart cards: a private pcscd with the virtual reader the USIM simulator
  # plugs into; ss (iproute2) lets the harness watch the vpcd port
  pcscd vsmartcard-vpcd libpcsclite-dev iproute2
  # long-term keys wrapped under a KEK in a PKCS#11 token: p11-kit finds it;
  # the tests make tokens in SoftHSM2 and keys with pkcs11-tool (opensc)
  libp11-kit-dev p11-kit softhsm2 opensc
  # av.source = gsup: vectors from Osmocom's HLR (the tests run a real one)
  libosmo-gsup-client-dev osmo-hlr
  # the Debian packages (debian/): built and checked by the 'packaging' suite
  debhelper dpkg-dev lintian
  # the daemons tell systemd they are ready (sd_notify, Type=notify units);
  # systemd-analyze (systemd) verifies the units in the 'daemon' suite
  libsystemd-dev systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
