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
static int kw_span(const layer *l) { return (int)strlen(layer_kind_name(l->kind)); }

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

/* The output shape and parameters of l, given the shape it reads. */
static void infer_layer(const layer *l, const layer_shape *in, layer_shape *out)
{
    memset(out, 0, sizeof *out);
    switch (l->kind) {
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
         * and beta are trained, the moving mean and variance are not */
        uint64_t features = (uint64_t)(in->size / in->groups);
        *out = *in;
        out->params = 4 * features;
        out->trainable = 2 * features;
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
    case LAYER_BATCHNORM: return 3 * n + n / (uint64_t)l->out.groups; /* + xhat, inv_std */
    case LAYER_DROPOUT:   return 3 * n;             /* + mask */
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
        if (m->layers[i].kind == LAYER_DENSE || m->layers[i].kind == LAYER_FLATTEN)
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
        size_t used = 0;
        for (int i = 0; i < out->ndims; i++)
            used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld", i ? "x" : "",
                                     (long long)out->dims[i]);
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
 * groups rows: the runtime's int must hold that. Returns 0 after reporting. */
static int check_rows(diag *d, const model *m, const layer *l)
{
    if (l->kind != LAYER_BATCHNORM && l->kind != LAYER_SOFTMAX)
        return 1;
    uint64_t rows = (uint64_t)l->out.groups * (uint64_t)m->train.batch;
    if (rows <= SHAPES_MAX_SIZE)
        return 1;
    diag_error(d, l->loc, kw_span(l),
               "'%s' works on the last axis: %lld rows per sample here, %llu for a batch of "
               "%lld, more than the limit of %d; add 'flatten' before it or use a smaller batch",
               layer_kind_name(l->kind), (long long)l->out.groups, (unsigned long long)rows,
               (long long)m->train.batch, SHAPES_MAX_SIZE);
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
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
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
    if (ok)
        check_metrics(d, m);
    check_memory(d, m, goal);
    m->shaped = d->errors == errors;
    return !m->shaped;
}
