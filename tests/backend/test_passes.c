/*
 * test_passes.c: the passes' guarantees, checked on real model files
 * (models/ and tests/backend/models/), with and without their batchnorm
 * and dropout layers:
 *   - memory plan: tensors alive at the same step never share a float,
 *     every buffer is big enough, and dead buffers are reused (none under
 *     no_reuse);
 *   - parameter layout: trainable first, contiguous, Keras's counts;
 *   - fusion: softmax + cross-entropy fused, softmax + mse not;
 *     batchnorm + relu + maxpool2d on an image fused when the windows do
 *     not overlap, with the unfused model's structure hash;
 *   - backward: no dx for the first layer; the structure hash follows
 *     the structure;
 *   - a pass's error reads like the front end's (FILE:LINE:COL, the
 *     source line, a caret).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, for seqc_tmpdir_make */
#include <stdbool.h>
#include <string.h>

#include "util/arena.h"
#include "front/diag.h"
#include "front/frontend.h"
#include "ir/ir.h"
#include "back/codegen.h"
#include "testutil.h"

static ir_model *compile_opts(arena *a, const char *rel, int nwithout,
                              const layer_kind *without, bool no_reuse, bool no_block_fusion)
{
    model *m = arena_alloc(a, sizeof *m);
    const char *path = arena_printf(a, "%s/%s", SEQC_SOURCE_DIR, rel);
    assert_int_equal(frontend_load(a, path, m), 0);
    assert_int_equal(model_without(m, without, nwithout), 0);
    ir_model *ir = ir_lower(a, m, NULL);
    ir->no_reuse = no_reuse;
    ir->no_block_fusion = no_block_fusion;
    assert_int_equal(ir_run_passes(ir, NULL), 0);
    return ir;
}

static ir_model *compile_plan(arena *a, const char *rel, int nwithout,
                              const layer_kind *without, bool no_reuse)
{
    return compile_opts(a, rel, nwithout, without, no_reuse, false);
}

static ir_model *compile(arena *a, const char *rel, int nwithout, const layer_kind *without)
{
    return compile_plan(a, rel, nwithout, without, false);
}

static const char *const files[] = {
    "models/mnist_bn.seq",
    "models/deep_sigmoid_bn.seq",
    "tests/backend/models/gradcheck_a.seq",
    "tests/backend/models/gradcheck_b.seq",
    "tests/backend/models/dropout_xent.seq",
    "models/mnist_cnn_bn.seq",
    "tests/backend/models/gradcheck_cnn_a.seq",
    "tests/backend/models/gradcheck_cnn_b.seq",
    "tests/backend/models/gradcheck_cnn_c.seq",
    "tests/backend/models/gradcheck_norm_cnn.seq",
    "tests/backend/models/gradcheck_norm_bn.seq",
};

static void check_plan(const ir_model *ir)
{
    int64_t sum = 0;
    for (int i = 0; i < ir->ntensors; i++) {
        const ir_tensor *t = &ir->tensors[i];
        if (t->role == IR_T_INPUT)
            continue;
        assert_true(t->offset >= 0);
        assert_true(t->size >= t->features);
        assert_true(t->offset + t->size <= ir->act_per_sample);
        assert_true(t->def >= 0 && t->def <= t->last);
        sum += t->size;
        for (int j = 0; j < i; j++) {
            const ir_tensor *u = &ir->tensors[j];
            if (u->role == IR_T_INPUT)
                continue;
            bool same_time = t->def <= u->last && u->def <= t->last;
            bool same_floats = t->offset < u->offset + u->size && u->offset < t->offset + t->size;
            if (same_time && same_floats)
                fail_msg("%s: %s and %s are alive together and share floats", ir->name,
                         t->name, u->name);
        }
    }
    assert_true(ir->act_per_sample <= sum);
}

static void test_memory_plan_never_overlaps_live_buffers(void **state)
{
    (void)state;
    const layer_kind variants[][2] = {{LAYER_KIND_COUNT, LAYER_KIND_COUNT},
                                      {LAYER_BATCHNORM, LAYER_KIND_COUNT},
                                      {LAYER_DROPOUT, LAYER_BATCHNORM}};
    const int nvar[] = {0, 1, 2};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
        for (int v = 0; v < 3; v++)
            for (int fuse = 0; fuse < 2; fuse++) { /* fused blocks and apart */
                arena a;
                arena_init(&a);
                check_plan(compile_opts(&a, files[f], nvar[v], variants[v], false, fuse == 1));
                arena_free(&a);
            }
}

