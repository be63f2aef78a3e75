/*
 * model.h: a checked model, what the check pass (check.c) makes of the AST.
 *
 * Every name has been resolved to an enum, every option to a value (its
 * default when not written), every range checked, and every layer's output
 * shape and parameter count inferred (shapes.c) and checked against the
 * limits of the back end and the runtime. Everything after the front end
 * (summary.c, lowering in ir/lower.c, the passes, the C generator) reads
 * the shapes from here and trusts them: that is what makes `seqc check`
 * the gate.
 */
#ifndef SEQC_MODEL_H
#define SEQC_MODEL_H

#include <stdint.h>
#include <stdbool.h>
#include "front/ast.h"
#include "seqrt.h" /* the runtime's kinds: initializers, optimizers, losses */

typedef enum layer_kind {
    LAYER_INPUT,
    LAYER_FLATTEN,
    LAYER_DENSE,
    LAYER_BATCHNORM,
    LAYER_RELU,
    LAYER_SIGMOID,
    LAYER_TANH,
    LAYER_SOFTMAX,
    LAYER_LEAKY_RELU,
    LAYER_DROPOUT,
    LAYER_RESCALE,   /* Keras Rescaling: x * scale + offset */
    LAYER_NORMALIZE, /* Keras Normalization: (x - mean) / sqrt(variance) */
    LAYER_CONV2D,    /* Keras Conv2D, channels last */
    LAYER_MAXPOOL2D, /* Keras MaxPooling2D */
    LAYER_AVGPOOL2D, /* Keras AveragePooling2D */
    LAYER_GLOBAL_AVGPOOL2D, /* Keras GlobalAveragePooling2D */
    LAYER_GLOBAL_MAXPOOL2D, /* Keras GlobalMaxPooling2D */
    LAYER_LAYERNORM, /* Keras LayerNormalization: per sample, last axis */
    LAYER_GROUPNORM, /* Keras GroupNormalization: per sample and group of channels */
    LAYER_KIND_COUNT
} layer_kind;

/* "batchnorm" etc; layer_kind_from_name returns -1 when unknown (names.c) */
const char *layer_kind_name(layer_kind k);
int layer_kind_from_name(const char *name);

/* The runtime's enums, used as they are: a trainer receives the same
 * numbers (names.h has their names). */
typedef seqrt_init_kind init_kind;
typedef seqrt_optimizer_kind optimizer_kind;
typedef seqrt_loss_kind loss_kind;
typedef seqrt_metric_kind metric_kind;

/* One sample's shape after a layer, and the layer's parameters (shapes.c). */
typedef struct layer_shape {
    int      ndims;
    int64_t  dims[AST_MAX_DIMS];
    int64_t  size;      /* values per sample, the product of dims */
    int64_t  groups;    /* size / the last dim: the rows per sample a
                           per-feature kernel (batchnorm, softmax) sees on
                           the last axis, as Keras; 1 once flat */
    uint64_t params;    /* all parameters of the layer */
    uint64_t trainable; /* of which trained by the optimizer */
} layer_shape;

typedef struct layer {
    layer_kind kind;
    src_loc    loc;        /* of the keyword */
    int        line;       /* loc.line, for the generated comments */
    int        kw_len;     /* the keyword's length in the file: its span in
                              messages, kept when --replace changes the kind */
    /* input */
    int        ndims;
    int64_t    dims[AST_MAX_DIMS];
    /* dense */
    int64_t    units;
    bool       bias;       /* default true */
    init_kind  init;       /* default glorot_uniform */
    /* batchnorm (epsilon, center and scale: layernorm and groupnorm too) */
    double     momentum;   /* default 0.99 */
    double     epsilon;    /* default 0.001 */
    bool       center;     /* beta exists (default true) */
    bool       gamma;      /* scale=: gamma exists (default true) */
    bool       frozen;     /* moving statistics in training too, nothing
                              trained (Keras trainable=False) */
    int64_t    virtual_batch; /* ghost batch size in samples; 0: the batch */
    src_loc    virtual_batch_loc; /* of its value, for check_virtual_batch */
    int        virtual_batch_len;
    bool       renorm;     /* batch renormalization (Ioffe 2017) */
    double     rmax, dmax; /* renorm's clipping: defaults 3 and 5 */
                           /* (renorm uses the moving statistics, as Ioffe) */
    bool       sync;       /* under MPI, the batch statistics of every
                              process's rows (default true); false: each
                              process's own. Used by plain and renorm
                              batchnorm (frozen uses none, ghost batches
                              are per process) */
    /* groupnorm */
    int64_t    norm_groups;/* default 32 (Keras) */
    src_loc    norm_groups_loc; /* of groups='s value, or the keyword */
    int        norm_groups_len;
    /* leaky_relu */
    double     alpha;      /* default 0.3 */
    /* dropout */
    double     rate;
    /* rescale */
    double     scale;      /* required */
    const char *scale_text;/* as written ("1/255"), for comments */
    double     offset;     /* default 0 */
    /* conv2d (filters, kernel) and the pools (kernel = the pool size):
     * [0] rows, [1] columns */
    int64_t    filters;
    int64_t    kernel[2];
    int64_t    stride[2];  /* conv2d default 1; pools default the pool size */
    int64_t    dilation[2];/* conv2d, default 1 */
    bool       same;       /* padding=same (default valid) */
    /* filled by shapes.c */
    layer_shape out;
    /* conv2d and the pools, filled by shapes.c: `same` padding before the
     * first row and column (Keras: the extra one goes after the last) */
    int64_t    pad[2];
    int64_t    in_dims[3]; /* the image it reads: height, width, channels */
} layer;

