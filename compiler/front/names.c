/* names.c: the name tables (names.h). */
#include "front/names.h"

#include <string.h>

#include "seqrt_names.h"

#define COUNT_OF(a) (sizeof(a) / sizeof *(a))

static const char *const layer_names[] = {
    [LAYER_INPUT] = "input",           [LAYER_FLATTEN] = "flatten",
    [LAYER_DENSE] = "dense",           [LAYER_BATCHNORM] = "batchnorm",
    [LAYER_RELU] = "relu",             [LAYER_SIGMOID] = "sigmoid",
    [LAYER_TANH] = "tanh",             [LAYER_SOFTMAX] = "softmax",
    [LAYER_LEAKY_RELU] = "leaky_relu", [LAYER_DROPOUT] = "dropout",
    [LAYER_RESCALE] = "rescale",       [LAYER_NORMALIZE] = "normalize",
    [LAYER_CONV2D] = "conv2d",         [LAYER_MAXPOOL2D] = "maxpool2d",
    [LAYER_AVGPOOL2D] = "avgpool2d",
    [LAYER_GLOBAL_AVGPOOL2D] = "global_avgpool2d",
    [LAYER_GLOBAL_MAXPOOL2D] = "global_maxpool2d",
    [LAYER_LAYERNORM] = "layernorm",   [LAYER_GROUPNORM] = "groupnorm",
};
_Static_assert(COUNT_OF(layer_names) == LAYER_KIND_COUNT, "one name per layer kind");

static const char *const keras_class[] = {
    [LAYER_INPUT] = "InputLayer",     [LAYER_FLATTEN] = "Flatten",
    [LAYER_DENSE] = "Dense",          [LAYER_BATCHNORM] = "BatchNormalization",
    [LAYER_RELU] = "ReLU",            [LAYER_SIGMOID] = "Activation",
    [LAYER_TANH] = "Activation",      [LAYER_SOFTMAX] = "Softmax",
    [LAYER_LEAKY_RELU] = "LeakyReLU", [LAYER_DROPOUT] = "Dropout",
    [LAYER_RESCALE] = "Rescaling",    [LAYER_NORMALIZE] = "Normalization",
    [LAYER_CONV2D] = "Conv2D",        [LAYER_MAXPOOL2D] = "MaxPooling2D",
    [LAYER_AVGPOOL2D] = "AveragePooling2D",
    [LAYER_GLOBAL_AVGPOOL2D] = "GlobalAveragePooling2D",
    [LAYER_GLOBAL_MAXPOOL2D] = "GlobalMaxPooling2D",
    [LAYER_LAYERNORM] = "LayerNormalization",
    [LAYER_GROUPNORM] = "GroupNormalization",
};
_Static_assert(COUNT_OF(keras_class) == LAYER_KIND_COUNT, "one Keras class per layer kind");

static const char *const keras_name[] = {
    [LAYER_INPUT] = "input_layer",      [LAYER_FLATTEN] = "flatten",
    [LAYER_DENSE] = "dense",            [LAYER_BATCHNORM] = "batch_normalization",
    [LAYER_RELU] = "re_lu",             [LAYER_SIGMOID] = "activation",
    [LAYER_TANH] = "activation",        [LAYER_SOFTMAX] = "softmax",
    [LAYER_LEAKY_RELU] = "leaky_re_lu", [LAYER_DROPOUT] = "dropout",
    [LAYER_RESCALE] = "rescaling",      [LAYER_NORMALIZE] = "normalization",
    [LAYER_CONV2D] = "conv2d",          [LAYER_MAXPOOL2D] = "max_pooling2d",
    [LAYER_AVGPOOL2D] = "average_pooling2d",
    [LAYER_GLOBAL_AVGPOOL2D] = "global_average_pooling2d",
    [LAYER_GLOBAL_MAXPOOL2D] = "global_max_pooling2d",
    [LAYER_LAYERNORM] = "layer_normalization",
    [LAYER_GROUPNORM] = "group_normalization",
};
_Static_assert(COUNT_OF(keras_name) == LAYER_KIND_COUNT, "one Keras name per layer kind");

const name_table names_layer = {layer_names, COUNT_OF(layer_names)};
const name_table names_init = {seqrt_init_names, COUNT_OF(seqrt_init_names)};
const name_table names_optimizer = {seqrt_optimizer_names, COUNT_OF(seqrt_optimizer_names)};
const name_table names_loss = {seqrt_loss_names, COUNT_OF(seqrt_loss_names)};
const name_table names_metric = {seqrt_metric_names, COUNT_OF(seqrt_metric_names)};
const name_table names_schedule = {seqrt_schedule_names, COUNT_OF(seqrt_schedule_names)};

int names_find(const name_table *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(name, t->names[i]) == 0)
            return (int)i;
    return -1;
}

/* names[k], or "?" for a value outside the enum */
static const char *name_of(const name_table *t, int k)
{
    return k >= 0 && (size_t)k < t->count ? t->names[k] : "?";
}

const char *layer_kind_name(layer_kind k) { return name_of(&names_layer, (int)k); }
int layer_kind_from_name(const char *name) { return names_find(&names_layer, name); }
const char *init_kind_name(init_kind k) { return name_of(&names_init, (int)k); }
const char *optimizer_kind_name(optimizer_kind k) { return name_of(&names_optimizer, (int)k); }
const char *loss_kind_name(loss_kind k) { return name_of(&names_loss, (int)k); }
const char *metric_kind_name(metric_kind k) { return name_of(&names_metric, (int)k); }

bool loss_is_crossentropy(loss_kind k)
{
    return k == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ||
           k == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY || k == SEQRT_LOSS_BINARY_CROSSENTROPY;
}

const char *layer_keras_class(layer_kind k)
{
    return (unsigned)k < LAYER_KIND_COUNT ? keras_class[k] : "?";
}

const char *layer_keras_name(layer_kind k)
{
    return (unsigned)k < LAYER_KIND_COUNT ? keras_name[k] : "?";
}