static void test_mnist_bn_layout_and_reuse(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, "models/mnist_bn.seq", 0, NULL);
    /* the tutorial's model.summary(): 110,154 parameters, 384 non-trainable */
    assert_int_equal(ir->param_count, 110154);
    assert_int_equal(ir->param_count - ir->trainable_count, 384);
    assert_int_equal(ir->opt_state_count, 2 * ir->trainable_count);
    int64_t next = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < ir->nparams; i++) {
            const ir_param *p = &ir->params[i];
            if (p->trainable != (pass == 0))
                continue;
            assert_int_equal(p->offset, next); /* contiguous, trainable first */
            next += p->count;
        }
    assert_int_equal(next, ir->param_count);
    /* reuse: the plan is smaller than one buffer per tensor */
    int64_t sum = 0;
    for (int i = 0; i < ir->ntensors; i++)
        if (ir->tensors[i].role != IR_T_INPUT)
            sum += ir->tensors[i].size;
    assert_true(ir->act_per_sample < sum);
    arena_free(&a);
}

/* --no-reuse: every buffer its own floats, the plan the sum of them */
static void test_no_reuse_shares_nothing(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        arena a;
        arena_init(&a);
        const ir_model *ir = compile_plan(&a, files[f], 0, NULL, true);
        int64_t sum = 0;
        for (int i = 0; i < ir->ntensors; i++) {
            const ir_tensor *t = &ir->tensors[i];
            if (t->role == IR_T_INPUT)
                continue;
            sum += t->size;
            for (int j = 0; j < i; j++) {
                const ir_tensor *u = &ir->tensors[j];
                if (u->role != IR_T_INPUT && t->offset < u->offset + u->size &&
                    u->offset < t->offset + t->size)
                    fail_msg("%s: %s and %s share floats under no_reuse", files[f], t->name,
                             u->name);
            }
        }
        assert_int_equal(ir->act_per_sample, sum);
        arena_free(&a);
    }
}

