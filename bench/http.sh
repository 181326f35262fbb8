#!/bin/bash
# http.sh - one wrk run, same settings for every server, against:
#   nginx-static    nginx (Debian) answering a fixed `return 200` (ceiling)
#   mhd-hello       a bare libmicrohttpd server with crumb-shop's daemon
#                   settings (bench/peers/mhd_hello.c): the library's ceiling
#   mhd-page        the same server sending /visits's response as constants
#                   (nine headers, same body size): the library's ceiling
#                   for the response crumb must send
#   crumb-healthz   crumb-shop /healthz (the HTTP layer, no session)
#   crumb-cookie    crumb-shop /visits, CRUMB_STORE=cookie
#   crumb-sqlite    crumb-shop /visits, CRUMB_STORE=sqlite:PATH
#   crumb-redis     crumb-shop /visits, CRUMB_STORE=redis://127.0.0.1:P/1
#   crumb-sqlite-many, crumb-redis-many
#                   the same, one session per wrk connection (below)
#   redis-floor     no HTTP: bench/peers/redis_floor.c, bare hiredis sending
#                   per iteration exactly the two commands crumb's Redis
#                   store sends per /visits (HMGET, EVALSHA of crumb's save
#                   script) from 8 threads over CONNECTIONS sessions, on
#                   the same redis-server: the Redis ceiling. Its req/s is
#                   iterations/s, its cpu the client's per iteration (the
#                   redis-server's is in the check column)
#   flask-cookie    Flask + gunicorn (2 sync workers), Flask's cookie session
#   flask-redis     the same with Flask-Session (Debian's 0.3.2) on Redis
#   express-memory  Express + express-session, memory store
#   express-redis   Express + express-session + connect-redis
# Every /visits target gets a valid session cookie first and is checked to
# count (two more GETs must give N and N+1); wrk then sends that cookie on
# every request, so each request is a session read and write: all the
# connections on ONE session, every write conflicting with the others (the
# worst case). The -many targets instead get CONNECTIONS sessions from
# curl first and bench/sessions.lua gives each in-flight request its own
# (wrk knows no connection identity; see that file). A server that
# will not start (a store crumb-shop does not accept yet, a missing peer)
# is reported "n/a" with the reason. Prints requests/s, p50 and p99 (the
# median run of ROUNDS), ratios to nginx and to each peer, the targets, and
# the server's CPU time per request (its process and its children; not the
# redis-server behind it), which is steadier than requests/s on a busy
# machine.
# Everything listens on a free 127.0.0.1 port, lives in a temporary
# directory, and is stopped by PID at exit; the whole run is time-bounded.
# Packages: scripts/deps.sh bench. Express: npm ci on first run.
# Usage: bench/http.sh
#   env: CRUMB_SHOP_BIN (build/crumb-shop), DURATION (10s), CONNECTIONS (64),
#   THREADS (2), WARMUP (2s, 0 = none), ROUNDS (1), ONLY (space-separated
#   target names), CRUMB_THREADS (shop pool), MAX_SECONDS (limit, default
#   from the settings), PERF_DIR (record perf -g of the server during every
#   crumb-* and mhd-* run into this directory, one NAME.data each),
#   PERF_ARGS (perf record's options, "-g"; libsqlite3 and hiredis have no
#   frame pointers: "--call-graph dwarf -F 499" gives their callers).
set -eu
cd "$(dirname "$0")/.."
BIN=${CRUMB_SHOP_BIN:-build/crumb-shop}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-1}
PERF_DIR=${PERF_DIR:-}
PY=/usr/bin/python3
SECRET=bench-secret-key-0123456789abcdef0123456789
ALL="nginx-static mhd-hello mhd-page crumb-healthz crumb-cookie crumb-sqlite \
crumb-sqlite-many crumb-redis crumb-redis-many redis-floor flask-cookie \
flask-redis express-memory express-redis"
ONLY=${ONLY:-$ALL}

