/*
 * codegen_c.c: IR -> one readable C file.
 *
 * Layout of the output, top to bottom: a header comment (tool, version,
 * model file, how to build it), #include "seqrt.h", the parameter offsets
 * and the memory plan as #defines named after the layers of `seqc
 * summary` (DENSE_1_KERNEL, ARENA_BATCH_NORMALIZATION), then init,
 * forward_train, forward_infer, backward and update, the parameter blocks
 * and the seqrt_model that names them, and main. Every layer's calls sit
 * under a comment naming the layer, its line in the model file and its
 * output shape. The calls themselves come from the op table (ir.c), the
 * same description the memory plan reads.
 *
 * Text from the user (the path, the model's name) goes through cquote.h
 * only. A function body is written to a string first, recording which
 * tensors it touches, so only those get a pointer declaration (no unused
 * variables under -Werror).
 */
#include "back/codegen.h"
#include "back/cquote.h"
#include "front/diag.h"
#include "front/names.h"
#include "util/fileio.h"
#include "util/sbuf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A line of the output that becomes `#line N "C FILE"` once N is known. */
#define LINE_BACK "#line back\n"

typedef struct gen {
    const ir_model     *ir;
    const codegen_opts *opt;
    arena              *a;
    sbuf                out;  /* the whole file */
    const char         *file; /* model file's base name, for comments */
    bool               *used; /* per tensor: the current function's */
    sbuf                body; /* the current function's statements */
    size_t              block;/* where the current layer's calls start */
} gen;

/* a C float literal that reads back as exactly the same float */
static const char *flt(gen *g, double v)
{
    char buf[48];
    ir_format_float(buf, sizeof buf, v);
    return arena_printf(g->a, "%sf", buf);
}


static char *upper(arena *a, const char *s)
{
    char *c = arena_strdup(a, s);
    for (char *p = c; *p; p++)
        *p = *p == '.' ? '_' : *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
    return c;
}

/* the C name of tensor t ("dense_1", "d_dense_1", "batch_normalization_xhat"),
 * noting that the current function uses it */
static const char *tn(gen *g, int t)
{
    if (t == IR_NONE)
        return "NULL";
    g->used[t] = true;
    const ir_tensor *x = &g->ir->tensors[t];
    if (x->role == IR_T_INPUT)
        return "x";
    char *c = arena_strdup(g->a, x->name);
    for (char *p = c; *p; p++)
        if (*p == '.')
            *p = '_';
    return c;
}

static int64_t feat(const gen *g, int t)
{
    return t == IR_NONE ? 0 : g->ir->tensors[t].features;
}

/* ---------------------------------------------------------- call templates */

/* The C text of `$tok` in op's call (ir.h lists the names). */
static const char *token_text(gen *g, const ir_op *op, ir_phase phase, const char *tok,
                              size_t len)
{
    bool write;
    int t = ir_call_token(g->ir, op, phase, tok, len, &write);
    if (t != IR_CALL_NOT_A_TENSOR)
        return tn(g, t);
    int64_t fo = feat(g, op->y), groups = op->groups > 0 ? op->groups : 1;
#define IS(lit) (len == sizeof lit - 1 && memcmp(tok, lit, len) == 0)
    if ((tok[0] == 'p' || tok[0] == 'g') && len == 2 && tok[1] >= '0' && tok[1] <= '3') {
        int p = op->param[tok[1] - '0'];
        return p == IR_NONE ? "NULL"
                            : arena_printf(g->a, "%c + %s", tok[0], g->ir->params[p].cname);
    }
    if (IS("n"))
        return "n";
    if (IS("shape"))
        return arena_printf(g->a, "&%s_shape", op->name);
    if (IS("hw"))
        return arena_printf(g->a, "%" PRId64, op->in_hwc[0] * op->in_hwc[1]);
    if (IS("ch"))
        return arena_printf(g->a, "%" PRId64, op->in_hwc[2]);
    if (IS("per"))
        return arena_printf(g->a, "%" PRId64, groups);
    if (IS("vbatch"))
        return arena_printf(g->a, "%" PRId64, op->virtual_batch);
    if (IS("rmax"))
        return flt(g, op->rmax);
    if (IS("dmax"))
        return flt(g, op->dmax);
    if (IS("comm")) /* a synchronized batchnorm: the step's processes */
        return op->sync ? "s->comm" : "NULL";
    if (IS("ngroups"))
        return arena_printf(g->a, "%" PRId64, op->norm_groups);
    if (IS("rows"))
        return groups == 1 ? "n" : arena_printf(g->a, "n * %" PRId64, groups);
    if (IS("cols"))
        return arena_printf(g->a, "%" PRId64, fo / groups);
    if (IS("size"))
        return arena_printf(g->a, "(size_t)n * %" PRId64, fo);
    if (IS("fi"))
        return arena_printf(g->a, "%" PRId64, feat(g, op->x));
    if (IS("fo"))
        return arena_printf(g->a, "%" PRId64, fo);
    if (IS("classes"))
        return arena_printf(g->a, "%" PRId64, g->ir->classes);
    if (IS("momentum"))
        return flt(g, op->momentum);
    if (IS("epsilon"))
        return flt(g, op->epsilon);
    if (IS("alpha"))
        return flt(g, op->alpha);
    if (IS("rate"))
        return flt(g, op->rate);
    if (IS("scale"))
        return flt(g, op->scale);
    if (IS("offset"))
        return flt(g, op->offset);
    if (IS("delta"))
        return flt(g, op->delta);
#undef IS
    SEQC_BUG("a call template names an unknown value");
}