static void test_fusion_and_backward(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, "models/mnist_bn.seq", 0, NULL);
    const ir_op *loss = &ir->ops[ir->nops - 1];
    assert_int_equal(loss->kind, IR_SOFTMAX_XENT);
    assert_true(loss->fused_softmax);
    assert_int_equal(ir->output, loss->y);
    for (int i = 0; i < ir->nops; i++)
        assert_int_not_equal(ir->ops[i].kind, IR_SOFTMAX);
    assert_int_equal(ir->ops[0].kind, IR_DENSE);
    assert_int_equal(ir->ops[0].dx, IR_NONE); /* the first layer's dx is never needed */
    assert_true(ir->ops[0].backward);
    assert_int_not_equal(ir->ops[1].dx, IR_NONE);

    /* mse after softmax: nothing to fuse, the softmax keeps its backward */
    ir_model *b = compile(&a, "tests/backend/models/gradcheck_b.seq", 0, NULL);
    assert_int_equal(b->ops[b->nops - 1].kind, IR_MSE);
    assert_int_equal(b->ops[b->nops - 2].kind, IR_SOFTMAX);
    assert_true(b->ops[b->nops - 2].backward);

    /* batchnorm on a 4x5 input normalises the last axis: 5 features */
    ir_model *g = compile(&a, "tests/backend/models/gradcheck_a.seq", 0, NULL);
    assert_int_equal(g->ops[0].kind, IR_BATCHNORM);
    assert_int_equal(g->ops[0].groups, 4);
    assert_int_equal(g->params[g->ops[0].param[0]].count, 5);
    assert_false(g->ops[0].dx != IR_NONE); /* nothing before it to train */

    /* binary cross-entropy on a final sigmoid: fused like softmax */
    ir_model *s = compile(&a, "tests/backend/models/gradcheck_bce_sigmoid.seq", 0, NULL);
    const ir_op *sl = &s->ops[s->nops - 1];
    assert_int_equal(sl->kind, IR_SIGMOID_BCE);
    assert_true(sl->fused_softmax);
    assert_int_equal(s->output, sl->y);
    assert_int_not_equal(s->ops[s->nops - 2].kind, IR_SIGMOID);

    /* from_logits: the same fused loss made at lowering, its probabilities
     * a tensor of their own and the step's output */
    ir_model *l = compile(&a, "tests/backend/models/gradcheck_bce_logits.seq", 0, NULL);
    const ir_op *ll = &l->ops[l->nops - 1];
    assert_int_equal(ll->kind, IR_SIGMOID_BCE);
    assert_false(ll->fused_softmax);
    assert_true(ll->from_logits);
    assert_int_equal(l->output, ll->y);
    assert_int_not_equal(ll->y, ll->x);
    assert_int_equal(l->tensors[ll->y].features, 3);

    /* categorical cross-entropy: fused after softmax; on probabilities
     * when a flatten stands between (the softmax keeps its backward) */
    ir_model *c = compile(&a, "tests/backend/models/gradcheck_cce.seq", 0, NULL);
    assert_int_equal(c->ops[c->nops - 1].kind, IR_SOFTMAX_CCE);
    ir_model *cp = compile(&a, "tests/backend/models/gradcheck_cce_probs.seq", 0, NULL);
    assert_int_equal(cp->ops[cp->nops - 1].kind, IR_CCE);
    assert_int_equal(cp->ops[cp->nops - 2].kind, IR_FLATTEN);
    assert_int_equal(cp->ops[cp->nops - 3].kind, IR_SOFTMAX);
    assert_true(cp->ops[cp->nops - 3].backward);

    /* huber carries its delta; rescale and normalize in front run no backward */
    ir_model *h = compile(&a, "tests/backend/models/gradcheck_huber.seq", 0, NULL);
    assert_int_equal(h->ops[h->nops - 1].kind, IR_HUBER);
    assert_true((float)h->ops[h->nops - 1].delta == 0.3f);
    ir_model *p = compile(&a, "tests/backend/models/gradcheck_preprocess.seq", 0, NULL);
    assert_int_equal(p->ops[0].kind, IR_RESCALE);
    assert_true((float)p->ops[0].scale == (float)(1.0 / 255.0));
    assert_int_equal(p->ops[1].kind, IR_NORMALIZE);
    assert_false(p->ops[0].backward);
    assert_false(p->ops[1].backward);
    const ir_param *mean = &p->params[p->ops[1].param[0]];
    assert_int_equal(mean->count, 4); /* the last axis of 3x4 */
    assert_false(mean->trainable);
    assert_true(mean->offset >= p->trainable_count);
    /* the rescale after a dense does run backward */
    bool rescale_backward = false;
    for (int i = 2; i < p->nops; i++)
        rescale_backward |= p->ops[i].kind == IR_RESCALE && p->ops[i].backward;
    assert_true(rescale_backward);
    arena_free(&a);
}

static uint64_t hash_of_text(arena *a, const char *dir, const char *name, const char *src);

/* The CNN: geometry from Keras's rules (worked out by hand in
 * models/mnist_cnn_bn.seq), the first conv2d computes no dx, each conv2d
 * call has a scratch of its own that lives during that call only, the
 * argmax buffers are int32, and the parameter layout is Keras's kernel
 * [kh*kw*cin, filters] with its fans. */
