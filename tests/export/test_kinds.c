/*
 * test_kinds.c: every layer kind of the language can be exported.
 *
 * 1. export_supports (back/export_plan.c) says yes to every IR op kind
 *    but the one a pass the export does not run makes
 *    (IR_BN_RELU_MAXPOOL2D): a new layer kind fails here until the
 *    exporter has a case for it.
 * 2. A model with every layer of the language (every batchnorm variant,
 *    layernorm, groupnorm, the pools, every activation, ...): its lowered
 *    IR must hold every exportable op kind (so this model grows with the
 *    language), and the export plan, folded and not, must agree with the
 *    double-precision reference on it.
 * 3. groupnorm and layernorm (without gamma) against NumPy: the model
 *
 *      input 2x2x4; groupnorm groups=2; layernorm scale=false epsilon=0.01
 *      global_avgpool2d; softmax
 *
 *    with the parameters below and x below gives the output computed with
 *    NumPy 1.24 (Debian's python3-numpy) in double from the float32
 *    values: per group of 2 channels over the 4 positions,
 *    (x - mean) / sqrt(biased var + float32(0.001)) * gamma + beta; per
 *    position over the 4 channels, (y - mean) / sqrt(var + float32(0.01))
 *    + beta; the mean over positions; softmax.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "back/export.h"
#include "front/diag.h"
#include "front/frontend.h"
#include "ir/ir.h"
#include "testutil.h"

static ir_model *compile(arena *a, const char *text)
{
    diag d;
    diag_init(&d, "kinds.seq", NULL, 0, stderr);
    model *m = arena_alloc(a, sizeof *m);
    if (frontend_load_text(a, &d, text, strlen(text), m) != 0)
        return NULL;
    ir_model *ir = ir_lower(a, m, NULL);
    if (!ir || ir_run_passes(ir, NULL) != 0)
        return NULL;
    return ir;
}

static void test_every_op_kind(void **state)
{
    (void)state;
    for (int k = 0; k < IR_OP_KIND_COUNT; k++) {
        if (k == IR_BN_RELU_MAXPOOL2D)
            continue;
        if (!export_supports((ir_op_kind)k))
            fail_msg("seqc export has no case for '%s'", ir_op_kind_name((ir_op_kind)k));
    }
}

static const char every_layer[] =
    "model every {\n"
    "  input 9x9x2\n"
    "  rescale 0.5 offset=0.25\n"
    "  normalize\n"
    "  conv2d 4 kernel=3 padding=same; batchnorm; relu\n"
    "  conv2d 4 kernel=2 stride=2 dilation=1; batchnorm frozen=true; leaky_relu alpha=0.2\n"
    "  conv2d 4 kernel=2; batchnorm virtual_batch=2 center=false\n"
    "  maxpool2d 2 stride=1 padding=same\n"
    "  conv2d 4 kernel=1; batchnorm renorm=true scale=false; tanh\n"
    "  layernorm; sigmoid\n"
    "  groupnorm groups=2\n"
    "  avgpool2d 2 stride=1\n"
    "  conv2d 4 kernel=1; global_maxpool2d\n"
    "  flatten\n"
    "  dropout 0.1\n"
    "  dense 6; layernorm center=false; relu\n"
    "  batchnorm\n"
    "  dense 5; softmax\n"
    "}\n"
    "train { loss mse }\n";

static const char norms_model[] =
    "model gn {\n  input 2x2x4\n  groupnorm groups=2\n"
    "  layernorm scale=false epsilon=0.01\n  global_avgpool2d\n"
    "  softmax\n}\ntrain { loss sparse_categorical_crossentropy }\n";

static void test_every_layer(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, every_layer);
    assert_non_null(ir);
    bool seen[IR_OP_KIND_COUNT] = {false};
    for (int i = 0; i < ir->nops; i++)
        seen[ir->ops[i].kind] = true;
    /* and the NumPy model's (its global_avgpool2d: after a global pool the
     * sample is flat, so one model cannot hold both) */
    ir_model *gn = compile(&a, norms_model);
    assert_non_null(gn);
    for (int i = 0; i < gn->nops; i++)
        seen[gn->ops[i].kind] = true;
    for (int k = 0; k < IR_OP_KIND_COUNT; k++)
        if (k != IR_BN_RELU_MAXPOOL2D && !ir_op_is_loss((ir_op_kind)k) && !seen[k])
            fail_msg("the every-layer model has no '%s'", ir_op_kind_name((ir_op_kind)k));

    /* deterministic parameters; variances positive */
    float *params = arena_array(&a, (size_t)ir->param_count, sizeof *params);
    for (int64_t i = 0; i < ir->param_count; i++)
        params[i] = (float)(0.5 * sin(0.7 * (double)i + 0.3));
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        int var = op->kind == IR_NORMALIZE ? 1 : 3;
        if (op->kind == IR_NORMALIZE || op->kind == IR_BATCHNORM ||
            op->kind == IR_BATCHNORM_FROZEN || op->kind == IR_BATCHNORM_GHOST ||
            op->kind == IR_BATCHNORM_RENORM) {
            const ir_param *p = &ir->params[op->param[var]];
            for (int64_t c = 0; c < p->count; c++)
                params[p->offset + c] = 0.5f + (float)c * 0.25f;
        }
    }
    const int64_t rw = export_reference_width(ir);
    double *r0 = arena_array(&a, (size_t)rw, sizeof *r0);
    double *r1 = arena_array(&a, (size_t)rw, sizeof *r1);
    float *x = arena_array(&a, (size_t)ir->input_size, sizeof *x);
    double ref[5];
    for (int sample = 0; sample < 3; sample++) {
        for (int64_t i = 0; i < ir->input_size; i++)
            x[i] = (float)cos(1.3 * (double)i + sample);
        export_reference(ir, params, x, ref, r0, r1);
        for (int fold = 0; fold < 2; fold++) {
            ex_plan *p = export_plan(&a, ir, params, fold, NULL);
            assert_non_null(p);
            float y[5];
            float *b0 = arena_array(&a, (size_t)p->max_features, sizeof *b0);
            float *b1 = arena_array(&a, (size_t)p->max_features, sizeof *b1);
            export_plan_eval(p, x, y, b0, b1);
            for (int j = 0; j < 5; j++)
                assert_close(y[j], ref[j], 1e-5 * fmax(1.0, fabs(ref[j])));
            if (fold)
                assert_true(p->nfolds >= 3);
        }
    }
    arena_free(&a);
}

