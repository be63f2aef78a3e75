/*
 * summary.c: `seqc summary`, the Keras-style table of a checked model.
 *
 *   Model: "mnist_bn"
 *   ______________________________________________________________________
 *    Layer (type)                            Output Shape         Param #
 *   ======================================================================
 *    dense (Dense)                           (None, 128)          100,480
 *   ...
 *
 * Layers are named as Keras names them: the class name in snake case,
 * numbered from the second one of a kind (dense, dense_1, ...). The input
 * gets no row, as in a Keras Sequential summary.
 */
#include "front/summary.h"

#include <stdlib.h>
#include <string.h>

#include "front/diag.h"

uint64_t summary_shape_size(int ndims, const int64_t *dims)
{
    uint64_t n = 1;
    for (int i = 0; i < ndims; i++)
        n *= (uint64_t)dims[i]; /* the check pass bounds this by INT32_MAX */
    return n;
}

static int add_u64(uint64_t *acc, uint64_t x)
{
    if (*acc > UINT64_MAX - x)
        return 0;
    *acc += x;
    return 1;
}

int summary_count(const model *m, layer_stats *stats, model_counts *out)
{
    memset(out, 0, sizeof *out);
    int ndims = 0;
    int64_t dims[AST_MAX_DIMS] = {0};
    int ok = 1;
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        uint64_t in = summary_shape_size(ndims, dims);
        uint64_t params = 0, trainable = 0;
        switch (l->kind) {
        case LAYER_INPUT:
            ndims = l->ndims;
            memcpy(dims, l->dims, sizeof dims);
            break;
        case LAYER_FLATTEN:
            dims[0] = (int64_t)in;
            ndims = 1;
            break;
        case LAYER_DENSE: {
            /* in, units <= INT32_MAX, so in * units + units < 2^63 */
            uint64_t units = (uint64_t)l->units;
            params = in * units + (l->bias ? units : 0);
            trainable = params;
            dims[0] = l->units;
            ndims = 1;
            break;
        }
        case LAYER_BATCHNORM: {
            /* As Keras (axis=-1): one feature per value of the last axis.
             * gamma and beta are trained; moving mean and variance are not */
            uint64_t features = ndims > 0 ? (uint64_t)dims[ndims - 1] : in;
            params = 4 * features;
            trainable = 2 * features;
            break;
        }
        default: /* activations and dropout keep the shape */
            break;
        }
        if (stats) {
            stats[i].ndims = ndims;
            memcpy(stats[i].dims, dims, sizeof dims);
            stats[i].params = params;
            stats[i].trainable = trainable;
        }
        ok &= add_u64(&out->total, params);
        ok &= add_u64(&out->trainable, trainable);
        ok &= add_u64(&out->non_trainable, params - trainable);
    }
    return ok;
}

char *summary_commas(uint64_t n, char *buf, size_t size)
{
    char digits[24];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    char tmp[32];
    size_t j = 0;
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            tmp[j++] = ',';
        tmp[j++] = digits[i];
    }
    tmp[j] = '\0';
    snprintf(buf, size, "%s", tmp);
    return buf;
}

/* Keras's class name and its snake_case name for each kind */
static const char *const keras_class[] = {
    [LAYER_INPUT] = "InputLayer",     [LAYER_FLATTEN] = "Flatten",
    [LAYER_DENSE] = "Dense",          [LAYER_BATCHNORM] = "BatchNormalization",
    [LAYER_RELU] = "ReLU",            [LAYER_SIGMOID] = "Activation",
    [LAYER_TANH] = "Activation",      [LAYER_SOFTMAX] = "Softmax",
    [LAYER_LEAKY_RELU] = "LeakyReLU", [LAYER_DROPOUT] = "Dropout",
};
_Static_assert(sizeof keras_class / sizeof *keras_class == LAYER_KIND_COUNT,
               "one Keras class per layer kind");
