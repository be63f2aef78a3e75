/* test_loss.c: softmax fused with sparse categorical cross-entropy,
 * categorical cross-entropy on probabilities (with Keras's clip), mse
 * against one-hot, and the accuracy count: hand-computed values, the
 * fused path against the unfused one, and gradients against
 * double-precision finite differences. */
#include "kernel_test.h"

#include "seqrt.h"

static void softmax_xent_forward_hand(void **state)
{
    /* row 0: logits (1,2,3), label 2: log(e^1+e^2+e^3) - 3
     * row 1: logits (0,0,0), label 0: log 3 */
    const float z[6] = {1, 2, 3, 0, 0, 0};
    const int32_t labels[2] = {2, 0};
    float probs[6];
    float loss = seqrt_softmax_xent_forward(2, 3, z, labels, probs);
    double row0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3.0;
    assert_close(loss, (row0 + log(3.0)) / 2.0, 1e-6);
    assert_close(probs[2], exp(3.0) / (exp(1.0) + exp(2.0) + exp(3.0)), 1e-7);
    for (int j = 0; j < 3; j++)
        assert_close(probs[3 + j], 1.0 / 3.0, 1e-7);
}

static void softmax_xent_stable(void **state)
{
    /* logits far apart: exp(1000) would overflow a float; log-sum-exp
     * gives loss 1000 for label 1 and about 0 for label 0 */
    const float z[6] = {1000, 0, -1000, 1000, 0, -1000};
    const int32_t labels[2] = {1, 0};
    float probs[6];
    float loss = seqrt_softmax_xent_forward(2, 3, z, labels, probs);
    assert_true(isfinite(loss));
    assert_close(loss, 500.0, 1e-3);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(probs[i]));
    assert_close(probs[0], 1.0, 0.0);
    assert_close(probs[1], 0.0, 1e-30);
}

static void softmax_xent_backward_hand(void **state)
{
    const float probs[6] = {0.2f, 0.3f, 0.5f, 0.6f, 0.3f, 0.1f};
    const int32_t labels[2] = {2, 0};
    const float want[6] = {0.1f, 0.15f, -0.25f, -0.2f, 0.15f, 0.05f};
    float d[6];
    seqrt_softmax_xent_backward(2, 3, probs, labels, d);
    for (int i = 0; i < 6; i++)
        assert_close(d[i], want[i], 1e-7);
}

/* The fused kernel agrees with softmax then categorical cross-entropy,
 * in the loss and (through softmax's backward) in the logits' gradient. */
static void softmax_xent_matches_unfused(void **state)
{
    enum { B = 6, C = 10 };
    trand r = {41};
    float *z = frand(&r, B * C, -4, 4);
    int32_t labels[B];
    for (int i = 0; i < B; i++)
        labels[i] = (int32_t)(trand_unit(&r) * C);
    float probs[B * C], p2[B * C], d1[B * C], dp[B * C], d2[B * C];
    float fused = seqrt_softmax_xent_forward(B, C, z, labels, probs);
    seqrt_softmax_forward(B, C, z, p2);
    float unfused = seqrt_xent_forward(B, C, p2, labels);
    assert_close(fused, unfused, 1e-5);
    seqrt_softmax_xent_backward(B, C, probs, labels, d1);
    seqrt_xent_backward(B, C, p2, labels, dp);
    seqrt_softmax_backward(B, C, z, p2, dp, d2);
    for (int i = 0; i < B * C; i++) {
        assert_close(probs[i], p2[i], 1e-6);
        assert_close(d1[i], d2[i], 1e-6);
    }
    free(z);
}

static void xent_forward_hand(void **state)
{
    const float probs[6] = {0.2f, 0.7f, 0.1f, 0.5f, 0.25f, 0.25f};
    const int32_t labels[2] = {1, 0};
    float loss = seqrt_xent_forward(2, 3, probs, labels);
    assert_close(loss, -(log(0.7) + log(0.5)) / 2.0, 1e-6);
}

static void xent_clips_like_keras(void **state)
{
    /* p = 0 is clipped to 1e-7: loss -log(1e-7) = 16.118..., finite;
     * p = 1 to 1 - 1e-7 in float (1 - 2^-23 after rounding), loss ~1e-7;
     * clipped entries get no gradient */
    const float probs[4] = {0.0f, 1.0f, 1.0f, 0.0f};
    const int32_t label0[2] = {0, 0};
    float loss = seqrt_xent_forward(2, 2, probs, label0);
    assert_true(isfinite(loss));
    assert_close(loss, (-log(1e-7) - log(1.0 - 1.19209e-7)) / 2.0, 1e-4);
    float d[4];
    seqrt_xent_backward(2, 2, probs, label0, d);
    for (int i = 0; i < 4; i++)
        assert_close(d[i], 0.0, 0.0);
    /* inside the clip: -1/(N p) in the label's column only */
    const float p2[4] = {0.25f, 0.75f, 0.5f, 0.5f};
    const int32_t labels[2] = {0, 1};
    seqrt_xent_backward(2, 2, p2, labels, d);
    assert_close(d[0], -1.0 / (2 * 0.25), 1e-6);
    assert_close(d[1], 0.0, 0.0);
    assert_close(d[2], 0.0, 0.0);
    assert_close(d[3], -1.0 / (2 * 0.5), 1e-6);
}

