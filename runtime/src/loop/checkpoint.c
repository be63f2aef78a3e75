/*
 * checkpoint.c: the trainer's checkpoint file (--save, --resume, --load).
 *
 * Format version 4. Every integer is little-endian, every float is an
 * IEEE-754 binary32 stored little-endian. There is no padding.
 *
 *   size       field
 *   8          magic "SEQCKPT\0"
 *   4          u32 format version (4; version 3 lacked the training
 *              recipe's state, version 2 the dropout generator, version
 *              1's structure hash also counted the model file's comments:
 *              all are refused)
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
 *              completed epochs: the stream of weights and shuffles
 *   32         4 x u64 dropout generator state, the same way
 *   4          u32 batch size
 *   4          f32 base learning rate
 *   4          f32 a plateau schedule's current rate (0: no plateau)
 *   4          u32 its epochs without improvement
 *   8          f64 its best monitored value (+-inf: none yet)
 *   4          u32 early stopping's epochs without improvement
 *   4          u32 the best epoch so far (0: none or not tracked)
 *   8          f64 its monitored value
 *   4          u32 the epoch early stopping stopped training at (0: not)
 *   4          u32 flags: 1 the best epoch's weights follow the optimizer
 *              state; 2 evaluate and predict load those (save_best,
 *              restore_best)
 *   4 * P      f32 params (the last epoch's: what --resume continues)
 *   4 * O      f32 optimizer state
 *   4 * P      f32 the best epoch's params (only with flag 1)
 *   4          u32 N, the parameter block table's entries (0: the model
 *              names no blocks), then N times:
 *     4 + A      u32 A, then the layer name (A bytes: "dense_1")
 *     4 + W      u32 W, then what the block is (W bytes: "kernel", "gamma",
 *                "moving_mean", ...)
 *     8          u64 its first float within params
 *     8          u64 its floats (at least 1)
 *     4          u32 1 trainable (within the first T), 0 not
 *              The blocks cover params[0..P) exactly, no (layer, what)
 *              twice; --init-from maps them by (layer, what).
 *   4          u32 CRC-32 (zlib's crc32, IEEE polynomial) of every byte
 *              before it
 *
 * The file is written through seqrt_outfile (an atomic replace: the old
 * checkpoint or the new one, never half of one), and the saving trainer
 * holds an flock on it so that a second trainer cannot save to the same
 * path. A reader reads at most the size a checkpoint of its model can
 * have, checks magic, version, exact size and checksum before it trusts
 * any field, then that the file belongs to the model (name, structure
 * hash, counts), then that every field means something a trainer could
 * have saved (epochs, steps, generator, batch, learning rate, finite
 * values); only then are buffers overwritten.
 */
#define _POSIX_C_SOURCE 200809L
#include "loop/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const unsigned char ckpt_magic[8] = {'S', 'E', 'Q', 'C', 'K', 'P', 'T', '\0'};

/* Longest name or source string a reader accepts: guards against reading
 * a garbage length as a huge allocation. */
#define CKPT_MAX_STRING 4096u

/* Bytes from the step count to the flags. */
#define CKPT_FIXED 136u

/* Bytes of a block table entry besides its two strings. */
#define CKPT_BLOCK_FIXED 28u

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

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* A writer that keeps the running CRC; errors are remembered by the
 * seqrt_outfile and reported at commit. */
typedef struct ckpt_writer {
    seqrt_outfile *out;
    uLong          crc;
} ckpt_writer;

static void w_bytes(ckpt_writer *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        uInt chunk = n > 65536 ? 65536u : (uInt)n;
        w->crc = crc32(w->crc, b, chunk);
        seqrt_outfile_write(w->out, b, chunk);
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

/* ----------------------------------------------------------------- lock */

void seqrt_checkpoint_lock_init(seqrt_checkpoint_lock *lk)
{
    lk->fd = -1;
}

void seqrt_checkpoint_lock_release(seqrt_checkpoint_lock *lk)
{
    if (lk->fd >= 0)
        close(lk->fd);
    lk->fd = -1;
}

static int same_inode(int fd, const struct stat *st)
{
    struct stat held;
    return fstat(fd, &held) == 0 && held.st_dev == st->st_dev && held.st_ino == st->st_ino;
}

/*
 * The lock is on the file now at path (symlinks followed), not on a
 * separate lock file: saving renames a new file over path, and the saver
 * locks that new file before the rename (seqrt_outfile_commit), so the
 * checkpoint at path is locked for as long as its trainer runs. A file
 * that another process renamed over path since we locked ours is a second
 * trainer: its lock refuses us.
 */
int seqrt_checkpoint_lock_acquire(seqrt_checkpoint_lock *lk, const char *path, seqrt_error *err)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return 0; /* nothing saved yet, or a device: nothing to share */
        if (lk->fd >= 0 && same_inode(lk->fd, &st))
            return 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return seqrt_fail(err, "%s: cannot lock the checkpoint: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return seqrt_fail(err, "%s: another trainer is saving to this checkpoint "
                                  "(it holds a lock on it); give each run its own --save",
                                  path);
            return seqrt_fail(err, "%s: cannot lock the checkpoint: %s", path, strerror(e));
        }
        /* locked: still the file at path? (a saver may have renamed a new one over it) */
        if (stat(path, &st) == 0 && same_inode(fd, &st)) {
            seqrt_checkpoint_lock_release(lk);
            lk->fd = fd;
            return 0;
        }
        close(fd);
    }
    return seqrt_fail(err, "%s: the checkpoint keeps changing under this trainer: is another "
                      "trainer saving to it?", path);
}

/* ----------------------------------------------------------------- save */

