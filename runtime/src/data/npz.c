/*
 * npz.c: NumPy's .npy arrays and .npz archives (np.savez: stored members;
 * np.savez_compressed: deflate), read with libzip.
 *
 * A .npy is a magic string, a version, a header length and a header: a
 * Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (100, 28, 28), }
 * followed by the values in C order. The header is parsed here (the three
 * keys numpy writes, nothing evaluated); the values are read as they
 * arrive (reader.h), so a shape that claims more than the member holds
 * is reported as truncated after reading only what is there.
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
#include <sys/stat.h>
#include <zip.h>

enum {
    NPY_MAGIC_LEN = 6,          /* "\x93NUMPY" */
    NPY_MAX_HEADER = 1 << 16,   /* numpy itself refuses more than 10000 */
    NPY_MAX_DIMS = SEQRT_MAX_SAMPLE_DIMS + 1
};

typedef struct npy_header {
    data_dtype type;
    int        big;     /* big-endian values */
    int        ndims;
    int64_t    dims[NPY_MAX_DIMS];
    size_t     count;   /* product of dims */
} npy_header;

/* "(100, 28, 28)" */
static void shape_text(const int64_t *dims, int ndims, char *buf, size_t len)
{
    size_t at = 0;
    at += (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < ndims && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%" PRId64, i ? ", " : "", dims[i]);
    if (at < len)
        snprintf(buf + at, len - at, ndims == 1 ? ",)" : ")");
}

/* ------------------------------------------------------------ header */

typedef struct dict_parser {
    const char *p, *end;
    const char *name; /* the array, for messages */
    seqrt_error *err;
} dict_parser;

static void skip_blanks(dict_parser *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' ||
                             *d->p == '\r'))
        d->p++;
}

static int bad_header(dict_parser *d, const char *what)
{
    return seqrt_fail(d->err, "%s: not a valid .npy header: %s", d->name, what);
}

/* A quoted Python string without escapes into buf. */
static int dict_string(dict_parser *d, char *buf, size_t len)
{
    skip_blanks(d);
    if (d->p >= d->end || (*d->p != '\'' && *d->p != '"'))
        return bad_header(d, "expected a quoted string");
    char q = *d->p++;
    const char *from = d->p;
    while (d->p < d->end && *d->p != q)
        d->p++;
    if (d->p >= d->end)
        return bad_header(d, "a string is not closed");
    size_t n = (size_t)(d->p - from);
    d->p++;
    if (n >= len)
        n = len - 1;
    memcpy(buf, from, n);
    buf[n] = '\0';
    return 0;
}

/* What a 'descr' string means: "<f4", "|u1", ">i8"... */
static int dict_descr(dict_parser *d, const char *s, npy_header *h)
{
    static const struct { char kind; int size; data_dtype type; } types[] = {
        {'u', 1, DATA_U8},  {'i', 1, DATA_I8},  {'u', 2, DATA_U16}, {'i', 2, DATA_I16},
        {'u', 4, DATA_U32}, {'i', 4, DATA_I32}, {'u', 8, DATA_U64}, {'i', 8, DATA_I64},
        {'f', 4, DATA_F32}, {'f', 8, DATA_F64},
    };
    const char *supported = "uint8, int8, int16, int32, int64, float32 or float64";
    char order = s[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return seqrt_fail(d->err, "%s: dtype '%s' is not supported (expected %s)", d->name,
                          s, supported);
    char kind = s[1];
    char *stop;
    long size = strtol(s + 2, &stop, 10);
    if (kind == 'O')
        return seqrt_fail(d->err, "%s: an object array (dtype '%s', pickled Python objects) "
                          "cannot be read: save an array of numbers (%s)", d->name, s,
                          supported);
    if (kind == 'b')
        return seqrt_fail(d->err, "%s: dtype '%s' (bool) is not supported: save it as "
                          "uint8 or float32 (y.astype('uint8'))", d->name, s);
    if (kind == 'U' || kind == 'S')
        return seqrt_fail(d->err, "%s: dtype '%s' (text) is not supported: save numbers (%s)",
                          d->name, s, supported);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (types[i].kind == kind && types[i].size == size && *stop == '\0' && stop != s + 2) {
            h->type = types[i].type;
            h->big = order == '>';
            if (order == '=') { /* native: numpy never writes it, but it is valid */
                const uint16_t one = 1;
                unsigned char b;
                memcpy(&b, &one, 1);
                h->big = b == 0;
            }
            return 0;
        }
    }
    return seqrt_fail(d->err, "%s: dtype '%s' is not supported (expected %s)", d->name, s,
                      supported);
}