static void mse_hand(void **state)
{
    /* pred [[0.5,0.2],[1,0]], labels [0,1] -> targets [[1,0],[0,1]]:
     * squares 0.25 + 0.04 + 1 + 1 = 2.29, mean over 4 = 0.5725 */
    const float pred[4] = {0.5f, 0.2f, 1.0f, 0.0f};
    const float t[4] = {1, 0, 0, 1};
    assert_close(seqrt_mse_forward(2, 2, pred, t), 0.5725, 1e-7);
    float d[4];
    seqrt_mse_backward(2, 2, pred, t, d);
    /* 2 (p - t) / 4 */
    assert_close(d[0], -0.25, 1e-7);
    assert_close(d[1], 0.1, 1e-7);
    assert_close(d[2], 0.5, 1e-7);
    assert_close(d[3], -0.5, 1e-7);
}

static void accuracy_first_max(void **state)
{
    const float s[12] = {0.1f, 0.7f, 0.2f,  /* arg-max 1 */
                         3, 3, 1,           /* tie: first maximum, 0 */
                         -1, -2, -0.5f,     /* 2 */
                         5, 5, 5};          /* 0 */
    const int32_t right[4] = {1, 0, 2, 0};
    const int32_t wrong[4] = {0, 1, 1, 2};
    const int32_t half[4] = {1, 1, 2, 2};
    assert_int_equal(seqrt_accuracy_count(4, 3, s, right), 4);
    assert_int_equal(seqrt_accuracy_count(4, 3, s, wrong), 0);
    assert_int_equal(seqrt_accuracy_count(4, 3, s, half), 2);
}

/* ------------------------------------------------------- gradient check */

enum loss_kind { LOSS_SOFTMAX_XENT, LOSS_XENT, LOSS_MSE };

typedef struct loss_ctx {
    enum loss_kind kind;
    int batch, classes;
    double *in;
    const int32_t *labels;
} loss_ctx;

/* the mean loss, in double */
static double loss_ref(void *p)
{
    const loss_ctx *c = p;
    double total = 0.0;
    for (int i = 0; i < c->batch; i++) {
        const double *row = c->in + (size_t)i * c->classes;
        int label = c->labels[i];
        if (c->kind == LOSS_SOFTMAX_XENT) {
            double max = row[0], sum = 0.0;
            for (int j = 1; j < c->classes; j++)
                max = row[j] > max ? row[j] : max;
            for (int j = 0; j < c->classes; j++)
                sum += exp(row[j] - max);
            total += max + log(sum) - row[label];
        } else if (c->kind == LOSS_XENT) {
            total -= log(row[label]);
        } else {
            for (int j = 0; j < c->classes; j++) {
                double d = row[j] - (j == label);
                total += d * d / c->classes;
            }
        }
    }
    return total / c->batch;
}

static void loss_gradcheck(enum loss_kind kind, const char *name)
{
    trand r = {42 + (uint64_t)kind};
    double worst = 0.0;
    for (size_t s = 0; s < GC_NSHAPES; s++) {
        int batch = gc_shapes[s][0], classes = gc_shapes[s][1];
        size_t n = (size_t)batch * classes;
        /* probabilities for the cross-entropy stay inside its clip */
        float *in = kind == LOSS_XENT ? frand(&r, n, 0.05, 1.0) : frand(&r, n, -3, 3);
        float *probs = falloc(n), *d = falloc(n);
        int32_t *labels = malloc((size_t)batch * sizeof *labels);
        assert_non_null(labels);
        for (int i = 0; i < batch; i++)
            labels[i] = (int32_t)(trand_unit(&r) * classes);
        float *onehot = falloc(n); /* the mse's targets: the labels one-hot */
        for (size_t i = 0; i < n; i++)
            onehot[i] = (int)(i % (size_t)classes) == labels[i / (size_t)classes] ? 1.0f : 0.0f;
        switch (kind) {
        case LOSS_SOFTMAX_XENT:
            seqrt_softmax_xent_forward(batch, classes, in, labels, probs);
            seqrt_softmax_xent_backward(batch, classes, probs, labels, d);
            break;
        case LOSS_XENT:
            seqrt_xent_backward(batch, classes, in, labels, d);
            break;
        case LOSS_MSE:
            seqrt_mse_backward(batch, classes, in, onehot, d);
            break;
        }
        loss_ctx c = {kind, batch, classes, widen(in, n), labels};
        /* the float forward agrees with the double reference too */
        float fwd = kind == LOSS_SOFTMAX_XENT ? seqrt_softmax_xent_forward(batch, classes, in, labels, probs)
                  : kind == LOSS_XENT         ? seqrt_xent_forward(batch, classes, in, labels)
                                              : seqrt_mse_forward(batch, classes, in, onehot);
        double ref = loss_ref(&c);
        assert_close(fwd, ref, 1e-6 * (1.0 + fabs(ref)));
        double *num = dalloc(n);
        gc_numeric(loss_ref, &c, c.in, n, num);
        double e = gc_rel_err(d, num, n);
        worst = e > worst ? e : worst;
        free(num);
        free(c.in);
        free(in); free(probs); free(d); free(labels); free(onehot);
    }
    gc_report(name, worst);
}

static void softmax_xent_gradcheck(void **state)
{
    loss_gradcheck(LOSS_SOFTMAX_XENT, "softmax_xent.dlogits");
}
static void xent_gradcheck(void **state) { loss_gradcheck(LOSS_XENT, "xent.dprobs"); }
static void mse_gradcheck(void **state) { loss_gradcheck(LOSS_MSE, "mse.dpred"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(softmax_xent_forward_hand),
        cmocka_unit_test(softmax_xent_stable),
        cmocka_unit_test(softmax_xent_backward_hand),
        cmocka_unit_test(softmax_xent_matches_unfused),
        cmocka_unit_test(xent_forward_hand),
        cmocka_unit_test(xent_clips_like_keras),
        cmocka_unit_test(mse_hand),
        cmocka_unit_test(accuracy_first_max),
        cmocka_unit_test(softmax_xent_gradcheck),
        cmocka_unit_test(xent_gradcheck),
        cmocka_unit_test(mse_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
