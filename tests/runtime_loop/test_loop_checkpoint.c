/*
 * test_loop_checkpoint.c: the checkpoint file (runtime/src/loop/checkpoint.c):
 * exact round trip, the documented byte layout, refusal of another model,
 * and that every damaged variant (each byte flipped, each truncation,
 * trailing bytes) is refused without touching the caller's buffers; that
 * an intact file (valid checksum) is still refused field by field when a
 * value is one no trainer saves; the read cap; the lock between savers.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include "loop/checkpoint.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum { P = 5, T = 3, O = 6 };

static char dir[4096];
static char path[4200];

static seqrt_model make_model(const char *name, uint64_t hash)
{
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = name;
    m.source = "models/test.seq";
    m.structure_hash = hash;
    m.param_count = P;
    m.trainable_count = T;
    m.opt_state_count = O;
    return m;
}

/* Values whose bits must survive: signed zero, a subnormal, the largest
 * and the smallest normal float. (A NaN is refused: a trainer never
 * saves one.) */
static void fill(float *params, float *opt)
{
    params[0] = -0.0f;
    params[1] = 1e-40f;
    params[2] = FLT_MAX;
    params[3] = -FLT_MIN;
    params[4] = 0.1f;
    for (int i = 0; i < O; i++)
        opt[i] = (float)i * -1.5f;
}

static seqrt_checkpoint_meta make_meta(void)
{
    seqrt_checkpoint_meta meta = {.step = 12345678901ll, .epoch = 3, .epochs = 10,
                                  .seed = 0xfedcba9876543210ull, .batch = 32, .lr = 0.001f};
    for (int i = 0; i < 4; i++) {
        meta.rng.s[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
        meta.dropout_rng.s[i] = 0x1010101010101010ull * (uint64_t)(i + 1);
    }
    return meta;
}

static int setup(void **state)
{
    (void)state;
    if (seqc_tmpdir_make(dir, sizeof dir, "loop_ckpt") != 0)
        return -1;
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return seqc_tmpdir_remove(dir);
}

static void save_default(void)
{
    seqrt_model m = make_model("net", 42);
    float params[P], opt[O];
    fill(params, opt);
    seqrt_checkpoint_meta meta = make_meta();
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, NULL, &err), 0);
}

static unsigned char *read_bytes(const char *p, size_t *size)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 16);
    *size = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void write_bytes(const char *p, const unsigned char *buf, size_t size)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, size, f), size);
    fclose(f);
}

static void test_round_trip_is_bit_exact(void **state)
{
    (void)state;
    save_default();
    seqrt_model m = make_model("net", 42);
    float want_p[P], want_o[O], got_p[P], got_o[O];
    fill(want_p, want_o);
    memset(got_p, 0xab, sizeof got_p);
    memset(got_o, 0xab, sizeof got_o);
    seqrt_checkpoint_meta want = make_meta(), got;
    memset(&got, 0, sizeof got);
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_load(path, &m, got_p, got_o, &got, &err), 0);
    assert_memory_equal(got_p, want_p, sizeof want_p);
    assert_memory_equal(got_o, want_o, sizeof want_o);
    assert_true(got.step == want.step);
    assert_int_equal(got.epoch, want.epoch);
    assert_int_equal(got.epochs, want.epochs);
    assert_true(got.seed == want.seed);
    assert_memory_equal(got.rng.s, want.rng.s, sizeof want.rng.s);
    assert_memory_equal(got.dropout_rng.s, want.dropout_rng.s, sizeof want.dropout_rng.s);
    assert_int_equal(got.batch, want.batch);
    assert_true(got.lr == want.lr);
}