/* 'shape': (N, d1, ...) */
static int dict_shape(dict_parser *d, npy_header *h)
{
    skip_blanks(d);
    if (d->p >= d->end || *d->p != '(')
        return bad_header(d, "'shape' is not a tuple");
    d->p++;
    h->ndims = 0;
    for (;;) {
        skip_blanks(d);
        if (d->p < d->end && *d->p == ')') {
            d->p++;
            break;
        }
        if (d->p >= d->end || *d->p < '0' || *d->p > '9')
            return bad_header(d, "'shape' holds something other than numbers");
        int64_t v = 0;
        while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return bad_header(d, "a dimension in 'shape' is too large");
            v = v * 10 + (*d->p++ - '0');
        }
        if (d->p < d->end && *d->p == 'L') /* Python 2's long */
            d->p++;
        if (h->ndims == NPY_MAX_DIMS)
            return seqrt_fail(d->err, "%s: more than %d dimensions (N and at most %d per "
                              "sample)", d->name, NPY_MAX_DIMS, SEQRT_MAX_SAMPLE_DIMS);
        h->dims[h->ndims++] = v;
        skip_blanks(d);
        if (d->p < d->end && *d->p == ',')
            d->p++;
        else if (d->p >= d->end || *d->p != ')')
            return bad_header(d, "'shape' is not a tuple");
    }
    return 0;
}

static int npy_dict(const char *text, size_t len, const char *name, npy_header *h,
                    seqrt_error *err)
{
    dict_parser d = {.p = text, .end = text + len, .name = name, .err = err};
    int have_descr = 0, have_order = 0, have_shape = 0;
    char descr[32];
    skip_blanks(&d);
    if (d.p >= d.end || *d.p != '{')
        return bad_header(&d, "it does not start with '{'");
    d.p++;
    for (;;) {
        char key[32];
        skip_blanks(&d);
        if (d.p < d.end && *d.p == '}')
            break;
        if (dict_string(&d, key, sizeof key) < 0)
            return -1;
        skip_blanks(&d);
        if (d.p >= d.end || *d.p != ':')
            return bad_header(&d, "expected ':' after a key");
        d.p++;
        skip_blanks(&d);
        if (strcmp(key, "descr") == 0) {
            if (d.p < d.end && *d.p == '[')
                return seqrt_fail(err, "%s: a structured array (a dtype with named fields) "
                                  "cannot be read: save one array of numbers per key",
                                  name);
            if (dict_string(&d, descr, sizeof descr) < 0)
                return -1;
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if ((size_t)(d.end - d.p) >= 4 && memcmp(d.p, "True", 4) == 0) {
                return seqrt_fail(err, "%s: the array is in Fortran order (column-major); "
                                  "save it in C order (np.ascontiguousarray(a))", name);
            } else if ((size_t)(d.end - d.p) >= 5 && memcmp(d.p, "False", 5) == 0) {
                d.p += 5;
            } else {
                return bad_header(&d, "'fortran_order' is neither True nor False");
            }
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (dict_shape(&d, h) < 0)
                return -1;
            have_shape = 1;
        } else {
            return bad_header(&d, "an unknown key (numpy writes 'descr', 'fortran_order' "
                              "and 'shape')");
        }
        skip_blanks(&d);
        if (d.p < d.end && *d.p == ',')
            d.p++;
        else if (d.p >= d.end || *d.p != '}')
            return bad_header(&d, "expected ',' or '}'");
    }
    if (!have_descr || !have_order || !have_shape)
        return bad_header(&d, !have_descr ? "no 'descr'"
                              : !have_order ? "no 'fortran_order'" : "no 'shape'");
    if (dict_descr(&d, descr, h) < 0)
        return -1;
    size_t count = 1, each = data_dtype_size(h->type);
    for (int i = 0; i < h->ndims; i++) {
        if (h->dims[i] != 0 && count > SIZE_MAX / each / (size_t)h->dims[i])
            return seqrt_fail(err, "%s: shape too large", name);
        count *= (size_t)h->dims[i];
    }
    h->count = count;
    return 0;
}

