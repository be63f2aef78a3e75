/*
 * check.c: the check pass, AST -> checked model.
 *
 * The grammar accepted any `name values options` statement; here each one
 * is looked up in a table of statements (spec), its arguments counted,
 * its options sorted into slots, and every value converted and checked
 * against its range; one `model` block with an `input` first, a train
 * recipe with defaults for what is not written. The rules about the model
 * as a whole (shapes, counts, limits, the loss against the output) are
 * shapes.c's, run after this on the layers it made.
 *
 * Messages quote what the user wrote and name what would be right; a
 * misspelt name gets the closest known one (suggest.c).
 */
#include "front/check.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/suggest.h"
#include "front/names.h"
#include "front/shapes.h"

#define COUNT_OF(a) (sizeof(a) / sizeof *(a))

/* ------------------------------------------------------------ name tables */

static const char *const block_names[] = {"model", "train"};
static const char *const bool_names[] = {"false", "true"};

static int find_name(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

/* ------------------------------------------------------- statement specs */

/* What a statement takes: positional arguments and option keys. */
typedef struct stmt_spec {
    int         min_args, max_args; /* max -1: any number */
    const char *arg_what;           /* "the number of units" */
    const char *usage;              /* "dense UNITS [bias=true] [init=glorot_uniform]" */
    const char *const *keys;
    size_t      nkeys;
} stmt_spec;

static const char *const dense_keys[] = {"bias", "init"};
enum { DENSE_BIAS, DENSE_INIT };
static const char *const batchnorm_keys[] = {"momentum", "epsilon", "center", "scale",
                                             "frozen", "virtual_batch", "renorm", "rmax",
                                             "dmax", "sync"};
enum { BN_MOMENTUM, BN_EPSILON, BN_CENTER, BN_SCALE, BN_FROZEN, BN_VIRTUAL_BATCH, BN_RENORM,
       BN_RMAX, BN_DMAX, BN_SYNC };
/* layernorm and groupnorm: groups= is groupnorm's alone */
static const char *const norm_keys[] = {"epsilon", "center", "scale", "groups"};
enum { NORM_EPSILON, NORM_CENTER, NORM_SCALE, NORM_GROUPS };
static const char *const leaky_keys[] = {"alpha"};
enum { LEAKY_ALPHA };
static const char *const rescale_keys[] = {"offset"};
enum { RESCALE_OFFSET };
static const char *const conv_keys[] = {"kernel", "stride", "padding", "dilation", "bias", "init"};
enum { CONV_KERNEL, CONV_STRIDE, CONV_PADDING, CONV_DILATION, CONV_BIAS, CONV_INIT };
static const char *const pool_keys[] = {"stride", "padding"};
enum { POOL_STRIDE, POOL_PADDING };
static const char *const padding_names[] = {"valid", "same"};

static const stmt_spec layer_specs[] = {
    [LAYER_INPUT] = {1, 1, "the shape of one sample", "input SHAPE (e.g. input 28x28)", NULL, 0},
    [LAYER_FLATTEN] = {0, 0, NULL, "flatten", NULL, 0},
    [LAYER_DENSE] = {1, 1, "the number of units",
                     "dense UNITS [bias=true|false] [init=INITIALIZER]", dense_keys,
                     COUNT_OF(dense_keys)},
    [LAYER_BATCHNORM] = {0, 0, NULL,
                         "batchnorm [momentum=0.99] [epsilon=0.001] [center=true] "
                         "[scale=true] [frozen=false] [virtual_batch=N] "
                         "[renorm=false [rmax=3] [dmax=5]] [sync=true]",
                         batchnorm_keys, COUNT_OF(batchnorm_keys)},
    [LAYER_RELU] = {0, 0, NULL, "relu", NULL, 0},
    [LAYER_SIGMOID] = {0, 0, NULL, "sigmoid", NULL, 0},
    [LAYER_TANH] = {0, 0, NULL, "tanh", NULL, 0},
    [LAYER_SOFTMAX] = {0, 0, NULL, "softmax", NULL, 0},
    [LAYER_LEAKY_RELU] = {0, 0, NULL, "leaky_relu [alpha=0.3]", leaky_keys,
                          COUNT_OF(leaky_keys)},
    [LAYER_DROPOUT] = {1, 1, "a rate", "dropout RATE (e.g. dropout 0.2)", NULL, 0},
    [LAYER_RESCALE] = {1, 1, "a scale", "rescale SCALE [offset=0] (e.g. rescale 1/255)",
                       rescale_keys, COUNT_OF(rescale_keys)},
    [LAYER_NORMALIZE] = {0, 0, NULL, "normalize", NULL, 0},
    [LAYER_CONV2D] = {1, 1, "the number of filters",
                      "conv2d FILTERS kernel=K|KHxKW [stride=1] [padding=valid|same] "
                      "[dilation=1] [bias=true|false] [init=INITIALIZER]",
                      conv_keys, COUNT_OF(conv_keys)},
    [LAYER_MAXPOOL2D] = {1, 1, "the pool size",
                         "maxpool2d P|PHxPW [stride=P] [padding=valid|same] (e.g. maxpool2d 2)",
                         pool_keys, COUNT_OF(pool_keys)},
    [LAYER_AVGPOOL2D] = {1, 1, "the pool size",
                         "avgpool2d P|PHxPW [stride=P] [padding=valid|same] (e.g. avgpool2d 2)",
                         pool_keys, COUNT_OF(pool_keys)},
    [LAYER_GLOBAL_AVGPOOL2D] = {0, 0, NULL, "global_avgpool2d", NULL, 0},
    [LAYER_GLOBAL_MAXPOOL2D] = {0, 0, NULL, "global_maxpool2d", NULL, 0},
    [LAYER_LAYERNORM] = {0, 0, NULL, "layernorm [epsilon=0.001] [center=true] [scale=true]",
                         norm_keys, NORM_GROUPS},
    [LAYER_GROUPNORM] = {0, 0, NULL,
                         "groupnorm [groups=32] [epsilon=0.001] [center=true] [scale=true]",
                         norm_keys, COUNT_OF(norm_keys)},
};
_Static_assert(COUNT_OF(layer_specs) == LAYER_KIND_COUNT, "one spec per layer kind");

typedef enum train_stmt {
    TRAIN_OPTIMIZER, TRAIN_LOSS, TRAIN_METRICS, TRAIN_EPOCHS, TRAIN_BATCH,
    TRAIN_SHUFFLE, TRAIN_SEED, TRAIN_VALIDATION_SPLIT, TRAIN_SCHEDULE,
    TRAIN_EARLY_STOPPING, TRAIN_SAVE_BEST, TRAIN_DROP_LAST, TRAIN_RECALIBRATE_BN,
    TRAIN_STMT_COUNT
} train_stmt;

static const char *const optimizer_keys[] = {"lr", "momentum", "nesterov", "beta1", "beta2",
                                             "epsilon", "rho", "weight_decay",
                                             "decay_norm_and_bias", "clipnorm", "clipvalue",
                                             "global_clipnorm"};
enum { OPTK_LR, OPTK_MOMENTUM, OPTK_NESTEROV, OPTK_BETA1, OPTK_BETA2, OPTK_EPSILON, OPTK_RHO,
       OPTK_WEIGHT_DECAY, OPTK_DECAY_NORM_AND_BIAS, OPTK_CLIPNORM, OPTK_CLIPVALUE,
       OPTK_GLOBAL_CLIPNORM };
static const char *const schedule_keys[] = {"every", "factor", "min_lr", "warmup", "monitor",
                                            "patience", "min_delta"};
enum { SCHK_EVERY, SCHK_FACTOR, SCHK_MIN_LR, SCHK_WARMUP, SCHK_MONITOR, SCHK_PATIENCE,
       SCHK_MIN_DELTA };
static const char *const early_stopping_keys[] = {"monitor", "patience", "min_delta",
                                                  "restore_best"};
enum { ESK_MONITOR, ESK_PATIENCE, ESK_MIN_DELTA, ESK_RESTORE_BEST };
static const char *const loss_keys[] = {"from_logits", "delta"};
enum { LOSSK_FROM_LOGITS, LOSSK_DELTA };
static const char *const metrics_keys[] = {"k"};
enum { METK_K };

static const stmt_spec train_specs[] = {
    [TRAIN_OPTIMIZER] = {1, 1, "an optimizer name",
                         "optimizer sgd [lr=0.01 momentum=0 nesterov=false], optimizer adam "
                         "[lr=0.001 beta1=0.9 beta2=0.999 epsilon=1e-7], or optimizer rmsprop "
                         "[lr=0.001 rho=0.9 momentum=0 epsilon=1e-7]; each also "
                         "[weight_decay=W] [decay_norm_and_bias=true] and one of "
                         "[clipnorm=X] [clipvalue=X] [global_clipnorm=X]",
                         optimizer_keys, COUNT_OF(optimizer_keys)},
    [TRAIN_LOSS] = {1, 1, "a loss name",
                    "loss sparse_categorical_crossentropy|categorical_crossentropy|"
                    "binary_crossentropy [from_logits=true], or loss mse|mae|huber [delta=1.0]",
                    loss_keys, COUNT_OF(loss_keys)},
    [TRAIN_METRICS] = {1, -1, "a metric name",
                       "metrics NAME... (accuracy, binary_accuracy, "
                       "sparse_top_k_categorical_accuracy [k=5], mae, mse, rmse, auc)",
                       metrics_keys, COUNT_OF(metrics_keys)},
    [TRAIN_EPOCHS] = {1, 1, "a number of epochs", "epochs N", NULL, 0},
    [TRAIN_BATCH] = {1, 1, "a batch size", "batch N", NULL, 0},
    [TRAIN_SHUFFLE] = {1, 1, "true or false", "shuffle true|false", NULL, 0},
    [TRAIN_SEED] = {1, 1, "a seed", "seed N", NULL, 0},
    [TRAIN_VALIDATION_SPLIT] = {1, 1, "a fraction", "validation_split F (e.g. 0.2)", NULL, 0},
    [TRAIN_SCHEDULE] = {1, 1, "a schedule name",
                        "schedule constant | step every=E [factor=0.1] | exponential "
                        "factor=F | cosine [min_lr=0] | plateau [monitor=val_loss] "
                        "[patience=10] [factor=0.1] [min_lr=0] [min_delta=0.0001]; each "
                        "[warmup=EPOCHS]",
                        schedule_keys, COUNT_OF(schedule_keys)},
    [TRAIN_EARLY_STOPPING] = {0, 0, NULL,
                              "early_stopping [monitor=val_loss] [patience=0] "
                              "[min_delta=0] [restore_best=false]",
                              early_stopping_keys, COUNT_OF(early_stopping_keys)},
    [TRAIN_SAVE_BEST] = {1, 1, "true or false", "save_best true|false", NULL, 0},
    [TRAIN_DROP_LAST] = {1, 1, "true or false", "drop_last true|false", NULL, 0},
    [TRAIN_RECALIBRATE_BN] = {1, 1, "true or false", "recalibrate_bn true|false", NULL, 0},
};
_Static_assert(COUNT_OF(train_specs) == TRAIN_STMT_COUNT, "one spec per train statement");

static const char *const train_stmt_names[] = {"optimizer", "loss",     "metrics",
                                               "epochs",    "batch",    "shuffle",
                                               "seed",      "validation_split",
                                               "schedule",  "early_stopping",
                                               "save_best", "drop_last",
                                               "recalibrate_bn"};
_Static_assert(COUNT_OF(train_stmt_names) == TRAIN_STMT_COUNT, "one name per train statement");

/* ----------------------------------------------------------- the checker */

typedef struct checker {
    arena *a;
    diag  *d;
    /* monitor= values, resolved once the whole train block (its metrics
     * line) is known */
    const ast_value *sched_monitor, *es_monitor;
} checker;

static int kw_len(const ast_stmt *s) { return (int)strlen(s->keyword); }

/* "; did you mean 'x'?" or "" */
static const char *did_you_mean(checker *ck, const char *word, const char *const *names,
                                size_t n)
{
    const char *s = suggest(word, names, n);
    return s ? arena_printf(ck->a, "; did you mean '%s'?", s) : "";
}

/* Counts arguments against the spec. Returns 0 after reporting. */
static int take_args(checker *ck, const ast_stmt *s, const stmt_spec *sp)
{
    int ok = 1;
    if (s->nargs < sp->min_args) {
        diag_error(ck->d, s->loc, kw_len(s), "'%s' needs %s: %s", s->keyword, sp->arg_what,
                   sp->usage);
        ok = 0;
    } else if (sp->max_args >= 0 && s->nargs > sp->max_args) {
        const ast_value *extra = &s->args[sp->max_args];
        if (sp->max_args == 0)
            diag_error(ck->d, extra->loc, extra->len, "'%s' takes no arguments, got '%s'",
                       s->keyword, extra->text);
        else
            diag_error(ck->d, extra->loc, extra->len, "unexpected argument '%s': %s",
                       extra->text, sp->usage);
        ok = 0;
    }
    /* positional values are written before the options */
    if (ok && s->nopts > 0) {
        for (int i = 0; i < s->nargs; i++) {
            const ast_value *v = &s->args[i];
            src_loc k = s->opts[0].key_loc;
            if (v->loc.line > k.line || (v->loc.line == k.line && v->loc.col > k.col)) {
                diag_error(ck->d, v->loc, v->len,
                           "argument '%s' after an option; write options last: %s", v->text,
                           sp->usage);
                ok = 0;
                break;
            }
        }
    }
    return ok;
}

/* Sorts options into vals[] by key (NULL when not written), reporting
 * unknown and repeated keys. Returns 0 after reporting. */
static int take_options(checker *ck, const ast_stmt *s, const stmt_spec *sp,
                        const ast_value **vals)
{
    int ok = 1;
    for (size_t k = 0; k < sp->nkeys; k++)
        vals[k] = NULL;
    for (int i = 0; i < s->nopts; i++) {
        const ast_option *o = &s->opts[i];
        int klen = (int)strlen(o->key);
        if (sp->nkeys == 0) {
            diag_error(ck->d, o->key_loc, klen, "'%s' takes no options, got '%s'", s->keyword,
                       o->key);
            ok = 0;
            continue;
        }
        int k = find_name(o->key, sp->keys, sp->nkeys);
        if (k < 0 && strcmp(o->key, "activation") == 0 && layer_kind_from_name(s->keyword) >= 0) {
            /* Keras's Dense(128, activation="relu"): here a layer of its own */
            const char *act = o->value.kind == AST_IDENT ? o->value.text : "relu";
            diag_error(ck->d, o->key_loc, klen,
                       "'%s' takes no activation option; write the activation as a layer of "
                       "its own after it: '%s%s%s%s; %s'",
                       s->keyword, s->keyword, s->nargs > 0 ? " " : "",
                       s->nargs > 0 ? s->args[0].text : "", s->nopts > 1 ? " ..." : "", act);
            ok = 0;
            continue;
        }
        bool per_sample = strcmp(s->keyword, "layernorm") == 0 ||
                          strcmp(s->keyword, "groupnorm") == 0;
        if (k < 0 && per_sample &&
            (strcmp(o->key, "momentum") == 0 || strcmp(o->key, "frozen") == 0 ||
             strcmp(o->key, "virtual_batch") == 0 || strcmp(o->key, "renorm") == 0 ||
             strcmp(o->key, "sync") == 0)) {
            diag_error(ck->d, o->key_loc, klen,
                       "unknown option '%s' for '%s': it normalizes each sample by its own "
                       "statistics and keeps no moving ones (%s is batchnorm's)",
                       o->key, s->keyword, o->key);
            ok = 0;
            continue;
        }
        if (k < 0 && strcmp(s->keyword, "layernorm") == 0 && strcmp(o->key, "groups") == 0) {
            diag_error(ck->d, o->key_loc, klen,
                       "unknown option 'groups' for 'layernorm', which normalizes the whole "
                       "last axis; for groups of channels write 'groupnorm groups=%s'",
                       o->value.text);
            ok = 0;
            continue;
        }
        if (k < 0 && strcmp(o->key, "trainable") == 0 && find_name("frozen", sp->keys, sp->nkeys) >= 0) {
            diag_error(ck->d, o->key_loc, klen,
                       "unknown option 'trainable' for '%s'; Keras's trainable=False is "
                       "'frozen=true' here",
                       s->keyword);
            ok = 0;
            continue;
        }
        if (k < 0 && strcmp(o->key, "synchronized") == 0 &&
            find_name("sync", sp->keys, sp->nkeys) >= 0) {
            /* Keras's BatchNormalization(synchronized=True) */
            bool off = o->value.kind == AST_IDENT && strcasecmp(o->value.text, "false") == 0;
            diag_error(ck->d, o->key_loc, klen,
                       "unknown option 'synchronized' for '%s'; Keras's synchronized=%s is "
                       "'sync=%s' here%s",
                       s->keyword, off ? "False" : "True", off ? "false" : "true",
                       off ? "" : ", the default");
            ok = 0;
            continue;
        }
        if (k < 0) {
            /* Keras's spelling of an option we spell shorter */
            static const char *const keras[][2] = {{"learning_rate", "lr"}, {"eps", "epsilon"},
                                                   {"use_bias", "bias"},
                                                   {"virtual_batch_size", "virtual_batch"},
                                                   {"kernel_initializer", "init"},
                                                   {"kernel_size", "kernel"},
                                                   {"strides", "stride"},
                                                   {"dilation_rate", "dilation"},
                                                   {"restore_best_weights", "restore_best"},
                                                   {"decay_rate", "factor"},
                                                   {"gamma", "factor"},
                                                   {"step_size", "every"},
                                                   {"eta_min", "min_lr"},
                                                   {"alpha", "min_lr"}};
            const char *hint = did_you_mean(ck, o->key, sp->keys, sp->nkeys);
            for (size_t j = 0; j < COUNT_OF(keras); j++)
                if (strcmp(o->key, keras[j][0]) == 0 &&
                    find_name(keras[j][1], sp->keys, sp->nkeys) >= 0)
                    hint = arena_printf(ck->a, "; did you mean '%s'?", keras[j][1]);
            diag_error(ck->d, o->key_loc, klen, "unknown option '%s' for '%s'%s", o->key,
                       s->keyword, hint);
            ok = 0;
            continue;
        }
        if (vals[k]) {
            diag_error(ck->d, o->key_loc, klen, "option '%s' given twice", o->key);
            for (int j = 0; j < i; j++)
                if (strcmp(s->opts[j].key, o->key) == 0) {
                    diag_note(ck->d, s->opts[j].key_loc, klen, "first given here");
                    break;
                }
            ok = 0;
            continue;
        }
        vals[k] = &o->value;
    }
    return ok;
}

/* ------------------------------------------------------------- values */

/* what: "units", "lr": how the value is named in messages. AST_BAD
 * values were reported by the lexer and fail quietly here. */
static int get_real(checker *ck, const ast_value *v, const char *what, double *out)
{
    if (v->kind == AST_BAD)
        return 0;
    if (v->kind != AST_INT && v->kind != AST_FLOAT) {
        diag_error(ck->d, v->loc, v->len, "%s must be a number, got '%s'", what, v->text);
        return 0;
    }
    if (v->overflow || !isfinite(v->f)) {
        diag_error(ck->d, v->loc, v->len, "%s '%s' is out of range", what, v->text);
        return 0;
    }
    /* the trainer computes in float: 1e39 would be inf there */
    if (fabs(v->f) > FLT_MAX) {
        diag_error(ck->d, v->loc, v->len, "%s '%s' is out of range (a float holds at most %g)",
                   what, v->text, (double)FLT_MAX);
        return 0;
    }
    *out = v->f;
    return 1;
}

static int get_int(checker *ck, const ast_value *v, const char *what, int64_t *out)
{
    if (v->kind == AST_BAD)
        return 0;
    if (v->kind == AST_FLOAT) {
        diag_error(ck->d, v->loc, v->len, "%s must be a whole number, got '%s'", what, v->text);
        return 0;
    }
    if (v->kind != AST_INT) {
        diag_error(ck->d, v->loc, v->len, "%s must be a whole number, got '%s'", what, v->text);
        return 0;
    }
    if (v->overflow && v->i > 0) { /* below INT64_MIN: the caller's lower bound says so */
        diag_error(ck->d, v->loc, v->len, "%s '%s' is too large (the limit is %lld)", what,
                   v->text, (long long)INT64_MAX);
        return 0;
    }
    *out = v->i;
    return 1;
}

/* An integer in [1, SHAPES_MAX_SIZE]. */
static int get_size(checker *ck, const ast_value *v, const char *what, int64_t *out)
{
    int64_t i;
    if (v->kind == AST_INT && v->overflow && v->i > 0) {
        diag_error(ck->d, v->loc, v->len, "%s %s is too large (the limit is %d)", what,
                   v->text, SHAPES_MAX_SIZE);
        return 0;
    }
    if (!get_int(ck, v, what, &i))
        return 0;
    if (i < 1) {
        diag_error(ck->d, v->loc, v->len, "%s must be at least 1, got %s", what, v->text);
        return 0;
    }
    if (i > SHAPES_MAX_SIZE) {
        diag_error(ck->d, v->loc, v->len, "%s %s is too large (the limit is %d)", what,
                   v->text, SHAPES_MAX_SIZE);
        return 0;
    }
    *out = i;
    return 1;
}

/* K or KHxKW (a kernel, a pool, a stride, a dilation): each in
 * [1, SHAPES_MAX_SIZE], out[0] the rows, out[1] the columns. */
static int get_pair(checker *ck, const ast_value *v, const char *what, int64_t out[2])
{
    if (v->kind == AST_BAD)
        return 0;
    if (v->kind == AST_SHAPE) {
        if (v->ndims != 2) {
            diag_error(ck->d, v->loc, v->len,
                       "%s must be one number or ROWSxCOLUMNS (e.g. 3 or 3x5), got '%s'", what,
                       v->text);
            return 0;
        }
        for (int i = 0; i < 2; i++) {
            if (v->overflow || v->dims[i] > SHAPES_MAX_SIZE) {
                diag_error(ck->d, v->loc, v->len, "%s %s is too large (the limit is %d)", what,
                           v->text, SHAPES_MAX_SIZE);
                return 0;
            }
            if (v->dims[i] < 1) {
                diag_error(ck->d, v->loc, v->len, "%s must be at least 1, got %s", what,
                           v->text);
                return 0;
            }
            out[i] = v->dims[i];
        }
        return 1;
    }
    if (v->kind != AST_INT) {
        diag_error(ck->d, v->loc, v->len,
                   "%s must be one number or ROWSxCOLUMNS (e.g. 3 or 3x5), got '%s'", what,
                   v->text);
        return 0;
    }
    int64_t n;
    if (!get_size(ck, v, what, &n))
        return 0;
    out[0] = out[1] = n;
    return 1;
}

/* index into names[], or reports "unknown WHAT 'x'; did you mean 'y'?" */
static int get_name(checker *ck, const ast_value *v, const char *what, const char *const *names,
                    size_t n, int *out)
{
    if (v->kind == AST_BAD)
        return 0;
    if (v->kind != AST_IDENT) {
        diag_error(ck->d, v->loc, v->len, "%s must be a name, got '%s'", what, v->text);
        return 0;
    }
    int k = find_name(v->text, names, n);
    if (k < 0) {
        diag_error(ck->d, v->loc, v->len, "unknown %s '%s'%s", what, v->text,
                   did_you_mean(ck, v->text, names, n));
        return 0;
    }
    *out = k;
    return 1;
}

static int get_bool(checker *ck, const ast_value *v, const char *what, bool *out)
{
    if (v->kind == AST_BAD)
        return 0;
    int k = v->kind == AST_IDENT ? find_name(v->text, bool_names, 2) : -1;
    if (k < 0) {
        /* Python's True and False, as a Keras user writes them */
        const char *hint = v->kind != AST_IDENT                ? ""
                           : strcasecmp(v->text, "true") == 0  ? "; write 'true'"
                           : strcasecmp(v->text, "false") == 0 ? "; write 'false'"
                                                               : "";
        diag_error(ck->d, v->loc, v->len, "%s must be true or false, got '%s'%s", what, v->text,
                   hint);
        return 0;
    }
    *out = k == 1;
    return 1;
}

/* x in [0, 1) */
static int get_fraction(checker *ck, const ast_value *v, const char *what, double *out)
{
    double x;
    if (!get_real(ck, v, what, &x))
        return 0;
    if (!(x >= 0.0 && x < 1.0)) {
        diag_error(ck->d, v->loc, v->len, "%s must be in [0, 1), got %s", what, v->text);
        return 0;
    }
    *out = x;
    return 1;
}

/* x > 0 */
static int get_positive(checker *ck, const ast_value *v, const char *what, double *out)
{
    double x;
    if (!get_real(ck, v, what, &x))
        return 0;
    if (!(x > 0.0)) {
        diag_error(ck->d, v->loc, v->len, "%s must be greater than 0, got %s", what, v->text);
        return 0;
    }
    if ((float)x == 0.0f) { /* 1e-50: 0 in the trainer's float */
        diag_error(ck->d, v->loc, v->len,
                   "%s %s is too small: it is 0 as a float (the smallest is about %g)", what,
                   v->text, (double)FLT_TRUE_MIN);
        return 0;
    }
    *out = x;
    return 1;
}

/* ---------------------------------------------------------------- layers */

/* input SHAPE: 1 to AST_MAX_DIMS dimensions, each >= 1, at most
 * SHAPES_MAX_SIZE values in all. */
static int check_input_shape(checker *ck, const ast_value *v, layer *l)
{
    if (v->kind == AST_BAD)
        return 0;
    if (v->kind == AST_INT) {
        int64_t n;
        if (!get_size(ck, v, "input size", &n))
            return 0;
        l->ndims = 1;
        l->dims[0] = n;
        return 1;
    }
    if (v->kind != AST_SHAPE) {
        diag_error(ck->d, v->loc, v->len, "input shape must be dimensions like 28x28, got '%s'",
                   v->text);
        return 0;
    }
    if (v->ndims > AST_MAX_DIMS) {
        diag_error(ck->d, v->loc, v->len,
                   "input shape '%s' has %d dimensions; at most %d are supported", v->text,
                   v->ndims, AST_MAX_DIMS);
        return 0;
    }
    uint64_t total = 1;
    for (int i = 0; i < v->ndims; i++) {
        if (v->overflow || v->dims[i] > SHAPES_MAX_SIZE) {
            diag_error(ck->d, v->loc, v->len, "input shape '%s' is too large (at most %d values)",
                       v->text, SHAPES_MAX_SIZE);
            return 0;
        }
        if (v->dims[i] < 1) {
            diag_error(ck->d, v->loc, v->len, "input shape '%s' has a dimension of 0", v->text);
            return 0;
        }
        total *= (uint64_t)v->dims[i]; /* < 2^31 * 2^31: no wrap before the test */
        if (total > SHAPES_MAX_SIZE) {
            diag_error(ck->d, v->loc, v->len, "input shape '%s' is too large (at most %d values)",
                       v->text, SHAPES_MAX_SIZE);
            return 0;
        }
        l->dims[i] = v->dims[i];
    }
    l->ndims = v->ndims;
    return 1;
}

/* What a layer's arguments and options say, per kind: arg is its first
 * argument (NULL when missing, already reported), vals[] its options in
 * the order of its spec's keys (NULL when not written). Each returns 0
 * after reporting. */
typedef int (*layer_values_fn)(checker *ck, const ast_value *arg, const ast_value *const *vals,
                               layer *l);

static int input_values(checker *ck, const ast_value *arg, const ast_value *const *vals, layer *l)
{
    (void)vals;
    return arg ? check_input_shape(ck, arg, l) : 1;
}

static int dense_values(checker *ck, const ast_value *arg, const ast_value *const *vals, layer *l)
{
    int ok = arg ? get_size(ck, arg, "units", &l->units) : 1;
    if (vals[DENSE_BIAS])
        ok &= get_bool(ck, vals[DENSE_BIAS], "bias", &l->bias);
    if (vals[DENSE_INIT]) {
        int k = 0;
        ok &= get_name(ck, vals[DENSE_INIT], "initializer", names_init.names, names_init.count, &k);
        l->init = (init_kind)k;
    }
    return ok;
}

static int batchnorm_values(checker *ck, const ast_value *arg, const ast_value *const *vals,
                            layer *l)
{
    (void)arg;
    int ok = 1;
    const ast_value *m = vals[BN_MOMENTUM];
    if (m && get_fraction(ck, m, "momentum", &l->momentum)) {
        /* PyTorch's momentum weighs the new batch, Keras's (and seqc's) the
         * running value: torch's usual 0.1 is 0.9 here */
        if (l->momentum < 0.5)
            diag_warning(ck->d, m->loc, m->len,
                         "momentum=%s keeps only %g of the moving statistics at each step; "
                         "seqc follows Keras (moving = momentum * moving + (1 - momentum) * "
                         "batch), the opposite of PyTorch, whose momentum=%s is momentum=%g "
                         "here",
                         m->text, l->momentum, m->text, 1.0 - l->momentum);
    } else if (m) {
        ok = 0;
    }
    if (vals[BN_EPSILON])
        ok &= get_positive(ck, vals[BN_EPSILON], "epsilon", &l->epsilon);
    if (vals[BN_CENTER])
        ok &= get_bool(ck, vals[BN_CENTER], "center", &l->center);
    if (vals[BN_SCALE])
        ok &= get_bool(ck, vals[BN_SCALE], "scale", &l->gamma);
    if (vals[BN_FROZEN])
        ok &= get_bool(ck, vals[BN_FROZEN], "frozen", &l->frozen);
    const ast_value *v = vals[BN_VIRTUAL_BATCH];
    if (v && get_size(ck, v, "virtual_batch", &l->virtual_batch)) {
        l->virtual_batch_loc = v->loc;
        l->virtual_batch_len = v->len;
        if (l->frozen) {
            diag_error(ck->d, v->loc, v->len,
                       "virtual_batch with frozen=true: a frozen batchnorm uses its moving "
                       "statistics, never a batch's; drop one of them");
            ok = 0;
        }
    } else if (v) {
        ok = 0;
    }
    const ast_value *rn = vals[BN_RENORM];
    if (rn && get_bool(ck, rn, "renorm", &l->renorm) && l->renorm &&
        (l->frozen || l->virtual_batch > 0)) {
        diag_error(ck->d, rn->loc, rn->len,
                   "renorm=true with %s: batch renormalization corrects one batch's "
                   "statistics towards the moving ones; drop one of them",
                   l->frozen ? "frozen=true (which uses only the moving statistics)"
                             : "virtual_batch");
        ok = 0;
    } else if (rn && rn->kind != AST_IDENT) {
        ok = 0;
    }
    /* sync: the batch statistics of every process's rows under MPI; it
     * means something only where a batch's statistics are used */
    const ast_value *sy = vals[BN_SYNC];
    if (sy && get_bool(ck, sy, "sync", &l->sync)) {
        if (l->frozen) {
            diag_error(ck->d, sy->loc, sy->len,
                       "sync with frozen=true: a frozen batchnorm uses its moving "
                       "statistics, never a batch's, so there is nothing to synchronize; "
                       "drop one of them");
            ok = 0;
        } else if (l->sync && l->virtual_batch > 0) {
            diag_error(ck->d, sy->loc, sy->len,
                       "sync=true with virtual_batch: ghost batches are per-rank statistics "
                       "already (under MPI each rank forms its groups in its own rows); drop "
                       "sync=true, or virtual_batch for the whole batch's statistics");
            ok = 0;
        }
    } else if (sy) {
        ok = 0;
    }
    /* rmax >= 1 (r is clipped to [1/rmax, rmax]), dmax >= 0 */
    const ast_value *lim[2] = {vals[BN_RMAX], vals[BN_DMAX]};
    double *out[2] = {&l->rmax, &l->dmax};
    const char *name[2] = {"rmax", "dmax"};
    for (int i = 0; i < 2; i++) {
        const ast_value *x = lim[i];
        if (!x)
            continue;
        if (!l->renorm) {
            diag_error(ck->d, x->loc, x->len,
                       "%s is an option of batch renormalization; add renorm=true",
                       name[i]);
            ok = 0;
        } else if (!get_real(ck, x, name[i], out[i])) {
            ok = 0;
        } else if (i == 0 ? !(*out[i] >= 1.0) : !(*out[i] >= 0.0)) {
            diag_error(ck->d, x->loc, x->len, "%s must be at least %s, got %s", name[i],
                       i == 0 ? "1 (r is kept in [1/rmax, rmax])" : "0", x->text);
            ok = 0;
        }
    }
    return ok;
}

/* layernorm / groupnorm [groups=G] [epsilon=] [center=] [scale=] */
static int norm_values(checker *ck, const ast_value *arg, const ast_value *const *vals, layer *l)
{
    (void)arg;
    int ok = 1;
    if (vals[NORM_EPSILON])
        ok &= get_positive(ck, vals[NORM_EPSILON], "epsilon", &l->epsilon);
    if (vals[NORM_CENTER])
        ok &= get_bool(ck, vals[NORM_CENTER], "center", &l->center);
    if (vals[NORM_SCALE])
        ok &= get_bool(ck, vals[NORM_SCALE], "scale", &l->gamma);
    /* layernorm's spec stops before groups: only groupnorm gets here */
    const ast_value *v = l->kind == LAYER_GROUPNORM ? vals[NORM_GROUPS] : NULL;
    if (v && get_size(ck, v, "groups", &l->norm_groups)) {
        l->norm_groups_loc = v->loc;
        l->norm_groups_len = v->len;
    } else if (v) {
        ok = 0;
    }
    return ok;
}

static int leaky_relu_values(checker *ck, const ast_value *arg, const ast_value *const *vals,
                             layer *l)
{
    (void)arg;
    const ast_value *v = vals[LEAKY_ALPHA];
    if (!v)
        return 1;
    if (!get_real(ck, v, "alpha", &l->alpha))
        return 0;
    if (l->alpha < 0) {
        diag_error(ck->d, v->loc, v->len, "alpha must be at least 0, got %s", v->text);
        return 0;
    }
    return 1;
}

static int dropout_values(checker *ck, const ast_value *arg, const ast_value *const *vals,
                          layer *l)
{
    (void)vals;
    return arg ? get_fraction(ck, arg, "dropout rate", &l->rate) : 1;
}

static int rescale_values(checker *ck, const ast_value *arg, const ast_value *const *vals,
                          layer *l)
{
    int ok = 1;
    if (arg)
        l->scale_text = arg->text;
    if (arg && !get_real(ck, arg, "scale", &l->scale)) {
        ok = 0;
    } else if (arg && (float)l->scale == 0.0f) {
        diag_error(ck->d, arg->loc, arg->len,
                   "scale %s makes every value 0 (as a float); write a nonzero scale, "
                   "e.g. 1/255",
                   arg->text);
        ok = 0;
    }
    if (vals[RESCALE_OFFSET])
        ok &= get_real(ck, vals[RESCALE_OFFSET], "offset", &l->offset);
    return ok;
}

static int padding_value(checker *ck, const ast_value *v, layer *l)
{
    int k = 0;
    if (!get_name(ck, v, "padding", padding_names, COUNT_OF(padding_names), &k))
        return 0;
    l->same = k == 1;
    return 1;
}

/* conv2d FILTERS kernel=K|KHxKW [stride=] [padding=] [dilation=] [bias=] [init=]:
 * Keras refuses a dilation > 1 with a stride > 1, and so does seqc */
static int conv2d_values(checker *ck, const ast_value *arg, const ast_value *const *vals,
                         layer *l)
{
    int ok = arg ? get_size(ck, arg, "filters", &l->filters) : 1;
    if (!vals[CONV_KERNEL]) {
        if (arg)
            diag_error(ck->d, l->loc, (int)strlen("conv2d"), "'conv2d' needs kernel=K: %s",
                       layer_specs[LAYER_CONV2D].usage);
        ok = 0;
    } else {
        ok &= get_pair(ck, vals[CONV_KERNEL], "kernel", l->kernel);
    }
    int stride_ok = 1, dilation_ok = 1;
    if (vals[CONV_STRIDE])
        ok &= stride_ok = get_pair(ck, vals[CONV_STRIDE], "stride", l->stride);
    if (vals[CONV_PADDING])
        ok &= padding_value(ck, vals[CONV_PADDING], l);
    if (vals[CONV_DILATION])
        ok &= dilation_ok = get_pair(ck, vals[CONV_DILATION], "dilation", l->dilation);
    if (stride_ok && dilation_ok && vals[CONV_STRIDE] && vals[CONV_DILATION] &&
        (l->stride[0] > 1 || l->stride[1] > 1) && (l->dilation[0] > 1 || l->dilation[1] > 1)) {
        const ast_value *d = vals[CONV_DILATION];
        diag_error(ck->d, d->loc, d->len,
                   "dilation %s with stride %s: a convolution takes a dilation above 1 or a "
                   "stride above 1, not both (as Keras)",
                   d->text, vals[CONV_STRIDE]->text);
        ok = 0;
    }
    if (vals[CONV_BIAS])
        ok &= get_bool(ck, vals[CONV_BIAS], "bias", &l->bias);
    if (vals[CONV_INIT]) {
        int k = 0;
        ok &= get_name(ck, vals[CONV_INIT], "initializer", names_init.names, names_init.count, &k);
        l->init = (init_kind)k;
    }
    return ok;
}

/* maxpool2d / avgpool2d P|PHxPW [stride=P] [padding=valid|same] */
static int pool2d_values(checker *ck, const ast_value *arg, const ast_value *const *vals,
                         layer *l)
{
    int ok = arg ? get_pair(ck, arg, "pool size", l->kernel) : 1;
    l->stride[0] = l->kernel[0]; /* Keras: strides default to the pool size */
    l->stride[1] = l->kernel[1];
    if (vals[POOL_STRIDE])
        ok &= get_pair(ck, vals[POOL_STRIDE], "stride", l->stride);
    if (vals[POOL_PADDING])
        ok &= padding_value(ck, vals[POOL_PADDING], l);
    return ok;
}

/* NULL: the kind takes nothing to check beyond its spec (flatten, relu...) */
static const layer_values_fn layer_values[LAYER_KIND_COUNT] = {
    [LAYER_INPUT] = input_values,         [LAYER_DENSE] = dense_values,
    [LAYER_BATCHNORM] = batchnorm_values, [LAYER_LEAKY_RELU] = leaky_relu_values,
    [LAYER_DROPOUT] = dropout_values,     [LAYER_RESCALE] = rescale_values,
    [LAYER_CONV2D] = conv2d_values,       [LAYER_MAXPOOL2D] = pool2d_values,
    [LAYER_AVGPOOL2D] = pool2d_values,    [LAYER_LAYERNORM] = norm_values,
    [LAYER_GROUPNORM] = norm_values,
};

/* Keras's defaults, for what a layer statement does not say */
static void layer_defaults(layer *l, layer_kind kind, src_loc loc)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->loc = loc;
    l->line = loc.line;
    l->kw_len = (int)strlen(layer_kind_name(kind));
    l->bias = true;
    l->init = SEQRT_INIT_GLOROT_UNIFORM;
    l->momentum = 0.99;
    l->epsilon = 0.001;
    l->center = true;
    l->gamma = true;
    l->frozen = false;
    l->virtual_batch = 0;
    l->renorm = false;
    l->sync = true; /* Keras: synchronized=False; one process computes the same */
    l->rmax = 3.0;
    l->dmax = 5.0;
    l->norm_groups = 32; /* Keras GroupNormalization */
    l->norm_groups_loc = loc;
    l->norm_groups_len = (int)strlen(layer_kind_name(kind));
    l->alpha = 0.3;
    l->scale = 1.0;
    l->offset = 0.0;
    l->kernel[0] = l->kernel[1] = 1;
    l->stride[0] = l->stride[1] = 1;
    l->dilation[0] = l->dilation[1] = 1;
    l->same = false;
}

