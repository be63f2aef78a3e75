/*
 * checkpoint.c: the trainer's checkpoint file (--save, --resume, --load).
 *
 * Format version 1. Every integer is little-endian, every float is an
 * IEEE-754 binary32 stored little-endian. There is no padding.
 *
 *   size       field
 *   8          magic "SEQCKPT\0"
 *   4          u32 format version (1)
 *   4 + L      u32 L, then the model name (L bytes, no NUL)
 *   4 + S      u32 S, then the model file it was generated from (S bytes)
 *   8          u64 structure hash (seqrt_model.structure_hash)
 *   8          u64 param_count      P (trainable first, then moving stats)
 *   8          u64 trainable_count  T
 *   8          u64 opt_state_count  O
 *   8          i64 optimizer steps taken (Adam's t)
 *   4          u32 epochs completed
 *   4          u32 epochs the saving run was asked for
 *   8          u64 seed of the run
 *   32         4 x u64 generator state (xoshiro256** s[0..3]) after the
 *              completed epochs
 *   4          u32 batch size
 *   4          f32 learning rate
 *   4 * P      f32 params
 *   4 * O      f32 optimizer state
 *   4          u32 CRC-32 (zlib's crc32, IEEE polynomial) of every byte
 *              before it
 *
 * The file is written to "FILE.tmp.<pid>", flushed, fsync'ed, closed and
 * renamed over FILE. A reader checks magic, version, exact size and
 * checksum before it trusts any field, then that the file belongs to the
 * model (name, structure hash, counts); only then are buffers overwritten.
 */
#define _POSIX_C_SOURCE 200809L
#include "loop/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const unsigned char ckpt_magic[8] = {'S', 'E', 'Q', 'C', 'K', 'P', 'T', '\0'};

/* Longest name or source string a reader accepts: guards against reading
 * a garbage length as a huge allocation. */
#define CKPT_MAX_STRING 4096u

/* ------------------------------------------------------------- encoding */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A writer that keeps the running CRC and remembers the first error. */
typedef struct ckpt_writer {
    FILE    *f;
    uLong    crc;
    int      failed;
} ckpt_writer;

static void w_bytes(ckpt_writer *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        uInt chunk = n > 65536 ? 65536u : (uInt)n;
        w->crc = crc32(w->crc, b, chunk);
        if (fwrite(b, 1, chunk, w->f) != chunk)
            w->failed = 1;
        b += chunk;
        n -= chunk;
    }
}

static void w_u32(ckpt_writer *w, uint32_t v)
{
    unsigned char b[4];
    put_u32(b, v);
    w_bytes(w, b, sizeof b);
}

static void w_u64(ckpt_writer *w, uint64_t v)
{
    unsigned char b[8];
    put_u64(b, v);
    w_bytes(w, b, sizeof b);
}

static void w_string(ckpt_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > CKPT_MAX_STRING)
        n = CKPT_MAX_STRING;
    w_u32(w, (uint32_t)n);
    w_bytes(w, s ? s : "", n);
}

static void w_floats(ckpt_writer *w, const float *x, size_t n)
{
    unsigned char buf[4096];
    while (n > 0) {
        size_t chunk = n > sizeof buf / 4 ? sizeof buf / 4 : n;
        for (size_t i = 0; i < chunk; i++)
            put_u32(buf + 4 * i, float_bits(x[i]));
        w_bytes(w, buf, 4 * chunk);
        x += chunk;
        n -= chunk;
    }
}

/* ----------------------------------------------------------------- save */

