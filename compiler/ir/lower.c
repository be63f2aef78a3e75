/*
 * lower.c: a checked model (model.h) becomes IR (ir.h), one op per layer
 * and a loss op at the end, in source order. Shapes are not inferred here:
 * every tensor's and parameter's shape is copied from the checked model
 * (front/shapes.c inferred and checked them once, for `check` and
 * `summary` too). Nothing is decided here that a pass can decide: the
 * softmax stays separate from the loss until pass_fuse.c, gradients and
 * offsets come later still.
 */
#include "ir/ir.h"
#include "front/summary.h"

#include <string.h>

#include "front/names.h"
#include "front/shapes.h"
#include "util/bug.h"

static ir_op_kind op_kind_of_layer(const layer *l)
{
    switch (l->kind) {
    case LAYER_DENSE:      return IR_DENSE;
    case LAYER_BATCHNORM:
        return l->frozen ? IR_BATCHNORM_FROZEN
               : l->virtual_batch > 0 ? IR_BATCHNORM_GHOST
               : l->renorm            ? IR_BATCHNORM_RENORM
                                      : IR_BATCHNORM;
    case LAYER_LAYERNORM:  return IR_LAYERNORM;
    case LAYER_GROUPNORM:  return IR_GROUPNORM;
    case LAYER_RELU:       return IR_RELU;
    case LAYER_LEAKY_RELU: return IR_LEAKY_RELU;
    case LAYER_SIGMOID:    return IR_SIGMOID;
    case LAYER_TANH:       return IR_TANH;
    case LAYER_SOFTMAX:    return IR_SOFTMAX;
    case LAYER_DROPOUT:    return IR_DROPOUT;
    case LAYER_FLATTEN:    return IR_FLATTEN;
    case LAYER_RESCALE:    return IR_RESCALE;
    case LAYER_NORMALIZE:  return IR_NORMALIZE;
    case LAYER_CONV2D:     return IR_CONV2D;
    case LAYER_MAXPOOL2D:  return IR_MAXPOOL2D;
    case LAYER_AVGPOOL2D:  return IR_AVGPOOL2D;
    case LAYER_GLOBAL_AVGPOOL2D: return IR_GLOBAL_AVGPOOL2D;
    case LAYER_GLOBAL_MAXPOOL2D: return IR_GLOBAL_MAXPOOL2D;
    case LAYER_INPUT:
    case LAYER_KIND_COUNT: break;
    }
    return IR_OP_KIND_COUNT;
}

/* What the layer says, for comments and the listing: "dense 128". Options
 * are shown only when they differ from the defaults. */