/* The layout docs/checkpoint.md describes, checked at a few offsets. */
static void test_layout_matches_the_documentation(void **state)
{
    (void)state;
    save_default();
    size_t size;
    unsigned char *b = read_bytes(path, &size);
    const size_t name = 3, source = strlen("models/test.seq");
    const size_t header = 8 + 4 + 4 + name + 4 + source + 168;
    /* the floats, then an empty parameter block table (the model names
     * no blocks: u32 0), then the CRC */
    assert_int_equal(size, header + 4 * (P + O) + 4 + 4);
    assert_int_equal(b[header + 4 * (P + O)] | b[header + 4 * (P + O) + 1], 0);
    assert_memory_equal(b, "SEQCKPT\0", 8);
    assert_int_equal(b[8], 4);                       /* version 4, little-endian */
    assert_int_equal(b[9] | b[10] | b[11], 0);
    assert_int_equal(b[12], name);                   /* name length */
    assert_memory_equal(b + 16, "net", 3);
    assert_int_equal(b[16 + name + 4 + source], 42); /* structure hash LE */
    /* after the 32 bytes of hash and counts: step 8, epoch 4, epochs 4,
     * seed 8, then the generator (32) and the dropout generator (32) */
    const unsigned char *gen = b + 16 + name + 4 + source + 32 + 24;
    assert_int_equal(gen[0], 0x01);                  /* rng.s[0] LE */
    assert_int_equal(gen[8], 0x02);                  /* rng.s[1] */
    assert_int_equal(gen[32], 0x10);                 /* dropout_rng.s[0] */
    assert_int_equal(gen[40], 0x20);                 /* dropout_rng.s[1] */
    assert_int_equal(gen[64], 32);                   /* batch */
    /* params[4] = 0.1f = 0x3dcccccd, little-endian */
    const unsigned char *p4 = b + header + 4 * 4;
    assert_int_equal(p4[0], 0xcd);
    assert_int_equal(p4[3], 0x3d);
    free(b);
}

static void test_save_leaves_no_temporary_file(void **state)
{
    (void)state;
    save_default();
    save_default(); /* over an existing file too */
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        assert_string_equal(e->d_name, "model.ckpt");
        files++;
    }
    closedir(d);
    assert_int_equal(files, 1);
}

static void expect_refused(const seqrt_model *m, const char *message_part)
{
    float p[P], o[O], before_p[P], before_o[O];
    memset(p, 0x5a, sizeof p);
    memset(o, 0x5a, sizeof o);
    memcpy(before_p, p, sizeof p);
    memcpy(before_o, o, sizeof o);
    seqrt_checkpoint_meta meta;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_load(path, m, p, o, &meta, &err), -1);
    if (message_part && !strstr(err.msg, message_part)) {
        print_error("message '%s' lacks '%s'\n", err.msg, message_part);
        fail();
    }
    assert_non_null(strstr(err.msg, path)); /* names the file */
    assert_memory_equal(p, before_p, sizeof p);
    assert_memory_equal(o, before_o, sizeof o);
}

static void test_refuses_another_model(void **state)
{
    (void)state;
    save_default();
    seqrt_model other = make_model("other", 42);
    expect_refused(&other, "checkpoint is for model 'net' (models/test.seq), not for "
                           "this trainer's model 'other'");
}

static void test_refuses_a_changed_structure(void **state)
{
    (void)state;
    save_default();
    seqrt_model changed = make_model("net", 43);
    expect_refused(&changed, "different structure of model 'net'");
    seqrt_model counts = make_model("net", 42);
    counts.opt_state_count = O + 1;
    expect_refused(&counts, "optimizer values");
}

static void test_refuses_every_flipped_byte(void **state)
{
    (void)state;
    save_default();
    size_t size;
    unsigned char *good = read_bytes(path, &size);
    seqrt_model m = make_model("net", 42);
    for (size_t i = 0; i < size; i++) {
        good[i] ^= 0x01;
        write_bytes(path, good, size);
        expect_refused(&m, NULL);
        good[i] ^= 0x01;
    }
    /* the flip in the middle of the floats is a checksum error */
    good[size - 12] ^= 0x80;
    write_bytes(path, good, size);
    expect_refused(&m, "damaged checkpoint (checksum");
    free(good);
}

static void test_refuses_every_truncation_and_extra_bytes(void **state)
{
    (void)state;
    save_default();
    size_t size;
    unsigned char *good = read_bytes(path, &size);
    seqrt_model m = make_model("net", 42);
    for (size_t n = 0; n < size; n++) {
        write_bytes(path, good, n);
        expect_refused(&m, NULL);
    }
    write_bytes(path, good, size - 20);
    expect_refused(&m, "truncated");
    unsigned char longer[1 << 12];
    memcpy(longer, good, size);
    longer[size] = 0;
    write_bytes(path, longer, size + 1);
    expect_refused(&m, "expected");
    free(good);
}

