/*
 * names.h: every set of names the language spells, one table each, in
 * the order of its enum (model.h):
 *
 *   layers        input, flatten, dense, ...        (and Keras's names for
 *                                                     the summary)
 *   initializers  zeros, glorot_uniform, ...        seqrt_names.h
 *   optimizers    sgd, adam, rmsprop                seqrt_names.h
 *   schedules     constant, step, cosine, ...       seqrt_names.h
 *   losses        sparse_categorical_crossentropy   seqrt_names.h
 *   metrics       accuracy, auc, ...               seqrt_names.h
 *
 * The runtime's kinds are the runtime's enums (seqrt.h) with the runtime's
 * name tables (seqrt_names.h), so the compiler and the trainers it
 * generates cannot disagree on a number. Option keys belong to their
 * statement and live with its spec in check.c.
 */
#ifndef SEQC_NAMES_H
#define SEQC_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include "front/model.h"

typedef struct name_table {
    const char *const *names; /* names[kind] */
    size_t             count;
} name_table;

extern const name_table names_layer, names_init, names_optimizer, names_loss, names_metric,
    names_schedule;

/* The kind whose name is name in t, or -1 */
int names_find(const name_table *t, const char *name);

const char *init_kind_name(init_kind k);
const char *optimizer_kind_name(optimizer_kind k);
const char *loss_kind_name(loss_kind k);
const char *metric_kind_name(metric_kind k);

/* The three cross-entropies: the losses that take from_logits= */
bool loss_is_crossentropy(loss_kind k);

/* Keras's class and snake_case name for a layer kind, as its summary
 * prints them ("BatchNormalization", "batch_normalization") */
const char *layer_keras_class(layer_kind k);
const char *layer_keras_name(layer_kind k);

#endif /* SEQC_NAMES_H */
