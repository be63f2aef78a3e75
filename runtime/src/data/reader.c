/*
 * reader.c: what the data loaders share (see reader.h): the memory
 * budget and the buffers that grow within it, and one way to read bytes
 * from a file (zlib's gz* API) or from memory (inflate).
 */
#define _POSIX_C_SOURCE 200809L

#include "data/reader.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    GZ_BUFFER = 1 << 18,   /* zlib's input buffer: fewer, larger reads */
    GROW_FIRST = 1 << 16   /* a buffer's first size, unless less is needed */
};

/* Larger requests are split: gzread takes an unsigned and returns an int. */
#define GZ_MAX_CHUNK ((size_t)1 << 30)

/* ------------------------------------------------------------ budget */

void data_budget_init(data_budget *b, const char *path, const seqrt_load_opts *opts)
{
    memset(b, 0, sizeof *b);
    b->path = path;
    b->by_flag = opts && opts->max_bytes;
    b->limit = b->by_flag ? opts->max_bytes : seqrt_default_max_data_bytes();
    b->before = opts ? opts->used_bytes : 0;
}

/* Bytes this load may still add to what it holds. */
static size_t budget_room(const data_budget *b)
{
    size_t taken = b->before + b->held;
    if (taken < b->before || taken >= b->limit) /* overflow or full */
        return 0;
    return b->limit - taken;
}

int data_over_limit(const data_budget *b, seqrt_error *err)
{
    char before[96] = "";
    if (b->before)
        snprintf(before, sizeof before, ", %zu of them held by the data loaded before",
                 b->before);
    return seqrt_fail(err, "%s: the data does not fit in the limit of %zu bytes%s "
                      "(%s); raise it with --max-data-bytes N", b->path, b->limit,
                      before, b->by_flag ? "as given" : "the default: half of the "
                      "physical memory");
}

int data_grow(data_budget *b, void **buf, size_t *cap, size_t need, size_t most,
              seqrt_error *err)
{
    if (need <= *cap)
        return 0;
    size_t room = *cap + budget_room(b); /* the most this buffer may reach */
    if (need > room)
        return data_over_limit(b, err);
    size_t want = *cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2;
    if (want < GROW_FIRST)
        want = GROW_FIRST;
    if (want > most)
        want = most;
    if (want > room) /* near the limit: leave room for the load's other buffers */
        want = need > room / 2 ? need : room / 2;
    if (want < need)
        want = need;
    void *grown = realloc(*buf, want);
    if (!grown)
        return seqrt_fail(err, "%s: out of memory after %zu bytes of data", b->path,
                          b->before + b->held);
    b->held += want - *cap;
    *buf = grown;
    *cap = want;
    return 0;
}

int data_fits(const data_budget *b, size_t bytes, seqrt_error *err)
{
    return bytes > budget_room(b) ? data_over_limit(b, err) : 0;
}

void data_release(data_budget *b, size_t cap)
{
    b->held -= cap < b->held ? cap : b->held;
}

/* ------------------------------------------------------------ files */

int data_src_open(data_src *s, const char *path, seqrt_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    errno = 0;
    s->f = gzopen(path, "rb");
    if (!s->f) {
        const char *why = errno ? strerror(errno) : "out of memory";
        return seqrt_fail(err, "%s: cannot open: %s", path, why);
    }
    gzbuffer(s->f, GZ_BUFFER);
    return 0;
}

