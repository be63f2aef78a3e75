/*
 * dataset.c: what every loader's dataset shares: freeing it, checking it
 * against a model, its size in memory, and the limit on that size.
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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
    free(d->values);
    free(d->targets);
    memset(d, 0, sizeof *d);
}

size_t seqrt_dataset_bytes(const seqrt_dataset *d)
{
    size_t each = d->xtype == SEQRT_X_U8 ? 1 : sizeof(float);
    return d->count * (d->sample_size * each + (size_t)d->y_width * sizeof(float));
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

seqrt_target_kind seqrt_loss_targets(seqrt_loss_kind k)
{
    switch (k) {
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: return SEQRT_TARGET_CLASS;
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:        return SEQRT_TARGET_ROWS;
    case SEQRT_LOSS_BINARY_CROSSENTROPY:             return SEQRT_TARGET_BINARY;
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_HUBER:
    case SEQRT_LOSS_COUNT_:                          break;
    }
    return SEQRT_TARGET_VALUES;
}

/* "FILE:LINE: sample I" for a CSV, "FILE: sample I" otherwise; the
 * targets' file (IDX labels, an .npz's y member) when targets. */
static const char *where(const seqrt_dataset *d, size_t i, int targets, char *buf,
                         size_t len)
{
    const char *file = targets && d->labels_source[0] ? d->labels_source : d->source;
    if (d->first_line)
        snprintf(buf, len, "%s:%zu: sample %zu", file, d->first_line + i, i);
    else
        snprintf(buf, len, "%s: sample %zu", file, i);
    return buf;
}

/* "(60000, 28, 28)": the dataset's shape, N first */
static void shape_text(const seqrt_dataset *d, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "(%zu", d->count);
    for (int i = 0; i < d->ndims && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, ", %" PRId64, d->dims[i]);
    if (at < len)
        snprintf(buf + at, len - at, ")");
}

int seqrt_dataset_check(const seqrt_dataset *d, int input_size, int outputs,
                        seqrt_target_kind kind, int need_targets, seqrt_error *err)
{
    char at[600], shape[200];
    if (d->count == 0 || (!d->pixels && !d->values))
        return seqrt_fail(err, "%s: the dataset holds no samples", d->source);
    if (input_size <= 0 || d->sample_size != (size_t)input_size) {
        shape_text(d, shape, sizeof shape);
        return seqrt_fail(err, "%s has shape %s: %zu value%s per sample, the model's input "
                          "takes %d", d->source, shape, d->sample_size,
                          d->sample_size == 1 ? "" : "s", input_size);
    }
    if (d->xtype == SEQRT_X_F32) {
        for (size_t i = 0; i < d->count * d->sample_size; i++)
            if (!isfinite(d->values[i]))
                return seqrt_fail(err, "%s, input %zu of %zu is %s: inputs must be finite",
                                  where(d, i / d->sample_size, 0, at, sizeof at),
                                  i % d->sample_size + 1, d->sample_size,
                                  isnan(d->values[i]) ? "nan" : "inf");
    }
    if (!need_targets)
        return 0;
    const char *tfile = d->labels_source[0] ? d->labels_source : d->source;
    if (d->y_width == 0 || !d->targets)
        return seqrt_fail(err, "%s: the data has no targets", tfile);
    int w = d->y_width;
    int classes = kind == SEQRT_TARGET_CLASS || (kind == SEQRT_TARGET_ROWS && w == 1);
    if (classes && w != 1)
        return seqrt_fail(err, "%s: targets have %d values per sample; the loss takes one "
                          "class number per sample", tfile, w);
    if (!classes && w != outputs)
        return seqrt_fail(err, "%s: targets have %d value%s per sample, the model has %d "
                          "output%s", tfile, w, w == 1 ? "" : "s", outputs,
                          outputs == 1 ? "" : "s");
    for (size_t i = 0; i < d->count; i++) {
        for (int j = 0; j < w; j++) {
            float v = d->targets[i * (size_t)w + (size_t)j];
            if (!isfinite(v))
                return seqrt_fail(err, "%s has target %s: targets must be finite",
                                  where(d, i, 1, at, sizeof at), isnan(v) ? "nan" : "inf");
            if (classes && (v < 0 || v >= (float)outputs || v != floorf(v)))
                return seqrt_fail(err, "%s has label %g, but the model has %d classes "
                                  "(labels 0..%d)", where(d, i, 1, at, sizeof at), (double)v,
                                  outputs, outputs - 1);
            if (kind == SEQRT_TARGET_BINARY && (v < 0 || v > 1))
                return seqrt_fail(err, "%s has target %g: binary_crossentropy takes "
                                  "targets in [0, 1]", where(d, i, 1, at, sizeof at),
                                  (double)v);
            if (kind == SEQRT_TARGET_ROWS && !classes && v < 0)
                return seqrt_fail(err, "%s has target %g: categorical_crossentropy takes "
                                  "rows of values >= 0 (one-hot or probabilities)",
                                  where(d, i, 1, at, sizeof at), (double)v);
        }
    }
    return 0;
}
