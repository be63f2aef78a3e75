/*
 * train.c: the shared training loop and the command line of every trainer
 * seqc generates (seqrt_main). A generated trainer's main() only fills a
 * seqrt_model and calls seqrt_main(argc, argv, &model).
 *
 *   ./trainer [train] --data DIR|FILE.npz|FILE.csv [--test FILE.csv]
 *                     [--target NAMES] [--no-header] [--validation-split F]
 *                     [--epochs N] [--batch N] [--lr X] [--seed N]
 *                     [--threads N] [--history FILE] [--save FILE]
 *                     [--resume FILE] [--limit N] [--quiet] [--drop-last]
 *                     [--recalibrate-bn] [--eval-train] [--init-from FILE]
 *   ./trainer evaluate --data SOURCE --load FILE
 *   ./trainer predict --load FILE (--data SOURCE | --images FILE [--labels FILE])
 *                     [--output FILE.csv]
 *   ./trainer --help
 *
 * Exit status: 0 success; 1 an error in the data, a file, or training
 * (the loss or a weight became NaN or infinite); 2 a bad command line.
 *
 * The order of random draws, which makes a run reproducible and lets
 * --resume continue it bit for bit: two seqrt_rng streams come from the
 * seed. The main one, seqrt_rng_seed(seed), draws the initial weights
 * (model->init), then at the start of every epoch the shuffle of the
 * identity order 0..n-1 (when the recipe shuffles). The dropout stream,
 * seqrt_rng_seed(seed ^ DROPOUT_STREAM), is the one forward_train gets
 * (seqrt_step.rng) for its masks. So dropout never moves the shuffles:
 * two models that differ only in dropout layers see the samples in the
 * same order in every epoch (issue #12). Validation, the test set,
 * evaluate and predict touch neither. A checkpoint saves both states
 * after each epoch, with the weights, the optimizer state and the step
 * count.
 *
 * Before the first epoch of a fresh run (not when resuming: the
 * checkpoint holds them) a model's `normalize` layer is adapted, as
 * Keras's Normalization.adapt: per-feature mean and biased variance of
 * the training inputs (run_adapt).
 *
 * The model's metrics (seqrt_model.metrics) are accumulated with the
 * metrics module (metrics.h) over each epoch's training batches, as
 * Keras reports them, and over the whole validation set after the epoch;
 * the progress line, the history and evaluate show exactly those. A test
 * set, when the data has one besides the validation set, is evaluated
 * once after the last epoch ("test_loss: X - test_<metric>: Y").
 *
 * The training recipe (the recipe_* functions): each epoch trains at the
 * rate the model's schedule gives (schedule.c, from the base rate: the
 * file's or --lr), and after its validation a plateau schedule, early
 * stopping and the best epoch's weights (restore_best, save_best) are
 * updated, before the history row and the checkpoint, which carry all of
 * that state so that --resume decides exactly as the uninterrupted run.
 *
 * The last mini-batch of an epoch may hold fewer rows than the batch size;
 * it is trained as it is, as Keras does, unless drop_last (the model's or
 * --drop-last) drops it. A last batch of a single sample through batchnorm
 * would be normalized by its own statistics (variance 0) and give exactly
 * beta, so with batchnorm it is dropped, with one note per run, and
 * --batch 1 is refused (run_plan_batches, batch_of_one_error). After the
 * last epoch, --recalibrate-bn recomputes the moving statistics
 * (run_recalibrate); --eval-train adds the training set's loss in
 * inference mode to each epoch; --init-from starts from a checkpoint's
 * weights only (run_init_from).
 *
 * Memory: every buffer (weights, gradients, optimizer state, the
 * activation arena, one batch of inputs and labels, the sample order) is
 * allocated once before the first epoch; a training step allocates nothing.
 *
 * Several processes (seqrt_main_comm with a seqrt_comm of several ranks:
 * MPI, docs/scale-out.md): every rank loads the same data, draws the same
 * shuffle, and trains on its shard of every global batch (seqrt_shard_rows:
 * contiguous rows, sizes within one); --batch and `batch` are the global
 * batch. A step is forward, backward, then one sum over the ranks of the
 * gradients (each rank's part of the global mean, the loss dividing by
 * the global rows), the global batch's outputs and its loss (stash_outputs,
 * global_metrics), then the same update on every rank. Synchronized
 * batchnorm sums its statistics inside forward and backward; dropout
 * draws the whole batch's masks on every rank and keeps its rows'. So the
 * run is one process's run on the global batch, up to the order of the
 * sums. Validation and the test set are sharded the same way. After each
 * epoch the non-trainable parameters are averaged over the ranks and the
 * ranks' weights compared (run_agree_weights); rank 0 alone prints and
 * writes the history and the checkpoint, which is a one-process
 * checkpoint (resumable with any number of ranks). A failure on any rank
 * (its data, its memory, rank 0's files) is agreed on at the start and
 * after every epoch (seqrt_comm_failures), so all ranks stop together.
 * A last batch with fewer rows than ranks is dropped (run_plan_batches).
 */
#define _POSIX_C_SOURCE 200809L
#include "seqrt.h"

#include "loop/checkpoint.h"
#include "loop/history.h"
#include "loop/metrics.h"
#include "kernels/gemm.h"
#include "loop/parallel.h"
#include "loop/progress.h"
#include "loop/shard.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_USAGE = 2 };

/*
 * Threads when --threads is not given (or is 0): the online CPUs, at most
 * DEFAULT_MAX_THREADS. Measured on the 2-core machine of docs/
 * performance.md (Fashion-MNIST, batch 32): 2 threads are faster than 1
 * with libseqrt's own kernels (about 0.19 s against 0.23 s per epoch),
 * and no slower when another process holds a core (parallel.c). More
 * than 2 were not measured; at batch 32 each split part is already only
 * a few microseconds of work.
 */
enum { DEFAULT_MAX_THREADS = 2 };

/* The dropout stream's seed is the run's seed XOR the ASCII bytes of
 * "dropout" (docs/checkpoint.md): fixed, so a seed names one run. */
#define DROPOUT_STREAM 0x64726f706f7574ull

static int default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        return 1;
    return cpus < DEFAULT_MAX_THREADS ? (int)cpus : DEFAULT_MAX_THREADS;
}

/* ------------------------------------------------------------- options */

typedef enum command {
    CMD_TRAIN,
    CMD_EVALUATE,
    CMD_PREDICT,
    CMD_HELP
} command;

typedef enum flag_id {
    F_DATA, F_EPOCHS, F_BATCH, F_LR, F_SEED, F_THREADS, F_HISTORY, F_SAVE,
    F_RESUME, F_QUIET, F_LIMIT, F_LOAD, F_IMAGES, F_LABELS, F_MAX_DATA_BYTES,
    /* where the data comes from (seqrt_load_data) and where predictions go */
    F_TEST, F_TARGET, F_NO_HEADER, F_VALIDATION_SPLIT, F_OUTPUT,
    /* batchnorm controls (issue #14) */
    F_DROP_LAST, F_RECALIBRATE_BN, F_EVAL_TRAIN, F_INIT_FROM,
    F_COUNT_
} flag_id;

typedef struct options {
    command     cmd;
    unsigned    given;      /* bit (1 << flag_id) for each flag on the line */
    const char *data, *history, *save, *resume, *load, *images, *labels;
    long        epochs, batch, threads;
    float       lr;
    uint64_t    seed;
    size_t      limit;
    seqrt_load_opts data_limit; /* --max-data-bytes (0: the default) */
    int         quiet;
    const char *test, *target, *output; /* --test, --target, --output */
    int         no_header;
    double      validation_split;
    int         drop_last, recalibrate_bn, eval_train; /* switches */
    const char *init_from;  /* --init-from CKPT: weights only */
    const seqrt_comm *comm; /* the ranks training together (seqrt_main_comm);
                               NULL: one process */
} options;

static int cmd_train(const seqrt_model *m, const options *o);
static int cmd_evaluate(const seqrt_model *m, const options *o);
static int cmd_predict(const seqrt_model *m, const options *o);
static int cmd_help(const seqrt_model *m, const options *o);

/* One row per command: its name, the flags it cannot do without (and the
 * message when one is missing), and the function that runs it. */
static const struct command_spec {
    const char *name;
    unsigned    required; /* bits (1 << flag_id) */
    const char *needs;
    int (*run)(const seqrt_model *m, const options *o);
} commands[] = {
    [CMD_TRAIN]    = {"train", 1u << F_DATA, "train needs --data DIR, FILE.npz or FILE.csv",
                      cmd_train},
    [CMD_EVALUATE] = {"evaluate", 1u << F_DATA | 1u << F_LOAD,
                      "evaluate needs --data SOURCE and --load FILE", cmd_evaluate},
    /* and --data or --images: predict_source() */
    [CMD_PREDICT]  = {"predict", 1u << F_LOAD,
                      "predict needs --load FILE and --data SOURCE or --images FILE",
                      cmd_predict},
    [CMD_HELP]     = {"help", 0, "", cmd_help},
};

enum { ON_TRAIN = 1 << CMD_TRAIN, ON_EVALUATE = 1 << CMD_EVALUATE, ON_PREDICT = 1 << CMD_PREDICT,
       ON_ALL = ON_TRAIN | ON_EVALUATE | ON_PREDICT };

/* How a flag's value is read, and into which type of options field. */
typedef enum value_kind {
    V_NONE,   /* a switch: the int field becomes 1 */
    V_STRING, /* const char * */
    V_LONG,   /* long, in [min, max] */
    V_SIZE,   /* size_t, in [min, max] */
    V_U64,    /* uint64_t, in [min, max] */
    V_FLOAT,  /* float, positive and finite */
    V_FRACTION, /* double, 0 < F < 1 */
    V_BYTES   /* size_t, a byte count such as 500000000, 512M or 2G */
} value_kind;

/* One row per flag: its name, its value, where it goes, which commands
 * accept it. Parsing, range errors and the "applies to" check all come
 * from this table. Kept in step with flag_id. */
static const struct flag_spec {
    const char        *name;
    value_kind         kind;
    size_t             field;    /* offsetof(options, ...) */
    unsigned long long min, max; /* integer kinds */
    unsigned           commands;
} flag_specs[] = {
#define FIELD(f) offsetof(options, f)
    [F_DATA]    = {"data",    V_STRING, FIELD(data),    0, 0, ON_ALL},
    [F_EPOCHS]  = {"epochs",  V_LONG,   FIELD(epochs),  1, SEQRT_MAX_EPOCHS, ON_TRAIN},
    [F_BATCH]   = {"batch",   V_LONG,   FIELD(batch),   1, SEQRT_MAX_BATCH, ON_ALL},
    [F_LR]      = {"lr",      V_FLOAT,  FIELD(lr),      0, 0, ON_TRAIN},
    [F_SEED]    = {"seed",    V_U64,    FIELD(seed),    0, UINT64_MAX, ON_TRAIN},
    [F_THREADS] = {"threads", V_LONG,   FIELD(threads), 0, 1024, ON_ALL},
    [F_HISTORY] = {"history", V_STRING, FIELD(history), 0, 0, ON_TRAIN},
    [F_SAVE]    = {"save",    V_STRING, FIELD(save),    0, 0, ON_TRAIN},
    [F_RESUME]  = {"resume",  V_STRING, FIELD(resume),  0, 0, ON_TRAIN},
    [F_QUIET]   = {"quiet",   V_NONE,   FIELD(quiet),   0, 0, ON_TRAIN},
    [F_LIMIT]   = {"limit",   V_SIZE,   FIELD(limit),   1, UINT32_MAX, ON_ALL},
    [F_LOAD]    = {"load",    V_STRING, FIELD(load),    0, 0, ON_EVALUATE | ON_PREDICT},
    [F_IMAGES]  = {"images",  V_STRING, FIELD(images),  0, 0, ON_PREDICT},
    [F_LABELS]  = {"labels",  V_STRING, FIELD(labels),  0, 0, ON_PREDICT},
    /* read here; the data loaders' limit on decompressed bytes */
    [F_MAX_DATA_BYTES] = {"max-data-bytes", V_BYTES, FIELD(data_limit.max_bytes), 0, 0, ON_ALL},
    [F_TEST]    = {"test",    V_STRING, FIELD(test),    0, 0, ON_TRAIN | ON_EVALUATE},
    [F_TARGET]  = {"target",  V_STRING, FIELD(target),  0, 0, ON_ALL},
    [F_NO_HEADER] = {"no-header", V_NONE, FIELD(no_header), 0, 0, ON_ALL},
    [F_VALIDATION_SPLIT] = {"validation-split", V_FRACTION, FIELD(validation_split), 0, 0,
                            ON_TRAIN},
    [F_OUTPUT]  = {"output",  V_STRING, FIELD(output),  0, 0, ON_PREDICT},
    [F_DROP_LAST] = {"drop-last", V_NONE, FIELD(drop_last), 0, 0, ON_TRAIN},
    [F_RECALIBRATE_BN] = {"recalibrate-bn", V_NONE, FIELD(recalibrate_bn), 0, 0, ON_TRAIN},
    [F_EVAL_TRAIN] = {"eval-train", V_NONE, FIELD(eval_train), 0, 0, ON_TRAIN},
    [F_INIT_FROM] = {"init-from", V_STRING, FIELD(init_from), 0, 0, ON_TRAIN},
#undef FIELD
};
_Static_assert(sizeof flag_specs / sizeof flag_specs[0] == F_COUNT_,
               "flag_specs must have one row per flag_id");

