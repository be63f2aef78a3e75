/* test_loss.c: the losses of seqrt.h and the accuracy count.
 * Sparse (class numbers): softmax fused with cross-entropy, cross-entropy
 * on probabilities with Keras's clip. Target rows: categorical and binary
 * cross-entropy (on probabilities and fused with softmax/sigmoid), mse,
 * mae, Huber. Hand-computed values and PyTorch's (the script is quoted
 * above each), the fused paths against the unfused ones, logits of +-100,
 * and gradients against double-precision finite differences on one-hot,
 * soft, 0/1 and real-valued targets at widths 1, 3 and 7. */
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
    seqrt_softmax_xent_backward(2, 2, 3, probs, labels, d);
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
    seqrt_softmax_xent_backward(B, B, C, probs, labels, d1);
    seqrt_xent_backward(B, B, C, p2, labels, dp);
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
    seqrt_xent_backward(2, 2, 2, probs, label0, d);
    for (int i = 0; i < 4; i++)
        assert_close(d[i], 0.0, 0.0);
    /* inside the clip: -1/(N p) in the label's column only */
    const float p2[4] = {0.25f, 0.75f, 0.5f, 0.5f};
    const int32_t labels[2] = {0, 1};
    seqrt_xent_backward(2, 2, 2, p2, labels, d);
    assert_close(d[0], -1.0 / (2 * 0.25), 1e-6);
    assert_close(d[1], 0.0, 0.0);
    assert_close(d[2], 0.0, 0.0);
    assert_close(d[3], -1.0 / (2 * 0.5), 1e-6);
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

enum loss_kind { LOSS_SOFTMAX_XENT, LOSS_XENT };

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
        } else {
            total -= log(row[label]);
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
        switch (kind) {
        case LOSS_SOFTMAX_XENT:
            seqrt_softmax_xent_forward(batch, classes, in, labels, probs);
            seqrt_softmax_xent_backward(batch, batch, classes, probs, labels, d);
            break;
        case LOSS_XENT:
            seqrt_xent_backward(batch, batch, classes, in, labels, d);
            break;
        }
        loss_ctx c = {kind, batch, classes, widen(in, n), labels};
        /* the float forward agrees with the double reference too */
        float fwd = kind == LOSS_SOFTMAX_XENT ? seqrt_softmax_xent_forward(batch, classes, in, labels, probs)
                                              : seqrt_xent_forward(batch, classes, in, labels);
        double ref = loss_ref(&c);
        assert_close(fwd, ref, 1e-6 * (1.0 + fabs(ref)));
        double *num = dalloc(n);
        gc_numeric(loss_ref, &c, c.in, n, num);
        double e = gc_rel_err(d, num, n);
        worst = e > worst ? e : worst;
        free(num);
        free(c.in);
        free(in); free(probs); free(d); free(labels);
    }
    gc_report(name, worst);
}

static void softmax_xent_gradcheck(void **state)
{
    loss_gradcheck(LOSS_SOFTMAX_XENT, "softmax_xent.dlogits");
}
static void xent_gradcheck(void **state) { loss_gradcheck(LOSS_XENT, "xent.dprobs"); }

/* ------------------------------------------- losses against target rows */

/* Reference values: PyTorch 2 in float64 at the float32 inputs below,
 * run with /usr/bin/python3 (torch.set_default_dtype(torch.float64);
 * x = torch.tensor(np.array(X, dtype=np.float32).astype(np.float64),
 * requires_grad=True); loss.backward(); x.grad). Keras computes in
 * float32, so its clip bounds are float32(1e-7) and float32(1 - 1e-7)
 * = 1 - 2^-23: eps = float(np.float32(1e-7)), hi = float(np.float32(1 - 1e-7)).
 * A gradient "want" row is x.grad, flattened. */

static void check_grad(const float *got, const double *want, int n, double tol)
{
    for (int i = 0; i < n; i++)
        assert_close(got[i], want[i], tol * (1.0 + fabs(want[i])));
}