/* Writes op's call in phase as one statement at indent; a newline in the
 * template continues under the first argument. */
static void emit_call(gen *g, const ir_op *op, ir_phase phase, int indent)
{
    const char *s = ir_op_call(ir_op_info(op->kind), phase);
    if (!s || !*s)
        SEQC_BUG("no call for an op that runs");
    size_t start = g->body.n;
    int col = -1; /* column of the first argument */
    sb_printf(&g->body, "%*s", indent, "");
    for (; *s; s++) {
        if (*s == '$') {
            size_t len = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz0123456789");
            sb_printf(&g->body, "%s", token_text(g, op, phase, s + 1, len));
            s += len;
        } else if (*s == '\n') {
            sb_printf(&g->body, "\n%*s", col, "");
        } else {
            sb_putc(&g->body, *s);
            if (*s == '(' && col < 0)
                col = (int)(g->body.n - start);
        }
    }
    sb_printf(&g->body, ";\n");
}

/* ------------------------------------------------------------ layers */

/* What a layer's comment says after its line: the loss says how it runs. */
static const char *op_what(gen *g, const ir_op *op)
{
    if (!ir_op_is_loss(op->kind))
        return op->text;
    return op->fused_softmax
               ? arena_printf(g->a, "%s + %s (fused)", ir_op_info(op->kind)->link, op->text)
               : op->text;
}

/* The comment over a layer's calls, and its #line when asked for. */
static void layer_open(gen *g, const ir_op *op, const char *what, int out)
{
    sb_printf(&g->body, "\n    /* %s", op->name);
    what = cq_comment(g->a, what); /* made from numbers and names, but one path */
    if (op->line > 0)
        sb_printf(&g->body, ": %s:%d  %s", g->file, op->line, what);
    else
        sb_printf(&g->body, ": %s", what);
    const int64_t *img = out != IR_NONE ? g->ir->tensors[out].image : NULL;
    if (img && img[0] > 0)
        sb_printf(&g->body, " -> [N,%" PRId64 ",%" PRId64 ",%" PRId64 "]", img[0], img[1],
                  img[2]);
    else if (out != IR_NONE)
        sb_printf(&g->body, " -> [N,%" PRId64 "]", feat(g, out));
    sb_printf(&g->body, " */\n");
    g->block = g->body.n;
}

/* Ends a layer's calls. With #line directives, every line of them maps to
 * the layer's line in the model file (a call spans lines: one directive
 * alone would number them on), and the next line back to the C file. */
static void layer_close(gen *g, const ir_op *op)
{
    if (!g->opt->line_directives || op->line <= 0 || g->body.n == g->block)
        return;
    char *calls = arena_strdup(g->a, g->body.p + g->block);
    const char *path = cq_string(g->a, g->ir->path);
    g->body.n = g->block;
    g->body.p[g->body.n] = 0;
    for (char *line = calls, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = 0; /* every line the generator writes ends in a newline */
        sb_printf(&g->body, "#line %d %s\n%s\n", op->line, path, line);
    }
    sb_printf(&g->body, LINE_BACK);
}

static void gen_loss_forward(gen *g, const ir_op *op, ir_phase phase)
{
    /* the output: the probabilities, else what the loss reads (inference
     * reads through dropouts) */
    int out = op->y != IR_NONE             ? op->y
              : phase == IR_PHASE_FORWARD ? op->x
                                          : ir_infer_source(g->ir, op->x);
    const ir_op_desc *d = ir_op_info(op->kind);
    layer_open(g, op, op_what(g, op), IR_NONE);
    if (phase == IR_PHASE_INFER) { /* predict runs without targets */
        sb_printf(&g->body, "    if (%s == NULL) {\n",
                  strcmp(d->targets, "labels") == 0 ? "s->y" : "s->t");
        if (*ir_op_call(d, IR_PHASE_PREDICT))
            emit_call(g, op, IR_PHASE_PREDICT, 8);
        sb_printf(&g->body, "        s->loss = 0.0f;\n"
                            "        s->output = %s;\n        return;\n    }\n", tn(g, out));
    }
    emit_call(g, op, phase, 4);
    sb_printf(&g->body, "    s->output = %s;\n", tn(g, out));
    layer_close(g, op);
}

static void gen_forward(gen *g, ir_phase phase)
{
    const ir_model *ir = g->ir;
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        const char *call = ir_op_call(ir_op_info(op->kind), phase);
        if (ir_op_is_loss(op->kind)) {
            gen_loss_forward(g, op, phase);
        } else if (!call) {
            layer_open(g, op, "flatten: a view, nothing to do", op->y);
            layer_close(g, op);
        } else if (!*call) {
            layer_open(g, op, arena_printf(g->a, "%s: identity at inference", op->text),
                       IR_NONE);
            layer_close(g, op);
        } else {
            layer_open(g, op, op->text, op->y);
            emit_call(g, op, phase, 4);
            layer_close(g, op);
        }
    }
}

static void gen_backward(gen *g)
{
    const ir_model *ir = g->ir;
    for (int i = ir->nops - 1; i >= 0; i--) {
        const ir_op *op = &ir->ops[i];
        if (!op->backward)
            continue;
        layer_open(g, op, op_what(g, op), IR_NONE);
        emit_call(g, op, IR_PHASE_BACKWARD, 4);
        layer_close(g, op);
    }
}

/* ------------------------------------------------------------ functions */