static int has(const options *o, flag_id f)
{
    return (o->given >> f) & 1u;
}

static const char *progname = "trainer";

/* A bad command line: one line naming the problem and where to look. */
static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s --help')\n", progname);
    return -1;
}

/*
 * A whole number in [spec->min, spec->max]. Out of range says which bound,
 * also when the text does not even fit 64 bits: every flag's minimum is
 * >= 0, so any negative number is below it.
 */
static int parse_integer(const struct flag_spec *spec, const char *s, unsigned long long *out)
{
    const char *digits = s + (s[0] == '-' || s[0] == '+');
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, 10);
    int overflow = errno == ERANGE;
    if (*digits < '0' || *digits > '9' || *end != '\0')
        return usage_error("--%s expects a whole number from %llu to %llu, got '%s'",
                           spec->name, spec->min, spec->max, s);
    if ((s[0] == '-' && (v != 0 || overflow)) || (!overflow && v < spec->min))
        return usage_error("--%s must be at least %llu, got '%s'", spec->name, spec->min, s);
    if (overflow || v > spec->max)
        return usage_error("--%s must be at most %llu, got '%s'", spec->name, spec->max, s);
    *out = v;
    return 0;
}

static int parse_float(const struct flag_spec *spec, const char *s, float *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || isnan(x))
        return usage_error("--%s expects a positive number, got '%s'", spec->name, s);
    if (!(x > 0))
        return usage_error("--%s must be greater than 0, got '%s'", spec->name, s);
    if (!(x <= FLT_MAX))
        return usage_error("--%s must be at most %g (the largest float), got '%s'", spec->name,
                           (double)FLT_MAX, s);
    *out = (float)x;
    if (!(*out > 0))
        return usage_error("--%s %s is too small for a float", spec->name, s);
    return 0;
}

/* A fraction strictly between 0 and 1 (--validation-split). */
static int parse_fraction(const struct flag_spec *spec, const char *s, double *out)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || !(x > 0 && x < 1))
        return usage_error("--%s expects a fraction between 0 and 1 (exclusive), got '%s'",
                           spec->name, s);
    *out = x;
    return 0;
}

/* Stores the value of flag f into its options field. */
static int parse_value(options *o, flag_id f, const char *v)
{
    const struct flag_spec *spec = &flag_specs[f];
    void *field = (char *)o + spec->field;
    unsigned long long n = 0;
    switch (spec->kind) {
    case V_NONE:
        *(int *)field = 1;
        return 0;
    case V_STRING:
        *(const char **)field = v;
        return 0;
    case V_FLOAT:
        return parse_float(spec, v, (float *)field);
    case V_FRACTION:
        return parse_fraction(spec, v, (double *)field);
    case V_BYTES:
        if (seqrt_parse_bytes(v, (size_t *)field) != 0)
            return usage_error("--%s expects a size in bytes such as 500000000, 512M or 2G, "
                               "got '%s'", spec->name, v);
        return 0;
    case V_LONG:
    case V_SIZE:
    case V_U64:
        if (parse_integer(spec, v, &n))
            return -1;
        if (spec->kind == V_LONG)
            *(long *)field = (long)n;
        else if (spec->kind == V_SIZE)
            *(size_t *)field = (size_t)n;
        else
            *(uint64_t *)field = (uint64_t)n;
        return 0;
    }
    return usage_error("internal: unhandled flag");
}

/* The flag named by arg ("--name" or "--name=value"); -1 if unknown. */
static int find_flag(const char *name, size_t name_len)
{
    for (int k = 0; k < F_COUNT_; k++) {
        if (strlen(flag_specs[k].name) == name_len &&
            strncmp(flag_specs[k].name, name, name_len) == 0)
            return k;
    }
    return -1;
}

/* One "--flag [value]" at argv[*i]; advances *i past a separate value. */
static int parse_flag(int argc, char **argv, int *i, options *o)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return usage_error("unexpected argument '%s'", arg);
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    int f = find_flag(name, name_len);
    if (f < 0)
        return usage_error("unknown option '--%.*s'", (int)name_len, name);
    const struct flag_spec *spec = &flag_specs[f];
    if (!(spec->commands & (1u << o->cmd)))
        return usage_error("option '--%s' does not apply to '%s'", spec->name,
                           commands[o->cmd].name);
    const char *value = NULL;
    if (spec->kind != V_NONE) {
        if (eq)
            value = eq + 1;
        else if (*i + 1 < argc)
            value = argv[++*i];
        if (!value || value[0] == '\0')
            return usage_error("option '--%s' needs a value", spec->name);
    } else if (eq) {
        return usage_error("option '--%s' takes no value", spec->name);
    }
    if (parse_value(o, (flag_id)f, value))
        return -1;
    o->given |= 1u << f;
    return 0;
}

/* Fills o from argv. Returns 0, or -1 after printing a usage error. */
static int parse_args(int argc, char **argv, options *o)
{
    int i = 1;
    memset(o, 0, sizeof *o);
    o->cmd = CMD_TRAIN;
    if (argc > 1 && argv[1][0] != '-') {
        int found = 0;
        for (int c = 0; c <= CMD_HELP; c++) {
            if (strcmp(argv[1], commands[c].name) == 0) {
                o->cmd = (command)c;
                found = 1;
            }
        }
        if (!found)
            return usage_error("unknown command '%s'; commands are train, evaluate, predict",
                               argv[1]);
        i = 2;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            o->cmd = CMD_HELP;
            return 0;
        }
        if (o->cmd != CMD_HELP && parse_flag(argc, argv, &i, o))
            return -1;
    }
    if ((o->given & commands[o->cmd].required) != commands[o->cmd].required)
        return usage_error("%s", commands[o->cmd].needs);
    return 0;
}

/* "loss" and the model's metrics joined with " - ", each name after
 * prefix ("val_", "test_"), as evaluate and the test line print them. */
static void metric_names(const seqrt_model *m, const char *prefix, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "%sloss: X", prefix);
    for (int i = 0; i < m->metric_count && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, " - %s%s: X", prefix, m->metrics[i].name);
}

static void print_help(const seqrt_model *m)
{
    char header[1024], line[512], val_line[512], test_line[512];
    seqrt_history_columns cols = seqrt_history_columns_of(m, 1);
    seqrt_history_header(header, sizeof header, &cols);
    metric_names(m, "", line, sizeof line);
    metric_names(m, "val_", val_line, sizeof val_line);
    metric_names(m, "test_", test_line, sizeof test_line);
    printf("usage: %s [train] --data SOURCE [options]\n"
           "       %s evaluate --data SOURCE --load FILE\n"
           "       %s predict --load FILE (--data SOURCE | --images FILE [--labels FILE])\n"
           "                  [--output FILE.csv]\n"
           "       %s --help\n\n",
           progname, progname, progname, progname);
    printf("Trainer for model '%s' (%s), generated by seqc; libseqrt %s.\n\n", m->name,
           m->source ? m->source : "?", SEQRT_VERSION);
    printf("SOURCE is one of (docs/data.md):\n"
           "  DIR              MNIST-style IDX files: DIR/train-{images-idx3,labels-idx1}-\n"
           "                   ubyte[.gz] to train, the t10k-* pair to test\n"
           "  FILE.npz         NumPy arrays x_train, y_train; optional x_test, y_test\n"
           "                   and x_val, y_val (np.savez or np.savez_compressed)\n"
           "  FILE.csv[.gz]    (any other file) a header row of column names, then one\n"
           "                   sample per row; the target is the last column\n"
           "  --test FILE.csv  the test set of a CSV source, with the same columns\n"
           "  --target NAMES   the target column(s) of a CSV, by name, comma-separated\n"
           "  --no-header      the CSV's line 1 is data; columns are numbered from 0\n"
           "                   (--target then takes numbers)\n"
           "Bytes (IDX ubyte, NumPy uint8) are divided by 255; every other value is\n"
           "used as it is.\n\n");
    printf("train (the default command) trains on the training set and validates after\n"
           "every epoch on x_val/y_val if the source has them, else on the last\n"
           "fraction F of the training set (--validation-split F, or the model's\n"
           "validation_split), else on the test set. When validation is x_val or the\n"
           "split, the test set is evaluated once at the end. Defaults come from the\n"
           "model file:\n"
           "  --data SOURCE    the data, as above\n"
           "  --validation-split F  hold out the last fraction F (0 < F < 1) of the\n"
           "                   training data, before shuffling, as Keras does (default %g)\n"
           "  --epochs N       epochs to train, in total when resuming (default %d)\n"
           "  --batch N        mini-batch size (default %d)\n"
           "  --lr X           learning rate, the base of the model's schedule\n"
           "                   (default %g)\n"
           "  --seed N         seed for the initial weights, the shuffles and dropout\n"
           "                   (default %llu)\n"
           "  --threads N      threads for the kernels; 0 = the default: the CPUs,\n"
           "                   at most 2\n"
           "  --history FILE   CSV, one row per epoch, the model's metrics as columns\n"
           "                   (no val_ columns when there is no validation set)\n"
           "  --save FILE      write a checkpoint after every epoch\n"
           "  --resume FILE    continue from a checkpoint (its batch size, learning rate\n"
           "                   and epoch target unless given again; give the same\n"
           "                   --data and --limit)\n"
           "  --limit N        use only the first N training, N validation and N test\n"
           "                   samples\n"
           "  --max-data-bytes N  refuse data over N bytes in memory (train and test\n"
           "                   together; 512M, 2G also read; default half the memory)\n"
           "  --quiet          print nothing per epoch (the test line still)\n",
           m->validation_split, m->epochs, m->batch, (double)m->lr,
           (unsigned long long)m->seed);
    printf("  --drop-last      drop the last batch of every epoch when it is smaller than\n"
           "                   the batch size (the model's drop_last: %s)\n"
           "  --recalibrate-bn after the last epoch, recompute every batchnorm's moving\n"
           "                   mean and variance as the average of its batch statistics\n"
           "                   over one unshuffled pass of the training set, before the\n"
           "                   last validation, the checkpoint and the test (the model's\n"
           "                   recalibrate_bn: %s)\n"
           "  --eval-train     after every epoch, the training set's loss in inference\n"
           "                   mode (train_eval_loss, on the progress line and in the\n"
           "                   history, after the training metrics)\n"
           "  --init-from FILE start from the weights of a checkpoint of a model with the\n"
           "                   same parameters (a batchnorm flag or the train block may\n"
           "                   differ); the optimizer, epochs and generators start fresh;\n"
           "                   not with --resume\n\n",
           m->drop_last ? "true" : "false", m->recalibrate_bn ? "true" : "false");
    printf("What train prints and writes for this model's metrics (the model file's\n"
           "`metrics` line), each epoch's training values being means over its batches:\n"
           "  per epoch:   N/N [...] - 1s 2ms/step - %s\n"
           "               - %s\n"
           "  --history:   %s\n"
           "               (no val_ columns when there is no validation set)\n"
           "  at the end, when the test set is not the validation set, one line, also\n"
           "  with --quiet:\n"
           "               %s\n\n",
           line, val_line, header, test_line);
    printf("evaluate prints '%s'\n"
           "for a checkpoint on the test set of SOURCE (x_val if it has no test set; a\n"
           "CSV without --test: the file itself; --limit N: the first N), in batches of\n"
           "the checkpoint's batch size: the numbers equal, bit for bit, the last\n"
           "epoch's validation or the test line on the same set, whatever --threads\n"
           "either run used (%%.9g, as the history).\n\n"
           "predict prints what the checkpoint predicts for each sample, one line each\n"
           "(the class for a categorical loss, 0 or 1 per output for\n"
           "binary_crossentropy, the values for regression): of an IDX images file (--images, with --labels the targets), or of\n"
           "--data: a CSV's every row (the targets are optional), an .npz's x_test, a\n"
           "DIR's t10k files; with targets, then one line of\n"
           "'%s'.\n"
           "--output FILE.csv writes instead one row per sample: for a\n"
           "classifier 'class,probability_0,...,probability_<K-1>', for\n"
           "binary_crossentropy 'probability_0,...', for regression 'output_0,...'.\n\n",
           val_line, line);
    printf("Notes:\n"
           "  Two generators come from the seed: one draws the initial weights, then\n"
           "  each epoch's shuffle; the other (seed XOR 0x64726f706f7574, \"dropout\")\n"
           "  draws the dropout masks, so models that differ only in dropout see the\n"
           "  samples in the same order. The same seed gives the same history and\n"
           "  weights bit for bit, whatever --threads, and a resumed run continues\n"
           "  exactly where the checkpoint stopped.\n"
           "  A normalize layer learns its mean and variance from the training inputs\n"
           "  before the first epoch (not when resuming: the checkpoint holds them).\n"
           "  A last mini-batch smaller than the batch size is trained as it is, as\n"
           "  Keras does, unless drop_last (--drop-last). With batchnorm, a last batch\n"
           "  of exactly 1 sample is dropped (with a note): batchnorm would normalize\n"
           "  it by its own statistics and output exactly beta; --batch 1 is refused.\n"
           "  The train block's schedule sets each epoch's rate (an lr column in the\n"
           "  history); early_stopping may end training before --epochs, and with\n"
           "  restore_best or save_best the --save checkpoint's weights (what\n"
           "  evaluate and predict load) are the best epoch's. The checkpoint holds\n"
           "  that state, so --resume continues it exactly.\n"
           "  Training stops with an error if the loss becomes NaN or infinite, or\n"
           "  (checked after every epoch) a weight does, naming the layer; the last\n"
           "  checkpoint written is the one of the last good epoch.\n"
           "  Outputs: a file is replaced atomically, a symlink written through, a\n"
           "  device written in place; a directory or a missing directory is refused\n"
           "  before training. Two trainers cannot --save to one file.\n"
           "  Exit status: 0 success, 1 error in data, files or training, 2 bad usage.\n");
}