secs() { # 10s, 1m, 500ms -> whole seconds, rounded up
    case $1 in
    *ms) echo 1 ;;
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
    esac
}
RUN_S=$(secs "$DURATION")
WARM_S=$([ "$WARMUP" = 0 ] && echo 0 || secs "$WARMUP")
n_targets=$(echo "$ONLY" | wc -w)
MAX_SECONDS=${MAX_SECONDS:-$((120 + n_targets * (20 + ROUNDS * \
    (RUN_S + WARM_S + 5))))}

# The time bound: re-run under timeout(1); TERM reaches the trap below.
if [ -z "${CRUMB_BENCH_BOUNDED:-}" ]; then
    CRUMB_BENCH_BOUNDED=1 exec timeout -k 10 "$MAX_SECONDS" "$0" "$@"
fi

TMP=$(mktemp -d /tmp/crumb-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "bench: stopped (signal or MAX_SECONDS=$MAX_SECONDS)" >&2;
    exit 143' TERM INT

for tool in wrk nginx curl timeout; do
    command -v "$tool" >/dev/null ||
        { echo "bench: $tool missing (scripts/deps.sh bench)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "bench: $BIN not built (make)" >&2; exit 2; }

wanted() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

declare -A URL SPID

# na NAME REASON: NAME is not measured in this run
na() {
    echo "$2" >"$TMP/$1.na"
    echo "bench: $1: n/a ($2)" >&2
}

# start NAME CMD...: starts CMD in the background, output to $TMP/NAME.log;
# its PID in $last_pid
start() {
    local name=$1
    shift
    "$@" >"$TMP/$name.log" 2>&1 &
    last_pid=$!
    pids+=("$last_pid")
    SPID[$name]=$last_pid
}

# up NAME PID PORT PATH: waits (at most 10 s) until PID answers on PORT;
# otherwise NAME is n/a, with the first line of its log
up() {
    local name=$1 pid=$2 port=$3 path=$4
    for _ in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            na "$name" "exited: $(head -c 200 "$TMP/$name.log" | head -1)"
            return 1
        fi
        curl -s -m 2 -o /dev/null "http://127.0.0.1:$port$path" && return 0
        sleep 0.1
    done
    na "$name" "nothing answers on port $port"
    return 1
}

# session NAME URL: gets a session cookie from URL, then checks that two
# more GETs with it count N, N+1; writes "Cookie: k=v" to $TMP/NAME.cookie
session() {
    local name=$1 url=$2 jar="$TMP/$1.jar" a b
    curl -s -m 5 -c "$jar" -o /dev/null "$url"
    # Netscape jar: domain flag path secure expiry name value
    awk -F'\t' 'NF == 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) {
        printf "Cookie: %s=%s\n", $6, $7 }' "$jar" | head -1 \
        >"$TMP/$name.cookie"
    if [ ! -s "$TMP/$name.cookie" ]; then
        na "$name" "no session cookie from $url"
        return 1
    fi
    a=$(curl -s -m 5 -b "$jar" -c "$jar" "$url" |
        sed -n 's/.*visited this page \([0-9][0-9]*\) times.*/\1/p')
    b=$(curl -s -m 5 -b "$jar" -c "$jar" "$url" |
        sed -n 's/.*visited this page \([0-9][0-9]*\) times.*/\1/p')
    if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -eq $((a + 1)) ]; then
        echo "counts $a -> $b" >"$TMP/$name.check"
    else
        echo "DOES NOT COUNT (${a:-?} -> ${b:-?})" >"$TMP/$name.check"
        echo "bench: $name: /visits does not count (${a:-?} -> ${b:-?})" >&2
    fi
}


# sessions NAME URL: CONNECTIONS more sessions from URL, one "Cookie: k=v"
# line each in $TMP/NAME.cookies, for bench/sessions.lua
sessions() {
    local name=$1 url=$2 jar="$TMP/$1.many.jar" i
    : >"$TMP/$name.cookies"
    for i in $(seq "$CONNECTIONS"); do
        rm -f "$jar"
        curl -s -m 5 -c "$jar" -o /dev/null "$url"
        awk -F'\t' 'NF == 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) {
            printf "Cookie: %s=%s\n", $6, $7 }' "$jar" | head -1 \
            >>"$TMP/$name.cookies"
    done
    i=$(sort -u "$TMP/$name.cookies" | wc -l)
    if [ "$i" -ne "$CONNECTIONS" ]; then
        na "$name" "$i distinct sessions from $url, not $CONNECTIONS"
        return 1
    fi
}

