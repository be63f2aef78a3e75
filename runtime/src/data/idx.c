/*
 * idx.c: the IDX loader (the MNIST format), plain or gzip.
 *
 * A loader either returns a whole, consistent dataset or fails with one
 * message "FILE: what is wrong" and leaves *out zeroed with nothing
 * allocated: a partly read file is never handed on. The header's counts
 * are checked, but memory is only ever taken for bytes that arrived
 * (reader.h): a header that claims more than the file holds is reported
 * as "truncated" after reading what is there.
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include "data/reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    IDX_IMAGES_MAGIC = 0x00000803, /* unsigned bytes, 3 dimensions */
    IDX_LABELS_MAGIC = 0x00000801, /* unsigned bytes, 1 dimension */
    IDX_IMAGES_HEADER = 16,        /* magic, count, rows, cols */
    IDX_LABELS_HEADER = 8,         /* magic, count */
    IDX_MAX_SIDE = 1 << 15         /* a larger image side is a broken header */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

typedef struct idx_file {
    const char *path;
    data_src    src;
    int         images;            /* 1: images file, 0: labels file */
    uint32_t    count, rows, cols; /* rows = cols = 1 for labels */
    size_t      payload;           /* bytes after the header, as the header says */
} idx_file;

static const char *idx_kind(uint32_t magic)
{
    switch (magic) {
    case IDX_IMAGES_MAGIC: return "an IDX images file";
    case IDX_LABELS_MAGIC: return "an IDX labels file";
    default: break;
    }
    if ((magic >> 16) == 0x1f8b)
        return "a file gzipped twice: gunzip it once";
    return NULL;
}

/* "truncated: header says 3 images of 2x2, the file holds 2 (10 of 12
 * bytes of pixels)": what the header claims against what arrived. */
static int idx_truncated(const idx_file *x, size_t got, int cut, seqrt_error *err)
{
    const char *why = cut ? " (the gzip stream ends early)" : "";
    if (!x->images)
        return seqrt_fail(err, "%s: truncated: header says %" PRIu32 " labels, the "
                          "file holds %zu%s", x->path, x->count, got, why);
    size_t each = (size_t)x->rows * x->cols;
    return seqrt_fail(err, "%s: truncated: header says %" PRIu32 " images of %" PRIu32
                      "x%" PRIu32 ", the file holds %zu (%zu of %zu bytes of pixels)%s",
                      x->path, x->count, x->rows, x->cols, got / each, got, x->payload,
                      why);
}

/* Opens an IDX file and checks its header: the magic number, then the
 * dimensions. A plain file's size is known, so a short or over-limit one
 * is refused before any allocation. */
static int idx_open(idx_file *x, uint32_t magic, const data_budget *b,
                    seqrt_error *err)
{
    const char *path = x->src.path;
    const size_t header = magic == IDX_IMAGES_MAGIC ? IDX_IMAGES_HEADER
                                                    : IDX_LABELS_HEADER;
    const char *what = magic == IDX_IMAGES_MAGIC ? "images" : "labels";
    unsigned char h[IDX_IMAGES_HEADER];
    size_t got;

    x->path = path;
    x->images = magic == IDX_IMAGES_MAGIC;
    if (data_src_read(&x->src, h, header, &got, err) < 0)
        return -1;
    if (got == 0)
        return seqrt_fail(err, "%s: empty file, expected an IDX %s file", path, what);
    if (got >= 4 && be32(h) != magic) {
        const char *kind = idx_kind(be32(h));
        return seqrt_fail(err, "%s: wrong magic number 0x%08x, expected 0x%08x "
                          "(IDX %s)%s%s", path, (unsigned)be32(h), (unsigned)magic,
                          what, kind ? ": this looks like " : "", kind ? kind : "");
    }
    if (got < header)
        return seqrt_fail(err, "%s: truncated header: expected %zu bytes, found %zu%s",
                          path, header, got,
                          data_src_cut_short(&x->src) ? " (the gzip stream ends early)" : "");

    x->count = be32(h + 4);
    x->rows = x->cols = 1;
    if (x->images) {
        x->rows = be32(h + 8);
        x->cols = be32(h + 12);
        if (x->rows == 0 || x->cols == 0 || x->rows > IDX_MAX_SIDE ||
            x->cols > IDX_MAX_SIDE)
            return seqrt_fail(err, "%s: absurd image size %" PRIu32 "x%" PRIu32
                              " in the header (each side must be 1..%d)",
                              path, x->rows, x->cols, IDX_MAX_SIDE);
    }
    if (x->count == 0)
        return seqrt_fail(err, "%s: the header says the file holds 0 %s", path, what);

    /* rows*cols <= 2^30 and count < 2^32, so the product needs 62 bits */
    uint64_t bytes = (uint64_t)x->count * x->rows * x->cols;
    x->payload = bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;

    size_t size;
    if (data_src_plain_size(&x->src, &size)) {
        size_t have = size > header ? size - header : 0;
        if (have < x->payload)
            return idx_truncated(x, have, 0, err);
        data_budget mine = *b; /* the message names this file */
        mine.path = path;
        if (data_fits(&mine, x->payload, err) < 0)
            return -1;
    }
    return 0;
}