static const char *role_comment(const ir_model *ir, int t)
{
    const ir_tensor *x = &ir->tensors[t];
    switch (x->role) {
    case IR_T_ACT:
        return t == ir->output && ir_op_is_loss(ir->ops[ir->nops - 1].kind) &&
                       ir->ops[ir->nops - 1].y == t
                   ? "output: probabilities"
                   : "output";
    case IR_T_GRAD:  return "gradient";
    case IR_T_SAVED:
    case IR_T_STATS: return "saved for backward";
    case IR_T_SCRATCH: return "scratch";
    default:         return "";
    }
}

static void fn_start(gen *g)
{
    memset(g->used, 0, sizeof *g->used * (size_t)g->ir->ntensors);
    memset(&g->body, 0, sizeof g->body);
}

/* Prints the function: its opening, the pointers its body uses, the body. */
static void fn_emit(gen *g, const char *signature, const char *preamble)
{
    const ir_model *ir = g->ir;
    sb_printf(&g->out, "\n%s\n{\n%s", signature, preamble);
    for (int t = 0; t < ir->ntensors; t++) {
        if (!g->used[t])
            continue;
        const ir_tensor *x = &ir->tensors[t];
        if (x->role == IR_T_INPUT) {
            sb_printf(&g->out, "    const float *x = s->x; /* [N,%" PRId64 "] */\n",
                      x->features);
            continue;
        }
        const char *name = tn(g, t);
        char shape[80];
        if (x->role == IR_T_STATS)
            snprintf(shape, sizeof shape, "[%" PRId64 "]", x->features);
        else if (x->image[0] > 0)
            snprintf(shape, sizeof shape, "[N,%" PRId64 ",%" PRId64 ",%" PRId64 "]",
                     x->image[0], x->image[1], x->image[2]);
        else
            snprintf(shape, sizeof shape, "[N,%" PRId64 "]", x->features);
        if (x->index) /* int32 in the float arena: same size and alignment */
            sb_printf(&g->out,
                      "    int32_t *%s = (int32_t *)(s->arena + ARENA_%s * cap); /* %s %s */\n",
                      name, upper(g->a, x->name), shape, role_comment(ir, t));
        else
            sb_printf(&g->out, "    float *%s = s->arena + ARENA_%s * cap; /* %s %s */\n", name,
                      upper(g->a, x->name), shape, role_comment(ir, t));
    }
    if (g->body.n)
        sb_printf(&g->out, "%s", g->body.p);
    sb_printf(&g->out, "}\n");
    sb_free(&g->body);
}

/* The runtime's enum constant for a kind: PREFIX and the kind's name from
 * the shared table (seqrt_names.h), upper-cased: SEQRT_INIT_GLOROT_UNIFORM. */
static const char *enum_const(gen *g, const char *prefix, const char *name)
{
    return upper(g->a, arena_printf(g->a, "%s%s", prefix, name));
}

static void emit_init(gen *g)
{
    const ir_model *ir = g->ir;
    sb_printf(&g->out, "\n/* Initial weights, layer by layer as Keras draws them. */\n"
                       "static void init(float *params, seqrt_rng *rng)\n{\n");
    fn_start(g);
    int last_op = -1;
    for (int i = 0; i < ir->nparams; i++) {
        const ir_param *p = &ir->params[i];
        if (p->op != last_op) {
            if (last_op >= 0)
                layer_close(g, &ir->ops[last_op]);
            layer_open(g, &ir->ops[p->op], ir->ops[p->op].text, IR_NONE);
            last_op = p->op;
        }
        sb_printf(&g->body, "    seqrt_init(params + %s, %" PRId64 ", %s, %" PRId64
                            ", %" PRId64 ", rng);\n",
                  p->cname, p->count, enum_const(g, "SEQRT_INIT_", init_kind_name(p->init)), p->fan_in, p->fan_out);
    }
    if (last_op >= 0)
        layer_close(g, &ir->ops[last_op]);
    else
        sb_printf(&g->body, "    (void)params;\n    (void)rng;\n");
    /* the body starts with a blank line after the brace */
    if (g->body.n)
        sb_printf(&g->out, "%s", g->body.p + 1);
    sb_free(&g->body);
    sb_printf(&g->out, "}\n");
}

static int *params_by_offset(gen *g);

/* Is a block one that weight decay leaves alone by default: a bias, or a
 * normalization layer's gamma or beta (the compiler names each block, so
 * the trainer never has to guess from a name at run time)? */
static bool norm_or_bias(const ir_param *p)
{
    return strcmp(p->what, "bias") == 0 || strcmp(p->what, "gamma") == 0 ||
           strcmp(p->what, "beta") == 0;
}

/* Clipping, then decoupled weight decay (Keras 3's order: clip the
 * gradients, decay the variables, then the optimizer's step). */
