#!/bin/bash
# test_cli.sh - the crumb command's verbs, run as a user would.
# Prints "ok cli <name>" or "FAIL cli <name>: why" per check.
set -u
CRUMB=${CRUMB_BIN:-${CRUMB_ROOT:-.}/build/crumb}
fails=0
check() { # name, then a command that must succeed
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok cli $name"
    else
        echo "FAIL cli $name: $*"
        fails=$((fails + 1))
    fi
}

key=$($CRUMB keygen)
check "keygen prints 43 url-safe chars" \
    bash -c "[[ '$key' =~ ^[A-Za-z0-9_-]{43}\$ ]]"
check "keygen differs each time" bash -c "[ '$key' != \"\$($CRUMB keygen)\" ]"
k64=$($CRUMB keygen --bytes 64)
check "keygen --bytes 64 length" test ${#k64} -eq 86
check "keygen refuses --bytes 16" bash -c "! $CRUMB keygen --bytes 16"

for verb in keygen sign decode; do
    check "$verb --help exits 0" $CRUMB $verb --help
    check "$verb --help says usage" bash -c "$CRUMB $verb --help | grep -q usage"
done
check "crumb --help" $CRUMB --help
check "unknown verb fails" bash -c "! $CRUMB frobnicate"

c=$($CRUMB sign --secret-key "$key" --timestamp 1700000000 '{"user_id":42,"t":{" t":[1,2]}}')
check "sign prints a cookie" bash -c "[ -n '$c' ]"
out=$($CRUMB decode --secret-key "$key" "$c")
check "decode round trip keeps tags" test "$out" = '{"t":{" t":[1,2]},"user_id":42}'
check "decode exit 0 when valid" $CRUMB decode --secret-key "$key" "$c"
err=$($CRUMB decode --secret-key wrong-key "$c" 2>&1 >/dev/null)
check "wrong key: bad signature" bash -c "[[ '$err' == *'bad signature'* ]]"
check "wrong key exits 1" bash -c "$CRUMB decode --secret-key wrong '$c'; [ \$? -eq 1 ]"
err=$($CRUMB decode --secret-key "$key" --max-age 10 --now 1700000011 "$c" 2>&1 >/dev/null)
check "expired" bash -c "[[ '$err' == *expired* ]]"
err=$($CRUMB decode --secret-key "$key" 'not-a-cookie' 2>&1 >/dev/null)
check "malformed" bash -c "[[ '$err' == *malformed* ]]"
out=$($CRUMB decode "$c" 2>/tmp/crumb-cli-err.$$)
rc=$?
check "no key: payload printed" test "$out" = '{"t":{" t":[1,2]},"user_id":42}'
check "no key: exit 1" test $rc -eq 1
check "no key: warning" grep -q warning /tmp/crumb-cli-err.$$
rm -f /tmp/crumb-cli-err.$$

hexkey=00ff10ee20dd
c=$($CRUMB sign --secret-key-hex $hexkey '{"a":1}' 2>/dev/null)
check "hex key sign/decode" $CRUMB decode --secret-key-hex $hexkey "$c"
check "hex key warns when short" bash -c "$CRUMB sign --secret-key-hex $hexkey '{\"a\":1}' 2>&1 >/dev/null | grep -q warning"
check "bad hex refused" bash -c "! $CRUMB sign --secret-key-hex zz '{}'"
check "odd hex refused" bash -c "! $CRUMB sign --secret-key-hex abc '{}'"
check "fallback hex key" $CRUMB decode --secret-key other-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxx \
    --fallback-key-hex $hexkey "$c"
check "empty key refused" bash -c "! $CRUMB sign --secret-key '' '{}'"
check "non-object JSON refused" bash -c "! $CRUMB sign --secret-key '$key' '[1]'"
check "invalid JSON refused" bash -c "! $CRUMB sign --secret-key '$key' '{'"
check "bad tag refused" bash -c "! $CRUMB sign --secret-key '$key' '{\"u\":{\" u\":5}}'"
check "sign needs a key" bash -c "! $CRUMB sign '{}'"
check "salt changes the cookie" bash -c \
    "! $CRUMB decode --secret-key '$key' \$($CRUMB sign --secret-key '$key' --salt other '{\"a\":1}')"

echo "# cli: $fails failures"
[ $fails -eq 0 ]
