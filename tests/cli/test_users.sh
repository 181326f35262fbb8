#!/bin/bash
# test_users.sh - `crumb users add|passwd|del|list|role` on a SQLite file.
# Prints "ok cli <name>" or "FAIL cli <name>: why" per check.
set -u
ROOT=${CRUMB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CRUMB=${CRUMB_BIN:-$ROOT/build/crumb}
CRUMB=$(cd "$(dirname "$CRUMB")" && pwd)/$(basename "$CRUMB")
TMP=$(mktemp -d /tmp/crumb-cli-users.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0
DB="sqlite:$TMP/users.db"

ok() { echo "ok cli $1"; }
bad() {
    echo "FAIL cli $1: $2"
    fails=$((fails + 1))
}
# expect NAME STATUS WANTED_SUBSTRING CMD...: exit status and output;
# stdin is the caller's.
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

for verb in add passwd del list role; do
    expect "users $verb --help" 0 usage $CRUMB users $verb --help
done
expect "users --help" 0 usage $CRUMB users --help
expect "users unknown verb" 2 "unknown verb" $CRUMB users frob

expect "add from stdin" 0 "added alice (roles: user)" \
    $CRUMB users add alice --password-stdin --users "$DB" <<<"correct horse"
expect "add --admin" 0 "roles: user,admin" \
    env CRUMB_USERS="$DB" $CRUMB users add root --admin --password-stdin \
    <<<"admin password"
expect "duplicate name" 1 "already exists" \
    $CRUMB users add alice --password-stdin --users "$DB" <<<"another one"
expect "short password" 1 "at least 8 characters" \
    $CRUMB users add bob --password-stdin --users "$DB" <<<"short"
expect "empty stdin" 1 "no password" \
    $CRUMB users add bob --password-stdin --users "$DB" </dev/null
for name in ab 'has space' 'x;rm' "$(printf 'a%.0s' {1..33})" 'é-name'; do
    expect "bad name '${name:0:12}'" 1 "invalid username" \
        $CRUMB users add "$name" --password-stdin --users "$DB" <<<"longenough"
done
expect "password never an argument" 2 "usage" \
    $CRUMB users add bob --users "$DB" hunter22hunter22
expect "no terminal: use --password-stdin" 2 "--password-stdin" \
    setsid $CRUMB users add bob --users "$DB" </dev/null

out=$($CRUMB users list --users "$DB")
[[ "$(printf '%s\n' "$out" | head -1)" == USERNAME*ROLES*CREATED* ]] &&
    ok "list header" || bad "list header" "$out"
[ "$(printf '%s\n' "$out" | tail -n +2 | awk '{print $1 "/" $2}' | tr '\n' ' ')" \
    = "alice/user root/user,admin " ] && ok "list rows, by name" ||
    bad "list rows, by name" "$out"
out=$($CRUMB users list --json --users "$DB")
printf '%s\n' "$out" | /usr/bin/python3 -c 'import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [r["username"] for r in rows] == ["alice", "root"], rows
assert rows[1]["roles"] == ["user", "admin"], rows
assert rows[0]["created"].endswith("Z")' && ok "list --json" ||
    bad "list --json" "$out"
grep -q "correct horse" "$TMP/users.db" && bad "no plain password" "found" ||
    ok "no plain password"

expect "passwd from stdin" 0 "password of alice changed" \
    $CRUMB users passwd alice --password-stdin --users "$DB" <<<"battery staple"
expect "passwd short" 1 "at least 8 characters" \
    $CRUMB users passwd alice --password-stdin --users "$DB" <<<"1234567"
expect "passwd unknown user" 1 'no user "nobody"' \
    $CRUMB users passwd nobody --password-stdin --users "$DB" <<<"battery staple"
# The password from a terminal: asked twice, not echoed.
timeout -k 2 20 /usr/bin/python3 - "$CRUMB" "$DB" <<'PY' && ok "passwd on a terminal, no echo" ||
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "users", "passwd", "alice",
                           "--users", sys.argv[2]])
out = b""
def until(text):
    global out
    end = time.time() + 10
    while text not in out and time.time() < end:
        out += os.read(fd, 1024)
    assert text in out, out
until(b"New password for alice: ")
os.write(fd, b"from a tty 123\n")
until(b"Again: ")
os.write(fd, b"from a tty 123\n")
until(b"changed")
_, status = os.waitpid(pid, 0)
assert status == 0, status
assert b"from a tty" not in out, out
PY
    bad "passwd on a terminal, no echo" "see above"
timeout -k 2 20 /usr/bin/python3 - "$CRUMB" "$DB" <<'PY' && ok "terminal: mismatch refused" ||
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "users", "passwd", "alice",
                           "--users", sys.argv[2]])
out = b""
def until(text):
    global out
    end = time.time() + 10
    while text not in out and time.time() < end:
        out += os.read(fd, 1024)
    assert text in out, out
until(b"New password for alice: ")
os.write(fd, b"first one 123\n")
until(b"Again: ")
os.write(fd, b"second one 123\n")
try:
    while True:
        b = os.read(fd, 1024)
        if not b:
            break
        out += b
except OSError:
    pass
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 1, (status, out)
assert b"do not match" in out, out
PY
    bad "terminal: mismatch refused" "see above"

expect "role" 0 "roles of alice: user,admin" \
    $CRUMB users role alice user,admin --users "$DB"
expect "role shown" 0 "user,admin" $CRUMB users list --users "$DB"
expect "bad roles" 1 "invalid roles" $CRUMB users role alice 'a b,' --users "$DB"
expect "role: no store, sessions keep old roles" 0 "until the next login" \
    env -u CRUMB_STORE $CRUMB users role alice user,admin --users "$DB"
expect "role: cookie store, sessions keep old roles" 0 "until the next login" \
    $CRUMB users role alice user,admin --users "$DB" --store cookie
# (a reachable store is told: tests/http/test_accounts.py, with the server)
expect "role: missing store file" 1 "no session store" \
    $CRUMB users role alice user,admin --users "$DB" --store "$DB.nope"
expect "role: unreachable redis" 1 "could not be told" \
    $CRUMB users role alice user,admin --users "$DB" \
    --store "redis://127.0.0.1:1/0"
expect "del" 0 "removed alice" $CRUMB users del alice --users "$DB"
expect "del again" 1 'no user "alice"' $CRUMB users del alice --users "$DB"
out=$($CRUMB users list --users "$DB")
[[ "$out" != *alice* && "$out" == *root* ]] && ok "list after del" ||
    bad "list after del" "$out"
expect "missing database not created" 1 "no user database" \
    $CRUMB users list --users "sqlite:$TMP/none.db"
[ -e "$TMP/none.db" ] && bad "no file made" "it was" || ok "no file made"
# The default: ./var/users.db, crumb-shop's data directory.
mkdir -p "$TMP/cwd/var"
(cd "$TMP/cwd" && env -u CRUMB_USERS $CRUMB users add dflt --password-stdin \
    <<<"password 1") >/dev/null 2>&1
[ -s "$TMP/cwd/var/users.db" ] && ok "default ./var/users.db" ||
    bad "default ./var/users.db" "no file"

echo "# cli users: $fails failures"
[ $fails -eq 0 ]