/* Reads the payload into a new buffer that grows as bytes arrive, up to
 * what the header says, and checks that nothing follows. */
static int idx_read_payload(idx_file *x, data_budget *b, uint8_t **out,
                            seqrt_error *err)
{
    void *buf = NULL;
    size_t cap = 0, got = 0;
    while (got < x->payload) {
        if (got == cap && data_grow(b, &buf, &cap, got + 1, x->payload, err) < 0)
            goto fail;
        size_t n;
        /* one gzread per buffer size: no per-sample calls */
        if (data_src_read(&x->src, (uint8_t *)buf + got, cap - got, &n, err) < 0)
            goto fail;
        got += n;
        if (got < cap)
            break; /* the end of the file */
    }
    if (got < x->payload) {
        idx_truncated(x, got, data_src_cut_short(&x->src), err);
        goto fail;
    }
    /* Anything after the payload means the header's count is wrong or the
     * file carries garbage; this read also reaches the gzip trailer, whose
     * CRC and length zlib checks. */
    unsigned char extra[1];
    size_t n;
    if (data_src_read(&x->src, extra, 1, &n, err) < 0)
        goto fail;
    if (n) {
        seqrt_fail(err, "%s: trailing data after the %zu bytes of %s that the header "
                   "announces", x->path, x->payload, x->images ? "pixels" : "labels");
        goto fail;
    }
    if (data_src_cut_short(&x->src)) {
        seqrt_fail(err, "%s: truncated gzip file: the stream ends before its trailer",
                   x->path);
        goto fail;
    }
    *out = buf;
    return 0;
fail:
    free(buf);
    data_release(b, cap);
    return -1;
}

/* The loader behind every entry point: im and lb (lb->src.path NULL when
 * there are no labels) opened as files or memory. Closes both. */