static void test_refuses_other_files(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    write_bytes(path, (const unsigned char *)"epoch,loss\n1,2\n", 15);
    expect_refused(&m, "not a seqc checkpoint (bad magic number)");

    save_default();
    size_t size;
    unsigned char *b = read_bytes(path, &size);
    b[8] = 5;
    write_bytes(path, b, size);
    expect_refused(&m, "checkpoint format version 5, this trainer reads version 4");
    b[8] = 3;
    write_bytes(path, b, size);
    expect_refused(&m, "checkpoint format version 3, written by an older seqc; this trainer "
                       "reads version 4 (the training recipe's state: schedule, early "
                       "stopping, best weights, which version 3 lacks)");
    b[8] = 2;
    write_bytes(path, b, size);
    expect_refused(&m, "checkpoint format version 2, written by an older seqc; this trainer "
                       "reads version 4 (dropout has its own generator, whose state version "
                       "2 lacks)");
    b[8] = 1;
    write_bytes(path, b, size);
    expect_refused(&m, "checkpoint format version 1, written by an older seqc");
    free(b);

    remove(path);
    expect_refused(&m, "cannot open");
}

/* Version 4's recipe state survives bit for bit, and the best epoch's
 * weights: --resume (seqrt_checkpoint_load_best) gets the last epoch's
 * weights and the best ones apart; evaluate and predict
 * (seqrt_checkpoint_load) get the best ones when the file says so. */
static void test_recipe_state_and_best_weights(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    float params[P], opt[O], best[P];
    fill(params, opt);
    for (int i = 0; i < P; i++)
        best[i] = 100.0f + (float)i;
    seqrt_checkpoint_meta meta = make_meta();
    meta.plateau_lr = 0.00025f;
    meta.plateau_wait = 2;
    meta.plateau_best = -INFINITY;
    meta.es_wait = 1;
    meta.best_epoch = 2;
    meta.best = 0.123456789012345;
    meta.stopped = 3;
    meta.flags = SEQRT_CKPT_HAS_BEST | SEQRT_CKPT_USE_BEST;
    meta.best_params = best;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, NULL, &err), 0);
    size_t size;
    unsigned char *b = read_bytes(path, &size);
    assert_int_equal(size, 8 + 4 + 4 + 3 + 4 + strlen("models/test.seq") + 168 +
                               4 * (P + O + P) + 4 + 4);
    free(b);

    float got_p[P], got_o[O], got_b[P];
    seqrt_checkpoint_meta got;
    assert_int_equal(seqrt_checkpoint_load_best(path, &m, got_p, got_o, got_b, &got, &err), 0);
    assert_memory_equal(got_p, params, sizeof params);
    assert_memory_equal(got_b, best, sizeof best);
    assert_true(got.plateau_lr == 0.00025f);
    assert_int_equal(got.plateau_wait, 2);
    assert_true(isinf(got.plateau_best) && got.plateau_best < 0);
    assert_int_equal(got.es_wait, 1);
    assert_int_equal(got.best_epoch, 2);
    assert_true(got.best == 0.123456789012345);
    assert_int_equal(got.stopped, 3);
    assert_int_equal(got.flags, 3);

    assert_int_equal(seqrt_checkpoint_load(path, &m, got_p, NULL, &got, &err), 0);
    assert_memory_equal(got_p, best, sizeof best); /* the inference view */

    /* tracked but not for inference: the last epoch's weights */
    meta.flags = SEQRT_CKPT_HAS_BEST;
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, NULL, &err), 0);
    assert_int_equal(seqrt_checkpoint_load(path, &m, got_p, NULL, &got, &err), 0);
    assert_memory_equal(got_p, params, sizeof params);

    /* a best epoch after the epochs completed is no state a run reaches */
    meta.best_epoch = 4;
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, NULL, &err), 0);
    expect_refused(&m, "beyond the 3 epochs completed");
}

static void test_save_into_missing_directory_fails(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    float params[P], opt[O];
    fill(params, opt);
    seqrt_checkpoint_meta meta = make_meta();
    seqrt_error err = {{0}};
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.ckpt", dir);
    assert_int_equal(seqrt_checkpoint_save(bad, &m, params, opt, &meta, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "/no/such/dir does not exist"));
}

/* ------------------------------------------- fields validated by meaning */

/* A checkpoint with a valid checksum (the writer computes it) whose
 * fields are whatever the test says. */
static void save_as(const seqrt_model *m, const seqrt_checkpoint_meta *meta,
                    const float *params, const float *opt)
{
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_save(path, m, params, opt, meta, NULL, &err), 0);
}

