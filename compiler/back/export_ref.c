/*
 * export_ref.c: the reference the export's self-check compares with.
 *
 * The model as the trainer's inference runs it, written from the layer
 * definitions and not from the export plan: the IR's ops in order with
 * the checkpoint's parameters, nothing folded (batchnorm normalizes with
 * its moving statistics as its own step), dropout the identity, the
 * loss's fused softmax or sigmoid applied at the end, and every value in
 * double. So a mistake in folding, in copying weights or in the plan's
 * loops shows as a difference larger than float rounding; agreement
 * within 1e-5 says the plan computes the trained model. (Re-using the
 * runtime's kernels would have tied seqc to libseqrt.a's BLAS; this is
 * the arithmetic only, one sample at a time.)
 */
#include "back/export.h"

#include <math.h>
#include <string.h>

#include "util/bug.h"

static const float *pv(const ir_model *ir, const float *params, const ir_op *op, int k)
{
    return op->param[k] == IR_NONE ? NULL : params + ir->params[op->param[k]].offset;
}

int64_t export_reference_width(const ir_model *ir)
{
    int64_t w = ir->input_size;
    for (int t = 0; t < ir->ntensors; t++)
        if (ir->tensors[t].role == IR_T_ACT && ir->tensors[t].features > w)
            w = ir->tensors[t].features;
    return w;
}

static void softmax(int64_t n, int64_t cols, const double *x, double *y)
{
    for (int64_t r = 0; r < n; r += cols) {
        double m = x[r], sum = 0;
        for (int64_t j = 1; j < cols; j++)
            m = fmax(m, x[r + j]);
        for (int64_t j = 0; j < cols; j++)
            sum += y[r + j] = exp(x[r + j] - m);
        for (int64_t j = 0; j < cols; j++)
            y[r + j] /= sum;
    }
}

/* n values as samples of per positions x ch channels; each group of
 * ch / ngroups channels over a sample's positions normalized with its
 * mean and (biased) variance: (x - mean) / sqrt(var + eps) * gamma + beta */
static void norm_groups(int64_t per, int64_t ngroups, int64_t ch, int64_t n, const float *gamma,
                        const float *beta, double eps, const double *x, double *y)
{
    const int64_t cpg = ch / ngroups;
    for (int64_t s0 = 0; s0 < n; s0 += per * ch)
        for (int64_t g = 0; g < ngroups; g++) {
            double sum = 0, sq = 0, count = (double)(per * cpg);
            for (int64_t p = 0; p < per; p++)
                for (int64_t c = g * cpg; c < (g + 1) * cpg; c++)
                    sum += x[s0 + p * ch + c];
            const double mean = sum / count;
            for (int64_t p = 0; p < per; p++)
                for (int64_t c = g * cpg; c < (g + 1) * cpg; c++)
                    sq += (x[s0 + p * ch + c] - mean) * (x[s0 + p * ch + c] - mean);
            const double sd = sqrt(sq / count + eps);
            for (int64_t p = 0; p < per; p++)
                for (int64_t c = g * cpg; c < (g + 1) * cpg; c++)
                    y[s0 + p * ch + c] = (x[s0 + p * ch + c] - mean) / sd *
                                             (gamma ? gamma[c] : 1.0) + (beta ? beta[c] : 0.0);
        }
}

/* conv2d, max and average pooling over one NHWC sample (Keras windows) */
static void window_op(const ir_op *op, const float *w, const float *b, const double *x,
                      double *y)
{
    const int64_t H = op->in_hwc[0], W = op->in_hwc[1], C = op->in_hwc[2];
    const int64_t OH = op->out_hw[0], OW = op->out_hw[1];
    for (int64_t oy = 0; oy < OH; oy++)
        for (int64_t ox = 0; ox < OW; ox++) {
            if (op->kind == IR_CONV2D) {
                const int64_t F = op->filters;
                for (int64_t f = 0; f < F; f++) {
                    double acc = b ? b[f] : 0.0;
                    for (int64_t ky = 0; ky < op->kernel[0]; ky++)
                        for (int64_t kx = 0; kx < op->kernel[1]; kx++) {
                            int64_t iy = oy * op->stride[0] - op->pad[0] + ky * op->dilation[0];
                            int64_t ix = ox * op->stride[1] - op->pad[1] + kx * op->dilation[1];
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue; /* zero padding */
                            for (int64_t c = 0; c < C; c++)
                                acc += x[(iy * W + ix) * C + c] *
                                       w[((ky * op->kernel[1] + kx) * C + c) * F + f];
                        }
                    y[(oy * OW + ox) * F + f] = acc;
                }
                continue;
            }
            for (int64_t c = 0; c < C; c++) {
                double acc = op->kind == IR_MAXPOOL2D ? -HUGE_VAL : 0.0;
                int64_t cells = 0;
                for (int64_t ky = 0; ky < op->kernel[0]; ky++)
                    for (int64_t kx = 0; kx < op->kernel[1]; kx++) {
                        int64_t iy = oy * op->stride[0] - op->pad[0] + ky;
                        int64_t ix = ox * op->stride[1] - op->pad[1] + kx;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                            continue; /* padding: never a max, not counted */
                        double v = x[(iy * W + ix) * C + c];
                        acc = op->kind == IR_MAXPOOL2D ? fmax(acc, v) : acc + v;
                        cells++;
                    }
                y[(oy * OW + ox) * C + c] =
                    cells == 0 ? 0.0 : op->kind == IR_MAXPOOL2D ? acc : acc / (double)cells;
            }
        }
}