int seqrt_checkpoint_save(const char *path, const seqrt_model *model,
                          const float *params, const float *opt_state,
                          const seqrt_checkpoint_meta *meta, seqrt_checkpoint_lock *lk,
                          seqrt_error *err)
{
    if (lk && seqrt_checkpoint_lock_acquire(lk, path, err))
        return -1;
    seqrt_outfile out;
    if (seqrt_outfile_open(&out, path, err))
        return -1;
    ckpt_writer w = {&out, crc32(0L, Z_NULL, 0)};

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
    for (int i = 0; i < 4; i++)
        w_u64(&w, meta->dropout_rng.s[i]);
    w_u32(&w, meta->batch);
    w_u32(&w, float_bits(meta->lr));
    w_u32(&w, float_bits(meta->plateau_lr));
    w_u32(&w, meta->plateau_wait);
    w_u64(&w, double_bits(meta->plateau_best));
    w_u32(&w, meta->es_wait);
    w_u32(&w, meta->best_epoch);
    w_u64(&w, double_bits(meta->best));
    w_u32(&w, meta->stopped);
    uint32_t flags = meta->flags & (meta->best_params ? 3u : 2u);
    w_u32(&w, flags);
    w_floats(&w, params, model->param_count);
    w_floats(&w, opt_state, model->opt_state_count);
    if (flags & SEQRT_CKPT_HAS_BEST)
        w_floats(&w, meta->best_params, model->param_count);
    int nblocks = model->blocks ? model->block_count : 0;
    w_u32(&w, (uint32_t)nblocks);
    for (int b = 0; b < nblocks; b++) {
        const seqrt_param_block *blk = &model->blocks[b];
        w_string(&w, blk->layer);
        w_string(&w, blk->what);
        w_u64(&w, (uint64_t)blk->offset);
        w_u64(&w, (uint64_t)blk->count);
        w_u32(&w, blk->offset < model->trainable_count ? 1u : 0u);
    }

    unsigned char crc[4];
    put_u32(crc, (uint32_t)w.crc);
    seqrt_outfile_write(&out, crc, sizeof crc);
    if (seqrt_outfile_commit(&out, lk != NULL, err))
        return -1;
    if (lk && out.fd_lock >= 0) {
        seqrt_checkpoint_lock_release(lk);
        lk->fd = out.fd_lock;
    }
    return 0;
}

/* ------------------------------------------------------ parameter values */

size_t seqrt_first_nonfinite(const float *x, size_t n)
{
    /* Blocks without an early exit, so the compiler vectorizes the test;
     * the exact index is searched only in the block that failed. */
    enum { BLOCK = 1024 };
    for (size_t start = 0; start < n; start += BLOCK) {
        size_t end = n - start < BLOCK ? n : start + BLOCK;
        int bad = 0;
        for (size_t i = start; i < end; i++)
            bad |= !(fabsf(x[i]) <= FLT_MAX);
        if (bad) {
            for (size_t i = start; i < end; i++)
                if (!isfinite(x[i]))
                    return i;
        }
    }
    return n;
}

const seqrt_param_block *seqrt_param_block_of(const seqrt_model *m, size_t offset)
{
    for (int i = 0; m->blocks && i < m->block_count; i++) {
        const seqrt_param_block *b = &m->blocks[i];
        if (offset >= b->offset && offset - b->offset < b->count)
            return b;
    }
    return NULL;
}

void seqrt_describe_param(const seqrt_model *m, size_t offset, char *buf, size_t size)
{
    const seqrt_param_block *b = seqrt_param_block_of(m, offset);
    if (b)
        snprintf(buf, size, "layer '%s' (%s, line %d), parameter offset %zu of %zu",
                 b->layer, b->what, b->line, offset, m->param_count);
    else
        snprintf(buf, size, "parameter offset %zu of %zu", offset, m->param_count);
}

/* ----------------------------------------------------------------- load */

/* Bytes of a checkpoint of model with name and source of the longest
 * length a reader accepts: no checkpoint this trainer can read is longer.
 * 0 when the counts are too large to express. */
static size_t capped_len(const char *str)
{
    size_t n = str ? strlen(str) : 0;
    return n > CKPT_MAX_STRING ? CKPT_MAX_STRING : n;
}

/* Bytes of the model's parameter block table as the writer writes it. */
static uint64_t table_size(const seqrt_model *model)
{
    uint64_t n = 4;
    for (int b = 0; model->blocks && b < model->block_count; b++)
        n += CKPT_BLOCK_FIXED + capped_len(model->blocks[b].layer) +
             capped_len(model->blocks[b].what);
    return n;
}

static uint64_t max_checkpoint_size(const seqrt_model *model, uint64_t table)
{
    uint64_t floats = 2 * (uint64_t)model->param_count + (uint64_t)model->opt_state_count;
    if (floats < model->param_count || model->param_count > UINT64_MAX / 4 ||
        floats > (UINT64_MAX - 65536) / 4)
        return 0;
    if (table > UINT64_MAX / 4)
        return 0;
    return 8 + 4 + 4 + CKPT_MAX_STRING + 4 + CKPT_MAX_STRING + 32 + CKPT_FIXED + 4 * floats +
           table + 4;
}

/*
 * The file in memory, but never more than cap bytes: a file (or a device
 * such as /dev/zero) longer than any checkpoint of the model is refused
 * after reading at most cap + 1 bytes, with the size known up front for a
 * regular file.
 */
