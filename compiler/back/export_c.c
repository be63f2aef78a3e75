/*
 * export_c.c: an export plan (export.h) as dependency-free C99.
 *
 * NAME.h declares NAME_predict (one sample) and NAME_predict_batch, and
 * the macros NAME_INPUT_SIZE and NAME_OUTPUT_SIZE (upper case). NAME.c
 * holds the weights as `static const float` arrays, each under a comment
 * naming its layer's line in the model file, one small static function
 * per kind of step the model uses (only those: no unused functions under
 * -Werror), and NAME_predict: the steps as straight-line calls, reading
 * and writing two activation buffers on the stack in turn. No allocation,
 * no written globals, nothing but libm. The loops are export_plan.c's
 * evaluator, line for line, so the self-check checks this arithmetic.
 *
 * User text (the model file's path, layer texts) enters comments through
 * cq_comment only.
 */
#include "back/export.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "back/cquote.h"
#include "util/fileio.h"

typedef struct cw {
    FILE           *f;
    const ex_plan  *p;
    const char     *file; /* the model file's base name, for comments */
    arena           a;
} cw;

/* The model's name in upper case (macros) or lower case (functions):
 * `model MnistBN` gives MNISTBN_INPUT_SIZE and mnistbn_predict. */
static char *cased_name(arena *a, const char *s, bool upper)
{
    char *u = arena_strdup(a, s);
    for (char *c = u; *c; c++)
        *c = (char)(upper ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
    return u;
}

static void put_floats(FILE *f, const float *x, int64_t n)
{
    char buf[48];
    for (int64_t i = 0; i < n; i++) {
        ir_format_float(buf, sizeof buf, x[i]);
        fprintf(f, "%s%sf,", i % 8 == 0 ? "\n    " : " ", buf);
    }
    fputs("\n};\n", f);
}

/* "mnist_bn.seq:3  dense 128" */
static const char *where(cw *w, const ex_step *s)
{
    const char *text = s->op->text ? s->op->text : s->op->name;
    if (ir_op_is_loss(s->op->kind)) /* the final activation training fuses into the loss */
        text = arena_printf(&w->a, "%s (the loss applies it in training)",
                            ir_op_info(s->op->kind)->link);
    return arena_printf(&w->a, "%s:%d  %s", w->file, s->op->line, cq_comment(&w->a, text));
}

static const char *step_name(const ex_step *s, int k)
{
    (void)k;
    return s->op->name;
}

/* The weights of step k, under their layer's comment. */
static void put_weights(cw *w, const ex_step *s, int k)
{
    const char *name = step_name(s, k);
    const char *fold = s->folded ? arena_printf(&w->a, ", %s folded in", s->folded) : "";
    switch (s->kind) {
    case EX_DENSE:
        fprintf(w->f, "\n/* %s%s: kernel [%" PRId64 ", %" PRId64 "] */\n"
                      "static const float %s_kernel[%" PRId64 "] = {",
                where(w, s), fold, s->in, s->out, name, s->nw);
        put_floats(w->f, s->w, s->nw);
        break;
    case EX_CONV2D:
        fprintf(w->f, "\n/* %s%s: kernel [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                      "] (kh, kw, in channels, filters) */\n"
                      "static const float %s_kernel[%" PRId64 "] = {",
                where(w, s), fold, s->kernel[0], s->kernel[1], s->in_hwc[2], s->filters, name,
                s->nw);
        put_floats(w->f, s->w, s->nw);
        break;
    case EX_SCALE_SHIFT:
        fprintf(w->f, "\n/* %s: inference batchnorm as x * scale + shift per channel, "
                      "scale = gamma / sqrt(moving_variance + epsilon) */\n"
                      "static const float %s_scale[%" PRId64 "] = {",
                where(w, s), name, s->nw);
        put_floats(w->f, s->w, s->nw);
        break;
    case EX_GROUPNORM:
        fprintf(w->f, "\n/* %s: %s, gamma and beta [%" PRId64 "]%s */\n"
                      "static const float %s_gamma[%" PRId64 "] = {",
                where(w, s),
                s->per == 1 && s->ngroups == 1
                    ? "each row normalized over its channels"
                    : arena_printf(&w->a, "%" PRId64 " groups of channels normalized over "
                                          "each sample", s->ngroups),
                s->cols,
                s->op->param[0] == IR_NONE || s->op->param[1] == IR_NONE
                    ? " (1 for no gamma, 0 for no beta: the layer has none)"
                    : "",
                name, s->nw);
        put_floats(w->f, s->w, s->nw);
        fprintf(w->f, "static const float %s_beta[%" PRId64 "] = {", name, s->nb);
        put_floats(w->f, s->b, s->nb);
        return;
    case EX_NORMALIZE:
        fprintf(w->f, "\n/* %s: (x - mean) / sd per feature, sd = max(sqrt(variance), "
                      "1e-7) */\nstatic const float %s_mean[%" PRId64 "] = {",
                where(w, s), name, s->nw);
        put_floats(w->f, s->w, s->nw);
        fprintf(w->f, "static const float %s_sd[%" PRId64 "] = {", name, s->nb);
        put_floats(w->f, s->b, s->nb);
        return;
    default:
        return;
    }
    fprintf(w->f, "static const float %s_%s[%" PRId64 "] = {", name,
            s->kind == EX_SCALE_SHIFT ? "shift" : "bias", s->nb);
    put_floats(w->f, s->b, s->nb);
}