void export_reference(const ir_model *ir, const float *params, const float *x, double *y,
                      double *buf0, double *buf1)
{
    double *cur = buf0, *nxt = buf1;
    int64_t n = ir->input_size;
    for (int64_t i = 0; i < n; i++)
        cur[i] = x[i];
    for (int k = 0; k < ir->nops; k++) {
        const ir_op *op = &ir->ops[k];
        const int64_t in = n;
        const int64_t out = ir->tensors[op->y].features;
        const int64_t groups = op->groups > 0 ? op->groups : 1;
        const int64_t cols = out / groups;
        bool wrote = true;
        if (ir_op_is_loss(op->kind)) {
            const char *link = ir_op_info(op->kind)->link;
            if (link && strcmp(link, "softmax") == 0)
                softmax(in, in, cur, nxt);
            else if (link && strcmp(link, "sigmoid") == 0)
                for (int64_t i = 0; i < in; i++)
                    nxt[i] = 1.0 / (1.0 + exp(-cur[i]));
            else
                wrote = false;
            if (wrote) {
                double *t = cur;
                cur = nxt;
                nxt = t;
            }
            break;
        }
        switch (op->kind) {
        case IR_DENSE: {
            const float *w = pv(ir, params, op, 0), *b = pv(ir, params, op, 1);
            for (int64_t j = 0; j < out; j++) {
                double acc = b ? b[j] : 0.0;
                for (int64_t i = 0; i < in; i++)
                    acc += cur[i] * w[i * out + j];
                nxt[j] = acc;
            }
            break;
        }
        case IR_BATCHNORM: /* every kind: moving statistics at inference */
        case IR_BATCHNORM_FROZEN:
        case IR_BATCHNORM_GHOST:
        case IR_BATCHNORM_RENORM: {
            const float *g = pv(ir, params, op, 0), *be = pv(ir, params, op, 1);
            const float *mu = pv(ir, params, op, 2), *var = pv(ir, params, op, 3);
            for (int64_t i = 0; i < out; i++) {
                int64_t c = i % cols;
                nxt[i] = (cur[i] - mu[c]) / sqrt((double)var[c] + (double)(float)op->epsilon) *
                             (g ? g[c] : 1.0) + (be ? be[c] : 0.0);
            }
            break;
        }
        case IR_LAYERNORM: /* each row of cols on its own */
        case IR_GROUPNORM: /* each sample's positions and one group's channels */
            norm_groups(op->kind == IR_GROUPNORM ? groups : 1,
                        op->kind == IR_GROUPNORM ? op->norm_groups : 1, cols, out,
                        pv(ir, params, op, 0), pv(ir, params, op, 1),
                        (double)(float)op->epsilon, cur, nxt);
            break;
        case IR_NORMALIZE: {
            const float *mu = pv(ir, params, op, 0), *var = pv(ir, params, op, 1);
            for (int64_t i = 0; i < out; i++) {
                int64_t c = i % cols;
                nxt[i] = (cur[i] - mu[c]) / fmax(sqrt((double)var[c]), (double)1e-7f);
            }
            break;
        }
        case IR_RESCALE:
            for (int64_t i = 0; i < out; i++)
                nxt[i] = cur[i] * (double)(float)op->scale + (double)(float)op->offset;
            break;
        case IR_RELU:
            for (int64_t i = 0; i < out; i++)
                nxt[i] = cur[i] > 0 ? cur[i] : 0.0;
            break;
        case IR_LEAKY_RELU:
            for (int64_t i = 0; i < out; i++)
                nxt[i] = cur[i] > 0 ? cur[i] : (double)(float)op->alpha * cur[i];
            break;
        case IR_SIGMOID:
            for (int64_t i = 0; i < out; i++)
                nxt[i] = 1.0 / (1.0 + exp(-cur[i]));
            break;
        case IR_TANH:
            for (int64_t i = 0; i < out; i++)
                nxt[i] = tanh(cur[i]);
            break;
        case IR_SOFTMAX:
            softmax(out, cols, cur, nxt);
            break;
        case IR_CONV2D:
            window_op(op, pv(ir, params, op, 0), pv(ir, params, op, 1), cur, nxt);
            break;
        case IR_MAXPOOL2D:
        case IR_AVGPOOL2D:
            window_op(op, NULL, NULL, cur, nxt);
            break;
        case IR_GLOBAL_AVGPOOL2D:
        case IR_GLOBAL_MAXPOOL2D: {
            const int64_t HW = op->in_hwc[0] * op->in_hwc[1], C = op->in_hwc[2];
            for (int64_t c = 0; c < C; c++) {
                double acc = op->kind == IR_GLOBAL_MAXPOOL2D ? -HUGE_VAL : 0.0;
                for (int64_t p = 0; p < HW; p++)
                    acc = op->kind == IR_GLOBAL_MAXPOOL2D ? fmax(acc, cur[p * C + c])
                                                          : acc + cur[p * C + c];
                nxt[c] = op->kind == IR_GLOBAL_MAXPOOL2D ? acc : acc / (double)HW;
            }
            break;
        }
        case IR_DROPOUT:
        case IR_FLATTEN:
            wrote = false;
            break;
        default:
            SEQC_BUG("export_reference: a layer export_plan refuses");
        }
        if (wrote) {
            double *t = cur;
            cur = nxt;
            nxt = t;
        }
        n = out;
    }
    SEQC_ASSERT(n == ir->classes, "the reference ends with %lld values, not %lld",
                (long long)n, (long long)ir->classes);
    memcpy(y, cur, (size_t)n * sizeof *y);
}
