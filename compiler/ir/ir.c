/*
 * ir.c: the IR's names, construction helpers, the tensors each op reads and
 * writes, the structure hash, and the readable listing `seqc ir` prints.
 */
#include "ir/ir.h"

#include "front/names.h"
#include "util/bug.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_kind_names[] = {
    [IR_DENSE] = "dense",
    [IR_BATCHNORM] = "batchnorm",
    [IR_RELU] = "relu",
    [IR_LEAKY_RELU] = "leaky_relu",
    [IR_SIGMOID] = "sigmoid",
    [IR_TANH] = "tanh",
    [IR_SOFTMAX] = "softmax",
    [IR_DROPOUT] = "dropout",
    [IR_FLATTEN] = "flatten",
    [IR_SOFTMAX_XENT] = "softmax_xent",
    [IR_XENT] = "xent",
    [IR_MSE] = "mse",
};
_Static_assert(sizeof op_kind_names / sizeof op_kind_names[0] == IR_OP_KIND_COUNT,
               "op_kind_names out of step with ir_op_kind");

const char *ir_op_kind_name(ir_op_kind k)
{
    return (unsigned)k < IR_OP_KIND_COUNT ? op_kind_names[k] : "?";
}

bool ir_op_is_loss(ir_op_kind k)
{
    return k == IR_SOFTMAX_XENT || k == IR_XENT || k == IR_MSE;
}

int ir_add_tensor(arena *a, ir_model *ir, const char *name, ir_tensor_role role,
                  int64_t features)
{
    (void)a;
    if (ir->ntensors >= ir->ntensors_cap)
        SEQC_BUG("IR tensor table full");
    int i = ir->ntensors++;
    ir_tensor *t = &ir->tensors[i];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->role = role;
    t->features = features;
    t->def = t->last = -1;
    t->offset = -1;
    return i;
}

int ir_add_param(arena *a, ir_model *ir, int op, const char *suffix,
                 init_kind init, bool trainable)
{
    if (ir->nparams >= ir->nparams_cap)
        SEQC_BUG("IR parameter table full");
    int i = ir->nparams++;
    ir_param *p = &ir->params[i];
    memset(p, 0, sizeof *p);
    p->name = arena_printf(a, "%s.%s", ir->ops[op].name, suffix);
    char *c = arena_strdup(a, p->name);
    for (char *s = c; *s; s++)
        *s = *s == '.' ? '_' : (char)toupper((unsigned char)*s);
    p->cname = c;
    p->op = op;
    p->init = init;
    p->trainable = trainable;
    p->offset = -1;
    return i;
}

int ir_infer_source(const ir_model *ir, int t)
{
    for (int i = ir->nops - 1; i >= 0; i--) {
        const ir_op *op = &ir->ops[i];
        if (op->kind == IR_DROPOUT && op->y == t)
            t = op->x;
    }
    return t;
}

void ir_format_float(char *buf, size_t size, double v)
{
    /* the shortest of %.6g .. %.9g that reads back as the same float
     * (%.9g always does): 0.001, not 0.00100000005 */
    float f = (float)v;
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    if (!strpbrk(buf, ".eEni")) /* "1" -> "1.0": a C float literal needs it */
        strncat(buf, ".0", size - strlen(buf) - 1);
}

/* ------------------------------------------------------------ structure */

char *ir_structure_text(arena *a, const ir_model *ir)
{
    /* one line per op and per parameter; sizes are small */
    size_t cap = 256 + (size_t)(ir->nops + ir->nparams) * 160;
    char *buf = arena_alloc(a, cap);
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "input %" PRId64 "x%" PRId64 "\n",
                          ir->input_rows, ir->input_cols);
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        if (ir_op_is_loss(op->kind))
            continue; /* the loss is part of the recipe */
        n += (size_t)snprintf(buf + n, cap - n, "%s %s -> %" PRId64 "\n",
                              ir_op_kind_name(op->kind), op->text,
                              ir->tensors[op->y].features);
    }
    for (int i = 0; i < ir->nparams; i++) {
        const ir_param *p = &ir->params[i];
        n += (size_t)snprintf(buf + n, cap - n,
                              "param %s [%" PRId64 ",%" PRId64 "] @%" PRId64 " %s\n",
                              p->name, p->rows, p->cols, p->offset,
                              p->trainable ? "trainable" : "non-trainable");
    }
    return buf;
}

uint64_t ir_structure_hash(const ir_model *ir)
{
    arena tmp;
    arena_init(&tmp);
    const unsigned char *s = (const unsigned char *)ir_structure_text(&tmp, ir);
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 offset basis */
    for (; *s; s++) {
        h ^= *s;
        h *= 1099511628211ull;            /* FNV prime */
    }
    arena_free(&tmp);
    return h;
}

