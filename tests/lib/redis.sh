# redis.sh - start and stop a throwaway redis-server for the tests.
# Source it, then:
#   redis_start   picks a free loopback port, starts /usr/bin/redis-server
#                 (no persistence, its own temporary --dir) in the
#                 background, waits until PING answers, exports
#                 CRUMB_TEST_REDIS=127.0.0.1:PORT, REDIS_PID, REDIS_DIR.
#                 Returns 1 (and exports nothing) if it cannot.
#   redis_stop    kills that server by its PID and removes its directory.
# REDIS_SERVER overrides the binary.

redis_free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

redis_ping() {
    /usr/bin/python3 - "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)
    s.settimeout(0.5)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

redis_start() {
    local bin=${REDIS_SERVER:-/usr/bin/redis-server}
    [ -x "$bin" ] || { echo "redis_start: no $bin" >&2; return 1; }
    local port dir pid i
    port=$(redis_free_port) || return 1
    dir=$(mktemp -d /tmp/crumb-redis.XXXXXX) || return 1
    "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir" --daemonize no >"$dir/log" 2>&1 &
    pid=$!
    for i in $(seq 1 100); do
        if redis_ping "$port"; then
            export CRUMB_TEST_REDIS=127.0.0.1:$port REDIS_PID=$pid \
                REDIS_DIR=$dir
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "redis_start: redis-server did not answer on port $port" >&2
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
    return 1
}

redis_stop() {
    if [ -n "${REDIS_PID:-}" ]; then
        kill "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    fi
    [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
    unset CRUMB_TEST_REDIS REDIS_PID REDIS_DIR
}