static void load_ok(const seqrt_model *m)
{
    float p[P], o[O];
    seqrt_checkpoint_meta meta;
    seqrt_error err = {{0}};
    if (seqrt_checkpoint_load(path, m, p, o, &meta, &err) != 0) {
        print_error("refused: %s\n", err.msg);
        fail();
    }
}

#define REFUSE_META(change, message)                                                   \
    do {                                                                               \
        seqrt_checkpoint_meta k = make_meta();                                         \
        change;                                                                        \
        save_as(&m, &k, params, opt);                                                  \
        expect_refused(&m, message);                                                   \
    } while (0)

static void test_every_field_is_range_checked(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    float params[P], opt[O];
    fill(params, opt);
    REFUSE_META(k.epoch = 0, "bad checkpoint: 0 epochs completed");
    REFUSE_META(k.epochs = 0, "bad checkpoint: target of 0 epochs, not in 1..1000000");
    REFUSE_META(k.epochs = 1000001, "target of 1000001 epochs, not in 1..1000000");
    REFUSE_META(k.epoch = 11, "11 epochs completed, more than the run's target of 10");
    REFUSE_META(k.step = 2, "2 optimizer steps cannot be 3 epochs");
    REFUSE_META(k.step = -5, "-5 optimizer steps cannot be 3 epochs");
    REFUSE_META(k.step = 3ll * UINT32_MAX + 1, "optimizer steps cannot be 3 epochs");
    REFUSE_META(memset(k.rng.s, 0, sizeof k.rng.s), "the generator state is all zero");
    REFUSE_META(memset(k.dropout_rng.s, 0, sizeof k.dropout_rng.s),
                "the dropout generator state is all zero");
    REFUSE_META(k.batch = 0, "batch size 0, not in 1..1048576");
    REFUSE_META(k.batch = (1u << 20) + 1, "batch size 1048577, not in 1..1048576");
    REFUSE_META(k.lr = -0.1f, "learning rate -0.1 is not a positive finite number");
    REFUSE_META(k.lr = 0.0f, "learning rate 0 is not a positive finite number");
    REFUSE_META(k.lr = NAN, "learning rate nan is not");
    REFUSE_META(k.lr = INFINITY, "learning rate inf is not");

    /* the edges of each range are accepted */
    seqrt_checkpoint_meta edge = make_meta();
    edge.epoch = edge.epochs = 1000000;
    edge.step = 1000000;
    edge.batch = 1u << 20;
    edge.lr = FLT_MAX;
    edge.rng.s[0] = edge.rng.s[1] = edge.rng.s[2] = 0;
    edge.rng.s[3] = 1;
    edge.dropout_rng.s[1] = edge.dropout_rng.s[2] = edge.dropout_rng.s[3] = 0;
    edge.dropout_rng.s[0] = 1;
    save_as(&m, &edge, params, opt);
    load_ok(&m);
}

static void test_values_must_be_finite(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    seqrt_checkpoint_meta meta = make_meta();
    float params[P], opt[O];

    fill(params, opt);
    params[1] = NAN;
    save_as(&m, &meta, params, opt);
    expect_refused(&m, "bad checkpoint: parameter offset 1 of 5 is nan");

    fill(params, opt);
    params[4] = -INFINITY;
    save_as(&m, &meta, params, opt);
    expect_refused(&m, "parameter offset 4 of 5 is -inf");

    fill(params, opt);
    opt[2] = NAN;
    save_as(&m, &meta, params, opt);
    expect_refused(&m, "bad checkpoint: optimizer value 2 of 6 is nan");
}

/* With named blocks the message names the layer; a moving variance must
 * not be negative. */
static void test_blocks_name_the_layer(void **state)
{
    (void)state;
    static const seqrt_param_block blocks[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 3},
        {.layer = "batch_normalization", .what = "moving_variance", .line = 4, .offset = 3,
         .count = 2},
    };
    seqrt_model m = make_model("net", 42);
    m.blocks = blocks;
    m.block_count = 2;
    seqrt_checkpoint_meta meta = make_meta();
    float params[P], opt[O];

    fill(params, opt);
    params[3] = 0.5f;
    params[2] = NAN;
    save_as(&m, &meta, params, opt);
    expect_refused(&m, "bad checkpoint: layer 'dense' (kernel, line 3), parameter offset 2 "
                       "of 5 is nan");

    fill(params, opt);
    params[3] = 0.5f;
    params[4] = -0.25f;
    save_as(&m, &meta, params, opt);
    expect_refused(&m, "layer 'batch_normalization' (moving_variance, line 4), parameter "
                       "offset 4 of 5 is -0.25, a negative variance");

    fill(params, opt);
    params[3] = 0.0f;
    params[4] = 0.1f;
    save_as(&m, &meta, params, opt);
    load_ok(&m);
}