static int read_capped(const char *path, const seqrt_model *model, uint64_t table,
                       unsigned char **out, size_t *size, seqrt_error *err)
{
    uint64_t cap = max_checkpoint_size(model, table);
    if (cap == 0 || cap >= SIZE_MAX)
        return seqrt_fail(err, "%s: this model's checkpoint is too large to read", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return seqrt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        memset(&st, 0, sizeof st);
    } else {
        if (S_ISDIR(st.st_mode)) {
            fclose(f);
            return seqrt_fail(err, "%s: is a directory, not a checkpoint", path);
        }
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > cap) {
            fclose(f);
            return seqrt_fail(err, "%s: %lld bytes, larger than any checkpoint of model "
                              "'%s' (at most %" PRIu64 " bytes): not a checkpoint of this "
                              "model", path, (long long)st.st_size, model->name, cap);
        }
    }
    /* grown by doubling up to want: a device's zeros cost cap + 1 bytes */
    size_t want = (size_t)cap + 1, have = want < (1 << 16) ? want : (1 << 16), n = 0;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size + 1 < have)
        have = (size_t)st.st_size + 1;
    unsigned char *buf = malloc(have);
    for (;;) {
        if (!buf) {
            fclose(f);
            return seqrt_fail(err, "%s: out of memory", path);
        }
        n += fread(buf + n, 1, have - n, f);
        if (n < have || have == want)
            break;
        size_t bigger_size = have > want / 2 ? want : have * 2;
        unsigned char *bigger = realloc(buf, bigger_size);
        if (!bigger)
            free(buf);
        buf = bigger;
        have = bigger_size;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return seqrt_fail(err, "%s: read error", path);
    }
    if (n > cap) {
        free(buf);
        return seqrt_fail(err, "%s: more than %" PRIu64 " bytes, larger than any checkpoint "
                          "of model '%s': not a checkpoint of this model", path, cap,
                          model->name);
    }
    *out = buf;
    *size = n;
    return 0;
}

/* Cursor over the file's bytes; every read is bounds-checked. */
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

static float float_at(const unsigned char *src, size_t i)
{
    return bits_float(get_u32(src + 4 * i));
}

/* An entry of the parameter block table (strings point into the file). */
typedef struct ckpt_block {
    const unsigned char *layer, *what;
    uint32_t             layer_len, what_len;
    uint64_t             offset, count;
    uint32_t             trainable;
} ckpt_block;

/* What the header says, before any of it is trusted. */
typedef struct ckpt_header {
    const unsigned char *name, *source;
    uint32_t             name_len, source_len;
    uint64_t             hash, pcount, tcount, ocount;
    const unsigned char *fixed;  /* step .. lr, CKPT_FIXED bytes */
    const unsigned char *floats; /* params, optimizer state, best params */
    uint32_t             flags;
    ckpt_block          *blocks; /* the parameter block table (malloc'd) */
    uint32_t             nblocks;
} ckpt_header;

/* Magic, version, lengths, exact size, checksum. */
static int check_intact(const char *path, const unsigned char *buf, size_t size,
                        ckpt_header *h, seqrt_error *err)
{
    ckpt_reader r = {buf, size};
    const unsigned char *p;

    if (r_take(&r, 8, &p) || memcmp(p, ckpt_magic, 8) != 0)
        return seqrt_fail(err, "%s: not a seqc checkpoint (bad magic number)", path);
    if (r_take(&r, 4, &p))
        return seqrt_fail(err, "%s: truncated checkpoint (%zu bytes)", path, size);
    uint32_t version = get_u32(p);
    if (version == 1)
        return seqrt_fail(err, "%s: checkpoint format version 1, written by an older seqc; "
                          "this trainer reads version %u (the structure hash changed): train "
                          "again, or use the trainer that wrote it", path,
                          SEQRT_CHECKPOINT_VERSION);
    if (version == 3)
        return seqrt_fail(err, "%s: checkpoint format version 3, written by an older seqc; "
                          "this trainer reads version %u (the training recipe's state: "
                          "schedule, early stopping, best weights, which version 3 lacks): "
                          "train again, or use the trainer that wrote it", path,
                          SEQRT_CHECKPOINT_VERSION);
    if (version == 2)
        return seqrt_fail(err, "%s: checkpoint format version 2, written by an older seqc; "
                          "this trainer reads version %u (dropout has its own generator, "
                          "whose state version 2 lacks): train again, or use the trainer "
                          "that wrote it", path, SEQRT_CHECKPOINT_VERSION);
    if (version != SEQRT_CHECKPOINT_VERSION)
        return seqrt_fail(err, "%s: checkpoint format version %u, this trainer reads version %u",
                          path, version, SEQRT_CHECKPOINT_VERSION);

    /* Sizes first: the two strings, then the counts, give the exact size. */
    if (r_take(&r, 4, &p))
        return seqrt_fail(err, "%s: truncated checkpoint (%zu bytes)", path, size);
    h->name_len = get_u32(p);
    if (h->name_len > CKPT_MAX_STRING || r_take(&r, h->name_len, &h->name) || r_take(&r, 4, &p))
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (bad model name length)", path);
    h->source_len = get_u32(p);
    if (h->source_len > CKPT_MAX_STRING || r_take(&r, h->source_len, &h->source))
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (bad model file length)", path);

    const unsigned char *counts;
    if (r_take(&r, 32, &counts) || r_take(&r, CKPT_FIXED, &h->fixed))
        return seqrt_fail(err, "%s: truncated checkpoint (%zu bytes, header incomplete)", path, size);
    h->hash = get_u64(counts);
    h->pcount = get_u64(counts + 8);
    h->tcount = get_u64(counts + 16);
    h->ocount = get_u64(counts + 24);
    h->floats = r.p;
    h->flags = get_u32(h->fixed + CKPT_FIXED - 4);
    if (h->flags & ~3u)
        return seqrt_fail(err, "%s: damaged checkpoint (unknown flags 0x%x)", path, h->flags);
    uint64_t best = h->flags & SEQRT_CKPT_HAS_BEST ? h->pcount : 0;

    /* Compare sizes in a way that cannot overflow: each count must fit
     * in what is left of the file on its own. */
    size_t left = r.left;
    size_t room = left < 4 ? 0 : (left - 4) / 4; /* floats the rest can hold */
    if (left < 8 || h->pcount > room || h->ocount > room - h->pcount ||
        best > room - h->pcount - h->ocount ||
        left < 4 * (h->pcount + h->ocount + best) + 8) {
        unsigned long long expected = (unsigned long long)(size - left) +
                                      4ull * (unsigned long long)(h->pcount + h->ocount + best) +
                                      8ull;
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (%zu bytes, expected at "
                          "least %llu)", path, size, expected);
    }
    r.p += 4 * (h->pcount + h->ocount + best);
    r.left -= 4 * (h->pcount + h->ocount + best);

    /* The parameter block table: its lengths, then exactly the CRC after it. */
    size_t table_at = size - r.left;
    r_take(&r, 4, &p);
    h->nblocks = get_u32(p);
    if (h->nblocks > (r.left - 4) / CKPT_BLOCK_FIXED)
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (a parameter block table "
                          "of %" PRIu32 " entries at byte %zu, in %zu bytes)", path,
                          h->nblocks, table_at, r.left);
    h->blocks = calloc(h->nblocks ? h->nblocks : 1, sizeof *h->blocks);
    if (!h->blocks)
        return seqrt_fail(err, "%s: out of memory", path);
    for (uint32_t i = 0; i < h->nblocks; i++) {
        ckpt_block *e = &h->blocks[i];
        const unsigned char *q;
        if (r_take(&r, 4, &q) || (e->layer_len = get_u32(q)) > CKPT_MAX_STRING ||
            r_take(&r, e->layer_len, &e->layer) || r_take(&r, 4, &q) ||
            (e->what_len = get_u32(q)) > CKPT_MAX_STRING ||
            r_take(&r, e->what_len, &e->what) || r_take(&r, 20, &q))
            return seqrt_fail(err, "%s: damaged or truncated checkpoint (entry %" PRIu32
                              " of its parameter block table, at byte %zu)", path, i + 1,
                              size - r.left);
        e->offset = get_u64(q);
        e->count = get_u64(q + 8);
        e->trainable = get_u32(q + 16);
    }
    if (r.left != 4)
        return seqrt_fail(err, "%s: damaged or truncated checkpoint (%zu bytes, expected %zu "
                          "after its parameter block table)", path, size, size - r.left + 4);

    uint32_t stored_crc = get_u32(buf + size - 4);
    uLong c = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < size - 4;) {
        uInt chunk = size - 4 - off > 65536 ? 65536u : (uInt)(size - 4 - off);
        c = crc32(c, buf + off, chunk);
        off += chunk;
    }
    if ((uint32_t)c != stored_crc)
        return seqrt_fail(err, "%s: damaged checkpoint (checksum 0x%08x, expected 0x%08x)",
                          path, (uint32_t)c, stored_crc);
    return 0;
}