/* The static function of each kind, written once when the model uses it. */
static const char *const kernels[EX_KIND_COUNT] = {
    [EX_DENSE] =
        "/* y[out] = b + x[in] w[in, out] */\n"
        "static void dense(int in, int out, const float *x, const float *w, const float *b,\n"
        "                  float *y)\n"
        "{\n"
        "    int i, j;\n"
        "    for (j = 0; j < out; j++)\n"
        "        y[j] = b[j];\n"
        "    for (i = 0; i < in; i++) {\n"
        "        const float xi = x[i];\n"
        "        const float *wr = w + (size_t)i * (size_t)out;\n"
        "        for (j = 0; j < out; j++)\n"
        "            y[j] += xi * wr[j];\n"
        "    }\n"
        "}\n",
    [EX_CONV2D] =
        "/* NHWC images; w [kh, kw, c, f]; g: h, w, c, kh, kw, f, stride h, w,\n"
        " * dilation h, w, padding top, left, output h, w (zeros outside) */\n"
        "static void conv2d(const int *g, const float *x, const float *w, const float *b,\n"
        "                   float *y)\n"
        "{\n"
        "    const int H = g[0], W = g[1], C = g[2], KH = g[3], KW = g[4], F = g[5];\n"
        "    int oy, ox, ky, kx, c, f;\n"
        "    for (oy = 0; oy < g[12]; oy++)\n"
        "        for (ox = 0; ox < g[13]; ox++) {\n"
        "            float *yr = y + ((size_t)oy * (size_t)g[13] + (size_t)ox) * (size_t)F;\n"
        "            for (f = 0; f < F; f++)\n"
        "                yr[f] = b[f];\n"
        "            for (ky = 0; ky < KH; ky++) {\n"
        "                const int iy = oy * g[6] - g[10] + ky * g[8];\n"
        "                if (iy < 0 || iy >= H)\n"
        "                    continue;\n"
        "                for (kx = 0; kx < KW; kx++) {\n"
        "                    const int ix = ox * g[7] - g[11] + kx * g[9];\n"
        "                    const float *xr, *wr;\n"
        "                    if (ix < 0 || ix >= W)\n"
        "                        continue;\n"
        "                    xr = x + ((size_t)iy * (size_t)W + (size_t)ix) * (size_t)C;\n"
        "                    wr = w + ((size_t)ky * (size_t)KW + (size_t)kx) * (size_t)C * "
        "(size_t)F;\n"
        "                    for (c = 0; c < C; c++) {\n"
        "                        const float xc = xr[c];\n"
        "                        for (f = 0; f < F; f++)\n"
        "                            yr[f] += xc * wr[(size_t)c * (size_t)F + (size_t)f];\n"
        "                    }\n"
        "                }\n"
        "            }\n"
        "        }\n"
        "}\n",
    [EX_SCALE_SHIFT] =
        "/* y = x * s[c] + t[c], c the index's position on the last axis */\n"
        "static void scale_shift(int n, int cols, const float *s, const float *t,\n"
        "                        const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++)\n"
        "        y[i] = x[i] * s[i % cols] + t[i % cols];\n"
        "}\n",
    [EX_RESCALE] =
        "static void rescale(int n, float scale, float offset, const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++)\n"
        "        y[i] = x[i] * scale + offset;\n"
        "}\n",
    [EX_NORMALIZE] =
        "static void normalize(int n, int cols, const float *mean, const float *sd,\n"
        "                      const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++)\n"
        "        y[i] = (x[i] - mean[i % cols]) / sd[i % cols];\n"
        "}\n",
    [EX_GROUPNORM] =
        "/* n samples of per positions x ch channels; the channels in groups of\n"
        " * ch / groups, each group over a sample's positions normalized with\n"
        " * its mean and variance (two passes, in double), then * gamma + beta\n"
        " * per channel (a layernorm: per = 1, groups = 1, n rows of ch) */\n"
        "static void groupnorm(int n, int per, int ch, int groups, float eps,\n"
        "                      const float *gamma, const float *beta, const float *x,\n"
        "                      float *y)\n"
        "{\n"
        "    const int cpg = ch / groups;\n"
        "    const double m = (double)per * (double)cpg;\n"
        "    int s, g, p, c;\n"
        "    for (s = 0; s < n; s++) {\n"
        "        const float *xs = x + (size_t)s * (size_t)per * (size_t)ch;\n"
        "        float *ys = y + (size_t)s * (size_t)per * (size_t)ch;\n"
        "        for (g = 0; g < groups; g++) {\n"
        "            const int c0 = g * cpg;\n"
        "            double mu = 0.0, var = 0.0;\n"
        "            float inv, mf;\n"
        "            for (p = 0; p < per; p++)\n"
        "                for (c = c0; c < c0 + cpg; c++)\n"
        "                    mu += xs[(size_t)p * (size_t)ch + (size_t)c];\n"
        "            mu /= m;\n"
        "            for (p = 0; p < per; p++)\n"
        "                for (c = c0; c < c0 + cpg; c++) {\n"
        "                    const double d = (double)xs[(size_t)p * (size_t)ch + (size_t)c] - mu;\n"
        "                    var += d * d;\n"
        "                }\n"
        "            var /= m;\n"
        "            inv = (float)(1.0 / sqrt(var + (double)eps));\n"
        "            mf = (float)mu;\n"
        "            for (p = 0; p < per; p++)\n"
        "                for (c = c0; c < c0 + cpg; c++) {\n"
        "                    const size_t i = (size_t)p * (size_t)ch + (size_t)c;\n"
        "                    ys[i] = gamma[c] * ((xs[i] - mf) * inv) + beta[c];\n"
        "                }\n"
        "        }\n"
        "    }\n"
        "}\n",
    [EX_RELU] =
        "static void relu(int n, const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++)\n"
        "        y[i] = x[i] > 0.0f ? x[i] : 0.0f;\n"
        "}\n",
    [EX_LEAKY_RELU] =
        "static void leaky_relu(int n, float alpha, const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++)\n"
        "        y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];\n"
        "}\n",
    [EX_SIGMOID] =
        "/* exp of a non-positive number only: never overflows */\n"
        "static void sigmoid(int n, const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++) {\n"
        "        if (x[i] >= 0.0f) {\n"
        "            y[i] = 1.0f / (1.0f + expf(-x[i]));\n"
        "        } else {\n"
        "            const float e = expf(x[i]);\n"
        "            y[i] = e / (1.0f + e);\n"
        "        }\n"
        "    }\n"
        "}\n",
    [EX_TANH] =
        "static void tanh_(int n, const float *x, float *y)\n"
        "{\n"
        "    int i;\n"
        "    for (i = 0; i < n; i++)\n"
        "        y[i] = tanhf(x[i]);\n"
        "}\n",
    [EX_SOFTMAX] =
        "/* over each run of cols values; the maximum is subtracted first */\n"
        "static void softmax(int n, int cols, const float *x, float *y)\n"
        "{\n"
        "    int r, j;\n"
        "    for (r = 0; r < n; r += cols) {\n"
        "        float m = x[r], sum = 0.0f, inv;\n"
        "        for (j = 1; j < cols; j++)\n"
        "            m = x[r + j] > m ? x[r + j] : m;\n"
        "        for (j = 0; j < cols; j++) {\n"
        "            y[r + j] = expf(x[r + j] - m);\n"
        "            sum += y[r + j];\n"
        "        }\n"
        "        inv = 1.0f / sum;\n"
        "        for (j = 0; j < cols; j++)\n"
        "            y[r + j] *= inv;\n"
        "    }\n"
        "}\n",
    [EX_MAXPOOL2D] =
        "/* g: h, w, c, pool h, w, stride h, w, padding top, left, output h, w;\n"
        " * padded cells never win a max and are not counted in an average */\n"
        "static void pool2d(const int *g, int max, const float *x, float *y)\n"
        "{\n"
        "    const int H = g[0], W = g[1], C = g[2];\n"
        "    int oy, ox, c, iy, ix;\n"
        "    for (oy = 0; oy < g[9]; oy++)\n"
        "        for (ox = 0; ox < g[10]; ox++) {\n"
        "            int y0 = oy * g[5] - g[7], x0 = ox * g[6] - g[8];\n"
        "            int y1 = y0 + g[3], x1 = x0 + g[4];\n"
        "            float *yr = y + ((size_t)oy * (size_t)g[10] + (size_t)ox) * (size_t)C;\n"
        "            y0 = y0 < 0 ? 0 : y0;\n"
        "            x0 = x0 < 0 ? 0 : x0;\n"
        "            y1 = y1 > H ? H : y1;\n"
        "            x1 = x1 > W ? W : x1;\n"
        "            for (c = 0; c < C; c++) {\n"
        "                float acc = max ? -FLT_MAX : 0.0f;\n"
        "                int cells = 0;\n"
        "                for (iy = y0; iy < y1; iy++)\n"
        "                    for (ix = x0; ix < x1; ix++) {\n"
        "                        const float v = x[((size_t)iy * (size_t)W + (size_t)ix) * "
        "(size_t)C + (size_t)c];\n"
        "                        if (max)\n"
        "                            acc = v > acc ? v : acc;\n"
        "                        else\n"
        "                            acc += v;\n"
        "                        cells++;\n"
        "                    }\n"
        "                yr[c] = cells == 0 ? 0.0f : max ? acc : acc / (float)cells;\n"
        "            }\n"
        "        }\n"
        "}\n",
    [EX_GLOBAL_AVGPOOL2D] =
        "/* over all hw positions of each of c channels */\n"
        "static void global_pool(int hw, int c, int max, const float *x, float *y)\n"
        "{\n"
        "    int k, p;\n"
        "    for (k = 0; k < c; k++) {\n"
        "        float acc = max ? x[k] : 0.0f;\n"
        "        for (p = 0; p < hw; p++) {\n"
        "            const float v = x[(size_t)p * (size_t)c + (size_t)k];\n"
        "            if (max)\n"
        "                acc = v > acc ? v : acc;\n"
        "            else\n"
        "                acc += v;\n"
        "        }\n"
        "        y[k] = max ? acc : acc / (float)hw;\n"
        "    }\n"
        "}\n",
};