typedef struct train_recipe {
    optimizer_kind optimizer;   /* default adam */
    double   lr;                /* adam 0.001, sgd 0.01 */
    double   momentum;          /* sgd, default 0 */
    bool     nesterov;          /* sgd, default false */
    double   beta1, beta2, epsilon; /* adam: 0.9, 0.999, 1e-7 (rmsprop's too) */
    double   rho;               /* rmsprop, default 0.9 */
    double   weight_decay;      /* decoupled (Keras 3, AdamW); 0: none */
    bool     decay_norm_and_bias; /* decay biases and batchnorm gamma/beta
                                   too (default false: kernels only) */
    double   clipnorm, clipvalue, global_clipnorm; /* 0: none; at most one */
    /* schedule NAME [options] (has_schedule: written; else constant) */
    bool     has_schedule;
    seqrt_schedule schedule;
    /* early_stopping [options] (early_stopping.enabled: written) */
    seqrt_early_stopping early_stopping;
    bool     save_best;         /* save_best true */
    seqrt_monitor best_monitor; /* early_stopping's, else val_loss */
    double   best_min_delta;
    loss_kind loss;             /* default sparse_categorical_crossentropy */
    src_loc  loss_loc;          /* of the loss's name when written (line 0: not) */
    int      loss_len;
    bool     from_logits;       /* the cross-entropies: the loss applies
                                   softmax/sigmoid itself (default false) */
    src_loc  from_logits_loc;   /* of the key when written */
    double   delta;             /* huber, default 1.0 */
    /* metrics NAME... [k=K]: in the order written, each at most once */
    int      nmetrics;
    struct train_metric {
        metric_kind kind;       /* `accuracy` resolved by the loss (shapes.c) */
        const char *name;       /* as written: the history's column */
        int         k;          /* top-k: default 5 */
        src_loc     loc;        /* of the name */
        int         len;
    } metrics[SEQRT_MAX_METRICS];
    src_loc  k_loc;             /* of k='s value when written (line 0: not) */
    int      k_len;
    double   validation_split;  /* 0: none; else in (0, 1) */
    int64_t  epochs;            /* default 10 */
    int64_t  batch;             /* default 32 */
    src_loc  batch_loc;         /* of batch's value when written (line 0: not) */
    int      batch_len;
    bool     drop_last;         /* drop every partial last batch (default false) */
    bool     recalibrate_bn;    /* recompute the moving statistics after
                                   training (default false) */
    src_loc  recalibrate_loc;   /* of the statement when written (line 0: not) */
    bool     shuffle;           /* default true */
    uint64_t seed;              /* default 42 */
    bool     has_train_block;
} train_recipe;

typedef struct model_counts {
    uint64_t total, trainable, non_trainable;
} model_counts;

/* What the model is checked for (shapes.c): to be trained (check, ir,
 * emit, build, compare), or only to be described (summary), which counts
 * a model too large to train and warns instead of refusing it. */
typedef enum model_goal { MODEL_TO_TRAIN, MODEL_TO_DESCRIBE } model_goal;

struct diag;

typedef struct model {
    const char *path;   /* the model file */
    const char *name;
    size_t      nlayers;
    layer      *layers; /* layers[0] is the input */
    train_recipe train;
    /* filled by shapes.c */
    model_counts counts;
    uint64_t    train_bytes; /* memory to train at the file's batch size */
    bool        shaped;      /* shapes are valid for these layers: an edit
                                (model_without) clears it until checked again */
    /* kept for checking an edited model again with diagnostics pointing
     * at the file's lines */
    struct diag *diag;
    model_goal  goal;
} model;

#endif /* SEQC_MODEL_H */
