/*
 * seqrt_names.h: the names a model file spells for the runtime's kinds,
 * one table per enum of seqrt.h (initializers, optimizers, losses), in
 * enum order. seqc's front end reads model files with these tables
 * (compiler/front/names.c), so a kind added to seqrt.h without its name
 * fails to compile here.
 *
 * Header-only and not included by seqrt.h: a trainer never needs the
 * names, and seqc does not link the runtime.
 */
#ifndef SEQRT_NAMES_H
#define SEQRT_NAMES_H

#include "seqrt.h"

static const char *const seqrt_init_names[] = {
    [SEQRT_INIT_ZEROS] = "zeros",
    [SEQRT_INIT_ONES] = "ones",
    [SEQRT_INIT_GLOROT_UNIFORM] = "glorot_uniform",
    [SEQRT_INIT_GLOROT_NORMAL] = "glorot_normal",
    [SEQRT_INIT_HE_UNIFORM] = "he_uniform",
    [SEQRT_INIT_HE_NORMAL] = "he_normal",
};
_Static_assert(sizeof seqrt_init_names / sizeof *seqrt_init_names == SEQRT_INIT_COUNT_,
               "one name per seqrt_init_kind");

static const char *const seqrt_optimizer_names[] = {
    [SEQRT_OPT_SGD] = "sgd",
    [SEQRT_OPT_ADAM] = "adam",
    [SEQRT_OPT_RMSPROP] = "rmsprop",
};
_Static_assert(sizeof seqrt_optimizer_names / sizeof *seqrt_optimizer_names ==
                   SEQRT_OPT_COUNT_,
               "one name per seqrt_optimizer_kind");

static const char *const seqrt_loss_names[] = {
    [SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY] = "sparse_categorical_crossentropy",
    [SEQRT_LOSS_CATEGORICAL_CROSSENTROPY] = "categorical_crossentropy",
    [SEQRT_LOSS_BINARY_CROSSENTROPY] = "binary_crossentropy",
    [SEQRT_LOSS_MSE] = "mse",
    [SEQRT_LOSS_MAE] = "mae",
    [SEQRT_LOSS_HUBER] = "huber",
};
_Static_assert(sizeof seqrt_loss_names / sizeof *seqrt_loss_names == SEQRT_LOSS_COUNT_,
               "one name per seqrt_loss_kind");

static const char *const seqrt_schedule_names[] = {
    [SEQRT_SCHED_CONSTANT] = "constant",
    [SEQRT_SCHED_STEP] = "step",
    [SEQRT_SCHED_EXPONENTIAL] = "exponential",
    [SEQRT_SCHED_COSINE] = "cosine",
    [SEQRT_SCHED_PLATEAU] = "plateau",
};
_Static_assert(sizeof seqrt_schedule_names / sizeof *seqrt_schedule_names ==
                   SEQRT_SCHED_COUNT_,
               "one name per seqrt_schedule_kind");

/* The names a `metrics` line accepts (Keras's). "accuracy" resolves by
 * the loss (seqrt.h); the top-k metric takes k= (default 5). */
static const char *const seqrt_metric_names[] = {
    [SEQRT_METRIC_ACCURACY] = "accuracy",
    [SEQRT_METRIC_BINARY_ACCURACY] = "binary_accuracy",
    [SEQRT_METRIC_TOP_K] = "sparse_top_k_categorical_accuracy",
    [SEQRT_METRIC_MAE] = "mae",
    [SEQRT_METRIC_MSE] = "mse",
    [SEQRT_METRIC_RMSE] = "rmse",
    [SEQRT_METRIC_AUC] = "auc",
};
_Static_assert(sizeof seqrt_metric_names / sizeof *seqrt_metric_names ==
                   SEQRT_METRIC_COUNT_,
               "one name per seqrt_metric_kind");

#endif /* SEQRT_NAMES_H */