/* the kernel a step kind calls (the pools share theirs) */
static ex_kind kernel_of(ex_kind k)
{
    return k == EX_AVGPOOL2D ? EX_MAXPOOL2D : k == EX_GLOBAL_MAXPOOL2D ? EX_GLOBAL_AVGPOOL2D : k;
}

static void put_geometry(cw *w, const ex_step *s, int k)
{
    const char *name = step_name(s, k);
    if (s->kind == EX_CONV2D)
        fprintf(w->f, "static const int %s_geometry[14] = {%" PRId64 ", %" PRId64 ", %" PRId64
                      ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                      ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                      ", %" PRId64 "};\n",
                name, s->in_hwc[0], s->in_hwc[1], s->in_hwc[2], s->kernel[0], s->kernel[1],
                s->filters, s->stride[0], s->stride[1], s->dilation[0], s->dilation[1],
                s->pad[0], s->pad[1], s->out_hw[0], s->out_hw[1]);
    else if (s->kind == EX_MAXPOOL2D || s->kind == EX_AVGPOOL2D)
        fprintf(w->f, "\n/* %s: input h, w, c; pool h, w; stride h, w; padding top, left; "
                      "output h, w */\nstatic const int %s_geometry[11] = {%" PRId64
                      ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                      ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "};\n",
                where(w, s), name, s->in_hwc[0], s->in_hwc[1], s->in_hwc[2], s->kernel[0],
                s->kernel[1], s->stride[0], s->stride[1], s->pad[0], s->pad[1], s->out_hw[0],
                s->out_hw[1]);
}

