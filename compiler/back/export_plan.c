/*
 * export_plan.c: the export plan (export.h) and its evaluator.
 *
 * The plan walks the IR's ops in order, one case per op kind, and copies
 * each layer's weights out of the checkpoint's parameters. Batchnorm (every
 * kind: plain, frozen, ghost, renorm; a missing gamma 1, a missing beta 0)
 * at inference is an affine map per channel c of the last axis,
 *
 *   y = x * s[c] + t[c],  s = gamma / sqrt(moving_variance + epsilon),
 *                         t = beta - moving_mean * s,
 *
 * computed here in double from the float parameters, and folded:
 *
 *   - into the dense or conv2d whose output it reads (dropout and flatten
 *     between them change nothing at inference): W'[.., c] = W[.., c] s[c],
 *     b'[c] = (b[c] - moving_mean[c]) s[c] + beta[c];
 *   - when no dense or conv2d comes right before it (after the input, a
 *     rescale, a flatten, an activation), into the dense that reads it
 *     next (through flatten and dropout only): W'[i, j] = s[i] W[i, j],
 *     b'[j] = b[j] + sum_i t[i] W[i, j], with i's channel i % cols;
 *   - otherwise (a conv2d next, whose zero padding would not see the
 *     shift; an activation, a pool or a softmax next) it stays a
 *     scale/shift step.
 *
 * Each folded weight is computed in double and rounded once to float.
 * layernorm and groupnorm normalize each sample with its own statistics
 * and fold into nothing: a groupnorm step each (a layernorm is per = 1,
 * ngroups = 1 on each row of the last axis).
 * Dropout and flatten produce no step. The loss is no step either, but a
 * loss that absorbed the model's final softmax or sigmoid (pass_fuse.c)
 * gives that activation back as the last step: the exported model
 * outputs what the trainer's predict outputs.
 *
 * export_plan_eval is the plan in float with the arithmetic of the C that
 * export_c.c writes (the same loops, in the same order), so the self-check
 * (cmd_export.c) checks the numbers the exported C computes.
 */
#include "back/export.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "util/bug.h"

/* The normalize layer's floor on its divisor (libseqrt's preprocess.c) */
#define EX_NORMALIZE_EPS 1e-7f

static const float *param_values(const ir_model *ir, const float *params, const ir_op *op,
                                 int k, int64_t *count)
{
    int p = op->param[k];
    if (p == IR_NONE) {
        *count = 0;
        return NULL;
    }
    *count = ir->params[p].count;
    return params + ir->params[p].offset;
}

static int64_t features(const ir_model *ir, int t)
{
    return t == IR_NONE ? 0 : ir->tensors[t].features;
}