static void cce_torch(void **state)
{
    /* (-(t * torch.log(p.clamp(eps, hi))).sum(1)).mean(); the 0 in row 2
     * is clipped (its gradient 0) */
    const float p[9] = {0.2f, 0.7f, 0.1f, 0.5f, 0.25f, 0.25f, 0.0f, 0.4f, 0.6f};
    const float t[9] = {0, 1, 0, 0.2f, 0.3f, 0.5f, 0.1f, 0.6f, 0.3f};
    const double want[9] = {0, -0.4761904843, 0, -0.1333333353, -0.4000000159,
                            -0.6666666667, 0, -0.5000000124, -0.1666666667};
    assert_close(seqrt_cce_forward(3, 3, p, t), 1.30639054195, 1e-6);
    float d[9];
    seqrt_cce_backward(3, 3, 3, p, t, d);
    check_grad(d, want, 9, 1e-6);
}

static void softmax_cce_torch(void **state)
{
    /* F.cross_entropy(z, t) with probability targets t; row 2 has logits
     * of +-100 */
    const float z[9] = {1, 2, 3, 0.5f, -1, 0, 100, -100, 0};
    const float t[9] = {0, 0, 1, 0.2f, 0.3f, 0.5f, 0.25f, 0.25f, 0.5f};
    const double want[9] = {0.03001019106, 0.08157615702, -0.1115863481,
                            0.1155164641, -0.0593494526, -0.05616701155,
                            0.25, -0.08333333333, -0.1666666667};
    float probs[9], d[9];
    float loss = seqrt_softmax_cce_forward(3, 3, z, t, probs);
    assert_close(loss, 33.9039121989, 1e-5);
    seqrt_softmax_cce_backward(3, 3, 3, probs, t, d);
    check_grad(d, want, 9, 1e-6);
}

static void bce_torch(void **state)
{
    /* F.binary_cross_entropy(p.clamp(eps, hi), t): p = 0 and p = 1 are
     * clipped (gradient 0); p == t = 0.6 has gradient 0 as well */
    const float p[6] = {0.9f, 0.2f, 0.3f, 0.0f, 1.0f, 0.6f};
    const float t[6] = {1, 0, 0.25f, 1, 0, 0.6f};
    const double want[6] = {-0.1851851901, 0.2083333341, 0.03968254824, 0, 0, 0};
    assert_close(seqrt_bce_forward(3, 2, p, t), 5.60508265976, 1e-5);
    float d[6];
    seqrt_bce_backward(3, 3, 2, p, t, d);
    check_grad(d, want, 6, 1e-6);
}

static void sigmoid_bce_torch(void **state)
{
    /* F.binary_cross_entropy_with_logits(z, t), logits of +-100 among them */
    const float z[6] = {2.0f, -1.5f, 100, -100, 0.0f, 0.25f};
    const float t[6] = {1, 0, 0, 1, 0.5f, 0.75f};
    const double want[6] = {-0.01986715367, 0.03040425397, 0.1666666667,
                            -0.1666666667, 0, -0.03130391652};
    float probs[6], d[6];
    float loss = seqrt_sigmoid_bce_forward(2, 3, z, t, probs);
    assert_close(loss, 33.6099879816, 1e-5);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(probs[i]) && probs[i] >= 0.0f && probs[i] <= 1.0f);
    seqrt_sigmoid_bce_backward(2, 2, 3, probs, t, d);
    check_grad(d, want, 6, 1e-6);
}

