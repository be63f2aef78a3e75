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
 * gets no row, as in a Keras Sequential summary. Shapes and counts come
 * from the checked model (shapes.c).
 */
#include "front/summary.h"

#include <string.h>

#include "front/names.h"
#include "util/bug.h"

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

/* sigmoid and tanh share Keras's Activation class and its counter */
static int counter_slot(layer_kind k) { return k == LAYER_TANH ? LAYER_SIGMOID : (int)k; }

const char *summary_layer_name(summary_namer *nm, layer_kind kind, char *buf, size_t size)
{
    int before = nm->counters[counter_slot(kind)]++;
    if (before)
        snprintf(buf, size, "%s_%d", layer_keras_name(kind), before);
    else
        snprintf(buf, size, "%s", layer_keras_name(kind));
    return buf;
}

static void shape_text(const layer_shape *s, char *buf, size_t size)
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
    const model_counts c = m->counts;
    int wname = (int)strlen("Layer (type)"), wshape = (int)strlen("Output Shape");
    int wparams = (int)strlen("Param #");

    if (!m->shaped)
        SEQC_BUG("summary of a model whose shapes were not checked");
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
                     layer_keras_class(l->kind));
            shape_text(&l->out, shape, sizeof shape);
            summary_commas(l->out.params, params, sizeof params);
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
    /* where input scaling happens, so that nobody scales twice: every
     * model, since the tutorial's relies on the byte rule */
    fprintf(out, "Note: IDX ubyte / uint8 inputs are divided by 255 when read; other "
                 "data is used as stored.\n");
}