static const char *const keras_name[] = {
    [LAYER_INPUT] = "input_layer",     [LAYER_FLATTEN] = "flatten",
    [LAYER_DENSE] = "dense",           [LAYER_BATCHNORM] = "batch_normalization",
    [LAYER_RELU] = "re_lu",            [LAYER_SIGMOID] = "activation",
    [LAYER_TANH] = "activation",       [LAYER_SOFTMAX] = "softmax",
    [LAYER_LEAKY_RELU] = "leaky_re_lu", [LAYER_DROPOUT] = "dropout",
};
_Static_assert(sizeof keras_name / sizeof *keras_name == LAYER_KIND_COUNT,
               "one Keras name per layer kind");

/* sigmoid and tanh share Keras's Activation class and its counter */
static int counter_slot(layer_kind k) { return k == LAYER_TANH ? LAYER_SIGMOID : (int)k; }

const char *summary_layer_name(summary_namer *nm, layer_kind kind, char *buf, size_t size)
{
    int before = nm->counters[counter_slot(kind)]++;
    if (before)
        snprintf(buf, size, "%s_%d", keras_name[kind], before);
    else
        snprintf(buf, size, "%s", keras_name[kind]);
    return buf;
}

static void shape_text(const layer_stats *s, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(None");
    for (int i = 0; i < s->ndims && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, ", %lld", (long long)s->dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

static void rule(FILE *out, char c, int width)
{
    for (int i = 0; i < width; i++)
        fputc(c, out);
    fputc('\n', out);
}

void summary_print(FILE *out, const model *m)
{
    size_t n = m->nlayers;
    model_counts c;
    int wname = (int)strlen("Layer (type)"), wshape = (int)strlen("Output Shape");
    int wparams = (int)strlen("Param #");

    layer_stats *all = calloc(n ? n : 1, sizeof *all);
    if (!all) {
        fputs("seqc: out of memory\n", stderr);
        exit(1);
    }
    if (!summary_count(m, all, &c))
        SEQC_BUG("summary of a model whose counts overflow (the check pass rejects those)");
    /* pass 0 sizes the columns, pass 1 prints */
    char name[96], shape[96], params[32];
    for (int pass = 0; pass < 2; pass++) {
        summary_namer namer = {{0}};
        if (pass == 1) {
            int width = 1 + wname + 3 + wshape + 3 + wparams;
            fprintf(out, "Model: \"%s\"\n", m->name);
            rule(out, '_', width);
            fprintf(out, " %-*s   %-*s   %*s\n", wname, "Layer (type)", wshape, "Output Shape",
                    wparams, "Param #");
            rule(out, '=', width);
        }
        for (size_t i = 0; i < n; i++) {
            const layer *l = &m->layers[i];
            if (l->kind == LAYER_INPUT)
                continue;
            char lname[64];
            snprintf(name, sizeof name, "%s (%s)",
                     summary_layer_name(&namer, l->kind, lname, sizeof lname),
                     keras_class[l->kind]);
            shape_text(&all[i], shape, sizeof shape);
            summary_commas(all[i].params, params, sizeof params);
            if (pass == 0) {
                int w = (int)strlen(name);
                wname = w > wname ? w : wname;
                w = (int)strlen(shape);
                wshape = w > wshape ? w : wshape;
                w = (int)strlen(params);
                wparams = w > wparams ? w : wparams;
            } else {
                fprintf(out, " %-*s   %-*s   %*s\n", wname, name, wshape, shape, wparams, params);
            }
        }
        if (pass == 1) {
            int width = 1 + wname + 3 + wshape + 3 + wparams;
            rule(out, '=', width);
            fprintf(out, "Total params: %s\n", summary_commas(c.total, params, sizeof params));
            fprintf(out, "Trainable params: %s\n",
                    summary_commas(c.trainable, params, sizeof params));
            fprintf(out, "Non-trainable params: %s\n",
                    summary_commas(c.non_trainable, params, sizeof params));
            rule(out, '_', width);
        }
    }
    free(all);
}