static void emit_clip_and_decay(gen *g)
{
    const ir_model *ir = g->ir;
    const train_recipe *r = &ir->train;
    int *order = params_by_offset(g);
    if (r->clipnorm > 0) {
        sb_printf(&g->out, "    /* clipnorm=%s: each variable's gradient norm at most that "
                           "(Keras) */\n", flt(g, r->clipnorm));
        for (int k = 0; k < ir->nparams; k++) {
            const ir_param *p = &ir->params[order[k]];
            if (p->trainable)
                sb_printf(&g->out, "    seqrt_clip_norm(%" PRId64 ", grads + %s, %s);\n",
                          p->count, p->cname, flt(g, r->clipnorm));
        }
    }
    if (r->global_clipnorm > 0)
        sb_printf(&g->out, "    /* global_clipnorm: the norm of all the gradients together */\n"
                           "    seqrt_clip_norm(TRAINABLE_COUNT, grads, %s);\n",
                  flt(g, r->global_clipnorm));
    if (r->clipvalue > 0)
        sb_printf(&g->out, "    seqrt_clip_value(TRAINABLE_COUNT, grads, %s);\n",
                  flt(g, r->clipvalue));
    if (r->weight_decay > 0) {
        sb_printf(&g->out, "    /* decoupled weight decay (AdamW): p -= lr * %s * p, %s */\n",
                  flt(g, r->weight_decay),
                  r->decay_norm_and_bias ? "on every trainable block (decay_norm_and_bias)"
                                         : "not on biases, gamma or beta");
        for (int k = 0; k < ir->nparams; k++) {
            const ir_param *p = &ir->params[order[k]];
            if (!p->trainable || (!r->decay_norm_and_bias && norm_or_bias(p)))
                continue;
            sb_printf(&g->out, "    seqrt_weight_decay(%" PRId64 ", params + %s, lr, %s);\n",
                      p->count, p->cname, flt(g, r->weight_decay));
        }
    }
}

static void emit_update(gen *g)
{
    const train_recipe *r = &g->ir->train;
    sb_printf(&g->out,
              "\n/* One optimizer step over the contiguous trainable parameters. */\n"
              "static void update(float *params, float *grads, float *opt_state, "
              "int64_t t,\n                   float lr)\n{\n");
    emit_clip_and_decay(g);
    if (r->optimizer == SEQRT_OPT_ADAM) {
        sb_printf(&g->out, "    /* Adam: m is opt_state[0, TRAINABLE_COUNT), v the next "
                           "TRAINABLE_COUNT floats */\n");
        sb_printf(&g->out,
                  "    seqrt_adam_step(TRAINABLE_COUNT, params, grads, opt_state,\n"
                  "                    opt_state + TRAINABLE_COUNT, t, lr, %s, %s, %s);\n",
                  flt(g, r->beta1), flt(g, r->beta2), flt(g, r->epsilon));
    } else if (r->optimizer == SEQRT_OPT_RMSPROP) {
        sb_printf(&g->out, "    (void)t;\n    /* RMSprop: the velocity is opt_state[0, "
                           "TRAINABLE_COUNT)%s */\n",
                  r->momentum != 0 ? ", the momentum the next TRAINABLE_COUNT floats" : "");
        sb_printf(&g->out,
                  "    seqrt_rmsprop_step(TRAINABLE_COUNT, params, grads, opt_state,\n"
                  "                       %s, lr, %s, %s, %s);\n",
                  r->momentum != 0 ? "opt_state + TRAINABLE_COUNT" : "NULL", flt(g, r->rho),
                  flt(g, r->momentum), flt(g, r->epsilon));
    } else if (r->momentum != 0) {
        sb_printf(&g->out, "    (void)t;\n    /* SGD with momentum: opt_state is the "
                           "velocity */\n");
        sb_printf(&g->out,
                  "    seqrt_sgd_step(TRAINABLE_COUNT, params, grads, opt_state, lr, %s, %d);\n",
                  flt(g, r->momentum), r->nesterov ? 1 : 0);
    } else {
        sb_printf(&g->out, "    (void)t;\n    (void)opt_state; /* plain SGD keeps no state */\n");
        sb_printf(&g->out,
                  "    seqrt_sgd_step(TRAINABLE_COUNT, params, grads, NULL, lr, 0.0f, %d);\n",
                  r->nesterov ? 1 : 0);
    }
    sb_printf(&g->out, "}\n");
}

typedef struct param_row {
    int64_t offset;
    int     index;
} param_row;