/* ------------------------------------------------------------- printing */

static void print_tensor(FILE *out, const ir_model *ir, int t)
{
    const ir_tensor *x = &ir->tensors[t];
    if (x->role == IR_T_STATS)
        fprintf(out, "%s [%" PRId64 "]", x->name, x->features);
    else if (x->features < 0)
        fprintf(out, "%s [N,?]", x->name);
    else
        fprintf(out, "%s [N,%" PRId64 "]", x->name, x->features);
}

static void print_params(FILE *out, const ir_model *ir, const ir_op *op)
{
    for (int k = 0; k < 4; k++)
        if (op->param[k] != IR_NONE)
            fprintf(out, ", %s", ir->params[op->param[k]].name);
}

static void print_forward(FILE *out, const ir_model *ir, const ir_op *op)
{
    if (op->kind == IR_FLATTEN) {
        fprintf(out, "  ; line %d: flatten: a view, ", op->line);
        print_tensor(out, ir, op->x);
        fputs(" is already flat\n", out);
        return;
    }
    if (ir_op_is_loss(op->kind)) {
        fprintf(out, "  ; loss %s%s\n", op->text,
                op->fused_softmax ? ", fused with the final softmax" : "");
        fputs("  loss", out);
        if (op->y != IR_NONE) {
            fputs(", ", out);
            print_tensor(out, ir, op->y);
        }
        fprintf(out, " = %s ", ir_op_kind_name(op->kind));
        print_tensor(out, ir, op->x);
        fputs(", labels\n", out);
        return;
    }
    fprintf(out, "  ; line %d: %s\n  ", op->line, op->text);
    print_tensor(out, ir, op->y);
    for (int k = 0; k < 2; k++)
        if (op->save[k] != IR_NONE) {
            fputs(", ", out);
            print_tensor(out, ir, op->save[k]);
        }
    fprintf(out, " = %s ", op->name);
    print_tensor(out, ir, op->x);
    print_params(out, ir, op);
    fputc('\n', out);
}

static void print_backward(FILE *out, const ir_model *ir, const ir_op *op)
{
    if (!op->backward)
        return;
    fputs("  ", out);
    bool any = false;
    if (op->dx != IR_NONE) {
        print_tensor(out, ir, op->dx);
        any = true;
    }
    for (int k = 0; k < 2; k++) {
        int p = op->param[k];
        if (p != IR_NONE && ir->params[p].trainable) {
            fprintf(out, "%sd_%s", any ? ", " : "", ir->params[p].name);
            any = true;
        }
    }
    fprintf(out, " = %s_grad ", ir_op_is_loss(op->kind) ? ir_op_kind_name(op->kind)
                                                          : op->name);
    switch (op->kind) {
    case IR_SOFTMAX_XENT:
        print_tensor(out, ir, op->y);
        fputs(", labels", out);
        break;
    case IR_XENT: case IR_MSE:
        print_tensor(out, ir, op->x);
        fputs(", labels", out);
        break;
    case IR_DENSE:
        print_tensor(out, ir, op->x);
        fputs(", ", out);
        print_tensor(out, ir, op->dy);
        print_params(out, ir, op);
        break;
    case IR_BATCHNORM:
        print_tensor(out, ir, op->save[0]);
        fputs(", ", out);
        print_tensor(out, ir, op->save[1]);
        fputs(", ", out);
        print_tensor(out, ir, op->dy);
        fprintf(out, ", %s", ir->params[op->param[0]].name);
        break;
    case IR_DROPOUT:
        print_tensor(out, ir, op->save[0]);
        fputs(", ", out);
        print_tensor(out, ir, op->dy);
        break;
    default:
        print_tensor(out, ir, op->x);
        fputs(", ", out);
        print_tensor(out, ir, op->y);
        fputs(", ", out);
        print_tensor(out, ir, op->dy);
        break;
    }
    fputc('\n', out);
}

static const char *const role_names[] = {"input", "activation", "gradient",
                                         "saved", "stats"};
_Static_assert(sizeof role_names / sizeof role_names[0] == IR_T_ROLE_COUNT,
               "role_names out of step with ir_tensor_role");

/* qsort has no context argument in C11; printing is single-threaded */
static const ir_model *sort_model;

static int by_offset(const void *pa, const void *pb)
{
    const ir_tensor *a = &sort_model->tensors[*(const int *)pa];
    const ir_tensor *b = &sort_model->tensors[*(const int *)pb];
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    if (a->def != b->def)
        return a->def < b->def ? -1 : 1;
    return *(const int *)pa - *(const int *)pb;
}