static int cmp_offset(const void *a, const void *b)
{
    const ckpt_block *x = *(const ckpt_block *const *)a, *y = *(const ckpt_block *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_str(const unsigned char *a, uint32_t an, const unsigned char *b, uint32_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int cmp_name(const void *a, const void *b)
{
    const ckpt_block *x = *(const ckpt_block *const *)a, *y = *(const ckpt_block *const *)b;
    int c = cmp_str(x->layer, x->layer_len, y->layer, y->layer_len);
    return c ? c : cmp_str(x->what, x->what_len, y->what, y->what_len);
}

/*
 * The intact file's parameter block table agrees with its counts: every
 * block within the P parameters, trainable exactly when within the first
 * T, the blocks covering all P without overlap, no (layer, what) twice.
 * An empty table (a model that names no blocks) says nothing. by_name
 * (may be NULL) gets the entries sorted by (layer, what): free it.
 */
static int check_table(const char *path, const ckpt_header *h, ckpt_block ***by_name,
                       seqrt_error *err)
{
    if (by_name)
        *by_name = NULL;
    if (h->nblocks == 0)
        return 0;
    ckpt_block **sorted = malloc(h->nblocks * sizeof *sorted);
    if (!sorted)
        return seqrt_fail(err, "%s: out of memory", path);
    int rc = 0;
    for (uint32_t i = 0; i < h->nblocks && rc == 0; i++) {
        const ckpt_block *e = &h->blocks[i];
        sorted[i] = &h->blocks[i];
        if (e->layer_len == 0 || e->what_len == 0)
            rc = seqrt_fail(err, "%s: bad checkpoint: entry %" PRIu32 " of its parameter "
                            "block table has no name", path, i + 1);
        else if (e->count == 0 || e->offset > h->pcount || e->count > h->pcount - e->offset)
            rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table puts layer "
                            "'%.*s' (%.*s) at floats %" PRIu64 "+%" PRIu64 ", outside the %"
                            PRIu64 " parameters", path, (int)e->layer_len,
                            (const char *)e->layer, (int)e->what_len, (const char *)e->what,
                            e->offset, e->count, h->pcount);
        else if (e->trainable > 1 || (e->trainable == 1) != (e->offset < h->tcount) ||
                 (e->trainable && e->offset + e->count > h->tcount))
            rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table says layer "
                            "'%.*s' (%.*s) at floats %" PRIu64 "+%" PRIu64 " is %s, but the "
                            "first %" PRIu64 " parameters are the trainable ones", path,
                            (int)e->layer_len, (const char *)e->layer, (int)e->what_len,
                            (const char *)e->what, e->offset, e->count,
                            e->trainable == 1 ? "trainable" : e->trainable ? "of kind 2+"
                                                                          : "not trainable",
                            h->tcount);
    }
    if (rc == 0) {
        qsort(sorted, h->nblocks, sizeof *sorted, cmp_offset);
        uint64_t end = 0;
        for (uint32_t i = 0; i < h->nblocks && rc == 0; i++) {
            if (sorted[i]->offset > end)
                rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table leaves "
                                "out parameter %" PRIu64 " (the next block, layer '%.*s' (%.*s), "
                                "starts at %" PRIu64 ")", path, end, (int)sorted[i]->layer_len,
                                (const char *)sorted[i]->layer, (int)sorted[i]->what_len,
                                (const char *)sorted[i]->what, sorted[i]->offset);
            else if (sorted[i]->offset < end)
                rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table puts layer "
                                "'%.*s' (%.*s) at parameter %" PRIu64 ", inside the block "
                                "before it (which ends at %" PRIu64 ")", path,
                                (int)sorted[i]->layer_len, (const char *)sorted[i]->layer,
                                (int)sorted[i]->what_len, (const char *)sorted[i]->what,
                                sorted[i]->offset, end);
            end = sorted[i]->offset + sorted[i]->count;
        }
        if (rc == 0 && end != h->pcount)
            rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table covers %"
                            PRIu64 " of the %" PRIu64 " parameters", path, end, h->pcount);
    }
    if (rc == 0) {
        qsort(sorted, h->nblocks, sizeof *sorted, cmp_name);
        for (uint32_t i = 1; i < h->nblocks && rc == 0; i++)
            if (cmp_name(&sorted[i - 1], &sorted[i]) == 0)
                rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table has layer "
                                "'%.*s' (%.*s) twice", path, (int)sorted[i]->layer_len,
                                (const char *)sorted[i]->layer, (int)sorted[i]->what_len,
                                (const char *)sorted[i]->what);
    }
    if (rc == 0 && by_name)
        *by_name = sorted;
    else
        free(sorted);
    return rc;
}