/* The call of step k, reading x and writing y. */
static void put_call(cw *w, const ex_step *s, int k, const char *x, const char *y)
{
    const char *n = step_name(s, k);
    char alpha[48], a2[48];
    fprintf(w->f, "    /* %s -> [%" PRId64 "]%s%s */\n", where(w, s), s->out,
            s->folded ? ", " : "", s->folded ? arena_printf(&w->a, "%s folded in", s->folded)
                                             : "");
    switch (s->kind) {
    case EX_DENSE:
        fprintf(w->f, "    dense(%" PRId64 ", %" PRId64 ", %s, %s_kernel, %s_bias, %s);\n",
                s->in, s->out, x, n, n, y);
        return;
    case EX_CONV2D:
        fprintf(w->f, "    conv2d(%s_geometry, %s, %s_kernel, %s_bias, %s);\n", n, x, n, n, y);
        return;
    case EX_SCALE_SHIFT:
        fprintf(w->f, "    scale_shift(%" PRId64 ", %" PRId64 ", %s_scale, %s_shift, %s, %s);\n",
                s->out, s->cols, n, n, x, y);
        return;
    case EX_NORMALIZE:
        fprintf(w->f, "    normalize(%" PRId64 ", %" PRId64 ", %s_mean, %s_sd, %s, %s);\n",
                s->out, s->cols, n, n, x, y);
        return;
    case EX_RESCALE:
        ir_format_float(alpha, sizeof alpha, s->scale);
        ir_format_float(a2, sizeof a2, s->offset);
        fprintf(w->f, "    rescale(%" PRId64 ", %sf, %sf, %s, %s);\n", s->out, alpha, a2, x, y);
        return;
    case EX_RELU:
        fprintf(w->f, "    relu(%" PRId64 ", %s, %s);\n", s->out, x, y);
        return;
    case EX_LEAKY_RELU:
        ir_format_float(alpha, sizeof alpha, s->alpha);
        fprintf(w->f, "    leaky_relu(%" PRId64 ", %sf, %s, %s);\n", s->out, alpha, x, y);
        return;
    case EX_SIGMOID:
        fprintf(w->f, "    sigmoid(%" PRId64 ", %s, %s);\n", s->out, x, y);
        return;
    case EX_TANH:
        fprintf(w->f, "    tanh_(%" PRId64 ", %s, %s);\n", s->out, x, y);
        return;
    case EX_SOFTMAX:
        fprintf(w->f, "    softmax(%" PRId64 ", %" PRId64 ", %s, %s);\n", s->out, s->cols, x,
                y);
        return;
    case EX_MAXPOOL2D:
    case EX_AVGPOOL2D:
        fprintf(w->f, "    pool2d(%s_geometry, %d, %s, %s);\n", n, s->kind == EX_MAXPOOL2D, x,
                y);
        return;
    case EX_GLOBAL_AVGPOOL2D:
    case EX_GLOBAL_MAXPOOL2D:
        fprintf(w->f, "    global_pool(%" PRId64 ", %" PRId64 ", %d, %s, %s);\n",
                s->in_hwc[0] * s->in_hwc[1], s->in_hwc[2], s->kind == EX_GLOBAL_MAXPOOL2D, x,
                y);
        return;
    case EX_GROUPNORM:
        ir_format_float(alpha, sizeof alpha, s->epsilon);
        fprintf(w->f, "    groupnorm(%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                      ", %sf, %s_gamma, %s_beta, %s, %s);\n",
                s->out / (s->per * s->cols), s->per, s->cols, s->ngroups, alpha, n, n, x, y);
        return;
    case EX_KIND_COUNT:
        return;
    }
}