/* --replace: copies the value of option `key` (a key of both kinds) */
static void copy_option(layer *dst, const layer *src, const char *key)
{
    if (strcmp(key, "momentum") == 0)
        dst->momentum = src->momentum;
    else if (strcmp(key, "epsilon") == 0)
        dst->epsilon = src->epsilon;
    else if (strcmp(key, "bias") == 0)
        dst->bias = src->bias;
    else if (strcmp(key, "init") == 0)
        dst->init = src->init;
    else if (strcmp(key, "alpha") == 0)
        dst->alpha = src->alpha;
    else if (strcmp(key, "offset") == 0)
        dst->offset = src->offset;
    else if (strcmp(key, "kernel") == 0)
        memcpy(dst->kernel, src->kernel, sizeof dst->kernel);
    else if (strcmp(key, "stride") == 0)
        memcpy(dst->stride, src->stride, sizeof dst->stride);
    else if (strcmp(key, "dilation") == 0)
        memcpy(dst->dilation, src->dilation, sizeof dst->dilation);
    else if (strcmp(key, "padding") == 0)
        dst->same = src->same;
    else if (strcmp(key, "center") == 0)
        dst->center = src->center;
    else if (strcmp(key, "scale") == 0)
        dst->gamma = src->gamma;
    else if (strcmp(key, "frozen") == 0)
        dst->frozen = src->frozen;
    else if (strcmp(key, "virtual_batch") == 0)
        dst->virtual_batch = src->virtual_batch;
    else if (strcmp(key, "renorm") == 0)
        dst->renorm = src->renorm;
    else if (strcmp(key, "rmax") == 0)
        dst->rmax = src->rmax;
    else if (strcmp(key, "dmax") == 0)
        dst->dmax = src->dmax;
    else if (strcmp(key, "sync") == 0)
        dst->sync = src->sync;
    else if (strcmp(key, "groups") == 0) {
        dst->norm_groups = src->norm_groups;
        dst->norm_groups_loc = src->norm_groups_loc;
        dst->norm_groups_len = src->norm_groups_len;
    } else /* a key added to a layer spec needs its line here (test_check) */
        SEQC_BUG("--replace: no rule to copy option '%s'", key);
}

