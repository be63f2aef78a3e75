/*
 * batch.c: mini-batches made of a dataset's bytes (seqrt_dataset_batch,
 * seqrt_dataset_prefetch).
 *
 * Turning bytes into floats one mini-batch at a time keeps a trainer's
 * memory at the dataset as bytes plus one batch of floats. The gather is
 * split over the runtime's threads and vectorized (SEQRT_CLONES), which
 * is why it lives in loop/ and not in data/: the loaders in data/ use
 * nothing but libc and zlib, so that seqc can link them without BLAS or
 * threads (libseqrt_data.a).
 */
#include "seqrt.h"

#include "loop/parallel.h"
#include "kernels/simd.h"

#include <stdint.h>
#include <string.h>

/* dst[j] = src[j] * scale for one sample of m bytes. Fixed-width blocks of
 * 16: GCC's -O2 vectorizer takes these (it leaves a loop alone when the
 * trip count is unknown and would need a scalar epilogue). */
SEQRT_CLONES static void scale_row(size_t m, float scale, const uint8_t *restrict src,
                      float *restrict dst)
{
    size_t j = 0;
    for (; j + 16 <= m; j += 16)
        for (int t = 0; t < 16; t++)
            dst[j + t] = (float)src[j + t] * scale;
    for (; j < m; j++)
        dst[j] = (float)src[j] * scale;
}

/* The bytes of columns [lo, hi) of the samples order[start..+n). */
static void prefetch_rows(const seqrt_dataset *d, const uint32_t *order, size_t start,
                          int n, size_t lo, size_t hi)
{
#if defined(__GNUC__)
    for (int i = 0; i < n; i++) {
        size_t k = order ? order[start + (size_t)i] : start + (size_t)i;
        /* every 64-byte line that holds a byte of [lo, hi) */
        size_t each = d->xtype == SEQRT_X_U8 ? 1 : sizeof(float);
        const char *base = d->xtype == SEQRT_X_U8 ? (const char *)d->pixels
                                                  : (const char *)d->values;
        uintptr_t a = (uintptr_t)(base + (k * d->sample_size + lo) * each) & ~(uintptr_t)63;
        uintptr_t end = (uintptr_t)(base + (k * d->sample_size + hi) * each);
        for (; a < end; a += 64)
            __builtin_prefetch((const void *)a);
        if (d->targets)
            __builtin_prefetch(d->targets + k * (size_t)d->y_width);
    }
#else
    (void)d, (void)order, (void)start, (void)n, (void)lo, (void)hi;
#endif
}

typedef struct batch_job {
    const seqrt_dataset *d;
    const uint32_t      *order;
    size_t               start;
    int                  n;
    float               *x;
} batch_job;

/* Columns [lo, hi) of every row of the batch. */
static void batch_part(void *arg, int part, int parts)
{
    const batch_job *j = arg;
    const size_t m = j->d->sample_size;
    size_t lo, hi;
    seqrt_parallel_range(m, 16, part, parts, &lo, &hi);
    for (int i = 0; i < j->n; i++) {
        size_t k = j->order ? j->order[j->start + (size_t)i] : j->start + (size_t)i;
        if (j->d->xtype == SEQRT_X_U8)
            scale_row(hi - lo, j->d->scale, j->d->pixels + k * m + lo,
                      j->x + (size_t)i * m + lo);
        else
            memcpy(j->x + (size_t)i * m + lo, j->d->values + k * m + lo,
                   (hi - lo) * sizeof(float));
    }
}

static void prefetch_part(void *arg, int part, int parts)
{
    const batch_job *j = arg;
    size_t lo, hi;
    seqrt_parallel_range(j->d->sample_size, 16, part, parts, &lo, &hi);
    prefetch_rows(j->d, j->order, j->start, j->n, lo, hi);
}

/* A target as a class number; -1 for what seqrt_dataset_check refuses
 * (NaN, negative, too large), so unchecked data is never undefined. */
static int32_t class_of(float v)
{
    return v >= 0 && v < 2147483648.0f ? (int32_t)v : -1;
}

/* Bytes below which a batch is gathered by the calling thread alone. */
#define BATCH_SPLIT_MIN ((size_t)1 << 13)

/* With several threads the batch is split by columns in the ranges the
 * first dense layer splits its weights' rows in (parallel.h), so each
 * core writes the part of x that it alone reads next: a row split made x
 * cross cores every step. */
void seqrt_dataset_batch(const seqrt_dataset *d, const uint32_t *order,
                         size_t start, int n, float *x, int32_t *labels,
                         float *t, int t_width)
{
    batch_job j = {.d = d, .order = order, .start = start, .n = n, .x = x};
    if (!x)
        ; /* the targets only */
    else if (seqrt_parallel_parts() > 1 && (size_t)n * d->sample_size >= BATCH_SPLIT_MIN)
        seqrt_parallel(batch_part, &j);
    else
        batch_part(&j, 0, 1);
    const size_t w = (size_t)d->y_width;
    for (int i = 0; i < n; i++) {
        size_t k = order ? order[start + (size_t)i] : start + (size_t)i;
        const float *row = d->targets ? d->targets + k * w : NULL;
        if (labels && w == 1)
            labels[i] = row ? class_of(row[0]) : 0;
        if (!t || t_width < 1)
            continue;
        float *dst = t + (size_t)i * (size_t)t_width;
        if (!row) {
            memset(dst, 0, (size_t)t_width * sizeof *dst);
        } else if ((size_t)t_width == w) {
            memcpy(dst, row, w * sizeof *dst);
        } else { /* class numbers, one-hot encoded (categorical_crossentropy) */
            memset(dst, 0, (size_t)t_width * sizeof *dst);
            int32_t c = class_of(row[0]);
            if (c >= 0 && c < t_width)
                dst[c] = 1.0f;
        }
    }
}

/* The samples of a shuffled epoch are scattered over the dataset (47 MB
 * for Fashion-MNIST), so gathering a batch is a chain of cache misses:
 * 12-18 us of a 120 us step on one thread. The trainer asks for the next
 * batch during the current step; with two threads a gather part then
 * took 6-7 us. Split like seqrt_dataset_batch, so each core loads what
 * it will read. */
void seqrt_dataset_prefetch(const seqrt_dataset *d, const uint32_t *order,
                            size_t start, int n)
{
    batch_job j = {.d = d, .order = order, .start = start, .n = n};
    if (seqrt_parallel_parts() > 1 && (size_t)n * d->sample_size >= BATCH_SPLIT_MIN)
        seqrt_parallel(prefetch_part, &j);
    else
        prefetch_part(&j, 0, 1);
}