static int by_offset(const void *pa, const void *pb)
{
    const param_row *a = pa, *b = pb;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* The parameters' indices in offset order (trainable ones first). */
static int *params_by_offset(gen *g)
{
    const ir_model *ir = g->ir;
    size_t n = (size_t)ir->nparams;
    param_row *rows = arena_array(g->a, n + 1, sizeof *rows);
    int *order = arena_array(g->a, n + 1, sizeof *order);
    for (size_t i = 0; i < n; i++)
        rows[i] = (param_row){ir->params[i].offset, (int)i};
    qsort(rows, n, sizeof *rows, by_offset);
    for (size_t i = 0; i < n; i++)
        order[i] = rows[i].index;
    return order;
}

static void emit_blocks(gen *g)
{
    const ir_model *ir = g->ir;
    if (ir->nparams == 0)
        return;
    int *order = params_by_offset(g);
    sb_printf(&g->out, "\n/* The parameters as named blocks, in offset order: layer (as `seqc "
                       "summary`\n * names it), weight, model-file line, offset, count. */\n"
                       "static const seqrt_param_block blocks[] = {\n");
    for (int k = 0; k < ir->nparams; k++) {
        const ir_param *p = &ir->params[order[k]];
        const ir_op *op = &ir->ops[p->op];
        sb_printf(&g->out, "    {%s, %s, %d, %s, %" PRId64 "},\n", cq_string(g->a, op->name),
                  cq_string(g->a, p->what), op->line, p->cname, p->count);
    }
    sb_printf(&g->out, "};\n");
}

/* The normalize op, or IR_NONE */
static int normalize_op(const ir_model *ir)
{
    for (int i = 0; i < ir->nops; i++)
        if (ir->ops[i].kind == IR_NORMALIZE)
            return i;
    return IR_NONE;
}

/* The `metrics` line as the loop reads it: kind (accuracy resolved by the
 * loss), column name as written, k. */
static void emit_metrics(gen *g)
{
    static const char *const kind_const[] = {
        [SEQRT_METRIC_ACCURACY] = "SEQRT_METRIC_ACCURACY",
        [SEQRT_METRIC_BINARY_ACCURACY] = "SEQRT_METRIC_BINARY_ACCURACY",
        [SEQRT_METRIC_TOP_K] = "SEQRT_METRIC_TOP_K",
        [SEQRT_METRIC_MAE] = "SEQRT_METRIC_MAE",
        [SEQRT_METRIC_MSE] = "SEQRT_METRIC_MSE",
        [SEQRT_METRIC_RMSE] = "SEQRT_METRIC_RMSE",
        [SEQRT_METRIC_AUC] = "SEQRT_METRIC_AUC",
    };
    _Static_assert(sizeof kind_const / sizeof *kind_const == SEQRT_METRIC_COUNT_,
                   "one C name per seqrt_metric_kind");
    const train_recipe *r = &g->ir->train;
    if (r->nmetrics == 0)
        return;
    sb_printf(&g->out, "\n/* The `metrics` line: kind, column name, k (top-k only). */\n"
                       "static const seqrt_metric metrics[] = {\n");
    for (int i = 0; i < r->nmetrics; i++)
        sb_printf(&g->out, "    {%s, %s, %d},\n", kind_const[r->metrics[i].kind],
                  cq_string(g->a, r->metrics[i].name),
                  r->metrics[i].kind == SEQRT_METRIC_TOP_K ? r->metrics[i].k : 0);
    sb_printf(&g->out, "};\n");
}

/* The normalize layer's statistics, and the rescales before it folded
 * into one scale and offset (the loop learns the statistics of what the
 * layer sees: the data times scale plus offset). */
static void emit_normalize(gen *g)
{
    const ir_model *ir = g->ir;
    int k = normalize_op(ir);
    if (k == IR_NONE)
        return;
    double scale = 1.0, offset = 0.0;
    for (int i = 0; i < k; i++)
        if (ir->ops[i].kind == IR_RESCALE) {
            scale *= ir->ops[i].scale;
            offset = offset * ir->ops[i].scale + ir->ops[i].offset;
        }
    const ir_op *op = &ir->ops[k];
    const ir_param *mean = &ir->params[op->param[0]], *var = &ir->params[op->param[1]];
    sb_printf(&g->out, "\n/* %s (line %d): its statistics, learned from the training set "
                       "before the\n * first epoch, of the input times scale plus offset (the "
                       "rescales before it). */\n",
              op->name, op->line);
    sb_printf(&g->out, "static const seqrt_normalize_spec normalize = {\n"
                       "    .mean_offset = %s,\n    .var_offset = %s,\n"
                       "    .features = %" PRId64 ",\n    .scale = %s,\n    .offset = %s,\n};\n",
              mean->cname, var->cname, mean->count, flt(g, scale), flt(g, offset));
}

static const char *monitor_init(gen *g, const seqrt_monitor *m)
{
    return arena_printf(g->a, "{.metric = %d, .val = %d, .maximize = %d}", m->metric, m->val,
                        m->maximize);
}

/* The recipe's fields of seqrt_model beyond the optimizer's: only those
 * a file sets, so a model without them reads as before. */
static void emit_recipe(gen *g)
{
    static const char *const sched_const[] = {
        [SEQRT_SCHED_CONSTANT] = "SEQRT_SCHED_CONSTANT", [SEQRT_SCHED_STEP] = "SEQRT_SCHED_STEP",
        [SEQRT_SCHED_EXPONENTIAL] = "SEQRT_SCHED_EXPONENTIAL",
        [SEQRT_SCHED_COSINE] = "SEQRT_SCHED_COSINE", [SEQRT_SCHED_PLATEAU] = "SEQRT_SCHED_PLATEAU",
    };
    _Static_assert(sizeof sched_const / sizeof *sched_const == SEQRT_SCHED_COUNT_,
                   "one C name per schedule");
    const train_recipe *r = &g->ir->train;
    if (r->optimizer == SEQRT_OPT_RMSPROP)
        sb_printf(&g->out, "    .rho = %s,\n", flt(g, r->rho));
    if (r->weight_decay > 0)
        sb_printf(&g->out, "    .weight_decay = %s,\n", flt(g, r->weight_decay));
    if (r->has_schedule) {
        const seqrt_schedule *s = &r->schedule;
        char f[48], m[48], d[48];
        ir_format_float(f, sizeof f, s->factor);
        ir_format_float(m, sizeof m, s->min_lr);
        ir_format_float(d, sizeof d, s->min_delta);
        sb_printf(&g->out, "    .has_schedule = 1,\n"
                           "    .schedule = {.kind = %s, .every = %d, .factor = %s, "
                           ".min_lr = %s,\n                 .warmup = %d, .patience = %d, "
                           ".min_delta = %s,\n                 .monitor = %s},\n",
                  sched_const[s->kind], s->every, f, m, s->warmup, s->patience, d,
                  monitor_init(g, &s->monitor));
    }
    if (r->early_stopping.enabled) {
        const seqrt_early_stopping *e = &r->early_stopping;
        char d[48];
        ir_format_float(d, sizeof d, e->min_delta);
        sb_printf(&g->out, "    .early_stopping = {.enabled = 1, .monitor = %s,\n"
                           "                       .patience = %d, .min_delta = %s, "
                           ".restore_best = %d},\n",
                  monitor_init(g, &e->monitor), e->patience, d, e->restore_best);
    }
    if (r->save_best)
        sb_printf(&g->out, "    .save_best = 1,\n");
    if (r->save_best || r->early_stopping.enabled) {
        char d[48];
        ir_format_float(d, sizeof d, r->best_min_delta);
        sb_printf(&g->out, "    .best_monitor = %s,\n    .best_min_delta = %s,\n",
                  monitor_init(g, &r->best_monitor), d);
    }
}

static void emit_model(gen *g)
{
    const ir_model *ir = g->ir;
    const train_recipe *r = &ir->train;
    sb_printf(&g->out, "\nstatic const seqrt_model model = {\n    .name = %s,\n"
                       "    .source = %s,\n",
              cq_string(g->a, ir->name), cq_string(g->a, ir->path));
    sb_printf(&g->out, "    .structure_hash = UINT64_C(0x%016" PRIx64 "),\n",
              ir_structure_hash(ir));
    sb_printf(&g->out, "    .input_ndims = %d,\n    .input_dims = {", ir->input_ndims);
    for (int d = 0; d < ir->input_ndims; d++)
        sb_printf(&g->out, "%s%" PRId64, d ? ", " : "", ir->input_dims[d]);
    sb_printf(&g->out, "},\n    .input_size = %" PRId64 ",\n    .outputs = %" PRId64 ",\n",
              ir->input_size, ir->classes);
    sb_printf(&g->out, "    .param_count = PARAM_COUNT,\n    .trainable_count = TRAINABLE_COUNT,\n"
                       "    .act_per_sample = ACT_PER_SAMPLE,\n"
                       "    .opt_state_count = OPT_STATE_COUNT,\n");
    if (ir->nparams)
        sb_printf(&g->out, "    .blocks = blocks,\n"
                           "    .block_count = (int)(sizeof blocks / sizeof blocks[0]),\n");
    if (normalize_op(ir) != IR_NONE)
        sb_printf(&g->out, "    .normalize = &normalize,\n");
    int batch_stats = 0;
    for (int i = 0; i < ir->nops; i++)
        /* the layers whose training output depends on the batch's
         * statistics: not a frozen batchnorm, nor layernorm or groupnorm
         * (a fused batchnorm + relu + maxpool2d is a plain batchnorm) */
        batch_stats += ir->ops[i].kind == IR_BATCHNORM || ir->ops[i].kind == IR_BATCHNORM_GHOST ||
                       ir->ops[i].kind == IR_BATCHNORM_RENORM ||
                       ir->ops[i].kind == IR_BN_RELU_MAXPOOL2D;
    if (batch_stats > 0)
        sb_printf(&g->out, "    .batch_stats_layers = %d,\n", batch_stats);
    sb_printf(&g->out, "    .optimizer = %s,\n",
              enum_const(g, "SEQRT_OPT_", optimizer_kind_name(r->optimizer)));
    sb_printf(&g->out, "    .lr = %s,\n    .momentum = %s,\n    .beta1 = %s,\n"
                       "    .beta2 = %s,\n    .epsilon = %s,\n",
              flt(g, r->lr), flt(g, r->momentum), flt(g, r->beta1), flt(g, r->beta2),
              flt(g, r->epsilon));
    sb_printf(&g->out, "    .nesterov = %d,\n    .loss = %s,\n    .from_logits = %d,\n",
              r->nesterov ? 1 : 0, enum_const(g, "SEQRT_LOSS_", loss_kind_name(r->loss)),
              r->from_logits ? 1 : 0);
    if (r->nmetrics > 0)
        sb_printf(&g->out, "    .metrics = metrics,\n"
                           "    .metric_count = (int)(sizeof metrics / sizeof metrics[0]),\n");
    emit_recipe(g);
    char split[48];
    ir_format_float(split, sizeof split, r->validation_split);
    sb_printf(&g->out, "    .validation_split = %s,\n", split);
    sb_printf(&g->out, "    .epochs = %" PRId64 ",\n    .batch = %" PRId64 ",\n"
                       "    .shuffle = %d,\n    .seed = UINT64_C(%" PRIu64 "),\n",
              r->epochs, r->batch, r->shuffle ? 1 : 0, r->seed);
    if (r->drop_last)
        sb_printf(&g->out, "    .drop_last = 1,\n");
    if (r->recalibrate_bn)
        sb_printf(&g->out, "    .recalibrate_bn = 1,\n");
    sb_printf(&g->out, "    .init = init,\n    .forward_train = forward_train,\n"
                       "    .forward_infer = forward_infer,\n    .backward = backward,\n"
                       "    .update = update,\n};\n");
}

/* ------------------------------------------------------------- the file */

static void emit_header(gen *g)
{
    const ir_model *ir = g->ir;
    sb_printf(&g->out, "/*\n * A trainer for model %s, generated by seqc %s from %s",
              cq_comment(g->a, ir->name), SEQC_VERSION, cq_comment(g->a, ir->path));
    if (ir->without)
        sb_printf(&g->out, "\n * without %s", cq_comment(g->a, ir->without));
    if (ir->replaced)
        sb_printf(&g->out, "\n * with %s", cq_comment(g->a, ir->replaced));
    sb_printf(&g->out,
              ".\n * Do not edit: change the model file and run seqc again.\n"
              " *\n * Build (save this file as trainer.c; needs libseqrt installed):\n"
              " *   cc trainer.c $(pkg-config --cflags --libs seqrt) -o trainer\n"
              " * To train over MPI ranks (mpirun -np P ./trainer ...), as `seqc build\n"
              " * --mpi` does:\n"
              " *   mpicc -DSEQRT_MPI trainer.c -lseqrt_mpi $(pkg-config --cflags --libs seqrt) "
              "-o trainer\n"
              " * Run:   ./trainer --help\n */\n#include \"seqrt.h\"\n");
}

/* The tensors whose floats overlap t's (they never live at the same
 * time): the first few by name, then how many more. */
static void sharing_comment(gen *g, int t)
{
    enum { NAMED = 4 };
    const ir_model *ir = g->ir;
    const ir_tensor *x = &ir->tensors[t];
    int count = 0;
    for (int u = 0; u < ir->ntensors; u++) {
        const ir_tensor *y = &ir->tensors[u];
        if (u == t || y->role == IR_T_INPUT || y->offset >= x->offset + x->size ||
            x->offset >= y->offset + y->size)
            continue;
        if (count < NAMED)
            sb_printf(&g->out, "%s%s", count ? ", " : " /* shares floats with ", tn(g, u));
        count++;
    }
    if (count > NAMED)
        sb_printf(&g->out, " and %d more", count - NAMED);
    if (count)
        sb_printf(&g->out, " */");
}

static void emit_defines(gen *g)
{
    const ir_model *ir = g->ir;
    sb_printf(&g->out, "\n/* Parameters: offsets in floats into params (and into grads for "
                       "the\n * trainable ones, which come first), named after the layers "
                       "of `seqc summary`. */\n");
    int *order = params_by_offset(g);
    for (int k = 0; k < ir->nparams; k++) {
        const ir_param *p = &ir->params[order[k]];
        char shape[48];
        if (p->rows == 1)
            snprintf(shape, sizeof shape, "[%" PRId64 "]", p->cols);
        else
            snprintf(shape, sizeof shape, "[%" PRId64 ",%" PRId64 "]", p->rows, p->cols);
        sb_printf(&g->out, "#define %-40s %8" PRId64 " /* %-10s %s%s */\n", p->cname,
                  p->offset, shape, init_kind_name(p->init), p->trainable ? "" : ", non-trainable");
    }
    sb_printf(&g->out, "#define %-40s %8" PRId64 "\n", "TRAINABLE_COUNT", ir->trainable_count);
    sb_printf(&g->out, "#define %-40s %8" PRId64 "\n", "PARAM_COUNT", ir->param_count);
    sb_printf(&g->out, "#define %-40s %8" PRId64 "\n", "OPT_STATE_COUNT", ir->opt_state_count);

    sb_printf(&g->out, "\n/* Memory plan: offsets into the arena in floats per sample; a "
                       "buffer\n * starts at OFFSET * capacity. %s */\n",
              ir->no_reuse ? "Built with --no-reuse: every buffer has\n * its own floats."
                           : "Buffers whose lives do not overlap share\n * floats, as "
                             "noted (`seqc ir` shows the lives).");
    for (int t = 0; t < ir->ntensors; t++) {
        const ir_tensor *x = &ir->tensors[t];
        if (x->role == IR_T_INPUT)
            continue;
        sb_printf(&g->out, "#define %-40s %8" PRId64,
                  arena_printf(g->a, "ARENA_%s", upper(g->a, x->name)), x->offset);
        sharing_comment(g, t);
        sb_printf(&g->out, "\n");
    }
    sb_printf(&g->out, "#define %-40s %8" PRId64 "\n", "ACT_PER_SAMPLE", ir->act_per_sample);
}

static bool is_image_op(ir_op_kind k)
{
    return k == IR_CONV2D || k == IR_MAXPOOL2D || k == IR_AVGPOOL2D ||
           k == IR_BN_RELU_MAXPOOL2D; /* the pool's geometry */
}

/* Each conv2d's and pool's geometry as the kernels take it (seqrt.h),
 * every field computed here: the kernels trust them. */
static void emit_image_shapes(gen *g)
{
    const ir_model *ir = g->ir;
    bool any = false;
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        if (!is_image_op(op->kind))
            continue;
        if (!any)
            sb_printf(&g->out, "\n/* Convolutions and pools (NHWC): input, kernel or pool, "
                               "strides,%s\n * `same` padding before the first row and "
                               "column, output. */\n",
                      "");
        any = true;
        sb_printf(&g->out, "/* %s: %s:%d  %s */\n", op->name, g->file, op->line,
                  cq_comment(g->a, op->text));
        if (op->kind == IR_CONV2D)
            sb_printf(&g->out,
                      "static const seqrt_conv2d_shape %s_shape = {\n"
                      "    .h = %" PRId64 ", .w = %" PRId64 ", .cin = %" PRId64 ",\n"
                      "    .kh = %" PRId64 ", .kw = %" PRId64 ", .cout = %" PRId64 ",\n"
                      "    .sh = %" PRId64 ", .sw = %" PRId64 ", .dh = %" PRId64
                      ", .dw = %" PRId64 ",\n"
                      "    .pad_top = %" PRId64 ", .pad_left = %" PRId64 ",\n"
                      "    .oh = %" PRId64 ", .ow = %" PRId64 ",\n};\n",
                      op->name, op->in_hwc[0], op->in_hwc[1], op->in_hwc[2], op->kernel[0],
                      op->kernel[1], op->filters, op->stride[0], op->stride[1], op->dilation[0],
                      op->dilation[1], op->pad[0], op->pad[1], op->out_hw[0], op->out_hw[1]);
        else
            sb_printf(&g->out,
                      "static const seqrt_pool2d_shape %s_shape = {\n"
                      "    .h = %" PRId64 ", .w = %" PRId64 ", .c = %" PRId64 ",\n"
                      "    .ph = %" PRId64 ", .pw = %" PRId64 ", .sh = %" PRId64
                      ", .sw = %" PRId64 ",\n"
                      "    .pad_top = %" PRId64 ", .pad_left = %" PRId64 ",\n"
                      "    .oh = %" PRId64 ", .ow = %" PRId64 ",\n};\n",
                      op->name, op->in_hwc[0], op->in_hwc[1], op->in_hwc[2], op->kernel[0],
                      op->kernel[1], op->stride[0], op->stride[1], op->pad[0], op->pad[1],
                      op->out_hw[0], op->out_hw[1]);
    }
}