/* Reads the magic, version, length and dict of a .npy from s. */
static int npy_read_header(data_src *s, const char *name, npy_header *h, seqrt_error *err)
{
    unsigned char pre[12];
    size_t got;
    if (data_src_read(s, pre, 10, &got, err) < 0)
        return -1;
    if (got == 0)
        return seqrt_fail(err, "%s: empty, expected a .npy array", name);
    if (got < NPY_MAGIC_LEN || memcmp(pre, "\x93NUMPY", NPY_MAGIC_LEN) != 0)
        return seqrt_fail(err, "%s: not a .npy array (no \\x93NUMPY magic string)", name);
    if (got < 10)
        return seqrt_fail(err, "%s: truncated .npy header", name);
    int major = pre[6];
    size_t hlen;
    if (major == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        if (data_src_read(s, pre + 10, 2, &got, err) < 0)
            return -1;
        if (got < 2)
            return seqrt_fail(err, "%s: truncated .npy header", name);
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
    } else {
        return seqrt_fail(err, "%s: .npy format version %d.%d is not supported (1, 2 and 3 "
                          "are)", name, major, pre[7]);
    }
    if (hlen > NPY_MAX_HEADER)
        return seqrt_fail(err, "%s: the .npy header claims %zu bytes, more than %d", name,
                          hlen, NPY_MAX_HEADER);
    char *text = malloc(hlen ? hlen : 1);
    if (!text)
        return seqrt_fail(err, "%s: out of memory", name);
    int rc = -1;
    if (data_src_read(s, text, hlen, &got, err) < 0)
        goto done;
    if (got < hlen) {
        seqrt_fail(err, "%s: truncated .npy header (%zu of %zu bytes)", name, got, hlen);
        goto done;
    }
    rc = npy_dict(text, hlen, name, h, err);
done:
    free(text);
    return rc;
}

/* The header and the values of one .npy from s, within b. */
static int npy_read(data_src *s, const char *name, data_budget *b, seqrt_array *out,
                    seqrt_error *err)
{
    npy_header h;
    memset(&h, 0, sizeof h);
    memset(out, 0, sizeof *out);
    if (npy_read_header(s, name, &h, err) < 0)
        return -1;
    const char *saved = b->path;
    b->path = name;
    data_values v;
    int rc = data_read_values(s, b, h.type, h.big, h.count, 1, &v, err);
    b->path = saved;
    if (rc < 0)
        return -1;
    char shape[160];
    shape_text(h.dims, h.ndims, shape, sizeof shape);
    if (v.got < h.count) {
        seqrt_fail(err, "%s: truncated: shape %s is %zu values of %s, the data holds %zu",
                   name, shape, h.count, data_dtype_name(h.type), v.got);
        goto fail;
    }
    unsigned char extra[1];
    size_t n;
    if (data_src_read(s, extra, 1, &n, err) < 0)
        goto fail;
    if (n) {
        seqrt_fail(err, "%s: trailing data after the %zu values of shape %s", name, h.count,
                   shape);
        goto fail;
    }
    out->ndims = h.ndims;
    memcpy(out->dims, h.dims, sizeof h.dims);
    out->count = h.count;
    out->is_u8 = h.type == DATA_U8;
    out->u8 = v.u8;
    out->f32 = v.f32;
    return 0;
fail:
    free(v.u8);
    free(v.f32);
    data_release(b, v.cap);
    return -1;
}

int seqrt_load_npy_mem(const void *npy, size_t len, const char *name,
                       const seqrt_load_opts *opts, seqrt_array *out, seqrt_error *err)
{
    data_src s;
    data_budget b;
    if (!name)
        name = "<npy>";
    data_budget_init(&b, name, opts);
    data_src_mem(&s, name, npy, len);
    s.gzip = 0; /* a .npy is never gzip: read the bytes as they are */
    int rc = npy_read(&s, name, &b, out, err);
    data_src_close(&s);
    return rc;
}

void seqrt_array_free(seqrt_array *a)
{
    if (!a)
        return;
    free(a->u8);
    free(a->f32);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------ archive */

/* Reads member `member` of za ("x_train.npy"); 1 when it is not there. */
static int npz_member(zip_t *za, size_t archive_len, const char *path, const char *member,
                      data_budget *b, seqrt_array *a, char *name, size_t name_len,
                      seqrt_error *err)
{
    snprintf(name, name_len, "%s:%s", path, member);
    memset(a, 0, sizeof *a);
    zip_int64_t at = zip_name_locate(za, member, 0);
    if (at < 0)
        return 1;
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)at, 0);
    if (!zf)
        return seqrt_fail(err, "%s: cannot read the member: %s", name,
                          zip_error_strerror(zip_get_error(za)));
    data_src s;
    data_src_zip(&s, name, zf);
    /* a stored member's size is bytes of the archive, which are real: the
     * values can be read into one buffer of their size */
    zip_stat_t st;
    if (zip_stat_index(za, (zip_uint64_t)at, 0, &st) == 0 &&
        (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE &&
        (st.valid & ZIP_STAT_SIZE) && st.size <= archive_len)
        s.size_hint = (size_t)st.size;
    int rc = npy_read(&s, name, b, a, err);
    zip_fclose(zf);
    return rc;
}