/* --init-from: the weights of a checkpoint whose name, structure hash and
 * optimizer state differ from the model's, the counts being the same;
 * other counts are refused naming the model's first block past them. */
static void test_load_weights_across_structures(void **state)
{
    (void)state;
    save_default(); /* "net", hash 42, O = 6 optimizer values */
    static const seqrt_param_block blocks[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 2},
        {.layer = "dense", .what = "bias", .line = 3, .offset = 2, .count = 1},
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 3,
         .count = 2},
    };
    seqrt_model m = make_model("tuned", 43);
    m.opt_state_count = 2; /* another optimizer */
    m.blocks = blocks;
    m.block_count = 3;
    float want[P], opt[O], got[P] = {0};
    fill(want, opt);
    seqrt_checkpoint_meta meta;
    char from[64] = "";
    seqrt_error err = {{0}};
    /* seqrt_checkpoint_load refuses it: another structure */
    assert_int_equal(seqrt_checkpoint_load(path, &m, got, NULL, NULL, &err), -1);
    assert_int_equal(seqrt_checkpoint_load_weights(path, &m, got, &meta, from, sizeof from, NULL,
                                                   &err), 0);
    assert_memory_equal(got, want, sizeof want);
    assert_string_equal(from, "net");
    assert_int_equal(meta.epoch, 3);

    /* one trainable parameter fewer: the bias is past what it holds */
    seqrt_model smaller = m;
    smaller.trainable_count = T - 1;
    smaller.param_count = P - 1;
    static const seqrt_param_block small_blocks[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 2},
        {.layer = "batch_normalization", .what = "moving_variance", .line = 4, .offset = 2,
         .count = 2},
    };
    smaller.blocks = small_blocks;
    smaller.block_count = 2;
    assert_int_equal(seqrt_checkpoint_load_weights(path, &smaller, got, NULL, NULL, 0, NULL, &err),
                     -1);
    assert_non_null(strstr(err.msg, "not the same parameters: the checkpoint (model 'net') has "
                                    "5 parameters, 3 of them trainable; this model 'tuned' "
                                    "has 4, 2 trainable; the layers differ at or before layer "
                                    "'dense' (kernel, line 3, 2 floats)"));
    /* a bigger kernel: the first block already does not fit */
    seqrt_model bigger = m;
    static const seqrt_param_block big_blocks[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 4},
        {.layer = "batch_normalization", .what = "moving_variance", .line = 4, .offset = 4,
         .count = 2},
    };
    bigger.trainable_count = 4;
    bigger.param_count = 6;
    bigger.blocks = big_blocks;
    bigger.block_count = 2;
    assert_int_equal(seqrt_checkpoint_load_weights(path, &bigger, got, NULL, NULL, 0, NULL, &err),
                     -1);
    assert_non_null(strstr(err.msg, "differ at or before layer 'dense' (kernel, line 3, "
                                    "4 floats)"));
    /* nothing was overwritten by the refused loads */
    assert_memory_equal(got, want, sizeof want);
}

static void test_counts_must_be_consistent(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    m.trainable_count = P + 1; /* more trainable parameters than parameters */
    seqrt_checkpoint_meta meta = make_meta();
    float params[P], opt[O];
    fill(params, opt);
    save_as(&m, &meta, params, opt);
    expect_refused(&m, "bad checkpoint: 6 trainable parameters of only 5");
}


/* ------------------------------------------------ the parameter block table */

/* P = 5, T = 3: dense kernel (2) and bias (1) trainable, then
 * batchnorm's moving mean (2). */
static const seqrt_param_block tbl_blocks[] = {
    {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 2},
    {.layer = "dense", .what = "bias", .line = 3, .offset = 2, .count = 1},
    {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 3, .count = 2},
};

static seqrt_model tbl_model(void)
{
    seqrt_model m = make_model("net", 42);
    m.blocks = tbl_blocks;
    m.block_count = 3;
    return m;
}