static int file_read(data_src *s, unsigned char *p, size_t len, size_t *got,
                     seqrt_error *err)
{
    while (*got < len) {
        size_t want = len - *got;
        if (want > GZ_MAX_CHUNK)
            want = GZ_MAX_CHUNK;
        int n = gzread(s->f, p + *got, (unsigned)want);
        if (n < 0) {
            int code;
            const char *msg = gzerror(s->f, &code);
            if (code == Z_ERRNO)
                return seqrt_fail(err, "%s: read error: %s", s->path, strerror(errno));
            /* zlib's message starts with the path: keep one copy */
            size_t plen = strlen(s->path);
            if (strncmp(msg, s->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
                msg += plen + 2;
            return seqrt_fail(err, "%s: corrupt gzip data: %s", s->path, msg);
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return 0;
}

/* ----------------------------------------------------------- memory */

void data_src_mem(data_src *s, const char *name, const void *bytes, size_t len)
{
    memset(s, 0, sizeof *s);
    s->path = name;
    s->mem = bytes;
    s->mem_len = len;
    s->gzip = len >= 2 && s->mem[0] == 0x1f && s->mem[1] == 0x8b;
}

/* Inflates gzip members from memory until len bytes or the end. */
static int mem_inflate(data_src *s, unsigned char *p, size_t len, size_t *got,
                       seqrt_error *err)
{
    while (*got < len && !s->done) {
        if (!s->z_ready) { /* a member starts here, or the data ends */
            size_t left = s->mem_len - s->mem_pos;
            if (left < 2 || s->mem[s->mem_pos] != 0x1f || s->mem[s->mem_pos + 1] != 0x8b) {
                s->done = 1;
                break;
            }
            memset(&s->z, 0, sizeof s->z);
            if (inflateInit2(&s->z, 15 + 16) != Z_OK)
                return seqrt_fail(err, "%s: out of memory", s->path);
            s->z_ready = 1;
        }
        size_t in = s->mem_len - s->mem_pos, out = len - *got;
        s->z.next_in = (unsigned char *)(uintptr_t)(s->mem + s->mem_pos);
        s->z.avail_in = in > UINT_MAX ? UINT_MAX : (unsigned)in;
        s->z.next_out = p + *got;
        s->z.avail_out = out > UINT_MAX ? UINT_MAX : (unsigned)out;
        unsigned in_before = s->z.avail_in, out_before = s->z.avail_out;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        s->mem_pos += in_before - s->z.avail_in;
        *got += out_before - s->z.avail_out;
        if (rc == Z_STREAM_END) {
            inflateEnd(&s->z);
            s->z_ready = 0;
        } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
            return seqrt_fail(err, "%s: corrupt gzip data: %s", s->path,
                              s->z.msg ? s->z.msg : "invalid data");
        } else if (rc == Z_MEM_ERROR) {
            return seqrt_fail(err, "%s: out of memory", s->path);
        } else if (rc == Z_BUF_ERROR || s->mem_pos == s->mem_len) {
            if (s->z.avail_out) { /* input used up inside a member */
                s->cut = 1;
                s->done = 1;
            }
        }
    }
    return 0;
}

/* -------------------------------------------------------------- zip */

void data_src_zip(data_src *s, const char *name, zip_file_t *zf)
{
    memset(s, 0, sizeof *s);
    s->path = name;
    s->zf = zf;
}

static int zip_read(data_src *s, unsigned char *p, size_t len, size_t *got,
                    seqrt_error *err)
{
    while (*got < len && !s->done) {
        size_t want = len - *got;
        if (want > GZ_MAX_CHUNK)
            want = GZ_MAX_CHUNK;
        zip_int64_t n = zip_fread(s->zf, p + *got, want);
        if (n < 0)
            return seqrt_fail(err, "%s: corrupt zip member: %s", s->path,
                              zip_error_strerror(zip_file_get_error(s->zf)));
        if (n == 0)
            s->done = 1;
        *got += (size_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------- both */

int data_src_read(data_src *s, void *buf, size_t len, size_t *got, seqrt_error *err)
{
    unsigned char *p = buf;
    *got = 0;
    if (s->f)
        return file_read(s, p, len, got, err);
    if (s->zf)
        return zip_read(s, p, len, got, err);
    if (s->gzip)
        return mem_inflate(s, p, len, got, err);
    size_t n = s->mem_len - s->mem_pos;
    if (n > len)
        n = len;
    if (n)
        memcpy(p, s->mem + s->mem_pos, n);
    s->mem_pos += n;
    *got = n;
    return 0;
}

int data_src_cut_short(data_src *s)
{
    if (s->zf)
        return 0;
    if (!s->f)
        return s->cut;
    int code;
    gzerror(s->f, &code);
    return code == Z_BUF_ERROR;
}

int data_src_plain_size(data_src *s, size_t *size)
{
    if (s->zf)
        return 0; /* a member's size in the archive is a claim */
    if (!s->f) {
        *size = s->mem_len;
        return !s->gzip;
    }
    struct stat st;
    if (!gzdirect(s->f) || stat(s->path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    *size = (size_t)st.st_size;
    return 1;
}

void data_src_close(data_src *s)
{
    if (s->f)
        gzclose(s->f);
    if (s->z_ready)
        inflateEnd(&s->z);
    s->f = NULL;
    s->z_ready = 0;
}

int data_bytes_to_targets(data_budget *b, uint8_t *bytes, size_t count, float **out,
                          seqrt_error *err)
{
    /* in place, from the end: the budget sees the bytes grow to floats,
     * never both at once */
    void *buf = bytes;
    size_t cap = count;
    *out = NULL;
    if (data_grow(b, &buf, &cap, (count ? count : 1) * sizeof(float),
                  (count ? count : 1) * sizeof(float), err) < 0) {
        free(buf);
        return -1;
    }
    const uint8_t *src = buf;
    float *f = buf;
    for (size_t i = count; i-- > 0;)
        f[i] = (float)src[i];
    *out = f;
    return 0;
}

void data_set_inputs(seqrt_dataset *out, uint8_t *u8, float *f32)
{
    if (u8) {
        out->xtype = SEQRT_X_U8;
        out->pixels = u8;
        out->scale = 1.0f / 255.0f;
    } else {
        out->xtype = SEQRT_X_F32;
        out->values = f32;
        out->scale = 1.0f;
    }
}