/* main: before anything runs, every conv2d's and fused block's scratch
 * in the memory plan against what the linked libseqrt asks for (the plan
 * reserves an upper bound, shapes.h: shapes_conv_scratch, and 2c floats
 * for a block: pass_fuse.c) */
static void emit_main(gen *g)
{
    const ir_model *ir = g->ir;
    sb_printf(&g->out, "\n#ifndef SEQRT_NO_MAIN\nint main(int argc, char **argv)\n{\n");
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        const char *asks;
        if (op->kind == IR_CONV2D)
            asks = arena_printf(g->a, "seqrt_conv2d_scratch_per_sample(&%s_shape)", op->name);
        else if (op->kind == IR_BN_RELU_MAXPOOL2D)
            asks = arena_printf(g->a, "seqrt_bn_relu_maxpool_scratch_per_sample(%" PRId64 ")",
                                op->in_hwc[2]);
        else
            continue;
        int64_t have = ir->tensors[op->scratch[0]].features;
        sb_printf(&g->out,
                  "    if (%s > %" PRId64 ") {\n"
                  "        fprintf(stderr, \"%%s: layer %s needs more scratch than the %" PRId64
                  " floats per sample \"\n"
                  "                        \"this trainer reserves; generate it again with the "
                  "seqc of this libseqrt\\n\",\n"
                  "                argv[0]);\n"
                  "        return 1;\n    }\n",
                  asks, have, op->name, have);
    }
    /* the same file builds both trainers: seqc build --mpi adds -DSEQRT_MPI */
    sb_printf(&g->out, "#ifdef SEQRT_MPI /* seqc build --mpi: data-parallel over MPI ranks "
                       "(libseqrt_mpi) */\n"
                       "    return seqrt_mpi_main(argc, argv, &model);\n#else\n"
                       "    return seqrt_main(argc, argv, &model);\n#endif\n}\n#endif\n");
}

