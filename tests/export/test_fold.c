/*
 * test_fold.c: the export plan's folding arithmetic (back/export_plan.c)
 * and its evaluator against numbers computed independently.
 *
 * The model has a batchnorm in each place the plan treats differently:
 *
 *   input 2
 *   batchnorm            bn0: no dense before it -> into the next dense
 *   dense 2; batchnorm   bn1: after a dense -> into that dense
 *   relu
 *   batchnorm            bn2: after relu, a dense next -> into dense_1
 *   dense 2; relu
 *   batchnorm            bn3: a softmax next -> a scale/shift step
 *   softmax
 *
 * with the parameters below. The expected folded weights and the output
 * for x = [0.3, -1.2] were computed with NumPy 1.24 (Debian's
 * python3-numpy), in double with a rounding to float32 at each point the
 * plan rounds (after bn0's fold, after bn1's, ...), and the output as the
 * unfolded model in double:
 *
 *   s = g / sqrt(v + float32(0.001)); t = b - m * s
 *   W0' = f32(s0[:, None] * W0); b0' = f32(b0 + t0 @ W0)
 *   W0'' = f32(W0' * s1); b0'' = f32((b0' - m1) * s1 + beta1)
 *   W1' = f32(s2[:, None] * W1); b1' = f32(b1 + t2 @ W1)
 *   scale = f32(s3), shift = f32(t3)
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

static const char model_text[] =
    "model fold {\n  input 2\n  batchnorm\n  dense 2; batchnorm\n  relu\n  batchnorm\n"
    "  dense 2; relu\n  batchnorm\n  softmax\n}\n"
    "train { loss sparse_categorical_crossentropy }\n";

/* gamma, beta, moving mean, moving variance of bn0..bn3 */
static const float bn[4][4][2] = {
    {{2, 0.5f}, {0.1f, -0.2f}, {1, -1}, {4, 0.25f}},
    {{1, 2}, {0, 1}, {0.5f, 1.5f}, {1, 9}},
    {{3, 1}, {0.5f, 0.5f}, {0, 1}, {0.5f, 2}},
    {{1.5f, 0.25f}, {-1, 2}, {0.2f, -0.3f}, {2, 0.1f}},
};
/* kernels [in, out] row-major, biases */
static const float dense_w[2][4] = {{1, 2, 3, 4}, {1, -2, 0.5f, 3}};
static const float dense_b[2][2] = {{0.5f, -0.5f}, {0.25f, -0.75f}};

typedef struct fixture {
    arena     a;
    ir_model *ir;
    float    *params;
} fixture;

static int setup(void **state)
{
    static fixture f;
    arena_init(&f.a);
    diag d;
    diag_init(&d, "fold.seq", NULL, 0, stderr);
    model *m = arena_alloc(&f.a, sizeof *m);
    if (frontend_load_text(&f.a, &d, model_text, sizeof model_text - 1, m) != 0)
        return -1;
    f.ir = ir_lower(&f.a, m, NULL);
    if (ir_run_passes(f.ir, NULL) != 0)
        return -1;
    f.params = arena_array(&f.a, (size_t)f.ir->param_count, sizeof *f.params);
    int nbn = 0, ndense = 0;
    for (int i = 0; i < f.ir->nops; i++) {
        const ir_op *op = &f.ir->ops[i];
        for (int k = 0; k < 4 && op->param[k] != IR_NONE; k++) {
            const ir_param *p = &f.ir->params[op->param[k]];
            const float *src = op->kind == IR_BATCHNORM ? bn[nbn][k]
                               : k == 0                  ? dense_w[ndense]
                                                         : dense_b[ndense];
            memcpy(f.params + p->offset, src, (size_t)p->count * sizeof(float));
        }
        nbn += op->kind == IR_BATCHNORM;
        ndense += op->kind == IR_DENSE;
    }
    if (nbn != 4 || ndense != 2)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    arena_free(&f->a);
    return 0;
}

static void assert_floats(const float *got, const double *want, int n)
{
    for (int i = 0; i < n; i++)
        assert_close(got[i], want[i], 2e-7 * fmax(1.0, fabs(want[i])));
}

static void test_fold_places(void **state)
{
    fixture *f = *state;
    ex_plan *p = export_plan(&f->a, f->ir, f->params, true, NULL);
    assert_non_null(p);
    /* dense (bn0, bn1 folded), relu, dense_1 (bn2 folded), relu,
     * scale/shift (bn3), softmax (the loss's) */
    static const ex_kind kinds[] = {EX_DENSE, EX_RELU, EX_DENSE, EX_RELU, EX_SCALE_SHIFT,
                                    EX_SOFTMAX};
    assert_int_equal(p->nsteps, 6);
    for (int k = 0; k < 6; k++)
        assert_int_equal(p->steps[k].kind, kinds[k]);
    assert_int_equal(p->nfolds, 3);

    static const double w0[] = {0.9993754625320435, 1.3330925703048706, 2.9925220012664795,
                                2.6612014770507812};
    static const double b0[] = {1.4933964014053345, 0.5948717594146729};
    static const double w1[] = {4.238404273986816, -8.476808547973633, 0.3534650206565857,
                                2.1207902431488037};
    static const double b1[] = {0.6465349793434143, -2.3707902431488037};
    static const double scale[] = {1.0603951215744019, 0.7866459488868713};
    static const double shift[] = {-1.2120790481567383, 2.2359938621520996};
    assert_floats(p->steps[0].w, w0, 4);
    assert_floats(p->steps[0].b, b0, 2);
    assert_floats(p->steps[2].w, w1, 4);
    assert_floats(p->steps[2].b, b1, 2);
    assert_floats(p->steps[4].w, scale, 2);
    assert_floats(p->steps[4].b, shift, 2);
    /* 4 + 2 + 4 + 2 weights, 2 + 2 for the step */
    assert_int_equal(p->weights, 16);
}

/* The folded plan, the unfolded plan and the reference give NumPy's output. */
static void test_outputs(void **state)
{
    fixture *f = *state;
    static const float x[2] = {0.3f, -1.2f};
    static const double want[2] = {0.059385108201353086, 0.9406148917986469};
    double ref[2], r0[8], r1[8];
    assert_true(export_reference_width(f->ir) <= 8);
    export_reference(f->ir, f->params, x, ref, r0, r1);
    assert_close(ref[0], want[0], 1e-6);
    assert_close(ref[1], want[1], 1e-6);
    for (int fold = 0; fold < 2; fold++) {
        ex_plan *p = export_plan(&f->a, f->ir, f->params, fold, NULL);
        assert_non_null(p);
        assert_int_equal(p->nfolds, fold ? 3 : 0);
        float y[2], b0[8], b1[8];
        assert_true(p->max_features <= 8);
        export_plan_eval(p, x, y, b0, b1);
        assert_close(y[0], want[0], 1e-6);
        assert_close(y[1], want[1], 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_places),
        cmocka_unit_test(test_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
