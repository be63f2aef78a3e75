/*
 * data.c: labelled datasets held as bytes, and the mini-batches made of them.
 *
 * Loaders: IDX (the MNIST format; plain or gzip, read through zlib, which
 * passes uncompressed files through unchanged) and CSV with the label in
 * the first column. A loader either returns a whole, consistent dataset or
 * fails with one message "FILE: what is wrong" and leaves *out zeroed with
 * nothing allocated: a partly read file is never handed on.
 *
 * seqrt_dataset_batch() turns bytes into floats one mini-batch at a time,
 * so a trainer's memory is the dataset as bytes plus one batch of floats.
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include "loop/parallel.h"
#include "kernels/simd.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum {
    IDX_IMAGES_MAGIC = 0x00000803, /* unsigned bytes, 3 dimensions */
    IDX_LABELS_MAGIC = 0x00000801, /* unsigned bytes, 1 dimension */
    IDX_IMAGES_HEADER = 16,        /* magic, count, rows, cols */
    IDX_LABELS_HEADER = 8,         /* magic, count */
    IDX_MAX_SIDE = 1 << 15,        /* a larger image side is a broken header */
    GZ_BUFFER = 1 << 18            /* zlib's input buffer: fewer, larger reads */
};

/* Larger requests are split: gzread takes an unsigned and returns an int. */
#define GZ_MAX_CHUNK ((size_t)1 << 30)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void dataset_clear(seqrt_dataset *d)
{
    memset(d, 0, sizeof *d);
}

void seqrt_dataset_free(seqrt_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    dataset_clear(d);
}

/* ------------------------------------------------------------ gz files */

/* Opens path for reading, plain or gzip. */
static gzFile gz_open(const char *path, seqrt_error *err)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        const char *why = errno ? strerror(errno) : "out of memory";
        seqrt_fail(err, "%s: cannot open: %s", path, why);
        return NULL;
    }
    gzbuffer(f, GZ_BUFFER);
    return f;
}

/* Reads up to len bytes into buf; *got is how many arrived. Returns -1
 * (message written) when the gzip stream is corrupt or the read fails;
 * a short read at a clean end of file is not an error here. */
static int gz_read_full(gzFile f, const char *path, void *buf, size_t len,
                        size_t *got, seqrt_error *err)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got;
        if (want > GZ_MAX_CHUNK)
            want = GZ_MAX_CHUNK;
        int n = gzread(f, p + *got, (unsigned)want);
        if (n < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            if (code == Z_ERRNO)
                return seqrt_fail(err, "%s: read error: %s", path, strerror(errno));
            /* zlib's message starts with the path: keep one copy */
            size_t plen = strlen(path);
            if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
                msg += plen + 2;
            return seqrt_fail(err, "%s: corrupt gzip data: %s", path, msg);
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return 0;
}

/* After a short read: a gzip stream cut off in the middle says so through
 * gzerror (Z_BUF_ERROR); a plain file simply ended. */
static int gz_cut_short(gzFile f)
{
    int code;
    gzerror(f, &code);
    return code == Z_BUF_ERROR;
}

/* --------------------------------------------------------------- IDX */

