/* fuzz_cookie_decode.c - libFuzzer target: verify, decode and re-encode
 * arbitrary cookie values; whatever decodes must dump stably. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/sign.h>
#include <crumb/tagjson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "fuzz-secret-key"
#define FUZZ_NOW 1700000000
#define FUZZ_MAX_AGE 31 * 24 * 3600

/* A broken invariant must crash so the fuzzer reports it. */
static void
require(int cond)
{
    if (!cond)
        __builtin_trap();
}

/* dumps(v) read back and dumped again gives the same text. */
static void
check_stable(const crumb_signer *s, const json_t *v)
{
    char *a = NULL, *b = NULL, *cookie = NULL;
    size_t alen = 0, blen = 0, clen = 0;
    if (crumb_tagjson_dumps(v, &a, &alen) != CRUMB_OK)
        return; /* e.g. invalid UTF-8 can't come from jansson; ENOMEM */
    json_t *again = NULL;
    require(crumb_tagjson_loads(a, alen, &again) == CRUMB_OK);
    require(crumb_tagjson_dumps(again, &b, &blen) == CRUMB_OK);
    require(alen == blen && memcmp(a, b, alen) == 0);
    json_t *back = NULL;
    require(crumb_signer_dumps(s, again, FUZZ_NOW, &cookie, &clen) ==
            CRUMB_OK);
    require(crumb_signer_loads(s, cookie, clen, FUZZ_MAX_AGE, FUZZ_NOW,
                               &back, NULL) == CRUMB_OK);
    require(json_equal(back, again));
    json_decref(back);
    json_decref(again);
    free(cookie);
    free(a);
    free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static crumb_signer *s;
    if (!s) {
        crumb_signer_options o = {.max_decompressed = 64 * 1024};
        if (crumb_signer_new(&s, &o) != CRUMB_OK ||
            crumb_signer_add_key(s, FUZZ_KEY, strlen(FUZZ_KEY)) != CRUMB_OK)
            __builtin_trap();
    }
    const char *value = (const char *)data;
    json_t *v = NULL;
    int64_t ts = 0;
    int rc = crumb_signer_loads(s, value, size, FUZZ_MAX_AGE, FUZZ_NOW, &v,
                                &ts);
    require((rc == CRUMB_OK) == (v != NULL));
    if (v) {
        require(json_is_object(v));
        check_stable(s, v);
        json_decref(v);
    }
    rc = crumb_payload_decode(value, size, 64 * 1024, &v);
    require((rc == CRUMB_OK) == (v != NULL));
    if (v) {
        require(crumb_tagjson_check(v) == CRUMB_OK);
        check_stable(s, v);
        json_decref(v);
    }
    return 0;
}
