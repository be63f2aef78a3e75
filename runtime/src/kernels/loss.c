/* loss.c: the losses (seqrt.h, "losses") and the accuracy count.
 *
 * Against class numbers: softmax fused with sparse categorical
 * cross-entropy, and sparse categorical cross-entropy on probabilities.
 * Against target rows t [batch, width]: categorical cross-entropy (on
 * probabilities, or fused with softmax), binary cross-entropy (on
 * probabilities, or fused with the sigmoid), mse, mae and Huber.
 *
 * Every loss returns the mean over the batch (the element-wise ones: over
 * the batch and the width, as Keras takes the mean over the last axis and
 * then over the rows); every gradient is already divided by the same
 * count, or by `total` rows when the batch is one rank's shard of a
 * larger one (seqrt.h). Sums are taken in double: the loss is reported, and a float sum
 * of thousands of terms would lose digits. No exp of a large positive
 * number anywhere, so logits of any size give finite losses. */
#include "seqrt.h"

#include <math.h>

/* Keras's backend epsilon: probabilities are clipped to [eps, 1 - eps]. */
#define SEQRT_XENT_CLIP 1e-7f

/* logits, probs [batch,classes]; labels [batch].
 * Per row: m = max z, s = sum exp(z - m), p = exp(z - m)/s,
 * loss = m + log(s) - z[label]; never exp of a positive number. */
