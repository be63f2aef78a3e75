/*
 * summary.h: the Keras-style table of a checked model (`seqc summary`).
 * The shapes and 64-bit parameter counts it prints are the ones shapes.c
 * inferred for the check; nothing here infers them again.
 */
#ifndef SEQC_SUMMARY_H
#define SEQC_SUMMARY_H

#include <stdint.h>
#include <stdio.h>
#include "front/model.h"

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

/* Prints the table of a checked model (m->shaped):
 *   Model: "mnist_bn"
 *   ...rows: "dense (Dense)   (None, 128)   100,480"...
 *   Total params: 110,154
 *   Trainable params: 109,770
 *   Non-trainable params: 384
 */
void summary_print(FILE *out, const model *m);

#endif
