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
    IDX_IMAGES_MAGIC = 0x00000803, /* unsigned bytes, 3 dimensions (MNIST) */
    IDX_LABELS_MAGIC = 0x00000801, /* unsigned bytes, 1 dimension (MNIST) */
    IDX_MAX_DIMS = SEQRT_MAX_SAMPLE_DIMS + 1,
    IDX_MAX_SIDE = 1 << 15         /* a larger dimension is a broken header */
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
    data_dtype  type;
    int         ndims;
    uint32_t    dims[IDX_MAX_DIMS]; /* dims[0]: the count */
    uint32_t    count;
    size_t      each;              /* values per sample */
    size_t      values;            /* count * each, as the header says */
} idx_file;

/* The IDX element type of a magic number's third byte. */
static int idx_type(unsigned code, data_dtype *t)
{
    switch (code) {
    case 0x08: *t = DATA_U8; return 0;
    case 0x09: *t = DATA_I8; return 0;
    case 0x0B: *t = DATA_I16; return 0;
    case 0x0C: *t = DATA_I32; return 0;
    case 0x0D: *t = DATA_F32; return 0;
    case 0x0E: *t = DATA_F64; return 0;
    default: return -1;
    }
}

static const char *idx_kind(uint32_t magic)
{
    data_dtype t;
    if ((magic >> 16) == 0x1f8b)
        return "a file gzipped twice: gunzip it once";
    if ((magic >> 16) != 0 || idx_type((magic >> 8) & 0xff, &t) < 0)
        return NULL;
    if ((magic & 0xff) == 1)
        return "an IDX labels file";
    if ((magic & 0xff) >= 2 && (magic & 0xff) <= IDX_MAX_DIMS)
        return "an IDX images file";
    return NULL;
}

/* "2x2" */
static void idx_sample_shape(const idx_file *x, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 1; i < x->ndims && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%" PRIu32, i > 1 ? "x" : "", x->dims[i]);
}

/* "truncated: header says 3 images of 2x2, the file holds 2 (10 of 12
 * bytes of pixels)": what the header claims against what arrived. */
static int idx_truncated(const idx_file *x, size_t got, int cut, seqrt_error *err)
{
    const char *why = cut ? " (the gzip stream ends early)" : "";
    size_t size = data_dtype_size(x->type);
    if (!x->images)
        return seqrt_fail(err, "%s: truncated: header says %" PRIu32 " labels, the "
                          "file holds %zu%s", x->path, x->count, got / x->each, why);
    char shape[96];
    idx_sample_shape(x, shape, sizeof shape);
    return seqrt_fail(err, "%s: truncated: header says %" PRIu32 " images of %s, the file "
                      "holds %zu (%zu of %zu bytes of pixels)%s", x->path, x->count, shape,
                      got / x->each, got * size, x->values * size, why);
}

/* Opens an IDX file and checks its header: the magic number (element
 * type and dimensions), then the dimensions. A plain file's size is
 * known, so a short or over-limit one is refused before any allocation. */
static int idx_open(idx_file *x, int images, const data_budget *b, seqrt_error *err)
{
    const char *path = x->src.path;
    const char *what = images ? "images" : "labels";
    const uint32_t usual = images ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
    unsigned char h[4 + 4 * IDX_MAX_DIMS];
    size_t got;

    x->path = path;
    x->images = images;
    if (data_src_read(&x->src, h, 4, &got, err) < 0)
        return -1;
    if (got == 0)
        return seqrt_fail(err, "%s: empty file, expected an IDX %s file", path, what);
    uint32_t magic = got == 4 ? be32(h) : 0;
    unsigned nd = magic & 0xff;
    int ok_dims = images ? nd >= 2 && nd <= IDX_MAX_DIMS : nd == 1 || nd == 2;
    if (got == 4 && ((magic >> 16) != 0 || idx_type((magic >> 8) & 0xff, &x->type) < 0 ||
                     !ok_dims)) {
        /* garbage from a damaged gzip stream: say so, not "wrong magic" */
        unsigned char probe[256];
        size_t n;
        if (data_src_read(&x->src, probe, sizeof probe, &n, err) < 0)
            return -1;
        const char *kind = idx_kind(magic);
        return seqrt_fail(err, "%s: wrong magic number 0x%08x, expected 0x%08x "
                          "(IDX %s: 0x0000TTDD, type TT 08/09/0B/0C/0D/0E, %s dimensions)"
                          "%s%s", path, (unsigned)magic, (unsigned)usual, what,
                          images ? "2 to 5" : "1 or 2", kind ? ": this looks like " : "",
                          kind ? kind : "");
    }
    size_t header = 4 + 4 * (size_t)nd;
    if (got == 4) {
        size_t more;
        if (data_src_read(&x->src, h + 4, header - 4, &more, err) < 0)
            return -1;
        got += more;
    }
    if (got < header)
        return seqrt_fail(err, "%s: truncated header: expected %zu bytes, found %zu%s",
                          path, header, got,
                          data_src_cut_short(&x->src) ? " (the gzip stream ends early)" : "");
    x->ndims = (int)nd;
    for (int i = 0; i < x->ndims; i++)
        x->dims[i] = be32(h + 4 + 4 * i);
    uint64_t each = 1;
    for (int i = 1; i < x->ndims; i++) {
        if (x->dims[i] == 0 || x->dims[i] > IDX_MAX_SIDE) {
            char shape[96];
            idx_sample_shape(x, shape, sizeof shape);
            return seqrt_fail(err, "%s: absurd %s size %s in the header (each dimension "
                              "must be 1..%d)", path, images ? "image" : "label", shape,
                              IDX_MAX_SIDE);
        }
        each *= x->dims[i];
    }
    x->count = x->dims[0];
    if (each > ((uint64_t)1 << 31))
        return seqrt_fail(err, "%s: %" PRIu64 " values per sample in the header, more than "
                          "2^31", path, each);
    x->each = (size_t)each;
    if (x->count == 0)
        return seqrt_fail(err, "%s: the header says the file holds 0 %s", path, what);

    /* each <= 2^31 and count < 2^32: the product needs 63 bits */
    uint64_t values = (uint64_t)x->count * each;
    x->values = values > SIZE_MAX / 8 ? SIZE_MAX / 8 : (size_t)values;

    size_t size;
    if (data_src_plain_size(&x->src, &size)) {
        size_t have = size > header ? size - header : 0, esize = data_dtype_size(x->type);
        if (have < x->values * esize)
            return idx_truncated(x, have / esize, 0, err);
        data_budget mine = *b; /* the message names this file */
        mine.path = path;
        size_t keep = images && x->type == DATA_U8 ? 1 : sizeof(float);
        if (data_fits(&mine, x->values * keep, err) < 0)
            return -1;
    }
    return 0;
}