int seqrt_checkpoint_save(const char *path, const seqrt_model *model,
                          const float *params, const float *opt_state,
                          const seqrt_checkpoint_meta *meta, seqrt_error *err)
{
    char tmp[4096];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp)
        return seqrt_fail(err, "%s: path too long", path);

    ckpt_writer w = {fopen(tmp, "wb"), crc32(0L, Z_NULL, 0), 0};
    if (!w.f)
        return seqrt_fail(err, "%s: cannot create: %s", tmp, strerror(errno));

    w_bytes(&w, ckpt_magic, sizeof ckpt_magic);
    w_u32(&w, SEQRT_CHECKPOINT_VERSION);
    w_string(&w, model->name);
    w_string(&w, model->source);
    w_u64(&w, model->structure_hash);
    w_u64(&w, (uint64_t)model->param_count);
    w_u64(&w, (uint64_t)model->trainable_count);
    w_u64(&w, (uint64_t)model->opt_state_count);
    w_u64(&w, (uint64_t)meta->step);
    w_u32(&w, meta->epoch);
    w_u32(&w, meta->epochs);
    w_u64(&w, meta->seed);
    for (int i = 0; i < 4; i++)
        w_u64(&w, meta->rng.s[i]);
    w_u32(&w, meta->batch);
    w_u32(&w, float_bits(meta->lr));
    w_floats(&w, params, model->param_count);
    w_floats(&w, opt_state, model->opt_state_count);

    unsigned char crc[4];
    put_u32(crc, (uint32_t)w.crc);
    if (fwrite(crc, 1, sizeof crc, w.f) != sizeof crc)
        w.failed = 1;

    int saved_errno = errno;
    if (!w.failed && fflush(w.f) != 0) {
        w.failed = 1;
        saved_errno = errno;
    }
    if (!w.failed && fsync(fileno(w.f)) != 0) {
        w.failed = 1;
        saved_errno = errno;
    }
    if (fclose(w.f) != 0 && !w.failed) {
        w.failed = 1;
        saved_errno = errno;
    }
    if (w.failed) {
        remove(tmp);
        return seqrt_fail(err, "%s: write failed: %s", tmp, strerror(saved_errno));
    }
    if (rename(tmp, path) != 0) {
        saved_errno = errno;
        remove(tmp);
        return seqrt_fail(err, "%s: cannot rename %s over it: %s", path, tmp,
                          strerror(saved_errno));
    }
    return 0;
}

/* ----------------------------------------------------------------- load */

/* The whole file in memory; checkpoints are a few times the weights. */
static int read_whole(const char *path, unsigned char **out, size_t *size,
                      seqrt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return seqrt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return seqrt_fail(err, "%s: out of memory", path);
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return seqrt_fail(err, "%s: read error", path);
    }
    *out = buf;
    *size = n;
    return 0;
}

/* Cursor over the file's bytes; every read is bounds-checked by the caller
 * having compared the size first. */
typedef struct ckpt_reader {
    const unsigned char *p;
    size_t               left;
} ckpt_reader;