static ex_step *add_step(ex_plan *p, ex_kind kind, const ir_op *op, int64_t in, int64_t out)
{
    ex_step *s = &p->steps[p->nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->op = op;
    s->in = in;
    s->out = out;
    s->cols = out;
    if (out > p->max_features)
        p->max_features = out;
    return s;
}

static void copy_geometry(ex_step *s, const ir_op *op)
{
    memcpy(s->in_hwc, op->in_hwc, sizeof s->in_hwc);
    memcpy(s->kernel, op->kernel, sizeof s->kernel);
    memcpy(s->stride, op->stride, sizeof s->stride);
    memcpy(s->dilation, op->dilation, sizeof s->dilation);
    memcpy(s->pad, op->pad, sizeof s->pad);
    memcpy(s->out_hw, op->out_hw, sizeof s->out_hw);
    s->filters = op->filters;
}

/* Every kind the trainer can run at inference. Every batchnorm kind
 * infers with the moving statistics (ir.c's .infer and, for frozen, its
 * .forward: seqrt_batchnorm_forward_infer), so all four fold alike. */
bool export_supports(ir_op_kind k)
{
    switch (k) {
    case IR_DENSE:
    case IR_CONV2D:
    case IR_BATCHNORM:
    case IR_BATCHNORM_FROZEN:
    case IR_BATCHNORM_GHOST:
    case IR_BATCHNORM_RENORM:
    case IR_LAYERNORM:
    case IR_GROUPNORM:
    case IR_NORMALIZE:
    case IR_RESCALE:
    case IR_RELU:
    case IR_LEAKY_RELU:
    case IR_SIGMOID:
    case IR_TANH:
    case IR_SOFTMAX:
    case IR_MAXPOOL2D:
    case IR_AVGPOOL2D:
    case IR_GLOBAL_AVGPOOL2D:
    case IR_GLOBAL_MAXPOOL2D:
    case IR_DROPOUT:
    case IR_FLATTEN:
        return true;
    default:
        return ir_op_is_loss(k);
    }
}

/* cols floats of v, or cols copies of dflt when the layer has no such
 * parameter (scale=false: gamma 1; center=false: beta 0) */
static const float *param_or(arena *a, const ir_model *ir, const float *params,
                             const ir_op *op, int k, int64_t cols, float dflt)
{
    int64_t n;
    const float *v = param_values(ir, params, op, k, &n);
    if (v) {
        SEQC_ASSERT(n == cols, "%s: %lld values for %lld channels", op->name, (long long)n,
                    (long long)cols);
        return v;
    }
    float *d = arena_array(a, (size_t)cols, sizeof *d);
    for (int64_t c = 0; c < cols; c++)
        d[c] = dflt;
    return d;
}

/* A batchnorm's inference map: s and t [cols], in double. */
static void bn_affine(arena *a, const ir_model *ir, const float *params, const ir_op *op,
                      int64_t cols, double **s_out, double **t_out)
{
    const float *gamma = param_or(a, ir, params, op, 0, cols, 1.0f);
    const float *beta = param_or(a, ir, params, op, 1, cols, 0.0f);
    const float *mean = param_or(a, ir, params, op, 2, cols, 0.0f);
    const float *var = param_or(a, ir, params, op, 3, cols, 1.0f);
    SEQC_ASSERT(op->param[2] != IR_NONE && op->param[3] != IR_NONE,
                "%s: a batchnorm without moving statistics", op->name);
    double *s = arena_array(a, (size_t)cols, sizeof *s);
    double *t = arena_array(a, (size_t)cols, sizeof *t);
    for (int64_t c = 0; c < cols; c++) {
        s[c] = (double)gamma[c] / sqrt((double)var[c] + (double)(float)op->epsilon);
        t[c] = (double)beta[c] - (double)mean[c] * s[c];
    }
    *s_out = s;
    *t_out = t;
}

/* The next op after i that computes something at inference (flatten and
 * dropout skipped), or IR_NONE. */
static int next_computing_op(const ir_model *ir, int i)
{
    for (int k = i + 1; k < ir->nops; k++) {
        ir_op_kind kind = ir->ops[k].kind;
        if (kind != IR_FLATTEN && kind != IR_DROPOUT)
            return k;
    }
    return IR_NONE;
}

ex_plan *export_plan(arena *a, const ir_model *ir, const float *params, bool fold,
                     FILE *report)
{
    ex_plan *p = arena_alloc(a, sizeof *p);
    memset(p, 0, sizeof *p);
    p->ir = ir;
    p->steps = arena_array(a, (size_t)ir->nops + 2, sizeof *p->steps);
    p->input_size = ir->input_size;
    p->outputs = ir->classes;
    p->folded = fold;
    p->max_features = ir->input_size;

    /* The step a batchnorm may fold into: the dense or conv2d whose output
     * reaches here unchanged; NULL once anything else computed. */
    ex_step *fold_back = NULL;
    /* A batchnorm waiting for the next dense: its op and map per input feature */
    const ir_op *pending = NULL;
    double *pend_s = NULL, *pend_t = NULL;
    int64_t pend_cols = 0;

    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        int64_t in = features(ir, op->x), out = features(ir, op->y);
        int64_t groups = op->groups > 0 ? op->groups : 1;
        int64_t n;
        ex_step *s = NULL;
        if (!export_supports(op->kind)) {
            ir_error(ir, op->line, "seqc export cannot export a '%s' layer yet (%s)",
                     ir_op_kind_name(op->kind), op->name);
            return NULL;
        }
        if (ir_op_is_loss(op->kind)) {
            const char *link = ir_op_info(op->kind)->link;
            if (link && strcmp(link, "softmax") == 0) {
                s = add_step(p, EX_SOFTMAX, op, in, in);
                s->cols = in;
            } else if (link && strcmp(link, "sigmoid") == 0) {
                add_step(p, EX_SIGMOID, op, in, in);
            }
            break;
        }
        switch (op->kind) {
        case IR_DENSE:
        case IR_CONV2D: {
            s = add_step(p, op->kind == IR_DENSE ? EX_DENSE : EX_CONV2D, op, in, out);
            copy_geometry(s, op);
            const float *w = param_values(ir, params, op, 0, &s->nw);
            const float *b = param_values(ir, params, op, 1, &n);
            int64_t units = op->kind == IR_DENSE ? op->units : op->filters;
            s->nb = units;
            s->w = arena_array(a, (size_t)s->nw, sizeof *s->w);
            s->b = arena_array(a, (size_t)units, sizeof *s->b);
            if (pending) { /* a dense after the input's batchnorm */
                SEQC_ASSERT(op->kind == IR_DENSE, "a batchnorm pending for a conv2d");
                for (int64_t j = 0; j < units; j++) {
                    double acc = b ? (double)b[j] : 0.0;
                    for (int64_t k = 0; k < in; k++)
                        acc += pend_t[k % pend_cols] * (double)w[k * units + j];
                    s->b[j] = (float)acc;
                }
                for (int64_t k = 0; k < in; k++)
                    for (int64_t j = 0; j < units; j++)
                        s->w[k * units + j] =
                            (float)(pend_s[k % pend_cols] * (double)w[k * units + j]);
                s->folded = arena_printf(a, "%s (line %d)", pending->name, pending->line);
                if (report)
                    fprintf(report, "folded %s (line %d) into %s (line %d), the dense after it\n",
                            pending->name, pending->line, op->name, op->line);
                p->nfolds++;
                pending = NULL;
            } else {
                memcpy(s->w, w, (size_t)s->nw * sizeof *w);
                for (int64_t j = 0; j < units; j++)
                    s->b[j] = b ? b[j] : 0.0f;
            }
            fold_back = s;
            continue;
        }
        case IR_BATCHNORM:
        case IR_BATCHNORM_FROZEN:
        case IR_BATCHNORM_GHOST:
        case IR_BATCHNORM_RENORM: {
            int64_t cols = out / groups;
            double *bs, *bt;
            bn_affine(a, ir, params, op, cols, &bs, &bt);
            int next = next_computing_op(ir, i);
            if (fold && fold_back && fold_back->nb == cols) {
                ex_step *d = fold_back;
                const float *mean = param_or(a, ir, params, op, 2, cols, 0.0f);
                const float *beta = param_or(a, ir, params, op, 1, cols, 0.0f);
                for (int64_t k = 0; k < d->nw; k++)
                    d->w[k] = (float)((double)d->w[k] * bs[k % cols]);
                for (int64_t c = 0; c < cols; c++)
                    d->b[c] = (float)(((double)d->b[c] - (double)mean[c]) * bs[c] +
                                      (double)beta[c]);
                d->folded = arena_printf(a, "%s (line %d)", op->name, op->line);
                if (report)
                    fprintf(report, "folded %s (line %d) into %s (line %d)\n", op->name,
                            op->line, d->op->name, d->op->line);
                p->nfolds++;
                fold_back = NULL;
                continue;
            }
            if (fold && !fold_back && next != IR_NONE && ir->ops[next].kind == IR_DENSE &&
                ir->ops[next].in_hwc[0] == 0 && !pending) {
                pending = op;
                pend_s = bs;
                pend_t = bt;
                pend_cols = cols;
                continue;
            }
            s = add_step(p, EX_SCALE_SHIFT, op, in, out);
            s->cols = cols;
            for (int k = 0; k < 4; k++)
                s->bn[k] = param_or(a, ir, params, op, k, cols, k == 0 || k == 3 ? 1.0f : 0.0f);
            s->epsilon = (float)op->epsilon;
            s->nw = s->nb = cols;
            s->w = arena_array(a, (size_t)cols, sizeof *s->w);
            s->b = arena_array(a, (size_t)cols, sizeof *s->b);
            for (int64_t c = 0; c < cols; c++) {
                s->w[c] = (float)bs[c];
                s->b[c] = (float)bt[c];
            }
            break;
        }
        case IR_LAYERNORM:
        case IR_GROUPNORM: {
            /* the trainer's seqrt_layernorm_forward on rows of cols, and
             * seqrt_groupnorm_forward on samples of per positions x cols */
            int64_t cols = out / groups;
            s = add_step(p, EX_GROUPNORM, op, in, out);
            s->cols = cols;
            s->per = op->kind == IR_GROUPNORM ? groups : 1;
            s->ngroups = op->kind == IR_GROUPNORM ? op->norm_groups : 1;
            SEQC_ASSERT(s->ngroups > 0 && cols % s->ngroups == 0,
                        "%s: %lld channels in %lld groups", op->name, (long long)cols,
                        (long long)s->ngroups);
            s->epsilon = (float)op->epsilon;
            s->nw = s->nb = cols;
            s->w = arena_array(a, (size_t)cols, sizeof *s->w);
            s->b = arena_array(a, (size_t)cols, sizeof *s->b);
            memcpy(s->w, param_or(a, ir, params, op, 0, cols, 1.0f), (size_t)cols * sizeof *s->w);
            memcpy(s->b, param_or(a, ir, params, op, 1, cols, 0.0f), (size_t)cols * sizeof *s->b);
            break;
        }
        case IR_NORMALIZE: {
            int64_t cols = out / groups;
            const float *mean = param_values(ir, params, op, 0, &n);
            const float *var = param_values(ir, params, op, 1, &n);
            s = add_step(p, EX_NORMALIZE, op, in, out);
            s->cols = cols;
            s->nw = s->nb = cols;
            s->w = arena_array(a, (size_t)cols, sizeof *s->w);
            s->b = arena_array(a, (size_t)cols, sizeof *s->b);
            for (int64_t c = 0; c < cols; c++) {
                float sd = sqrtf(var[c]);
                s->w[c] = mean[c];
                s->b[c] = sd > EX_NORMALIZE_EPS ? sd : EX_NORMALIZE_EPS;
            }
            break;
        }
        case IR_RESCALE:
            s = add_step(p, EX_RESCALE, op, in, out);
            s->scale = (float)op->scale;
            s->offset = (float)op->offset;
            break;
        case IR_RELU:
            s = add_step(p, EX_RELU, op, in, out);
            break;
        case IR_LEAKY_RELU:
            s = add_step(p, EX_LEAKY_RELU, op, in, out);
            s->alpha = op->alpha;
            break;
        case IR_SIGMOID:
            s = add_step(p, EX_SIGMOID, op, in, out);
            break;
        case IR_TANH:
            s = add_step(p, EX_TANH, op, in, out);
            break;
        case IR_SOFTMAX:
            s = add_step(p, EX_SOFTMAX, op, in, out);
            s->cols = out / groups;
            break;
        case IR_MAXPOOL2D:
        case IR_AVGPOOL2D:
        case IR_GLOBAL_AVGPOOL2D:
        case IR_GLOBAL_MAXPOOL2D: {
            static const ex_kind kinds[] = {EX_MAXPOOL2D, EX_AVGPOOL2D, EX_GLOBAL_AVGPOOL2D,
                                            EX_GLOBAL_MAXPOOL2D};
            s = add_step(p, kinds[op->kind - IR_MAXPOOL2D], op, in, out);
            copy_geometry(s, op);
            break;
        }
        case IR_DROPOUT: /* the identity at inference */
        case IR_FLATTEN: /* a view */
            continue;
        default:
            SEQC_BUG("export_supports says yes to '%s' but export_plan has no case",
                     ir_op_kind_name(op->kind));
        }
        (void)s;
        fold_back = NULL;
    }
    SEQC_ASSERT(!pending, "a batchnorm left pending");
    for (int k = 0; k < p->nsteps; k++)
        p->weights += p->steps[k].nw + p->steps[k].nb;
    return p;
}