# ---------------------------------------------------------------- servers

REDIS_PORT=""
need_redis=0
# every target whose name mentions redis shares this one redis-server
for t in $ONLY; do
    case $t in *redis*) need_redis=1 ;; esac
done
if [ "$need_redis" = 1 ]; then
    if command -v redis-server >/dev/null; then
        REDIS_PORT=$(free_port)
        mkdir -p "$TMP/redis"
        start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
            --dir "$TMP/redis" --save '' --appendonly no --daemonize no
        for _ in $(seq 50); do
            redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG &&
                break
            sleep 0.1
        done
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG ||
            REDIS_PORT=""
    fi
fi

if wanted nginx-static; then
    port=$(free_port)
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
        listen 127.0.0.1:$port;
        location / { return 200 "You have visited this page 1 times.\n"; }
    }
}
CONF
    start nginx-static nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx"
    up nginx-static "$last_pid" "$port" / &&
        URL[nginx-static]="http://127.0.0.1:$port/"
fi

if wanted mhd-hello || wanted mhd-page; then
    if cc -O2 -std=c11 -D_DEFAULT_SOURCE -o "$TMP/mhd_hello" \
        bench/peers/mhd_hello.c \
        $(pkg-config --cflags --libs libmicrohttpd) 2>"$TMP/mhd.cc"; then
        for t in mhd-hello mhd-page; do
            wanted $t || continue
            port=$(free_port)
            start $t "$TMP/mhd_hello" "$port" "${t#mhd-}"
            up $t "$last_pid" "$port" / &&
                URL[$t]="http://127.0.0.1:$port/"
        done
    else
        for t in mhd-hello mhd-page; do
            na $t "does not compile: $(head -1 "$TMP/mhd.cc")"
        done
    fi
fi

# shop NAME STORE [PATH]: crumb-shop with CRUMB_STORE=STORE
shop() {
    local name=$1 store=$2 path=${3:-/visits} port
    port=$(free_port)
    mkdir -p "$TMP/$name"
    start "$name" env CRUMB_DATA_DIR="$TMP/$name" CRUMB_STORE="$store" \
        CRUMB_SECRET_KEY="$SECRET" CRUMB_LOG=1 \
        "$BIN" --listen "127.0.0.1:$port"
    up "$name" "$last_pid" "$port" /healthz || return 0
    URL[$name]="http://127.0.0.1:$port$path"
    [ "$path" = /visits ] || return 0
    session "$name" "${URL[$name]}" || { unset "URL[$name]"; return 0; }
    case $name in
    *-many) sessions "$name" "${URL[$name]}" || unset "URL[$name]" ;;
    esac
}
wanted crumb-healthz && shop crumb-healthz cookie /healthz
wanted crumb-cookie && shop crumb-cookie cookie
for t in crumb-sqlite crumb-sqlite-many; do
    wanted $t && shop $t "sqlite:$TMP/$t/sessions.db"
done
db=1
for t in crumb-redis crumb-redis-many; do
    if wanted $t; then
        if [ -n "$REDIS_PORT" ]; then
            shop $t "redis://127.0.0.1:$REDIS_PORT/$db"
        else
            na $t "redis-server missing or not starting"
        fi
    fi
    db=4 # flask-redis has 2, express-redis 3
done

if wanted redis-floor; then
    if [ -z "$REDIS_PORT" ]; then
        na redis-floor "redis-server missing or not starting"
    elif cc -O2 -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc \
        -o "$TMP/redis_floor" bench/peers/redis_floor.c \
        $(pkg-config --cflags --libs hiredis) -lpthread \
        2>"$TMP/floor.cc"; then
        URL[redis-floor]=floor
    else
        na redis-floor "does not compile: $(head -1 "$TMP/floor.cc")"
    fi
fi