/* The checkpoint's table is this model's, block for block in whatever
 * order either lists them (the structure hash matched, so only a damaged
 * writer or file gets here). */
static int check_table_is_model(const char *path, const ckpt_header *h,
                                const seqrt_model *model, seqrt_error *err)
{
    uint32_t n = model->blocks ? (uint32_t)model->block_count : 0;
    if (h->nblocks != n)
        return seqrt_fail(err, "%s: bad checkpoint: its parameter block table has %" PRIu32
                          " blocks, this model %" PRIu32, path, h->nblocks, n);
    ckpt_block **by_name = NULL;
    if (check_table(path, h, &by_name, err))
        return -1;
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const seqrt_param_block *b = &model->blocks[i];
        ckpt_block key = {(const unsigned char *)b->layer, (const unsigned char *)b->what,
                          (uint32_t)capped_len(b->layer), (uint32_t)capped_len(b->what),
                          0, 0, 0};
        const ckpt_block *kp = &key;
        ckpt_block *const *hit = bsearch(&kp, by_name, n, sizeof *by_name, cmp_name);
        if (!hit)
            rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table lacks this "
                            "model's layer '%s' (%s, line %d)", path, b->layer, b->what,
                            b->line);
        else if ((*hit)->offset != b->offset || (*hit)->count != b->count)
            rc = seqrt_fail(err, "%s: bad checkpoint: its parameter block table puts layer "
                            "'%s' (%s) at floats %" PRIu64 "+%" PRIu64 ", this model at %zu+%zu",
                            path, b->layer, b->what, (*hit)->offset, (*hit)->count, b->offset,
                            b->count);
    }
    free(by_name);
    return rc;
}

/* The intact file: does it belong to this model? */
static int check_belongs(const char *path, const ckpt_header *h, const seqrt_model *model,
                         seqrt_error *err)
{
    if (h->tcount > h->pcount)
        return seqrt_fail(err, "%s: bad checkpoint: %" PRIu64 " trainable parameters of "
                          "only %" PRIu64, path, h->tcount, h->pcount);
    if (!same_string(model->name, h->name, h->name_len))
        return seqrt_fail(err, "%s: checkpoint is for model '%.*s' (%.*s), not for this "
                          "trainer's model '%s' (%s)", path, (int)h->name_len,
                          (const char *)h->name, (int)h->source_len, (const char *)h->source,
                          model->name, model->source ? model->source : "?");
    if (h->hash != model->structure_hash)
        return seqrt_fail(err, "%s: checkpoint is for a different structure of model '%s' "
                          "(hash %016llx, this trainer %016llx): the model file changed "
                          "since it was saved", path, model->name, (unsigned long long)h->hash,
                          (unsigned long long)model->structure_hash);
    if (h->pcount != model->param_count || h->tcount != model->trainable_count ||
        h->ocount != model->opt_state_count)
        return seqrt_fail(err, "%s: checkpoint has %llu parameters (%llu trainable) and %llu "
                          "optimizer values, this model %zu (%zu) and %zu", path,
                          (unsigned long long)h->pcount, (unsigned long long)h->tcount,
                          (unsigned long long)h->ocount, model->param_count,
                          model->trainable_count, model->opt_state_count);
    return check_table_is_model(path, h, model, err);
}

