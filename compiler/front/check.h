/*
 * check.h: the check pass, from the AST to a checked model (model.h).
 *
 * Every name is resolved (with a suggestion when it is misspelt), every
 * argument and option is checked against its statement and range, and
 * the model block starts with its input. Several errors are reported per
 * run. The model is not usable yet: shapes_check (shapes.h) infers its
 * shapes and checks it as a whole, which frontend.c does next.
 */
#ifndef SEQC_CHECK_H
#define SEQC_CHECK_H

#include "util/arena.h"
#include "front/ast.h"
#include "front/diag.h"
#include "front/model.h"

/* Returns 0 and fills *out (arena-owned) when no error was reported. */
int check_file(arena *a, diag *d, const ast_file *f, model *out);

/*
 * A layer of kind `to` in place of *from (--replace FROM=TO): to's
 * defaults, then every option both kinds take copied from *from (epsilon
 * from batchnorm to layernorm); the options only *from takes are dropped.
 * A positional argument is carried only when both kinds take the same
 * one (maxpool2d=avgpool2d: the pool size); a kind that needs one *from
 * cannot give is refused. Returns 1 and fills *out (line and location
 * kept), or 0 with why[] saying what stops it.
 */
int check_replace_layer(const layer *from, layer_kind to, layer *out, char *why, size_t whylen);

#endif