# flask NAME [REDIS_URL]: gunicorn, 2 sync workers (its defaults otherwise)
flask() {
    local name=$1 redis=${2:-} port
    if ! command -v gunicorn >/dev/null; then
        na "$name" "gunicorn missing (scripts/deps.sh bench)"
        return 0
    fi
    port=$(free_port)
    start "$name" env FLASK_SESSION_REDIS="$redis" gunicorn -w 2 \
        -b "127.0.0.1:$port" --chdir bench/peers flask_visits:app
    up "$name" "$last_pid" "$port" /visits || return 0
    URL[$name]="http://127.0.0.1:$port/visits"
    session "$name" "${URL[$name]}" || unset "URL[$name]"
}
wanted flask-cookie && flask flask-cookie
if wanted flask-redis; then
    if [ -n "$REDIS_PORT" ]; then
        flask flask-redis "redis://127.0.0.1:$REDIS_PORT/2"
    else
        na flask-redis "redis-server missing or not starting"
    fi
fi

# express NAME [REDIS_URL]: one node process
EXPRESS=bench/peers/express
express_ready=""
express() {
    local name=$1 redis=${2:-} port
    if [ -z "$express_ready" ]; then
        express_ready=no
        if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
            echo "node or npm missing" >"$TMP/express.why"
        elif [ -d "$EXPRESS/node_modules" ] ||
            (cd "$EXPRESS" && timeout 300 npm ci --no-audit --no-fund \
                >"$TMP/npm.log" 2>&1); then
            express_ready=yes
        else
            echo "npm ci failed: $(tail -1 "$TMP/npm.log")" >"$TMP/express.why"
        fi
    fi
    if [ "$express_ready" != yes ]; then
        na "$name" "$(cat "$TMP/express.why")"
        return 0
    fi
    port=$(free_port)
    start "$name" env PORT="$port" REDIS_URL="$redis" NODE_ENV=production \
        node "$EXPRESS/server.js"
    up "$name" "$last_pid" "$port" /visits || return 0
    URL[$name]="http://127.0.0.1:$port/visits"
    session "$name" "${URL[$name]}" || unset "URL[$name]"
}
wanted express-memory && express express-memory
if wanted express-redis; then
    if [ -n "$REDIS_PORT" ]; then
        express express-redis "redis://127.0.0.1:$REDIS_PORT/3"
    else
        na express-redis "redis-server missing or not starting"
    fi
fi

# ---------------------------------------------------------------- wrk

# to_ms 1.23ms|512.00us|1.20s -> milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) printf "%.3f", v / 1000
        else if (v ~ /ms$/) printf "%.3f", v + 0
        else if (v ~ /m$/) printf "%.3f", v * 60000
        else if (v ~ /s$/) printf "%.3f", v * 1000
        else printf "nan" }'
}

# cpu_ticks PID: user+system clock ticks of PID and its children (nginx's
# and gunicorn's workers), to get the server's CPU time per request, which
# other load on the machine disturbs much less than requests/s
cpu_ticks() {
    local t=0 p st f
    for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        read -r -a f <<<"${st##*) }"
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}