/* Replaces each LINE_BACK with `#line N "C FILE"`, N the next line's. */
static void resolve_line_back(gen *g, FILE *out)
{
    const char *c_name = cq_string(g->a, g->opt->c_path ? g->opt->c_path : "trainer.c");
    size_t len = strlen(LINE_BACK);
    long line = 1;
    for (const char *p = g->out.p; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (n == len && memcmp(p, LINE_BACK, len) == 0)
            fprintf(out, "#line %ld %s\n", line + 1, c_name);
        else
            fwrite(p, 1, n, out);
        p += n;
        line++;
    }
}

int codegen_c(FILE *out, const ir_model *ir, const codegen_opts *opts)
{
    static const codegen_opts defaults = {0};
    gen g = {.ir = ir, .opt = opts ? opts : &defaults, .a = ir->arena};
    g.file = cq_comment(g.a, path_base(ir->path));
    g.used = arena_array(g.a, (size_t)ir->ntensors + 1, sizeof *g.used);

    emit_header(&g);
    emit_defines(&g);
    emit_image_shapes(&g);
    emit_init(&g);

    const char *pre = "    const int n = s->n;\n    const size_t cap = (size_t)s->capacity;\n";
    fn_start(&g);
    gen_forward(&g, IR_PHASE_FORWARD);
    fn_emit(&g, "/* Training mode: batch statistics (moving statistics updated), dropout on. */\n"
                "static void forward_train(seqrt_step *s)",
            arena_printf(g.a, "%s    float *p = s->params;\n", pre));

    fn_start(&g);
    gen_forward(&g, IR_PHASE_INFER);
    fn_emit(&g, "/* Inference mode: moving statistics, no dropout. */\n"
                "static void forward_infer(seqrt_step *s)",
            arena_printf(g.a, "%s    const float *p = s->params;\n", pre));

    fn_start(&g);
    gen_backward(&g);
    fn_emit(&g, "/* After forward_train: fills grads (overwritten, never accumulated). */\n"
                "static void backward(seqrt_step *s)",
            arena_printf(g.a, "%s    const float *p = s->params;\n    float *g = s->grads;\n",
                         pre));

    emit_update(&g);
    emit_blocks(&g);
    emit_metrics(&g);
    emit_normalize(&g);
    emit_model(&g);
    emit_main(&g);
    resolve_line_back(&g, out);
    sb_free(&g.out);
    fflush(out);
    return ferror(out) ? -1 : 0;
}
