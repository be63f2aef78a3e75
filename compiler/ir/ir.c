/*
 * ir.c: the op table (the one description of each op's calls, read by the
 * memory plan, this file's listing and the C generator), construction
 * helpers, the tensors each call reads and writes, the structure hash, and
 * the readable listing `seqc ir` prints.
 */
#include "ir/ir.h"

#include "front/names.h"
#include "util/bug.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The op table (ir.h explains the templates). The calls are libseqrt's
 * (seqrt.h): sizes first, then inputs, then outputs. */
static const ir_op_desc op_table[] = {
    [IR_DENSE] = {
        .name = "dense",
        .forward = "seqrt_dense_forward($n, $fi, $fo, $x, $p0, $p1, $y)",
        .backward = "seqrt_dense_backward($n, $fi, $fo, $x, $p0, $dy, $dx,\n$g0, $g1)",
        .params = {"kernel", "bias"},
        .trainable = {true, true},
    },
    [IR_BATCHNORM] = {
        .name = "batchnorm",
        .forward = "seqrt_sync_batchnorm_forward_train($comm, $rows, $cols, $x,\n$p0, $p1,\n"
                   "$p2, $p3,\nseqrt_bn_momentum(s, $momentum), $epsilon,\n$y, $s0,\n$s1)",
        .infer = "seqrt_batchnorm_forward_infer($rows, $cols, $x,\n$p0, $p1,\n$p2, $p3,\n"
                 "$epsilon, $y)",
        .backward = "seqrt_sync_batchnorm_backward($comm, $rows, $cols, $s0, $p0,\n$s1, $dy, "
                    "$dx,\n$g0, $g1)",
        .params = {"gamma", "beta", "moving_mean", "moving_variance"},
        .trainable = {true, true, false, false},
        .saved = {"xhat", "inv_std"},
    },
    [IR_RELU] = {
        .name = "relu",
        .forward = "seqrt_relu_forward($size, $x, $y)",
        .backward = "seqrt_relu_backward($size, $x, $y, $dy, $dx)",
    },
    [IR_LEAKY_RELU] = {
        .name = "leaky_relu",
        .forward = "seqrt_leaky_relu_forward($size, $alpha, $x, $y)",
        .backward = "seqrt_leaky_relu_backward($size, $alpha, $x, $y, $dy, $dx)",
    },
    [IR_SIGMOID] = {
        .name = "sigmoid",
        .forward = "seqrt_sigmoid_forward($size, $x, $y)",
        .backward = "seqrt_sigmoid_backward($size, $x, $y, $dy, $dx)",
    },
    [IR_TANH] = {
        .name = "tanh",
        .forward = "seqrt_tanh_forward($size, $x, $y)",
        .backward = "seqrt_tanh_backward($size, $x, $y, $dy, $dx)",
    },
    [IR_SOFTMAX] = {
        .name = "softmax",
        .forward = "seqrt_softmax_forward($rows, $cols, $x, $y)",
        .backward = "seqrt_softmax_backward($rows, $cols, $x, $y, $dy, $dx)",
    },
    [IR_DROPOUT] = {
        .name = "dropout",
        .forward = "seqrt_dropout_rows_forward_train(n, s->row0, s->rows, $fo, $rate,\n$x, $y, $s0, s->rng)",
        .infer = "",
        .backward = "seqrt_dropout_backward($size, $rate, $s0, $dy, $dx)",
        .saved = {"mask"},
    },
    [IR_FLATTEN] = {.name = "flatten"},
    [IR_RESCALE] = {
        .name = "rescale",
        .forward = "seqrt_rescale_forward($size, $scale, $offset, $x, $y)",
        .backward = "seqrt_rescale_backward($size, $scale, $dy, $dx)",
    },
    [IR_NORMALIZE] = {
        .name = "normalize",
        .forward = "seqrt_normalize_forward($size, $cols, $p0, $p1,\n$x, $y)",
        .backward = "seqrt_normalize_backward($size, $cols, $p1, $dy, $dx)",
        .params = {"mean", "variance"},
        .trainable = {false, false},
    },
    [IR_CONV2D] = {
        .name = "conv2d",
        .forward = "seqrt_conv2d_forward($n, $shape, $x,\n$p0, $p1,\n$y, $scratch)",
        .backward = "seqrt_conv2d_backward($n, $shape, $x, $p0,\n$dy, $dx,\n$g0, $g1,\n"
                    "$scratch)",
        .params = {"kernel", "bias"},
        .trainable = {true, true},
    },
    [IR_MAXPOOL2D] = {
        .name = "maxpool2d",
        .forward = "seqrt_maxpool2d_forward($n, $shape, $x,\n$y, $s0)",
        .backward = "seqrt_maxpool2d_backward($n, $shape, $s0, $dy, $dx)",
        .saved = {"argmax"},
    },
    [IR_AVGPOOL2D] = {
        .name = "avgpool2d",
        .forward = "seqrt_avgpool2d_forward($n, $shape, $x, $y)",
        .backward = "seqrt_avgpool2d_backward($n, $shape, $dy, $dx)",
    },
    [IR_GLOBAL_AVGPOOL2D] = {
        .name = "global_avgpool2d",
        .forward = "seqrt_global_avgpool2d_forward($n, $hw, $ch, $x, $y)",
        .backward = "seqrt_global_avgpool2d_backward($n, $hw, $ch, $dy, $dx)",
    },
    [IR_GLOBAL_MAXPOOL2D] = {
        .name = "global_maxpool2d",
        .forward = "seqrt_global_maxpool2d_forward($n, $hw, $ch, $x, $y, $s0)",
        .backward = "seqrt_global_maxpool2d_backward($n, $hw, $ch, $s0, $dy, $dx)",
        .saved = {"argmax"},
    },
    [IR_BATCHNORM_FROZEN] = {
        .name = "batchnorm_frozen",
        .forward = "seqrt_batchnorm_forward_infer($rows, $cols, $x,\n$p0, $p1,\n$p2, $p3,\n"
                   "$epsilon, $y)",
        .backward = "seqrt_batchnorm_frozen_backward($rows, $cols, $p0, $p3, $epsilon,\n"
                    "$dy, $dx)",
        .params = {"gamma", "beta", "moving_mean", "moving_variance"},
        .trainable = {false, false, false, false},
    },
    [IR_BATCHNORM_GHOST] = {
        .name = "batchnorm_ghost",
        .forward = "seqrt_batchnorm_ghost_forward_train($n, $per, $cols, $vbatch, $x,\n"
                   "$p0, $p1,\n$p2, $p3,\nseqrt_bn_momentum(s, $momentum), $epsilon,\n"
                   "$y, $s0,\n$s1)",
        .infer = "seqrt_batchnorm_forward_infer($rows, $cols, $x,\n$p0, $p1,\n$p2, $p3,\n"
                 "$epsilon, $y)",
        .backward = "seqrt_batchnorm_ghost_backward($n, $per, $cols, $vbatch, $s0, $p0,\n"
                    "$s1, $dy, $dx,\n$g0, $g1)",
        .params = {"gamma", "beta", "moving_mean", "moving_variance"},
        .trainable = {true, true, false, false},
        .saved = {"xhat", "inv_std"},
    },
    [IR_BATCHNORM_RENORM] = {
        .name = "batchnorm_renorm",
        .forward = "seqrt_sync_batchnorm_renorm_forward_train($comm, $rows, $cols, $x,\n"
                   "$p0, $p1,\n$p2, $p3,\nseqrt_bn_momentum(s, $momentum), $epsilon,\n"
                   "$rmax, $dmax, $y, $s0,\n$s1)",
        .infer = "seqrt_batchnorm_forward_infer($rows, $cols, $x,\n$p0, $p1,\n$p2, $p3,\n"
                 "$epsilon, $y)",
        .backward = "seqrt_sync_batchnorm_renorm_backward($comm, $rows, $cols, $s0, $p0,\n"
                    "$s1, $dy, $dx,\n$g0, $g1)",
        .params = {"gamma", "beta", "moving_mean", "moving_variance"},
        .trainable = {true, true, false, false},
        .saved = {"xhat", "stats"},
    },
    [IR_LAYERNORM] = {
        .name = "layernorm",
        .forward = "seqrt_layernorm_forward($rows, $cols, $x, $p0, $p1,\n$epsilon, $y, $s0,\n$s1)",
        .infer = "seqrt_layernorm_forward($rows, $cols, $x, $p0, $p1,\n$epsilon, $y, NULL, NULL)",
        .backward = "seqrt_layernorm_backward($rows, $cols, $s0, $p0,\n$s1, $dy, $dx,\n"
                    "$g0, $g1)",
        .params = {"gamma", "beta"},
        .trainable = {true, true},
        .saved = {"xhat", "inv_std"},
    },
    [IR_GROUPNORM] = {
        .name = "groupnorm",
        .forward = "seqrt_groupnorm_forward($n, $per, $cols, $ngroups, $x,\n$p0, $p1,\n"
                   "$epsilon, $y, $s0,\n$s1)",
        .infer = "seqrt_groupnorm_forward($n, $per, $cols, $ngroups, $x,\n$p0, $p1,\n"
                 "$epsilon, $y, NULL, NULL)",
        .backward = "seqrt_groupnorm_backward($n, $per, $cols, $ngroups, $s0, $p0,\n"
                    "$s1, $dy, $dx,\n$g0, $g1)",
        .params = {"gamma", "beta"},
        .trainable = {true, true},
        .saved = {"xhat", "inv_std"},
    },
    [IR_BN_RELU_MAXPOOL2D] = {
        .name = "batchnorm_relu_maxpool2d",
        .forward = "seqrt_sync_bn_relu_maxpool_forward_train($comm, $n, $shape, $x,\n"
                   "$p0, $p1,\n$p2, $p3,\nseqrt_bn_momentum(s, $momentum), $epsilon,\n"
                   "$y, $s0, $s1,\n$scratch)",
        .infer = "seqrt_bn_relu_maxpool_forward_infer($n, $shape, $x,\n$p0, $p1,\n$p2, $p3,\n"
                 "$epsilon, $y, $scratch)",
        .backward = "seqrt_sync_bn_relu_maxpool_backward($comm, $n, $shape, $x, $p0,\n"
                    "$s1, $s0,\n$dy, $dx,\n$g0, $g1,\n$scratch)",
        .params = {"gamma", "beta", "moving_mean", "moving_variance"},
        .trainable = {true, true, false, false},
        .saved = {"argmax", "stats"},
    },
    [IR_SOFTMAX_XENT] = {
        .name = "softmax_xent",
        .forward = "s->loss = seqrt_softmax_xent_forward($n, $classes, $x, s->y, $y)",
        .predict = "seqrt_softmax_forward($n, $classes, $x, $y)",
        .backward = "seqrt_softmax_xent_backward($n, s->rows, $classes, $y, s->y, $dx)",
        .is_loss = true, .link = "softmax", .targets = "labels",
    },
    [IR_XENT] = {
        .name = "xent",
        .forward = "s->loss = seqrt_xent_forward($n, $classes, $x, s->y)",
        .predict = "",
        .backward = "seqrt_xent_backward($n, s->rows, $classes, $x, s->y, $dx)",
        .is_loss = true, .targets = "labels",
    },
    [IR_SOFTMAX_CCE] = {
        .name = "softmax_cce",
        .forward = "s->loss = seqrt_softmax_cce_forward($n, $classes, $x, s->t, $y)",
        .predict = "seqrt_softmax_forward($n, $classes, $x, $y)",
        .backward = "seqrt_softmax_cce_backward($n, s->rows, $classes, $y, s->t, $dx)",
        .is_loss = true, .link = "softmax", .targets = "targets",
    },
    [IR_CCE] = {
        .name = "cce",
        .forward = "s->loss = seqrt_cce_forward($n, $classes, $x, s->t)",
        .predict = "",
        .backward = "seqrt_cce_backward($n, s->rows, $classes, $x, s->t, $dx)",
        .is_loss = true, .targets = "targets",
    },
    [IR_SIGMOID_BCE] = {
        .name = "sigmoid_bce",
        .forward = "s->loss = seqrt_sigmoid_bce_forward($n, $classes, $x, s->t, $y)",
        .predict = "seqrt_sigmoid_forward($size, $x, $y)",
        .backward = "seqrt_sigmoid_bce_backward($n, s->rows, $classes, $y, s->t, $dx)",
        .is_loss = true, .link = "sigmoid", .targets = "targets",
    },
    [IR_BCE] = {
        .name = "bce",
        .forward = "s->loss = seqrt_bce_forward($n, $classes, $x, s->t)",
        .predict = "",
        .backward = "seqrt_bce_backward($n, s->rows, $classes, $x, s->t, $dx)",
        .is_loss = true, .targets = "targets",
    },
    [IR_MSE] = {
        .name = "mse",
        .forward = "s->loss = seqrt_mse_forward($n, $classes, $x, s->t)",
        .predict = "",
        .backward = "seqrt_mse_backward($n, s->rows, $classes, $x, s->t, $dx)",
        .is_loss = true, .targets = "targets",
    },
    [IR_MAE] = {
        .name = "mae",
        .forward = "s->loss = seqrt_mae_forward($n, $classes, $x, s->t)",
        .predict = "",
        .backward = "seqrt_mae_backward($n, s->rows, $classes, $x, s->t, $dx)",
        .is_loss = true, .targets = "targets",
    },
    [IR_HUBER] = {
        .name = "huber",
        .forward = "s->loss = seqrt_huber_forward($n, $classes, $x, s->t, $delta)",
        .predict = "",
        .backward = "seqrt_huber_backward($n, s->rows, $classes, $x, s->t, $delta, $dx)",
        .is_loss = true, .targets = "targets",
    },
};
_Static_assert(sizeof op_table / sizeof op_table[0] == IR_OP_KIND_COUNT,
               "op_table out of step with ir_op_kind");