# run_wrk NAME ROUND: one timed run; appends "rps p50ms p99ms cpu-us/req
# errors"
run_wrk() {
    local name=$1 round=$2 out="$TMP/$1.$2.wrk" hdr=() cmd
    [ -s "$TMP/$name.cookie" ] && hdr=(-H "$(cat "$TMP/$name.cookie")")
    [ -s "$TMP/$name.cookies" ] && hdr=(-s bench/sessions.lua)
    cmd=(wrk -t"$THREADS" -c"$CONNECTIONS" --latency "${hdr[@]}")
    local args=()
    [ -s "$TMP/$name.cookies" ] && args=(-- "$TMP/$name.cookies" "$THREADS")
    if [ "$WARMUP" != 0 ]; then
        timeout $((WARM_S + 30)) "${cmd[@]}" -d"$WARMUP" "${URL[$name]}" \
            "${args[@]}" >/dev/null || true
    fi
    local perf_pid=""
    if [ -n "$PERF_DIR" ] && { [ "${name#crumb-}" != "$name" ] ||
        [ "${name#mhd-}" != "$name" ]; }; then
        mkdir -p "$PERF_DIR"
        # shellcheck disable=SC2086 # PERF_ARGS is a list of options
        perf record ${PERF_ARGS:--g} -q -p "${SPID[$name]}" \
            -o "$PERF_DIR/$name.data" \
            -- sleep "$RUN_S" >/dev/null 2>&1 &
        perf_pid=$!
        pids+=("$perf_pid")
    fi
    local t0 t1
    t0=$(cpu_ticks "${SPID[$name]}")
    timeout $((RUN_S + 30)) "${cmd[@]}" -d"$DURATION" "${URL[$name]}" \
        "${args[@]}" >"$out" || true
    t1=$(cpu_ticks "${SPID[$name]}")
    [ -n "$perf_pid" ] && { wait "$perf_pid" || true; }
    local rps p50 p99 errs cpu
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
        '/ requests in / { if ($1 > 0) printf "%.1f", d / hz * 1e6 / $1
                          else printf "nan" }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$out")
    if ! kill -0 "${SPID[$name]}" 2>/dev/null || [ -z "$rps" ]; then
        local why="no answer"
        kill -0 "${SPID[$name]}" 2>/dev/null ||
            why="server exited: $(tail -c 300 "$TMP/$name.log" | tail -1)"
        printf '  %-17s round %d: FAILED (%s)\n' "$name" "$round" "$why"
        echo "round $round failed ($why)" >>"$TMP/$name.failed"
        [ -s "$TMP/$name.runs" ] || na "$name" "$why"
        return 0
    fi
    printf '  %-17s round %d: %10s req/s  p50 %8s ms  p99 %8s ms' \
        "$name" "$round" "${rps:-?}" "$p50" "$p99"
    printf '  cpu %7s us/req  %s\n' "${cpu:-nan}" "$errs"
    echo "${rps:-0} $p50 $p99 ${cpu:-nan} ${errs:-}" >>"$TMP/$name.runs"
}

# run_floor ROUND: one redis_floor run (database 5) as a row: iterations/s
# for req/s, the client's cpu per iteration, redis-server's in the check
run_floor() {
    local round=$1 out="$TMP/redis-floor.$1.out" it cpu rcpu
    timeout $((RUN_S + WARM_S + 30)) "$TMP/redis_floor" -p "$REDIS_PORT" \
        -n 5 -t 8 -s "$CONNECTIONS" -d "$RUN_S" -w "$WARM_S" >"$out" 2>&1 ||
        true
    it=$(awk '/iterations\/s/ {print $2}' "$out")
    cpu=$(awk '/client cpu/ {print $3}' "$out")
    rcpu=$(awk '/redis-server cpu/ {print $3}' "$out")
    if [ -z "$it" ]; then
        printf '  %-17s round %d: FAILED (%s)\n' redis-floor "$round" \
            "$(tail -1 "$out")"
        [ -s "$TMP/redis-floor.runs" ] || na redis-floor "$(tail -1 "$out")"
        return 0
    fi
    printf '  %-17s round %d: %10s it/s   (2 round trips each)' redis-floor \
        "$round" "$it"
    printf '  cpu %7s us/it, redis-server %s us/it\n' "$cpu" "${rcpu:-?}"
    echo "$it nan nan $cpu redis-server ${rcpu:-?} us/it" \
        >>"$TMP/redis-floor.runs"
}

echo "bench: wrk -t$THREADS -c$CONNECTIONS -d$DURATION (warm-up $WARMUP)," \
    "$ROUNDS round(s), $(nproc) CPUs, $(date -u '+%F %H:%M') UTC," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    for t in $ALL; do
        wanted "$t" && [ -n "${URL[$t]:-}" ] || continue
        if [ "$t" = redis-floor ]; then
            run_floor "$round"
        else
            run_wrk "$t" "$round"
        fi
    done
done

# ---------------------------------------------------------------- report