static void put_banner(cw *w, const export_info *info, const char *what)
{
    const ex_plan *p = w->p;
    fprintf(w->f,
            "/*\n * %s: generated by seqc %s from %s and the checkpoint %s.\n"
            " * Do not edit: export the model again instead.\n *\n",
            what, info->version, cq_comment(&w->a, info->source),
            cq_comment(&w->a, info->checkpoint));
    int nbn = 0;
    for (int i = 0; i < p->ir->nops; i++)
        nbn += p->ir->ops[i].kind == IR_BATCHNORM || p->ir->ops[i].kind == IR_BATCHNORM_FROZEN ||
               p->ir->ops[i].kind == IR_BATCHNORM_GHOST ||
               p->ir->ops[i].kind == IR_BATCHNORM_RENORM;
    const char *bn = nbn == 0 ? "no batchnorm"
                     : !p->folded
                         ? arena_printf(&w->a, "%d batchnorm%s kept as steps (--no-fold)", nbn,
                                        nbn > 1 ? "s" : "")
                         : arena_printf(&w->a, "%d of %d batchnorm%s folded into a dense or "
                                               "conv2d", p->nfolds, nbn, nbn > 1 ? "s" : "");
    fprintf(w->f,
            " * Inference of model '%s' in plain C99: no allocation, no globals that\n"
            " * are written, no library but libm (link with -lm). %" PRId64 " weights as\n"
            " * static const floats; %s.\n",
            p->ir->name, p->weights, bn);
}

