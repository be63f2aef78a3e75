/*
 * codegen_c.c: IR -> one readable C file.
 *
 * Layout of the output, top to bottom: a header comment (tool, version,
 * model file), #include "seqrt.h", the parameter offsets and the memory
 * plan as #defines, then init, forward_train, forward_infer, backward and
 * update, the seqrt_model that names them, and main. Every layer's calls
 * sit under a comment naming its line in the model file and its output
 * shape. Calls are straight-line, outputs last as in seqrt.h.
 *
 * A function body is written to a string first, recording which tensors
 * it touches, so only those get a pointer declaration (no unused
 * variables under -Werror).
 */
#include "back/codegen.h"
#include "util/sbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- strings */

/* a C float literal that reads back as exactly the same float */
static const char *flt(char *buf, size_t size, double v)
{
    ir_format_float(buf, size, v);
    strncat(buf, "f", size - strlen(buf) - 1);
    return buf;
}

/* s with '"' and '\' escaped, for a C string literal */
static void put_c_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 32 || c >= 127)
            fprintf(out, "\\%03o", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* s made safe inside a comment: no "*" followed by "/" */
static const char *comment_safe(arena *a, const char *s)
{
    char *c = arena_strdup(a, s);
    for (char *p = c; *p; p++)
        if (p[0] == '*' && p[1] == '/')
            p[1] = '|';
    return c;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ------------------------------------------------------------ functions */

typedef struct fn {
    const ir_model *ir;
    sbuf            body;
    bool           *used; /* per tensor */
    const char     *file; /* model file's base name, for comments */
} fn;

/* the C name of tensor t, and note that the function uses it */
static const char *tn(fn *f, int t)
{
    if (t == IR_NONE)
        return "NULL";
    f->used[t] = true;
    const ir_tensor *x = &f->ir->tensors[t];
    if (x->role == IR_T_INPUT)
        return "x";
    char *c = arena_strdup(f->ir->arena, x->name);
    for (char *p = c; *p; p++)
        if (*p == '.')
            *p = '_';
    return c;
}

static const char *pname(const fn *f, int p)
{
    return p == IR_NONE ? NULL : f->ir->params[p].cname;
}

static int64_t feat(const fn *f, int t) { return f->ir->tensors[t].features; }

/* the kernel's batch argument: n, or n * groups before the first flatten */
static const char *kernel_rows(fn *f, const ir_op *op)
{
    if (op->groups <= 1)
        return "n";
    return arena_printf(f->ir->arena, "n * %" PRId64, op->groups);
}

static void layer_comment(fn *f, const ir_op *op, const char *what, int out)
{
    if (op->line > 0)
        sb_printf(&f->body, "\n    /* %s:%d  %s", f->file, op->line, what);
    else
        sb_printf(&f->body, "\n    /* %s", what);
    if (out != IR_NONE)
        sb_printf(&f->body, " -> [N,%" PRId64 "]", feat(f, out));
    sb_printf(&f->body, " */\n");
}

static const char *loss_text(const ir_op *op, arena *a)
{
    if (op->fused_softmax)
        return arena_printf(a, "softmax + %s (fused)", op->text);
    return arena_printf(a, "loss %s", op->text);
}

static void gen_loss_forward(fn *f, const ir_op *op, bool infer)
{
    const char *x = tn(f, infer ? ir_infer_source(f->ir, op->x) : op->x);
    int64_t c = f->ir->classes;
    const char *out = x;
    layer_comment(f, op, loss_text(op, f->ir->arena), IR_NONE);
    if (infer) /* predict may run without labels */
        sb_printf(&f->body, "    if (s->y == NULL) {\n");
    if (op->kind == IR_SOFTMAX_XENT) {
        out = tn(f, op->y);
        if (infer)
            sb_printf(&f->body,
                      "        seqrt_softmax_forward(n, %" PRId64 ", %s, %s);\n"
                      "        s->loss = 0.0f;\n        s->correct = 0;\n"
                      "        s->output = %s;\n        return;\n    }\n",
                      c, x, out, out);
        sb_printf(&f->body,
                  "    s->loss = seqrt_softmax_xent_forward(n, %" PRId64 ", %s, s->y, %s);\n",
                  c, x, out);
    } else {
        if (infer)
            sb_printf(&f->body,
                      "        s->loss = 0.0f;\n        s->correct = 0;\n"
                      "        s->output = %s;\n        return;\n    }\n", x);
        sb_printf(&f->body, "    s->loss = seqrt_%s_forward(n, %" PRId64 ", %s, s->y);\n",
                  op->kind == IR_MSE ? "mse" : "xent", c, x);
    }
    sb_printf(&f->body, "    s->correct = seqrt_accuracy_count(n, %" PRId64 ", %s, s->y);\n",
              c, out);
    sb_printf(&f->body, "    s->output = %s;\n", out);
}

static void gen_forward(fn *f, bool infer)
{
    const ir_model *ir = f->ir;
    char a1[48], a2[48];
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        if (ir_op_is_loss(op->kind)) {
            gen_loss_forward(f, op, infer);
            continue;
        }
        if (op->kind == IR_FLATTEN) {
            layer_comment(f, op, "flatten: a view, nothing to do", op->y);
            continue;
        }
        if (infer && op->kind == IR_DROPOUT) {
            layer_comment(f, op, arena_printf(ir->arena, "%s: identity at inference",
                                              op->text), IR_NONE);
            continue;
        }
        int xin = infer ? ir_infer_source(ir, op->x) : op->x;
        const char *x = tn(f, xin), *y = tn(f, op->y);
        int64_t fi = feat(f, op->x), fo = feat(f, op->y);
        const char *rows = kernel_rows(f, op);
        int64_t cols = fo / op->groups; /* batchnorm, softmax: the last axis */
        layer_comment(f, op, op->text, op->y);
        switch (op->kind) {
        case IR_DENSE:
            sb_printf(&f->body,
                      "    seqrt_dense_forward(n, %" PRId64 ", %" PRId64 ", %s, p + %s, %s%s, %s);\n",
                      fi, fo, x, pname(f, op->param[0]), op->bias ? "p + " : "",
                      op->bias ? pname(f, op->param[1]) : "NULL", y);
            break;
        case IR_BATCHNORM:
            if (infer)
                sb_printf(&f->body,
                          "    seqrt_batchnorm_forward_infer(%s, %" PRId64 ", %s, p + %s, p + %s,\n"
                          "                                  p + %s, p + %s, %s, %s);\n",
                          rows, cols, x, pname(f, op->param[0]), pname(f, op->param[1]),
                          pname(f, op->param[2]), pname(f, op->param[3]),
                          flt(a2, sizeof a2, op->epsilon), y);
            else
                sb_printf(&f->body,
                          "    seqrt_batchnorm_forward_train(%s, %" PRId64 ", %s, p + %s, p + %s,\n"
                          "                                  p + %s, p + %s, %s, %s,\n"
                          "                                  %s, %s, %s);\n",
                          rows, cols, x, pname(f, op->param[0]), pname(f, op->param[1]),
                          pname(f, op->param[2]), pname(f, op->param[3]),
                          flt(a1, sizeof a1, op->momentum), flt(a2, sizeof a2, op->epsilon),
                          y, tn(f, op->save[0]), tn(f, op->save[1]));
            break;
        case IR_RELU: case IR_SIGMOID: case IR_TANH:
            sb_printf(&f->body, "    seqrt_%s_forward((size_t)n * %" PRId64 ", %s, %s);\n",
                      ir_op_kind_name(op->kind), fo, x, y);
            break;
        case IR_LEAKY_RELU:
            sb_printf(&f->body,
                      "    seqrt_leaky_relu_forward((size_t)n * %" PRId64 ", %s, %s, %s);\n",
                      fo, flt(a1, sizeof a1, op->alpha), x, y);
            break;
        case IR_SOFTMAX:
            sb_printf(&f->body, "    seqrt_softmax_forward(%s, %" PRId64 ", %s, %s);\n", rows,
                      cols, x, y);
            break;
        case IR_DROPOUT:
            sb_printf(&f->body,
                      "    seqrt_dropout_forward_train((size_t)n * %" PRId64 ", %s, %s, %s, %s, s->rng);\n",
                      fo, flt(a1, sizeof a1, op->rate), x, y, tn(f, op->save[0]));
            break;
        default:
            fprintf(stderr, "seqc: internal error: no forward code for %s\n", op->name);
            abort();
        }
    }
}

static void gen_backward(fn *f)
{
    const ir_model *ir = f->ir;
    char a1[48];
    for (int i = ir->nops - 1; i >= 0; i--) {
        const ir_op *op = &ir->ops[i];
        if (!op->backward)
            continue;
        int64_t fo = op->y != IR_NONE ? feat(f, op->y) : 0;
        int64_t cols = op->groups > 0 ? fo / op->groups : fo;
        const char *rows = kernel_rows(f, op);
        const char *dx = tn(f, op->dx);
        switch (op->kind) {
        case IR_SOFTMAX_XENT:
        case IR_XENT:
        case IR_MSE:
            layer_comment(f, op, loss_text(op, ir->arena), IR_NONE);
            sb_printf(&f->body, "    seqrt_%s_backward(n, %" PRId64 ", %s, s->y, %s);\n",
                      op->kind == IR_SOFTMAX_XENT ? "softmax_xent"
                      : op->kind == IR_XENT       ? "xent"
                                                  : "mse",
                      ir->classes, tn(f, op->kind == IR_SOFTMAX_XENT ? op->y : op->x), dx);
            break;
        case IR_DENSE:
            layer_comment(f, op, op->text, IR_NONE);
            sb_printf(&f->body,
                      "    seqrt_dense_backward(n, %" PRId64 ", %" PRId64 ", %s, p + %s, %s, %s%s,\n"
                      "                         g + %s, %s%s);\n",
                      feat(f, op->x), fo, tn(f, op->x), pname(f, op->param[0]),
                      tn(f, op->dy), dx, op->dx == IR_NONE ? " /* first layer: no dx */" : "",
                      pname(f, op->param[0]), op->bias ? "g + " : "",
                      op->bias ? pname(f, op->param[1]) : "NULL");
            break;
        case IR_BATCHNORM:
            layer_comment(f, op, op->text, IR_NONE);
            sb_printf(&f->body,
                      "    seqrt_batchnorm_backward(%s, %" PRId64 ", %s, p + %s, %s, %s, %s,\n"
                      "                             g + %s, g + %s);\n",
                      rows, cols, tn(f, op->save[0]), pname(f, op->param[0]), tn(f, op->save[1]),
                      tn(f, op->dy), dx, pname(f, op->param[0]), pname(f, op->param[1]));
            break;
        case IR_RELU: case IR_SIGMOID: case IR_TANH:
            layer_comment(f, op, op->text, IR_NONE);
            sb_printf(&f->body, "    seqrt_%s_backward((size_t)n * %" PRId64 ", %s, %s, %s, %s);\n",
                      ir_op_kind_name(op->kind), fo, tn(f, op->x), tn(f, op->y),
                      tn(f, op->dy), dx);
            break;
        case IR_LEAKY_RELU:
            layer_comment(f, op, op->text, IR_NONE);
            sb_printf(&f->body,
                      "    seqrt_leaky_relu_backward((size_t)n * %" PRId64 ", %s, %s, %s, %s, %s);\n",
                      fo, flt(a1, sizeof a1, op->alpha), tn(f, op->x), tn(f, op->y),
                      tn(f, op->dy), dx);
            break;
        case IR_SOFTMAX:
            layer_comment(f, op, op->text, IR_NONE);
            sb_printf(&f->body, "    seqrt_softmax_backward(%s, %" PRId64 ", %s, %s, %s, %s);\n",
                      rows, cols, tn(f, op->x), tn(f, op->y), tn(f, op->dy), dx);
            break;
        case IR_DROPOUT:
            layer_comment(f, op, op->text, IR_NONE);
            sb_printf(&f->body,
                      "    seqrt_dropout_backward((size_t)n * %" PRId64 ", %s, %s, %s, %s);\n",
                      fo, flt(a1, sizeof a1, op->rate), tn(f, op->save[0]), tn(f, op->dy), dx);
            break;
        default:
            fprintf(stderr, "seqc: internal error: no backward code for %s\n", op->name);
            abort();
        }
    }
}

static const char *role_comment(const ir_model *ir, int t)
{
    const ir_tensor *x = &ir->tensors[t];
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        if (op->y == t && x->role == IR_T_ACT)
            return op->kind == IR_SOFTMAX_XENT ? "probabilities" : op->name;
    }
    switch (x->role) {
    case IR_T_GRAD:  return "gradient";
    case IR_T_SAVED: return "saved for backward";
    case IR_T_STATS: return "saved for backward";
    default:         return "";
    }
}

