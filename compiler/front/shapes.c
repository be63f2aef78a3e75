/*
 * shapes.c: shape inference and the rules about the model as a whole
 * (shapes.h). The one place that knows how a layer changes a sample's
 * shape and how many parameters it holds.
 */
#include "front/shapes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "front/names.h"
#include "front/summary.h"

/* Keyword length, for underlining the layer a diagnostic is about */
static int kw_span(const layer *l)
{
    return l->kw_len > 0 ? l->kw_len : (int)strlen(layer_kind_name(l->kind));
}

/* *acc += x; 0 when the sum does not fit */
static int add_u64(uint64_t *acc, uint64_t x)
{
    if (*acc > UINT64_MAX - x)
        return 0;
    *acc += x;
    return 1;
}

/* a * b, or UINT64_MAX when it does not fit (memory estimates saturate) */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static void set_dims(layer_shape *s, int ndims, const int64_t *dims)
{
    s->ndims = ndims;
    memcpy(s->dims, dims, sizeof s->dims);
    s->size = 1;
    for (int i = 0; i < ndims; i++)
        s->size *= dims[i]; /* the check pass bounds the product by SHAPES_MAX_SIZE */
    s->groups = ndims > 0 ? s->size / dims[ndims - 1] : 1;
}

/* "28x28x1" */
static const char *shape_str(const layer_shape *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->ndims && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "x" : "",
                                 (long long)s->dims[i]);
    return buf;
}

static bool is_conv_or_pool(layer_kind k)
{
    return k == LAYER_CONV2D || k == LAYER_MAXPOOL2D || k == LAYER_AVGPOOL2D;
}

static bool is_global_pool(layer_kind k)
{
    return k == LAYER_GLOBAL_AVGPOOL2D || k == LAYER_GLOBAL_MAXPOOL2D;
}

/* One spatial axis of a convolution or pool, as Keras/TensorFlow compute
 * it: `valid` gives floor((in - span) / stride) + 1 (0 when the span,
 * (k - 1) * dilation + 1, is wider than the input) and no padding;
 * `same` gives ceil(in / stride) and pads max((out - 1) * stride + span -
 * in, 0) in all, half of it (rounded down) before the first row. */
static int64_t axis_out(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same,
                        int64_t *pad_before)
{
    /* every value <= SHAPES_MAX_SIZE: no product below overflows */
    int64_t span = (k - 1) * dilation + 1;
    *pad_before = 0;
    if (!same)
        return in < span ? 0 : (in - span) / stride + 1;
    int64_t out = (in + stride - 1) / stride;
    int64_t total = (out - 1) * stride + span - in;
    *pad_before = total > 0 ? total / 2 : 0;
    return out;
}