/* ------------------------------------------------------------- buffers */

/* Everything a run allocates, once. */
typedef struct buffers {
    float    *params;    /* [param_count] */
    float    *grads;     /* [trainable_count], then under MPI the rest of
                            the step's sum over the ranks (run_sum_step) */
    float    *opt_state; /* [opt_state_count], zeroed */
    float    *arena;     /* [act_per_sample * capacity] */
    float    *x;         /* [capacity, input_size] */
    int32_t  *y;         /* [capacity] class numbers */
    float    *t;         /* [capacity, outputs] target rows */
    uint32_t *order;     /* [samples] */
    int       capacity;  /* rows of one forward: the batch, or under MPI
                            the largest shard of it */
    /* MPI: the global batch's outputs and loss, summed over the ranks
     * right after the gradients (one sum per step), and its targets */
    float    *sum_out;   /* [global, outputs] + 1, inside grads' block */
    int32_t  *gy;        /* [global] class numbers */
    float    *gt;        /* [global, outputs] target rows */
    int       global;    /* rows of a global batch: capacity * ranks */
} buffers;

static void buffers_free(buffers *b)
{
    free(b->params);
    free(b->grads);
    free(b->opt_state);
    free(b->arena);
    free(b->x);
    free(b->y);
    free(b->t);
    free(b->order);
    free(b->gy);
    free(b->gt);
    memset(b, 0, sizeof *b);
}

/* calloc that never returns NULL for a zero count and checks n * size. */
static void *alloc_zero(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return calloc(n ? n : 1, size);
}

static int alloc_params(buffers *b, const seqrt_model *m)
{
    b->params = alloc_zero(m->param_count, sizeof(float));
    b->opt_state = alloc_zero(m->opt_state_count, sizeof(float));
    if (!b->params || !b->opt_state) {
        fprintf(stderr, "error: out of memory for %zu parameters\n", m->param_count);
        return -1;
    }
    return 0;
}

/* The batch buffers for forward passes of up to `capacity` rows, and the
 * gradients (alloc_params has the weights). Under MPI (ranks > 1) the
 * gradients' block goes on with the room for a global batch of
 * capacity * ranks rows' outputs and loss, summed with them in one call,
 * and the global batch's targets. */