/* ------------------------------------------------------------ evaluator */
/* Each function is the C that export_c.c writes, loop for loop. */

static void ev_dense(const ex_step *s, const float *x, float *y)
{
    const int64_t in = s->in, out = s->out;
    for (int64_t j = 0; j < out; j++)
        y[j] = s->b[j];
    for (int64_t i = 0; i < in; i++) {
        const float xi = x[i];
        const float *wr = s->w + i * out;
        for (int64_t j = 0; j < out; j++)
            y[j] += xi * wr[j];
    }
}

static void ev_conv2d(const ex_step *s, const float *x, float *y)
{
    const int64_t H = s->in_hwc[0], W = s->in_hwc[1], C = s->in_hwc[2];
    const int64_t KH = s->kernel[0], KW = s->kernel[1], F = s->filters;
    for (int64_t oy = 0; oy < s->out_hw[0]; oy++)
        for (int64_t ox = 0; ox < s->out_hw[1]; ox++) {
            float *yr = y + (oy * s->out_hw[1] + ox) * F;
            for (int64_t f = 0; f < F; f++)
                yr[f] = s->b[f];
            for (int64_t ky = 0; ky < KH; ky++) {
                int64_t iy = oy * s->stride[0] - s->pad[0] + ky * s->dilation[0];
                if (iy < 0 || iy >= H)
                    continue;
                for (int64_t kx = 0; kx < KW; kx++) {
                    int64_t ix = ox * s->stride[1] - s->pad[1] + kx * s->dilation[1];
                    if (ix < 0 || ix >= W)
                        continue;
                    const float *xr = x + (iy * W + ix) * C;
                    const float *wr = s->w + (ky * KW + kx) * C * F;
                    for (int64_t c = 0; c < C; c++) {
                        const float xc = xr[c];
                        for (int64_t f = 0; f < F; f++)
                            yr[f] += xc * wr[c * F + f];
                    }
                }
            }
        }
}

