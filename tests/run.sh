#!/bin/bash
# run.sh - run every test program and count their "ok"/"FAIL" lines.
# Each program prints one line per test: "ok <suite> <name>" or
# "FAIL <suite> <name>: <why>". A program that exits non-zero without
# printing a FAIL line counts as one failure. Ends with "N passed, N failed".
# Usage: tests/run.sh [SECTION...]
# sections: unit fuzz cli interop http browser asan
# The browser test's screenshots go to $CRUMB_TEST_OUT/browser (default: the
# log directory printed at the end).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CRUMB_ROOT=$ROOT
PY=/usr/bin/python3
LOG=$(mktemp -d /tmp/crumb-tests.XXXXXX)
passed=0
failed=0
failures=()

# run_prog NAME TIMEOUT CMD... : runs CMD, echoes its output, counts lines.
run_prog() {
    local name=$1 limit=$2
    shift 2
    local out="$LOG/$(echo "$name" | tr '/ ' '__').out"
    timeout -k 5 "$limit" "$@" >"$out" 2>&1
    local rc=$?
    local p f
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^FAIL ' "$out")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        while IFS= read -r l; do failures+=("$l"); done < <(grep '^FAIL ' "$out")
    fi
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
        failures+=("FAIL $name: exit $rc$([ $rc = 124 ] && echo ' (timeout)')")
    fi
    if [ $rc -ne 0 ] || [ "$f" -gt 0 ]; then
        echo "---- $name (exit $rc): last lines"
        tail -n 40 "$out"
    else
        echo "$name: $p passed"
    fi
}

sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(unit fuzz cli interop http browser asan)

# The unit and HTTP tests (plain and asan) get a throwaway redis-server
# for the redis backends; without one they skip it.
. "$ROOT/tests/lib/redis.sh"
trap redis_stop EXIT
with_redis() {
    [ -n "${CRUMB_TEST_REDIS:-}" ] && return
    redis_start || echo "no redis-server: redis store tests skipped"
}

for section in "${sections[@]}"; do
    echo "== $section"
    case $section in
    unit)
        with_redis
        for t in build/tests/test_*; do
            [ -x "$t" ] && run_prog "unit/$(basename "$t")" 120 "$t"
        done
        ;;
    fuzz)
        for t in build/fuzz/replay_fuzz_*; do
            [ -x "$t" ] || continue
            n=${t##*/replay_}
            run_prog "fuzz/$n" 300 "$t" "fuzz/corpus/$n"
        done
        ;;
    cli)
        for t in tests/cli/test_*.sh; do
            [ -f "$t" ] && run_prog "cli/$(basename "$t")" 300 bash "$t"
        done
        ;;
    interop)
        for t in tests/interop/test_*.py; do
            [ -f "$t" ] && run_prog "interop/$(basename "$t")" 600 $PY "$t"
        done
        ;;
    http)
        with_redis
        for t in tests/http/test_*.py; do
            [ -f "$t" ] && run_prog "http/$(basename "$t")" 600 $PY "$t"
        done
        ;;
    browser)
        # playwright-core from the committed lock file, once; no browser
        # download (it drives Debian's /usr/bin/chromium). A chromium that
        # cannot start is a failure, not a skip.
        nm=tests/browser/node_modules
        if [ ! -d $nm/playwright-core ] ||
            [ tests/browser/package-lock.json -nt $nm/.package-lock.json ]; then
            if ! (cd tests/browser && npm ci --no-audit --no-fund) \
                >"$LOG/browser_npm_ci.out" 2>&1; then
                failed=$((failed + 1))
                failures+=("FAIL browser/npm-ci: see $LOG/browser_npm_ci.out")
                echo "---- browser/npm-ci failed: last lines"
                tail -n 20 "$LOG/browser_npm_ci.out"
                continue
            fi
        fi
        out=${CRUMB_TEST_OUT:-$LOG}
        CRUMB_TEST_OUT=$out run_prog "browser/test_browser.mjs" 120 \
            node tests/browser/test_browser.mjs
        echo "browser screenshots: $out/browser"
        ;;
    asan)
        with_redis
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        for t in build/asan/tests/test_*; do
            [ -x "$t" ] && run_prog "asan/unit/$(basename "$t")" 300 "$t"
        done
        for t in build/asan/fuzz/replay_fuzz_*; do
            [ -x "$t" ] || continue
            n=${t##*/replay_}
            run_prog "asan/fuzz/$n" 600 "$t" "fuzz/corpus/$n"
        done
        if [ -x build/asan/crumb-shop ]; then
            for t in tests/http/test_*.py; do
                [ -f "$t" ] && CRUMB_SHOP_BIN=build/asan/crumb-shop \
                    run_prog "asan/http/$(basename "$t")" 900 $PY "$t"
            done
        fi
        ;;
    *)
        echo "unknown section $section" >&2
        exit 2
        ;;
    esac
done

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo "logs: $LOG"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