/* --replace: the positional argument of src's kind into dst (both kinds
 * take the same one: their specs' arg_what are equal) */
static void copy_argument(layer *dst, const layer *src)
{
    switch (src->kind) {
    case LAYER_DENSE: dst->units = src->units; break;
    case LAYER_DROPOUT: dst->rate = src->rate; break;
    case LAYER_RESCALE:
        dst->scale = src->scale;
        dst->scale_text = src->scale_text;
        break;
    case LAYER_CONV2D: dst->filters = src->filters; break;
    case LAYER_MAXPOOL2D:
    case LAYER_AVGPOOL2D:
        memcpy(dst->kernel, src->kernel, sizeof dst->kernel);
        memcpy(dst->stride, src->kernel, sizeof dst->stride); /* Keras: the pool size */
        break;
    default:
        SEQC_BUG("--replace: no rule to copy the argument of '%s'", layer_kind_name(src->kind));
    }
}

int check_replace_layer(const layer *from, layer_kind to, layer *out, char *why, size_t whylen)
{
    const stmt_spec *fs = &layer_specs[from->kind], *ts = &layer_specs[to];
    const char *fname = layer_kind_name(from->kind), *tname = layer_kind_name(to);
    if (from->kind == LAYER_INPUT || to == LAYER_INPUT) {
        snprintf(why, whylen, "the input cannot be replaced, nor replace a layer");
        return 0;
    }
    bool same_arg = ts->min_args > 0 && fs->min_args > 0 && fs->arg_what && ts->arg_what &&
                    strcmp(fs->arg_what, ts->arg_what) == 0;
    if (ts->min_args > 0 && !same_arg) {
        snprintf(why, whylen, "'%s' needs %s, which '%s' does not take: there is no value to "
                 "carry over", tname, ts->arg_what, fname);
        return 0;
    }
    layer_defaults(out, to, from->loc);
    out->line = from->line;
    out->kw_len = from->kw_len;
    if (same_arg)
        copy_argument(out, from);
    for (size_t i = 0; i < ts->nkeys; i++)
        if (find_name(ts->keys[i], fs->keys, fs->nkeys) >= 0)
            copy_option(out, from, ts->keys[i]);
    return 1;
}