/* The output shape and parameters of l, given the shape it reads. */
static void infer_layer(layer *l, const layer_shape *in, layer_shape *out)
{
    memset(out, 0, sizeof *out);
    switch (l->kind) {
    case LAYER_CONV2D:
    case LAYER_MAXPOOL2D:
    case LAYER_AVGPOOL2D: {
        /* check_image has made sure in is HxWxC and the output not empty */
        int64_t dims[AST_MAX_DIMS] = {0};
        memcpy(l->in_dims, in->dims, sizeof l->in_dims);
        for (int a = 0; a < 2; a++)
            dims[a] = axis_out(in->dims[a], l->kernel[a], l->stride[a], l->dilation[a], l->same,
                               &l->pad[a]);
        dims[2] = l->kind == LAYER_CONV2D ? l->filters : in->dims[2];
        set_dims(out, 3, dims);
        if (l->kind == LAYER_CONV2D) {
            /* Keras: kernel [kh, kw, cin, filters] (+ bias [filters]); each
             * factor <= 2^31 and kh*kw*cin <= 2^31 (check_image): < 2^62 */
            uint64_t filters = (uint64_t)l->filters;
            uint64_t patch = (uint64_t)l->kernel[0] * (uint64_t)l->kernel[1] *
                             (uint64_t)in->dims[2];
            out->params = patch * filters + (l->bias ? filters : 0);
            out->trainable = out->params;
        }
        return;
    }
    case LAYER_GLOBAL_AVGPOOL2D:
    case LAYER_GLOBAL_MAXPOOL2D:
        memcpy(l->in_dims, in->dims, sizeof l->in_dims);
        set_dims(out, 1, (int64_t[AST_MAX_DIMS]){in->dims[2]});
        return;
    case LAYER_INPUT:
        set_dims(out, l->ndims, l->dims);
        return;
    case LAYER_FLATTEN:
        set_dims(out, 1, (int64_t[AST_MAX_DIMS]){in->size});
        return;
    case LAYER_DENSE: {
        /* in->size, units <= SHAPES_MAX_SIZE: in * units + units < 2^63 */
        uint64_t units = (uint64_t)l->units;
        set_dims(out, 1, (int64_t[AST_MAX_DIMS]){l->units});
        out->params = (uint64_t)in->size * units + (l->bias ? units : 0);
        out->trainable = out->params;
        return;
    }
    case LAYER_BATCHNORM: {
        /* one feature per value of the last axis (Keras, axis=-1): gamma
         * (scale=true) and beta (center=true) are trained, the moving mean
         * and variance are not; a frozen layer trains nothing (Keras's
         * trainable=False counts all four as non-trainable) */
        uint64_t features = (uint64_t)(in->size / in->groups);
        uint64_t affine = (uint64_t)l->center + (uint64_t)l->gamma;
        *out = *in;
        out->params = (2 + affine) * features;
        out->trainable = l->frozen ? 0 : affine * features;
        return;
    }
    case LAYER_LAYERNORM:
    case LAYER_GROUPNORM: {
        /* Keras: gamma and beta per channel of the last axis, both trained;
         * no moving statistics */
        uint64_t features = (uint64_t)(in->size / in->groups);
        *out = *in;
        out->params = ((uint64_t)l->center + (uint64_t)l->gamma) * features;
        out->trainable = out->params;
        return;
    }
    case LAYER_NORMALIZE: {
        /* Keras Normalization(axis=-1): a mean and a variance per feature
         * of the last axis, learned from the data before training, never
         * by the optimizer. (Keras also keeps a `count` scalar and shows
         * 2F+1 parameters; seqc keeps no count: 2F.) */
        uint64_t features = (uint64_t)(in->size / in->groups);
        *out = *in;
        out->params = 2 * features;
        out->trainable = 0;
        return;
    }
    default: /* activations, dropout and rescale keep the shape */
        *out = *in;
        out->params = out->trainable = 0;
        return;
    }
}

/* Floats per sample the layer adds to a training step: its output, the
 * output's gradient and what it saves for backward (an upper bound: the
 * memory plan shares buffers whose lives do not overlap). */
static uint64_t act_floats(const layer *l)
{
    uint64_t n = (uint64_t)l->out.size;
    switch (l->kind) {
    case LAYER_INPUT:     return n;                 /* the batch's x */
    case LAYER_FLATTEN:   return 0;                 /* a view */
    case LAYER_BATCHNORM: /* + xhat, inv_std (a ghost batch: per group, at most n) */
        return l->virtual_batch ? 4 * n
               : 3 * n + (l->renorm ? 3 : 1) * (n / (uint64_t)l->out.groups); /* renorm: r, d */
    case LAYER_LAYERNORM: return 3 * n + (uint64_t)l->out.groups; /* + xhat, inv_std per row */
    case LAYER_GROUPNORM: return 3 * n + (uint64_t)l->norm_groups; /* + xhat, inv_std */
    case LAYER_DROPOUT:   return 3 * n;             /* + mask */
    case LAYER_MAXPOOL2D:
    case LAYER_GLOBAL_MAXPOOL2D:
        return 3 * n;                               /* + argmax */
    case LAYER_CONV2D: /* + forward's and backward's scratch (shapes.h) */
        return add_sat(2 * n, mul_sat(2, shapes_conv_scratch(l)));
    default:              return 2 * n;
    }
}

/* Bytes that p parameters, t of them trained, take with the gradients and
 * the optimizer's state of the trained ones */
static uint64_t param_bytes(const train_recipe *r, uint64_t p, uint64_t t)
{
    uint64_t state = r->optimizer == SEQRT_OPT_ADAM ? 2 : r->momentum != 0 ? 1 : 0;
    return add_sat(mul_sat(p, sizeof(float)), mul_sat(t, (1 + state) * sizeof(float)));
}

static double gib(uint64_t bytes) { return (double)bytes / (double)((uint64_t)1 << 30); }