static int r_take(ckpt_reader *r, size_t n, const unsigned char **out)
{
    if (r->left < n)
        return -1;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

static int same_string(const char *s, const unsigned char *p, uint32_t n)
{
    size_t len = s ? strlen(s) : 0;
    if (len > CKPT_MAX_STRING)
        len = CKPT_MAX_STRING;
    return len == n && memcmp(s ? s : "", p, n) == 0;
}

static void read_floats(float *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = bits_float(get_u32(src + 4 * i));
}

static int check_and_copy(const char *path, const unsigned char *buf, size_t size,
                          const seqrt_model *model, float *params, float *opt_state,
                          seqrt_checkpoint_meta *meta, seqrt_error *err)
{
    ckpt_reader r = {buf, size};
    const unsigned char *p;

    if (r_take(&r, 8, &p) || memcmp(p, ckpt_magic, 8) != 0)
        return seqrt_fail(err, "%s: not a seqc checkpoint (bad magic number)", path);
    if (r_take(&r, 4, &p))
        return seqrt_fail(err, "%s: truncated checkpoint (%zu bytes)", path, size);
    uint32_t version = get_u32(p);
    if (version != SEQRT_CHECKPOINT_VERSION)
        return seqrt_fail(err, "%s: checkpoint format version %u, this trainer reads version %u",
                          path, version, SEQRT_CHECKPOINT_VERSION);

    /* Sizes first: the two strings, then the counts, give the exact size. */
    const unsigned char *name, *source;
    uint32_t name_len, source_len;
    if (r_take(&r, 4, &p))
        return seqrt_fail(err, "%s: truncated checkpoint (%zu bytes)", path, size);
    name_len = get_u32(p);
    if (name_len > CKPT_MAX_STRING || r_take(&r, name_len, &name) || r_take(&r, 4, &p))
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (bad model name length)", path);
    source_len = get_u32(p);
    if (source_len > CKPT_MAX_STRING || r_take(&r, source_len, &source))
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (bad model file length)", path);

    const unsigned char *fixed;
    /* hash, 3 counts, step, epoch, epochs, seed, rng, batch, lr */
    const size_t fixed_rest = 8 + 8 * 3 + 8 + 4 + 4 + 8 + 32 + 4 + 4;
    if (r_take(&r, fixed_rest, &fixed))
        return seqrt_fail(err, "%s: truncated checkpoint (%zu bytes, header incomplete)", path, size);
    uint64_t hash = get_u64(fixed);
    uint64_t pcount = get_u64(fixed + 8);
    uint64_t tcount = get_u64(fixed + 16);
    uint64_t ocount = get_u64(fixed + 24);

    /* Compare sizes in a way that cannot overflow: each count must fit
     * in what is left of the file on its own. */
    size_t left = r.left;
    size_t room = left < 4 ? 0 : (left - 4) / 4; /* floats the rest can hold */
    if (left < 4 || pcount > room || ocount > room - pcount ||
        left != 4 * (pcount + ocount) + 4) {
        unsigned long long expected = (unsigned long long)(size - left) +
                                      4ull * (unsigned long long)(pcount + ocount) + 4ull;
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (%zu bytes, expected %llu)",
                          path, size, expected);
    }

    uint32_t stored_crc = get_u32(buf + size - 4);
    uint32_t crc = 0;
    {
        uLong c = crc32(0L, Z_NULL, 0);
        size_t n = size - 4;
        const unsigned char *q = buf;
        while (n > 0) {
            uInt chunk = n > 65536 ? 65536u : (uInt)n;
            c = crc32(c, q, chunk);
            q += chunk;
            n -= chunk;
        }
        crc = (uint32_t)c;
    }
    if (crc != stored_crc)
        return seqrt_fail(err, "%s: damaged checkpoint (checksum 0x%08x, expected 0x%08x)",
                          path, crc, stored_crc);

    /* The file is intact: does it belong to this model? */
    if (!same_string(model->name, name, name_len))
        return seqrt_fail(err, "%s: checkpoint is for model '%.*s' (%.*s), not for this "
                          "trainer's model '%s' (%s)", path, (int)name_len, (const char *)name,
                          (int)source_len, (const char *)source, model->name,
                          model->source ? model->source : "?");
    if (hash != model->structure_hash)
        return seqrt_fail(err, "%s: checkpoint is for a different structure of model '%s' "
                          "(hash %016llx, this trainer %016llx): the model file changed "
                          "since it was saved", path, model->name, (unsigned long long)hash,
                          (unsigned long long)model->structure_hash);
    if (pcount != model->param_count || tcount != model->trainable_count ||
        ocount != model->opt_state_count)
        return seqrt_fail(err, "%s: checkpoint has %llu parameters (%llu trainable) and %llu "
                          "optimizer values, this model %zu (%zu) and %zu", path,
                          (unsigned long long)pcount, (unsigned long long)tcount,
                          (unsigned long long)ocount, model->param_count,
                          model->trainable_count, model->opt_state_count);

    if (meta) {
        meta->step = (int64_t)get_u64(fixed + 32);
        meta->epoch = get_u32(fixed + 40);
        meta->epochs = get_u32(fixed + 44);
        meta->seed = get_u64(fixed + 48);
        for (int i = 0; i < 4; i++)
            meta->rng.s[i] = get_u64(fixed + 56 + 8 * i);
        meta->batch = get_u32(fixed + 88);
        meta->lr = bits_float(get_u32(fixed + 92));
    }
    read_floats(params, r.p, pcount);
    if (opt_state)
        read_floats(opt_state, r.p + 4 * pcount, ocount);
    return 0;
}

int seqrt_checkpoint_load(const char *path, const seqrt_model *model,
                          float *params, float *opt_state,
                          seqrt_checkpoint_meta *meta, seqrt_error *err)
{
    unsigned char *buf = NULL;
    size_t size = 0;
    if (read_whole(path, &buf, &size, err))
        return -1;
    int rc = check_and_copy(path, buf, size, model, params, opt_state, meta, err);
    free(buf);
    return rc;
}