static const char *layer_text(arena *a, const layer *l)
{
    char num[40];
    switch (l->kind) {
    case LAYER_DENSE:
        return arena_printf(a, "dense %lld%s%s%s", (long long)l->units,
                            l->bias ? "" : " bias=false",
                            l->init == SEQRT_INIT_GLOROT_UNIFORM ? "" : " init=",
                            l->init == SEQRT_INIT_GLOROT_UNIFORM ? "" : init_kind_name(l->init));
    case LAYER_BATCHNORM:
    case LAYER_LAYERNORM:
    case LAYER_GROUPNORM: {
        /* "batchnorm", "batchnorm momentum=0.9 epsilon=0.001 center=false" */
        char eps[40], opts[160] = "";
        size_t n = 0;
        bool bn = l->kind == LAYER_BATCHNORM;
        if (l->kind == LAYER_GROUPNORM)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " groups=%lld",
                                  (long long)l->norm_groups);
        if (!l->center)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " center=false");
        if (!l->gamma)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " scale=false");
        if (bn && l->frozen)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " frozen=true");
        if (bn && l->virtual_batch > 0)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " virtual_batch=%lld",
                                  (long long)l->virtual_batch);
        if (bn && l->renorm) {
            char rmax[40], dmax[40];
            ir_format_float(rmax, sizeof rmax, l->rmax);
            ir_format_float(dmax, sizeof dmax, l->dmax);
            n += (size_t)snprintf(opts + n, sizeof opts - n, " renorm=true rmax=%s dmax=%s",
                                  rmax, dmax);
        }
        if (bn && !l->sync)
            snprintf(opts + n, sizeof opts - n, " sync=false");
        ir_format_float(num, sizeof num, l->momentum);
        ir_format_float(eps, sizeof eps, l->epsilon);
        if (bn && ((float)l->momentum != 0.99f || (float)l->epsilon != 0.001f))
            return arena_printf(a, "batchnorm momentum=%s epsilon=%s%s", num, eps, opts);
        if (!bn && (float)l->epsilon != 0.001f)
            return arena_printf(a, "%s epsilon=%s%s", layer_kind_name(l->kind), eps, opts);
        return arena_printf(a, "%s%s", layer_kind_name(l->kind), opts);
    }
    case LAYER_LEAKY_RELU:
        ir_format_float(num, sizeof num, l->alpha);
        return arena_printf(a, "leaky_relu alpha=%s", num);
    case LAYER_DROPOUT:
        ir_format_float(num, sizeof num, l->rate);
        return arena_printf(a, "dropout %s", num);
    case LAYER_RESCALE: {
        char off[40];
        /* the scale as written: 1/255 reads better than 0.003921569 */
        const char *scale = l->scale_text;
        if (!scale) {
            ir_format_float(num, sizeof num, l->scale);
            scale = num;
        }
        ir_format_float(off, sizeof off, l->offset);
        return l->offset == 0 ? arena_printf(a, "rescale %s", scale)
                              : arena_printf(a, "rescale %s offset=%s", scale, off);
    }
    case LAYER_CONV2D:
    case LAYER_MAXPOOL2D:
    case LAYER_AVGPOOL2D: {
        /* "conv2d 32 kernel=3 padding=same", "maxpool2d 2" */
        char size[48], opts[160] = "";
        size_t n = 0;
        snprintf(size, sizeof size, "%lld", (long long)l->kernel[0]);
        if (l->kernel[1] != l->kernel[0])
            snprintf(size, sizeof size, "%lldx%lld", (long long)l->kernel[0],
                     (long long)l->kernel[1]);
        bool conv = l->kind == LAYER_CONV2D;
        bool default_stride = conv ? l->stride[0] == 1 && l->stride[1] == 1
                                   : l->stride[0] == l->kernel[0] && l->stride[1] == l->kernel[1];
        if (!default_stride)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " stride=%lldx%lld",
                                  (long long)l->stride[0], (long long)l->stride[1]);
        if (l->same)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " padding=same");
        if (conv && (l->dilation[0] != 1 || l->dilation[1] != 1))
            n += (size_t)snprintf(opts + n, sizeof opts - n, " dilation=%lldx%lld",
                                  (long long)l->dilation[0], (long long)l->dilation[1]);
        if (conv && !l->bias)
            n += (size_t)snprintf(opts + n, sizeof opts - n, " bias=false");
        if (conv && l->init != SEQRT_INIT_GLOROT_UNIFORM)
            snprintf(opts + n, sizeof opts - n, " init=%s", init_kind_name(l->init));
        if (conv)
            return arena_printf(a, "conv2d %lld kernel=%s%s", (long long)l->filters, size, opts);
        return arena_printf(a, "%s %s%s", layer_kind_name(l->kind), size, opts);
    }
    default:
        return layer_kind_name(l->kind);
    }
}

/* A conv2d's or pool's geometry, from the checked layer */
static void set_image_op(ir_op *op, const layer *l)
{
    for (int a = 0; a < 3; a++)
        op->in_hwc[a] = l->in_dims[a];
    for (int a = 0; a < 2; a++) {
        op->kernel[a] = l->kernel[a];
        op->stride[a] = l->stride[a];
        op->dilation[a] = l->dilation[a];
        op->pad[a] = l->pad[a];
        op->out_hw[a] = l->out.ndims == 3 ? l->out.dims[a] : 1;
    }
    op->filters = l->kind == LAYER_CONV2D ? l->filters : 0;
}

