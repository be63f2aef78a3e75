/*
 * model.h: a checked model, what the check pass (check.c) makes of the AST.
 *
 * Every name has been resolved to an enum, every option to a value (its
 * default when not written), every range checked. Lowering (lower.c)
 * turns this into the IR. Shapes are not inferred here beyond the input;
 * shape inference is an IR pass.
 */
#ifndef SEQC_MODEL_H
#define SEQC_MODEL_H

#include <stdint.h>
#include <stdbool.h>
#include "front/ast.h"

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
    LAYER_KIND_COUNT
} layer_kind;

/* "batchnorm" etc; layer_kind_from_name returns -1 when unknown */
const char *layer_kind_name(layer_kind k);
int layer_kind_from_name(const char *name);

typedef enum init_kind {
    INIT_ZEROS, INIT_ONES, INIT_GLOROT_UNIFORM, INIT_GLOROT_NORMAL,
    INIT_HE_UNIFORM, INIT_HE_NORMAL
} init_kind; /* same order as seqrt_init_kind */

typedef struct layer {
    layer_kind kind;
    src_loc    loc;        /* of the keyword */
    int        line;       /* loc.line, for the generated comments */
    /* input */
    int        ndims;
    int64_t    dims[AST_MAX_DIMS];
    /* dense */
    int64_t    units;
    bool       bias;       /* default true */
    init_kind  init;       /* default glorot_uniform */
    /* batchnorm */
    double     momentum;   /* default 0.99 */
    double     epsilon;    /* default 0.001 */
    /* leaky_relu */
    double     alpha;      /* default 0.3 */
    /* dropout */
    double     rate;
} layer;

typedef enum optimizer_kind { OPT_SGD, OPT_ADAM } optimizer_kind;
typedef enum loss_kind {
    LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    LOSS_CATEGORICAL_CROSSENTROPY,
    LOSS_MSE
} loss_kind; /* same order as seqrt_loss_kind */

typedef struct train_recipe {
    optimizer_kind optimizer;   /* default adam */
    double   lr;                /* adam 0.001, sgd 0.01 */
    double   momentum;          /* sgd, default 0 */
    bool     nesterov;          /* sgd, default false */
    double   beta1, beta2, epsilon; /* adam: 0.9, 0.999, 1e-7 */
    loss_kind loss;             /* default sparse_categorical_crossentropy */
    bool     metric_accuracy;   /* metrics accuracy */
    int64_t  epochs;            /* default 10 */
    int64_t  batch;             /* default 32 */
    bool     shuffle;           /* default true */
    uint64_t seed;              /* default 42 */
    bool     has_train_block;
} train_recipe;

typedef struct model {
    const char *path;   /* the model file */
    const char *name;
    size_t      nlayers;
    layer      *layers; /* layers[0] is the input */
    train_recipe train;
} model;

#endif /* SEQC_MODEL_H */
