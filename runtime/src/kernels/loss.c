/* loss.c: losses against integer class labels (softmax fused with sparse
 * categorical cross-entropy, categorical cross-entropy on probabilities,
 * mean squared error against one-hot) and the accuracy count. Losses return
 * the batch mean; their gradients are already divided by the batch size.
 * Sums over the batch are taken in double: the loss is reported, and a
 * float sum of thousands of terms would lose digits. */
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

void seqrt_softmax_xent_backward(int batch, int classes, const float *probs,
                                 const int32_t *labels, float *dlogits)
{
    const float inv_n = 1.0f / (float)batch;
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
void seqrt_xent_backward(int batch, int classes, const float *probs,
                         const int32_t *labels, float *dprobs)
{
    const float inv_n = 1.0f / (float)batch;
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

/* loss = mean over rows and columns of (pred - t)^2 */
float seqrt_mse_forward(int batch, int width, const float *pred, const float *t)
{
    double total = 0.0;
    size_t n = (size_t)batch * (size_t)width;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - (double)t[i];
        total += d * d;
    }
    return n > 0 ? (float)(total / (double)n) : 0.0f;
}

/* dpred = 2 (pred - t) / (batch * width) */
void seqrt_mse_backward(int batch, int width, const float *pred, const float *t,
                        float *dpred)
{
    const float k = 2.0f / ((float)batch * (float)width);
    size_t n = (size_t)batch * (size_t)width;
    for (size_t i = 0; i < n; i++)
        dpred[i] = k * (pred[i] - t[i]);
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
