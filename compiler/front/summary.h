/*
 * summary.h: the Keras-style table of a checked model (`seqc summary`),
 * and the shape and parameter arithmetic behind it.
 *
 * Shapes here follow the language's rule (docs/language.md): a sample
 * keeps the input's shape through element-wise layers (batchnorm,
 * activations, dropout) until a `flatten` or `dense`; `dense` consumes
 * all of a sample's values (the input is flattened before the first dense)
 * and outputs [units]. Parameter counts are 64-bit.
 */
#ifndef SEQC_SUMMARY_H
#define SEQC_SUMMARY_H

#include <stdint.h>
#include <stdio.h>
#include "front/model.h"

typedef struct layer_stats {
    int      ndims;                 /* output shape of one sample */
    int64_t  dims[AST_MAX_DIMS];
    uint64_t params;                /* all parameters of the layer */
    uint64_t trainable;             /* of which trained by the optimizer */
} layer_stats;

typedef struct model_counts {
    uint64_t total, trainable, non_trainable;
} model_counts;

/* Fills stats[0..m->nlayers) (when stats != NULL) and *out. Returns 0 when
 * a count does not fit in 64 bits (the check pass reports that as an
 * error, so a checked model always counts). */
int summary_count(const model *m, layer_stats *stats, model_counts *out);

/* Values per sample of a shape (the product of dims). */
uint64_t summary_shape_size(int ndims, const int64_t *dims);

/* The names `seqc summary` gives layers, as Keras names them: "dense",
 * "dense_1", "batch_normalization", ... (the generated C uses them too).
 * Zero a summary_namer, then call summary_layer_name for each layer in
 * order; it writes into buf and returns buf. */
typedef struct summary_namer {
    int counters[LAYER_KIND_COUNT];
} summary_namer;
const char *summary_layer_name(summary_namer *nm, layer_kind kind, char *buf, size_t size);

/* "110,154" into buf (at least 27 bytes); returns buf. */
char *summary_commas(uint64_t n, char *buf, size_t size);

/* Prints the table:
 *   Model: "mnist_bn"
 *   ...rows: "dense (Dense)   (None, 128)   100,480"...
 *   Total params: 110,154
 *   Trainable params: 109,770
 *   Non-trainable params: 384
 */
void summary_print(FILE *out, const model *m);

#endif