static void decode_meta(const unsigned char *fixed, seqrt_checkpoint_meta *meta)
{
    meta->step = (int64_t)get_u64(fixed);
    meta->epoch = get_u32(fixed + 8);
    meta->epochs = get_u32(fixed + 12);
    meta->seed = get_u64(fixed + 16);
    for (int i = 0; i < 4; i++)
        meta->rng.s[i] = get_u64(fixed + 24 + 8 * i);
    for (int i = 0; i < 4; i++)
        meta->dropout_rng.s[i] = get_u64(fixed + 56 + 8 * i);
    meta->batch = get_u32(fixed + 88);
    meta->lr = bits_float(get_u32(fixed + 92));
    meta->plateau_lr = bits_float(get_u32(fixed + 96));
    meta->plateau_wait = get_u32(fixed + 100);
    meta->plateau_best = bits_double(get_u64(fixed + 104));
    meta->es_wait = get_u32(fixed + 112);
    meta->best_epoch = get_u32(fixed + 116);
    meta->best = bits_double(get_u64(fixed + 120));
    meta->stopped = get_u32(fixed + 128);
    meta->flags = get_u32(fixed + 132);
    meta->best_params = NULL;
}

/*
 * A CRC proves the bytes are the ones written, not that a trainer wrote
 * them: every field must be a value a run can reach. An all-zero
 * generator state, for one, is a fixed point of xoshiro256** (every draw
 * 0), which made the shuffle's rejection loop spin forever.
 */
static int check_meta(const char *path, const seqrt_checkpoint_meta *m, seqrt_error *err)
{
    if (m->epoch < 1)
        return seqrt_fail(err, "%s: bad checkpoint: 0 epochs completed (a checkpoint is "
                          "written after an epoch)", path);
    if (m->epochs < 1 || m->epochs > SEQRT_MAX_EPOCHS)
        return seqrt_fail(err, "%s: bad checkpoint: target of %" PRIu32 " epochs, not in "
                          "1..%d", path, m->epochs, SEQRT_MAX_EPOCHS);
    if (m->epoch > m->epochs)
        return seqrt_fail(err, "%s: bad checkpoint: %" PRIu32 " epochs completed, more than "
                          "the run's target of %" PRIu32, path, m->epoch, m->epochs);
    if (m->step < (int64_t)m->epoch || m->step > (int64_t)m->epoch * (int64_t)UINT32_MAX)
        return seqrt_fail(err, "%s: bad checkpoint: %" PRId64 " optimizer steps cannot be "
                          "%" PRIu32 " epochs (each epoch takes 1 to 2^32-1 steps)", path,
                          m->step, m->epoch);
    if ((m->rng.s[0] | m->rng.s[1] | m->rng.s[2] | m->rng.s[3]) == 0)
        return seqrt_fail(err, "%s: bad checkpoint: the generator state is all zero, which "
                          "no seeded generator reaches", path);
    if ((m->dropout_rng.s[0] | m->dropout_rng.s[1] | m->dropout_rng.s[2] |
         m->dropout_rng.s[3]) == 0)
        return seqrt_fail(err, "%s: bad checkpoint: the dropout generator state is all zero, "
                          "which no seeded generator reaches", path);
    if (m->batch < 1 || m->batch > SEQRT_MAX_BATCH)
        return seqrt_fail(err, "%s: bad checkpoint: batch size %" PRIu32 ", not in 1..%d",
                          path, m->batch, SEQRT_MAX_BATCH);
    if (!(m->lr > 0) || !isfinite(m->lr))
        return seqrt_fail(err, "%s: bad checkpoint: learning rate %g is not a positive "
                          "finite number", path, (double)m->lr);
    if (!(m->plateau_lr >= 0) || !isfinite(m->plateau_lr))
        return seqrt_fail(err, "%s: bad checkpoint: plateau learning rate %g is not a "
                          "finite number >= 0", path, (double)m->plateau_lr);
    if (isnan(m->plateau_best) || isnan(m->best))
        return seqrt_fail(err, "%s: bad checkpoint: a best monitored value is NaN", path);
    if (m->best_epoch > m->epoch || m->stopped > m->epoch || m->es_wait > m->epoch ||
        m->plateau_wait > m->epoch)
        return seqrt_fail(err, "%s: bad checkpoint: the recipe's state (best epoch %" PRIu32
                          ", stopped at %" PRIu32 ", waits %" PRIu32 " and %" PRIu32
                          ") lies beyond the %" PRIu32 " epochs completed", path,
                          m->best_epoch, m->stopped, m->es_wait, m->plateau_wait, m->epoch);
    return 0;
}

/* Parameters and optimizer state finite (a trainer never saves others);
 * moving variances, when the model names them, not negative. */
static int check_values(const char *path, const ckpt_header *h, const seqrt_model *model,
                        seqrt_error *err)
{
    char where[256];
    for (size_t i = 0; i < h->pcount; i++) {
        if (!isfinite(float_at(h->floats, i))) {
            seqrt_describe_param(model, i, where, sizeof where);
            return seqrt_fail(err, "%s: bad checkpoint: %s is %g", path, where,
                              (double)float_at(h->floats, i));
        }
    }
    size_t best = h->flags & SEQRT_CKPT_HAS_BEST ? h->pcount : 0;
    for (size_t i = 0; i < best; i++) {
        if (!isfinite(float_at(h->floats, h->pcount + h->ocount + i))) {
            seqrt_describe_param(model, i, where, sizeof where);
            return seqrt_fail(err, "%s: bad checkpoint: the best epoch's %s is %g", path,
                              where, (double)float_at(h->floats, h->pcount + h->ocount + i));
        }
    }
    for (size_t i = 0; i < h->ocount; i++) {
        if (!isfinite(float_at(h->floats, h->pcount + i)))
            return seqrt_fail(err, "%s: bad checkpoint: optimizer value %zu of %" PRIu64
                              " is %g", path, i, h->ocount,
                              (double)float_at(h->floats, h->pcount + i));
    }
    for (int b = 0; model->blocks && b < model->block_count; b++) {
        const seqrt_param_block *blk = &model->blocks[b];
        if (strcmp(blk->what, "moving_variance") != 0)
            continue;
        for (size_t i = blk->offset; i < blk->offset + blk->count && i < h->pcount; i++) {
            if (float_at(h->floats, i) < 0) {
                seqrt_describe_param(model, i, where, sizeof where);
                return seqrt_fail(err, "%s: bad checkpoint: %s is %g, a negative variance",
                                  path, where, (double)float_at(h->floats, i));
            }
        }
    }
    return 0;
}

