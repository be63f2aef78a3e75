/*
 * reader.c: zlib reading and the bounded, growing buffers of the data
 * loaders (see reader.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "data/reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    if (want > room)
        want = room;
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

/* ---------------------------------------------------------- gz files */

gzFile data_gz_open(const char *path, seqrt_error *err)
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

int data_gz_read(gzFile f, const char *path, void *buf, size_t len, size_t *got,
                 seqrt_error *err)
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

int data_gz_cut_short(gzFile f)
{
    int code;
    gzerror(f, &code);
    return code == Z_BUF_ERROR;
}
