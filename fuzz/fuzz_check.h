/* fuzz_check.h - what the fuzz targets share. */
#ifndef CRUMB_FUZZ_CHECK_H
#define CRUMB_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: a broken one aborts, which libFuzzer reports. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

#endif
