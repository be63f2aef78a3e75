/*
 * check.h: the check pass, from the AST to a checked model (model.h).
 *
 * Every name is resolved (with a suggestion when it is misspelt), every
 * argument and option is checked against its statement and range, and
 * the model as a whole is checked: an input first, a loss that suits the
 * output. Several errors are reported per run; the model is only usable
 * when d->errors is 0 afterwards.
 */
#ifndef SEQC_CHECK_H
#define SEQC_CHECK_H

#include "util/arena.h"
#include "front/ast.h"
#include "front/diag.h"
#include "front/model.h"

/* Largest number of units, of values in an input, of epochs or of a batch:
 * the runtime indexes with int. */
#define CHECK_MAX_SIZE INT32_MAX

/* Returns 0 and fills *out (arena-owned) when no error was reported. */
int check_file(arena *a, diag *d, const ast_file *f, model *out);

const char *init_kind_name(init_kind k);
const char *optimizer_kind_name(optimizer_kind k);
const char *loss_kind_name(loss_kind k);

#endif