/* The loss op: on probabilities, or from logits with the link fused in
 * when the file says from_logits=true (pass_fuse.c fuses a final
 * softmax/sigmoid into the probabilities' form later). */
static ir_op_kind loss_op_kind(const train_recipe *r)
{
    bool logits = r->from_logits;
    switch (r->loss) {
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: return logits ? IR_SOFTMAX_XENT : IR_XENT;
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:        return logits ? IR_SOFTMAX_CCE : IR_CCE;
    case SEQRT_LOSS_BINARY_CROSSENTROPY:             return logits ? IR_SIGMOID_BCE : IR_BCE;
    case SEQRT_LOSS_MSE:                             return IR_MSE;
    case SEQRT_LOSS_MAE:                             return IR_MAE;
    case SEQRT_LOSS_HUBER:                           return IR_HUBER;
    case SEQRT_LOSS_COUNT_:                          break;
    }
    SEQC_BUG("a loss of no kind");
}

/* "binary_crossentropy from_logits=true", "huber delta=2.0", "mse" */
static const char *loss_text(arena *a, const train_recipe *r)
{
    char num[40];
    if (r->loss == SEQRT_LOSS_HUBER && (float)r->delta != 1.0f) {
        ir_format_float(num, sizeof num, r->delta);
        return arena_printf(a, "huber delta=%s", num);
    }
    return arena_printf(a, "%s%s", loss_kind_name(r->loss),
                        r->from_logits ? " from_logits=true" : "");
}

static void set_param(ir_model *ir, int p, int64_t rows, int64_t cols, int64_t fan_in,
                      int64_t fan_out)
{
    ir_param *q = &ir->params[p];
    q->rows = rows;
    q->cols = cols;
    q->count = rows * cols;
    q->fan_in = fan_in;
    q->fan_out = fan_out;
}

static int add_op(ir_model *ir, ir_op_kind kind, const char *name, int line,
                  const char *text)
{
    int i = ir->nops++;
    ir_op *op = &ir->ops[i];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->name = name;
    op->line = line;
    op->text = text;
    op->x = op->y = op->dx = op->dy = IR_NONE;
    for (int k = 0; k < 4; k++)
        op->param[k] = IR_NONE;
    op->save[0] = op->save[1] = IR_NONE;
    op->scratch[0] = op->scratch[1] = IR_NONE;
    return i;
}

