/*
 * dataset.c: what every loader's dataset shares: freeing it, checking it
 * against a model, its size in memory, and the limit on that size.
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void seqrt_dataset_free(seqrt_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

size_t seqrt_dataset_bytes(const seqrt_dataset *d)
{
    return d->count * d->sample_size + d->count;
}

/* Half of the physical memory: a dataset larger than that would push the
 * trainer's weights and the rest of the machine into swap. No limit when
 * the system does not say. */
size_t seqrt_default_max_data_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return SIZE_MAX;
    uint64_t half = (uint64_t)pages / 2 * (uint64_t)page;
    return half > SIZE_MAX ? SIZE_MAX : (size_t)half;
}

int seqrt_parse_bytes(const char *s, size_t *out)
{
    static const char units[] = "KMGT";
    char *end;
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (*end) {
        const char *u = strchr(units, toupper((unsigned char)*end));
        if (!u || !*u)
            return -1;
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
        if (*end)
            return -1;
        for (long k = u - units; k >= 0; k--) {
            if (v > ULLONG_MAX / 1024)
                return -1;
            v *= 1024;
        }
    }
    if (v == 0 || v > SIZE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

int seqrt_dataset_check(const seqrt_dataset *d, int features, int classes,
                        seqrt_error *err)
{
    if (d->count == 0 || !d->pixels || !d->labels)
        return seqrt_fail(err, "%s: the dataset holds no samples", d->source);
    if (features <= 0 || d->sample_size != (size_t)features) {
        if (d->rows > 1)
            return seqrt_fail(err, "%s: images are %dx%d = %zu values, the model's "
                              "input takes %d", d->source, d->rows, d->cols,
                              d->sample_size, features);
        return seqrt_fail(err, "%s: samples have %zu value%s, the model's input "
                          "takes %d", d->source, d->sample_size,
                          d->sample_size == 1 ? "" : "s", features);
    }
    /* a label is wrong in the file the labels came from */
    const char *where = d->labels_source[0] ? d->labels_source : d->source;
    for (size_t i = 0; i < d->count; i++) {
        if ((int)d->labels[i] < classes)
            continue;
        if (d->first_line) /* a CSV file: its line */
            return seqrt_fail(err, "%s:%zu: sample %zu has label %d, but the model "
                              "has %d classes (labels 0..%d)", where,
                              d->first_line + i, i, (int)d->labels[i], classes,
                              classes - 1);
        return seqrt_fail(err, "%s: sample %zu has label %d, but the model has %d "
                          "classes (labels 0..%d)", where, i, (int)d->labels[i],
                          classes, classes - 1);
    }
    return 0;
}