typedef struct idx_file {
    const char *path;
    gzFile      f;
    uint32_t    count, rows, cols; /* rows = cols = 1 for labels */
    size_t      payload;           /* bytes after the header */
    char        desc[96];          /* "12 bytes of pixels (3 images of 2x2)" */
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

/* Opens an IDX file and checks its header: the magic number, then the
 * dimensions. */
static int idx_open(idx_file *x, const char *path, uint32_t magic,
                    seqrt_error *err)
{
    const size_t header = magic == IDX_IMAGES_MAGIC ? IDX_IMAGES_HEADER
                                                    : IDX_LABELS_HEADER;
    const char *what = magic == IDX_IMAGES_MAGIC ? "images" : "labels";
    unsigned char h[IDX_IMAGES_HEADER];
    size_t got;

    memset(x, 0, sizeof *x);
    x->path = path;
    x->f = gz_open(path, err);
    if (!x->f)
        return -1;
    if (gz_read_full(x->f, path, h, header, &got, err) < 0)
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
                          gz_cut_short(x->f) ? " (the gzip stream ends early)" : "");

    x->count = be32(h + 4);
    x->rows = x->cols = 1;
    if (magic == IDX_IMAGES_MAGIC) {
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
    if (bytes > SIZE_MAX)
        return seqrt_fail(err, "%s: the header's %" PRIu32 " images of %" PRIu32
                          "x%" PRIu32 " do not fit in memory", path, x->count,
                          x->rows, x->cols);
    x->payload = (size_t)bytes;
    if (magic == IDX_IMAGES_MAGIC)
        snprintf(x->desc, sizeof x->desc, "%zu bytes of pixels (%" PRIu32
                 " images of %" PRIu32 "x%" PRIu32 ")", x->payload, x->count,
                 x->rows, x->cols);
    else
        snprintf(x->desc, sizeof x->desc, "%zu bytes of labels", x->payload);

    /* A plain file's size is known: a short one is reported before any
     * allocation (a gzip file's length is only known by inflating it). */
    struct stat st;
    if (gzdirect(x->f) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size < header + bytes)
        return seqrt_fail(err, "%s: truncated: expected %s, found %zu", path,
                          x->desc, (size_t)st.st_size - header);
    return 0;
}

/* Reads exactly x->payload bytes into a new buffer and checks that nothing
 * follows them. */
static int idx_read_payload(idx_file *x, uint8_t **out, seqrt_error *err)
{
    size_t got;
    uint8_t *buf = malloc(x->payload);
    if (!buf)
        return seqrt_fail(err, "%s: cannot allocate the %s that the header "
                          "announces: is the header corrupt?", x->path, x->desc);
    /* one gzread (per GiB) for the whole payload: no per-sample calls */
    if (gz_read_full(x->f, x->path, buf, x->payload, &got, err) < 0)
        goto fail;
    if (got < x->payload) {
        seqrt_fail(err, "%s: truncated: expected %s, found %zu%s", x->path, x->desc,
                   got, gz_cut_short(x->f) ? " (the gzip stream ends early)" : "");
        goto fail;
    }
    /* Anything after the payload means the header's count is wrong or the
     * file carries garbage; this read also reaches the gzip trailer, whose
     * CRC and length zlib checks. */
    unsigned char extra[1];
    if (gz_read_full(x->f, x->path, extra, 1, &got, err) < 0)
        goto fail;
    if (got) {
        seqrt_fail(err, "%s: trailing data after the %s that the header announces",
                   x->path, x->desc);
        goto fail;
    }
    if (gz_cut_short(x->f)) {
        seqrt_fail(err, "%s: truncated gzip file: the stream ends before its trailer",
                   x->path);
        goto fail;
    }
    *out = buf;
    return 0;
fail:
    free(buf);
    return -1;
}

static void idx_close(idx_file *x)
{
    if (x->f)
        gzclose(x->f);
    x->f = NULL;
}

int seqrt_load_idx(const char *images_path, const char *labels_path,
                   seqrt_dataset *out, seqrt_error *err)
{
    idx_file im, lb;
    int rc = -1;

    dataset_clear(out);
    memset(&lb, 0, sizeof lb);
    if (idx_open(&im, images_path, IDX_IMAGES_MAGIC, err) < 0)
        goto done;
    if (labels_path && idx_open(&lb, labels_path, IDX_LABELS_MAGIC, err) < 0)
        goto done;
    /* both headers first: a mismatch is found before megabytes are read */
    if (labels_path && im.count != lb.count) {
        seqrt_fail(err, "%s: %" PRIu32 " labels, but %s has %" PRIu32
                   " images: the counts must agree", labels_path, lb.count,
                   images_path, im.count);
        goto done;
    }
    if (idx_read_payload(&im, &out->pixels, err) < 0)
        goto done;
    if (!labels_path) {
        /* images only (prediction): every label 0 */
        out->labels = calloc(im.count ? im.count : 1, 1);
        if (!out->labels) {
            seqrt_fail(err, "%s: out of memory for %" PRIu32 " labels", images_path, im.count);
            goto done;
        }
    } else if (idx_read_payload(&lb, &out->labels, err) < 0) {
        goto done;
    }

    out->count = im.count;
    out->rows = (int)im.rows;
    out->cols = (int)im.cols;
    out->sample_size = (size_t)im.rows * im.cols;
    out->scale = 1.0f / 255.0f;
    snprintf(out->source, sizeof out->source, "%s", images_path);
    rc = 0;
done:
    idx_close(&im);
    idx_close(&lb);
    if (rc < 0)
        seqrt_dataset_free(out);
    return rc;
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

int seqrt_load_mnist_dir(const char *dir, const char *prefix, seqrt_dataset *out,
                         seqrt_error *err)
{
    char images[4096], labels[4096];
    dataset_clear(out);
    if (mnist_path(images, sizeof images, dir, prefix, "images-idx3-ubyte", err) < 0 ||
        mnist_path(labels, sizeof labels, dir, prefix, "labels-idx1-ubyte", err) < 0)
        return -1;
    return seqrt_load_idx(images, labels, out, err);
}

/* --------------------------------------------------------------- CSV */

/* The whole file in memory, NUL-terminated (a .csv.gz works too). */
static int slurp(const char *path, char **text, size_t *len, seqrt_error *err)
{
    gzFile f = gz_open(path, err);
    if (!f)
        return -1;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            gzclose(f);
            return seqrt_fail(err, "%s: out of memory", path);
        }
        size_t got;
        if (gz_read_full(f, path, buf + n, cap - 1 - n, &got, err) < 0) {
            free(buf);
            gzclose(f);
            return -1;
        }
        n += got;
        if (n < cap - 1)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown)
            free(buf);
        buf = grown;
        cap *= 2;
    }
    int cut = gz_cut_short(f);
    gzclose(f);
    if (cut) {
        free(buf);
        return seqrt_fail(err, "%s: truncated gzip file", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One whole field [s, end): optional blanks, an optional '-', digits,
 * optional blanks. Returns 0 and the value (capped in magnitude, enough to
 * tell that it is out of range), or -1 when the field is not an integer. */
static int csv_int(const char *s, const char *end, long *value)
{
    while (s < end && is_blank(*s))
        s++;
    while (end > s && is_blank(end[-1]))
        end--;
    int neg = s < end && *s == '-';
    s += neg;
    if (s == end)
        return -1;
    long v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v < 100000)
            v = v * 10 + (*s - '0');
    }
    *value = neg ? -v : v;
    return 0;
}