float seqrt_softmax_xent_forward(int batch, int classes, const float *logits,
                                 const int32_t *labels, float *probs)
{
    double total = 0.0;
    for (int i = 0; i < batch; i++) {
        const float *zr = logits + (size_t)i * classes;
        float *pr = probs + (size_t)i * classes;
        float max = zr[0];
        for (int j = 1; j < classes; j++)
            if (zr[j] > max)
                max = zr[j];
        float sum = 0.0f;
        for (int j = 0; j < classes; j++) {
            pr[j] = expf(zr[j] - max);
            sum += pr[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < classes; j++)
            pr[j] *= inv;
        total += (double)(max - zr[labels[i]]) + log((double)sum);
    }
    return batch > 0 ? (float)(total / batch) : 0.0f;
}

void seqrt_softmax_xent_backward(int batch, int total, int classes, const float *probs,
                                 const int32_t *labels, float *dlogits)
{
    const float inv_n = 1.0f / (float)total;
    for (int i = 0; i < batch; i++) {
        const float *pr = probs + (size_t)i * classes;
        float *dr = dlogits + (size_t)i * classes;
        for (int j = 0; j < classes; j++)
            dr[j] = pr[j] * inv_n;
        dr[labels[i]] -= inv_n;
    }
}

/* loss = mean over rows of -log(clip(p[label], eps, 1 - eps)).
 * Only the label's column of a one-hot target contributes. */
float seqrt_xent_forward(int batch, int classes, const float *probs,
                         const int32_t *labels)
{
    double total = 0.0;
    for (int i = 0; i < batch; i++) {
        float p = probs[(size_t)i * classes + labels[i]];
        if (p < SEQRT_XENT_CLIP)
            p = SEQRT_XENT_CLIP;
        else if (p > 1.0f - SEQRT_XENT_CLIP)
            p = 1.0f - SEQRT_XENT_CLIP;
        total -= log((double)p);
    }
    return batch > 0 ? (float)(total / batch) : 0.0f;
}

/* dprobs = -1/(N p[label]) in the label's column, 0 elsewhere; 0 as well
 * where the clip is active, since clipping is flat there (as in TF). */
void seqrt_xent_backward(int batch, int total, int classes, const float *probs,
                         const int32_t *labels, float *dprobs)
{
    const float inv_n = 1.0f / (float)total;
    for (int i = 0; i < batch; i++) {
        const float *pr = probs + (size_t)i * classes;
        float *dr = dprobs + (size_t)i * classes;
        for (int j = 0; j < classes; j++)
            dr[j] = 0.0f;
        float p = pr[labels[i]];
        if (p >= SEQRT_XENT_CLIP && p <= 1.0f - SEQRT_XENT_CLIP)
            dr[labels[i]] = -inv_n / p;
    }
}

/* clip(p) to [eps, 1 - eps], as Keras; *active says whether the clip
 * changed p (its gradient is then 0, as TensorFlow's clip_by_value) */
static float clip_prob(float p, int *active)
{
    *active = !(p >= SEQRT_XENT_CLIP && p <= 1.0f - SEQRT_XENT_CLIP);
    if (p < SEQRT_XENT_CLIP)
        return SEQRT_XENT_CLIP;
    if (p > 1.0f - SEQRT_XENT_CLIP)
        return 1.0f - SEQRT_XENT_CLIP;
    return p; /* NaN stays NaN: a broken model shows in its loss */
}

/* -------------------------------------------- categorical cross-entropy */

/* probs, t [batch,classes]: loss = mean over rows of
 * -sum_j t_j log(clip(p_j)). Unlike Keras 3 the rows of probs are not
 * divided by their sum first: they come from a softmax. */
float seqrt_cce_forward(int batch, int classes, const float *probs, const float *t)
{
    double total = 0.0;
    const size_t n = (size_t)batch * (size_t)classes;
    for (size_t k = 0; k < n; k++) {
        int active;
        float p = clip_prob(probs[k], &active);
        total -= (double)t[k] * log((double)p);
    }
    return batch > 0 ? (float)(total / batch) : 0.0f;
}

/* dprobs = -t / (N clip(p)); 0 where the clip is active */
void seqrt_cce_backward(int batch, int total, int classes, const float *probs, const float *t,
                        float *dprobs)
{
    const float inv_n = 1.0f / (float)total;
    const size_t n = (size_t)batch * (size_t)classes;
    for (size_t k = 0; k < n; k++) {
        int active;
        float p = clip_prob(probs[k], &active);
        dprobs[k] = active ? 0.0f : -t[k] * inv_n / p;
    }
}

/* Per row: m = max z, e_j = exp(z_j - m), s = sum e_j, p = e / s;
 * -sum_j t_j log p_j = sum_j t_j (m - z_j) + log(s) sum_j t_j. */
float seqrt_softmax_cce_forward(int batch, int classes, const float *logits,
                                const float *t, float *probs)
{
    double total = 0.0;
    for (int i = 0; i < batch; i++) {
        const float *zr = logits + (size_t)i * classes;
        const float *tr = t + (size_t)i * classes;
        float *pr = probs + (size_t)i * classes;
        float max = zr[0];
        for (int j = 1; j < classes; j++)
            if (zr[j] > max)
                max = zr[j];
        double sum = 0.0, tsum = 0.0, dot = 0.0;
        for (int j = 0; j < classes; j++) {
            pr[j] = expf(zr[j] - max);
            sum += pr[j];
            tsum += tr[j];
            dot += (double)tr[j] * ((double)max - (double)zr[j]);
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < classes; j++)
            pr[j] *= inv;
        total += dot + tsum * log(sum);
    }
    return batch > 0 ? (float)(total / batch) : 0.0f;
}

/* dlogits = (p sum_j t_j - t) / N: a row of t that sums to 1 (one-hot or
 * probabilities) gives the familiar (p - t) / N */
void seqrt_softmax_cce_backward(int batch, int total, int classes, const float *probs,
                                const float *t, float *dlogits)
{
    const float inv_n = 1.0f / (float)total;
    for (int i = 0; i < batch; i++) {
        const float *pr = probs + (size_t)i * classes;
        const float *tr = t + (size_t)i * classes;
        float *dr = dlogits + (size_t)i * classes;
        double tsum = 0.0;
        for (int j = 0; j < classes; j++)
            tsum += tr[j];
        const float ts = (float)tsum;
        for (int j = 0; j < classes; j++)
            dr[j] = (pr[j] * ts - tr[j]) * inv_n;
    }
}

/* ------------------------------------------------ binary cross-entropy */

/* mean over all entries of -(t log p + (1 - t) log(1 - p)), p clipped to
 * [eps, 1 - eps] (Keras 3's binary_crossentropy on probabilities) */
float seqrt_bce_forward(int batch, int width, const float *probs, const float *t)
{
    double total = 0.0;
    const size_t n = (size_t)batch * (size_t)width;
    for (size_t k = 0; k < n; k++) {
        int active;
        double p = clip_prob(probs[k], &active), tk = t[k];
        /* 1 - p is exact in double for a float p */
        total -= tk * log(p) + (1.0 - tk) * log(1.0 - p);
    }
    return n > 0 ? (float)(total / (double)n) : 0.0f;
}

/* dprobs = ((1 - t)/(1 - p) - t/p) / (N width) = (p - t) / (p (1 - p) N width);
 * 0 where the clip is active */
void seqrt_bce_backward(int batch, int total, int width, const float *probs, const float *t,
                        float *dprobs)
{
    const size_t n = (size_t)batch * (size_t)width;
    const double inv = 1.0 / ((double)total * (double)width);
    for (size_t k = 0; k < n; k++) {
        int active;
        double p = clip_prob(probs[k], &active);
        dprobs[k] = active ? 0.0f : (float)(((double)probs[k] - t[k]) / (p * (1.0 - p)) * inv);
    }
}

/* sigmoid without exp of a positive number */
static float sigmoidf_stable(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* -(t log s(z) + (1 - t) log(1 - s(z))) = max(z, 0) - z t + log1p(exp(-|z|)),
 * which never overflows and keeps its digits for large |z| (TensorFlow's
 * sigmoid_cross_entropy_with_logits, PyTorch's
 * binary_cross_entropy_with_logits) */
float seqrt_sigmoid_bce_forward(int batch, int width, const float *logits,
                                const float *t, float *probs)
{
    double total = 0.0;
    const size_t n = (size_t)batch * (size_t)width;
    for (size_t k = 0; k < n; k++) {
        double z = logits[k];
        total += (z > 0.0 ? z : 0.0) - z * (double)t[k] + log1p(exp(-fabs(z)));
        probs[k] = sigmoidf_stable(logits[k]);
    }
    return n > 0 ? (float)(total / (double)n) : 0.0f;
}

/* dlogits = (p - t) / (N width) */
void seqrt_sigmoid_bce_backward(int batch, int total, int width, const float *probs,
                                const float *t, float *dlogits)
{
    const size_t n = (size_t)batch * (size_t)width;
    const float inv = (float)(1.0 / ((double)total * (double)width));
    for (size_t k = 0; k < n; k++)
        dlogits[k] = (probs[k] - t[k]) * inv;
}

/* ----------------------------------------------------------- regression */

/* mean over all entries of (pred - t)^2 */
float seqrt_mse_forward(int batch, int width, const float *pred, const float *t)
{
    double total = 0.0;
    const size_t n = (size_t)batch * (size_t)width;
    for (size_t k = 0; k < n; k++) {
        double d = (double)pred[k] - (double)t[k];
        total += d * d;
    }
    return n > 0 ? (float)(total / (double)n) : 0.0f;
}

/* dpred = 2 (pred - t) / (N width) */
void seqrt_mse_backward(int batch, int total, int width, const float *pred, const float *t,
                        float *dpred)
{
    const size_t n = (size_t)batch * (size_t)width;
    const float k2 = (float)(2.0 / ((double)total * (double)width));
    for (size_t k = 0; k < n; k++)
        dpred[k] = k2 * (pred[k] - t[k]);
}

/* mean over all entries of |pred - t| */
float seqrt_mae_forward(int batch, int width, const float *pred, const float *t)
{
    double total = 0.0;
    const size_t n = (size_t)batch * (size_t)width;
    for (size_t k = 0; k < n; k++)
        total += fabs((double)pred[k] - (double)t[k]);
    return n > 0 ? (float)(total / (double)n) : 0.0f;
}

/* dpred = sign(pred - t) / (N width), 0 where pred == t (TensorFlow's
 * gradient of abs) */
void seqrt_mae_backward(int batch, int total, int width, const float *pred, const float *t,
                        float *dpred)
{
    const size_t n = (size_t)batch * (size_t)width;
    const float inv = (float)(1.0 / ((double)total * (double)width));
    for (size_t k = 0; k < n; k++)
        dpred[k] = pred[k] > t[k] ? inv : pred[k] < t[k] ? -inv : 0.0f;
}

/* Keras's Huber: d = pred - t; 0.5 d^2 where |d| <= delta, else
 * delta |d| - 0.5 delta^2; mean over all entries. delta > 0 is the
 * compiler's check. */
float seqrt_huber_forward(int batch, int width, const float *pred, const float *t,
                          float delta)
{
    double total = 0.0;
    const double dl = delta;
    const size_t n = (size_t)batch * (size_t)width;
    for (size_t k = 0; k < n; k++) {
        double a = fabs((double)pred[k] - (double)t[k]);
        total += a <= dl ? 0.5 * a * a : dl * a - 0.5 * dl * dl;
    }
    return n > 0 ? (float)(total / (double)n) : 0.0f;
}

/* dpred = d / (N width) where |d| <= delta, else delta sign(d) / (N width):
 * the quadratic piece at |d| == delta, where both pieces have slope delta */
void seqrt_huber_backward(int batch, int total, int width, const float *pred, const float *t,
                          float delta, float *dpred)
{
    const size_t n = (size_t)batch * (size_t)width;
    const double inv = 1.0 / ((double)total * (double)width);
    for (size_t k = 0; k < n; k++) {
        double d = (double)pred[k] - (double)t[k];
        double g = d > delta ? delta : d < -delta ? -(double)delta : d;
        dpred[k] = (float)(g * inv);
    }
}

/* Ties go to the first maximum, as numpy's and TF's argmax do. */
int seqrt_accuracy_count(int batch, int classes, const float *scores,
                         const int32_t *labels)
{
    int correct = 0;
    for (int i = 0; i < batch; i++) {
        const float *sr = scores + (size_t)i * classes;
        int best = 0;
        for (int j = 1; j < classes; j++)
            if (sr[j] > sr[best])
                best = j;
        correct += best == labels[i];
    }
    return correct;
}
