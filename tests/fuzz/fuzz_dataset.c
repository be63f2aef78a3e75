/* fuzz_dataset.c: what the loader targets do with a dataset they loaded. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "seqrt.h"

/* what a trainer does with a loaded dataset: the checks of every target
 * kind, a batch with class numbers and one with target rows, and a
 * validation split */
void fuzz_use_dataset(const seqrt_dataset *d)
{
    seqrt_error err;
    const int outputs = d->y_width > 1 ? d->y_width : 10;
    for (int k = SEQRT_TARGET_CLASS; k <= SEQRT_TARGET_VALUES; k++)
        (void)seqrt_dataset_check(d, (int)d->sample_size, outputs, (seqrt_target_kind)k, 1,
                                  &err);
    if (d->count == 0 || d->sample_size > (1u << 20))
        return;
    int n = d->count < 4 ? (int)d->count : 4;
    float *x = malloc((size_t)n * d->sample_size * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    float *t = malloc((size_t)n * (size_t)outputs * sizeof *t);
    uint32_t order[4];
    for (int i = 0; i < n; i++)
        order[i] = (uint32_t)(d->count - 1 - (size_t)i); /* the last samples */
    if (x && y && t) {
        seqrt_dataset_prefetch(d, order, 0, n);
        seqrt_dataset_batch(d, order, 0, n, x, y, t, outputs);
        seqrt_dataset_batch(d, NULL, 0, n, x, NULL, t, d->y_width ? d->y_width : 1);
    }
    free(x);
    free(y);
    free(t);
    /* a split of a copy: the caller's dataset stays whole */
    seqrt_dataset copy = *d, val;
    size_t each = d->xtype == SEQRT_X_U8 ? 1 : sizeof(float);
    size_t xbytes = d->count * d->sample_size * each;
    size_t tbytes = d->count * (size_t)d->y_width * sizeof(float);
    void *xs = malloc(xbytes ? xbytes : 1), *ts = tbytes ? malloc(tbytes) : NULL;
    if (!xs || (tbytes && !ts)) {
        free(xs);
        free(ts);
        return;
    }
    memcpy(xs, d->xtype == SEQRT_X_U8 ? (const void *)d->pixels : (const void *)d->values,
           xbytes);
    if (tbytes)
        memcpy(ts, d->targets, tbytes);
    copy.pixels = d->xtype == SEQRT_X_U8 ? xs : NULL;
    copy.values = d->xtype == SEQRT_X_U8 ? NULL : xs;
    copy.targets = ts;
    if (seqrt_dataset_split(&copy, 0.25, &val, &err) == 0)
        seqrt_dataset_free(&val);
    seqrt_dataset_free(&copy);
}
