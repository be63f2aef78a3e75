/*
 * frontend.h: from a model file to a checked model.
 *
 *   text --lexer.re/parser.y--> ast_file --check.c--> model --shapes.c--> checked model
 *
 * Diagnostics go to stderr as FILE:LINE:COL: error: MESSAGE, the source
 * line and a caret (diag.h).
 */
#ifndef SEQC_FRONTEND_H
#define SEQC_FRONTEND_H

#include "util/arena.h"
#include "front/model.h"

/* The largest model file read: a real model is a few hundred bytes, and
 * the whole file is held in memory (a device such as /dev/urandom or a
 * FIFO that never ends is refused at this size, not read until memory
 * runs out). */
#define FRONTEND_MAX_FILE_BYTES ((size_t)64 * 1024 * 1024)

typedef struct frontend_opts {
    model_goal        goal;    /* to train, or only to describe (summary) */
    const layer_kind *without; /* --without KIND...: dropped before the
                                  whole-model rules run */
    int               nwithout;
} frontend_opts;

/* Reads, parses and checks the file at path, as o says. Returns 0 and
 * fills *out (arena-owned) when there are no errors (warnings may have
 * been printed); returns 1 when at least one error was reported. */
int frontend_load_with(arena *a, const char *path, const frontend_opts *o, model *out);
/* The same, to train and with every layer. */
int frontend_load(arena *a, const char *path, model *out);

/* The same on a file's contents already in memory (tests, fuzzing):
 * text[len] must be readable and is the end; diagnostics go to d, whose
 * path and text this sets and which must outlive the model (model_without
 * reports through it). Returns 0 or 1 as frontend_load. */
struct diag;
int frontend_load_text(arena *a, struct diag *d, const char *text, size_t len, model *out);

/* Drops every layer of the given kinds from a checked model (for
 * --without; never the input) and checks it again, as the file would be
 * without those layers: diagnostics point at the file's lines. Returns 0,
 * or 1 after reporting (the model is then not to be lowered). Loading
 * with frontend_opts.without does the same in one step. */
int model_without(model *m, const layer_kind *kinds, int nkinds);

/* Replaces every layer of kind `from` in a checked model with one of kind
 * `to` (for --replace FROM=TO; check_replace_layer says which options
 * carry over) and checks it again as a file with those layers would be:
 * diagnostics point at the file's lines. Returns 0, or 1 after reporting
 * (a kind `to` cannot stand in for `from`, or the edited model breaks a
 * rule). */
int model_replace(model *m, layer_kind from, layer_kind to);

#endif