static int idx_load(idx_file *im, idx_file *lb, const seqrt_load_opts *opts,
                    seqrt_dataset *out, seqrt_error *err)
{
    const char *images_path = im->src.path, *labels_path = lb->src.path;
    data_budget b;
    int rc = -1;

    data_budget_init(&b, images_path, opts);
    if (idx_open(im, IDX_IMAGES_MAGIC, &b, err) < 0)
        goto done;
    if (labels_path && idx_open(lb, IDX_LABELS_MAGIC, &b, err) < 0)
        goto done;
    /* both headers first: a mismatch is found before megabytes are read */
    if (labels_path && im->count != lb->count) {
        seqrt_fail(err, "%s: %" PRIu32 " labels, but %s has %" PRIu32
                   " images: the counts must agree", labels_path, lb->count,
                   images_path, im->count);
        goto done;
    }
    if (idx_read_payload(im, &b, &out->pixels, err) < 0)
        goto done;
    if (!labels_path) {
        /* images only (prediction): every label 0; the images arrived, so
         * count is real, not a header's claim */
        void *zeros = NULL;
        size_t cap = 0;
        if (data_grow(&b, &zeros, &cap, im->count, im->count, err) < 0) {
            free(zeros);
            goto done;
        }
        free(zeros);
        out->y_width = 0;
    } else {
        uint8_t *bytes = NULL;
        b.path = labels_path;
        if (idx_read_payload(lb, &b, &bytes, err) < 0)
            goto done;
        if (data_bytes_to_targets(&b, bytes, im->count, &out->targets, err) < 0)
            goto done;
        out->y_width = 1;
    }

    out->count = im->count;
    out->ndims = 2;
    out->dims[0] = (int64_t)im->rows;
    out->dims[1] = (int64_t)im->cols;
    out->xtype = SEQRT_X_U8;
    out->sample_size = (size_t)im->rows * im->cols;
    out->scale = 1.0f / 255.0f;
    snprintf(out->source, sizeof out->source, "%s", images_path);
    if (labels_path)
        snprintf(out->labels_source, sizeof out->labels_source, "%s", labels_path);
    rc = 0;
done:
    data_src_close(&im->src);
    data_src_close(&lb->src);
    if (rc < 0)
        seqrt_dataset_free(out);
    return rc;
}

int seqrt_load_idx_opts(const char *images_path, const char *labels_path,
                        const seqrt_load_opts *opts, seqrt_dataset *out,
                        seqrt_error *err)
{
    idx_file im = {0}, lb = {0};
    memset(out, 0, sizeof *out);
    if (data_src_open(&im.src, images_path, err) < 0)
        return -1;
    if (labels_path && data_src_open(&lb.src, labels_path, err) < 0) {
        data_src_close(&im.src);
        return -1;
    }
    return idx_load(&im, &lb, opts, out, err);
}

int seqrt_load_idx_mem(const void *images, size_t images_len, const void *labels,
                       size_t labels_len, const seqrt_load_opts *opts,
                       seqrt_dataset *out, seqrt_error *err)
{
    idx_file im = {0}, lb = {0};
    memset(out, 0, sizeof *out);
    data_src_mem(&im.src, "<images>", images, images_len);
    if (labels)
        data_src_mem(&lb.src, "<labels>", labels, labels_len);
    return idx_load(&im, &lb, opts, out, err);
}

int seqrt_load_idx(const char *images_path, const char *labels_path,
                   seqrt_dataset *out, seqrt_error *err)
{
    return seqrt_load_idx_opts(images_path, labels_path, NULL, out, err);
}

/* dir/name.gz when it exists, else dir/name when it exists; else an error
 * that names both. */
static int mnist_path(char *buf, size_t size, const char *dir, const char *prefix,
                      const char *kind, seqrt_error *err)
{
    int n = snprintf(buf, size, "%s/%s-%s.gz", dir, prefix, kind);
    if (n < 0 || (size_t)n >= size)
        return seqrt_fail(err, "%s: path too long", dir);
    if (access(buf, F_OK) == 0)
        return 0;
    buf[n - 3] = '\0'; /* drop ".gz" */
    if (access(buf, F_OK) == 0)
        return 0;
    return seqrt_fail(err, "%s[.gz]: cannot open: %s", buf, strerror(errno));
}

int seqrt_load_mnist_dir_opts(const char *dir, const char *prefix,
                              const seqrt_load_opts *opts, seqrt_dataset *out,
                              seqrt_error *err)
{
    char images[4096], labels[4096];
    memset(out, 0, sizeof *out);
    if (mnist_path(images, sizeof images, dir, prefix, "images-idx3-ubyte", err) < 0 ||
        mnist_path(labels, sizeof labels, dir, prefix, "labels-idx1-ubyte", err) < 0)
        return -1;
    return seqrt_load_idx_opts(images, labels, opts, out, err);
}

int seqrt_load_mnist_dir(const char *dir, const char *prefix, seqrt_dataset *out,
                         seqrt_error *err)
{
    return seqrt_load_mnist_dir_opts(dir, prefix, NULL, out, err);
}