/* The first of model's blocks in [lo, hi) (trainable or not) that does
 * not end within the checkpoint's `have` floats of that region, or the
 * last block of the region when the checkpoint has more. */
static const seqrt_param_block *first_unmatched(const seqrt_model *model, size_t lo, size_t hi,
                                                uint64_t have)
{
    const seqrt_param_block *last = NULL;
    for (int b = 0; b < model->block_count; b++) {
        const seqrt_param_block *blk = &model->blocks[b];
        if (blk->offset < lo || blk->offset >= hi)
            continue;
        if (blk->offset + blk->count - lo > have)
            return blk;
        last = blk;
    }
    return last;
}

/* Appends one problem to a list that fits an error message, counting the
 * ones that no longer fit. */
typedef struct problem_list {
    char   text[360];
    size_t used;
    int    count, more;
} problem_list;

static void add_problem(problem_list *pl, const char *fmt, ...)
{
    char one[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    size_t n = strlen(one), sep = pl->count ? 2 : 0;
    if (pl->used + sep + n >= sizeof pl->text - 24) {
        pl->more++;
        return;
    }
    snprintf(pl->text + pl->used, sizeof pl->text - pl->used, "%s%s", sep ? "; " : "", one);
    pl->used += sep + n;
    pl->count++;
}

/*
 * Maps every block of model to the checkpoint's block of the same (layer,
 * what) and count, wherever either sits in its parameter array (a frozen
 * batchnorm moves gamma and beta behind the trainable ones). src[b] gets
 * the checkpoint's entry for model block b. Every block of the model must
 * be in the checkpoint and every block of the checkpoint in the model.
 */
static int map_blocks(const char *path, const ckpt_header *h, ckpt_block **by_name,
                      const seqrt_model *model, const ckpt_block **src, seqrt_error *err)
{
    unsigned char *taken = calloc(h->nblocks, 1);
    if (!taken)
        return seqrt_fail(err, "%s: out of memory", path);
    problem_list pl;
    memset(&pl, 0, sizeof pl);
    for (int b = 0; b < model->block_count; b++) {
        const seqrt_param_block *blk = &model->blocks[b];
        ckpt_block key = {(const unsigned char *)blk->layer, (const unsigned char *)blk->what,
                          (uint32_t)capped_len(blk->layer), (uint32_t)capped_len(blk->what),
                          0, 0, 0};
        const ckpt_block *kp = &key;
        ckpt_block *const *hit = bsearch(&kp, by_name, h->nblocks, sizeof *by_name, cmp_name);
        src[b] = NULL;
        if (!hit)
            add_problem(&pl, "layer '%s' (%s, line %d) is not in the checkpoint", blk->layer,
                        blk->what, blk->line);
        else if ((*hit)->count != blk->count)
            add_problem(&pl, "layer '%s' (%s, line %d) has %zu floats, the checkpoint's %"
                        PRIu64, blk->layer, blk->what, blk->line, blk->count, (*hit)->count);
        else
            src[b] = *hit;
        if (hit)
            taken[*hit - h->blocks] = 1;
    }
    for (uint32_t i = 0; i < h->nblocks; i++)
        if (!taken[i])
            add_problem(&pl, "the checkpoint's layer '%.*s' (%.*s, %" PRIu64 " floats) is not "
                        "in this model", (int)h->blocks[i].layer_len,
                        (const char *)h->blocks[i].layer, (int)h->blocks[i].what_len,
                        (const char *)h->blocks[i].what, h->blocks[i].count);
    free(taken);
    if (pl.count == 0 && pl.more == 0)
        return 0;
    char more[32] = "";
    if (pl.more)
        snprintf(more, sizeof more, "; and %d more", pl.more);
    return seqrt_fail(err, "%s: not the same layers as this model '%s': %s%s", path,
                      model->name, pl.text, more);
}

/* The checkpoint's moving variances, wherever they sit, not negative. */
static int check_table_variances(const char *path, const ckpt_header *h, seqrt_error *err)
{
    for (uint32_t i = 0; i < h->nblocks; i++) {
        const ckpt_block *e = &h->blocks[i];
        if (!same_string("moving_variance", e->what, e->what_len))
            continue;
        for (uint64_t j = e->offset; j < e->offset + e->count; j++)
            if (float_at(h->floats, j) < 0)
                return seqrt_fail(err, "%s: bad checkpoint: layer '%.*s' (moving_variance), "
                                  "parameter offset %" PRIu64 " of %" PRIu64 " is %g, a "
                                  "negative variance", path, (int)e->layer_len,
                                  (const char *)e->layer, j, h->pcount,
                                  (double)float_at(h->floats, j));
    }
    return 0;
}

int seqrt_checkpoint_load_weights(const char *path, const seqrt_model *model, float *params,
                                  seqrt_checkpoint_meta *meta, char *from, size_t from_size,
                                  int *was_trainable, seqrt_error *err)
{
    /* room for any optimizer's state: the size cap is read_capped's */
    seqrt_model any = *model;
    any.opt_state_count = model->trainable_count > SIZE_MAX / 4 ? SIZE_MAX
                                                                  : 4 * model->trainable_count;
    unsigned char *buf = NULL;
    size_t size = 0;
    /* and for a table of other layers: twice this model's, and 64 more */
    uint64_t table = table_size(model);
    if (read_capped(path, &any, 2 * table + 64 * (CKPT_BLOCK_FIXED + 64), &buf, &size, err))
        return -1;
    ckpt_header h;
    seqrt_checkpoint_meta m;
    memset(&h, 0, sizeof h);
    memset(&m, 0, sizeof m);
    ckpt_block **by_name = NULL;
    int nblocks = model->blocks ? model->block_count : 0;
    const ckpt_block **src = calloc(nblocks > 0 ? (size_t)nblocks : 1, sizeof *src);
    int rc = src ? check_intact(path, buf, size, &h, err)
                 : seqrt_fail(err, "%s: out of memory", path);
    if (rc == 0 && h.tcount > h.pcount)
        rc = seqrt_fail(err, "%s: bad checkpoint: %" PRIu64 " trainable parameters of only "
                        "%" PRIu64, path, h.tcount, h.pcount);
    if (rc == 0)
        rc = check_table(path, &h, &by_name, err);
    /* both name their blocks: map them by (layer, what) */
    int mapped = rc == 0 && h.nblocks > 0 && nblocks > 0;
    if (mapped)
        rc = map_blocks(path, &h, by_name, model, src, err);
    if (rc == 0 && !mapped &&
        (h.pcount != model->param_count || h.tcount != model->trainable_count)) {
        /* a model or file without names: the counts are all there is */
        int trainable = h.tcount != model->trainable_count;
        const seqrt_param_block *blk =
            trainable ? first_unmatched(model, 0, model->trainable_count, h.tcount)
                      : first_unmatched(model, model->trainable_count, model->param_count,
                                        h.pcount - h.tcount);
        char where[160] = "";
        if (blk)
            snprintf(where, sizeof where, "; the layers differ at or before layer '%s' (%s, "
                     "line %d, %zu floats)", blk->layer, blk->what, blk->line, blk->count);
        rc = seqrt_fail(err, "%s: not the same parameters: the checkpoint (model '%.*s') has "
                        "%" PRIu64 " parameters, %" PRIu64 " of them trainable; this model "
                        "'%s' has %zu, %zu trainable%s", path, (int)h.name_len,
                        (const char *)h.name, h.pcount, h.tcount, model->name,
                        model->param_count, model->trainable_count, where);
    }
    if (rc == 0) {
        decode_meta(h.fixed, &m);
        rc = check_meta(path, &m, err);
    }
    if (rc == 0) {
        /* the optimizer values are not loaded, but a trainer never saved
         * non-finite ones: check them as the whole file; the offsets are
         * the checkpoint's, so the model cannot name them when mapped */
        seqrt_model plain = *model;
        if (mapped) {
            plain.blocks = NULL;
            plain.block_count = 0;
        }
        rc = check_values(path, &h, &plain, err);
        if (rc == 0 && mapped)
            rc = check_table_variances(path, &h, err);
    }
    if (rc == 0) {
        if (meta)
            *meta = m;
        if (from && from_size > 0)
            snprintf(from, from_size, "%.*s", (int)h.name_len, (const char *)h.name);
        if (mapped) {
            for (int b = 0; b < nblocks; b++) {
                const seqrt_param_block *blk = &model->blocks[b];
                for (size_t i = 0; i < blk->count; i++)
                    params[blk->offset + i] = float_at(h.floats, src[b]->offset + i);
                if (was_trainable)
                    was_trainable[b] = src[b]->trainable == 1;
            }
        } else {
            for (size_t i = 0; i < h.pcount; i++)
                params[i] = float_at(h.floats, i);
            for (int b = 0; was_trainable && b < nblocks; b++)
                was_trainable[b] = model->blocks[b].offset < h.tcount;
        }
    }
    free(by_name);
    free(src);
    free(h.blocks);
    free(buf);
    return rc;
}

int seqrt_checkpoint_load(const char *path, const seqrt_model *model,
                          float *params, float *opt_state,
                          seqrt_checkpoint_meta *meta, seqrt_error *err)
{
    return seqrt_checkpoint_load_best(path, model, params, opt_state, NULL, meta, err);
}

int seqrt_checkpoint_load_best(const char *path, const seqrt_model *model, float *params,
                               float *opt_state, float *best_out,
                               seqrt_checkpoint_meta *meta, seqrt_error *err)
{
    unsigned char *buf = NULL;
    size_t size = 0;
    if (read_capped(path, model, table_size(model), &buf, &size, err))
        return -1;
    ckpt_header h;
    seqrt_checkpoint_meta m;
    memset(&h, 0, sizeof h); /* -O3's flow analysis cannot see check_intact fill it */
    memset(&m, 0, sizeof m);
    int rc = check_intact(path, buf, size, &h, err);
    if (rc == 0)
        rc = check_belongs(path, &h, model, err);
    if (rc == 0) {
        decode_meta(h.fixed, &m);
        rc = check_meta(path, &m, err);
    }
    if (rc == 0)
        rc = check_values(path, &h, model, err);
    if (rc == 0) {
        const unsigned char *best = h.flags & SEQRT_CKPT_HAS_BEST
                                        ? h.floats + 4 * (h.pcount + h.ocount) : NULL;
        /* without a place for the best weights, the inference view */
        const unsigned char *weights = !best_out && best && (h.flags & SEQRT_CKPT_USE_BEST)
                                           ? best : h.floats;
        if (meta)
            *meta = m;
        for (size_t i = 0; i < h.pcount; i++)
            params[i] = float_at(weights, i);
        for (size_t i = 0; opt_state && i < h.ocount; i++)
            opt_state[i] = float_at(h.floats, h.pcount + i);
        for (size_t i = 0; best_out && i < h.pcount; i++)
            best_out[i] = float_at(best ? best : h.floats, i);
    }
    free(h.blocks);
    free(buf);
    return rc;
}
