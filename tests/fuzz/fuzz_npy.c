/*
 * fuzz_npy.c: one .npy array from memory (seqrt_load_npy_mem): the magic,
 * the version, the header dict (descr, fortran_order, shape) and the
 * values of every dtype and byte order. The input is the .npy file.
 */
#include "fuzz.h"

#include <math.h>

#include "seqrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seqrt_array a;
    seqrt_error err;
    seqrt_load_opts lim = {.max_bytes = (size_t)1 << 28};
    if (seqrt_load_npy_mem(data, size, "<fuzz>", &lim, &a, &err) == 0) {
        /* every value is there: read them all */
        volatile double sum = 0;
        for (size_t i = 0; i < a.count; i++)
            sum += a.is_u8 ? a.u8[i] : (double)a.f32[i];
        (void)sum;
        seqrt_array_free(&a);
    }
    return 0;
}