int export_c_source(FILE *out, const ex_plan *p, const export_info *info)
{
    cw w = {.f = out, .p = p};
    arena_init(&w.a);
    w.file = cq_comment(&w.a, path_base(info->source));
    const char *name = cased_name(&w.a, p->ir->name, false);
    char *c_file = arena_strdup(&w.a, path_base(info->header)); /* NAME.h -> NAME.c */
    c_file[strlen(c_file) - 1] = 'c';
    put_banner(&w, info, c_file);
    fprintf(out, " * Each predict call keeps two buffers of %" PRId64 " floats (%" PRId64
                 " bytes) on the stack.\n */\n"
                 "#include \"%s\"\n\n#include <float.h>\n#include <math.h>\n#include <stddef.h>\n",
            p->max_features, 2 * 4 * p->max_features, cq_comment(&w.a, info->header));

    for (int k = 0; k < p->nsteps; k++)
        put_weights(&w, &p->steps[k], k);
    bool used[EX_KIND_COUNT] = {false};
    for (int k = 0; k < p->nsteps; k++) {
        put_geometry(&w, &p->steps[k], k);
        used[kernel_of(p->steps[k].kind)] = true;
    }
    for (int kind = 0; kind < EX_KIND_COUNT; kind++)
        if (used[kind] && kernels[kind])
            fprintf(out, "\n%s", kernels[kind]);

    fprintf(out, "\nvoid %s_predict(const float *input, float *output)\n{\n", name);
    int nbuf = p->nsteps - 1 < 2 ? p->nsteps - 1 : 2;
    if (nbuf > 0)
        fprintf(out, "    float a[%" PRId64 "]%s;\n", p->max_features,
                nbuf > 1 ? arena_printf(&w.a, ", b[%" PRId64 "]", p->max_features) : "");
    if (p->nsteps == 0)
        fprintf(out, "    int i;\n    for (i = 0; i < %" PRId64 "; i++)\n"
                     "        output[i] = input[i];\n",
                p->outputs);
    const char *cur = "input";
    for (int k = 0; k < p->nsteps; k++) {
        const char *dst = k == p->nsteps - 1 ? "output" : k % 2 ? "b" : "a";
        put_call(&w, &p->steps[k], k, cur, dst);
        cur = dst;
    }
    fprintf(out, "}\n\nvoid %s_predict_batch(int n, const float *input, float *output)\n{\n"
                 "    int i;\n    for (i = 0; i < n; i++)\n"
                 "        %s_predict(input + (size_t)i * %" PRId64 ", output + (size_t)i * %"
                 PRId64 ");\n}\n",
            name, name, p->input_size, p->outputs);
    arena_free(&w.a);
    return ferror(out) ? -1 : 0;
}