/* Memory to train, and the layer that needs the most of it. */
static void check_memory(diag *d, model *m, model_goal goal)
{
    const train_recipe *r = &m->train;
    uint64_t total = 0, worst = 0; /* bytes */
    const layer *worst_layer = &m->layers[0];
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        uint64_t b = add_sat(param_bytes(r, l->out.params, l->out.trainable),
                             mul_sat(mul_sat(act_floats(l), (uint64_t)r->batch), sizeof(float)));
        total = add_sat(total, b);
        if (b > worst) {
            worst = b;
            worst_layer = l;
        }
    }
    m->train_bytes = total;
    if (total <= SHAPES_MAX_TRAIN_BYTES)
        return;
    char what[64] = "its activations";
    if (worst_layer->out.params > 0) {
        char n[32];
        snprintf(what, sizeof what, "%s parameters",
                 summary_commas(worst_layer->out.params, n, sizeof n));
    }
    void (*report)(diag *, src_loc, int, const char *, ...) =
        goal == MODEL_TO_TRAIN ? diag_error : diag_warning;
    report(d, worst_layer->loc, kw_span(worst_layer),
           "the model is too large to train: with %s and a batch of %lld it needs %.1f GiB of "
           "memory, more than the limit of %.0f GiB; most of it for this '%s' (%s)",
           optimizer_kind_name(r->optimizer), (long long)r->batch, gib(total),
           gib(SHAPES_MAX_TRAIN_BYTES), layer_kind_name(worst_layer->kind), what);
}

/* The layer that set the output's width: the last dense, else the input */
static const layer *width_setter(const model *m)
{
    const layer *setter = &m->layers[0];
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == LAYER_DENSE || m->layers[i].kind == LAYER_FLATTEN ||
            m->layers[i].kind == LAYER_CONV2D || is_global_pool(m->layers[i].kind))
            setter = &m->layers[i];
    return setter;
}

/* The layer whose values the loss reads: the last one that is not a
 * flatten (a view) */
static const layer *output_layer(const model *m)
{
    size_t i = m->nlayers - 1;
    while (i > 0 && m->layers[i].kind == LAYER_FLATTEN)
        i--;
    return &m->layers[i];
}

/* Reports at the loss's name when written, else at `at` naming the loss
 * as the default: "LOSS ..." / "the default loss LOSS ..." */
static void loss_error(diag *d, const model *m, const layer *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void loss_error(diag *d, const model *m, const layer *at, const char *fmt, ...)
{
    const train_recipe *r = &m->train;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->loss_loc.line > 0)
        diag_error(d, r->loss_loc, r->loss_len, "%s %s", loss_kind_name(r->loss), msg);
    else
        diag_error(d, at->loc, kw_span(at), "the default loss %s %s", loss_kind_name(r->loss),
                   msg);
}

/* The output against the loss (Keras's pairings, docs/language.md):
 *   - flat: one row of outputs per sample;
 *   - sparse and categorical cross-entropy: at least 2 outputs;
 *   - a cross-entropy reads probabilities: the model ends in softmax (the
 *     categorical ones) or sigmoid (binary), unless from_logits=true, and
 *     then it must not (the loss applies it);
 *   - the regression losses take any output.
 * Returns 0 after reporting. */