static void regression_torch(void **state)
{
    /* F.mse_loss, F.l1_loss, F.huber_loss(delta=1.0 and 2.5): the errors
     * pred - t = (0.5, -2.5, 0, 4, -0.25, -2.75) lie on both sides of
     * both deltas, and one is 0 (mae's gradient 0 there) */
    const float pred[6] = {1.5f, -2.0f, 0.25f, 3.0f, 0.5f, -0.75f};
    const float t[6] = {1.0f, 0.5f, 0.25f, -1.0f, 0.75f, 2.0f};
    const double want_mse[6] = {0.1666666667, -0.8333333333, 0, 1.333333333,
                                -0.08333333333, -0.9166666667};
    const double want_mae[6] = {0.1666666667, -0.1666666667, 0, 0.1666666667,
                                -0.1666666667, -0.1666666667};
    const double want_h1[6] = {0.08333333333, -0.1666666667, 0, 0.1666666667,
                               -0.04166666667, -0.1666666667};
    const double want_h25[6] = {0.08333333333, -0.4166666667, 0, 0.4166666667,
                                -0.04166666667, -0.4166666667};
    float d[6];
    assert_close(seqrt_mse_forward(2, 3, pred, t), 5.02083333333, 1e-6);
    seqrt_mse_backward(2, 2, 3, pred, t, d);
    check_grad(d, want_mse, 6, 1e-6);
    assert_close(seqrt_mae_forward(2, 3, pred, t), 1.66666666667, 1e-6);
    seqrt_mae_backward(2, 2, 3, pred, t, d);
    check_grad(d, want_mae, 6, 1e-6);
    assert_close(seqrt_huber_forward(2, 3, pred, t, 1.0f), 1.31770833333, 1e-6);
    seqrt_huber_backward(2, 2, 3, pred, t, 1.0f, d);
    check_grad(d, want_h1, 6, 1e-6);
    assert_close(seqrt_huber_forward(2, 3, pred, t, 2.5f), 2.31770833333, 1e-6);
    seqrt_huber_backward(2, 2, 3, pred, t, 2.5f, d);
    check_grad(d, want_h25, 6, 1e-6);
}

/* Huber at |d| == delta: both pieces give 0.5 delta^2 and slope delta */
static void huber_at_delta(void **state)
{
    const float pred[2] = {3.0f, -1.0f}, t[2] = {1.0f, 1.0f};
    assert_close(seqrt_huber_forward(1, 2, pred, t, 2.0f), 2.0, 0.0);
    float d[2];
    seqrt_huber_backward(1, 1, 2, pred, t, 2.0f, d);
    assert_close(d[0], 1.0, 0.0);
    assert_close(d[1], -1.0, 0.0);
}

/* Logits of +-100 and beyond: finite losses, probabilities and
 * gradients, and the right values (a confident wrong logit of 100 costs
 * 100, a confident right one about e^-100). */
static void extreme_logits_finite(void **state)
{
    const float z[4] = {100, -100, 1000, -1000};
    const float t01[4] = {0, 1, 1, 0};  /* all wrong except the +-1000 */
    float probs[4], d[4];
    float loss = seqrt_sigmoid_bce_forward(2, 2, z, t01, probs);
    assert_close(loss, (100.0 + 100.0 + 0.0 + 0.0) / 4.0, 1e-5);
    seqrt_sigmoid_bce_backward(2, 2, 2, probs, t01, d);
    for (int i = 0; i < 4; i++)
        assert_true(isfinite(probs[i]) && isfinite(d[i]));
    assert_close(d[0], 0.25, 1e-7);
    assert_close(d[1], -0.25, 1e-7);
    assert_close(d[2], 0.0, 1e-7);

    const float zs[6] = {100, -100, 0, -100, 100, 100};
    const float ts[6] = {0, 1, 0, 0.5f, 0, 0.5f};
    float ps[6], ds[6];
    /* row 0: 100 - (-100) = 200 (log-sum-exp ~ 100); row 1: the target's
     * mass on 100 costs 0 (two maxima: log 2 from the sum) and on -100
     * costs 200 + log 2: 0.5 * (200 + log 2) + 0.5 * log 2 */
    loss = seqrt_softmax_cce_forward(2, 3, zs, ts, ps);
    assert_close(loss, (200.0 + 100.0 + log(2.0)) / 2.0, 1e-4);
    seqrt_softmax_cce_backward(2, 2, 3, ps, ts, ds);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(ps[i]) && isfinite(ds[i]));
}

/* The fused kernels against their unfused chains (softmax or sigmoid,
 * then the loss on probabilities), loss and logits' gradient, with soft
 * targets. */