void ir_print(FILE *out, const ir_model *ir)
{
    char f1[40], f2[40], f3[40], f4[40];
    fprintf(out, "; seqc ir: model %s from %s", ir->name, ir->path);
    if (ir->without)
        fprintf(out, " without %s", ir->without);
    fputs("\n\nmodel ", out);
    fprintf(out, "%s\n  input  ", ir->name);
    print_tensor(out, ir, ir->input);
    fprintf(out, "  (%" PRId64 "x%" PRId64 ")\n  output ", ir->input_rows,
            ir->input_cols);
    print_tensor(out, ir, ir->output);
    fprintf(out, "  (%" PRId64 " classes)\n", ir->classes);

    fputs("\nforward:\n", out);
    for (int i = 0; i < ir->nops; i++)
        print_forward(out, ir, &ir->ops[i]);

    if (ir->passes_run >= 3) {
        fputs("\nbackward:\n", out);
        for (int i = ir->nops - 1; i >= 0; i--)
            print_backward(out, ir, &ir->ops[i]);
    }

    fprintf(out, "\nparameters: %" PRId64 " floats, %" PRId64 " trainable, %" PRId64
                 " non-trainable\n",
            ir->param_count, ir->trainable_count, ir->param_count - ir->trainable_count);
    fprintf(out, "  %8s %8s  %-11s %-15s %s\n", "offset", "count", "shape", "init", "name");
    for (int i = 0; i < ir->nparams; i++) {
        const ir_param *p = &ir->params[i];
        char shape[48];
        if (p->rows == 1)
            snprintf(shape, sizeof shape, "[%" PRId64 "]", p->cols);
        else
            snprintf(shape, sizeof shape, "[%" PRId64 ",%" PRId64 "]", p->rows, p->cols);
        fprintf(out, "  %8" PRId64 " %8" PRId64 "  %-11s %-15s %s%s\n", p->offset,
                p->count, shape, init_kind_name(p->init), p->name,
                p->trainable ? "" : "  (non-trainable)");
    }

    if (ir->passes_run >= 4) {
        fprintf(out, "\nmemory plan: %" PRId64 " floats per sample "
                     "(arena = act_per_sample * batch capacity)\n",
                ir->act_per_sample);
        fprintf(out, "  %8s %6s  %-9s %-10s %s\n", "offset", "size", "live", "role", "tensor");
        /* in offset order, then by first step */
        int *order = malloc(sizeof *order * (size_t)(ir->ntensors + 1));
        int n = 0;
        if (!order) {
            fputs("seqc: out of memory\n", stderr);
            exit(1);
        }
        for (int i = 0; i < ir->ntensors; i++)
            if (ir->tensors[i].offset >= 0)
                order[n++] = i;
        sort_model = ir;
        qsort(order, (size_t)n, sizeof *order, by_offset);
        for (int k = 0; k < n; k++) {
            const ir_tensor *t = &ir->tensors[order[k]];
            char live[24];
            snprintf(live, sizeof live, "%d..%d", t->def, t->last);
            fprintf(out, "  %8" PRId64 " %6" PRId64 "  %-9s %-10s ", t->offset, t->size,
                    live, role_names[t->role]);
            print_tensor(out, ir, order[k]);
            fputc('\n', out);
        }
        free(order);
        fprintf(out, "  steps 0..%d forward, %d..%d backward\n", ir->nops - 1, ir->nops,
                ir->nsteps - 1);
    }

    const train_recipe *r = &ir->train;
    fputs("\nrecipe:\n", out);
    ir_format_float(f1, sizeof f1, r->lr);
    if (r->optimizer == SEQRT_OPT_ADAM) {
        ir_format_float(f2, sizeof f2, r->beta1);
        ir_format_float(f3, sizeof f3, r->beta2);
        ir_format_float(f4, sizeof f4, r->epsilon);
        fprintf(out, "  optimizer adam lr=%s beta1=%s beta2=%s epsilon=%s\n", f1, f2, f3, f4);
    } else {
        ir_format_float(f2, sizeof f2, r->momentum);
        fprintf(out, "  optimizer sgd lr=%s momentum=%s nesterov=%s\n", f1, f2,
                r->nesterov ? "true" : "false");
    }
    fprintf(out, "  optimizer state: %" PRId64 " floats\n", ir->opt_state_count);
    fprintf(out, "  loss %s\n", ir->ops[ir->nops - 1].text);
    fprintf(out, "  epochs %" PRId64 ", batch %" PRId64 ", shuffle %s, seed %" PRIu64 "\n",
            r->epochs, r->batch, r->shuffle ? "true" : "false", r->seed);
    if (ir->passes_run >= 4)
        fprintf(out, "  structure hash %016" PRIx64 "\n", ir_structure_hash(ir));
}
