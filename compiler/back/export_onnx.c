/*
 * export_onnx.c: an export plan (export.h) as an ONNX model.
 *
 * The messages are the official onnx.proto's (compiler/back/onnx/, from
 * ONNX 1.12, Apache-2.0), compiled to C by protobuf-c at build time; this
 * file fills them in and protobuf-c serializes them. Opset 13, IR version
 * 8. The input is [N, <the model's input shape>] float32 with N a
 * dynamic dimension, the output [N, outputs]; the metadata names the
 * model, the seqc version, the model file and the checkpoint.
 *
 * seqc's tensors are NHWC (Keras); ONNX's Conv and pools are NCHW. The
 * graph keeps a sample flat ([N, features], NHWC order) between layers
 * that do not care, and an image step first reshapes to [N, H, W, C] and
 * transposes to NCHW; a step that needs the flat form transposes back
 * and flattens. So a dense after a conv2d reads the NHWC order its
 * weights were trained on. One case per step kind, as in export_c.c.
 * layernorm and groupnorm are decomposed into opset-13 operators
 * (LayerNormalization is opset 17, GroupNormalization 18): one opset for
 * every model.
 *
 * Every message lives in one arena, freed when the bytes are made.
 */
#include "back/export.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "util/bug.h"

#define ONNX_OPSET 13
#define ONNX_IR_VERSION 8

typedef enum layout { FLAT, NCHW } layout;

typedef struct ob {
    arena                 *a;
    Onnx__NodeProto      **nodes;
    Onnx__TensorProto    **inits;
    size_t                 nnodes, ninits, cap;
    int                    serial;   /* for unique tensor names */
    const char            *cur;      /* the tensor the next step reads */
    layout                 lay;
    int64_t                hwc[3];   /* the image's shape while NCHW */
} ob;

static char *name(ob *b, const char *what)
{
    return arena_printf(b->a, "%s_%d", what, b->serial++);
}

static void add_init(ob *b, Onnx__TensorProto *t)
{
    SEQC_ASSERT(b->ninits < b->cap, "too many ONNX initializers");
    b->inits[b->ninits++] = t;
}