static void ev_pool(const ex_step *s, const float *x, float *y, bool max)
{
    const int64_t H = s->in_hwc[0], W = s->in_hwc[1], C = s->in_hwc[2];
    for (int64_t oy = 0; oy < s->out_hw[0]; oy++)
        for (int64_t ox = 0; ox < s->out_hw[1]; ox++) {
            int64_t y0 = oy * s->stride[0] - s->pad[0], x0 = ox * s->stride[1] - s->pad[1];
            int64_t y1 = y0 + s->kernel[0], x1 = x0 + s->kernel[1];
            y0 = y0 < 0 ? 0 : y0;
            x0 = x0 < 0 ? 0 : x0;
            y1 = y1 > H ? H : y1;
            x1 = x1 > W ? W : x1;
            float *yr = y + (oy * s->out_hw[1] + ox) * C;
            for (int64_t c = 0; c < C; c++) {
                float acc = max ? -FLT_MAX : 0.0f;
                int64_t cells = 0;
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++) {
                        float v = x[(iy * W + ix) * C + c];
                        if (max)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                        cells++;
                    }
                yr[c] = cells == 0 ? 0.0f : max ? acc : acc / (float)cells;
            }
        }
}

static void ev_global_pool(const ex_step *s, const float *x, float *y, bool max)
{
    const int64_t HW = s->in_hwc[0] * s->in_hwc[1], C = s->in_hwc[2];
    for (int64_t c = 0; c < C; c++) {
        float acc = max ? x[c] : 0.0f;
        for (int64_t k = 0; k < HW; k++) {
            float v = x[k * C + c];
            if (max)
                acc = v > acc ? v : acc;
            else
                acc += v;
        }
        y[c] = max ? acc : acc / (float)HW;
    }
}

