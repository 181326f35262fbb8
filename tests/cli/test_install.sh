#!/bin/bash
# test_install.sh - `make install` into a temporary DESTDIR, then build the
# README's example against the installed headers, library and crumb.pc,
# statically and shared, and run it twice: the second run must count 2.
set -u
cd "${CRUMB_ROOT:-.}"
tmp=$(mktemp -d /tmp/crumb-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok install $1"; }
fail() { echo "FAIL install $1: $2"; fails=$((fails + 1)); }

if make -s install PREFIX=/usr DESTDIR="$tmp/root" >"$tmp/log" 2>&1; then
    ok "make install"
else
    fail "make install" "$(tail -3 "$tmp/log")"
fi
for f in usr/lib/libcrumb.a usr/lib/libcrumb.so.0 usr/lib/libcrumb.so \
    usr/include/crumb/crumb.h usr/include/crumb/session.h \
    usr/lib/pkgconfig/crumb.pc usr/bin/crumb; do
    [ -e "$tmp/root/$f" ] && ok "installed $f" || fail "installed $f" missing
done

export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
export PKG_CONFIG_PATH="$tmp/root/usr/lib/pkgconfig"
flags=$(pkg-config --cflags crumb) libs=$(pkg-config --libs crumb)
static=$(pkg-config --libs --static crumb)
if cc -std=c11 -Wall -Werror $flags -o "$tmp/visits" examples/visits.c \
    "$tmp/root/usr/lib/libcrumb.a" $static 2>"$tmp/cc"; then
    ok "example builds statically with pkg-config"
    first=$("$tmp/visits" "" 2>/dev/null | sed 's/^Set-Cookie: //; s/;.*//')
    second=$("$tmp/visits" "$first" 2>&1 >/dev/null)
    [[ "$second" == *"visits: 2"* ]] && ok "example counts visits across runs" ||
        fail "example counts visits" "$second"
else
    fail "example builds statically" "$(head -5 "$tmp/cc")"
fi
if cc -std=c11 -Wall -Werror $flags -o "$tmp/visits_so" examples/visits.c \
    $libs 2>"$tmp/cc"; then
    out=$(LD_LIBRARY_PATH="$tmp/root/usr/lib" "$tmp/visits_so" "" 2>&1)
    [[ "$out" == *"visits: 1"* ]] && ok "example runs with the shared library" ||
        fail "shared library" "$out"
else
    fail "example builds shared" "$(head -5 "$tmp/cc")"
fi
[ $fails -eq 0 ]