/* A float constant of the given shape, little-endian raw bytes. */
static const char *const_f(ob *b, const char *what, const int64_t *dims, size_t ndims,
                           const float *x, int64_t n)
{
    Onnx__TensorProto *t = arena_alloc(b->a, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = name(b, what);
    t->n_dims = ndims;
    t->dims = arena_array(b->a, ndims + 1, sizeof *t->dims);
    memcpy(t->dims, dims, ndims * sizeof *dims);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    unsigned char *raw = arena_array(b->a, (size_t)n * 4 + 1, 1);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        for (int k = 0; k < 4; k++)
            raw[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    t->has_raw_data = 1;
    t->raw_data.data = raw;
    t->raw_data.len = (size_t)n * 4;
    add_init(b, t);
    return t->name;
}

/* An int64 vector constant (shapes for Reshape). */
static const char *const_i64(ob *b, const char *what, const int64_t *x, size_t n)
{
    Onnx__TensorProto *t = arena_alloc(b->a, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = name(b, what);
    t->n_dims = 1;
    t->dims = arena_alloc(b->a, sizeof *t->dims);
    t->dims[0] = (int64_t)n;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_int64_data = n;
    t->int64_data = arena_array(b->a, n + 1, sizeof *t->int64_data);
    memcpy(t->int64_data, x, n * sizeof *x);
    add_init(b, t);
    return t->name;
}

static Onnx__AttributeProto *attr_int(ob *b, const char *n, int64_t v)
{
    Onnx__AttributeProto *at = arena_alloc(b->a, sizeof *at);
    onnx__attribute_proto__init(at);
    at->name = arena_strdup(b->a, n);
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    at->has_i = 1;
    at->i = v;
    return at;
}

static Onnx__AttributeProto *attr_float(ob *b, const char *n, float v)
{
    Onnx__AttributeProto *at = arena_alloc(b->a, sizeof *at);
    onnx__attribute_proto__init(at);
    at->name = arena_strdup(b->a, n);
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    at->has_f = 1;
    at->f = v;
    return at;
}

static Onnx__AttributeProto *attr_ints(ob *b, const char *n, const int64_t *v, size_t count)
{
    Onnx__AttributeProto *at = arena_alloc(b->a, sizeof *at);
    onnx__attribute_proto__init(at);
    at->name = arena_strdup(b->a, n);
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    at->n_ints = count;
    at->ints = arena_array(b->a, count + 1, sizeof *at->ints);
    memcpy(at->ints, v, count * sizeof *v);
    return at;
}

/* A node reading in[0..nin) (NULL entries end the list early) and
 * writing a new tensor, which becomes the current one. Attributes follow
 * as a NULL-terminated array. */
static Onnx__NodeProto *node(ob *b, const char *op, const char *doc, const char *in0,
                             const char *in1, const char *in2, Onnx__AttributeProto **attrs)
{
    SEQC_ASSERT(b->nnodes < b->cap, "too many ONNX nodes");
    Onnx__NodeProto *n = arena_alloc(b->a, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = arena_strdup(b->a, op);
    n->name = name(b, op);
    if (doc)
        n->doc_string = arena_strdup(b->a, doc);
    const char *ins[3] = {in0, in1, in2};
    n->input = arena_array(b->a, 3, sizeof *n->input);
    for (int k = 0; k < 3 && ins[k]; k++)
        n->input[n->n_input++] = (char *)ins[k];
    n->n_output = 1;
    n->output = arena_alloc(b->a, sizeof *n->output);
    n->output[0] = name(b, "t");
    size_t na = 0;
    while (attrs && attrs[na])
        na++;
    n->n_attribute = na;
    n->attribute = attrs;
    b->nodes[b->nnodes++] = n;
    b->cur = n->output[0];
    return n;
}

static Onnx__AttributeProto **attrs(ob *b, Onnx__AttributeProto *a0, Onnx__AttributeProto *a1,
                                    Onnx__AttributeProto *a2, Onnx__AttributeProto *a3,
                                    Onnx__AttributeProto *a4)
{
    Onnx__AttributeProto **v = arena_array(b->a, 6, sizeof *v);
    Onnx__AttributeProto *all[5] = {a0, a1, a2, a3, a4};
    size_t n = 0;
    for (int k = 0; k < 5; k++)
        if (all[k])
            v[n++] = all[k];
    v[n] = NULL;
    return v;
}

/* [N, features] (NHWC order) from whatever the current tensor is */
static void to_flat(ob *b)
{
    if (b->lay == FLAT)
        return;
    static const int64_t nhwc[] = {0, 2, 3, 1};
    node(b, "Transpose", "NCHW to seqc's NHWC", b->cur, NULL, NULL,
         attrs(b, attr_ints(b, "perm", nhwc, 4), NULL, NULL, NULL, NULL));
    node(b, "Flatten", NULL, b->cur, NULL, NULL,
         attrs(b, attr_int(b, "axis", 1), NULL, NULL, NULL, NULL));
    b->lay = FLAT;
}

/* [N, C, H, W] of the image hwc the step reads */
static void to_nchw(ob *b, const int64_t *hwc)
{
    if (b->lay == NCHW) {
        SEQC_ASSERT(memcmp(b->hwc, hwc, sizeof b->hwc) == 0, "an image step reads another shape");
        return;
    }
    const int64_t shape[] = {-1, hwc[0], hwc[1], hwc[2]};
    static const int64_t nchw[] = {0, 3, 1, 2};
    node(b, "Reshape", "seqc's flat NHWC sample as an image", b->cur,
         const_i64(b, "shape", shape, 4), NULL, NULL);
    node(b, "Transpose", "NHWC to NCHW", b->cur, NULL, NULL,
         attrs(b, attr_ints(b, "perm", nchw, 4), NULL, NULL, NULL, NULL));
    b->lay = NCHW;
    memcpy(b->hwc, hwc, sizeof b->hwc);
}

/* Keras's padding as ONNX pads: top, left, bottom, right */
static void pads_of(const ex_step *s, int64_t dil_h, int64_t dil_w, int64_t pads[4])
{
    int64_t kh = (s->kernel[0] - 1) * dil_h + 1, kw = (s->kernel[1] - 1) * dil_w + 1;
    int64_t bottom = (s->out_hw[0] - 1) * s->stride[0] + kh - s->in_hwc[0] - s->pad[0];
    int64_t right = (s->out_hw[1] - 1) * s->stride[1] + kw - s->in_hwc[1] - s->pad[1];
    pads[0] = s->pad[0];
    pads[1] = s->pad[1];
    pads[2] = bottom > 0 ? bottom : 0;
    pads[3] = right > 0 ? right : 0;
}

/* A per-channel constant: [C, 1, 1] while NCHW, else [features] with
 * channel i % cols at feature i. */
static const char *channel_const(ob *b, const char *what, const ex_step *s, const float *v)
{
    if (b->lay == NCHW) {
        const int64_t dims[] = {s->cols, 1, 1};
        return const_f(b, what, dims, 3, v, s->cols);
    }
    float *full = arena_array(b->a, (size_t)s->out, sizeof *full);
    for (int64_t i = 0; i < s->out; i++)
        full[i] = v[i % s->cols];
    const int64_t dims[] = {s->out};
    return const_f(b, what, dims, 1, full, s->out);
}

static void put_step(ob *b, const ex_step *s)
{
    const char *doc = arena_printf(b->a, "%s line %d: %s%s%s", s->op->name, s->op->line,
                                   s->op->text ? s->op->text : s->op->name,
                                   s->folded ? ", folded in: " : "",
                                   s->folded ? s->folded : "");
    int64_t pads[4];
    switch (s->kind) {
    case EX_DENSE: {
        to_flat(b);
        const int64_t wd[] = {s->in, s->out}, bd[] = {s->out};
        node(b, "Gemm", doc, b->cur, const_f(b, "kernel", wd, 2, s->w, s->nw),
             const_f(b, "bias", bd, 1, s->b, s->nb), NULL);
        return;
    }
    case EX_CONV2D: {
        to_nchw(b, s->in_hwc);
        const int64_t KH = s->kernel[0], KW = s->kernel[1], C = s->in_hwc[2], F = s->filters;
        float *w = arena_array(b->a, (size_t)s->nw, sizeof *w); /* [F, C, KH, KW] */
        for (int64_t ky = 0; ky < KH; ky++)
            for (int64_t kx = 0; kx < KW; kx++)
                for (int64_t c = 0; c < C; c++)
                    for (int64_t f = 0; f < F; f++)
                        w[((f * C + c) * KH + ky) * KW + kx] = s->w[((ky * KW + kx) * C + c) * F + f];
        const int64_t wd[] = {F, C, KH, KW}, bd[] = {F};
        pads_of(s, s->dilation[0], s->dilation[1], pads);
        node(b, "Conv", doc, b->cur, const_f(b, "kernel", wd, 4, w, s->nw),
             const_f(b, "bias", bd, 1, s->b, s->nb),
             attrs(b, attr_ints(b, "kernel_shape", s->kernel, 2),
                   attr_ints(b, "strides", s->stride, 2), attr_ints(b, "dilations", s->dilation, 2),
                   attr_ints(b, "pads", pads, 4), NULL));
        b->hwc[0] = s->out_hw[0];
        b->hwc[1] = s->out_hw[1];
        b->hwc[2] = F;
        return;
    }
    case EX_MAXPOOL2D:
    case EX_AVGPOOL2D:
        to_nchw(b, s->in_hwc);
        pads_of(s, 1, 1, pads);
        node(b, s->kind == EX_MAXPOOL2D ? "MaxPool" : "AveragePool", doc, b->cur, NULL, NULL,
             attrs(b, attr_ints(b, "kernel_shape", s->kernel, 2),
                   attr_ints(b, "strides", s->stride, 2), attr_ints(b, "pads", pads, 4),
                   s->kind == EX_AVGPOOL2D ? attr_int(b, "count_include_pad", 0) : NULL, NULL));
        b->hwc[0] = s->out_hw[0];
        b->hwc[1] = s->out_hw[1];
        return;
    case EX_GLOBAL_AVGPOOL2D:
    case EX_GLOBAL_MAXPOOL2D:
        to_nchw(b, s->in_hwc);
        node(b, s->kind == EX_GLOBAL_AVGPOOL2D ? "GlobalAveragePool" : "GlobalMaxPool", doc,
             b->cur, NULL, NULL, NULL);
        node(b, "Flatten", NULL, b->cur, NULL, NULL,
             attrs(b, attr_int(b, "axis", 1), NULL, NULL, NULL, NULL));
        b->lay = FLAT;
        return;
    case EX_SCALE_SHIFT: {
        if (b->lay == NCHW || s->cols == s->out) {
            /* a batchnorm kept (--no-fold): ONNX's own, on the channel axis 1 */
            const int64_t dims[] = {s->cols};
            const char *g = const_f(b, "gamma", dims, 1, s->bn[0], s->cols);
            const char *be = const_f(b, "beta", dims, 1, s->bn[1], s->cols);
            const char *mu = const_f(b, "mean", dims, 1, s->bn[2], s->cols);
            const char *var = const_f(b, "var", dims, 1, s->bn[3], s->cols);
            const char *cur = b->cur;
            Onnx__NodeProto *n = node(b, "BatchNormalization", doc, cur, g, be,
                                      attrs(b, attr_float(b, "epsilon", s->epsilon), NULL,
                                            NULL, NULL, NULL));
            /* X, scale, B, input_mean, input_var */
            n->input = arena_array(b->a, 5, sizeof *n->input);
            n->input[0] = (char *)cur;
            n->input[1] = (char *)g;
            n->input[2] = (char *)be;
            n->input[3] = (char *)mu;
            n->input[4] = (char *)var;
            n->n_input = 5;
            return;
        }
        /* over the last axis of a sample that is not flat: scale and shift */
        const char *scale = channel_const(b, "scale", s, s->w);
        const char *shift = channel_const(b, "shift", s, s->b);
        node(b, "Mul", doc, b->cur, scale, NULL, NULL);
        node(b, "Add", NULL, b->cur, shift, NULL, NULL);
        return;
    }
    case EX_GROUPNORM: {
        /* opset 13 has neither LayerNormalization (17) nor
         * GroupNormalization (18): [N, per, groups, ch / groups], the
         * mean and the biased variance over axes 1 and 3 (a layernorm:
         * [N * rows, 1, 1, ch]), then gamma and beta on [.., ch] */
        to_flat(b);
        const int64_t shape[] = {-1, s->per, s->ngroups, s->cols / s->ngroups};
        const int64_t axes[] = {1, 3}, rows[] = {-1, s->cols}, flat[] = {-1, s->out};
        const int64_t one[] = {1}, cd[] = {s->cols};
        node(b, "Reshape", doc, b->cur, const_i64(b, "shape", shape, 4), NULL, NULL);
        const char *x = b->cur;
        node(b, "ReduceMean", NULL, x, NULL, NULL,
             attrs(b, attr_ints(b, "axes", axes, 2), attr_int(b, "keepdims", 1), NULL, NULL,
                   NULL));
        node(b, "Sub", NULL, x, b->cur, NULL, NULL);
        const char *d = b->cur;
        node(b, "Mul", NULL, d, d, NULL, NULL);
        node(b, "ReduceMean", NULL, b->cur, NULL, NULL,
             attrs(b, attr_ints(b, "axes", axes, 2), attr_int(b, "keepdims", 1), NULL, NULL,
                   NULL));
        node(b, "Add", NULL, b->cur, const_f(b, "epsilon", one, 1, &s->epsilon, 1), NULL,
             NULL);
        node(b, "Sqrt", NULL, b->cur, NULL, NULL, NULL);
        node(b, "Div", NULL, d, b->cur, NULL, NULL);
        node(b, "Reshape", NULL, b->cur, const_i64(b, "shape", rows, 2), NULL, NULL);
        node(b, "Mul", NULL, b->cur, const_f(b, "gamma", cd, 1, s->w, s->cols), NULL, NULL);
        node(b, "Add", NULL, b->cur, const_f(b, "beta", cd, 1, s->b, s->cols), NULL, NULL);
        node(b, "Reshape", NULL, b->cur, const_i64(b, "shape", flat, 2), NULL, NULL);
        return;
    }
    case EX_NORMALIZE: {
        to_flat(b);
        const char *mean = channel_const(b, "mean", s, s->w);
        const char *sd = channel_const(b, "sd", s, s->b);
        node(b, "Sub", doc, b->cur, mean, NULL, NULL);
        node(b, "Div", NULL, b->cur, sd, NULL, NULL);
        return;
    }
    case EX_RESCALE: {
        const int64_t one[] = {1};
        node(b, "Mul", doc, b->cur, const_f(b, "scale", one, 1, &s->scale, 1), NULL, NULL);
        node(b, "Add", NULL, b->cur, const_f(b, "offset", one, 1, &s->offset, 1), NULL, NULL);
        return;
    }
    case EX_RELU:
        node(b, "Relu", doc, b->cur, NULL, NULL, NULL);
        return;
    case EX_LEAKY_RELU:
        node(b, "LeakyRelu", doc, b->cur, NULL, NULL,
             attrs(b, attr_float(b, "alpha", (float)s->alpha), NULL, NULL, NULL, NULL));
        return;
    case EX_SIGMOID:
        node(b, "Sigmoid", doc, b->cur, NULL, NULL, NULL);
        return;
    case EX_TANH:
        node(b, "Tanh", doc, b->cur, NULL, NULL, NULL);
        return;
    case EX_SOFTMAX:
        to_flat(b);
        if (s->cols == s->out) {
            node(b, "Softmax", doc, b->cur, NULL, NULL,
                 attrs(b, attr_int(b, "axis", -1), NULL, NULL, NULL, NULL));
            return;
        }
        { /* over the last axis of a sample that is not flat */
            const int64_t shape[] = {0, -1, s->cols};
            node(b, "Reshape", NULL, b->cur, const_i64(b, "shape", shape, 3), NULL, NULL);
            node(b, "Softmax", doc, b->cur, NULL, NULL,
                 attrs(b, attr_int(b, "axis", -1), NULL, NULL, NULL, NULL));
            node(b, "Flatten", NULL, b->cur, NULL, NULL,
                 attrs(b, attr_int(b, "axis", 1), NULL, NULL, NULL, NULL));
        }
        return;
    case EX_KIND_COUNT:
        break;
    }
    SEQC_BUG("an export step of no kind");
}

/* float32 [N, dims...] */
static Onnx__ValueInfoProto *value_info(ob *b, const char *n, const int64_t *dims, int ndims)
{
    Onnx__ValueInfoProto *v = arena_alloc(b->a, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = arena_strdup(b->a, n);
    Onnx__TypeProto *t = arena_alloc(b->a, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = arena_alloc(b->a, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__TensorShapeProto *sh = arena_alloc(b->a, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)ndims + 1;
    sh->dim = arena_array(b->a, sh->n_dim, sizeof *sh->dim);
    for (int d = 0; d <= ndims; d++) {
        Onnx__TensorShapeProto__Dimension *dim = arena_alloc(b->a, sizeof *dim);
        onnx__tensor_shape_proto__dimension__init(dim);
        if (d == 0) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim->dim_param = arena_strdup(b->a, "N");
        } else {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = dims[d - 1];
        }
        sh->dim[d] = dim;
    }
    tt->shape = sh;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

static Onnx__StringStringEntryProto *meta(ob *b, const char *k, const char *v)
{
    Onnx__StringStringEntryProto *e = arena_alloc(b->a, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = arena_strdup(b->a, k);
    e->value = arena_strdup(b->a, v ? v : "");
    return e;
}

unsigned char *export_onnx_bytes(const ex_plan *p, const export_info *info, size_t *len)
{
    arena a;
    arena_init(&a);
    ob b = {.a = &a, .cap = (size_t)p->nsteps * 16 + 16};
    b.nodes = arena_array(&a, b.cap, sizeof *b.nodes);
    b.inits = arena_array(&a, b.cap, sizeof *b.inits);
    b.cur = "input";
    b.lay = FLAT;
    const ir_model *ir = p->ir;
    if (ir->input_ndims > 1)
        node(&b, "Flatten", "the input as seqc's flat sample", b.cur, NULL, NULL,
             attrs(&b, attr_int(&b, "axis", 1), NULL, NULL, NULL, NULL));
    for (int k = 0; k < p->nsteps; k++)
        put_step(&b, &p->steps[k]);
    to_flat(&b);
    node(&b, "Identity", NULL, b.cur, NULL, NULL, NULL);
    b.nodes[b.nnodes - 1]->output[0] = "output";

    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = (char *)ir->name;
    g.doc_string = arena_printf(&a, "model '%s' from %s, batchnorm %s", ir->name, info->source,
                                p->folded ? "folded" : "not folded (--no-fold)");
    g.n_node = b.nnodes;
    g.node = b.nodes;
    g.n_initializer = b.ninits;
    g.initializer = b.inits;
    Onnx__ValueInfoProto *in = value_info(&b, "input", ir->input_dims, ir->input_ndims);
    Onnx__ValueInfoProto *out = value_info(&b, "output", &p->outputs, 1);
    g.n_input = 1;
    g.input = &in;
    g.n_output = 1;
    g.output = &out;

    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = ONNX_OPSET;
    Onnx__OperatorSetIdProto *opsets[] = {&opset};

    Onnx__StringStringEntryProto *props[] = {
        meta(&b, "model_name", ir->name), meta(&b, "seqc_version", info->version),
        meta(&b, "source", info->source), meta(&b, "checkpoint", info->checkpoint),
        meta(&b, "batchnorm", p->folded ? "folded" : "not folded"),
    };
    Onnx__ModelProto m;
    onnx__model_proto__init(&m);
    m.has_ir_version = 1;
    m.ir_version = ONNX_IR_VERSION;
    m.n_opset_import = 1;
    m.opset_import = opsets;
    m.producer_name = "seqc";
    m.producer_version = (char *)info->version;
    m.has_model_version = 1;
    m.model_version = 1;
    m.doc_string = arena_printf(&a, "%s, exported by seqc %s from %s and %s", ir->name,
                                info->version, info->source, info->checkpoint);
    m.graph = &g;
    m.n_metadata_props = sizeof props / sizeof *props;
    m.metadata_props = props;

    *len = onnx__model_proto__get_packed_size(&m);
    unsigned char *bytes = malloc(*len ? *len : 1);
    if (bytes)
        onnx__model_proto__pack(&m, bytes);
    arena_free(&a);
    return bytes;
}