static int alloc_batch(buffers *b, const seqrt_model *m, int capacity, size_t samples,
                       int ranks)
{
    size_t cap = (size_t)capacity, outs = (size_t)m->outputs;
    b->capacity = capacity;
    b->global = capacity * ranks;
    size_t global = (size_t)b->global, sum_extra = ranks > 1 ? global * outs + 1 : 0;
    b->grads = alloc_zero(m->trainable_count + sum_extra, sizeof(float));
    b->sum_out = ranks > 1 && b->grads ? b->grads + m->trainable_count : NULL;
    if (ranks > 1) {
        b->gy = alloc_zero(global, sizeof(int32_t));
        b->gt = alloc_zero(global * outs, sizeof(float));
    }
    b->arena = m->act_per_sample > SIZE_MAX / cap ? NULL
                                                  : alloc_zero(m->act_per_sample * cap, sizeof(float));
    b->x = (size_t)m->input_size > SIZE_MAX / cap ? NULL
                                                  : alloc_zero((size_t)m->input_size * cap, sizeof(float));
    b->y = alloc_zero(cap, sizeof(int32_t));
    b->t = (size_t)m->outputs > SIZE_MAX / cap ? NULL
                                               : alloc_zero((size_t)m->outputs * cap, sizeof(float));
    b->order = alloc_zero(samples, sizeof(uint32_t));
    /* The dense kernels' scratch (a transposed weight, at most
     * trainable_count floats; with threads, partial outputs, at most
     * act_per_sample * capacity floats per extra chunk, gemm.h) is sized
     * here, so the training step itself never allocates. */
    size_t extra = seqrt_parallel_parts() > 1 ? SEQRT_DENSE_K_CHUNKS - 1 : 0;
    size_t partial = b->arena ? extra * m->act_per_sample * cap : 0;
    seqrt_parallel_scratch(partial > m->trainable_count ? partial : m->trainable_count);
    if (!b->arena || !b->x || !b->y || !b->t || !b->order || !b->grads ||
        (ranks > 1 && (!b->gy || !b->gt))) {
        fprintf(stderr, "error: out of memory for a batch of %d (%zu floats of activations "
                        "per sample)\n", capacity, m->act_per_sample);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- data */

/* seqrt_load_data's rule: a file named *.npz is an archive. */
static int is_npz(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".npz") == 0;
}

/* The data flags as seqrt_load_data takes them. */
static seqrt_data_spec data_spec(const options *o)
{
    seqrt_data_spec spec = {.data = o->data, .test = o->test,
                            .csv = {.target = o->target, .no_header = o->no_header}};
    return spec;
}

/* Every set is checked before any work: its shape against the model's
 * input, finite inputs, targets of the kind the loss needs. */
static int check_set(const seqrt_model *m, const seqrt_dataset *d, int need_targets)
{
    seqrt_error err = {{0}};
    if (seqrt_dataset_check(d, m->input_size, m->outputs, seqrt_loss_targets(m->loss),
                            need_targets, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/*
 * A training run's sets (docs/data.md): validation is the source's x_val
 * when it has one, else the last fraction of the training set when a
 * validation split is asked for (--validation-split, else the model's),
 * else the test set (the tutorial's way: t10k validates every epoch).
 * *test is the test set only when validation is something else (count 0
 * otherwise): it is evaluated once, after training. *val may be empty
 * (a CSV without --test and no split): training without validation.
 */
static int load_run_sets(const options *o, const seqrt_model *m, seqrt_dataset *train,
                         seqrt_dataset *val, seqrt_dataset *test)
{
    seqrt_data_spec spec = data_spec(o);
    seqrt_data_sets s;
    seqrt_error err = {{0}};
    double split = has(o, F_VALIDATION_SPLIT) ? o->validation_split : m->validation_split;
    memset(val, 0, sizeof *val);
    memset(test, 0, sizeof *test);
    if (seqrt_load_data(&spec, &o->data_limit, &s, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    *train = s.train;
    if (s.val.count) {
        *val = s.val;
        *test = s.test;
    } else if (split > 0) {
        if (seqrt_dataset_split(train, split, val, &err) != 0) {
            fprintf(stderr, "error: %s\n", err.msg);
            seqrt_dataset_free(&s.test);
            return -1;
        }
        *test = s.test;
    } else {
        *val = s.test;
    }
    if (check_set(m, train, 1) || (val->count && check_set(m, val, 1)) ||
        (test->count && check_set(m, test, 1)))
        return -1; /* the caller frees the three */
    return 0;
}

/* The set `evaluate` reads, and only that: a DIR's t10k files; an .npz's
 * x_test, else its x_val; a CSV's --test file, else the file itself. */
static int load_eval_set(const options *o, const seqrt_model *m, seqrt_dataset *d)
{
    seqrt_data_spec spec = data_spec(o);
    seqrt_error err = {{0}};
    struct stat st;
    int rc;
    memset(d, 0, sizeof *d);
    if (stat(o->data, &st) != 0) {
        rc = seqrt_fail(&err, "%s: cannot open: %s", o->data, strerror(errno));
    } else if (S_ISDIR(st.st_mode) || is_npz(o->data)) {
        seqrt_data_spec flags = spec; /* the CSV flags are errors here */
        flags.data = o->data;
        seqrt_data_sets none;
        if (o->test || o->target || o->no_header) {
            /* refused before anything is read, with seqrt_load_data's message */
            (void)seqrt_load_data(&flags, &o->data_limit, &none, &err);
            seqrt_data_sets_free(&none);
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = seqrt_load_mnist_dir_opts(o->data, "t10k", &o->data_limit, d, &err);
        } else {
            rc = seqrt_load_npz(o->data, "test", &o->data_limit, d, &err);
            if (rc == 1)
                rc = seqrt_load_npz(o->data, "val", &o->data_limit, d, &err);
            if (rc == 1)
                rc = seqrt_fail(&err, "%s: no test set (x_test, y_test) and no validation "
                                "set (x_val, y_val) to evaluate", o->data);
        }
    } else {
        rc = seqrt_load_csv(o->test ? o->test : o->data, &spec.csv, &o->data_limit, d, &err);
    }
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    return check_set(m, d, 1);
}

/* predict's sources: --data or --images (with its --labels), not both. */
static int predict_usage(const options *o)
{
    if (!!o->images == !!o->data || (o->labels && !o->images))
        return usage_error(o->labels && !o->images ? "--labels goes with --images"
                           : o->images ? "give --data or --images, not both"
                                       : "predict needs --data SOURCE or --images FILE");
    return 0;
}

/* The samples `predict` reads: --images [--labels] (IDX), or --data: a
 * CSV's every row (the target columns optional), an .npz's x_test, a
 * DIR's t10k files. *targets: the set has the targets to score. */
static int load_predict_set(const options *o, const seqrt_model *m, seqrt_dataset *d,
                            int *targets)
{
    seqrt_error err = {{0}};
    struct stat st;
    int rc;
    memset(d, 0, sizeof *d);
    if (o->images) {
        rc = seqrt_load_idx_opts(o->images, o->labels, &o->data_limit, d, &err);
    } else if (stat(o->data, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = seqrt_load_mnist_dir_opts(o->data, "t10k", &o->data_limit, d, &err);
    } else if (is_npz(o->data)) {
        rc = seqrt_load_npz(o->data, "test", &o->data_limit, d, &err);
        if (rc == 1)
            rc = seqrt_fail(&err, "%s: no x_test.npy in the archive: predict reads x_test",
                            o->data);
    } else {
        seqrt_csv_opts csv = {.target = o->target, .no_header = o->no_header};
        rc = seqrt_load_csv(o->data, &csv, &o->data_limit, d, &err);
        /* without --target, a file of inputs only: its last column is no target */
        if (rc == 0 && !o->target && d->sample_size != (size_t)m->input_size &&
            d->sample_size + (size_t)d->y_width == (size_t)m->input_size) {
            seqrt_dataset_free(d);
            csv.no_target = 1;
            rc = seqrt_load_csv(o->data, &csv, &o->data_limit, d, &err);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    *targets = d->y_width > 0;
    return check_set(m, d, *targets);
}

/* What predict --output writes: one row per sample of the model's outputs
 * (probabilities when the loss is a cross-entropy, with the arg-max class
 * first for a classifier). */
typedef struct predictions {
    const seqrt_model *m;
    const float       *rows; /* [count, outputs] */
    size_t             count;
} predictions;

static int write_predictions(FILE *f, const void *ctx)
{
    const predictions *p = ctx;
    const int k = p->m->outputs;
    seqrt_target_kind kind = seqrt_loss_targets(p->m->loss);
    int classifier = kind == SEQRT_TARGET_CLASS || kind == SEQRT_TARGET_ROWS;
    const char *name = kind == SEQRT_TARGET_VALUES ? "output" : "probability";
    if (classifier)
        fputs("class,", f);
    for (int c = 0; c < k; c++)
        fprintf(f, "%s%s_%d", c ? "," : "", name, c);
    fputc('\n', f);
    for (size_t i = 0; i < p->count; i++) {
        const float *row = p->rows + i * (size_t)k;
        if (classifier) {
            int best = 0;
            for (int c = 1; c < k; c++)
                if (row[c] > row[best])
                    best = c;
            fprintf(f, "%d,", best);
        }
        for (int c = 0; c < k; c++)
            fprintf(f, "%s%.9g", c ? "," : "", (double)row[c]);
        if (fputc('\n', f) == EOF)
            return -1;
    }
    return ferror(f) ? -1 : 0;
}

static size_t limited(size_t count, const options *o)
{
    return has(o, F_LIMIT) && o->limit < count ? o->limit : count;
}

/* ------------------------------------------------------------ evaluation */

/* Batch n samples order[start..) of d into b and describe them as a step:
 * the class numbers (when the data has one target per sample) and the
 * target rows (one-hot rows of class numbers when the model has more
 * outputs than the data has targets). */
static seqrt_step make_step(const seqrt_model *m, buffers *b, const seqrt_dataset *d,
                            const uint32_t *order, size_t start, int n, seqrt_rng *rng)
{
    int labels = d->y_width == 1;
    seqrt_dataset_batch(d, order, start, n, b->x, b->y, b->t, m->outputs);
    seqrt_step s = {.n = n, .capacity = b->capacity, .x = b->x,
                    .y = labels ? b->y : NULL, .t = b->t,
                    .params = b->params, .grads = b->grads, .arena = b->arena, .rng = rng,
                    .rows = n};
    return s;
}

/* n rows of outputs and their targets into the metrics: the class
 * numbers for a class loss, else the target rows (metrics.h). */
static void metrics_add_rows(seqrt_metrics *acc, const seqrt_model *m, int n,
                             const float *output, const int32_t *y, const float *t)
{
    if (seqrt_loss_targets(m->loss) == SEQRT_TARGET_CLASS)
        seqrt_metrics_add(acc, n, output, y, NULL);
    else
        seqrt_metrics_add(acc, n, output, NULL, t);
}

/* A step's output and targets into the metrics. Called right after a
 * forward pass, before backward may reuse the arena. */
static void metrics_add(seqrt_metrics *acc, const seqrt_model *m, const seqrt_step *s)
{
    metrics_add_rows(acc, m, s->n, s->output, s->y, s->t);
}

/*
 * Under MPI a step is one rank's shard of the global batch (seqrt_step
 * row0, rows). What the metrics and the progress line need of the whole
 * batch travels with the gradients, in the one sum over the ranks a step
 * takes: b->grads[0, trainable_count) (each rank's part of the global
 * gradient: the loss divides by the global rows), then sum_out: the
 * global batch's [rows, outputs] with this rank's rows filled and zeros
 * elsewhere (so the sum is the concatenation, exactly), then n * loss.
 * stash_outputs fills sum_out after a forward pass; after the sum,
 * sum_out holds every rank's outputs and the global batch's loss sum.
 */
static void stash_outputs(const seqrt_model *m, buffers *b, const seqrt_step *s)
{
    size_t outs = (size_t)m->outputs, rows = (size_t)s->rows;
    memset(b->sum_out, 0, (rows * outs + 1) * sizeof(float));
    if (s->n > 0) {
        memcpy(b->sum_out + (size_t)s->row0 * outs, s->output,
               (size_t)s->n * outs * sizeof(float));
        b->sum_out[rows * outs] = s->loss * (float)s->n;
    }
}

/* After the sum: the global batch's mean loss; its targets (rows
 * order[start..start+rows) of d) into gy, gt, and with sum_out's outputs
 * into the metrics. */
static float global_metrics(seqrt_metrics *acc, const seqrt_model *m, buffers *b,
                            const seqrt_dataset *d, const uint32_t *order, size_t start,
                            int rows)
{
    seqrt_dataset_batch(d, order, start, rows, NULL, b->gy, b->gt, m->outputs);
    metrics_add_rows(acc, m, rows, b->sum_out, d->y_width == 1 ? b->gy : NULL, b->gt);
    return b->sum_out[(size_t)rows * (size_t)m->outputs] / (float)rows;
}

/* values[i] = metric i over what acc holds. */
static void metrics_values(seqrt_metrics *acc, const seqrt_model *m, double *values)
{
    for (int i = 0; i < m->metric_count; i++)
        values[i] = seqrt_metrics_value(acc, i);
}

/* Room for the metrics of sets of up to max_rows samples. */
static int metrics_init(seqrt_metrics *acc, const seqrt_model *m, size_t max_rows)
{
    seqrt_error err = {{0}};
    if (seqrt_metrics_init(acc, m, max_rows, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/*
 * Loss and metrics (values[metric_count]) of the first `count` samples of
 * d with forward_infer, in batches of b->capacity in file order: the loss
 * is the sample-weighted mean of the batch means. The generator handed to
 * the model is a scratch copy, so evaluation can never change a training
 * stream.
 */
static double evaluate(const seqrt_model *m, buffers *b, const seqrt_comm *comm,
                       const seqrt_dataset *d, size_t count, seqrt_metrics *acc,
                       double *values)
{
    double sum = 0;
    seqrt_rng scratch;
    seqrt_rng_seed(&scratch, 0);
    seqrt_metrics_reset(acc);
    int ranks = seqrt_comm_ranks(comm), rank = seqrt_comm_rank(comm);
    if (ranks > 1) {
        /* batches of `global` rows, each rank a shard of every one: a
         * rank's shard may be empty at the end of the set */
        size_t outs = (size_t)m->outputs;
        for (size_t start = 0; start < count; start += (size_t)b->global) {
            int rows = count - start < (size_t)b->global ? (int)(count - start) : b->global;
            int lo, n;
            seqrt_shard_rows(rows, rank, ranks, &lo, &n);
            seqrt_step s = {.n = n, .row0 = lo, .rows = rows};
            if (n > 0) {
                s = make_step(m, b, d, NULL, start + (size_t)lo, n, &scratch);
                s.comm = comm;
                s.row0 = lo;
                s.rows = rows;
                m->forward_infer(&s);
            }
            stash_outputs(m, b, &s);
            comm->sum_float(comm, b->sum_out, (size_t)rows * outs + 1);
            sum += (double)global_metrics(acc, m, b, d, NULL, start, rows) * rows;
        }
        metrics_values(acc, m, values);
        return sum / (double)count;
    }
    for (size_t start = 0; start < count; start += (size_t)b->capacity) {
        int n = count - start < (size_t)b->capacity ? (int)(count - start) : b->capacity;
        seqrt_step s = make_step(m, b, d, NULL, start, n, &scratch);
        m->forward_infer(&s);
        sum += (double)s.loss * n;
        metrics_add(acc, m, &s);
    }
    metrics_values(acc, m, values);
    return sum / (double)count;
}

/* "PREFIXloss: X - PREFIXname: Y ..." with %.9g (the history's format, so
 * the two compare as text) and a newline, on stdout. */
static void print_result(const seqrt_model *m, const char *prefix, double loss,
                         const double *values)
{
    printf("%sloss: %.9g", prefix, loss);
    for (int i = 0; i < m->metric_count; i++)
        printf(" - %s%s: %.9g", prefix, m->metrics[i].name, values[i]);
    putchar('\n');
    fflush(stdout);
}

/* ------------------------------------------------------------------ train */

/* A training run's state, from the first check to the last epoch. */
typedef struct run {
    const seqrt_model    *m;
    const options        *o;
    const seqrt_comm     *comm;       /* o->comm: NULL, one process */
    int                   rank, ranks;
    double                sum_seconds; /* MPI: time in the steps' sums (waiting
                                         for the other ranks included) */
    double                step_seconds; /* and in the epochs' steps */
    long                  sum_steps;
    buffers               b;
    seqrt_dataset         train, val;
    seqrt_dataset         test;       /* evaluated once after training; count 0:
                                         none (validation is the test set) */
    seqrt_history         hist;
    int                   hist_open;
    seqrt_checkpoint_lock lock;
    seqrt_rng             rng;        /* weights, then each epoch's shuffle */
    seqrt_rng             drop;       /* dropout masks (seqrt_step.rng) */
    seqrt_metrics         acc;        /* the model's metrics, for any set */
    int                   acc_ready;
    int64_t               t;          /* optimizer steps taken */
    long                  first_epoch, epochs, batch;
    float                 lr;
    uint64_t              seed;
    size_t                n_train, n_val, n_test; /* n_val 0: no validation */
    int                   steps;      /* per epoch */
    size_t                n_used;     /* samples an epoch trains on: n_train less
                                         a dropped last batch (run_plan_batches) */
    int                   drop_last;  /* --drop-last or the model's drop_last */
    int                   recalibrate; /* --recalibrate-bn or the model's */
    long                  saved_epoch; /* the epoch --save holds; 0 if none */
    /* the recipe (schedule, early stopping, best weights): recipe_* below */
    float                 epoch_lr;   /* the rate of the epoch being trained */
    seqrt_plateau_state   plateau;
    seqrt_best_state      best;       /* the best epoch, early stopping's count */
    float                *best_params; /* [param_count] when tracked, else NULL */
} run;

/* Every output is checked before any work, so a typo in a path does not
 * cost an epoch; the checkpoint is locked so that a second trainer with
 * the same --save is refused now, not after silently sharing it. */
static int run_check_outputs(run *r)
{
    seqrt_error err = {{0}};
    const options *o = r->o;
    struct stat st;
    if (o->save && o->history && strcmp(o->save, o->history) == 0 &&
        (stat(o->save, &st) != 0 || S_ISREG(st.st_mode))) { /* /dev/null may take both */
        fprintf(stderr, "error: --save and --history both name %s; give each its own file\n",
                o->save);
        return -1;
    }
    if ((o->save && seqrt_outfile_check(o->save, &err)) ||
        (o->history && seqrt_outfile_check(o->history, &err)) ||
        (o->save && seqrt_checkpoint_lock_acquire(&r->lock, o->save, &err))) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- the recipe */
/*
 * The training recipe around the epochs (seqrt.h states each rule):
 * the rate of each epoch (the schedule, plateau included), early
 * stopping, and the best epoch's weights (early_stopping restore_best,
 * save_best). Its whole state is in the checkpoint (recipe_meta,
 * recipe_resume), so a resumed run takes the decisions the uninterrupted
 * one took.
 */

/* Are the best epoch's weights kept? */
static int recipe_tracks_best(const seqrt_model *m)
{
    return m->save_best || (m->early_stopping.enabled && m->early_stopping.restore_best);
}

/* "val_loss", "accuracy": the monitored column's name */
static const char *recipe_monitor_name(const seqrt_model *m, const seqrt_monitor *mon)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "%s%s", mon->val ? "val_" : "",
             mon->metric < 0 || mon->metric >= m->metric_count ? "loss"
                                                               : m->metrics[mon->metric].name);
    return buf;
}

static double recipe_monitor_value(const seqrt_monitor *mon, const seqrt_history_row *row)
{
    if (mon->metric < 0)
        return mon->val ? row->val_loss : row->loss;
    return mon->val ? row->val_metrics[mon->metric] : row->metrics[mon->metric];
}

static int recipe_alloc(run *r)
{
    if (!recipe_tracks_best(r->m))
        return 0;
    r->best_params = alloc_zero(r->m->param_count, sizeof(float));
    if (!r->best_params) {
        fprintf(stderr, "error: out of memory for the best epoch's %zu parameters\n",
                r->m->param_count);
        return -1;
    }
    return 0;
}

/* A fresh run: no best epoch yet, the plateau at the base rate. */
static void recipe_fresh(run *r)
{
    const seqrt_model *m = r->m;
    seqrt_plateau_start(&m->schedule, &r->plateau, r->lr);
    if (m->schedule.kind != SEQRT_SCHED_PLATEAU)
        r->plateau.lr = 0;
    r->best = (seqrt_best_state){.best = seqrt_monitor_worst(&m->best_monitor)};
    if (r->best_params)
        memcpy(r->best_params, r->b.params, m->param_count * sizeof(float));
}

static void recipe_resume(run *r, const seqrt_checkpoint_meta *meta)
{
    r->plateau.lr = meta->plateau_lr;
    r->plateau.wait = meta->plateau_wait;
    r->plateau.best = meta->plateau_best;
    r->best = (seqrt_best_state){.best = meta->best, .best_epoch = meta->best_epoch,
                                 .wait = meta->es_wait};
    /* a checkpoint of a run without a plateau, resumed with --lr: start it */
    if (r->m->schedule.kind == SEQRT_SCHED_PLATEAU && !(r->plateau.lr > 0))
        r->plateau.lr = r->lr;
}

static void recipe_meta(const run *r, seqrt_checkpoint_meta *meta)
{
    meta->plateau_lr = r->plateau.lr;
    meta->plateau_wait = r->plateau.wait;
    meta->plateau_best = r->plateau.best;
    meta->es_wait = r->best.wait;
    meta->best_epoch = r->best.best_epoch;
    meta->best = r->best.best;
    meta->stopped = r->best.stopped;
    meta->best_params = r->best_params;
    meta->flags = (r->best_params ? SEQRT_CKPT_HAS_BEST : 0u) |
                  (r->best_params && r->best.best_epoch > 0 ? SEQRT_CKPT_USE_BEST : 0u);
}

/* A monitor of a validation value needs a validation set. */
static int recipe_check_validation(const run *r)
{
    const seqrt_model *m = r->m;
    const seqrt_monitor *need = NULL;
    const char *who = NULL;
    if (m->early_stopping.enabled && m->early_stopping.monitor.val)
        need = &m->early_stopping.monitor, who = "early_stopping";
    else if (m->save_best && m->best_monitor.val)
        need = &m->best_monitor, who = "save_best";
    else if (m->schedule.kind == SEQRT_SCHED_PLATEAU && m->schedule.monitor.val)
        need = &m->schedule.monitor, who = "schedule plateau";
    if (!need || r->n_val > 0)
        return 0;
    fprintf(stderr, "error: %s watches %s, but this run has no validation set: give "
                    "--validation-split F (or validation_split in the train block), or data "
                    "with a test or validation set\n",
            who, recipe_monitor_name(m, need));
    return -1;
}

static float recipe_epoch_lr(const run *r, long epoch)
{
    return seqrt_schedule_lr(&r->m->schedule, r->lr, epoch, r->epochs, r->plateau.lr);
}

/* After an epoch's validation: the plateau, the best epoch, early
 * stopping (Keras's order of checks; Keras counts epochs from 0, so its
 * "epoch > 0" is our epoch > 1). */
static void recipe_after_epoch(run *r, long epoch, const seqrt_history_row *row)
{
    const seqrt_model *m = r->m;
    const options *o = r->o;
    if (m->schedule.kind == SEQRT_SCHED_PLATEAU) {
        float old = r->plateau.lr;
        if (seqrt_plateau_update(&m->schedule, &r->plateau, epoch,
                                 recipe_monitor_value(&m->schedule.monitor, row)) &&
            !o->quiet)
            printf("Epoch %ld: %s did not improve for %d epochs: learning rate %.9g -> %.9g\n",
                   epoch, recipe_monitor_name(m, &m->schedule.monitor), m->schedule.patience,
                   (double)old, (double)r->plateau.lr);
    }
    const seqrt_early_stopping *es = &m->early_stopping;
    if (!es->enabled && !r->best_params)
        return;
    double value = recipe_monitor_value(&m->best_monitor, row);
    if (seqrt_best_update(&m->best_monitor, m->best_min_delta, es, &r->best, epoch, value)) {
        if (r->best_params)
            memcpy(r->best_params, r->b.params, m->param_count * sizeof(float));
    } else if (r->best.stopped) {
        printf("Epoch %ld: early stopping: %s did not improve on %.9g (epoch %u) for %d "
               "epochs\n",
               epoch, recipe_monitor_name(m, &es->monitor), r->best.best, r->best.best_epoch,
               es->patience);
        fflush(stdout);
    }
}

/* ------------------------------------------------- batchnorm controls */

/* 1234567 as "1,234,567" into buf. */
static const char *with_commas(size_t n, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n), out = 0;
    for (int i = 0; i < len && (size_t)out + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

/*
 * A training batch of one sample through a layer that normalizes by the
 * batch's own statistics (batchnorm) gives variance 0: the layer outputs
 * exactly beta, whatever its input, and nothing before it learns. So a
 * batch size of 1 is refused (where: "--batch" or the file it came
 * from). Returns 0, or -1 after the error.
 */
/* This rank's shard of the global batch order[start..start+rows) of d
 * as a step (seqrt_step row0, rows, comm); in one process the whole
 * batch. */
static seqrt_step shard_step(run *r, const seqrt_dataset *d, const uint32_t *order,
                             size_t start, int rows, seqrt_rng *rng)
{
    int lo = 0, n = rows;
    if (r->ranks > 1)
        seqrt_shard_rows(rows, r->rank, r->ranks, &lo, &n);
    seqrt_step s = make_step(r->m, &r->b, d, order, start + (size_t)lo, n, rng);
    s.comm = r->comm;
    s.row0 = lo;
    s.rows = rows;
    return s;
}

static int batch_of_one_error(const seqrt_model *m, long batch, const char *where)
{
    if (batch != 1 || m->batch_stats_layers == 0)
        return 0;
    fprintf(stderr, "error: %s with %d batchnorm layer%s: each would normalize every "
                    "sample by its own mean and variance (0) and output exactly beta, so the "
                    "layers before it would learn nothing; use a batch of 2 or more\n",
            where, m->batch_stats_layers, m->batch_stats_layers == 1 ? "" : "s");
    return -1;
}

/*
 * How many samples and steps an epoch trains on. drop_last drops every
 * partial last batch. Without it, a last batch of exactly one sample is
 * dropped when the model has batchnorm (see batch_of_one_error), with one
 * note per run. The shuffle still draws over all n_train samples, so the
 * sample left out changes from epoch to epoch, and resuming (same data,
 * --limit and batch) plans the same steps.
 */
static int run_plan_batches(run *r)
{
    size_t batch = (size_t)r->batch, rest = r->n_train % batch;
    r->n_used = r->n_train;
    if (r->ranks > 1 && r->n_train < (size_t)r->ranks) {
        fprintf(stderr, "error: %s: %zu training sample%s cannot be split over %d ranks: "
                        "each rank needs at least one sample of every batch\n",
                r->train.source, r->n_train, r->n_train == 1 ? "" : "s", r->ranks);
        return -1;
    }
    if (rest != 0 && r->drop_last) {
        r->n_used = r->n_train - rest;
    } else if (rest != 0 && rest < (size_t)r->ranks) {
        r->n_used = r->n_train - rest;
        fprintf(stderr, "note: the last batch of each epoch has %zu sample%s, fewer than the "
                        "%d ranks, each of which needs one: dropped\n",
                rest, rest == 1 ? "" : "s", r->ranks);
    } else if (rest == 1 && r->m->batch_stats_layers > 0) {
        r->n_used = r->n_train - 1;
        if (r->n_used > 0)
            fprintf(stderr, "note: the last batch of each epoch has 1 sample, and a batch of "
                            "1 sample would make batchnorm output beta: dropped\n");
    }
    if (r->n_used == 0 && r->drop_last) {
        fprintf(stderr, "error: %s: %zu training sample%s, no whole batch of %ld to train "
                        "on with drop_last\n", r->train.source, r->n_train,
                r->n_train == 1 ? "" : "s", r->batch);
        return -1;
    }
    if (r->n_used == 0) {
        fprintf(stderr, "error: %s: 1 training sample, and a batch of 1 sample would make "
                        "batchnorm output beta: nothing to train on\n", r->train.source);
        return -1;
    }
    r->steps = (int)((r->n_used + batch - 1) / batch);
    return 0;
}

/*
 * "Precise BN" (PyTorch's swa_utils.update_bn): every batchnorm's moving
 * mean and variance become the plain average of its batch statistics
 * over one pass of the training set, in file order and in the epoch's
 * batches (the same batch size, the same dropped last batch), with
 * forward_train and no parameter update (seqrt_step.bn_average = 1, 2,
 * ...). Dropout draws from a scratch generator, so no training stream
 * moves.
 */
static void run_recalibrate(run *r)
{
    const seqrt_model *m = r->m;
    size_t batch = (size_t)r->batch;
    seqrt_rng scratch;
    seqrt_rng_seed(&scratch, 0);
    for (int step = 0; step < r->steps; step++) {
        size_t start = (size_t)step * batch;
        int rows = r->n_used - start < batch ? (int)(r->n_used - start) : (int)batch;
        seqrt_step s = shard_step(r, &r->train, NULL, start, rows, &scratch);
        s.bn_average = step + 1;
        m->forward_train(&s);
    }
}

/* The line that says run_recalibrate ran, after the last epoch's line. */
static void report_recalibrate(const run *r)
{
    const seqrt_model *m = r->m;
    if (!r->o->quiet) {
        char samples[32];
        printf("recalibrate-bn: the moving statistics of %d batchnorm layer%s recomputed "
               "over %s training samples (%d batches of up to %ld)\n",
               m->batch_stats_layers, m->batch_stats_layers == 1 ? "" : "s",
               with_commas(r->n_used, samples, sizeof samples), r->steps, r->batch);
        fflush(stdout);
    }
}

/* After the last epoch: the best epoch's weights for the test set, with
 * restore_best (the checkpoint already says to load them). */
static void recipe_finish(run *r)
{
    const seqrt_model *m = r->m;
    if (!(m->early_stopping.enabled && m->early_stopping.restore_best) || !r->best_params ||
        r->best.best_epoch == 0)
        return;
    memcpy(r->b.params, r->best_params, m->param_count * sizeof(float));
    if (!r->o->quiet)
        printf("Restoring the weights of epoch %u, the best %s (%.9g)\n", r->best.best_epoch,
               recipe_monitor_name(m, &m->best_monitor), r->best.best);
}

/* "; batch_normalization: gamma, beta now frozen": the model's blocks
 * whose trainability differs from the checkpoint's, by layer, appended to
 * buf (the report of --init-from). */
static void init_from_changes(const seqrt_model *m, const int *was_trainable, char *buf,
                              size_t size)
{
    size_t used = strlen(buf);
    for (int turn = 0; turn < 2; turn++) { /* now frozen, then now trained */
        for (int b = 0; b < m->block_count; b++) {
            int now = m->blocks[b].offset < m->trainable_count;
            if (now == was_trainable[b] || now != turn)
                continue;
            /* the first changed block of its layer lists the layer's */
            int first = 1;
            for (int a = 0; a < b && first; a++)
                first = !(strcmp(m->blocks[a].layer, m->blocks[b].layer) == 0 &&
                          (m->blocks[a].offset < m->trainable_count) != was_trainable[a] &&
                          (m->blocks[a].offset < m->trainable_count) == turn);
            if (!first)
                continue;
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "; %s:",
                                     m->blocks[b].layer);
            int k = 0;
            for (int c = b; c < m->block_count; c++) {
                int cnow = m->blocks[c].offset < m->trainable_count;
                if (strcmp(m->blocks[c].layer, m->blocks[b].layer) == 0 &&
                    cnow != was_trainable[c] && cnow == turn)
                    used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s %s",
                                             k++ ? "," : "", m->blocks[c].what);
            }
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, " now %s",
                                     turn ? "trained (frozen in the checkpoint)" : "frozen");
        }
    }
}

/* --init-from: the weights (every parameter, moving statistics included)
 * of a checkpoint of a model with the same layers, each block found by
 * its layer and kind wherever it sits; the optimizer state, the epoch
 * count and the generators stay a fresh run's. */
static int run_init_from(run *r)
{
    const seqrt_model *m = r->m;
    seqrt_error err = {{0}};
    seqrt_checkpoint_meta meta;
    char from[256];
    int *was_trainable = calloc(m->block_count > 0 ? (size_t)m->block_count : 1, sizeof(int));
    if (!was_trainable) {
        fprintf(stderr, "error: --init-from %s: out of memory\n", r->o->init_from);
        return -1;
    }
    if (seqrt_checkpoint_load_weights(r->o->init_from, m, r->b.params, &meta, from,
                                      sizeof from, m->blocks ? was_trainable : NULL, &err)) {
        fprintf(stderr, "error: --init-from %s\n", err.msg);
        free(was_trainable);
        return -1;
    }
    if (!r->o->quiet) {
        char floats[32], changes[2048] = "";
        if (m->blocks)
            init_from_changes(m, was_trainable, changes, sizeof changes);
        printf("init-from %s: loaded %d block%s, %s floats, trained %u epoch%s%s%s%s%s\n",
               r->o->init_from, m->block_count, m->block_count == 1 ? "" : "s",
               with_commas(m->param_count, floats, sizeof floats), meta.epoch,
               meta.epoch == 1 ? "" : "s", strcmp(from, m->name) ? " (model '" : "",
               strcmp(from, m->name) ? from : "", strcmp(from, m->name) ? "')" : "", changes);
        fflush(stdout);
    }
    free(was_trainable);
    return 0;
}

/* The exact state a checkpoint saved after its last epoch, with the flags
 * given on this command line taking precedence. */
static int run_resume(run *r)
{
    const options *o = r->o;
    seqrt_error err = {{0}};
    seqrt_checkpoint_meta meta;
    if (seqrt_checkpoint_load_best(o->resume, r->m, r->b.params, r->b.opt_state,
                                   r->best_params, &meta, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    if (meta.stopped > 0) {
        fprintf(stderr, "error: %s: early stopping ended this run at epoch %u (%s did not "
                        "improve for %d epochs); there is nothing to resume: train again "
                        "with another early_stopping patience\n",
                o->resume, meta.stopped, recipe_monitor_name(r->m, &r->m->early_stopping.monitor),
                r->m->early_stopping.patience);
        return -1;
    }
    recipe_resume(r, &meta);
    r->rng = meta.rng;
    r->drop = meta.dropout_rng;
    r->t = meta.step;
    r->seed = meta.seed;
    r->first_epoch = (long)meta.epoch + 1;
    if (!has(o, F_BATCH))
        r->batch = (long)meta.batch;
    if (!has(o, F_LR))
        r->lr = meta.lr;
    if (!has(o, F_EPOCHS))
        r->epochs = (long)meta.epochs;
    if (has(o, F_SEED))
        fprintf(stderr, "note: --seed is ignored with --resume: the generators continue "
                        "from the checkpoint\n");
    if (r->first_epoch > r->epochs) {
        fprintf(stderr, "error: %s: already trained %u epochs; give --epochs N with N > %u "
                        "to train more\n", o->resume, meta.epoch, meta.epoch);
        return -1;
    }
    if (o->save && strcmp(o->save, o->resume) == 0)
        r->saved_epoch = (long)meta.epoch;
    return 0;
}

/*
 * Keras's Normalization.adapt for the model's `normalize` layer: the
 * per-feature mean and biased variance of the layer's input over the
 * training samples (the first n_train, after any validation split), taken
 * from the inputs exactly as the batches give them (bytes scaled), each
 * sample giving input_size/features rows of the last axis. Sums in
 * double, in two passes (mean, then the mean squared deviation: no
 * cancellation). The layer sees x * scale + offset (the rescale layers
 * before it), so mean' = scale * mean + offset and var' = scale^2 * var.
 */
static int run_adapt(run *r)
{
    const seqrt_model *m = r->m;
    const seqrt_normalize_spec *ns = m->normalize;
    buffers *b = &r->b;
    size_t f_count = (size_t)ns->features;
    double *mean = calloc(2 * f_count, sizeof *mean); /* [features], then var */
    if (!mean) {
        fprintf(stderr, "error: out of memory for the normalize layer's statistics\n");
        return -1;
    }
    double *var = mean + f_count; /* [features] */
    double rows = (double)r->n_train * (double)((size_t)m->input_size / f_count);
    for (int pass = 0; pass < 2; pass++) {
        double *sum = pass == 0 ? mean : var;
        for (size_t start = 0; start < r->n_train; start += (size_t)b->capacity) {
            int n = r->n_train - start < (size_t)b->capacity ? (int)(r->n_train - start)
                                                             : b->capacity;
            seqrt_dataset_batch(&r->train, NULL, start, n, b->x, NULL, NULL, 0);
            size_t count = (size_t)n * (size_t)m->input_size;
            for (size_t i = 0, f = 0; i < count; i++) { /* f = i % features */
                double x = (double)b->x[i];
                sum[f] += pass == 0 ? x : (x - mean[f]) * (x - mean[f]);
                if (++f == f_count)
                    f = 0;
            }
        }
        for (size_t f = 0; f < f_count; f++)
            sum[f] /= rows;
    }
    double scale = (double)ns->scale, offset = (double)ns->offset;
    for (size_t f = 0; f < f_count; f++) {
        b->params[ns->mean_offset + f] = (float)(scale * mean[f] + offset);
        b->params[ns->var_offset + f] = (float)(scale * scale * var[f]);
    }
    free(mean);
    if (!r->o->quiet)
        printf("normalize: adapted to %zu training samples\n", r->n_train);
    return 0;
}

/* Where the run starts: the recipe, the parameters (fresh or resumed),
 * the data, every buffer, the history. */
static int run_start(run *r)
{
    const seqrt_model *m = r->m;
    const options *o = r->o;
    seqrt_error err = {{0}};
    r->epochs = has(o, F_EPOCHS) ? o->epochs : m->epochs;
    r->batch = has(o, F_BATCH) ? o->batch : m->batch;
    r->lr = has(o, F_LR) ? o->lr : m->lr;
    r->seed = has(o, F_SEED) ? o->seed : m->seed;
    r->first_epoch = 1;
    if (alloc_params(&r->b, m) || recipe_alloc(r))
        return -1;
    if (o->resume) {
        if (run_resume(r))
            return -1;
    } else {
        seqrt_rng_seed(&r->rng, r->seed);
        seqrt_rng_seed(&r->drop, r->seed ^ DROPOUT_STREAM);
        m->init(r->b.params, &r->rng);
        /* after init, so the generators are where a fresh run's are */
        if (o->init_from && run_init_from(r))
            return -1;
        recipe_fresh(r); /* the best weights so far: these */
    }
    if (batch_of_one_error(m, r->batch, o->resume ? "the checkpoint's batch size 1" : "batch 1"))
        return -1;
    if (load_run_sets(o, m, &r->train, &r->val, &r->test))
        return -1;
    r->n_train = limited(r->train.count, o);
    r->n_val = limited(r->val.count, o);
    r->n_test = limited(r->test.count, o);
    if (recipe_check_validation(r))
        return -1;
    if (r->n_train > UINT32_MAX) {
        fprintf(stderr, "error: %s: %zu samples, more than this trainer handles\n",
                r->train.source, r->n_train);
        return -1;
    }
    if (r->ranks > 1 && r->batch < r->ranks) {
        fprintf(stderr, "error: a batch of %ld cannot be split over %d ranks: give --batch %d "
                        "or more (the batch is the global one, split over the ranks)\n",
                r->batch, r->ranks, r->ranks);
        return -1;
    }
    /* each rank runs forward passes of at most its shard's rows */
    long capacity = (r->batch + r->ranks - 1) / r->ranks;
    if (alloc_batch(&r->b, m, (int)capacity, r->n_train, r->ranks))
        return -1;
    size_t most = r->n_train > r->n_val ? r->n_train : r->n_val;
    if (metrics_init(&r->acc, m, most > r->n_test ? most : r->n_test))
        return -1;
    r->acc_ready = 1;
    r->drop_last = o->drop_last || m->drop_last;
    r->recalibrate = o->recalibrate_bn || m->recalibrate_bn;
    if (run_plan_batches(r))
        return -1;
    if (r->recalibrate && m->batch_stats_layers > 0 &&
        (m->early_stopping.enabled || m->save_best)) {
        fprintf(stderr, "error: --recalibrate-bn with the model's %s: recalibration "
                        "recomputes the statistics of the last epoch's weights, %s; use one "
                        "or the other\n",
                m->early_stopping.enabled ? "early_stopping" : "save_best",
                m->early_stopping.enabled
                    ? "and early stopping may end the run first or keep another epoch's"
                    : "but save_best saves another epoch's");
        return -1;
    }
    if (r->recalibrate && m->batch_stats_layers == 0)
        fprintf(stderr, "note: recalibrate_bn: the model has no batchnorm layer that uses "
                        "batch statistics; nothing to recalibrate\n");
    if (o->history) {
        seqrt_history_columns cols = seqrt_history_columns_of(m, r->n_val > 0);
        cols.has_train_eval = o->eval_train;
        if (seqrt_history_open(&r->hist, o->history, &cols, (unsigned)(r->first_epoch - 1),
                               (unsigned)(r->epochs - r->first_epoch + 1), &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            return -1;
        }
        r->hist_open = 1;
    }
    if (o->resume && !o->quiet)
        printf("Resuming %s from %s after epoch %ld\n", m->name, o->resume,
               r->first_epoch - 1);
    if (m->normalize && !o->resume && !o->init_from && run_adapt(r))
        return -1;
    return 0;
}

/* Under MPI, after the last epoch: what the steps' sums cost (rank 0's
 * view; bench/mpi.sh reads this line). */
static void report_sums(const run *r)
{
    if (r->ranks == 1 || r->o->quiet || r->sum_steps == 0)
        return;
    size_t floats = r->m->trainable_count + (size_t)r->batch * (size_t)r->m->outputs + 1;
    printf("mpi: %d ranks, batch %ld (%ld per rank); each step's sum of %zu floats "
           "(%.1f KB) took %.3f ms on average, %.1f %% of the training steps' time\n",
           r->ranks, r->batch, (r->batch + r->ranks - 1) / r->ranks, floats,
           (double)floats * 4.0 / 1024.0, 1e3 * r->sum_seconds / (double)r->sum_steps,
           r->step_seconds > 0 ? 100.0 * r->sum_seconds / r->step_seconds : 0.0);
    fflush(stdout);
}

/* What the user still has after a run stopped on bad numbers. */
static void report_kept(const run *r)
{
    if (!r->o->save)
        return;
    if (r->saved_epoch > 0)
        fprintf(stderr, "note: %s keeps the weights of epoch %ld, the last good one\n",
                r->o->save, r->saved_epoch);
    else
        fprintf(stderr, "note: this run saved nothing to %s\n", r->o->save);
}

/*
 * Stops on a non-finite parameter or optimizer value, naming the first
 * layer (model->blocks) that holds one, so NaN weights are never saved.
 * A ReLU turns a NaN into 0, so the loss can stay finite while a layer's
 * weights are all NaN; the loss check alone does not see that.
 *
 * Checked once per epoch, before the history row and the checkpoint. A
 * scan of the tutorial's 110,154 parameters and 219,540 Adam moments
 * (1.3 MB) took 130 to 200 us on the 2-core test machine, where one
 * training step takes about 1 ms on one thread: after every step it would
 * cost 13 to 20 %, once per epoch (1,875 steps of Fashion-MNIST) under
 * 0.02 %. Per epoch is enough for the promise that matters: NaN weights
 * never reach the checkpoint or the history. The loss is checked after
 * every step (free), which stops most divergences at once.
 */
static int run_check_finite(const run *r, long epoch, const char *when)
{
    const seqrt_model *m = r->m;
    size_t bad = seqrt_first_nonfinite(r->b.params, m->param_count);
    char where[256];
    if (bad < m->param_count) {
        seqrt_describe_param(m, bad, where, sizeof where);
        fprintf(stderr, "error: epoch %ld%s: the weights became non-finite (%s at %s); "
                        "stopping (try a smaller --lr)\n",
                epoch, when, isnan(r->b.params[bad]) ? "nan" : "inf", where);
        report_kept(r);
        return -1;
    }
    bad = seqrt_first_nonfinite(r->b.opt_state, m->opt_state_count);
    if (bad < m->opt_state_count) {
        fprintf(stderr, "error: epoch %ld%s: the optimizer state became non-finite (offset "
                        "%zu of %zu); stopping (try a smaller --lr)\n",
                epoch, when, bad, m->opt_state_count);
        report_kept(r);
        return -1;
    }
    return 0;
}

/* One epoch's shuffle and steps; row gets the training metrics. */
static int run_epoch(run *r, long epoch, seqrt_progress *prog, seqrt_history_row *row)
{
    const seqrt_model *m = r->m;
    buffers *b = &r->b;
    size_t batch = (size_t)r->batch, n_train = r->n_train;
    /* A fresh identity order each epoch, so the order depends only on
     * the generator's state at the epoch's start (saved in checkpoints). */
    for (size_t i = 0; i < n_train; i++)
        b->order[i] = (uint32_t)i;
    if (m->shuffle)
        seqrt_rng_shuffle(&r->rng, b->order, n_train);

    /* the shuffle covers every sample; the steps only the first n_used of
     * the order (a dropped last batch is a different sample each epoch) */
    size_t n_used = r->n_used;
    double t0 = seqrt_clock_seconds();
    double loss_sum = 0;
    size_t seen = 0;
    seqrt_metrics_reset(&r->acc);
    for (int step = 0; step < r->steps; step++) {
        size_t start = (size_t)step * batch;
        int n = n_used - start < batch ? (int)(n_used - start) : (int)batch;
        seqrt_step s = shard_step(r, &r->train, b->order, start, n, &r->drop);
        if (step + 1 < r->steps) {
            size_t rest = n_used - start - batch;
            int next = rest < batch ? (int)rest : (int)batch, lo = 0, nn = next;
            if (r->ranks > 1)
                seqrt_shard_rows(next, r->rank, r->ranks, &lo, &nn);
            seqrt_dataset_prefetch(&r->train, b->order, start + batch + (size_t)lo, nn);
        }
        m->forward_train(&s);
        if (r->ranks > 1) {
            /* backward first, then the one sum: gradients, outputs, loss */
            stash_outputs(m, b, &s);
            m->backward(&s);
            double t_sum = seqrt_clock_seconds();
            r->comm->sum_float(r->comm, b->grads,
                               m->trainable_count + (size_t)n * (size_t)m->outputs + 1);
            r->sum_seconds += seqrt_clock_seconds() - t_sum;
            r->sum_steps++;
            s.loss = global_metrics(&r->acc, m, b, &r->train, b->order, start, n);
        }
        if (!isfinite(s.loss)) {
            char when[64];
            seqrt_progress_abort(prog);
            snprintf(when, sizeof when, ", step %d", step + 1);
            if (run_check_finite(r, epoch, when) == 0) {
                fprintf(stderr, "error: loss became %s at epoch %ld, step %d; stopping "
                                "(try a smaller --lr)\n",
                        isnan(s.loss) ? "nan" : "inf", epoch, step + 1);
                report_kept(r);
            }
            return -1;
        }
        if (r->ranks == 1) {
            metrics_add(&r->acc, m, &s);
            m->backward(&s);
        }
        m->update(b->params, b->grads, b->opt_state, ++r->t, r->epoch_lr);
        loss_sum += (double)s.loss * n;
        seen += (size_t)n;
        if (seqrt_progress_due(prog, step + 1)) {
            metrics_values(&r->acc, m, row->metrics);
            seqrt_progress_step(prog, step + 1, loss_sum / (double)seen, row->metrics);
        }
    }
    row->epoch = (unsigned)epoch;
    row->loss = loss_sum / (double)seen;
    metrics_values(&r->acc, m, row->metrics);
    row->seconds = seqrt_clock_seconds() - t0;
    r->step_seconds += row->seconds;
    return 0;
}

/* The epoch's history row and checkpoint. */
static int run_record(run *r, const seqrt_history_row *row)
{
    seqrt_error err = {{0}};
    if (r->hist_open && seqrt_history_append(&r->hist, row, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    if (r->o->save) {
        seqrt_checkpoint_meta meta = {.step = r->t, .epoch = row->epoch,
                                      .epochs = (uint32_t)r->epochs, .seed = r->seed,
                                      .rng = r->rng, .dropout_rng = r->drop,
                                      .batch = (uint32_t)r->batch, .lr = r->lr};
        recipe_meta(r, &meta);
        if (seqrt_checkpoint_save(r->o->save, r->m, r->b.params, r->b.opt_state, &meta,
                                  &r->lock, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            return -1;
        }
        r->saved_epoch = (long)row->epoch;
    }
    return 0;
}

/*
 * Under MPI, after an epoch's steps: the non-trainable parameters (the
 * moving statistics of batchnorm layers that keep per-rank statistics,
 * sync=false or virtual_batch) become their mean over the ranks, as
 * Keras reads such variables under a distribution strategy (ON_READ,
 * MEAN); synchronized ones are already the same everywhere and stay
 * exactly as they are. Then every weight must be the same on every
 * rank: the sums give every rank the same bits and the updates are the
 * same, so a difference is a broken promise of the MPI library, said
 * rather than trained on.
 */
static int run_agree_weights(run *r, long epoch)
{
    const seqrt_model *m = r->m;
    float *p = r->b.params;
    if (seqrt_comm_mean(r->comm, p + m->trainable_count, m->param_count - m->trainable_count)) {
        fprintf(stderr, "error: out of memory for the moving statistics' mean over the ranks\n");
        return -1; /* every rank allocates the same: all fail alike */
    }
    if (!seqrt_comm_same(r->comm, p, m->param_count) ||
        !seqrt_comm_same(r->comm, r->b.opt_state, m->opt_state_count)) {
        if (r->rank == 0)
            fprintf(stderr, "error: epoch %ld: the ranks' weights differ (the MPI library's "
                            "sums did not give every rank the same bits); stopping\n", epoch);
        return -1;
    }
    return 0;
}

static void run_free(run *r)
{
    if (r->hist_open)
        seqrt_history_close(&r->hist);
    seqrt_checkpoint_lock_release(&r->lock);
    if (r->acc_ready)
        seqrt_metrics_free(&r->acc);
    seqrt_dataset_free(&r->train);
    seqrt_dataset_free(&r->val);
    seqrt_dataset_free(&r->test);
    free(r->best_params);
    buffers_free(&r->b);
}

static int cmd_train(const seqrt_model *m, const options *o)
{
    run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.o = o;
    r.comm = o->comm;
    r.rank = seqrt_comm_rank(o->comm);
    r.ranks = seqrt_comm_ranks(o->comm);
    seqrt_checkpoint_lock_init(&r.lock);
    int status = 1;
    if (o->init_from && o->resume) {
        usage_error("--init-from and --resume do not go together: --resume continues a run "
                    "with its optimizer state and generators, --init-from starts a new run "
                    "from a checkpoint's weights only");
        return EXIT_USAGE;
    }
    if (has(o, F_BATCH) && batch_of_one_error(m, o->batch, "--batch 1"))
        return EXIT_USAGE;
    /* under MPI only rank 0 has outputs; any rank may fail to start (its
     * data, its memory): then all stop */
    if (seqrt_comm_failures(r.comm, run_check_outputs(&r) || run_start(&r)))
        goto done;
    int live = !o->quiet && isatty(STDOUT_FILENO), has_val = r.n_val > 0;
    const char *names[SEQRT_MAX_METRICS];
    for (int i = 0; i < m->metric_count; i++)
        names[i] = m->metrics[i].name;
    for (long epoch = r.first_epoch; epoch <= r.epochs; epoch++) {
        seqrt_progress prog;
        seqrt_history_row row;
        memset(&row, 0, sizeof row);
        r.epoch_lr = recipe_epoch_lr(&r, epoch);
        row.lr = r.epoch_lr;
        seqrt_progress_begin(&prog, live, o->quiet, (int)epoch, (int)r.epochs, r.steps, names,
                             m->metric_count);
        if (run_epoch(&r, epoch, &prog, &row))
            goto done;
        if (r.ranks > 1 && run_agree_weights(&r, epoch))
            goto done;
        /* before the last validation, the checkpoint and the test */
        if (epoch == r.epochs && r.recalibrate && m->batch_stats_layers > 0)
            run_recalibrate(&r);
        if (o->eval_train) {
            double ignored[SEQRT_MAX_METRICS];
            row.train_eval_loss = evaluate(m, &r.b, o->comm, &r.train, r.n_train, &r.acc,
                                           ignored);
            seqrt_progress_train_eval(&prog, row.train_eval_loss);
        }
        if (has_val)
            row.val_loss = evaluate(m, &r.b, o->comm, &r.val, r.n_val, &r.acc,
                                    row.val_metrics);
        seqrt_progress_end(&prog, row.seconds, row.loss, row.metrics, has_val, row.val_loss,
                           row.val_metrics);
        if (epoch == r.epochs && r.recalibrate && m->batch_stats_layers > 0)
            report_recalibrate(&r);
        if (run_check_finite(&r, epoch, ""))
            goto done;
        recipe_after_epoch(&r, epoch, &row);
        if (seqrt_comm_failures(r.comm, run_record(&r, &row) != 0))
            goto done;
        if (r.best.stopped)
            break;
    }
    recipe_finish(&r);
    report_sums(&r);
    if (r.n_test > 0) {
        double values[SEQRT_MAX_METRICS];
        double loss = evaluate(m, &r.b, o->comm, &r.test, r.n_test, &r.acc, values);
        if (seqrt_comm_rank(o->comm) == 0)
            print_result(m, "test_", loss, values);
    }
    status = 0;
done:
    run_free(&r);
    return status;
}

/* --------------------------------------------------------------- evaluate */

/* evaluate and predict: the parameters from --load, and the batch size
 * (--batch, else the checkpoint's). Returns 0, or 1 after an error. */
static int load_for_inference(const seqrt_model *m, const options *o, buffers *b,
                              seqrt_checkpoint_meta *meta, long *batch)
{
    seqrt_error err = {{0}};
    if (alloc_params(b, m))
        return 1;
    if (seqrt_checkpoint_load(o->load, m, b->params, NULL, meta, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    *batch = has(o, F_BATCH) ? o->batch : (long)meta->batch;
    if (*batch < 1 || *batch > SEQRT_MAX_BATCH) {
        fprintf(stderr, "error: %s: batch size %ld out of range\n", o->load, *batch);
        return 1;
    }
    return 0;
}

static int cmd_evaluate(const seqrt_model *m, const options *o)
{
    int status = 1;
    buffers b = {0};
    seqrt_dataset val = {0};
    seqrt_checkpoint_meta meta;
    seqrt_metrics acc;
    int acc_ready = 0;

    long batch;
    if (load_for_inference(m, o, &b, &meta, &batch))
        goto done;
    if (load_eval_set(o, m, &val) || alloc_batch(&b, m, (int)batch, 0, 1))
        goto done;
    size_t count = limited(val.count, o);
    if (metrics_init(&acc, m, count))
        goto done;
    acc_ready = 1;
    double values[SEQRT_MAX_METRICS];
    double loss = evaluate(m, &b, NULL, &val, count, &acc, values);
    /* %.9g, as the history file, so the two can be compared as text */
    print_result(m, "val_", loss, values);
    status = 0;
done:
    if (acc_ready)
        seqrt_metrics_free(&acc);
    seqrt_dataset_free(&val);
    buffers_free(&b);
    return status;
}

/* ---------------------------------------------------------------- predict */

/* One line per sample on stdout, what the task predicts: the class (the
 * arg-max) for the categorical losses, 0 or 1 per output (p > 0.5) for
 * binary_crossentropy, the values for regression. --output FILE writes
 * the probabilities or values themselves. */
static void print_prediction(const seqrt_model *m, const float *row)
{
    seqrt_target_kind kind = seqrt_loss_targets(m->loss);
    if (kind == SEQRT_TARGET_CLASS || kind == SEQRT_TARGET_ROWS) {
        int best = 0;
        for (int c = 1; c < m->outputs; c++)
            if (row[c] > row[best])
                best = c;
        printf("%d\n", best);
        return;
    }
    for (int c = 0; c < m->outputs; c++) {
        if (kind == SEQRT_TARGET_BINARY)
            printf("%s%d", c ? "," : "", row[c] > 0.5f);
        else
            printf("%s%.9g", c ? "," : "", (double)row[c]);
    }
    putchar('\n');
}

static int cmd_predict(const seqrt_model *m, const options *o)
{
    int status = 1;
    buffers b = {0};
    seqrt_dataset d = {0};
    seqrt_error err = {{0}};
    seqrt_checkpoint_meta meta;
    seqrt_metrics acc;
    int acc_ready = 0;

    long batch;
    int targets = 0;
    float *outputs = NULL; /* --output: [count, outputs] */
    if (predict_usage(o))
        return EXIT_USAGE;
    if (o->output && seqrt_outfile_check(o->output, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    if (load_for_inference(m, o, &b, &meta, &batch))
        goto done;
    if (load_predict_set(o, m, &d, &targets))
        goto done;
    if (alloc_batch(&b, m, (int)batch, 0, 1))
        goto done;

    size_t count = limited(d.count, o);
    if (o->output) {
        outputs = (size_t)m->outputs > SIZE_MAX / sizeof(float) / count ? NULL
                  : malloc(count * (size_t)m->outputs * sizeof(float));
        if (!outputs) {
            fprintf(stderr, "error: out of memory for %zu predictions\n", count);
            goto done;
        }
    }
    /* with targets, the model's metrics over every sample */
    if (targets) {
        if (metrics_init(&acc, m, count))
            goto done;
        acc_ready = 1;
        seqrt_metrics_reset(&acc);
    }
    double loss_sum = 0;
    seqrt_rng scratch;
    seqrt_rng_seed(&scratch, 0);
    for (size_t start = 0; start < count; start += (size_t)batch) {
        int n = count - start < (size_t)batch ? (int)(count - start) : (int)batch;
        seqrt_step s = make_step(m, &b, &d, NULL, start, n, &scratch);
        if (!targets)
            s.y = NULL, s.t = NULL;
        m->forward_infer(&s);
        if (targets) {
            loss_sum += (double)s.loss * n;
            metrics_add(&acc, m, &s);
        }
        if (outputs)
            memcpy(outputs + start * (size_t)m->outputs, s.output,
                   (size_t)n * (size_t)m->outputs * sizeof(float));
        for (int r = 0; !outputs && r < n; r++)
            print_prediction(m, s.output + (size_t)r * (size_t)m->outputs);
    }
    if (outputs) {
        predictions p = {.m = m, .rows = outputs, .count = count};
        if (seqrt_write_file(o->output, write_predictions, &p, &err) != 0) {
            fprintf(stderr, "error: %s\n", err.msg);
            goto done;
        }
    }
    if (targets) {
        double values[SEQRT_MAX_METRICS];
        metrics_values(&acc, m, values);
        print_result(m, "", loss_sum / (double)count, values);
    }
    status = 0;
done:
    if (acc_ready)
        seqrt_metrics_free(&acc);
    free(outputs);
    seqrt_dataset_free(&d);
    buffers_free(&b);
    return status;
}

/* ------------------------------------------------------------------- main */

/* The generated code fills the model; a wrong one is a bug in seqc, not
 * in the user's input, so it aborts loudly. */
/* The named blocks, when given, lie in offset order inside params, so a
 * message that names a layer names the right one. */
static int blocks_ok(const seqrt_model *m)
{
    if (m->block_count < 0 || (m->block_count > 0 && !m->blocks))
        return 0;
    size_t end = 0;
    for (int i = 0; i < m->block_count; i++) {
        const seqrt_param_block *b = &m->blocks[i];
        if (!b->layer || !b->what || b->offset < end || b->count > m->param_count ||
            b->offset > m->param_count - b->count)
            return 0;
        end = b->offset + b->count;
    }
    return 1;
}

/* The metrics line: at most SEQRT_MAX_METRICS named entries. */
static int metrics_ok(const seqrt_model *m)
{
    if (m->metric_count < 0 || m->metric_count > SEQRT_MAX_METRICS ||
        (m->metric_count > 0 && !m->metrics))
        return 0;
    for (int i = 0; i < m->metric_count; i++)
        if (!m->metrics[i].name || (unsigned)m->metrics[i].kind >= SEQRT_METRIC_COUNT_)
            return 0;
    return 1;
}

/* A normalize layer's statistics: whole rows of the input's last axis,
 * inside the non-trainable parameters. */
static int normalize_ok(const seqrt_model *m)
{
    const seqrt_normalize_spec *ns = m->normalize;
    if (!ns)
        return 1;
    size_t f = ns->features > 0 ? (size_t)ns->features : 0;
    return f > 0 && (size_t)m->input_size % f == 0 &&
           ns->mean_offset >= m->trainable_count && ns->var_offset >= m->trainable_count &&
           ns->mean_offset <= m->param_count && f <= m->param_count - ns->mean_offset &&
           ns->var_offset <= m->param_count && f <= m->param_count - ns->var_offset;
}

/* A monitor names the loss or a metric of the metrics line. */
static int monitor_ok(const seqrt_model *m, const seqrt_monitor *mon)
{
    return mon->metric >= -1 && mon->metric < m->metric_count;
}

/* The recipe: a known schedule, monitors of existing columns. */
static int recipe_ok(const seqrt_model *m)
{
    const seqrt_schedule *s = &m->schedule;
    if ((unsigned)s->kind >= SEQRT_SCHED_COUNT_ || s->warmup < 0 || s->patience < 0 ||
        (s->kind == SEQRT_SCHED_PLATEAU && !monitor_ok(m, &s->monitor)))
        return 0;
    if (m->early_stopping.enabled && (!monitor_ok(m, &m->early_stopping.monitor) ||
                                      m->early_stopping.patience < 0))
        return 0;
    return !(m->save_best || m->early_stopping.enabled) || monitor_ok(m, &m->best_monitor);
}

static void check_model(const seqrt_model *m)
{
    if (!m || !m->name || !m->init || !m->forward_train || !m->forward_infer ||
        !m->backward || !m->update || m->input_size < 1 || m->outputs < 1 ||
        m->trainable_count > m->param_count || m->epochs < 1 || m->batch < 1 ||
        !blocks_ok(m) || !metrics_ok(m) || !normalize_ok(m) || !recipe_ok(m)) {
        fprintf(stderr, "internal error: seqrt_main got an incomplete seqrt_model\n");
        abort();
    }
}

static int cmd_help(const seqrt_model *m, const options *o)
{
    (void)o;
    print_help(m);
    return 0;
}

int seqrt_main(int argc, char **argv, const seqrt_model *model)
{
    return seqrt_main_comm(argc, argv, model, NULL);
}

/*
 * Under MPI (comm with several ranks; docs/scale-out.md) every rank
 * parses the same command line, so a usage error stops all of them
 * alike. Training runs on every rank; ranks other than 0 print and write
 * nothing (quiet, no --history, no --save: rank 0's files are the run's).
 * evaluate, predict and --help run on rank 0 alone, the others return at
 * once. Threads: the machine's cores are shared by its ranks.
 */
int seqrt_main_comm(int argc, char **argv, const seqrt_model *model, const seqrt_comm *comm)
{
    check_model(model);
    if (argc > 0 && argv[0])
        progname = argv[0];
    options o;
    if (parse_args(argc, argv, &o))
        return EXIT_USAGE;
    int ranks = seqrt_comm_ranks(comm), rank = seqrt_comm_rank(comm);
    if (ranks > 1 && o.cmd == CMD_TRAIN) {
        o.comm = comm;
        if (rank > 0) {
            o.quiet = 1;
            o.history = NULL;
            o.save = NULL;
        }
    } else if (rank > 0) {
        return 0;
    }
    int local = comm && comm->local_size > 1 ? comm->local_size : 1;
    int threads = default_threads() / (o.comm ? local : 1);
    if (o.cmd != CMD_HELP)
        seqrt_set_threads(has(&o, F_THREADS) && o.threads > 0 ? (int)o.threads
                                                               : threads > 0 ? threads : 1);
    return commands[o.cmd].run(model, &o);
}