static void test_cnn_geometry_scratch_and_argmax(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, "models/mnist_cnn_bn.seq", 0, NULL);
    const ir_op *c0 = &ir->ops[0], *c1 = NULL, *p0 = NULL;
    for (int i = 0; i < ir->nops; i++) {
        if (ir->ops[i].kind == IR_CONV2D && i > 0)
            c1 = &ir->ops[i];
        if (ir->ops[i].kind == IR_BN_RELU_MAXPOOL2D && !p0) /* batchnorm; relu; maxpool2d */
            p0 = &ir->ops[i];
    }
    assert_non_null(c1);
    assert_non_null(p0);
    assert_int_equal(c0->kind, IR_CONV2D);
    /* conv2d 32 kernel=3 padding=same on 28x28x1: pad 1, out 28x28 */
    assert_int_equal(c0->in_hwc[0], 28);
    assert_int_equal(c0->in_hwc[2], 1);
    assert_int_equal(c0->pad[0], 1);
    assert_int_equal(c0->pad[1], 1);
    assert_int_equal(c0->out_hw[0], 28);
    /* conv2d 64 kernel=3 on 14x14x32: no pad, out 12x12 */
    assert_int_equal(c1->in_hwc[0], 14);
    assert_int_equal(c1->in_hwc[2], 32);
    assert_int_equal(c1->pad[0], 0);
    assert_int_equal(c1->out_hw[1], 12);
    /* maxpool2d 2: stride 2, 28 -> 14 */
    assert_int_equal(p0->stride[0], 2);
    assert_int_equal(p0->out_hw[0], 14);
    assert_true(c0->backward);
    assert_int_equal(c0->dx, IR_NONE);
    assert_true(c1->dx != IR_NONE);
    const ir_param *k1 = &ir->params[c1->param[0]];
    assert_int_equal(k1->rows, 3 * 3 * 32);
    assert_int_equal(k1->cols, 64);
    assert_int_equal(k1->fan_in, 3 * 3 * 32);
    assert_int_equal(k1->fan_out, 3 * 3 * 64);
    for (int k = 0; k < 2; k++) {
        const ir_tensor *sc = &ir->tensors[c1->scratch[k]];
        assert_int_equal(sc->role, IR_T_SCRATCH);
        assert_int_equal(sc->def, sc->last); /* one call */
        /* the column matrix of a sample, 12*12 rows of 3*3*32, and a
         * slot of partial sums of dW and db, (3*3*32 + 1) * 64 */
        assert_int_equal(sc->features, 144 * 288 + (288 + 1) * 64);
    }
    assert_int_equal(ir->tensors[c1->scratch[0]].def, (int)(c1 - ir->ops));
    assert_int_equal(ir->tensors[c1->scratch[1]].def, 2 * ir->nops - 1 - (int)(c1 - ir->ops));
    assert_true(ir->tensors[p0->save[0]].index);
    assert_int_equal(ir->tensors[p0->save[0]].features, 14 * 14 * 32);
    /* the argmax lives from the pool's forward to its backward */
    assert_int_equal(ir->tensors[p0->save[0]].last, 2 * ir->nops - 1 - (int)(p0 - ir->ops));
    arena_free(&a);
}

