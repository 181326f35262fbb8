#!/bin/bash
# test_sessions.sh - `crumb sessions list|revoke|gc` on SQLite and Redis.
# Prints "ok cli <name>" or "FAIL cli <name>: why" per check. Sessions are
# seeded by tests/cli/seed_sessions.c (built next to the crumb binary).
set -u
ROOT=${CRUMB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CRUMB=${CRUMB_BIN:-$ROOT/build/crumb}
SEED=${CRUMB_SEED_BIN:-$(dirname "$CRUMB")/tests/cli/seed_sessions}
TMP=$(mktemp -d /tmp/crumb-cli-sessions.XXXXXX)
fails=0

# Our own redis-server, whatever the caller started: stop only ours.
unset CRUMB_TEST_REDIS REDIS_PID REDIS_DIR
. "$ROOT/tests/lib/redis.sh"
cleanup() {
    redis_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok cli $1"; }
bad() {
    echo "FAIL cli $1: $2"
    fails=$((fails + 1))
}
# expect NAME STATUS WANTED_SUBSTRING CMD...: exit status and output.
expect() {
    local name=$1 want=$2 text=$3
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != "$want" ]; then
        bad "$name" "exit $rc, wanted $want: $out"
    elif [[ "$out" != *"$text"* ]]; then
        bad "$name" "no '$text' in: $out"
    else
        ok "$name"
    fi
}
# The handles of `sessions list --json` output, one a line.
handles() {
    /usr/bin/python3 -c 'import json, sys
for l in sys.stdin:
    print(json.loads(l)["handle"])'
}

if [ ! -x "$SEED" ] || [ ! -x "$CRUMB" ]; then
    bad "binaries" "no $CRUMB or $SEED (make all)"
    exit 1
fi

for verb in list revoke gc; do
    expect "sessions $verb --help" 0 usage $CRUMB sessions $verb --help
done
expect "sessions --help" 0 usage $CRUMB sessions --help
expect "sessions unknown verb" 2 "unknown verb" $CRUMB sessions frob
expect "no store: exit 2" 2 "no store" env -u CRUMB_STORE $CRUMB sessions list
expect "cookie store: exit 2" 2 '"cookie"' $CRUMB sessions list --store cookie
expect "cookie store from env" 2 '"cookie"' env CRUMB_STORE=cookie \
    $CRUMB sessions gc
expect "memory store refused" 2 "memory:" $CRUMB sessions list --store memory:
expect "unknown scheme" 2 "unknown store scheme" \
    $CRUMB sessions list --store ftp://x
expect "missing sqlite file" 1 "no session store" \
    $CRUMB sessions list --store "sqlite:$TMP/none.db"
[ -e "$TMP/none.db" ] && bad "missing file not created" "it was" ||
    ok "missing file not created"
# crumb analytics reaches stores through the same check.
expect "analytics: no store" 2 "no store" env -u CRUMB_STORE $CRUMB analytics
expect "analytics: cookie store" 2 "nothing is recorded" \
    $CRUMB analytics --store cookie
expect "analytics: memory store refused" 2 "memory:" \
    $CRUMB analytics --store memory:
expect "analytics: missing sqlite file" 1 "no session store" \
    $CRUMB analytics --store "sqlite:$TMP/none.db"
expect "revoke wants one target" 2 "not both" \
    $CRUMB sessions revoke --store "sqlite:$TMP/none.db"

# run_store NAME URI: the same checks against one store.
run_store() {
    local be=$1 uri=$2 out n h
    if ! "$SEED" "$uri" alice alice - bob --expired carol carol; then
        bad "$be seed" "seed_sessions failed"
        return
    fi
    out=$($CRUMB sessions list --store "$uri")
    n=$(printf '%s\n' "$out" | tail -n +2 | wc -l)
    [ "$n" = 4 ] && ok "$be list shows 4 live" || bad "$be list shows 4 live" "$out"
    [[ "$(printf '%s\n' "$out" | head -1)" == HANDLE*USER*CREATED*"LAST SEEN"*ADDRESS*AGENT ]] &&
        ok "$be list header" || bad "$be list header" "$out"
    [[ "$(printf '%s\n' "$out" | sed -n 2p)" == *alice*Z*Z*192.0.2.1*seed-agent/1 ]] &&
        ok "$be newest first, ISO times" || bad "$be newest first, ISO times" "$out"
    [[ "$out" == *" - "*"seed-agent/3"* ]] && ok "$be anonymous shown as -" ||
        bad "$be anonymous shown as -" "$out"
    [[ "$out" != *carol* ]] && ok "$be expired not listed" ||
        bad "$be expired not listed" "$out"
    out=$(CRUMB_STORE=$uri $CRUMB sessions list --user alice --json)
    n=$(printf '%s\n' "$out" | grep -c '"user":"alice"')
    [ "$n" = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 2 ] &&
        ok "$be --user --json from CRUMB_STORE" ||
        bad "$be --user --json from CRUMB_STORE" "$out"
    printf '%s\n' "$out" | /usr/bin/python3 -c 'import json, sys
for l in sys.stdin:
    o = json.loads(l)
    assert set(o) == {"handle", "user", "created", "last_seen",
                      "expires_at", "address", "agent"}, o
    assert len(o["handle"]) == 16 and o["created"].endswith("Z")' &&
        ok "$be json fields" || bad "$be json fields" "$out"
    expect "$be --limit 1" 0 "most recently seen" \
        $CRUMB sessions list --store "$uri" --limit 1 --json
    expect "$be --limit 0 refused" 2 "--limit" \
        $CRUMB sessions list --store "$uri" --limit 0
    expect "$be nobody's sessions" 0 "no live sessions" \
        $CRUMB sessions list --store "$uri" --user nobody

    h=$($CRUMB sessions list --store "$uri" --user bob --json | handles)
    expect "$be revoke handle" 0 "1 session ended" \
        $CRUMB sessions revoke "$h" --store "$uri"
    expect "$be revoke same handle again" 1 "no live session" \
        $CRUMB sessions revoke "$h" --store "$uri"
    expect "$be revoke unknown handle" 1 "no live session" \
        $CRUMB sessions revoke 0123456789abcdef --store "$uri"
    expect "$be revoke bad handle" 1 "no live session" \
        $CRUMB sessions revoke 'zz;x' --store "$uri"
    out=$($CRUMB sessions list --store "$uri")
    [[ "$out" != *bob* ]] && ok "$be bob gone" || bad "$be bob gone" "$out"
    expect "$be revoke --user" 0 "2 sessions ended" \
        $CRUMB sessions revoke --user alice --store "$uri"
    expect "$be revoke --user none left" 0 "0 sessions ended" \
        $CRUMB sessions revoke --user alice --store "$uri"
    n=$($CRUMB sessions list --store "$uri" --json | wc -l)
    [ "$n" = 1 ] && ok "$be anonymous one left" || bad "$be anonymous one left" "$n"
    expect "$be gc removes expired" 0 "2 expired sessions removed" \
        $CRUMB sessions gc --store "$uri"
    expect "$be gc again" 0 "0 expired sessions removed" \
        $CRUMB sessions gc --store "$uri"
}

run_store sqlite "sqlite:$TMP/sessions.db"

if redis_start; then
    run_store redis "redis://$CRUMB_TEST_REDIS/0?prefix=clitest"
    # Another prefix on the same server sees none of them.
    expect "redis prefix isolates" 0 "no live sessions" \
        $CRUMB sessions list --store "redis://$CRUMB_TEST_REDIS/0?prefix=other"
    port=${CRUMB_TEST_REDIS##*:}
    redis_stop
    expect "redis down: exit 1" 1 "unreachable" $CRUMB sessions list \
        --store "redis://127.0.0.1:$port/0?connect_timeout_ms=200"
else
    echo "# no redis-server: redis checks skipped"
fi

echo "# cli sessions: $fails failures"
[ $fails -eq 0 ]
