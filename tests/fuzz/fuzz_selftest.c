/*
 * fuzz_selftest.c: a target with a planted bug, so the fuzz tests are
 * known to be able to fail: an input that starts with "BUG" reads one byte
 * past a heap buffer. The CTest fuzz_selftest runs corpus file
 * selftest_bug through it and passes only when AddressSanitizer reports
 * the overflow (with libFuzzer or with driver.c alike).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || memcmp(data, "BUG", 3) != 0)
        return 0;
    char *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    volatile char past = copy[size]; /* the planted bug */
    (void)past;
    free(copy);
    return 0;
}