static void save_tbl(void)
{
    seqrt_model m = tbl_model();
    seqrt_checkpoint_meta meta = make_meta();
    float params[P], opt[O];
    fill(params, opt);
    save_as(&m, &meta, params, opt);
}

/* Rewrites the CRC after a change, so the table's own checks are reached. */
static void write_resealed(unsigned char *b, size_t size)
{
    uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)(size - 4));
    for (int i = 0; i < 4; i++)
        b[size - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));
    write_bytes(path, b, size);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The table sits after the floats (every older offset unchanged), byte by
 * byte as docs/checkpoint.md says, and a load of the same model accepts
 * it and gets every float back. */
static void test_block_table_layout_and_round_trip(void **state)
{
    (void)state;
    save_tbl();
    size_t size;
    unsigned char *b = read_bytes(path, &size);
    const size_t header = 8 + 4 + 4 + 3 + 4 + strlen("models/test.seq") + 168;
    const size_t table = 4 + (4 + 5 + 4 + 6 + 20) + (4 + 5 + 4 + 4 + 20) +
                         (4 + 19 + 4 + 11 + 20);
    assert_int_equal(size, header + 4 * (P + O) + table + 4);
    const unsigned char *t = b + header + 4 * (P + O);
    assert_int_equal(t[0], 3);                            /* N, little-endian */
    assert_int_equal(t[1] | t[2] | t[3], 0);
    assert_int_equal(t[4], 5);                            /* "dense" */
    assert_memory_equal(t + 8, "dense", 5);
    assert_int_equal(t[13], 6);                           /* "kernel" */
    assert_memory_equal(t + 17, "kernel", 6);
    assert_true(le64(t + 23) == 0);                       /* offset */
    assert_true(le64(t + 31) == 2);                       /* count */
    assert_int_equal(t[39], 1);                           /* trainable */
    const unsigned char *third = t + 4 + 39 + 37;
    assert_int_equal(third[0], 19);
    assert_memory_equal(third + 4, "batch_normalization", 19);
    assert_memory_equal(third + 27, "moving_mean", 11);
    assert_true(le64(third + 38) == 3);
    assert_true(le64(third + 46) == 2);
    assert_int_equal(third[54], 0);                       /* not trainable */
    free(b);

    seqrt_model m = tbl_model();
    float want_p[P], want_o[O], got_p[P], got_o[O];
    fill(want_p, want_o);
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_load(path, &m, got_p, got_o, NULL, &err), 0);
    assert_memory_equal(got_p, want_p, sizeof want_p);
    assert_memory_equal(got_o, want_o, sizeof want_o);
}

/* A table that disagrees with the counts, or with the model whose
 * structure hash the file carries, is a damaged file, even with a
 * correct checksum; so is a table that does not end at the CRC. */