/* the IR of model text src, written to dir/name, fused or not */
static ir_model *ir_of_text(arena *a, const char *dir, const char *name, const char *src,
                            bool no_block_fusion)
{
    const char *path = arena_printf(a, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(src, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    model *m = arena_alloc(a, sizeof *m);
    assert_int_equal(frontend_load(a, path, m), 0);
    ir_model *ir = ir_lower(a, m, NULL);
    ir->no_block_fusion = no_block_fusion;
    assert_int_equal(ir_run_passes(ir, NULL), 0);
    return ir;
}

static int count_kind(const ir_model *ir, ir_op_kind k)
{
    int n = 0;
    for (int i = 0; i < ir->nops; i++)
        n += ir->ops[i].kind == k;
    return n;
}

/* batchnorm + relu + maxpool2d: the CNN's two blocks become one op each,
 * which reads the convolution's output again in backward, keeps the
 * batchnorm's parameters and the pool's geometry, and has the unfused
 * model's structure hash (a checkpoint does not care); the blocks the
 * fused kernel does not compute stay apart */
static void test_block_fusion(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, "models/mnist_cnn_bn.seq", 0, NULL);
    ir_model *apart = compile_opts(&a, "models/mnist_cnn_bn.seq", 0, NULL, false, true);
    assert_int_equal(count_kind(ir, IR_BN_RELU_MAXPOOL2D), 2);
    assert_int_equal(count_kind(ir, IR_BATCHNORM) + count_kind(ir, IR_RELU) +
                         count_kind(ir, IR_MAXPOOL2D), 0);
    assert_int_equal(count_kind(apart, IR_BN_RELU_MAXPOOL2D), 0);
    assert_int_equal(count_kind(apart, IR_MAXPOOL2D), 2);
    assert_int_equal(ir->nops, apart->nops - 4);
    assert_true(ir_structure_hash(ir) == ir_structure_hash(apart));
    assert_int_equal(ir->param_count, apart->param_count);
    /* less memory: no batchnorm output, xhat or relu output */
    assert_true(ir->act_per_sample < apart->act_per_sample);
    const ir_op *b = &ir->ops[1];
    assert_int_equal(b->kind, IR_BN_RELU_MAXPOOL2D);
    assert_string_equal(b->name, "batch_normalization");
    assert_string_equal(ir->params[b->param[0]].name, "batch_normalization.gamma");
    assert_int_equal(ir->params[b->param[0]].op, 1);
    assert_int_equal(ir->params[ir->ops[2].param[0]].op, 2); /* conv2d_1's, renumbered */
    assert_int_equal(b->x, ir->ops[0].y);
    assert_int_equal(b->out_hw[0], 14);
    assert_int_equal(b->kernel[0], 2);
    assert_true((float)b->momentum == 0.9f);
    assert_true(ir->tensors[b->save[0]].index);                  /* argmax */
    assert_int_equal(ir->tensors[b->save[0]].features, 14 * 14 * 32);
    assert_int_equal(ir->tensors[b->save[1]].role, IR_T_STATS);  /* mean, inv_std */
    assert_int_equal(ir->tensors[b->save[1]].features, 64);
    assert_int_equal(ir->tensors[b->scratch[0]].features, 64);
    assert_int_equal(ir->tensors[b->scratch[1]].role, IR_T_SCRATCH);
    /* the convolution's output lives until the block's backward */
    assert_int_equal(ir->tensors[b->x].last, 2 * ir->nops - 1 - 1);
    assert_int_not_equal(b->dx, IR_NONE);

    char dir[256];
    assert_int_equal(seqc_tmpdir_make(dir, sizeof dir, "fuse"), 0);
    /* fused: an odd size whose last row and column are in no window, and
     * a non-square pool */
    const char *fused[] = {
        "model m {\n  input 13x13x3\n  conv2d 4 kernel=2; batchnorm; relu; maxpool2d 2\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x9x1\n  conv2d 4 kernel=3 padding=same; batchnorm; relu\n"
        "  maxpool2d 2x3\n  flatten\n  dense 3; softmax\n}\n",
        /* `same` that pads after the last row and column only: the last
         * windows are cut at the edge */
        "model m {\n  input 9x9x1\n  conv2d 4 kernel=3; batchnorm; relu; maxpool2d 2 padding=same\n"
        "  flatten\n  dense 3; softmax\n}\n",
    };
    /* apart: overlapping windows, `same` padding before the first row, no
     * relu, another activation, batchnorm after the pool, relu before it,
     * a flat batchnorm */
    const char *kept[] = {
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm; relu; maxpool2d 2 stride=1\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 9x9x1\n  conv2d 4 kernel=3; batchnorm; relu; maxpool2d 3 padding=same\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm; maxpool2d 2\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm; tanh; maxpool2d 2\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; relu; maxpool2d 2; batchnorm\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; relu; batchnorm; maxpool2d 2\n"
        "  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 16\n  dense 8; batchnorm; relu\n  dense 3; softmax\n}\n",
        /* batchnorm options the fused kernel does not implement */
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm center=false; relu\n"
        "  maxpool2d 2\n  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm scale=false; relu\n"
        "  maxpool2d 2\n  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm frozen=true; relu\n"
        "  maxpool2d 2\n  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm virtual_batch=4; relu\n"
        "  maxpool2d 2\n  flatten\n  dense 3; softmax\n}\ntrain { batch 32 }\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; batchnorm renorm=true; relu\n"
        "  maxpool2d 2\n  flatten\n  dense 3; softmax\n}\n",
        "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; layernorm; relu; maxpool2d 2\n"
        "  flatten\n  dense 3; softmax\n}\n",
    };
    for (size_t i = 0; i < sizeof fused / sizeof *fused; i++) {
        ir_model *f = ir_of_text(&a, dir, "f.seq", fused[i], false);
        ir_model *u = ir_of_text(&a, dir, "u.seq", fused[i], true);
        assert_int_equal(count_kind(f, IR_BN_RELU_MAXPOOL2D), 1);
        assert_true(ir_structure_hash(f) == ir_structure_hash(u));
        check_plan(f);
    }
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (count_kind(ir_of_text(&a, dir, "k.seq", kept[i], false), IR_BN_RELU_MAXPOOL2D))
            fail_msg("model %zu: a block the fused kernel does not compute was fused", i);
    assert_int_equal(seqc_tmpdir_remove(dir), 0);
    arena_free(&a);
}

/* Two CNNs that differ in padding only have different structures */
static void test_cnn_structure_hash(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    char dir[256];
    assert_int_equal(seqc_tmpdir_make(dir, sizeof dir, "cnnhash"), 0);
    const char *base = "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; maxpool2d 2\n"
                       "  flatten\n  dense 3; softmax\n}\n";
    const char *same = "model m {\n  input 8x8x1\n  conv2d 4 kernel=3 padding=same; "
                       "maxpool2d 2\n  flatten\n  dense 3; softmax\n}\n";
    const char *stride = "model m {\n  input 8x8x1\n  conv2d 4 kernel=3; maxpool2d 2 stride=1\n"
                         "  flatten\n  dense 3; softmax\n}\n";
    uint64_t h = hash_of_text(&a, dir, "a.seq", base);
    assert_true(h == hash_of_text(&a, dir, "b.seq", base));
    assert_true(h != hash_of_text(&a, dir, "c.seq", same));
    assert_true(h != hash_of_text(&a, dir, "d.seq", stride));
    assert_int_equal(seqc_tmpdir_remove(dir), 0);
    arena_free(&a);
}

static void test_structure_hash(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    layer_kind bn = LAYER_BATCHNORM;
    uint64_t h1 = ir_structure_hash(compile(&a, "models/mnist_bn.seq", 0, NULL));
    uint64_t h2 = ir_structure_hash(compile(&a, "models/mnist_bn.seq", 0, NULL));
    uint64_t h3 = ir_structure_hash(compile(&a, "models/mnist_bn.seq", 1, &bn));
    assert_true(h1 == h2);
    assert_true(h1 != h3);
    arena_free(&a);
}

/* the structure hash of model text src, written to dir/name */
static uint64_t hash_of_text(arena *a, const char *dir, const char *name, const char *src)
{
    const char *path = arena_printf(a, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(src, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    model *m = arena_alloc(a, sizeof *m);
    assert_int_equal(frontend_load(a, path, m), 0);
    ir_model *ir = ir_lower(a, m, NULL);
    assert_int_equal(ir_run_passes(ir, NULL), 0);
    return ir_structure_hash(ir);
}

/* what the hash follows: the numbers, not the text, names or path */
static void test_structure_hash_follows_numbers_not_text(void **state)
{
    (void)state;
    char dir[512];
    assert_int_equal(seqc_tmpdir_make(dir, sizeof dir, "hash"), 0);
    arena a;
    arena_init(&a);
    const char *base = "model m {\n  input 4\n  dense 8; batchnorm; relu\n  dense 3; softmax\n}\n"
                       "train {\n  loss sparse_categorical_crossentropy\n}\n";
    uint64_t h = hash_of_text(&a, dir, "a.seq", base);
    /* comments, blank lines, spacing, another file name: the same */
    assert_true(h == hash_of_text(&a, dir, "other.seq",
                                  "# a comment\n\nmodel m {  # here too\n\n  input 4\n"
                                  "  dense 8;   batchnorm;relu\n\n  dense 3; softmax\n}\n"
                                  "train {\n  loss sparse_categorical_crossentropy\n}\n"));
    /* from_logits=true without the softmax: the same step, the same hash */
    assert_true(h == hash_of_text(&a, dir, "logits.seq",
                                  "model m {\n  input 4\n  dense 8; batchnorm; relu\n  dense 3\n}\n"
                                  "train {\n  loss sparse_categorical_crossentropy "
                                  "from_logits=true\n}\n"));
    /* a layer's size, an option that changes the step, the loss: different */
    const char *changed[] = {
        "model m {\n  input 4\n  dense 9; batchnorm; relu\n  dense 3; softmax\n}\n"
        "train {\n  loss sparse_categorical_crossentropy\n}\n",
        "model m {\n  input 4\n  dense 8; batchnorm epsilon=0.01; relu\n  dense 3; softmax\n}\n"
        "train {\n  loss sparse_categorical_crossentropy\n}\n",
        "model m {\n  input 4\n  dense 8; batchnorm; relu\n  dense 3; softmax\n}\n"
        "train {\n  loss mse\n}\n",
        "model m {\n  input 4\n  dense 8; batchnorm; tanh\n  dense 3; softmax\n}\n"
        "train {\n  loss sparse_categorical_crossentropy\n}\n",
        "model m {\n  input 4\n  dense 8; batchnorm; relu\n  dense 3; softmax\n}\n"
        "train {\n  loss huber\n}\n",
        "model m {\n  input 4\n  dense 8; batchnorm; relu\n  dense 3; softmax\n}\n"
        "train {\n  loss huber delta=2\n}\n",
        "model m {\n  input 4\n  rescale 2\n  dense 8; batchnorm; relu\n  dense 3; softmax\n}\n"
        "train {\n  loss sparse_categorical_crossentropy\n}\n",
    };
    for (size_t i = 0; i < sizeof changed / sizeof *changed; i++)
        if (hash_of_text(&a, dir, "b.seq", changed[i]) == h)
            fail_msg("change %zu keeps the structure hash", i);
    /* huber's delta changes the step: the two huber files differ */
    assert_true(hash_of_text(&a, dir, "c.seq", changed[4]) !=
                hash_of_text(&a, dir, "d.seq", changed[5]));
    arena_free(&a);
    assert_int_equal(seqc_tmpdir_remove(dir), 0);
}

static void test_pass_errors_are_located(void **state)
{
    (void)state;
    static const char src[] = "model m {\n  input 4\n  dense 8;  relu\n  dense 2\n}\n"
                             "train { loss mse }\n";
    arena a;
    arena_init(&a);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    diag d;
    diag_init(&d, "m.seq", NULL, 0, out);
    model m;
    assert_int_equal(frontend_load_text(&a, &d, src, sizeof src - 1, &m), 0);
    ir_model *ir = ir_lower(&a, &m, NULL);
    assert_int_equal(ir_run_passes(ir, NULL), 0);
    /* the op of line 3 that is not the first layer there still points at
     * the line's first layer, with its column and the source line */
    assert_int_equal(ir_error(ir, ir->ops[1].line, "relu says %d", 42), 1);
    fclose(out);
    assert_string_equal(text, "m.seq:3:3: error: relu says 42\n"
                              "    3 |   dense 8;  relu\n"
                              "      |   ^~~~~\n");
    assert_int_equal(d.errors, 1);
    free(text);
    arena_free(&a);
}

/* "N" of the generated ".batch_stats_layers = N," (0 when absent) */
static int batch_stats_layers_of(const ir_model *ir)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(codegen_c(out, ir, NULL), 0);
    fclose(out);
    const char *at = strstr(text, ".batch_stats_layers = ");
    int n = at ? atoi(at + strlen(".batch_stats_layers = ")) : 0;
    free(text);
    return n;
}

/* center=/scale= leave out gamma/beta; frozen trains nothing and is not a
 * layer of batch statistics; layernorm and groupnorm have no moving
 * statistics and use none of the batch's */
static void test_norm_layers_params_and_batch_stats(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, "tests/backend/models/gradcheck_norm_bn.seq", 0, NULL);
    /* ghost (plain params), frozen (all non-trainable), neither gamma nor beta */
    int seen = 0;
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        if (op->kind == IR_BATCHNORM_GHOST) {
            assert_int_equal(op->virtual_batch, 3);
            for (int k = 0; k < 4; k++)
                assert_int_equal(ir->params[op->param[k]].trainable, k < 2);
            seen |= 1;
        } else if (op->kind == IR_BATCHNORM_FROZEN) {
            for (int k = 0; k < 4; k++)
                assert_false(ir->params[op->param[k]].trainable);
            assert_true(op->backward); /* dx flows to the dense before it */
            assert_int_not_equal(op->dx, IR_NONE);
            seen |= 2;
        } else if (op->kind == IR_BATCHNORM) {
            assert_int_equal(op->param[0], IR_NONE);
            assert_int_equal(op->param[1], IR_NONE);
            assert_false(ir->params[op->param[2]].trainable);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    assert_int_equal(batch_stats_layers_of(ir), 2);
    ir = compile(&a, "tests/backend/models/gradcheck_norm_cnn.seq", 0, NULL);
    assert_int_equal(batch_stats_layers_of(ir), 1); /* the one batchnorm */
    /* without it, layernorm and groupnorm are left: none */
    const layer_kind bn[] = {LAYER_BATCHNORM};
    ir = compile(&a, "tests/backend/models/gradcheck_norm_cnn.seq", 1, bn);
    assert_int_equal(batch_stats_layers_of(ir), 0);
    /* batch renormalization uses the batch's statistics too */
    ir = compile(&a, "tests/frontend/summary/cnn_norm_renorm.seq", 0, NULL);
    assert_int_equal(batch_stats_layers_of(ir), 2);
    arena_free(&a);
}

/* the generated C of ir, malloc'ed */
static char *c_of(const ir_model *ir)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(codegen_c(out, ir, NULL), 0);
    fclose(out);
    return text;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *at = text; (at = strstr(at, what)) != NULL; at += strlen(what))
        n++;
    return n;
}