/* One layer statement to *l; returns 0 after reporting. */
static int check_layer(checker *ck, const ast_stmt *s, layer_kind kind, layer *l)
{
    const stmt_spec *sp = &layer_specs[kind];
    const ast_value *vals[12];
    _Static_assert(COUNT_OF(vals) >= COUNT_OF(dense_keys) &&
                       COUNT_OF(vals) >= COUNT_OF(batchnorm_keys) &&
                       COUNT_OF(vals) >= COUNT_OF(norm_keys) &&
                       COUNT_OF(vals) >= COUNT_OF(conv_keys) &&
                       COUNT_OF(vals) >= COUNT_OF(pool_keys),
                   "room for every layer option");
    int ok = take_args(ck, s, sp);
    ok &= take_options(ck, s, sp, vals);
    layer_defaults(l, kind, s->loc);
    if (layer_values[kind])
        ok &= layer_values[kind](ck, s->nargs >= 1 ? &s->args[0] : NULL, vals, l);
    return ok;
}

/* model NAME { ... }: the header's name, nothing else */
static void check_model_head(checker *ck, const ast_block *b, model *m)
{
    const ast_stmt *h = b->head;
    if (h->nargs == 0)
        diag_error(ck->d, h->loc, kw_len(h), "'model' needs a name: model NAME { ... }");
    else if (h->args[0].kind != AST_IDENT && h->args[0].kind != AST_BAD)
        diag_error(ck->d, h->args[0].loc, h->args[0].len,
                   "the model's name must be a name (letters, digits, '_'), got '%s'",
                   h->args[0].text);
    else if (h->nargs > 1)
        diag_error(ck->d, h->args[1].loc, h->args[1].len,
                   "unexpected '%s' after the model's name: model NAME { ... }", h->args[1].text);
    if (h->nopts > 0)
        diag_error(ck->d, h->opts[0].key_loc, (int)strlen(h->opts[0].key),
                   "'model' takes no options, got '%s'", h->opts[0].key);
    m->name = b->name ? b->name : "model";
}