static void test_corrupt_block_table_is_refused(void **state)
{
    (void)state;
    save_tbl();
    size_t size;
    unsigned char *good = read_bytes(path, &size);
    seqrt_model m = tbl_model();
    const size_t header = 8 + 4 + 4 + 3 + 4 + strlen("models/test.seq") + 168;
    const size_t t = header + 4 * (P + O);
    const size_t bias = t + 4 + 39;                       /* the second entry */
    unsigned char *b = malloc(size + 8);
    assert_non_null(b);

    memcpy(b, good, size);
    b[t + 4 + 4 + 5 + 4 + 6 + 8] = 3;                     /* kernel count 2 -> 3: overlap */
    write_resealed(b, size);
    expect_refused(&m, "bad checkpoint: its parameter block table puts layer 'dense' (bias) "
                       "at parameter 2, inside the block before it (which ends at 3)");

    memcpy(b, good, size);
    b[t + 4 + 4 + 5 + 4 + 6 + 8] = 1;                     /* kernel count 2 -> 1: a gap */
    write_resealed(b, size);
    expect_refused(&m, "bad checkpoint: its parameter block table leaves out parameter 1 (the "
                       "next block, layer 'dense' (bias), starts at 2)");

    memcpy(b, good, size);
    b[bias + 4 + 5 + 4 + 4 + 16] = 0;                     /* bias "not trainable" at 2 < T */
    write_resealed(b, size);
    expect_refused(&m, "bad checkpoint: its parameter block table says layer 'dense' (bias) "
                       "at floats 2+1 is not trainable, but the first 3 parameters are the "
                       "trainable ones");

    memcpy(b, good, size);
    b[t + 4 + 39 + 37 + 46] = 3;                          /* moving_mean 3+3: past P */
    write_resealed(b, size);
    expect_refused(&m, "outside the 5 parameters");

    memcpy(b, good, size);
    b[bias + 4] = 'k';                                    /* "kense": not the model's */
    write_resealed(b, size);
    expect_refused(&m, "bad checkpoint: its parameter block table lacks this model's layer "
                       "'dense' (bias, line 3)");

    /* the same blocks listed in another order are the same table */
    seqrt_model shuffled = tbl_model();
    static const seqrt_param_block reversed[] = {
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 3, .count = 2},
        {.layer = "dense", .what = "bias", .line = 3, .offset = 2, .count = 1},
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 2},
    };
    shuffled.blocks = reversed;
    write_bytes(path, good, size);
    load_ok(&shuffled);
    /* a block at another place is not */
    static const seqrt_param_block moved[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 1, .count = 2},
        {.layer = "dense", .what = "bias", .line = 3, .offset = 0, .count = 1},
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 3, .count = 2},
    };
    shuffled.blocks = moved;
    expect_refused(&shuffled, "bad checkpoint: its parameter block table puts layer 'dense' "
                              "(kernel) at floats 0+2, this model at 1+2");

    memcpy(b, good, size);
    b[t] = 2;                                             /* N = 2: bytes left before the CRC */
    write_resealed(b, size);
    expect_refused(&m, "after its parameter block table");

    memcpy(b, good, size);
    b[t] = 0xff;                                          /* N far beyond the bytes */
    b[t + 3] = 0x7f;
    write_resealed(b, size);
    expect_refused(&m, "a parameter block table of");

    /* a model that names no blocks refuses a file with a table, and back */
    write_bytes(path, good, size);
    seqrt_model plain = make_model("net", 42);
    expect_refused(&plain, "its parameter block table has 3 blocks, this model 0");
    free(b);
    free(good);
}

/* --init-from maps blocks by (layer, what): batchnorm frozen moves gamma
 * behind the trainable parameters, and it still loads where it now is. */
static void test_load_weights_maps_a_reordered_model(void **state)
{
    (void)state;
    static const seqrt_param_block trained[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 2},
        {.layer = "batch_normalization", .what = "gamma", .line = 4, .offset = 2, .count = 1},
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 3,
         .count = 2},
    };
    seqrt_model a = make_model("net", 42);
    a.blocks = trained;
    a.block_count = 3;
    seqrt_checkpoint_meta meta = make_meta();
    float params[P] = {1, 2, 3, 4, 5}, opt[O] = {0};
    save_as(&a, &meta, params, opt);

    /* the frozen model: T = 2, the moving mean at 2..3, gamma last */
    static const seqrt_param_block frozen[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 2},
        {.layer = "batch_normalization", .what = "gamma", .line = 4, .offset = 4, .count = 1},
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 2,
         .count = 2},
    };
    seqrt_model f = make_model("net", 77);
    f.trainable_count = 2;
    f.opt_state_count = 4;
    f.blocks = frozen;
    f.block_count = 3;
    float got[P] = {0};
    int was[3] = {-1, -1, -1};
    seqrt_error err = {{0}};
    if (seqrt_checkpoint_load_weights(path, &f, got, NULL, NULL, 0, was, &err) != 0) {
        print_error("refused: %s\n", err.msg);
        fail();
    }
    const float want[P] = {1, 2, 4, 5, 3};
    assert_memory_equal(got, want, sizeof want);
    assert_int_equal(was[0], 1);
    assert_int_equal(was[1], 1); /* gamma was trained, now frozen */
    assert_int_equal(was[2], 0);
    /* the counts alone (the old check) would have refused it */
    assert_true(f.trainable_count != a.trainable_count);
}

/* A block of the model the checkpoint lacks, one of another size, and a
 * block of the checkpoint the model lacks: one error naming them all;
 * nothing overwritten. */
