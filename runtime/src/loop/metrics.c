/* metrics.c: the `metrics` line's values, accumulated over an epoch or an
 * evaluation (metrics.h says what each one is). */
#include "loop/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int seqrt_metrics_init(seqrt_metrics *a, const seqrt_model *m, size_t max_rows,
                       seqrt_error *err)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    if (m->metric_count < 0 || m->metric_count > SEQRT_MAX_METRICS)
        return seqrt_fail(err, "metrics: %d metrics asked for, at most %d",
                          m->metric_count, SEQRT_MAX_METRICS);
    int want_auc = 0;
    for (int i = 0; i < m->metric_count; i++)
        want_auc |= m->metrics[i].kind == SEQRT_METRIC_AUC;
    if (want_auc && max_rows > 0 && m->outputs > 0) {
        size_t outs = (size_t)m->outputs;
        if (max_rows > SIZE_MAX / 2 / sizeof(seqrt_auc_pair) / outs)
            return seqrt_fail(err, "auc: %zu rows of %d outputs are too many to keep",
                              max_rows, m->outputs);
        size_t cap = max_rows * outs;
        a->auc = malloc(cap * sizeof *a->auc);
        a->auc_scratch = malloc(cap * sizeof *a->auc_scratch);
        if (!a->auc || !a->auc_scratch) {
            seqrt_metrics_free(a);
            return seqrt_fail(err, "auc: out of memory for the scores of %zu rows "
                                   "(%zu bytes)", max_rows, 2 * cap * sizeof *a->auc);
        }
        a->auc_cap = cap;
    }
    return 0;
}

void seqrt_metrics_free(seqrt_metrics *a)
{
    free(a->auc);
    free(a->auc_scratch);
    a->auc = a->auc_scratch = NULL;
    a->auc_cap = a->auc_len = 0;
}

void seqrt_metrics_reset(seqrt_metrics *a)
{
    memset(a->sum, 0, sizeof a->sum);
    memset(a->weight, 0, sizeof a->weight);
    a->rows = 0;
    a->auc_len = 0;
    a->auc_invalid = 0;
}