/* seqc's name for a Keras layer's class or snake-case name ("Dense",
 * "BatchNormalization", "max_pooling2d"), "Activation" for Keras's
 * Activation class, or NULL */
static const char *keras_layer_name(const char *word)
{
    static const char *const aliases[][2] = {
        {"Input", "input"},          {"MaxPool2D", "maxpool2d"},
        {"AvgPool2D", "avgpool2d"},  {"AveragePooling2D", "avgpool2d"},
        {"GlobalAvgPool2D", "global_avgpool2d"}, {"GlobalMaxPool2D", "global_maxpool2d"},
        {"Convolution2D", "conv2d"}, {"BatchNorm", "batchnorm"},
        {"BatchNorm1d", "batchnorm"}, {"BatchNorm2d", "batchnorm"},
        {"LayerNorm", "layernorm"},  {"GroupNorm", "groupnorm"},
        {"Linear", "dense"},         {"Conv2d", "conv2d"},
        {"MaxPool2d", "maxpool2d"},  {"AvgPool2d", "avgpool2d"},
        {"Activation", "Activation"}, {"activation", "Activation"},
    };
    for (size_t i = 0; i < COUNT_OF(aliases); i++)
        if (strcmp(word, aliases[i][0]) == 0)
            return aliases[i][1];
    for (int k = LAYER_INPUT; k < LAYER_KIND_COUNT; k++) {
        if (k == LAYER_SIGMOID || k == LAYER_TANH)
            continue; /* Keras's Activation: above */
        if (strcasecmp(word, layer_keras_class((layer_kind)k)) == 0 ||
            strcmp(word, layer_keras_name((layer_kind)k)) == 0)
            return layer_kind_name((layer_kind)k);
    }
    return NULL;
}

/* The layer kind of s, or -1 after reporting an unknown (or misplaced)
 * statement */
static int layer_stmt_of(checker *ck, const ast_stmt *s)
{
    int kind = layer_kind_from_name(s->keyword);
    if (kind >= 0)
        return kind;
    const char *keras = keras_layer_name(s->keyword);
    if (find_name(s->keyword, train_stmt_names, TRAIN_STMT_COUNT) >= 0)
        diag_error(ck->d, s->loc, kw_len(s),
                   "'%s' is a training setting; it belongs in the 'train' block", s->keyword);
    else if (keras && strcmp(keras, "Activation") == 0)
        diag_error(ck->d, s->loc, kw_len(s),
                   "unknown layer '%s'; write the activation itself as a layer, e.g. 'relu', "
                   "'sigmoid', 'tanh' or 'softmax'",
                   s->keyword);
    else if (keras)
        diag_error(ck->d, s->loc, kw_len(s), "unknown layer '%s'; did you mean '%s'? (Keras's %s)",
                   s->keyword, keras, s->keyword);
    else
        diag_error(ck->d, s->loc, kw_len(s), "unknown layer '%s'%s", s->keyword,
                   did_you_mean(ck, s->keyword, names_layer.names, names_layer.count));
    return -1;
}