static void fused_match_unfused(void **state)
{
    enum { B = 5, C = 7 };
    trand r = {77};
    float *z = frand(&r, B * C, -4, 4), *t = frand(&r, B * C, 0, 1);
    /* rows of t that sum to 1 for the categorical pair */
    float tc[B * C];
    for (int i = 0; i < B; i++) {
        double s = 0;
        for (int j = 0; j < C; j++)
            s += t[i * C + j];
        for (int j = 0; j < C; j++)
            tc[i * C + j] = (float)(t[i * C + j] / s);
    }
    float p1[B * C], p2[B * C], d1[B * C], dp[B * C], d2[B * C];
    float fused = seqrt_softmax_cce_forward(B, C, z, tc, p1);
    seqrt_softmax_forward(B, C, z, p2);
    assert_close(fused, seqrt_cce_forward(B, C, p2, tc), 1e-5);
    seqrt_softmax_cce_backward(B, B, C, p1, tc, d1);
    seqrt_cce_backward(B, B, C, p2, tc, dp);
    seqrt_softmax_backward(B, C, z, p2, dp, d2);
    for (int i = 0; i < B * C; i++)
        assert_close(d1[i], d2[i], 1e-6);

    fused = seqrt_sigmoid_bce_forward(B, C, z, t, p1);
    seqrt_sigmoid_forward((size_t)B * C, z, p2);
    assert_close(fused, seqrt_bce_forward(B, C, p2, t), 1e-5);
    seqrt_sigmoid_bce_backward(B, B, C, p1, t, d1);
    seqrt_bce_backward(B, B, C, p2, t, dp);
    seqrt_sigmoid_backward((size_t)B * C, z, p2, dp, d2);
    for (int i = 0; i < B * C; i++) {
        assert_close(p1[i], p2[i], 1e-7);
        assert_close(d1[i], d2[i], 1e-6);
    }
    free(z);
    free(t);
}

/* --------------------------------- gradient check against target rows */

enum row_loss {
    ROW_CCE, ROW_SOFTMAX_CCE, ROW_BCE, ROW_SIGMOID_BCE, ROW_MSE, ROW_MAE, ROW_HUBER
};
/* how the targets are drawn: T_SOFT rows of the categorical losses are
 * normalized to sum to 1; T_UNNORMALIZED are rows of values >= 0 that do
 * not (a target kind seqrt.h allows: the gradient is p sum(t) - t) */
enum row_target { T_ONEHOT, T_SOFT, T_UNNORMALIZED, T_BINARY, T_REAL };

typedef struct row_ctx {
    enum row_loss kind;
    int batch, width;
    double *in;      /* [batch, width] probabilities, logits or predictions */
    const double *t; /* [batch, width] */
    double delta;
} row_ctx;

/* the loss in double, straight from its definition */
static double row_ref(void *p)
{
    const row_ctx *c = p;
    double total = 0.0;
    for (int i = 0; i < c->batch; i++) {
        const double *x = c->in + (size_t)i * c->width, *t = c->t + (size_t)i * c->width;
        double max = x[0], sum = 0.0;
        for (int j = 1; j < c->width; j++)
            max = x[j] > max ? x[j] : max;
        for (int j = 0; j < c->width; j++)
            sum += exp(x[j] - max);
        for (int j = 0; j < c->width; j++) {
            double d = x[j] - t[j], a = fabs(d), s = 1.0 / (1.0 + exp(-x[j]));
            switch (c->kind) {
            case ROW_CCE: total -= t[j] * log(x[j]); break;
            case ROW_SOFTMAX_CCE: total -= t[j] * (x[j] - max - log(sum)); break;
            case ROW_BCE: total -= t[j] * log(x[j]) + (1 - t[j]) * log(1 - x[j]); break;
            case ROW_SIGMOID_BCE: total -= t[j] * log(s) + (1 - t[j]) * log(1 - s); break;
            case ROW_MSE: total += d * d; break;
            case ROW_MAE: total += a; break;
            case ROW_HUBER:
                total += a <= c->delta ? 0.5 * d * d : c->delta * (a - 0.5 * c->delta);
                break;
            }
        }
    }
    /* the cross-entropies over categories: mean over rows; the element-wise
     * losses: mean over rows and columns */
    int per_row = c->kind == ROW_CCE || c->kind == ROW_SOFTMAX_CCE;
    return total / (per_row ? c->batch : (double)c->batch * c->width);
}