static void test_norms_numpy(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    ir_model *ir = compile(&a, norms_model);
    assert_non_null(ir);
    assert_int_equal(ir->param_count, 12);
    static const float gamma[4] = {1.5f, 0.5f, -1.0f, 2.0f}, beta[4] = {0.1f, -0.2f, 0.3f, 0.0f};
    static const float lbeta[4] = {0.5f, -0.5f, 0.25f, 1.0f};
    float params[12];
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        if (op->kind == IR_GROUPNORM) {
            memcpy(params + ir->params[op->param[0]].offset, gamma, sizeof gamma);
            memcpy(params + ir->params[op->param[1]].offset, beta, sizeof beta);
        } else if (op->kind == IR_LAYERNORM) {
            assert_int_equal(op->param[0], IR_NONE);
            memcpy(params + ir->params[op->param[1]].offset, lbeta, sizeof lbeta);
        }
    }
    static const float x[16] = {0.3f,  -1.2f, 2.0f, 0.5f,  1.1f, 0.0f,  -0.7f, 0.9f,
                                -0.4f, 1.6f,  0.2f, -2.1f, 0.8f, 0.35f, -1.0f, 1.4f};
    static const double want[4] = {0.2976443651753302, 0.03488442699944473,
                                   0.17238347333757395, 0.495087734487651};
    double ref[4], r0[16], r1[16];
    assert_true(export_reference_width(ir) <= 16);
    export_reference(ir, params, x, ref, r0, r1);
    for (int j = 0; j < 4; j++)
        assert_close(ref[j], want[j], 1e-12);
    ex_plan *p = export_plan(&a, ir, params, true, NULL);
    assert_non_null(p);
    assert_int_equal(p->steps[0].kind, EX_GROUPNORM);
    assert_int_equal(p->steps[1].kind, EX_GROUPNORM);
    float y[4], b0[16], b1[16];
    export_plan_eval(p, x, y, b0, b1);
    for (int j = 0; j < 4; j++)
        assert_close(y[j], want[j], 1e-6);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_kind),
        cmocka_unit_test(test_every_layer),
        cmocka_unit_test(test_norms_numpy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
