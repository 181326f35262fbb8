/* fuzz_json.c - libFuzzer target: crumb's JSON parser against jansson's
 * json_loadb on the same bytes; any disagreement crashes (json_diff.h). */
#include <stdint.h>
#include <stdio.h>

#include "json_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = json_diff((const char *)data, size);
    if (why) {
        fprintf(stderr, "json_diff: %s\n", why);
        __builtin_trap();
    }
    return 0;
}