/* Prints the function: its opening, the pointers its body uses, the body. */
static void emit_fn(FILE *out, fn *f, const char *signature, const char *preamble)
{
    const ir_model *ir = f->ir;
    fprintf(out, "\n%s\n{\n%s", signature, preamble);
    for (int t = 0; t < ir->ntensors; t++) {
        if (!f->used[t])
            continue;
        const ir_tensor *x = &ir->tensors[t];
        if (x->role == IR_T_INPUT) {
            fprintf(out, "    const float *x = s->x; /* [N,%" PRId64 "] */\n", x->features);
            continue;
        }
        const char *name = tn(f, t);
        char upper[128];
        size_t k = 0;
        for (; name[k] && k + 1 < sizeof upper; k++)
            upper[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
        upper[k] = 0;
        char shape[48];
        if (x->role == IR_T_STATS)
            snprintf(shape, sizeof shape, "[%" PRId64 "]", x->features);
        else
            snprintf(shape, sizeof shape, "[N,%" PRId64 "]", x->features);
        fprintf(out, "    float *%s = s->arena + ARENA_%s * cap; /* %s %s */\n", name, upper,
                shape, role_comment(ir, t));
    }
    fwrite(f->body.p, 1, f->body.n, out);
    fputs("}\n", out);
}

static void fn_start(fn *f, const ir_model *ir, bool *used)
{
    memset(f, 0, sizeof *f);
    f->ir = ir;
    f->used = used;
    memset(used, 0, sizeof *used * (size_t)ir->ntensors);
    f->file = comment_safe(ir->arena, base_name(ir->path));
}

static const char *const init_enum[] = {
    "SEQRT_INIT_ZEROS", "SEQRT_INIT_ONES", "SEQRT_INIT_GLOROT_UNIFORM",
    "SEQRT_INIT_GLOROT_NORMAL", "SEQRT_INIT_HE_UNIFORM", "SEQRT_INIT_HE_NORMAL"};

static const char *const init_lower[] = {"zeros", "ones", "glorot_uniform",
                                         "glorot_normal", "he_uniform", "he_normal"};

static void emit_init(FILE *out, const ir_model *ir, const char *file)
{
    fputs("\n/* Initial weights, layer by layer as Keras draws them. */\n"
          "static void init(float *params, seqrt_rng *rng)\n{", out);
    int last_op = -1;
    for (int i = 0; i < ir->nparams; i++) {
        const ir_param *p = &ir->params[i];
        if (p->op != last_op) {
            const ir_op *op = &ir->ops[p->op];
            fprintf(out, "\n    /* %s:%d  %s */\n", file, op->line, op->text);
            last_op = p->op;
        }
        fprintf(out, "    seqrt_init(params + %s, %" PRId64 ", %s, %" PRId64 ", %" PRId64
                     ", rng);\n",
                p->cname, p->count, init_enum[p->init], p->fan_in, p->fan_out);
    }
    fputs("}\n", out);
}

static void emit_update(FILE *out, const ir_model *ir)
{
    const train_recipe *r = &ir->train;
    char a1[48], a2[48], a3[48];
    fputs("\n/* One optimizer step over the contiguous trainable parameters. */\n"
          "static void update(float *params, const float *grads, float *opt_state, "
          "int64_t t,\n                   float lr)\n{\n", out);
    if (r->optimizer == SEQRT_OPT_ADAM) {
        fputs("    /* Adam: m is opt_state[0, TRAINABLE_COUNT), v the next "
              "TRAINABLE_COUNT floats */\n", out);
        fprintf(out, "    seqrt_adam_step(TRAINABLE_COUNT, params, grads, opt_state,\n"
                     "                    opt_state + TRAINABLE_COUNT, t, lr, %s, %s, %s);\n",
                flt(a1, sizeof a1, r->beta1), flt(a2, sizeof a2, r->beta2),
                flt(a3, sizeof a3, r->epsilon));
    } else if (r->momentum != 0) {
        fputs("    (void)t;\n    /* SGD with momentum: opt_state is the velocity */\n", out);
        fprintf(out, "    seqrt_sgd_step(TRAINABLE_COUNT, params, grads, opt_state, lr, %s, %d);\n",
                flt(a1, sizeof a1, r->momentum), r->nesterov ? 1 : 0);
    } else {
        fputs("    (void)t;\n    (void)opt_state; /* plain SGD keeps no state */\n", out);
        fprintf(out, "    seqrt_sgd_step(TRAINABLE_COUNT, params, grads, NULL, lr, 0.0f, %d);\n",
                r->nesterov ? 1 : 0);
    }
    fputs("}\n", out);
}

static void emit_model(FILE *out, const ir_model *ir)
{
    const train_recipe *r = &ir->train;
    char a[5][48];
    static const char *const loss_enum[] = {"SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY",
                                            "SEQRT_LOSS_CATEGORICAL_CROSSENTROPY",
                                            "SEQRT_LOSS_MSE"};
    fputs("\nstatic const seqrt_model model = {\n    .name = ", out);
    put_c_string(out, ir->name);
    fputs(",\n    .source = ", out);
    put_c_string(out, ir->path);
    fprintf(out, ",\n    .structure_hash = UINT64_C(0x%016" PRIx64 "),\n", ir_structure_hash(ir));
    fprintf(out, "    .input_rows = %" PRId64 ",\n    .input_cols = %" PRId64 ",\n"
                 "    .input_size = %" PRId64 ",\n    .classes = %" PRId64 ",\n",
            ir->input_rows, ir->input_cols, ir->input_size, ir->classes);
    fputs("    .param_count = PARAM_COUNT,\n    .trainable_count = TRAINABLE_COUNT,\n"
          "    .act_per_sample = ACT_PER_SAMPLE,\n    .opt_state_count = OPT_STATE_COUNT,\n",
          out);
    fprintf(out, "    .optimizer = %s,\n", r->optimizer == SEQRT_OPT_ADAM ? "SEQRT_OPT_ADAM"
                                                                    : "SEQRT_OPT_SGD");
    fprintf(out, "    .lr = %s,\n    .momentum = %s,\n    .beta1 = %s,\n    .beta2 = %s,\n"
                 "    .epsilon = %s,\n",
            flt(a[0], sizeof a[0], r->lr), flt(a[1], sizeof a[1], r->momentum),
            flt(a[2], sizeof a[2], r->beta1), flt(a[3], sizeof a[3], r->beta2),
            flt(a[4], sizeof a[4], r->epsilon));
    fprintf(out, "    .nesterov = %d,\n    .loss = %s,\n", r->nesterov ? 1 : 0,
            loss_enum[r->loss]);
    fprintf(out, "    .epochs = %" PRId64 ",\n    .batch = %" PRId64 ",\n    .shuffle = %d,\n"
                 "    .seed = UINT64_C(%" PRIu64 "),\n",
            r->epochs, r->batch, r->shuffle ? 1 : 0, r->seed);
    fputs("    .init = init,\n    .forward_train = forward_train,\n"
          "    .forward_infer = forward_infer,\n    .backward = backward,\n"
          "    .update = update,\n};\n", out);
}

int codegen_c(FILE *out, const ir_model *ir)
{
    arena *a = ir->arena;
    const char *file = comment_safe(a, base_name(ir->path));
    bool *used = arena_array(a, (size_t)ir->ntensors + 1, sizeof *used);

    fprintf(out, "/*\n * A trainer for model %s, generated by seqc %s from %s", ir->name,
            SEQC_VERSION, comment_safe(a, ir->path));
    if (ir->without)
        fprintf(out, "\n * without %s", comment_safe(a, ir->without));
    fputs(".\n * Do not edit: change the model file and run seqc again.\n"
          " *\n * Build: cc -std=c11 -O2 -pthread THIS.c libseqrt.a -lopenblas -lz -lm\n"
          " * Run:   ./trainer --help\n */\n#include \"seqrt.h\"\n", out);

    fputs("\n/* Parameters: offsets in floats into params (and into grads for the\n"
          " * trainable ones, which come first). */\n", out);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < ir->nparams; i++) {
            const ir_param *p = &ir->params[i];
            if (p->trainable != (pass == 0))
                continue;
            char shape[48];
            if (p->rows == 1)
                snprintf(shape, sizeof shape, "[%" PRId64 "]", p->cols);
            else
                snprintf(shape, sizeof shape, "[%" PRId64 ",%" PRId64 "]", p->rows, p->cols);
            fprintf(out, "#define %-28s %8" PRId64 " /* %-10s %s%s */\n", p->cname, p->offset,
                    shape, init_lower[p->init], p->trainable ? "" : ", non-trainable");
        }
    fprintf(out, "#define %-28s %8" PRId64 "\n", "TRAINABLE_COUNT", ir->trainable_count);
    fprintf(out, "#define %-28s %8" PRId64 "\n", "PARAM_COUNT", ir->param_count);
    fprintf(out, "#define %-28s %8" PRId64 "\n", "OPT_STATE_COUNT", ir->opt_state_count);

    fputs("\n/* Memory plan: offsets into the arena in floats per sample; a buffer\n"
          " * starts at OFFSET * capacity. Buffers whose lives do not overlap share\n"
          " * floats (`seqc ir` shows the lives). */\n", out);
    for (int t = 0; t < ir->ntensors; t++) {
        const ir_tensor *x = &ir->tensors[t];
        if (x->role == IR_T_INPUT)
            continue;
        fn tmp;
        fn_start(&tmp, ir, used);
        const char *name = tn(&tmp, t);
        char upper[128];
        size_t k = 0;
        for (; name[k] && k + 1 < sizeof upper; k++)
            upper[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
        upper[k] = 0;
        char def[160];
        snprintf(def, sizeof def, "ARENA_%s", upper);
        fprintf(out, "#define %-28s %8" PRId64 "\n", def, x->offset);
    }
    fprintf(out, "#define %-28s %8" PRId64 "\n", "ACT_PER_SAMPLE", ir->act_per_sample);

    emit_init(out, ir, file);

    fn f;
    fn_start(&f, ir, used);
    gen_forward(&f, false);
    emit_fn(out, &f,
            "/* Training mode: batch statistics (moving statistics updated), dropout on. */\n"
            "static void forward_train(seqrt_step *s)",
            "    const int n = s->n;\n    const size_t cap = (size_t)s->capacity;\n"
            "    float *p = s->params;\n");
    sb_free(&f.body);

    fn_start(&f, ir, used);
    gen_forward(&f, true);
    emit_fn(out, &f,
            "/* Inference mode: moving statistics, no dropout. */\n"
            "static void forward_infer(seqrt_step *s)",
            "    const int n = s->n;\n    const size_t cap = (size_t)s->capacity;\n"
            "    const float *p = s->params;\n");
    sb_free(&f.body);

    fn_start(&f, ir, used);
    gen_backward(&f);
    emit_fn(out, &f,
            "/* After forward_train: fills grads (overwritten, never accumulated). */\n"
            "static void backward(seqrt_step *s)",
            "    const int n = s->n;\n    const size_t cap = (size_t)s->capacity;\n"
            "    const float *p = s->params;\n    float *g = s->grads;\n");
    sb_free(&f.body);

    emit_update(out, ir);
    emit_model(out, ir);
    fputs("\n#ifndef SEQRT_NO_MAIN\nint main(int argc, char **argv)\n{\n"
          "    return seqrt_main(argc, argv, &model);\n}\n#endif\n", out);
    fflush(out);
    return ferror(out) ? -1 : 0;
}