/* the first maximum, as numpy's and TensorFlow's argmax */
static int argmax(const float *row, int width)
{
    int best = 0;
    for (int j = 1; j < width; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* the target of row i, column j: the row's value, or from a class number
 * its one-hot row (width > 1) or the number itself (width 1) */
static float target_at(const int32_t *labels, const float *t, int width, int i, int j)
{
    if (t)
        return t[(size_t)i * width + j];
    if (width == 1)
        return (float)labels[i];
    return labels[i] == j ? 1.0f : 0.0f;
}

/* the class of row i: the class number, or the target row's arg-max */
static int target_class(const int32_t *labels, const float *t, int width, int i)
{
    return t ? argmax(t + (size_t)i * width, width) : labels[i];
}

/* fewer than k outputs strictly above the class's own (TensorFlow's
 * in_top_k: a tie at the k-th place is in); a NaN there is out */
static int in_top_k(const float *row, int width, int cls, int k)
{
    float v = row[cls];
    if (isnan(v))
        return 0;
    int above = 0;
    for (int j = 0; j < width; j++)
        above += row[j] > v;
    return above < k;
}

void seqrt_metrics_add(seqrt_metrics *a, int n, const float *output,
                       const int32_t *labels, const float *t)
{
    if (n <= 0 || (!labels && !t))
        return;
    const seqrt_model *m = a->m;
    const int w = m->outputs;
    int auc_done = 0; /* the pairs are added once for any number of auc entries */
    for (int e = 0; e < m->metric_count; e++) {
        const seqrt_metric *me = &m->metrics[e];
        double sum = 0.0, weight = 0.0;
        switch (me->kind) {
        case SEQRT_METRIC_ACCURACY:
            for (int i = 0; i < n; i++)
                sum += argmax(output + (size_t)i * w, w) == target_class(labels, t, w, i);
            weight = n;
            break;
        case SEQRT_METRIC_BINARY_ACCURACY:
            for (int i = 0; i < n; i++) {
                int right = 0;
                for (int j = 0; j < w; j++)
                    right += (output[(size_t)i * w + j] > 0.5f) ==
                             (target_at(labels, t, w, i, j) > 0.5f);
                sum += (double)right / w;
            }
            weight = n;
            break;
        case SEQRT_METRIC_TOP_K:
            for (int i = 0; i < n; i++)
                sum += in_top_k(output + (size_t)i * w, w, target_class(labels, t, w, i),
                                me->k);
            weight = n;
            break;
        case SEQRT_METRIC_MAE:
        case SEQRT_METRIC_MSE:
        case SEQRT_METRIC_RMSE:
            for (int i = 0; i < n; i++)
                for (int j = 0; j < w; j++) {
                    double d = (double)output[(size_t)i * w + j] -
                               (double)target_at(labels, t, w, i, j);
                    sum += me->kind == SEQRT_METRIC_MAE ? fabs(d) : d * d;
                }
            weight = (double)n * w;
            break;
        case SEQRT_METRIC_AUC:
            if (auc_done)
                break;
            auc_done = 1;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < w; j++) {
                    float s = output[(size_t)i * w + j];
                    if (isnan(s) || a->auc_len == a->auc_cap) {
                        a->auc_invalid = 1;
                        continue;
                    }
                    a->auc[a->auc_len].score = s;
                    a->auc[a->auc_len].positive = target_at(labels, t, w, i, j) > 0.5f;
                    a->auc_len++;
                }
            break;
        case SEQRT_METRIC_COUNT_:
            break;
        }
        a->sum[e] += sum;
        a->weight[e] += weight;
    }
    a->rows += (size_t)n;
}

/* Bottom-up merge sort of a->auc by score, ascending, through
 * a->auc_scratch (the two buffers may trade places): O(n log n), no
 * allocation (glibc's qsort may malloc). */
static void auc_sort(seqrt_metrics *a)
{
    size_t n = a->auc_len;
    seqrt_auc_pair *src = a->auc, *dst = a->auc_scratch;
    for (size_t run = 1; run < n; run *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * run) {
            size_t mid = lo + run < n ? lo + run : n;
            size_t hi = lo + 2 * run < n ? lo + 2 * run : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = src[j].score < src[i].score ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        seqrt_auc_pair *tmp = src;
        src = dst;
        dst = tmp;
    }
    a->auc = src;
    a->auc_scratch = dst;
}

/* The Mann-Whitney statistic: over scores in ascending order, each
 * positive beats every negative below its score and ties half of those at
 * its score; AUC = that count / (positives * negatives). */
static double auc_value(seqrt_metrics *a)
{
    if (a->auc_invalid)
        return NAN;
    auc_sort(a);
    double pos = 0.0, neg = 0.0, wins = 0.0;
    size_t n = a->auc_len;
    for (size_t g = 0; g < n;) {
        size_t h = g;
        double p = 0.0, q = 0.0;
        while (h < n && a->auc[h].score == a->auc[g].score) {
            if (a->auc[h].positive)
                p++;
            else
                q++;
            h++;
        }
        wins += p * neg + 0.5 * p * q;
        pos += p;
        neg += q;
        g = h;
    }
    if (pos == 0.0 || neg == 0.0)
        return NAN;
    return wins / (pos * neg);
}

double seqrt_metrics_value(seqrt_metrics *a, int i)
{
    if (i < 0 || i >= a->m->metric_count)
        return NAN;
    if (a->m->metrics[i].kind == SEQRT_METRIC_AUC)
        return auc_value(a);
    if (a->weight[i] == 0.0)
        return NAN;
    double mean = a->sum[i] / a->weight[i];
    return a->m->metrics[i].kind == SEQRT_METRIC_RMSE ? sqrt(mean) : mean;
}
