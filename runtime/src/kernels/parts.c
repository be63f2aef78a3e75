/* parts.c: the kernels' side of the thread split (see parts.h): the
 * runner the training loop installed, the ranges and the scratch. */
#include "kernels/parts.h"

#include <stdio.h>
#include <stdlib.h>

static int                parts_now = 1;
static seqrt_parts_runner runner;

void seqrt_parallel_install(int parts, seqrt_parts_runner run)
{
    parts_now = parts > 1 ? parts : 1;
    runner = run;
}

int seqrt_parallel_parts(void)
{
    return parts_now;
}

void seqrt_parallel(seqrt_part_fn fn, void *arg)
{
    const int parts = parts_now;
    if (parts > 1 && runner) {
        runner(fn, arg, parts);
        return;
    }
    for (int part = 0; part < parts; part++)
        fn(arg, part, parts);
}

typedef struct samples_work {
    int              batch;
    seqrt_samples_fn range;
    const void      *job;
} samples_work;

static void samples_part(void *arg, int part, int parts)
{
    const samples_work *w = arg;
    size_t lo, hi;
    seqrt_parallel_range((size_t)w->batch, 1, part, parts, &lo, &hi);
    if (lo < hi)
        w->range(w->job, (int)lo, (int)hi);
}

void seqrt_parallel_samples(int batch, size_t floats, seqrt_samples_fn range, const void *job)
{
    if (batch > 1 && floats >= SEQRT_SPLIT_MIN_FLOATS && parts_now > 1) {
        samples_work w = {batch, range, job};
        seqrt_parallel(samples_part, &w);
    } else {
        range(job, 0, batch);
    }
}

void seqrt_parallel_range(size_t n, size_t align, int part, int parts,
                          size_t *lo, size_t *hi)
{
    size_t units = (n + align - 1) / align;
    size_t per = (units + (size_t)parts - 1) / (size_t)parts;
    size_t slot = (size_t)(parts - 1 - part); /* part 0 takes the last range */
    size_t a = slot * per * align, b = a + per * align;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

float *seqrt_parallel_scratch(size_t n)
{
    static float *buf;
    static size_t cap;
    if (n > cap) {
        free(buf);
        buf = malloc(n * sizeof *buf);
        if (!buf) {
            fprintf(stderr, "error: out of memory for %zu floats of scratch\n", n);
            abort();
        }
        cap = n;
    }
    return buf;
}