static void ev_softmax(const ex_step *s, const float *x, float *y)
{
    const int64_t cols = s->cols;
    for (int64_t r = 0; r < s->out; r += cols) {
        float m = x[r];
        for (int64_t j = 1; j < cols; j++)
            m = x[r + j] > m ? x[r + j] : m;
        float sum = 0.0f;
        for (int64_t j = 0; j < cols; j++) {
            y[r + j] = expf(x[r + j] - m);
            sum += y[r + j];
        }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < cols; j++)
            y[r + j] *= inv;
    }
}

/* The trainer's seqrt_groupnorm_forward (and seqrt_layernorm_forward with
 * per = 1, ngroups = 1): statistics in double, two passes */
static void ev_groupnorm(const ex_step *s, const float *x, float *y)
{
    const int64_t per = s->per, ch = s->cols, cpg = ch / s->ngroups;
    const int64_t n = s->out / (per * ch);
    const double m = (double)per * (double)cpg;
    for (int64_t k = 0; k < n; k++) {
        const float *xs = x + k * per * ch;
        float *ys = y + k * per * ch;
        for (int64_t g = 0; g < s->ngroups; g++) {
            const int64_t c0 = g * cpg;
            double mu = 0.0, var = 0.0;
            for (int64_t q = 0; q < per; q++)
                for (int64_t c = c0; c < c0 + cpg; c++)
                    mu += xs[q * ch + c];
            mu /= m;
            for (int64_t q = 0; q < per; q++)
                for (int64_t c = c0; c < c0 + cpg; c++)
                    var += ((double)xs[q * ch + c] - mu) * ((double)xs[q * ch + c] - mu);
            var /= m;
            const float inv = (float)(1.0 / sqrt(var + (double)s->epsilon)), mf = (float)mu;
            for (int64_t q = 0; q < per; q++)
                for (int64_t c = c0; c < c0 + cpg; c++)
                    ys[q * ch + c] = s->w[c] * ((xs[q * ch + c] - mf) * inv) + s->b[c];
        }
    }
}