static bool loc_before(src_loc a, src_loc b)
{
    return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* One input, written before every other layer */
static void check_input_first(checker *ck, const ast_block *b, const model *m,
                              const ast_stmt *input, const ast_stmt *first_layer)
{
    if (!input) {
        diag_error(ck->d, b->loc, (int)strlen(b->keyword),
                   "model '%s' has no 'input'; start it with the shape of one sample, "
                   "e.g. 'input 28x28'",
                   m->name);
    } else if (first_layer && loc_before(first_layer->loc, input->loc)) {
        diag_error(ck->d, first_layer->loc, kw_len(first_layer),
                   "'%s' comes before 'input'; a model starts with 'input SHAPE'",
                   first_layer->keyword);
        diag_note(ck->d, input->loc, (int)strlen("input"), "'input' is here");
    }
}

/* likely mistakes that are still legal */
static void warn_model(checker *ck, const model *m)
{
    /* the last layer that is not a flatten (a view) gives the output */
    size_t last = m->nlayers;
    while (last > 1 && m->layers[last - 1].kind == LAYER_FLATTEN)
        last--;
    for (size_t i = 0; i + 1 < last; i++)
        if (m->layers[i].kind == LAYER_SOFTMAX)
            diag_warning(ck->d, m->layers[i].loc, (int)strlen("softmax"),
                         "'softmax' is not the last layer; it usually turns the final outputs "
                         "into probabilities");
}

/* The model block's statements to m->layers. */
static void check_model_block(checker *ck, const ast_block *b, model *m)
{
    check_model_head(ck, b, m);
    m->layers = arena_array(ck->a, b->count, sizeof *m->layers);
    m->nlayers = 0;
    const ast_stmt *input = NULL, *first_layer = NULL;
    for (const ast_stmt *s = b->first; s; s = s->next) {
        int kind = layer_stmt_of(ck, s);
        if (kind < 0)
            continue;
        if (kind == LAYER_INPUT && input) {
            diag_error(ck->d, s->loc, kw_len(s), "a second 'input'; a model has one input");
            diag_note(ck->d, input->loc, (int)strlen("input"), "the first 'input' is here");
            continue;
        }
        if (kind == LAYER_INPUT)
            input = s;
        else if (!first_layer)
            first_layer = s;
        layer l;
        if (check_layer(ck, s, (layer_kind)kind, &l))
            m->layers[m->nlayers++] = l;
    }
    check_input_first(ck, b, m, input, first_layer);
    warn_model(ck, m);
}

/* ----------------------------------------------------------------- train */

/* the option of s whose value is v: for pointing at its key */
static const ast_option *option_of(const ast_stmt *s, const ast_value *v)
{
    for (int j = 0; j < s->nopts; j++)
        if (&s->opts[j].value == v)
            return &s->opts[j];
    SEQC_BUG("an option value that is not the statement's");
}

static void check_optimizer(checker *ck, const ast_stmt *s, train_recipe *t)
{
    const stmt_spec *sp = &train_specs[TRAIN_OPTIMIZER];
    const ast_value *vals[COUNT_OF(optimizer_keys)];
    take_args(ck, s, sp);
    if (!take_options(ck, s, sp, vals))
        return;
    int k = SEQRT_OPT_ADAM;
    if (s->nargs < 1)
        return;
    if (s->args[0].kind == AST_IDENT && strcasecmp(s->args[0].text, "adamw") == 0) {
        diag_error(ck->d, s->args[0].loc, s->args[0].len,
                   "unknown optimizer '%s'; AdamW is adam with decoupled weight decay: "
                   "optimizer adam weight_decay=0.004",
                   s->args[0].text);
        return;
    }
    if (!get_name(ck, &s->args[0], "optimizer", names_optimizer.names, names_optimizer.count, &k))
        return;
    t->optimizer = (optimizer_kind)k;
    t->lr = k == SEQRT_OPT_SGD ? 0.01 : 0.001;
    /* which keys each optimizer takes (the last six: all of them) */
    static const bool takes[][COUNT_OF(optimizer_keys)] = {
        [SEQRT_OPT_SGD] = {[OPTK_LR] = true, [OPTK_MOMENTUM] = true, [OPTK_NESTEROV] = true},
        [SEQRT_OPT_ADAM] = {[OPTK_LR] = true, [OPTK_BETA1] = true, [OPTK_BETA2] = true,
                      [OPTK_EPSILON] = true},
        [SEQRT_OPT_RMSPROP] = {[OPTK_LR] = true, [OPTK_RHO] = true, [OPTK_MOMENTUM] = true,
                               [OPTK_EPSILON] = true},
    };
    for (size_t i = 0; i < COUNT_OF(optimizer_keys); i++) {
        if (vals[i] && !takes[k][i] && i < OPTK_WEIGHT_DECAY) {
            const ast_option *o = option_of(s, vals[i]);
            diag_error(ck->d, o->key_loc, (int)strlen(o->key), "'%s' does not take option '%s'",
                       optimizer_kind_name((optimizer_kind)k), o->key);
            vals[i] = NULL;
        }
    }
    if (vals[OPTK_LR])
        get_positive(ck, vals[OPTK_LR], "lr", &t->lr);
    if (vals[OPTK_MOMENTUM])
        get_fraction(ck, vals[OPTK_MOMENTUM], "momentum", &t->momentum);
    if (vals[OPTK_NESTEROV])
        get_bool(ck, vals[OPTK_NESTEROV], "nesterov", &t->nesterov);
    if (vals[OPTK_BETA1])
        get_fraction(ck, vals[OPTK_BETA1], "beta1", &t->beta1);
    if (vals[OPTK_BETA2])
        get_fraction(ck, vals[OPTK_BETA2], "beta2", &t->beta2);
    if (vals[OPTK_EPSILON])
        get_positive(ck, vals[OPTK_EPSILON], "epsilon", &t->epsilon);
    if (vals[OPTK_RHO])
        get_fraction(ck, vals[OPTK_RHO], "rho", &t->rho);
    if (vals[OPTK_WEIGHT_DECAY])
        get_fraction(ck, vals[OPTK_WEIGHT_DECAY], "weight_decay", &t->weight_decay);
    if (vals[OPTK_DECAY_NORM_AND_BIAS]) {
        const ast_option *o = option_of(s, vals[OPTK_DECAY_NORM_AND_BIAS]);
        if (!vals[OPTK_WEIGHT_DECAY])
            diag_error(ck->d, o->key_loc, (int)strlen(o->key),
                       "'decay_norm_and_bias' says which weights weight_decay shrinks; give "
                       "weight_decay=W too");
        else
            get_bool(ck, vals[OPTK_DECAY_NORM_AND_BIAS], "decay_norm_and_bias",
                     &t->decay_norm_and_bias);
    }
    /* Keras: "Only one of clipnorm, clipvalue and global_clipnorm can be set" */
    const ast_option *clip = NULL;
    static const int clip_keys[] = {OPTK_CLIPNORM, OPTK_CLIPVALUE, OPTK_GLOBAL_CLIPNORM};
    double *clip_out[] = {&t->clipnorm, &t->clipvalue, &t->global_clipnorm};
    for (size_t c = 0; c < COUNT_OF(clip_keys); c++) {
        const ast_value *v = vals[clip_keys[c]];
        if (!v)
            continue;
        const ast_option *o = option_of(s, v);
        if (clip) {
            diag_error(ck->d, o->key_loc, (int)strlen(o->key),
                       "'%s' and '%s' both clip the gradients; give only one, as Keras",
                       clip->key, o->key);
            continue;
        }
        clip = o;
        get_positive(ck, v, o->key, clip_out[c]);
    }
}

static void train_defaults(train_recipe *t)
{
    memset(t, 0, sizeof *t);
    t->optimizer = SEQRT_OPT_ADAM;
    t->lr = 0.001;
    t->momentum = 0.0;
    t->nesterov = false;
    t->beta1 = 0.9;
    t->beta2 = 0.999;
    t->epsilon = 1e-7;
    t->rho = 0.9;
    t->schedule = (seqrt_schedule){.kind = SEQRT_SCHED_CONSTANT, .every = 1, .factor = 0.1,
                                   .patience = 10, .min_delta = 1e-4,
                                   .monitor = {.metric = -1, .val = 1}};
    t->early_stopping = (seqrt_early_stopping){.monitor = {.metric = -1, .val = 1}};
    t->best_monitor = (seqrt_monitor){.metric = -1, .val = 1};
    t->loss = SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    t->from_logits = false;
    t->delta = 1.0;
    t->nmetrics = 0;
    t->validation_split = 0.0;
    t->epochs = 10;
    t->batch = 32;
    t->shuffle = true;
    t->seed = 42;
}

/* The value of one train statement (its arguments counted, its options
 * sorted into vals[] in the order of its spec's keys), into *t; each
 * reports what is wrong. */
typedef void (*train_value_fn)(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                               train_recipe *t);

/* loss NAME [from_logits=true] [delta=D]: from_logits only on the
 * cross-entropies, delta only on huber */
static void train_loss(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                       train_recipe *t)
{
    int k = 0;
    if (!get_name(ck, &s->args[0], "loss", names_loss.names, names_loss.count, &k))
        return;
    t->loss = (loss_kind)k;
    t->loss_loc = s->args[0].loc;
    t->loss_len = s->args[0].len;
    const ast_value *v = vals[LOSSK_FROM_LOGITS];
    if (v) {
        const ast_option *o = option_of(s, v);
        if (!loss_is_crossentropy(t->loss))
            diag_error(ck->d, o->key_loc, (int)strlen(o->key),
                       "'from_logits' is an option of the cross-entropy losses; %s compares "
                       "the outputs with the targets as they are",
                       loss_kind_name(t->loss));
        else if (get_bool(ck, v, "from_logits", &t->from_logits))
            t->from_logits_loc = o->key_loc;
    }
    v = vals[LOSSK_DELTA];
    if (v) {
        const ast_option *o = option_of(s, v);
        if (t->loss != SEQRT_LOSS_HUBER)
            diag_error(ck->d, o->key_loc, (int)strlen(o->key),
                       "'delta' is an option of huber, not of %s", loss_kind_name(t->loss));
        else
            get_positive(ck, v, "delta", &t->delta);
    }
}

/* metrics NAME... [k=K]: Keras's names, each once; what each needs of the
 * loss and the output is shapes.c's (it knows both) */
static void train_metrics(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                          train_recipe *t)
{
    /* every name at most once, so a line never holds more than there are */
    _Static_assert(SEQRT_METRIC_COUNT_ <= SEQRT_MAX_METRICS, "room for every metric once");
    bool top_k = false;
    for (int i = 0; i < s->nargs; i++) {
        const ast_value *a = &s->args[i];
        int k = 0;
        if (a->kind == AST_IDENT && (strcmp(a->text, "acc") == 0 || strcmp(a->text, "ACC") == 0)) {
            diag_error(ck->d, a->loc, a->len, "unknown metric '%s'; did you mean 'accuracy'?",
                       a->text);
            continue;
        }
        if (!get_name(ck, a, "metric", names_metric.names, names_metric.count, &k))
            continue;
        int first = -1;
        for (int j = 0; j < t->nmetrics; j++)
            if (strcmp(t->metrics[j].name, a->text) == 0)
                first = j;
        if (first >= 0) {
            diag_error(ck->d, a->loc, a->len, "metric '%s' written twice", a->text);
            diag_note(ck->d, t->metrics[first].loc, t->metrics[first].len, "first written here");
            continue;
        }
        t->metrics[t->nmetrics++] = (struct train_metric){
            (metric_kind)k, names_metric.names[k], 5, a->loc, a->len};
        top_k |= k == SEQRT_METRIC_TOP_K;
    }
    const ast_value *v = vals[METK_K];
    if (!v)
        return;
    const ast_option *o = option_of(s, v);
    if (!top_k) {
        diag_error(ck->d, o->key_loc, (int)strlen(o->key),
                   "'k' is an option of sparse_top_k_categorical_accuracy, which this line "
                   "does not ask for");
        return;
    }
    int64_t k;
    if (!get_size(ck, v, "k", &k))
        return;
    t->k_loc = v->loc;
    t->k_len = v->len;
    for (int j = 0; j < t->nmetrics; j++)
        if (t->metrics[j].kind == SEQRT_METRIC_TOP_K)
            t->metrics[j].k = (int)k;
}

/* validation_split F: Keras's, 0 < F < 1 */
static void train_validation_split(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                                   train_recipe *t)
{
    (void)vals;
    const ast_value *arg = &s->args[0];
    double f;
    if (!get_real(ck, arg, "validation_split", &f))
        return;
    if (!(f > 0.0 && f < 1.0))
        diag_error(ck->d, arg->loc, arg->len,
                   "validation_split must be between 0 and 1 (the fraction of the training "
                   "set kept for validation), got %s%s",
                   arg->text, f == 0.0 ? "; for no validation split leave the line out" : "");
    else
        t->validation_split = f;
}

static void train_epochs(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                         train_recipe *t)
{
    (void)vals;
    int64_t n;
    if (get_size(ck, &s->args[0], "epochs", &n))
        t->epochs = n;
}

static void train_batch(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                        train_recipe *t)
{
    (void)vals;
    int64_t n;
    if (get_size(ck, &s->args[0], "batch", &n)) {
        t->batch = n;
        t->batch_loc = s->args[0].loc;
        t->batch_len = s->args[0].len;
    }
}

static void train_drop_last(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                            train_recipe *t)
{
    (void)vals;
    get_bool(ck, &s->args[0], "drop_last", &t->drop_last);
}

static void train_recalibrate_bn(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                                 train_recipe *t)
{
    (void)vals;
    if (get_bool(ck, &s->args[0], "recalibrate_bn", &t->recalibrate_bn))
        t->recalibrate_loc = s->loc;
}

static void train_shuffle(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                          train_recipe *t)
{
    (void)vals;
    get_bool(ck, &s->args[0], "shuffle", &t->shuffle);
}

static void train_seed(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                       train_recipe *t)
{
    (void)vals;
    const ast_value *arg = &s->args[0];
    int64_t n;
    if (!get_int(ck, arg, "seed", &n))
        return;
    if (n < 0)
        diag_error(ck->d, arg->loc, arg->len, "seed must be at least 0, got %s", arg->text);
    else
        t->seed = (uint64_t)n;
}

/* An integer >= 0 (patience, warmup). */
static int get_count(checker *ck, const ast_value *v, const char *what, int64_t *out)
{
    int64_t n;
    if (!get_int(ck, v, what, &n))
        return 0;
    if (n < 0 || n > 1000000) {
        diag_error(ck->d, v->loc, v->len, "%s must be from 0 to 1000000, got %s", what, v->text);
        return 0;
    }
    *out = n;
    return 1;
}

/* x >= 0 */
static int get_nonnegative(checker *ck, const ast_value *v, const char *what, double *out)
{
    double x;
    if (!get_real(ck, v, what, &x))
        return 0;
    if (!(x >= 0.0)) {
        diag_error(ck->d, v->loc, v->len, "%s must be at least 0, got %s", what, v->text);
        return 0;
    }
    *out = x;
    return 1;
}

/* x in (0, 1): a factor that lowers the rate */
static int get_factor(checker *ck, const ast_value *v, const char *what, double *out)
{
    double x;
    if (!get_real(ck, v, what, &x))
        return 0;
    if (!(x > 0.0 && x < 1.0)) {
        diag_error(ck->d, v->loc, v->len,
                   "%s must be between 0 and 1 (it multiplies the learning rate), got %s", what,
                   v->text);
        return 0;
    }
    *out = x;
    return 1;
}

/* schedule NAME [options]: which keys each schedule takes; warmup all */
static void train_schedule(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                           train_recipe *t)
{
    int k = 0;
    if (!get_name(ck, &s->args[0], "schedule", names_schedule.names, names_schedule.count, &k))
        return;
    seqrt_schedule *sc = &t->schedule;
    sc->kind = (seqrt_schedule_kind)k;
    t->has_schedule = true;
    static const bool takes[][COUNT_OF(schedule_keys)] = {
        [SEQRT_SCHED_CONSTANT] = {[SCHK_WARMUP] = true},
        [SEQRT_SCHED_STEP] = {[SCHK_EVERY] = true, [SCHK_FACTOR] = true, [SCHK_WARMUP] = true},
        [SEQRT_SCHED_EXPONENTIAL] = {[SCHK_FACTOR] = true, [SCHK_WARMUP] = true},
        [SEQRT_SCHED_COSINE] = {[SCHK_MIN_LR] = true, [SCHK_WARMUP] = true},
        [SEQRT_SCHED_PLATEAU] = {[SCHK_FACTOR] = true, [SCHK_MIN_LR] = true,
                                 [SCHK_WARMUP] = true, [SCHK_MONITOR] = true,
                                 [SCHK_PATIENCE] = true, [SCHK_MIN_DELTA] = true},
    };
    int ok = 1;
    for (size_t i = 0; i < COUNT_OF(schedule_keys); i++) {
        if (vals[i] && !takes[k][i]) {
            const ast_option *o = option_of(s, vals[i]);
            diag_error(ck->d, o->key_loc, (int)strlen(o->key),
                       "schedule '%s' does not take option '%s': %s", names_schedule.names[k],
                       o->key, train_specs[TRAIN_SCHEDULE].usage);
            ok = 0;
        }
    }
    if (!ok)
        return;
    if (k == SEQRT_SCHED_STEP && !vals[SCHK_EVERY])
        diag_error(ck->d, s->args[0].loc, s->args[0].len,
                   "schedule step needs every=EPOCHS (the rate is multiplied by factor every "
                   "that many epochs), e.g. schedule step every=10 factor=0.5");
    if (k == SEQRT_SCHED_EXPONENTIAL && !vals[SCHK_FACTOR])
        diag_error(ck->d, s->args[0].loc, s->args[0].len,
                   "schedule exponential needs factor=F (the rate is multiplied by F after "
                   "each epoch), e.g. schedule exponential factor=0.9");
    int64_t n;
    if (vals[SCHK_EVERY] && get_size(ck, vals[SCHK_EVERY], "every", &n))
        sc->every = (int)(n > 1000000 ? 1000000 : n);
    if (vals[SCHK_FACTOR])
        get_factor(ck, vals[SCHK_FACTOR], "factor", &sc->factor);
    if (vals[SCHK_MIN_LR])
        get_nonnegative(ck, vals[SCHK_MIN_LR], "min_lr", &sc->min_lr);
    if (vals[SCHK_WARMUP] && get_count(ck, vals[SCHK_WARMUP], "warmup", &n))
        sc->warmup = (int)n;
    if (vals[SCHK_PATIENCE] && get_count(ck, vals[SCHK_PATIENCE], "patience", &n))
        sc->patience = (int)n;
    if (vals[SCHK_MIN_DELTA])
        get_nonnegative(ck, vals[SCHK_MIN_DELTA], "min_delta", &sc->min_delta);
    ck->sched_monitor = vals[SCHK_MONITOR];
}

/* early_stopping [monitor=] [patience=] [min_delta=] [restore_best=] */
static void train_early_stopping(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                                 train_recipe *t)
{
    (void)s;
    seqrt_early_stopping *es = &t->early_stopping;
    es->enabled = 1;
    int64_t n;
    if (vals[ESK_PATIENCE] && get_count(ck, vals[ESK_PATIENCE], "patience", &n))
        es->patience = (int)n;
    if (vals[ESK_MIN_DELTA])
        get_nonnegative(ck, vals[ESK_MIN_DELTA], "min_delta", &es->min_delta);
    bool restore = false;
    if (vals[ESK_RESTORE_BEST] && get_bool(ck, vals[ESK_RESTORE_BEST], "restore_best", &restore))
        es->restore_best = restore;
    ck->es_monitor = vals[ESK_MONITOR];
}

static void train_save_best(checker *ck, const ast_stmt *s, const ast_value *const *vals,
                            train_recipe *t)
{
    (void)vals;
    get_bool(ck, &s->args[0], "save_best", &t->save_best);
}

/* "loss", "val_loss", "<metric>", "val_<metric>" of the metrics line,
 * into *m with Keras's mode=auto direction. */
static void resolve_monitor(checker *ck, const ast_value *v, const train_recipe *t,
                            seqrt_monitor *m)
{
    if (!v || v->kind == AST_BAD)
        return;
    const char *names[2 + 2 * SEQRT_MAX_METRICS];
    size_t n = 0;
    names[n++] = "val_loss";
    names[n++] = "loss";
    for (int i = 0; i < t->nmetrics; i++) {
        names[n++] = arena_printf(ck->a, "val_%s", t->metrics[i].name);
        names[n++] = t->metrics[i].name;
    }
    int k = v->kind == AST_IDENT ? find_name(v->text, names, n) : -1;
    if (k < 0) {
        const char *hint = v->kind == AST_IDENT ? did_you_mean(ck, v->text, names, n) : "";
        /* Keras's short names */
        if (v->kind == AST_IDENT && (strcmp(v->text, "acc") == 0 || strcmp(v->text, "val_acc") == 0))
            hint = t->nmetrics > 0 && find_name("accuracy", names, n) >= 0
                       ? arena_printf(ck->a, "; did you mean '%s'?",
                                      v->text[0] == 'v' ? "val_accuracy" : "accuracy")
                       : "; did you mean 'val_loss'? (accuracy is not in the metrics line)";
        /* a metric's name that the metrics line lacks */
        const char *bare = strncmp(v->text, "val_", 4) == 0 ? v->text + 4 : v->text;
        if (v->kind == AST_IDENT && !*hint && names_find(&names_metric, bare) >= 0)
            hint = arena_printf(ck->a, "; add 'metrics %s' to watch it", bare);
        diag_error(ck->d, v->loc, v->len,
                   "monitor must be loss, val_loss or a metric of the 'metrics' line (with "
                   "val_ for the validation set's), got '%s'%s",
                   v->text, hint);
        return;
    }
    m->val = k % 2 == 0;
    m->metric = k < 2 ? -1 : (k - 2) / 2;
    m->maximize = 0;
    if (m->metric >= 0) {
        metric_kind mk = t->metrics[m->metric].kind;
        m->maximize = mk == SEQRT_METRIC_ACCURACY || mk == SEQRT_METRIC_BINARY_ACCURACY ||
                      mk == SEQRT_METRIC_TOP_K || mk == SEQRT_METRIC_AUC;
    }
}

/* What needs the whole block: the monitors (they name metrics), the
 * schedule's warmup against the epochs, the best epoch's monitor. */
static void check_train_recipe(checker *ck, train_recipe *t, const ast_stmt *schedule)
{
    resolve_monitor(ck, ck->sched_monitor, t, &t->schedule.monitor);
    resolve_monitor(ck, ck->es_monitor, t, &t->early_stopping.monitor);
    if (t->early_stopping.enabled) {
        t->best_monitor = t->early_stopping.monitor;
        t->best_min_delta = t->early_stopping.min_delta;
    }
    for (int j = 0; schedule && j < schedule->nopts; j++) {
        const ast_option *o = &schedule->opts[j];
        if (strcmp(o->key, "warmup") == 0 && t->schedule.warmup > 0 &&
            t->schedule.warmup >= t->epochs)
            diag_error(ck->d, o->value.loc, o->value.len,
                       "warmup=%s leaves no epoch for the schedule: the run has %lld epochs",
                       o->value.text, (long long)t->epochs);
        if (strcmp(o->key, "min_lr") == 0 && t->schedule.min_lr >= t->lr)
            diag_error(ck->d, o->value.loc, o->value.len,
                       "min_lr=%s is not below the optimizer's lr (%g): the rate could not "
                       "decrease",
                       o->value.text, t->lr);
    }
}

/* the optimizer takes options: check_optimizer reads its whole statement */
static const train_value_fn train_values[] = {
    [TRAIN_OPTIMIZER] = NULL,         [TRAIN_LOSS] = train_loss,
    [TRAIN_METRICS] = train_metrics,  [TRAIN_EPOCHS] = train_epochs,
    [TRAIN_BATCH] = train_batch,      [TRAIN_SHUFFLE] = train_shuffle,
    [TRAIN_SEED] = train_seed,        [TRAIN_VALIDATION_SPLIT] = train_validation_split,
    [TRAIN_SCHEDULE] = train_schedule, [TRAIN_EARLY_STOPPING] = train_early_stopping,
    [TRAIN_SAVE_BEST] = train_save_best, [TRAIN_DROP_LAST] = train_drop_last,
    [TRAIN_RECALIBRATE_BN] = train_recalibrate_bn,
};
_Static_assert(COUNT_OF(train_values) == TRAIN_STMT_COUNT, "one entry per train statement");

/* The index of s's keyword in train_stmt_names, or -1 after reporting an
 * unknown (or misplaced) setting */
static int train_stmt_of(checker *ck, const ast_stmt *s)
{
    int k = find_name(s->keyword, train_stmt_names, TRAIN_STMT_COUNT);
    if (k >= 0)
        return k;
    /* Keras's names for a setting, and the optimizer's options written
     * as statements */
    static const char *const keras[][2] = {
        {"batch_size", "batch"}, {"nb_epoch", "epochs"}, {"epoch", "epochs"},
        {"learning_rate", "optimizer adam lr=..."}, {"lr", "optimizer adam lr=..."},
        {"clipnorm", "optimizer adam clipnorm=..."}, {"clipvalue", "optimizer adam clipvalue=..."},
        {"global_clipnorm", "optimizer adam global_clipnorm=..."},
        {"weight_decay", "optimizer adam weight_decay=..."},
        {"callbacks", "early_stopping ..."}, {"EarlyStopping", "early_stopping"},
        {"ReduceLROnPlateau", "schedule plateau"},
        {"LearningRateScheduler", "schedule step|exponential|cosine"},
        {"restore_best_weights", "early_stopping restore_best=true"},
        {"save_best_only", "save_best true"},
    };
    for (size_t j = 0; j < COUNT_OF(keras); j++)
        if (strcmp(s->keyword, keras[j][0]) == 0) {
            if (strchr(keras[j][1], ' '))
                diag_error(ck->d, s->loc, kw_len(s),
                           "unknown training setting '%s'; in seqc it is written '%s'",
                           s->keyword, keras[j][1]);
            else
                diag_error(ck->d, s->loc, kw_len(s),
                           "unknown training setting '%s'; did you mean '%s'?", s->keyword,
                           keras[j][1]);
            return -1;
        }
    if (layer_kind_from_name(s->keyword) >= 0)
        diag_error(ck->d, s->loc, kw_len(s), "'%s' is a layer; it belongs in the 'model' block",
                   s->keyword);
    else
        diag_error(ck->d, s->loc, kw_len(s), "unknown training setting '%s'%s", s->keyword,
                   did_you_mean(ck, s->keyword, train_stmt_names, TRAIN_STMT_COUNT));
    return -1;
}

static void check_train_block(checker *ck, const ast_block *b, train_recipe *t)
{
    const ast_stmt *h = b->head;
    if (h->nargs > 0)
        diag_error(ck->d, h->args[0].loc, h->args[0].len,
                   "'train' takes no name or arguments, got '%s': train { ... }", h->args[0].text);
    if (h->nopts > 0)
        diag_error(ck->d, h->opts[0].key_loc, (int)strlen(h->opts[0].key),
                   "'train' takes no options, got '%s'", h->opts[0].key);
    t->has_train_block = true;

    const ast_stmt *seen[TRAIN_STMT_COUNT] = {0};
    for (const ast_stmt *s = b->first; s; s = s->next) {
        int k = train_stmt_of(ck, s);
        if (k < 0)
            continue;
        if (seen[k]) {
            diag_error(ck->d, s->loc, kw_len(s), "'%s' given twice in 'train'", s->keyword);
            diag_note(ck->d, seen[k]->loc, kw_len(seen[k]), "first given here");
            continue;
        }
        seen[k] = s;
        const ast_value *vals[8];
        _Static_assert(COUNT_OF(vals) >= COUNT_OF(loss_keys) &&
                           COUNT_OF(vals) >= COUNT_OF(metrics_keys) &&
                           COUNT_OF(vals) >= COUNT_OF(schedule_keys) &&
                           COUNT_OF(vals) >= COUNT_OF(early_stopping_keys),
                       "room for every train option");
        if (k == TRAIN_OPTIMIZER)
            check_optimizer(ck, s, t);
        else if (take_args(ck, s, &train_specs[k]) && take_options(ck, s, &train_specs[k], vals))
            train_values[k](ck, s, vals, t);
    }
    check_train_recipe(ck, t, seen[TRAIN_SCHEDULE]);
}

int check_file(arena *a, diag *d, const ast_file *f, model *out)
{
    checker ck = {a, d, NULL, NULL};
    memset(out, 0, sizeof *out);
    out->path = f->path;
    train_defaults(&out->train);
    int errors_before = d->errors;

    for (const ast_stmt *s = f->loose_first; s; s = s->next)
        diag_error(d, s->loc, kw_len(s),
                   "'%s' is outside any block; layers go in 'model NAME { ... }' and "
                   "training settings in 'train { ... }'",
                   s->keyword);

    const ast_block *mb = NULL, *tb = NULL;
    for (const ast_block *b = f->first; b; b = b->next) {
        int blen = (int)strlen(b->keyword);
        if (b->kind == AST_BLOCK_OTHER) {
            diag_error(d, b->loc, blen, "unknown block '%s'%s", b->keyword,
                       did_you_mean(&ck, b->keyword, block_names, COUNT_OF(block_names)));
            continue;
        }
        const ast_block **slot = b->kind == AST_BLOCK_MODEL ? &mb : &tb;
        if (*slot) {
            diag_error(d, b->loc, blen, "a second '%s' block; a file has one", b->keyword);
            diag_note(d, (*slot)->loc, blen, "the first '%s' block is here", b->keyword);
            continue;
        }
        *slot = b;
        if (b->kind == AST_BLOCK_MODEL)
            check_model_block(&ck, b, out);
        else
            check_train_block(&ck, b, &out->train);
    }
    if (!mb) {
        /* after a syntax error the model block may simply have been lost */
        if (d->errors == 0)
            diag_file_error(d, "no 'model' block: a model file describes one network as "
                               "'model NAME { input SHAPE ... }'");
        return 1;
    }
    return d->errors != errors_before;
}