/* x_<split> and y_<split> of an open archive into *out. */
static int npz_load(zip_t *za, size_t archive_len, const char *path, const char *split,
                    const seqrt_load_opts *opts, seqrt_dataset *out, seqrt_error *err)
{
    char xm[32], ym[32], xname[256], yname[256], shape[160];
    seqrt_array x, y;
    data_budget b;
    memset(&y, 0, sizeof y);
    data_budget_init(&b, path, opts);
    snprintf(xm, sizeof xm, "x_%s.npy", split);
    snprintf(ym, sizeof ym, "y_%s.npy", split);
    int rc = npz_member(za, archive_len, path, xm, &b, &x, xname, sizeof xname, err);
    if (rc != 0)
        return rc; /* 1: no such split */
    rc = -1;
    shape_text(x.dims, x.ndims, shape, sizeof shape);
    if (x.ndims < 1 || x.dims[0] == 0) {
        seqrt_fail(err, "%s: shape %s holds no samples", xname, shape);
        goto fail;
    }
    if (x.dims[0] > (int64_t)UINT32_MAX) {
        seqrt_fail(err, "%s: %" PRId64 " samples, more than %lu", xname, x.dims[0],
                   (unsigned long)UINT32_MAX);
        goto fail;
    }
    int yrc = npz_member(za, archive_len, path, ym, &b, &y, yname, sizeof yname, err);
    if (yrc < 0)
        goto fail;
    if (yrc == 0) {
        shape_text(y.dims, y.ndims, shape, sizeof shape);
        if (y.ndims < 1 || y.ndims > 2) {
            seqrt_fail(err, "%s: shape %s: targets are (N,) class numbers or values, or "
                       "(N, K) rows", yname, shape);
            goto fail;
        }
        if (y.dims[0] != x.dims[0]) {
            seqrt_fail(err, "%s: %" PRId64 " samples, but %s has %" PRId64 ": the counts "
                       "must agree", yname, y.dims[0], xname, x.dims[0]);
            goto fail;
        }
        if (y.ndims == 2 && (y.dims[1] < 1 || y.dims[1] > INT32_MAX)) {
            seqrt_fail(err, "%s: shape %s: each sample needs 1 to %d targets", yname, shape,
                       INT32_MAX);
            goto fail;
        }
        if (y.is_u8) {
            if (data_bytes_to_targets(&b, y.u8, y.count, &out->targets, err) < 0) {
                y.u8 = NULL;
                goto fail;
            }
            y.u8 = NULL;
        } else {
            out->targets = y.f32;
            y.f32 = NULL;
        }
        out->y_width = y.ndims == 2 ? (int)y.dims[1] : 1;
        snprintf(out->labels_source, sizeof out->labels_source, "%s", yname);
    }
    out->count = (size_t)x.dims[0];
    out->ndims = x.ndims == 1 ? 1 : x.ndims - 1;
    out->sample_size = 1;
    for (int i = 0; i < out->ndims; i++) {
        out->dims[i] = x.ndims == 1 ? 1 : x.dims[i + 1];
        out->sample_size *= (size_t)out->dims[i];
    }
    data_set_inputs(out, x.is_u8 ? x.u8 : NULL, x.f32);
    snprintf(out->source, sizeof out->source, "%s", xname);
    return 0;
fail:
    seqrt_array_free(&x);
    seqrt_array_free(&y);
    seqrt_dataset_free(out);
    return -1;
}

static int zip_open_error(const char *path, int code, seqrt_error *err)
{
    if (code == ZIP_ER_NOZIP)
        return seqrt_fail(err, "%s: not a zip archive (an .npz file is NumPy's zip of .npy "
                          "arrays, written by np.savez)", path);
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    seqrt_fail(err, "%s: cannot open as .npz: %s", path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return -1;
}

int seqrt_load_npz(const char *path, const char *split, const seqrt_load_opts *opts,
                   seqrt_dataset *out, seqrt_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0)
        return seqrt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return seqrt_fail(err, "%s: cannot open: %s", path, strerror(EISDIR));
    int code = 0;
    errno = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &code);
    if (!za && code == ZIP_ER_OPEN && errno)
        return seqrt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (!za)
        return zip_open_error(path, code, err);
    int rc = npz_load(za, (size_t)st.st_size, path, split, opts, out, err);
    zip_discard(za);
    return rc;
}

int seqrt_load_npz_mem(const void *bytes, size_t len, const char *split,
                       const seqrt_load_opts *opts, seqrt_dataset *out, seqrt_error *err)
{
    const char *path = "<npz>";
    memset(out, 0, sizeof *out);
    if (len == 0) /* libzip would open it as an empty archive; a file of 0 bytes is not */
        return zip_open_error(path, ZIP_ER_NOZIP, err);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(len ? bytes : "", len, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        return seqrt_fail(err, "%s: out of memory", path);
    }
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!za) {
        int code = zip_error_code_zip(&ze);
        zip_source_free(src);
        zip_error_fini(&ze);
        return zip_open_error(path, code, err);
    }
    zip_error_fini(&ze);
    int rc = npz_load(za, len, path, split, opts, out, err);
    zip_discard(za);
    return rc;
}
