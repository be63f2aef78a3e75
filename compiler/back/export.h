/*
 * export.h: a trained model, for deployment. From an IR that has been
 * through every pass and the checkpoint's parameters to an export plan:
 * the inference steps in order with their own float weights, batchnorm
 * folded (export_plan.c); the plan as dependency-free C (export_c.c) or
 * as ONNX (export_onnx.c). export_ref.c is the independent reference the
 * self-check compares the plan with: the unfolded IR evaluated in double.
 *
 *   ir + params --export_plan--> plan --export_c--> NAME.c, NAME.h
 *                                     --export_onnx--> NAME.onnx
 *   self-check: export_plan_eval(plan) == export_reference(ir, params)
 *
 * One step kind per case: a new layer kind is one more ex_kind (or a case
 * of an existing one: every batchnorm kind folds, layernorm is a groupnorm
 * step), one case in export_plan.c, in export_plan_eval, in the C
 * writer and in the ONNX writer. A layer kind the plan does not know is
 * refused by export_plan with the layer's line and kind.
 *
 * Everything is allocated in the caller's arena and freed with it.
 */
#ifndef SEQC_EXPORT_H
#define SEQC_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"

typedef enum ex_kind {
    EX_DENSE,       /* y[out] = b + x[in] w[in, out] */
    EX_CONV2D,      /* NHWC, w [kh, kw, cin, cout], Keras padding */
    EX_SCALE_SHIFT, /* y = x * scale[c] + shift[c], c the last axis (cols):
                       a batchnorm that could not be folded */
    EX_RESCALE,     /* y = x * scale + offset */
    EX_NORMALIZE,   /* y = (x - mean[c]) / sd[c], sd = max(sqrt(var), 1e-7) */
    EX_RELU,
    EX_LEAKY_RELU,
    EX_SIGMOID,
    EX_TANH,
    EX_SOFTMAX,     /* over the last axis (cols), groups rows per sample */
    EX_MAXPOOL2D,
    EX_AVGPOOL2D,
    EX_GLOBAL_AVGPOOL2D,
    EX_GLOBAL_MAXPOOL2D,
    EX_GROUPNORM,   /* per sample of `per` positions x cols channels, each of
                       ngroups groups of channels normalized with its own
                       mean and variance, then * gamma[c] + beta[c];
                       layernorm is per = 1, ngroups = 1 on each row */
    EX_KIND_COUNT
} ex_kind;

typedef struct ex_step {
    ex_kind      kind;
    const ir_op *op;      /* the layer it comes from (name, line, text) */
    const char  *folded;  /* what was folded into it, for comments; or NULL */
    int64_t      in, out; /* features per sample read and written */
    int64_t      cols;    /* the last axis: scale_shift, normalize, softmax */
    float       *w, *b;   /* dense, conv2d: kernel and bias (b never NULL);
                             scale_shift: scale and shift [cols];
                             normalize: mean and sd [cols] */
    int64_t      nw, nb;  /* floats in w and b */
    const float *bn[4];   /* scale_shift: the batchnorm's gamma, beta,
                             moving mean and variance [cols] (for ONNX's
                             BatchNormalization) */
    float        epsilon; /* scale_shift: the batchnorm's; groupnorm */
    int64_t      per, ngroups; /* groupnorm: positions per sample, groups
                                  (w, b: gamma, beta [cols], 1 and 0 when
                                  the layer has none) */
    double       alpha;   /* leaky_relu */
    float        scale, offset; /* rescale */
    /* conv2d and the pools (as ir_op): input h, w, c; kernel or pool
     * size; strides; dilations; `same` padding top/left; output h, w */
    int64_t      in_hwc[3], kernel[2], stride[2], dilation[2], pad[2], out_hw[2];
    int64_t      filters;
} ex_step;

typedef struct ex_plan {
    const ir_model *ir;
    ex_step        *steps;
    int             nsteps;
    int64_t         input_size, outputs;
    int64_t         weights;      /* floats in every step's w and b */
    int64_t         max_features; /* widest activation (buffers) */
    bool            folded;       /* batchnorm folded (not --no-fold) */
    int             nfolds;       /* batchnorms folded away */
} ex_plan;

/* Whether export_plan has a case for op kind k: every layer kind of the
 * language (the losses end the plan; IR_BN_RELU_MAXPOOL2D is made by a
 * pass the export does not run). */
bool export_supports(ir_op_kind k);

/* Builds the plan of ir (after every pass) with the checkpoint's
 * params[ir->param_count]. fold: batchnorm folded into the dense or
 * conv2d right before it, else into the dense right after it; otherwise
 * (and with fold false) a scale/shift step. Each fold is reported on `report` (may be
 * NULL) as "folded batch_normalization (line 3) into dense (line 3)".
 * Returns the plan, or NULL after printing FILE:LINE: error: for a layer
 * that cannot be exported. */
ex_plan *export_plan(arena *a, const ir_model *ir, const float *params, bool fold,
                     FILE *report);

/* The plan on one sample, in float, with the same arithmetic in the same
 * order as the exported C: x[input_size] -> y[outputs]. buf0 and buf1
 * hold max_features floats each. */
void export_plan_eval(const ex_plan *p, const float *x, float *y, float *buf0, float *buf1);

/* The unfolded model on one sample in double, from the IR and the
 * checkpoint's params: batchnorm with its moving statistics, dropout the
 * identity, the loss's link (softmax, sigmoid) applied. buf0 and buf1 hold
 * export_reference_width(ir) doubles each. */
int64_t export_reference_width(const ir_model *ir);
void export_reference(const ir_model *ir, const float *params, const float *x, double *y,
                      double *buf0, double *buf1);

/* Writers. Each returns 0, or -1 when writing failed (ferror). */
typedef struct export_info {
    const char *version;    /* seqc's */
    const char *source;     /* the model file */
    const char *checkpoint; /* the checkpoint file */
    const char *header;     /* export_c: the header's file name, for #include */
} export_info;

int export_c_source(FILE *out, const ex_plan *p, const export_info *info);
int export_c_header(FILE *out, const ex_plan *p, const export_info *info);

/* The ONNX model as bytes (malloc'd; the caller frees), or NULL. */
unsigned char *export_onnx_bytes(const ex_plan *p, const export_info *info, size_t *len);

#endif