static int count_fields(const char *s, const char *end)
{
    int n = 1;
    for (; s < end; s++)
        n += *s == ',';
    return n;
}

/* Parses one data row [p, eol) of `fields` fields into *label and row[].
 * The fast path reads each field in one scan; anything unusual is handed
 * to csv_int for the diagnosis. Returns 0 or -1 with the message. */
static int csv_row(const char *path, size_t line, const char *p, const char *eol,
                   int fields, size_t first_data, uint8_t *label, uint8_t *row,
                   seqrt_error *err)
{
    const char *f = p;
    for (int k = 0; k < fields; k++) {
        if (f > eol) /* the previous field ended the line */
            return seqrt_fail(err, "%s:%zu: %d fields, expected %d like line %zu",
                              path, line, k, fields, first_data);
        const char *s = f;
        unsigned v = 0;
        int digits = 0;
        while (s < eol && is_blank(*s))
            s++;
        for (; s < eol && (unsigned)(*s - '0') < 10; s++, digits++)
            if (v < 1000)
                v = v * 10 + (unsigned)(*s - '0');
        while (s < eol && is_blank(*s))
            s++;
        if (digits == 0 || (s < eol && *s != ',') || v > 255) {
            const char *fe = memchr(f, ',', (size_t)(eol - f));
            if (!fe)
                fe = eol;
            int col = (int)(f - p) + 1;
            int width = (int)(fe - f) > 24 ? 24 : (int)(fe - f);
            const char *name = k == 0 ? "the label" : "value";
            long lv;
            if (csv_int(f, fe, &lv) < 0)
                return seqrt_fail(err, "%s:%zu:%d: field %d: '%.*s' is not a "
                                  "number (%s must be an integer 0..255)", path,
                                  line, col, k + 1, width, f, name);
            return seqrt_fail(err, "%s:%zu:%d: field %d: %s '%.*s' is out of "
                              "range 0..255", path, line, col, k + 1, name, width, f);
        }
        if (k == 0)
            *label = (uint8_t)v;
        else
            row[k - 1] = (uint8_t)v;
        f = s + 1; /* past the comma, or past eol when the line ended */
    }
    if (f <= eol) /* more fields than the first row */
        return seqrt_fail(err, "%s:%zu: %d fields, expected %d like line %zu", path,
                          line, fields + count_fields(f, eol), fields, first_data);
    return 0;
}