/* Reads the values into a new buffer that grows as bytes arrive, up to
 * what the header says, and checks that nothing follows. Images of
 * ubyte stay bytes (v->u8); everything else becomes float32 (v->f32). */
static int idx_read_payload(idx_file *x, data_budget *b, data_values *v, seqrt_error *err)
{
    const char *saved = b->path;
    b->path = x->path;
    int rc = data_read_values(&x->src, b, x->type, 1, x->values, x->images, v, err);
    b->path = saved;
    if (rc < 0)
        return -1;
    if (v->got < x->values) {
        idx_truncated(x, v->got, data_src_cut_short(&x->src), err);
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
                   "announces", x->path, x->values * data_dtype_size(x->type),
                   x->images ? "pixels" : "labels");
        goto fail;
    }
    if (data_src_cut_short(&x->src)) {
        seqrt_fail(err, "%s: truncated gzip file: the stream ends before its trailer",
                   x->path);
        goto fail;
    }
    return 0;
fail:
    free(v->u8);
    free(v->f32);
    data_release(b, v->cap);
    memset(v, 0, sizeof *v);
    return -1;
}

/* The loader behind every entry point: im and lb (lb->src.path NULL when
 * there are no labels) opened as files or memory. Closes both. */
static int idx_load(idx_file *im, idx_file *lb, const seqrt_load_opts *opts,
                    seqrt_dataset *out, seqrt_error *err)
{
    const char *images_path = im->src.path, *labels_path = lb->src.path;
    data_budget b;
    data_values x = {0}, y = {0};
    int rc = -1;

    data_budget_init(&b, images_path, opts);
    if (idx_open(im, 1, &b, err) < 0)
        goto done;
    if (labels_path && idx_open(lb, 0, &b, err) < 0)
        goto done;
    /* both headers first: a mismatch is found before megabytes are read */
    if (labels_path && im->count != lb->count) {
        seqrt_fail(err, "%s: %" PRIu32 " labels, but %s has %" PRIu32
                   " images: the counts must agree", labels_path, lb->count,
                   images_path, im->count);
        goto done;
    }
    if (idx_read_payload(im, &b, &x, err) < 0)
        goto done;
    if (labels_path) {
        if (idx_read_payload(lb, &b, &y, err) < 0)
            goto done;
        out->targets = y.f32;
        out->y_width = (int)lb->each;
    }
    out->count = im->count;
    out->ndims = im->ndims - 1;
    out->sample_size = im->each;
    for (int i = 1; i < im->ndims; i++)
        out->dims[i - 1] = (int64_t)im->dims[i];
    data_set_inputs(out, x.u8, x.f32);
    snprintf(out->source, sizeof out->source, "%s", images_path);
    if (labels_path)
        snprintf(out->labels_source, sizeof out->labels_source, "%s", labels_path);
    rc = 0;
done:
    data_src_close(&im->src);
    data_src_close(&lb->src);
    if (rc < 0) {
        free(x.u8);
        free(x.f32);
        seqrt_dataset_free(out);
    }
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