/* batchnorm sync=: plain, renorm and the fused block call the
 * synchronized kernels with the step's processes (s->comm) by default and
 * with NULL (each process's own statistics) for sync=false; ghost and
 * frozen batchnorms and every inference call stay as they were; sync
 * changes no parameter, so not the structure hash either */
static void test_batchnorm_sync(void **state)
{
    (void)state;
    char dir[512];
    assert_int_equal(seqc_tmpdir_make(dir, sizeof dir, "sync"), 0);
    arena a;
    arena_init(&a);
    static const char *const body =
        "model m {\n  input 6x6x2\n"
        "  conv2d 4 kernel=3 padding=same; batchnorm%s; relu; maxpool2d 2\n"
        "  flatten\n"
        "  dense 8; batchnorm%s; relu\n"
        "  dense 8; batchnorm renorm=true%s; relu\n"
        "  dense 8; batchnorm virtual_batch=4; relu\n"
        "  dense 8; batchnorm frozen=true; relu\n"
        "  dense 3; softmax\n}\n";
    const char *on = arena_printf(&a, body, "", "", "");
    const char *off = arena_printf(&a, body, " sync=false", " sync=false", " sync=false");
    const char *said = arena_printf(&a, body, " sync=true", " sync=true", " sync=true");
    ir_model *ir_on = ir_of_text(&a, dir, "on.seq", on, false);
    ir_model *ir_off = ir_of_text(&a, dir, "off.seq", off, false);
    ir_model *ir_said = ir_of_text(&a, dir, "said.seq", said, false);
    assert_int_equal(count_kind(ir_on, IR_BN_RELU_MAXPOOL2D), 1);
    char *c_on = c_of(ir_on), *c_off = c_of(ir_off), *c_said = c_of(ir_said);
    static const char *const calls[] = {
        "seqrt_sync_batchnorm_forward_train(", "seqrt_sync_batchnorm_backward(",
        "seqrt_sync_batchnorm_renorm_forward_train(", "seqrt_sync_batchnorm_renorm_backward(",
        "seqrt_sync_bn_relu_maxpool_forward_train(", "seqrt_sync_bn_relu_maxpool_backward(",
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        const char *with = arena_printf(&a, "%ss->comm, n", calls[i]);
        const char *without = arena_printf(&a, "%sNULL, n", calls[i]);
        assert_int_equal(count_of(c_on, calls[i]), 1);
        assert_int_equal(count_of(c_on, with), 1);
        assert_int_equal(count_of(c_said, with), 1);
        assert_int_equal(count_of(c_off, without), 1);
        assert_int_equal(count_of(c_off, with), 0);
    }
    /* the plain kernels' training calls are gone; ghost, frozen and
     * inference keep theirs and take no processes */
    for (int k = 0; k < 2; k++) {
        const char *c = k ? c_off : c_on;
        assert_null(strstr(c, " seqrt_batchnorm_forward_train("));
        assert_null(strstr(c, " seqrt_bn_relu_maxpool_forward_train("));
        assert_int_equal(count_of(c, "seqrt_batchnorm_ghost_forward_train(n,"), 1);
        assert_int_equal(count_of(c, "seqrt_batchnorm_frozen_backward(n,"), 1);
        assert_int_equal(count_of(c, "seqrt_bn_relu_maxpool_forward_infer(n,"), 1);
        assert_int_equal(count_of(c, "seqrt_batchnorm_forward_infer(n,"), 5);
        assert_int_equal(count_of(c, "s->comm"), k ? 0 : 6);
    }
    /* what the layers say, for comments and `seqc ir` */
    assert_non_null(strstr(c_off, "batchnorm sync=false; relu; maxpool2d 2"));
    assert_null(strstr(c_on, "sync="));
    assert_true(ir_structure_hash(ir_on) == ir_structure_hash(ir_off));
    assert_true(ir_structure_hash(ir_on) == ir_structure_hash(ir_said));
    free(c_on);
    free(c_off);
    free(c_said);
    arena_free(&a);
    assert_int_equal(seqc_tmpdir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_plan_never_overlaps_live_buffers),
        cmocka_unit_test(test_mnist_bn_layout_and_reuse),
        cmocka_unit_test(test_no_reuse_shares_nothing),
        cmocka_unit_test(test_fusion_and_backward),
        cmocka_unit_test(test_structure_hash),
        cmocka_unit_test(test_cnn_geometry_scratch_and_argmax),
        cmocka_unit_test(test_block_fusion),
        cmocka_unit_test(test_cnn_structure_hash),
        cmocka_unit_test(test_structure_hash_follows_numbers_not_text),
        cmocka_unit_test(test_pass_errors_are_located),
        cmocka_unit_test(test_norm_layers_params_and_batch_stats),
        cmocka_unit_test(test_batchnorm_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