int seqrt_load_csv(const char *path, seqrt_dataset *out, seqrt_error *err)
{
    char *text = NULL;
    size_t len = 0, lines = 1;
    int fields = 0;        /* per row, fixed by the first data row */
    size_t first_data = 0; /* line number of the first data row */
    int header_fields = 0;

    dataset_clear(out);
    if (slurp(path, &text, &len, err) < 0)
        return -1;
    for (const char *q = text; (q = memchr(q, '\n', len - (size_t)(q - text))); q++)
        lines++;

    char *p = text, *end = text + len;
    for (size_t line = 1; p < end; line++) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *next = eol ? eol + 1 : end;
        if (!eol)
            eol = end;
        if (eol > p && eol[-1] == '\r')
            eol--;

        if (eol == p) { /* blank line: allowed only at the end of the file */
            char *q = next;
            while (q < end && (*q == '\n' || *q == '\r'))
                q++;
            if (q == end)
                break;
            seqrt_fail(err, "%s:%zu: empty line between samples", path, line);
            goto fail;
        }

        if (line == 1) { /* a non-numeric first field makes line 1 a header */
            const char *comma = memchr(p, ',', (size_t)(eol - p));
            long v;
            if (csv_int(p, comma ? comma : eol, &v) < 0) {
                header_fields = count_fields(p, eol);
                p = next;
                continue;
            }
        }

        if (!fields) { /* the first data row sets the shape */
            int n = count_fields(p, eol);
            if (n < 2) {
                seqrt_fail(err, "%s:%zu: only one field: expected the label then "
                           "the values", path, line);
                goto fail;
            }
            if (header_fields && header_fields != n) {
                seqrt_fail(err, "%s:%zu: %d fields, but the header on line 1 has %d",
                           path, line, n, header_fields);
                goto fail;
            }
            fields = n;
            first_data = line;
            out->sample_size = (size_t)(n - 1);
            out->pixels = malloc(lines * out->sample_size);
            out->labels = malloc(lines);
            if (!out->pixels || !out->labels) {
                seqrt_fail(err, "%s: out of memory", path);
                goto fail;
            }
        }

        if (csv_row(path, line, p, eol, fields, first_data, out->labels + out->count,
                    out->pixels + out->count * out->sample_size, err) < 0)
            goto fail;
        out->count++;
        p = next;
    }

    if (out->count == 0) {
        seqrt_fail(err, len == 0 ? "%s: empty file: no samples"
                                 : "%s: no samples, only a header line", path);
        goto fail;
    }
    if (out->sample_size > INT_MAX) {
        seqrt_fail(err, "%s: %zu values per row is too many", path, out->sample_size);
        goto fail;
    }
    free(text);
    out->rows = 1;
    out->cols = (int)out->sample_size;
    out->scale = 1.0f / 255.0f;
    snprintf(out->source, sizeof out->source, "%s", path);
    return 0;
fail:
    free(text);
    seqrt_dataset_free(out);
    return -1;
}

/* ------------------------------------------------------------- checks */

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
    for (size_t i = 0; i < d->count; i++)
        if ((int)d->labels[i] >= classes)
            return seqrt_fail(err, "%s: sample %zu has label %d, but the model has "
                              "%d classes (labels 0..%d)", d->source, i,
                              (int)d->labels[i], classes, classes - 1);
    return 0;
}

/* ------------------------------------------------------------ batches */

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
        uintptr_t a = (uintptr_t)(d->pixels + k * d->sample_size + lo) & ~(uintptr_t)63;
        uintptr_t end = (uintptr_t)(d->pixels + k * d->sample_size + hi);
        for (; a < end; a += 64)
            __builtin_prefetch((const void *)a);
        __builtin_prefetch(d->labels + k);
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
        scale_row(hi - lo, j->d->scale, j->d->pixels + k * m + lo, j->x + (size_t)i * m + lo);
    }
}

static void prefetch_part(void *arg, int part, int parts)
{
    const batch_job *j = arg;
    size_t lo, hi;
    seqrt_parallel_range(j->d->sample_size, 16, part, parts, &lo, &hi);
    prefetch_rows(j->d, j->order, j->start, j->n, lo, hi);
}

/* Bytes below which a batch is gathered by the calling thread alone. */
#define BATCH_SPLIT_MIN ((size_t)1 << 13)

/* With several threads the batch is split by columns in the ranges the
 * first dense layer splits its weights' rows in (parallel.h), so each
 * core writes the part of x that it alone reads next: a row split made x
 * cross cores every step. */
void seqrt_dataset_batch(const seqrt_dataset *d, const uint32_t *order,
                         size_t start, int n, float *x, int32_t *y)
{
    batch_job j = {.d = d, .order = order, .start = start, .n = n, .x = x};
    if (seqrt_parallel_parts() > 1 && (size_t)n * d->sample_size >= BATCH_SPLIT_MIN)
        seqrt_parallel(batch_part, &j);
    else
        batch_part(&j, 0, 1);
    for (int i = 0; i < n; i++) {
        size_t k = order ? order[start + (size_t)i] : start + (size_t)i;
        y[i] = d->labels[k];
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
