/*
 * sets.c: where a command's data comes from (seqrt_load_data: --data,
 * --test, --target, --no-header) and Keras's validation split
 * (seqrt_dataset_split).
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include "data/reader.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void seqrt_data_sets_free(seqrt_data_sets *s)
{
    if (!s)
        return;
    seqrt_dataset_free(&s->train);
    seqrt_dataset_free(&s->val);
    seqrt_dataset_free(&s->test);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* What the flags that only a CSV file takes say when given with another
 * source (kind: "a directory of IDX files", "an .npz archive"). */
static int csv_only_flags(const seqrt_data_spec *spec, const char *kind, seqrt_error *err)
{
    if (spec->test)
        return seqrt_fail(err, "--test %s: --test goes with a CSV training file; %s is %s, "
                          "which holds its own test set", spec->test, spec->data, kind);
    if (spec->csv.target)
        return seqrt_fail(err, "--target %s: --target names CSV columns; %s is %s",
                          spec->csv.target, spec->data, kind);
    if (spec->csv.no_header)
        return seqrt_fail(err, "--no-header: it describes a CSV file; %s is %s", spec->data,
                          kind);
    return 0;
}

static int load_npz(const seqrt_data_spec *spec, seqrt_load_opts *lim, seqrt_data_sets *out,
                    seqrt_error *err)
{
    int rc = seqrt_load_npz(spec->data, "train", lim, &out->train, err);
    if (rc == 1)
        return seqrt_fail(err, "%s: no x_train.npy in the archive (seqc reads the keys "
                          "x_train, y_train and optionally x_test, y_test, x_val, y_val: "
                          "np.savez(path, x_train=..., y_train=...))", spec->data);
    if (rc < 0)
        return -1;
    lim->used_bytes += seqrt_dataset_bytes(&out->train);
    if (seqrt_load_npz(spec->data, "test", lim, &out->test, err) < 0)
        return -1;
    lim->used_bytes += seqrt_dataset_bytes(&out->test);
    if (seqrt_load_npz(spec->data, "val", lim, &out->val, err) < 0)
        return -1;
    return 0;
}

static int load_csv(const seqrt_data_spec *spec, seqrt_load_opts *lim, seqrt_data_sets *out,
                    seqrt_error *err)
{
    char *train_names = NULL, *test_names = NULL;
    int rc = -1;
    if (data_csv_load(spec->data, NULL, 0, &spec->csv, lim, &out->train, &train_names,
                      err) < 0)
        goto done;
    if (spec->test) {
        lim->used_bytes += seqrt_dataset_bytes(&out->train);
        if (data_csv_load(spec->test, NULL, 0, &spec->csv, lim, &out->test, &test_names,
                          err) < 0)
            goto done;
        if (strcmp(train_names, test_names) != 0) {
            seqrt_fail(err, "%s: the columns (%.120s) differ from those of %s (%.120s): "
                       "the test set needs the training set's columns",
                       spec->test, test_names, spec->data, train_names);
            goto done;
        }
    }
    rc = 0;
done:
    free(train_names);
    free(test_names);
    return rc;
}

int seqrt_load_data(const seqrt_data_spec *spec, const seqrt_load_opts *opts,
                    seqrt_data_sets *out, seqrt_error *err)
{
    seqrt_load_opts lim = {0};
    struct stat st;
    int rc;
    memset(out, 0, sizeof *out);
    if (opts)
        lim = *opts;
    if (!spec->data || !spec->data[0])
        return seqrt_fail(err, "no data given: --data DIR, FILE.npz or FILE.csv");
    if (stat(spec->data, &st) != 0)
        return seqrt_fail(err, "%s: cannot open: %s", spec->data, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        rc = csv_only_flags(spec, "a directory of IDX files", err);
        if (rc == 0)
            rc = seqrt_load_mnist_dir_opts(spec->data, "train", &lim, &out->train, err);
        if (rc == 0) {
            lim.used_bytes += seqrt_dataset_bytes(&out->train);
            rc = seqrt_load_mnist_dir_opts(spec->data, "t10k", &lim, &out->test, err);
        }
    } else if (ends_with(spec->data, ".npz")) {
        rc = csv_only_flags(spec, "an .npz archive", err);
        if (rc == 0)
            rc = load_npz(spec, &lim, out, err);
    } else {
        rc = load_csv(spec, &lim, out, err);
    }
    if (rc < 0)
        seqrt_data_sets_free(out);
    return rc;
}

/* ------------------------------------------------------------------ split */

/* A new buffer of the bytes [from, from + n) of buf; NULL for no bytes. */
static int tail_copy(const void *buf, size_t from, size_t n, void **out)
{
    *out = NULL;
    if (!buf || n == 0)
        return 0;
    *out = malloc(n);
    if (!*out)
        return -1;
    memcpy(*out, (const char *)buf + from, n);
    return 0;
}

static void *shrink(void *buf, size_t n)
{
    if (!buf)
        return NULL;
    void *small = realloc(buf, n ? n : 1);
    return small ? small : buf;
}

int seqrt_dataset_split(seqrt_dataset *d, double fraction, seqrt_dataset *val,
                        seqrt_error *err)
{
    memset(val, 0, sizeof *val);
    if (!(fraction > 0 && fraction < 1))
        return seqrt_fail(err, "validation split %g: it must be between 0 and 1 "
                          "(exclusive)", fraction);
    /* Keras: split_at = int(len(x) * (1 - validation_split)) */
    size_t at = (size_t)floor((double)d->count * (1.0 - fraction));
    if (at == 0 || at >= d->count)
        return seqrt_fail(err, "%s: a validation split of %g of %zu samples leaves the %s "
                          "part empty", d->source, fraction, d->count,
                          at == 0 ? "training" : "validation");
    size_t n = d->count - at;
    size_t each = d->xtype == SEQRT_X_U8 ? 1 : sizeof(float);
    size_t row = d->sample_size * each, trow = (size_t)d->y_width * sizeof(float);
    void *x = NULL, *t = NULL;
    const void *xsrc = d->xtype == SEQRT_X_U8 ? (const void *)d->pixels
                                              : (const void *)d->values;
    if (tail_copy(xsrc, at * row, n * row, &x) < 0 ||
        tail_copy(d->targets, at * trow, n * trow, &t) < 0) {
        free(x);
        return seqrt_fail(err, "%s: out of memory for the validation split", d->source);
    }
    *val = *d;
    val->count = n;
    val->pixels = d->xtype == SEQRT_X_U8 ? x : NULL;
    val->values = d->xtype == SEQRT_X_U8 ? NULL : x;
    val->targets = t;
    if (d->first_line)
        val->first_line = d->first_line + at;
    d->count = at;
    if (d->xtype == SEQRT_X_U8)
        d->pixels = shrink(d->pixels, at * row);
    else
        d->values = shrink(d->values, at * row);
    d->targets = shrink(d->targets, at * trow);
    return 0;
}