static int check_output(diag *d, const model *m)
{
    const layer *last = &m->layers[m->nlayers - 1];
    const layer_shape *out = &last->out;
    const train_recipe *r = &m->train;
    if (out->groups != 1) {
        char shape[96];
        shape_str(out, shape, sizeof shape);
        diag_error(d, last->loc, kw_span(last),
                   "the model's output is not flat: each sample ends as %s values, but the "
                   "loss needs one row of outputs per sample; end the model with a 'dense' "
                   "layer (or add 'flatten')",
                   shape);
        diag_note(d, m->layers[0].loc, kw_span(&m->layers[0]),
                  "a sample keeps the input's shape until a 'flatten' or 'dense'");
        return 0;
    }
    const layer *setter = width_setter(m);
    bool categorical = r->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ||
                       r->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY;
    const int min_outputs = 2;
    if (categorical && out->size < min_outputs) {
        loss_error(d, m, setter,
                   "needs at least %d outputs (one per class), but the model has %lld%s",
                   min_outputs, (long long)out->size,
                   r->loss_loc.line > 0 ? ""
                                        : "; for one yes/no output use binary_crossentropy");
        if (r->loss_loc.line > 0)
            diag_note(d, setter->loc, kw_span(setter),
                      "the output width is set here; for one yes/no output use "
                      "binary_crossentropy");
        return 0;
    }
    if (!loss_is_crossentropy(r->loss))
        return 1;
    const layer *end = output_layer(m);
    layer_kind link = r->loss == SEQRT_LOSS_BINARY_CROSSENTROPY ? LAYER_SIGMOID : LAYER_SOFTMAX;
    bool ends_in_link = end->kind == LAYER_SOFTMAX || end->kind == LAYER_SIGMOID;
    if (r->from_logits) {
        if (!ends_in_link)
            return 1;
        diag_error(d, end->loc, kw_span(end),
                   "the model ends in '%s', but with from_logits=true the loss applies %s "
                   "itself; remove this '%s' (or drop from_logits=true)",
                   layer_kind_name(end->kind), layer_kind_name(link), layer_kind_name(end->kind));
        diag_note(d, r->from_logits_loc, (int)strlen("from_logits"), "from_logits is set here");
        return 0;
    }
    if (end->kind == link)
        return 1;
    if (ends_in_link) /* the other one: softmax before binary, sigmoid before categorical */
        loss_error(d, m, end,
                   "needs %s probabilities, but the model ends in '%s'; end it with '%s'%s",
                   layer_kind_name(link), layer_kind_name(end->kind), layer_kind_name(link),
                   link == LAYER_SIGMOID ? " (one independent probability per output)"
                                         : " (probabilities that sum to 1)");
    else
        loss_error(d, m, end,
                   "needs probabilities, but the model ends in '%s'; end it with '%s', or "
                   "write 'from_logits=true' after the loss to have the loss apply %s itself",
                   layer_kind_name(end->kind), layer_kind_name(link), layer_kind_name(link));
    if (r->loss_loc.line > 0)
        diag_note(d, end->loc, kw_span(end), "the model's output comes from here");
    return 0;
}

/* The metrics against the loss and the output. `accuracy` is resolved
 * here as Keras resolves it: binary accuracy for binary_crossentropy,
 * (sparse) categorical accuracy for the other cross-entropies. Returns 0
 * after reporting. */
