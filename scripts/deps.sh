#!/bin/sh
# deps.sh - install the Debian packages crumb needs, only those missing.
# Usage: scripts/deps.sh build|run|test
# build: compilers and -dev libraries; run: build + what crumb-shop uses;
# test: run + the real peers the tests start (Flask, Redis, nginx, clang,
# Chromium, Node). Needs root (or sudo) only when something is missing.
set -eu

profile=${1:-build}
pkgs="make gcc pkg-config libssl-dev zlib1g-dev libjansson-dev \
libsqlite3-dev libhiredis-dev libmicrohttpd-dev"
case "$profile" in
build|run) ;;
test)
    pkgs="$pkgs python3 python3-flask clang libclang-rt-14-dev \
redis-server nginx-light sqlite3 curl chromium"
    # The browser test runs playwright-core under node. The machine image
    # brings node 20 and npm; Debian 12's nodejs (18) and npm are only the
    # fallback when there is no node at all.
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
    ;;
*)
    echo "usage: $0 build|run|test" >&2
    exit 2
    ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: missing packages:$missing (run as root)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
