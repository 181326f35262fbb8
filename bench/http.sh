#!/bin/bash
# http.sh - wrk against crumb-shop's /visits (cookie session: each request
# verifies, increments and re-signs the cookie) and against nginx serving a
# static `return 200` (the ceiling), with the same wrk settings; prints
# requests/s, p50 and p99 latency, and the ratio. Only 127.0.0.1.
# A bare libmicrohttpd server with crumb-shop's daemon settings
# (bench/peers/mhd_hello.c) shows the HTTP library's own ceiling.
# Flask + gunicorn and Express peers are not here yet (gunicorn is not
# installed on this machine); add them as further run_wrk calls.
# Usage: bench/http.sh   env: CRUMB_SHOP_BIN (build/crumb-shop),
#   DURATION (10s), CONNECTIONS (64), THREADS (2), CRUMB_THREADS (shop pool)
set -eu
cd "$(dirname "$0")/.."
BIN=${CRUMB_SHOP_BIN:-build/crumb-shop}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/crumb-bench.XXXXXX)
pids=()

cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "bench: $BIN not built (make)" >&2; exit 2; }

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1/$2" && return 0
        sleep 0.1
    done
    echo "bench: nothing answers on port $1" >&2
    exit 1
}

# run_wrk NAME URL [HEADER]: prints "NAME req/s p50 p99" into $TMP/NAME
run_wrk() {
    local name=$1 url=$2 hdr=${3:-}
    local out="$TMP/$name.wrk"
    if [ -n "$hdr" ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
            -H "$hdr" "$url" >"$out"
    else
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
            "$url" >"$out"
    fi
    local rps p50 p99 errs
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errs=$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')
    printf '%-22s %12s req/s   p50 %-9s p99 %-9s %s\n' "$name" "$rps" \
        "$p50" "$p99" "$errs"
    echo "$rps" >"$TMP/$name.rps"
}

# crumb-shop, cookie store, a valid session cookie
SHOP_PORT=$(free_port)
mkdir -p "$TMP/shop"
CRUMB_DATA_DIR="$TMP/shop" CRUMB_STORE=cookie \
    CRUMB_SECRET_KEY=bench-secret-key-0123456789abcdef0123456789 \
    "$BIN" --listen "127.0.0.1:$SHOP_PORT" >"$TMP/shop.out" 2>/dev/null &
pids+=($!)
wait_port "$SHOP_PORT" healthz
COOKIE=$(curl -s -D - -o /dev/null "http://127.0.0.1:$SHOP_PORT/visits" |
    tr -d '\r' | sed -n 's/^Set-Cookie: \(session=[^;]*\).*/\1/p')
[ -n "$COOKIE" ] || { echo "bench: no session cookie" >&2; exit 1; }

# nginx, a static `return 200`, from a throwaway config, not daemonized
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { return 200 "You have visited this page 1 times.\n"; }
    }
}
CONF
nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
pids+=($!)
wait_port "$NGINX_PORT" ""

# libmicrohttpd alone, same daemon settings, a fixed page
HELLO_PORT=$(free_port)
cc -O2 -std=c11 -D_DEFAULT_SOURCE -o "$TMP/mhd_hello" bench/peers/mhd_hello.c \
    $(pkg-config --cflags --libs libmicrohttpd)
"$TMP/mhd_hello" "$HELLO_PORT" &
pids+=($!)
wait_port "$HELLO_PORT" ""

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) CPUs, $(date -u +%F)"
run_wrk crumb-shop-visits "http://127.0.0.1:$SHOP_PORT/visits" \
    "Cookie: $COOKIE"
run_wrk crumb-shop-healthz "http://127.0.0.1:$SHOP_PORT/healthz"
run_wrk mhd-hello "http://127.0.0.1:$HELLO_PORT/"
run_wrk nginx-static "http://127.0.0.1:$NGINX_PORT/"
crumb=$(cat "$TMP/crumb-shop-visits.rps")
hz=$(cat "$TMP/crumb-shop-healthz.rps")
mhd=$(cat "$TMP/mhd-hello.rps")
ngx=$(cat "$TMP/nginx-static.rps")
awk -v a="$crumb" -v h="$hz" -v m="$mhd" -v n="$ngx" 'BEGIN {
    printf "ratio crumb /visits / nginx:       %.2f (target 0.85)\n", a / n
    printf "ratio crumb /healthz / nginx:      %.2f\n", h / n
    printf "ratio libmicrohttpd hello / nginx: %.2f\n", m / n
    printf "ratio crumb /visits / mhd hello:   %.2f\n", a / m
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews these)"