static int check_metrics(diag *d, model *m)
{
    train_recipe *r = &m->train;
    int64_t outputs = shapes_output(m)->size;
    bool binary = r->loss == SEQRT_LOSS_BINARY_CROSSENTROPY;
    bool categorical = r->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ||
                       r->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY;
    int ok = 1;
    for (int i = 0; i < r->nmetrics; i++) {
        struct train_metric *mt = &r->metrics[i];
        int written = names_find(&names_metric, mt->name);
        if (written < 0)
            SEQC_BUG("metric '%s' has no kind", mt->name);
        mt->kind = (metric_kind)written;
        const char *why = NULL;
        switch (mt->kind) {
        case SEQRT_METRIC_ACCURACY:
            if (binary)
                mt->kind = SEQRT_METRIC_BINARY_ACCURACY;
            else if (!categorical)
                why = "needs a classification loss (a cross-entropy); for a regression loss "
                      "use mae, mse or rmse";
            break;
        case SEQRT_METRIC_TOP_K:
            if (!categorical)
                why = "needs sparse_categorical_crossentropy or categorical_crossentropy";
            else if (mt->k >= outputs) {
                diag_error(d, r->k_loc.line > 0 ? r->k_loc : mt->loc,
                           r->k_loc.line > 0 ? r->k_len : mt->len,
                           "%s with k=%d: k must be less than the model's %lld outputs (with "
                           "k >= outputs every sample counts as correct)",
                           mt->name, mt->k, (long long)outputs);
                ok = 0;
            }
            break;
        case SEQRT_METRIC_BINARY_ACCURACY:
        case SEQRT_METRIC_AUC:
            if (!binary)
                why = categorical ? "needs binary_crossentropy; for classes use accuracy"
                                  : "needs binary_crossentropy (targets of 0 and 1)";
            break;
        case SEQRT_METRIC_MAE:
        case SEQRT_METRIC_MSE:
        case SEQRT_METRIC_RMSE:
            if (r->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
                why = "compares the outputs with target rows, and "
                      "sparse_categorical_crossentropy's targets are class numbers";
            break;
        case SEQRT_METRIC_COUNT_:
            SEQC_BUG("metric of no kind");
        }
        if (why) {
            diag_error(d, mt->loc, mt->len, "metric '%s' %s; the loss is %s", mt->name, why,
                       loss_kind_name(r->loss));
            ok = 0;
        }
    }
    return ok;
}

/* normalize (Keras Normalization, statistics of the raw data) comes before
 * anything that changes the values other than rescale: only input,
 * flatten and rescale before it; at most one. Returns 0 after reporting. */
static int check_normalize(diag *d, const model *m)
{
    const layer *first = NULL, *changer = NULL;
    int ok = 1;
    for (size_t i = 1; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        if (l->kind == LAYER_NORMALIZE) {
            if (first) {
                diag_error(d, l->loc, kw_span(l),
                           "a second 'normalize'; a model normalizes its input once");
                diag_note(d, first->loc, kw_span(first), "the first 'normalize' is here");
                ok = 0;
                continue;
            }
            first = l;
            if (changer) {
                diag_error(d, l->loc, kw_span(l),
                           "'normalize' learns the statistics of the input, so it comes "
                           "before any other layer (only 'flatten' and 'rescale' may come "
                           "first); move it above this '%s'",
                           layer_kind_name(changer->kind));
                diag_note(d, changer->loc, kw_span(changer), "'%s' is here",
                          layer_kind_name(changer->kind));
                ok = 0;
            }
        } else if (!changer && l->kind != LAYER_FLATTEN && l->kind != LAYER_RESCALE) {
            changer = l;
        }
    }
    return ok;
}

/* batchnorm and softmax on a sample that is not flat yet see batch *
 * groups rows, and a conv2d's GEMM batch * oh * ow: the runtime's int must
 * hold that. Returns 0 after reporting. */
static int check_rows(diag *d, const model *m, const layer *l)
{
    if (l->kind != LAYER_BATCHNORM && l->kind != LAYER_SOFTMAX && l->kind != LAYER_CONV2D &&
        l->kind != LAYER_LAYERNORM && l->kind != LAYER_GROUPNORM)
        return 1;
    uint64_t rows = (uint64_t)l->out.groups * (uint64_t)m->train.batch;
    if (rows <= SHAPES_MAX_SIZE)
        return 1;
    if (l->kind == LAYER_CONV2D) {
        diag_error(d, l->loc, kw_span(l),
                   "'conv2d' computes %lld output positions per sample here, %llu for a batch "
                   "of %lld, more than the limit of %d; use a smaller batch",
                   (long long)l->out.groups, (unsigned long long)rows,
                   (long long)m->train.batch, SHAPES_MAX_SIZE);
        return 0;
    }
    diag_error(d, l->loc, kw_span(l),
               "'%s' works on the last axis: %lld rows per sample here, %llu for a batch of "
               "%lld, more than the limit of %d; add 'flatten' before it or use a smaller batch",
               layer_kind_name(l->kind), (long long)l->out.groups, (unsigned long long)rows,
               (long long)m->train.batch, SHAPES_MAX_SIZE);
    return 0;
}

/* The largest divisor of c that is at most g */
static int64_t divisor_below(int64_t c, int64_t g)
{
    for (int64_t k = g < c ? g : c; k > 1; k--)
        if (c % k == 0)
            return k;
    return 1;
}

/* groupnorm's groups divide the channels (the last axis, Keras's
 * GroupNormalization); batchnorm's virtual_batch divides the train
 * block's batch. Returns 0 after reporting. */
static int check_norm(diag *d, const model *m, const layer *l, const layer_shape *in)
{
    if (l->kind == LAYER_GROUPNORM) {
        int64_t c = in->size / in->groups, g = l->norm_groups;
        if (c % g == 0)
            return 1;
        bool written = l->norm_groups_len != kw_span(l) ||
                       l->norm_groups_loc.col != l->loc.col ||
                       l->norm_groups_loc.line != l->loc.line;
        if (g > c)
            diag_error(d, l->norm_groups_loc, l->norm_groups_len,
                       "'groupnorm' %s %lld groups, but the sample here has only %lld "
                       "channels on its last axis; write groups=G with G dividing %lld, e.g. "
                       "groups=%lld",
                       written ? "asks for" : "makes Keras's default of", (long long)g,
                       (long long)c, (long long)c, (long long)divisor_below(c, g));
        else
            diag_error(d, l->norm_groups_loc, l->norm_groups_len,
                       "'groupnorm' %s %lld groups, which do not divide the %lld channels of "
                       "the last axis; write groups=G with G dividing %lld, e.g. groups=%lld",
                       written ? "asks for" : "makes Keras's default of", (long long)g,
                       (long long)c, (long long)c, (long long)divisor_below(c, g));
        return 0;
    }
    if (l->kind != LAYER_BATCHNORM || l->virtual_batch == 0)
        return 1;
    /* one sample per ghost batch of a flat sample: every variance is 0 and
     * the output is beta (an image's positions still give statistics) */
    bool flat = in->groups == 1;
    if (flat && l->virtual_batch == 1) {
        diag_error(d, l->virtual_batch_loc, l->virtual_batch_len,
                   "virtual_batch=1 normalizes each sample alone: with one value per feature "
                   "the variance is 0 and batchnorm outputs beta; use 2 samples or more, or "
                   "'layernorm' to normalize each sample on its own");
        return 0;
    }
    if (m->train.batch % l->virtual_batch != 0) {
        int64_t e = divisor_below(m->train.batch, l->virtual_batch);
        if (flat && e == 1)
            e = m->train.batch; /* one group: plain batchnorm */
        diag_error(d, l->virtual_batch_loc, l->virtual_batch_len,
                   "virtual_batch=%lld does not divide the batch of %lld samples; the ghost "
                   "batches split each batch into equal groups (e.g. virtual_batch=%lld)",
                   (long long)l->virtual_batch, (long long)m->train.batch, (long long)e);
        return 0;
    }
    return 1;
}

uint64_t shapes_conv_scratch(const layer *l)
{
    if (l->kind != LAYER_CONV2D)
        return 0;
    /* the runtime's own formula (seqrt.h): oh * ow rows of kh * kw * cin,
     * and the partial sums of dW and db */
    uint64_t patch = mul_sat(mul_sat((uint64_t)l->kernel[0], (uint64_t)l->kernel[1]),
                             (uint64_t)l->in_dims[2]);
    return seqrt_conv2d_scratch_floats((uint64_t)l->out.groups, patch, (uint64_t)l->filters);
}

/* What conv2d and the pools need of the sample they read (an image
 * HxWxC, big enough for the kernel), and dense after them (a flatten or
 * a global pool first). in is the previous layer's output; spatial the
 * last conv2d or pool since the last flatten or dense (NULL: none).
 * Returns 0 after reporting. */
static int check_image(diag *d, const model *m, const layer *l, const layer_shape *in,
                       const layer *spatial)
{
    char shape[96];
    const char *kw = layer_kind_name(l->kind);
    shape_str(in, shape, sizeof shape);
    if (l->kind == LAYER_DENSE) {
        if (!spatial || in->ndims != 3)
            return 1;
        diag_error(d, l->loc, kw_span(l),
                   "'dense' after '%s' would read a %s image; add 'flatten' (or a global "
                   "pool) before it: Keras applies Dense to the last axis of each position, "
                   "so seqc asks which one is meant",
                   layer_kind_name(spatial->kind), shape);
        diag_note(d, spatial->loc, kw_span(spatial), "the image comes from here");
        return 0;
    }
    if (!is_conv_or_pool(l->kind) && !is_global_pool(l->kind))
        return 1;
    if (in->ndims != 3) {
        const layer *input = &m->layers[0];
        if (in->ndims == 2 && l > input && input->out.ndims == 2 && in->size == input->out.size)
            diag_error(d, l->loc, kw_span(l),
                       "'%s' needs an image HEIGHTxWIDTHxCHANNELS, but the sample here is %s; "
                       "for one channel write 'input %sx1'",
                       kw, shape, shape);
        else if (in->ndims == 1) {
            /* the layer that made the sample flat, if not the input */
            const layer *flat = NULL;
            for (const layer *p = l - 1; p > input && !flat; p--)
                if (p->kind == LAYER_FLATTEN || p->kind == LAYER_DENSE || is_global_pool(p->kind))
                    flat = p;
            if (flat) {
                diag_error(d, l->loc, kw_span(l),
                           "'%s' needs an image HEIGHTxWIDTHxCHANNELS, but the sample here is "
                           "flat (%s values) since the '%s' on line %d; convolutions and pools "
                           "come before 'flatten', 'dense' and the global pools",
                           kw, shape, layer_kind_name(flat->kind), flat->line);
                return 0;
            }
            diag_error(d, l->loc, kw_span(l),
                       "'%s' needs an image HEIGHTxWIDTHxCHANNELS, but the sample here is flat "
                       "(%s values); write the input's shape as HxWxC, e.g. 28x28x1",
                       kw, shape);
        } else
            diag_error(d, l->loc, kw_span(l),
                       "'%s' needs an image HEIGHTxWIDTHxCHANNELS, but the sample here is %s "
                       "(%d dimensions)",
                       kw, shape, in->ndims);
        diag_note(d, input->loc, kw_span(input), "the input's shape is given here");
        return 0;
    }
    if (is_global_pool(l->kind))
        return 1;
    for (int a = 0; a < 2; a++)
        if ((uint64_t)(l->kernel[a] - 1) * (uint64_t)l->dilation[a] + 1 > SHAPES_MAX_SIZE) {
            diag_error(d, l->loc, kw_span(l),
                       "'conv2d' kernel %lldx%lld dilated by %lldx%lld spans more than %d %s",
                       (long long)l->kernel[0], (long long)l->kernel[1],
                       (long long)l->dilation[0], (long long)l->dilation[1], SHAPES_MAX_SIZE,
                       a == 0 ? "rows" : "columns");
            return 0;
        }
    int64_t out[2], pad;
    for (int a = 0; a < 2; a++)
        out[a] = axis_out(in->dims[a], l->kernel[a], l->stride[a], l->dilation[a], l->same, &pad);
    if (out[0] == 0 || out[1] == 0) {
        int a = out[0] == 0 ? 0 : 1;
        int64_t span = (l->kernel[a] - 1) * l->dilation[a] + 1;
        const char *axis = a == 0 ? "rows" : "columns";
        if (l->kind == LAYER_CONV2D && l->dilation[a] > 1)
            diag_error(d, l->loc, kw_span(l),
                       "'conv2d' kernel %lldx%lld dilated by %lld spans %lld %s, more than the "
                       "%s image it reads has; with padding=valid it leaves 0 %s (use a "
                       "smaller kernel or dilation, or padding=same)",
                       (long long)l->kernel[0], (long long)l->kernel[1],
                       (long long)l->dilation[a], (long long)span, axis, shape, axis);
        else if (l->kind == LAYER_CONV2D)
            diag_error(d, l->loc, kw_span(l),
                       "'conv2d' kernel %lldx%lld is larger than the %s image it reads; with "
                       "padding=valid it leaves 0 %s (use a smaller kernel, or padding=same)",
                       (long long)l->kernel[0], (long long)l->kernel[1], shape, axis);
        else
            diag_error(d, l->loc, kw_span(l),
                       "'%s' %lldx%lld is larger than the %s image it reads; with "
                       "padding=valid it leaves 0 %s (use a smaller pool, or padding=same)",
                       kw, (long long)l->kernel[0], (long long)l->kernel[1], shape, axis);
        return 0;
    }
    int64_t c = l->kind == LAYER_CONV2D ? l->filters : in->dims[2];
    uint64_t values = (uint64_t)out[0] * (uint64_t)out[1]; /* < 2^62 */
    if (values > SHAPES_MAX_SIZE || values * (uint64_t)c > SHAPES_MAX_SIZE) {
        diag_error(d, l->loc, kw_span(l),
                   "'%s' outputs %lldx%lldx%lld values per sample from the %s image it reads, "
                   "more than the limit of %d",
                   kw, (long long)out[0], (long long)out[1], (long long)c, shape,
                   SHAPES_MAX_SIZE);
        return 0;
    }
    if (l->kind == LAYER_CONV2D) {
        uint64_t patch = (uint64_t)l->kernel[0] * (uint64_t)l->kernel[1];
        if (patch > SHAPES_MAX_SIZE || patch * (uint64_t)in->dims[2] > SHAPES_MAX_SIZE) {
            diag_error(d, l->loc, kw_span(l),
                       "'conv2d' kernel %lldx%lld on the %s image it reads takes %llu values "
                       "per output position (rows x columns x channels), more than the limit "
                       "of %d",
                       (long long)l->kernel[0], (long long)l->kernel[1], shape,
                       (unsigned long long)mul_sat(patch, (uint64_t)in->dims[2]),
                       SHAPES_MAX_SIZE);
            return 0;
        }
    }
    return 1;
}

bool layer_uses_batch_stats(const layer *l)
{
    return l->kind == LAYER_BATCHNORM && !l->frozen;
}

/* batch 1 with a layer that normalizes by the batch's own statistics:
 * the variance of one sample is 0, so the layer outputs exactly beta
 * and nothing before it learns. */
static int check_batch_of_one(diag *d, const model *m)
{
    const train_recipe *r = &m->train;
    const layer *first = NULL;
    int count = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        if (layer_uses_batch_stats(&m->layers[i])) {
            count++;
            if (!first)
                first = &m->layers[i];
        }
    if (count == 0 && r->recalibrate_bn && r->recalibrate_loc.line > 0)
        diag_warning(d, r->recalibrate_loc, (int)strlen("recalibrate_bn"),
                     "recalibrate_bn true, but no layer normalizes by batch statistics "
                     "(no batchnorm): there is nothing to recalibrate");
    if (count > 0 && r->recalibrate_bn && r->recalibrate_loc.line > 0 &&
        (r->early_stopping.enabled || r->save_best)) {
        diag_error(d, r->recalibrate_loc, (int)strlen("recalibrate_bn"),
                   "recalibrate_bn with %s: recalibration recomputes the statistics of the "
                   "last epoch's weights, %s; use one or the other",
                   r->early_stopping.enabled ? "early_stopping" : "save_best",
                   r->early_stopping.enabled
                       ? "and early stopping may end the run first or keep another epoch's"
                       : "but save_best saves another epoch's");
        return 0;
    }
    if (r->batch != 1 || count == 0)
        return 1;
    diag_error(d, r->batch_loc, r->batch_len,
               "batch 1 with batchnorm: a batch of 1 sample makes batchnorm normalize it by "
               "its own mean and variance (0), so it outputs exactly beta and the layers before "
               "it learn nothing; use a batch of 2 or more");
    if (count == 1)
        diag_note(d, first->loc, kw_span(first),
                  "the layer that normalizes by the batch's own statistics");
    else
        diag_note(d, first->loc, kw_span(first),
                  "the first of %d layers that normalize by the batch's own statistics", count);
    return 0;
}

int shapes_check(diag *d, model *m, model_goal goal)
{
    int errors = d->errors;
    memset(&m->counts, 0, sizeof m->counts);
    m->train_bytes = 0;
    m->shaped = false;
    if (m->nlayers == 0 || m->layers[0].kind != LAYER_INPUT)
        SEQC_BUG("shapes of a model without its input layer");

    const layer_shape *in = NULL;
    const layer *spatial = NULL; /* the last conv2d or pool before a flatten or dense */
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        /* the shapes after a wrong one would only repeat it */
        if (i > 0 && (!check_image(d, m, l, in, spatial) || !check_norm(d, m, l, in)))
            return 1;
        if (is_conv_or_pool(l->kind))
            spatial = l;
        else if (l->kind == LAYER_FLATTEN || l->kind == LAYER_DENSE || is_global_pool(l->kind))
            spatial = NULL;
        infer_layer(l, in, &l->out);
        in = &l->out;
        model_counts *c = &m->counts;
        if (!add_u64(&c->total, l->out.params) || !add_u64(&c->trainable, l->out.trainable) ||
            !add_u64(&c->non_trainable, l->out.params - l->out.trainable)) {
            diag_error(d, l->loc, kw_span(l),
                       "the model has more parameters than a 64-bit count can hold");
            return 1;
        }
        check_rows(d, m, l);
    }
    if (d->errors != errors)
        return 1;
    if (m->counts.trainable == 0) {
        diag_error(d, m->layers[0].loc, kw_span(&m->layers[0]),
                   "the model has nothing to train: add a 'dense' layer");
        return 1;
    }
    /* independent rules: each reports its own mistakes */
    int ok = check_normalize(d, m);
    ok &= check_output(d, m);
    check_batch_of_one(d, m);
    if (ok)
        check_metrics(d, m);
    check_memory(d, m, goal);
    m->shaped = d->errors == errors;
    return !m->shaped;
}
