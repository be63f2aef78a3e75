/* fuzz_dataset.c: what the loader targets do with a dataset they loaded. */
#include "fuzz.h"

#include <stdlib.h>

#include "seqrt.h"

/* what a trainer does with a loaded dataset: the shape check and a batch */
void fuzz_use_dataset(const seqrt_dataset *d)
{
    seqrt_error err;
    (void)seqrt_dataset_check(d, (int)d->sample_size, 10, &err);
    if (d->count == 0 || d->sample_size > (1u << 20))
        return;
    int n = d->count < 4 ? (int)d->count : 4;
    float *x = malloc((size_t)n * d->sample_size * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    uint32_t order[4];
    for (int i = 0; i < n; i++)
        order[i] = (uint32_t)(d->count - 1 - (size_t)i); /* the last samples */
    if (x && y) {
        seqrt_dataset_prefetch(d, order, 0, n);
        seqrt_dataset_batch(d, order, 0, n, x, y);
    }
    free(x);
    free(y);
}