static void test_load_weights_names_missing_blocks(void **state)
{
    (void)state;
    save_tbl(); /* dense kernel 2, dense bias 1, batch_normalization moving_mean 2 */
    static const seqrt_param_block other[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 3},
        {.layer = "dense_1", .what = "bias", .line = 5, .offset = 3, .count = 1},
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 4,
         .count = 2},
    };
    seqrt_model m = make_model("wide", 9);
    m.param_count = 6;
    m.trainable_count = 4;
    m.blocks = other;
    m.block_count = 3;
    float got[6] = {7, 7, 7, 7, 7, 7};
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_checkpoint_load_weights(path, &m, got, NULL, NULL, 0, NULL, &err), -1);
    char want[4800];
    snprintf(want, sizeof want, "%s: not the same layers as this model 'wide': layer 'dense' "
             "(kernel, line 3) has 3 floats, the checkpoint's 2; layer 'dense_1' (bias, line "
             "5) is not in the checkpoint; the checkpoint's layer 'dense' (bias, 1 floats) is "
             "not in this model", path);
    assert_string_equal(err.msg, want);
    for (int i = 0; i < 6; i++)
        assert_true(got[i] == 7);
}

/* A reader never reads more than the model's checkpoint can hold. */
static void test_reads_at_most_a_checkpoints_size(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static const char zeros[1 << 16];
    for (int i = 0; i < 16; i++) /* 1 MiB of zeros */
        assert_int_equal(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
    fclose(f);
    expect_refused(&m, "1048576 bytes, larger than any checkpoint of model 'net' (at most 8452 "
                       "bytes)");

    seqrt_error err = {{0}};
    float p[P], o[O];
    assert_int_equal(seqrt_checkpoint_load("/dev/zero", &m, p, o, NULL, &err), -1);
    assert_string_equal(err.msg, "/dev/zero: more than 8452 bytes, larger than any checkpoint "
                                 "of model 'net': not a checkpoint of this model");
    assert_int_equal(seqrt_checkpoint_load(dir, &m, p, o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "is a directory"));
}

/* The lock follows the checkpoint through each save's rename. */
static void test_second_saver_is_refused(void **state)
{
    (void)state;
    seqrt_model m = make_model("net", 42);
    seqrt_checkpoint_meta meta = make_meta();
    float params[P], opt[O];
    fill(params, opt);
    seqrt_error err = {{0}};
    seqrt_checkpoint_lock first, second;
    seqrt_checkpoint_lock_init(&first);
    seqrt_checkpoint_lock_init(&second);
    remove(path);
    assert_int_equal(seqrt_checkpoint_lock_acquire(&second, path, &err), 0); /* no file yet */
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, &first, &err), 0);
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, &first, &err), 0);
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, &second, &err), -1);
    assert_non_null(strstr(err.msg, "another trainer is saving to this checkpoint"));
    assert_int_equal(seqrt_checkpoint_lock_acquire(&second, path, &err), -1);
    seqrt_checkpoint_lock_release(&first);
    assert_int_equal(seqrt_checkpoint_lock_acquire(&second, path, &err), 0);
    assert_int_equal(seqrt_checkpoint_save(path, &m, params, opt, &meta, &first, &err), -1);
    seqrt_checkpoint_lock_release(&second);
    seqrt_checkpoint_lock_release(&first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_is_bit_exact),
        cmocka_unit_test(test_layout_matches_the_documentation),
        cmocka_unit_test(test_save_leaves_no_temporary_file),
        cmocka_unit_test(test_refuses_another_model),
        cmocka_unit_test(test_refuses_a_changed_structure),
        cmocka_unit_test(test_refuses_every_flipped_byte),
        cmocka_unit_test(test_refuses_every_truncation_and_extra_bytes),
        cmocka_unit_test(test_refuses_other_files),
        cmocka_unit_test(test_recipe_state_and_best_weights),
        cmocka_unit_test(test_save_into_missing_directory_fails),
        cmocka_unit_test(test_every_field_is_range_checked),
        cmocka_unit_test(test_values_must_be_finite),
        cmocka_unit_test(test_blocks_name_the_layer),
        cmocka_unit_test(test_load_weights_across_structures),
        cmocka_unit_test(test_counts_must_be_consistent),
        cmocka_unit_test(test_block_table_layout_and_round_trip),
        cmocka_unit_test(test_corrupt_block_table_is_refused),
        cmocka_unit_test(test_load_weights_maps_a_reordered_model),
        cmocka_unit_test(test_load_weights_names_missing_blocks),
        cmocka_unit_test(test_reads_at_most_a_checkpoints_size),
        cmocka_unit_test(test_second_saver_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