static void ev_step(const ex_step *s, const float *x, float *y)
{
    const int64_t n = s->out;
    switch (s->kind) {
    case EX_DENSE:
        ev_dense(s, x, y);
        return;
    case EX_CONV2D:
        ev_conv2d(s, x, y);
        return;
    case EX_SCALE_SHIFT:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * s->w[i % s->cols] + s->b[i % s->cols];
        return;
    case EX_NORMALIZE:
        for (int64_t i = 0; i < n; i++)
            y[i] = (x[i] - s->w[i % s->cols]) / s->b[i % s->cols];
        return;
    case EX_RESCALE:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * s->scale + s->offset;
        return;
    case EX_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    case EX_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : (float)s->alpha * x[i];
        return;
    case EX_SIGMOID:
        for (int64_t i = 0; i < n; i++) {
            if (x[i] >= 0.0f) {
                y[i] = 1.0f / (1.0f + expf(-x[i]));
            } else {
                float e = expf(x[i]);
                y[i] = e / (1.0f + e);
            }
        }
        return;
    case EX_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        return;
    case EX_SOFTMAX:
        ev_softmax(s, x, y);
        return;
    case EX_MAXPOOL2D:
    case EX_AVGPOOL2D:
        ev_pool(s, x, y, s->kind == EX_MAXPOOL2D);
        return;
    case EX_GLOBAL_AVGPOOL2D:
    case EX_GLOBAL_MAXPOOL2D:
        ev_global_pool(s, x, y, s->kind == EX_GLOBAL_MAXPOOL2D);
        return;
    case EX_GROUPNORM:
        ev_groupnorm(s, x, y);
        return;
    case EX_KIND_COUNT:
        break;
    }
    SEQC_BUG("an export step of no kind");
}

void export_plan_eval(const ex_plan *p, const float *x, float *y, float *buf0, float *buf1)
{
    const float *cur = x;
    if (p->nsteps == 0) {
        memcpy(y, x, (size_t)p->outputs * sizeof *y);
        return;
    }
    for (int k = 0; k < p->nsteps; k++) {
        float *dst = k == p->nsteps - 1 ? y : (k % 2 ? buf1 : buf0);
        ev_step(&p->steps[k], cur, dst);
        cur = dst;
    }
}