int export_c_header(FILE *out, const ex_plan *p, const export_info *info)
{
    cw w = {.f = out, .p = p};
    arena_init(&w.a);
    const char *name = cased_name(&w.a, p->ir->name, false);
    const char *up = cased_name(&w.a, p->ir->name, true);
    put_banner(&w, info, path_base(info->header));
    fputs(" *\n * input:  the model's input as floats, exactly as its trainer feeds it:\n"
          " *         an image from IDX or NumPy uint8 data is its bytes scaled to\n"
          " *         0..1 (x = byte * (1.0f / 255.0f)), row by row (and channel\n"
          " *         last); CSV and\n"
          " *         float data as stored, in the file's column order (any rescale\n"
          " *         or normalize layer of the model is inside the export).\n",
          out);
    fprintf(out, " * output: what the model's last layer produces (%s).\n */\n",
            p->nsteps > 0 && p->steps[p->nsteps - 1].kind == EX_SOFTMAX
                ? "probabilities after softmax"
            : p->nsteps > 0 && p->steps[p->nsteps - 1].kind == EX_SIGMOID
                ? "probabilities after sigmoid"
                : "the last layer's values");
    fprintf(out, "#ifndef %s_H\n#define %s_H\n\n", up, up);
    fprintf(out, "/* input shape:");
    for (int d = 0; d < p->ir->input_ndims; d++)
        fprintf(out, "%s%" PRId64, d ? " x " : " ", p->ir->input_dims[d]);
    fprintf(out, " */\n#define %s_INPUT_SIZE %" PRId64 "\n#define %s_OUTPUT_SIZE %" PRId64
                 "\n\n",
            up, p->input_size, up, p->outputs);
    fprintf(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
                 "/* input[%s_INPUT_SIZE] -> output[%s_OUTPUT_SIZE] */\n"
                 "void %s_predict(const float *input, float *output);\n"
                 "/* n samples, one after another: input[n * %s_INPUT_SIZE] ->\n"
                 " * output[n * %s_OUTPUT_SIZE] */\n"
                 "void %s_predict_batch(int n, const float *input, float *output);\n\n"
                 "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n",
            up, up, name, up, up, name, up);
    arena_free(&w.a);
    return ferror(out) ? -1 : 0;
}