static float row_forward(const row_ctx *c, const float *in, const float *t, float *probs)
{
    int b = c->batch, w = c->width;
    switch (c->kind) {
    case ROW_CCE: return seqrt_cce_forward(b, w, in, t);
    case ROW_SOFTMAX_CCE: return seqrt_softmax_cce_forward(b, w, in, t, probs);
    case ROW_BCE: return seqrt_bce_forward(b, w, in, t);
    case ROW_SIGMOID_BCE: return seqrt_sigmoid_bce_forward(b, w, in, t, probs);
    case ROW_MSE: return seqrt_mse_forward(b, w, in, t);
    case ROW_MAE: return seqrt_mae_forward(b, w, in, t);
    case ROW_HUBER: return seqrt_huber_forward(b, w, in, t, (float)c->delta);
    }
    return NAN;
}

static void row_backward(const row_ctx *c, const float *in, const float *t,
                         const float *probs, float *d)
{
    int b = c->batch, w = c->width;
    switch (c->kind) {
    case ROW_CCE: seqrt_cce_backward(b, b, w, in, t, d); break;
    case ROW_SOFTMAX_CCE: seqrt_softmax_cce_backward(b, b, w, probs, t, d); break;
    case ROW_BCE: seqrt_bce_backward(b, b, w, in, t, d); break;
    case ROW_SIGMOID_BCE: seqrt_sigmoid_bce_backward(b, b, w, probs, t, d); break;
    case ROW_MSE: seqrt_mse_backward(b, b, w, in, t, d); break;
    case ROW_MAE: seqrt_mae_backward(b, b, w, in, t, d); break;
    case ROW_HUBER: seqrt_huber_backward(b, b, w, in, t, (float)c->delta, d); break;
    }
}

/* widths 1, 3 and 7 at several batch sizes */
static const int row_shapes[][2] = {{1, 1}, {4, 1}, {1, 3}, {5, 3}, {3, 7}, {17, 7}};
#define ROW_NSHAPES (sizeof row_shapes / sizeof row_shapes[0])

static void row_gradcheck(enum row_loss kind, enum row_target tk, const char *name)
{
    trand r = {1000 + 10 * (uint64_t)kind + (uint64_t)tk};
    double worst = 0.0;
    for (size_t s = 0; s < ROW_NSHAPES; s++) {
        int batch = row_shapes[s][0], width = row_shapes[s][1];
        size_t n = (size_t)batch * width;
        /* probabilities stay inside the clip; logits and predictions span
         * both sides of Huber's delta (1) against targets in [-2, 2] */
        int on_probs = kind == ROW_CCE || kind == ROW_BCE;
        float *in = on_probs ? frand(&r, n, 0.05, 0.95) : frand(&r, n, -4, 4);
        float *t = falloc(n);
        for (int i = 0; i < batch; i++) {
            int hot = (int)(trand_unit(&r) * width);
            double rs = 0.0;
            for (int j = 0; j < width; j++) {
                float *v = &t[(size_t)i * width + j];
                switch (tk) {
                case T_ONEHOT: *v = j == hot ? 1.0f : 0.0f; break;
                case T_SOFT:
                case T_UNNORMALIZED: *v = trand_range(&r, 0, 1); break;
                case T_BINARY: *v = trand_unit(&r) < 0.5 ? 0.0f : 1.0f; break;
                case T_REAL: *v = trand_range(&r, -2, 2); break;
                }
                rs += *v;
            }
            /* soft categorical targets: probability rows */
            if (tk == T_SOFT && (kind == ROW_CCE || kind == ROW_SOFTMAX_CCE))
                for (int j = 0; j < width; j++)
                    t[(size_t)i * width + j] = (float)(t[(size_t)i * width + j] / rs);
        }
        float *probs = falloc(n), *d = falloc(n);
        double *td = widen(t, n);
        row_ctx c = {kind, batch, width, widen(in, n), td, 1.0};
        float fwd = row_forward(&c, in, t, probs);
        row_backward(&c, in, t, probs, d);
        double ref = row_ref(&c);
        assert_close(fwd, ref, 2e-6 * (1.0 + fabs(ref)));
        double *num = dalloc(n);
        gc_numeric(row_ref, &c, c.in, n, num);
        double e = gc_rel_err(d, num, n);
        worst = e > worst ? e : worst;
        free(num); free(c.in); free(td);
        free(in); free(t); free(probs); free(d);
    }
    gc_report(name, worst);
}