ir_model *ir_lower(arena *a, const model *m, const char *without)
{
    if (!m->shaped)
        SEQC_BUG("lowering a model that was not checked (after an edit, model_without "
                 "checks it again)");
    ir_model *ir = arena_alloc(a, sizeof *ir);
    size_t nl = m->nlayers;
    ir->arena = a;
    ir->src = m;
    ir->name = m->name;
    ir->path = m->path;
    ir->without = without;
    ir->train = m->train;
    ir->nops_cap = (int)nl + 1;
    ir->ops = arena_array(a, (size_t)ir->nops_cap, sizeof *ir->ops);
    /* per layer at most: an activation, its gradient, two saved values or
     * two scratch buffers */
    ir->ntensors_cap = 4 * (int)nl + 5; /* + the loss's probabilities */
    ir->tensors = arena_array(a, (size_t)ir->ntensors_cap, sizeof *ir->tensors);
    ir->nparams_cap = 4 * (int)nl;
    ir->params = arena_array(a, (size_t)ir->nparams_cap + 1, sizeof *ir->params);

    /* the input: layers[0], flattened to [N, rows*cols] */
    const layer *in = &m->layers[0];
    int64_t size = in->out.size;
    ir->input_size = size;
    ir->input_rows = in->ndims > 0 ? in->dims[0] : 1;
    ir->input_cols = in->ndims > 0 ? size / ir->input_rows : 1;
    ir->input_ndims = in->ndims;
    for (int d = 0; d < in->ndims && d < AST_MAX_DIMS; d++)
        ir->input_dims[d] = in->dims[d];
    ir->input = ir_add_tensor(a, ir, "x", IR_T_INPUT, size);
    if (in->out.ndims == 3)
        memcpy(ir->tensors[ir->input].image, in->out.dims, sizeof ir->tensors[ir->input].image);

    int cur = ir->input;
    summary_namer namer = {{0}};
    char lname[64];
    for (size_t i = 1; i < nl; i++) {
        const layer *l = &m->layers[i];
        ir_op_kind k = op_kind_of_layer(l);
        if (k == IR_OP_KIND_COUNT)
            continue; /* a second input: the check pass has rejected it */
        /* the name `seqc summary` prints: ops, tensors and parameters carry
         * it into the generated C */
        const char *name =
            arena_strdup(a, summary_layer_name(&namer, l->kind, lname, sizeof lname));
        int o = add_op(ir, k, name, l->line, layer_text(a, l));
        ir_op *op = &ir->ops[o];
        int64_t fin = ir->tensors[cur].features, fout = l->out.size;
        op->x = cur;
        op->groups = l->out.groups;
        if (k == IR_FLATTEN) {
            op->y = cur; /* a view */
            continue;
        }
        op->y = ir_add_tensor(a, ir, name, IR_T_ACT, fout);
        if (l->out.ndims == 3)
            memcpy(ir->tensors[op->y].image, l->out.dims, sizeof ir->tensors[op->y].image);
        cur = op->y;
        switch (k) {
        case IR_CONV2D: {
            /* Keras's kernel [kh, kw, cin, filters] is the row-major matrix
             * [kh*kw*cin, filters]; glorot's fans are Keras's: the
             * receptive field times the channels in and out */
            int64_t field = l->kernel[0] * l->kernel[1], patch = field * l->in_dims[2];
            set_image_op(op, l);
            op->bias = l->bias;
            set_param(ir, ir_add_param(a, ir, o, 0, l->init), patch, l->filters, patch,
                      field * l->filters);
            if (l->bias)
                set_param(ir, ir_add_param(a, ir, o, 1, SEQRT_INIT_ZEROS), 1, l->filters, patch,
                          field * l->filters);
            int64_t scratch = (int64_t)shapes_conv_scratch(l);
            op->scratch[0] = ir_add_tensor(a, ir, arena_printf(a, "%s.scratch", name),
                                           IR_T_SCRATCH, scratch);
            op->scratch[1] = ir_add_tensor(a, ir, arena_printf(a, "%s.scratch_backward", name),
                                           IR_T_SCRATCH, scratch);
            break;
        }
        case IR_MAXPOOL2D:
        case IR_GLOBAL_MAXPOOL2D:
            set_image_op(op, l);
            ir->tensors[ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout)].index = true; /* argmax */
            break;
        case IR_AVGPOOL2D:
        case IR_GLOBAL_AVGPOOL2D:
            set_image_op(op, l);
            break;
        case IR_DENSE:
            op->units = l->units;
            op->bias = l->bias;
            set_param(ir, ir_add_param(a, ir, o, 0, l->init), fin, l->units, fin, l->units);
            if (l->bias)
                set_param(ir, ir_add_param(a, ir, o, 1, SEQRT_INIT_ZEROS), 1, l->units, fin,
                          l->units);
            break;
        case IR_BATCHNORM:
        case IR_BATCHNORM_FROZEN:
        case IR_BATCHNORM_GHOST:
        case IR_BATCHNORM_RENORM:
        case IR_LAYERNORM:
        case IR_GROUPNORM: {
            /* per feature of the last axis: [features / groups]; gamma
             * only with scale=true, beta only with center=true (Keras) */
            int64_t f = fout / l->out.groups;
            bool bn = k != IR_LAYERNORM && k != IR_GROUPNORM;
            op->momentum = l->momentum;
            op->epsilon = l->epsilon;
            op->virtual_batch = l->virtual_batch;
            /* only batch statistics are summed over the processes (a
             * fused block keeps its batchnorm's: pass_fuse.c copies it) */
            op->sync = l->sync && (k == IR_BATCHNORM || k == IR_BATCHNORM_RENORM);
            op->norm_groups = l->norm_groups;
            op->rmax = l->rmax;
            op->dmax = l->dmax;
            if (l->gamma)
                set_param(ir, ir_add_param(a, ir, o, 0, SEQRT_INIT_ONES), 1, f, f, f);
            if (l->center)
                set_param(ir, ir_add_param(a, ir, o, 1, SEQRT_INIT_ZEROS), 1, f, f, f);
            if (bn) {
                set_param(ir, ir_add_param(a, ir, o, 2, SEQRT_INIT_ZEROS), 1, f, f, f); /* moving mean */
                set_param(ir, ir_add_param(a, ir, o, 3, SEQRT_INIT_ONES), 1, f, f, f);  /* moving variance */
            }
            if (k == IR_BATCHNORM) {
                ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout); /* xhat */
                ir_add_saved(a, ir, o, 1, IR_T_STATS, f);    /* inv_std */
            } else if (k == IR_BATCHNORM_GHOST) {
                /* inv_std per ghost batch: at most one row of f per sample */
                ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout);
                ir_add_saved(a, ir, o, 1, IR_T_SAVED, f);
            } else if (k == IR_BATCHNORM_RENORM) {
                ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout); /* xhat */
                ir_add_saved(a, ir, o, 1, IR_T_STATS, 3 * f); /* inv_std, r, d */
            } else if (k == IR_LAYERNORM) {
                ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout);
                ir_add_saved(a, ir, o, 1, IR_T_SAVED, l->out.groups); /* per row */
            } else if (k == IR_GROUPNORM) {
                ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout);
                ir_add_saved(a, ir, o, 1, IR_T_SAVED, l->norm_groups);
            }
            break;
        }
        case IR_LEAKY_RELU:
            op->alpha = l->alpha;
            break;
        case IR_DROPOUT:
            op->rate = l->rate;
            ir_add_saved(a, ir, o, 0, IR_T_SAVED, fout); /* mask */
            break;
        case IR_RESCALE:
            op->scale = l->scale;
            op->offset = l->offset;
            break;
        case IR_NORMALIZE: {
            /* per feature of the last axis; Keras's state before adapt():
             * mean 0, variance 1 (the loop learns them from the data) */
            int64_t f = fout / l->out.groups;
            set_param(ir, ir_add_param(a, ir, o, 0, SEQRT_INIT_ZEROS), 1, f, f, f); /* mean */
            set_param(ir, ir_add_param(a, ir, o, 1, SEQRT_INIT_ONES), 1, f, f, f);  /* variance */
            break;
        }
        default:
            break;
        }
    }

    const train_recipe *r = &m->train;
    int o = add_op(ir, loss_op_kind(r), "loss", 0, loss_text(a, r));
    ir_op *loss = &ir->ops[o];
    loss->x = cur;
    loss->groups = m->layers[nl - 1].out.groups; /* 1: shapes.c refuses the rest */
    loss->delta = r->delta;
    loss->from_logits = r->from_logits;
    ir->output = cur;
    ir->classes = ir->tensors[cur].features;
    if (r->from_logits) {
        /* the loss applies the link: its probabilities are the output */
        loss->y = ir_add_tensor(a, ir, "probs", IR_T_ACT, ir->classes);
        ir->output = loss->y;
    }
    return ir;
}