# median run of a target: "rps p50 p99 errors"
median() {
    sort -n "$TMP/$1.runs" | awk '{ l[NR] = $0 } END {
        print l[int((NR + 1) / 2)] }'
}
for t in $ALL; do
    if wanted "$t" && [ -s "$TMP/$t.runs" ]; then
        median "$t" >"$TMP/$t.med"
        cut -d' ' -f1 "$TMP/$t.med" >"$TMP/$t.rps"
    fi
done
rps_of() { cat "$TMP/$1.rps" 2>/dev/null || echo ""; }
ratio() { # ratio A B -> A/B with 2 decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || b == 0) print "n/a"
        else printf "%.2f", a / b }'
}
NGX=$(rps_of nginx-static)
MHD=$(rps_of mhd-hello)
printf '\n%-17s %10s %9s %9s %8s %8s %10s  %s\n' target req/s p50-ms \
    p99-ms x-nginx x-mhd cpu-us/req check
for t in $ALL; do
    wanted "$t" || continue
    if [ -s "$TMP/$t.med" ]; then
        read -r rps p50 p99 cpu errs <"$TMP/$t.med"
        printf '%-17s %10s %9s %9s %8s %8s %10s  %s %s\n' "$t" "$rps" \
            "$p50" "$p99" "$(ratio "$rps" "$NGX")" "$(ratio "$rps" "$MHD")" \
            "$cpu" "$(cat "$TMP/$t.check" "$TMP/$t.failed" 2>/dev/null |
                tr '\n' ' ')" "$errs"
    else
        printf '%-17s %10s %9s %9s %8s %8s %10s  %s\n' "$t" n/a - - - - - \
            "$(cat "$TMP/$t.na" 2>/dev/null || echo 'not run')"
    fi
done

PEERS="flask-cookie flask-redis express-memory express-redis"
printf '\n%-17s' "ratio to peer"
for p in $PEERS; do printf ' %15s' "$p"; done
echo
for t in crumb-cookie crumb-sqlite crumb-sqlite-many crumb-redis \
    crumb-redis-many; do
    wanted "$t" || continue
    printf '%-17s' "$t"
    for p in $PEERS; do
        printf ' %15s' "$(ratio "$(rps_of "$t")" "$(rps_of "$p")")"
    done
    echo
done

# target NAME BASE FACTOR: "NAME / BASE = r (target FACTOR): met|MISSED"
target() {
    local r
    r=$(ratio "$(rps_of "$1")" "$(rps_of "$2")")
    printf '  %-17s / %-15s = %6s  (target >= %5s): ' "$1" "$2" "$r" "$3"
    if [ "$r" = n/a ]; then
        echo "n/a"
    else
        awk -v r="$r" -v f="$3" 'BEGIN {
            print (r >= f ? "met" : "MISSED") }'
    fi
}
echo
echo "targets (issues 3 and 4):"
target crumb-cookie nginx-static 0.85
target crumb-cookie flask-cookie 40
target crumb-sqlite nginx-static 0.5
target crumb-sqlite-many nginx-static 0.5
target crumb-redis nginx-static 0.4
target crumb-redis-many nginx-static 0.4
target redis-floor nginx-static 0.4
for t in crumb-sqlite crumb-sqlite-many crumb-redis crumb-redis-many; do
    target "$t" flask-redis 20
    target "$t" express-memory 20
    target "$t" express-redis 20
done
echo "the HTTP library alone (libmicrohttpd, crumb-shop's settings):"
for t in mhd-hello mhd-page; do
    wanted $t && printf '  %-17s / %-15s = %6s\n' $t nginx-static \
        "$(ratio "$(rps_of $t)" "$(rps_of nginx-static)")"
done
wanted mhd-page && wanted crumb-cookie &&
    printf '  %-17s / %-15s = %6s\n' crumb-cookie mhd-page \
        "$(ratio "$(rps_of crumb-cookie)" "$(rps_of mhd-page)")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" \
    "(other work on this machine skews absolute figures)"
if [ -n "$PERF_DIR" ]; then
    echo "perf data in $PERF_DIR: perf report -i $PERF_DIR/crumb-cookie.data" \
        "--sort dso,sym"
fi