static void cce_gradcheck(void **state)
{
    row_gradcheck(ROW_CCE, T_ONEHOT, "cce.dprobs(one-hot)");
    row_gradcheck(ROW_CCE, T_SOFT, "cce.dprobs(soft)");
    row_gradcheck(ROW_CCE, T_UNNORMALIZED, "cce.dprobs(unnormalized)");
}
static void softmax_cce_gradcheck(void **state)
{
    row_gradcheck(ROW_SOFTMAX_CCE, T_ONEHOT, "softmax_cce.dlogits(one-hot)");
    row_gradcheck(ROW_SOFTMAX_CCE, T_SOFT, "softmax_cce.dlogits(soft)");
    row_gradcheck(ROW_SOFTMAX_CCE, T_UNNORMALIZED, "softmax_cce.dlogits(unnormalized)");
}
static void bce_gradcheck(void **state)
{
    row_gradcheck(ROW_BCE, T_BINARY, "bce.dprobs(0/1)");
    row_gradcheck(ROW_BCE, T_SOFT, "bce.dprobs(soft)");
}
static void sigmoid_bce_gradcheck(void **state)
{
    row_gradcheck(ROW_SIGMOID_BCE, T_BINARY, "sigmoid_bce.dlogits(0/1)");
    row_gradcheck(ROW_SIGMOID_BCE, T_SOFT, "sigmoid_bce.dlogits(soft)");
}
static void mse_gradcheck(void **state) { row_gradcheck(ROW_MSE, T_REAL, "mse.dpred"); }
static void mae_gradcheck(void **state) { row_gradcheck(ROW_MAE, T_REAL, "mae.dpred"); }
static void huber_gradcheck(void **state) { row_gradcheck(ROW_HUBER, T_REAL, "huber.dpred"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(softmax_xent_forward_hand),
        cmocka_unit_test(softmax_xent_stable),
        cmocka_unit_test(softmax_xent_backward_hand),
        cmocka_unit_test(softmax_xent_matches_unfused),
        cmocka_unit_test(xent_forward_hand),
        cmocka_unit_test(xent_clips_like_keras),
        cmocka_unit_test(accuracy_first_max),
        cmocka_unit_test(softmax_xent_gradcheck),
        cmocka_unit_test(xent_gradcheck),
        cmocka_unit_test(cce_torch),
        cmocka_unit_test(softmax_cce_torch),
        cmocka_unit_test(bce_torch),
        cmocka_unit_test(sigmoid_bce_torch),
        cmocka_unit_test(regression_torch),
        cmocka_unit_test(huber_at_delta),
        cmocka_unit_test(extreme_logits_finite),
        cmocka_unit_test(fused_match_unfused),
        cmocka_unit_test(cce_gradcheck),
        cmocka_unit_test(softmax_cce_gradcheck),
        cmocka_unit_test(bce_gradcheck),
        cmocka_unit_test(sigmoid_bce_gradcheck),
        cmocka_unit_test(mse_gradcheck),
        cmocka_unit_test(mae_gradcheck),
        cmocka_unit_test(huber_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