const ir_op_desc *ir_op_info(ir_op_kind k)
{
    if ((unsigned)k >= IR_OP_KIND_COUNT)
        SEQC_BUG("an IR op of no kind");
    return &op_table[k];
}

const char *ir_op_kind_name(ir_op_kind k)
{
    return (unsigned)k < IR_OP_KIND_COUNT ? op_table[k].name : "?";
}

bool ir_op_is_loss(ir_op_kind k)
{
    return (unsigned)k < IR_OP_KIND_COUNT && op_table[k].is_loss;
}

const char *ir_op_call(const ir_op_desc *d, ir_phase phase)
{
    switch (phase) {
    case IR_PHASE_FORWARD:  return d->forward;
    case IR_PHASE_INFER:    return d->infer ? d->infer : d->forward;
    case IR_PHASE_PREDICT:  return d->predict;
    case IR_PHASE_BACKWARD: return d->backward;
    }
    return NULL;
}

int ir_call_token(const ir_model *ir, const ir_op *op, ir_phase phase, const char *tok,
                  size_t len, bool *write)
{
#define IS(lit) (len == sizeof lit - 1 && memcmp(tok, lit, len) == 0)
    bool fwd = phase != IR_PHASE_BACKWARD;
    *write = false;
    if (IS("x"))
        return fwd && phase != IR_PHASE_FORWARD ? ir_infer_source(ir, op->x) : op->x;
    if (IS("dy"))
        return op->dy;
    if (IS("y") || IS("s0") || IS("s1")) {
        *write = fwd;
        return IS("y") ? op->y : op->save[tok[1] - '0'];
    }
    if (IS("dx")) {
        *write = true;
        return op->dx;
    }
    if (IS("scratch")) {
        *write = true;
        return op->scratch[phase == IR_PHASE_BACKWARD];
    }
#undef IS
    return IR_CALL_NOT_A_TENSOR;
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

int ir_add_param(arena *a, ir_model *ir, int op, int k, init_kind init)
{
    const ir_op_desc *d = ir_op_info(ir->ops[op].kind);
    if (k < 0 || k >= 4 || !d->params[k])
        SEQC_BUG("a parameter the op table does not name");
    if (ir->nparams >= ir->nparams_cap)
        SEQC_BUG("IR parameter table full");
    int i = ir->nparams++;
    ir_param *p = &ir->params[i];
    memset(p, 0, sizeof *p);
    p->what = d->params[k];
    p->name = arena_printf(a, "%s.%s", ir->ops[op].name, p->what);
    char *c = arena_strdup(a, p->name);
    for (char *s = c; *s; s++)
        *s = *s == '.' ? '_' : (char)toupper((unsigned char)*s);
    p->cname = c;
    p->op = op;
    p->init = init;
    p->trainable = d->trainable[k];
    p->offset = -1;
    ir->ops[op].param[k] = i;
    return i;
}

int ir_add_saved(arena *a, ir_model *ir, int op, int k, ir_tensor_role role,
                 int64_t features)
{
    const ir_op_desc *d = ir_op_info(ir->ops[op].kind);
    if (k < 0 || k >= 2 || !d->saved[k])
        SEQC_BUG("a saved tensor the op table does not name");
    int t = ir_add_tensor(a, ir, arena_printf(a, "%s.%s", ir->ops[op].name, d->saved[k]),
                          role, features);
    ir->ops[op].save[k] = t;
    return t;
}

void ir_op_io(const ir_model *ir, const ir_op *op, ir_phase phase, ir_io *io)
{
    io->nreads = io->nwrites = 0;
    const char *s = ir_op_call(ir_op_info(op->kind), phase);
    if (!s)
        return;
    while ((s = strchr(s, '$')) != NULL) {
        size_t len = strspn(++s, "abcdefghijklmnopqrstuvwxyz0123456789");
        bool write;
        int t = ir_call_token(ir, op, phase, s, len, &write);
        s += len;
        if (t < 0) /* not a tensor, or IR_NONE (no dx: NULL) */
            continue;
        int *n = write ? &io->nwrites : &io->nreads;
        if (*n >= 8)
            SEQC_BUG("an op's call names more than 8 tensors");
        (write ? io->writes : io->reads)[(*n)++] = t;
    }
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

/* One op's line of the structure text, fo its output's features. */
static size_t structure_line(char *buf, size_t cap, const ir_op *op, int64_t fo)
{
    size_t n = (size_t)snprintf(buf, cap, "%s -> %" PRId64 " groups %" PRId64,
                                ir_op_kind_name(op->kind), fo, op->groups);
    switch (op->kind) {
    case IR_DENSE:
        n += (size_t)snprintf(buf + n, cap - n, " units %" PRId64 " bias %d", op->units,
                              op->bias);
        break;
    case IR_BATCHNORM:
        n += (size_t)snprintf(buf + n, cap - n, " momentum %a epsilon %a",
                              (double)(float)op->momentum, (double)(float)op->epsilon);
        break;
    case IR_BATCHNORM_FROZEN:
    case IR_LAYERNORM:
        n += (size_t)snprintf(buf + n, cap - n, " epsilon %a", (double)(float)op->epsilon);
        break;
    case IR_BATCHNORM_GHOST:
        n += (size_t)snprintf(buf + n, cap - n, " momentum %a epsilon %a virtual_batch %" PRId64,
                              (double)(float)op->momentum, (double)(float)op->epsilon,
                              op->virtual_batch);
        break;
    case IR_BATCHNORM_RENORM:
        n += (size_t)snprintf(buf + n, cap - n, " momentum %a epsilon %a rmax %a dmax %a",
                              (double)(float)op->momentum, (double)(float)op->epsilon,
                              (double)(float)op->rmax, (double)(float)op->dmax);
        break;
    case IR_GROUPNORM:
        n += (size_t)snprintf(buf + n, cap - n, " epsilon %a groups %" PRId64,
                              (double)(float)op->epsilon, op->norm_groups);
        break;
    case IR_LEAKY_RELU:
        n += (size_t)snprintf(buf + n, cap - n, " alpha %a", (double)(float)op->alpha);
        break;
    case IR_DROPOUT:
        n += (size_t)snprintf(buf + n, cap - n, " rate %a", (double)(float)op->rate);
        break;
    case IR_RESCALE:
        n += (size_t)snprintf(buf + n, cap - n, " scale %a offset %a",
                              (double)(float)op->scale, (double)(float)op->offset);
        break;
    case IR_HUBER:
        n += (size_t)snprintf(buf + n, cap - n, " delta %a", (double)(float)op->delta);
        break;
    case IR_CONV2D:
    case IR_MAXPOOL2D:
    case IR_AVGPOOL2D:
    case IR_GLOBAL_AVGPOOL2D:
    case IR_GLOBAL_MAXPOOL2D:
        n += (size_t)snprintf(buf + n, cap - n,
                              " image %" PRId64 "x%" PRId64 "x%" PRId64 " kernel %" PRId64
                              "x%" PRId64 " stride %" PRId64 "x%" PRId64
                              " dilation %" PRId64 "x%" PRId64 " pad %" PRId64 "x%" PRId64
                              " out %" PRId64 "x%" PRId64 " filters %" PRId64 " bias %d",
                              op->in_hwc[0], op->in_hwc[1], op->in_hwc[2], op->kernel[0],
                              op->kernel[1], op->stride[0], op->stride[1],
                              op->dilation[0], op->dilation[1], op->pad[0], op->pad[1],
                              op->out_hw[0], op->out_hw[1], op->filters, op->bias);
        break;
    default:
        break;
    }
    if (n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "\n");
    return n;
}

/* Op i's index before any fusion: fused ops count as the ops they replaced. */
static int unfused_index(const ir_model *ir, int i)
{
    int k = i;
    for (int j = 0; j < i && j < ir->nops; j++)
        k += ir->ops[j].nparts > 0 ? ir->ops[j].nparts - 1 : 0;
    return k;
}

char *ir_structure_text(arena *a, const ir_model *ir)
{
    /* one line per op and per parameter, positional: names, source lines
     * and the op's text are left out, so renaming or commenting a model
     * keeps its checkpoints; the numbers are written exactly (%a). A
     * fused op writes the lines of the ops it replaced (their output
     * features: the fused op's input's, and its own for the last), so
     * the text is the unfused model's. */
    int nlines = ir->nops;
    for (int i = 0; i < ir->nops; i++)
        nlines += ir->ops[i].nparts;
    size_t cap = 256 + (size_t)(nlines + ir->nparams) * 512;
    char *buf = arena_alloc(a, cap);
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "input %" PRId64 "x%" PRId64 "\n",
                          ir->input_rows, ir->input_cols);
    for (int i = 0; i < ir->nops && n < cap; i++) {
        const ir_op *op = &ir->ops[i];
        int64_t fo = op->y != IR_NONE ? ir->tensors[op->y].features : 0;
        if (op->nparts == 0) {
            n += structure_line(buf + n, cap - n, op, fo);
            continue;
        }
        int64_t fi = ir->tensors[op->x].features;
        for (int k = 0; k < op->nparts && n < cap; k++)
            n += structure_line(buf + n, cap - n, &op->parts[k],
                                k == op->nparts - 1 ? fo : fi);
    }
    for (int i = 0; i < ir->nparams && n < cap; i++) {
        const ir_param *p = &ir->params[i];
        n += (size_t)snprintf(buf + n, cap - n,
                              "param %d %s [%" PRId64 ",%" PRId64 "] @%" PRId64 " %s\n",
                              unfused_index(ir, p->op), p->what, p->rows, p->cols, p->offset,
                              p->trainable ? "trainable" : "non-trainable");
    }
    if (n >= cap)
        SEQC_BUG("structure text longer than its estimate");
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
    if (x->features < 0)
        fprintf(out, x->role == IR_T_STATS ? "%s [?]" : "%s [N,?]", x->name);
    else if (x->role == IR_T_STATS)
        fprintf(out, "%s [%" PRId64 "]", x->name, x->features);
    else if (x->image[0] > 0)
        fprintf(out, "%s [N,%" PRId64 ",%" PRId64 ",%" PRId64 "]", x->name, x->image[0],
                x->image[1], x->image[2]);
    else
        fprintf(out, "%s [N,%" PRId64 "]%s", x->name, x->features, x->index ? " int32" : "");
}

/* Prints op's call in phase as "WRITES = KIND(READS)": the tensors and
 * parameters its call names, in the call's order (ir.h: the op table). */
static void print_call(FILE *out, const ir_model *ir, const ir_op *op, ir_phase phase)
{
    const char *call = ir_op_call(ir_op_info(op->kind), phase);
    bool loss = ir_op_is_loss(op->kind);
    for (int pass = 0; pass < 2; pass++) { /* 0: writes, 1: reads */
        bool any = false;
        if (pass == 0 && loss && phase != IR_PHASE_BACKWARD) {
            fputs("loss", out);
            any = true;
        }
        for (const char *s = call; (s = strchr(s, '$')) != NULL;) {
            size_t len = strspn(++s, "abcdefghijklmnopqrstuvwxyz0123456789");
            bool write;
            int t = ir_call_token(ir, op, phase, s, len, &write);
            bool grad = s[0] == 'g', param = s[0] == 'p' || grad;
            int p = param && len == 2 ? op->param[s[1] - '0'] : IR_NONE;
            s += len;
            if (param && p != IR_NONE && grad == (pass == 0)) {
                fprintf(out, "%s%s%s", any ? ", " : "", grad ? "d_" : "", ir->params[p].name);
                any = true;
            } else if (t >= 0 && write == (pass == 0)) {
                fputs(any ? ", " : "", out);
                print_tensor(out, ir, t);
                any = true;
            }
        }
        if (pass == 1 && loss) /* s->y or s->t */
            fprintf(out, "%s%s", any ? ", " : "", ir_op_info(op->kind)->targets);
        if (pass == 0)
            fprintf(out, " = %s%s(", ir_op_kind_name(op->kind),
                    phase == IR_PHASE_BACKWARD ? "_grad" : "");
    }
    fputs(")\n", out);
}

static void print_forward(FILE *out, const ir_model *ir, const ir_op *op)
{
    if (op->kind == IR_FLATTEN) {
        fprintf(out, "  ; %s, line %d: flatten: a view, ", op->name, op->line);
        print_tensor(out, ir, op->x);
        /* an image is NHWC: its h*w*c floats are already the flat order */
        fputs(ir->tensors[op->x].image[0] > 0 ? " is already flat in memory (NHWC)\n"
                                              : " is already flat\n",
              out);
        return;
    }
    if (ir_op_is_loss(op->kind) && op->fused_softmax)
        fprintf(out, "  ; loss %s, fused with the final %s\n  ", op->text,
                ir_op_info(op->kind)->link);
    else if (ir_op_is_loss(op->kind))
        fprintf(out, "  ; loss %s\n  ", op->text);
    else
        fprintf(out, "  ; %s, line %d: %s\n  ", op->name, op->line, op->text);
    print_call(out, ir, op, IR_PHASE_FORWARD);
}

static void print_backward(FILE *out, const ir_model *ir, const ir_op *op)
{
    if (!op->backward)
        return;
    fputs("  ", out);
    print_call(out, ir, op, IR_PHASE_BACKWARD);
}

static const char *const role_names[] = {"input", "activation", "gradient",
                                         "saved", "stats", "scratch"};
_Static_assert(sizeof role_names / sizeof role_names[0] == IR_T_ROLE_COUNT,
               "role_names out of step with ir_tensor_role");

/* a tensor's place in the memory plan's listing: by offset, then by
 * first step (qsort has no context argument, so the keys travel along) */
typedef struct plan_row {
    int64_t offset;
    int     def, index;
} plan_row;

static int by_offset(const void *pa, const void *pb)
{
    const plan_row *a = pa, *b = pb;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    if (a->def != b->def)
        return a->def < b->def ? -1 : 1;
    return a->index - b->index;
}

void ir_print(FILE *out, const ir_model *ir)
{
    char f1[40], f2[40], f3[40], f4[40];
    fprintf(out, "; seqc ir: model %s from %s", ir->name, ir->path);
    if (ir->without)
        fprintf(out, " without %s", ir->without);
    if (ir->replaced)
        fprintf(out, " with %s", ir->replaced);
    fputs("\n\nmodel ", out);
    fprintf(out, "%s\n  input  ", ir->name);
    print_tensor(out, ir, ir->input);
    fputs("  (", out); /* the shape as the file writes it */
    for (int d = 0; d < ir->input_ndims; d++)
        fprintf(out, "%s%" PRId64, d ? "x" : "", ir->input_dims[d]);
    fputs(")\n  output ", out);
    print_tensor(out, ir, ir->output);
    fprintf(out, "  (%" PRId64 " outputs)\n", ir->classes);

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
        plan_row *order = malloc(sizeof *order * (size_t)(ir->ntensors + 1));
        int n = 0;
        if (!order) {
            fputs("seqc: out of memory\n", stderr);
            exit(1);
        }
        for (int i = 0; i < ir->ntensors; i++)
            if (ir->tensors[i].offset >= 0)
                order[n++] = (plan_row){ir->tensors[i].offset, ir->tensors[i].def, i};
        qsort(order, (size_t)n, sizeof *order, by_offset);
        for (int k = 0; k < n; k++) {
            const ir_tensor *t = &ir->tensors[order[k].index];
            char live[24];
            snprintf(live, sizeof live, "%d..%d", t->def, t->last);
            fprintf(out, "  %8" PRId64 " %6" PRId64 "  %-9s %-10s ", t->offset, t->size,
                    live, role_names[t->role]);
            print_tensor(out, ir, order[k].index);
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
    } else if (r->optimizer == SEQRT_OPT_RMSPROP) {
        ir_format_float(f2, sizeof f2, r->rho);
        ir_format_float(f3, sizeof f3, r->momentum);
        ir_format_float(f4, sizeof f4, r->epsilon);
        fprintf(out, "  optimizer rmsprop lr=%s rho=%s momentum=%s epsilon=%s\n", f1, f2, f3,
                f4);
    } else {
        ir_format_float(f2, sizeof f2, r->momentum);
        fprintf(out, "  optimizer sgd lr=%s momentum=%s nesterov=%s\n", f1, f2,
                r->nesterov ? "true" : "false");
    }
    if (r->weight_decay > 0) {
        ir_format_float(f2, sizeof f2, r->weight_decay);
        fprintf(out, "  weight_decay=%s (%s)\n", f2,
                r->decay_norm_and_bias ? "every trainable block"
                                       : "kernels only: no biases, gamma or beta");
    }
    static const char *const clip_names[] = {"clipnorm", "clipvalue", "global_clipnorm"};
    const double clips[] = {r->clipnorm, r->clipvalue, r->global_clipnorm};
    for (int c = 0; c < 3; c++)
        if (clips[c] > 0) {
            ir_format_float(f2, sizeof f2, clips[c]);
            fprintf(out, "  %s=%s\n", clip_names[c], f2);
        }
    fprintf(out, "  optimizer state: %" PRId64 " floats\n", ir->opt_state_count);
    fprintf(out, "  loss %s\n", ir->ops[ir->nops - 1].text);
    if (r->nmetrics > 0) {
        fputs("  metrics", out);
        for (int i = 0; i < r->nmetrics; i++)
            fprintf(out, " %s", r->metrics[i].name);
        for (int i = 0; i < r->nmetrics; i++)
            if (r->metrics[i].kind == SEQRT_METRIC_TOP_K)
                fprintf(out, " k=%d", r->metrics[i].k);
        fputc('\n', out);
    }
    if (r->validation_split > 0) {
        ir_format_float(f1, sizeof f1, r->validation_split);
        fprintf(out, "  validation_split %s\n", f1);
    }
    fprintf(out, "  epochs %" PRId64 ", batch %" PRId64 ", shuffle %s, seed %" PRIu64 "\n",
            r->epochs, r->batch, r->shuffle ? "true" : "false", r->seed);
    if (r->drop_last || r->recalibrate_bn)
        fprintf(out, "  drop_last %s, recalibrate_bn %s\n", r->drop_last ? "true" : "false",
                r->recalibrate_bn ? "true" : "false");
    if (ir->passes_run >= 4)
        fprintf(out, "  structure hash %016" PRIx64 "\n", ir_structure_hash(ir));
}
