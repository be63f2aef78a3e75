/*
 * train.c: the shared training loop and the command line of every trainer
 * seqc generates (seqrt_main). A generated trainer's main() only fills a
 * seqrt_model and calls seqrt_main(argc, argv, &model).
 *
 *   ./trainer [train] --data DIR [--epochs N] [--batch N] [--lr X] [--seed N]
 *                     [--threads N] [--history FILE] [--save FILE]
 *                     [--resume FILE] [--limit N] [--quiet]
 *   ./trainer evaluate --data DIR --load FILE
 *   ./trainer predict --load FILE --images FILE [--labels FILE]
 *   ./trainer --help
 *
 * Exit status: 0 success; 1 an error in the data, a file, or training
 * (the loss became NaN); 2 a bad command line.
 *
 * The order of random draws, which makes a run reproducible and lets
 * --resume continue it bit for bit: one seqrt_rng is seeded with the seed;
 * model->init draws the initial weights from it; then every epoch first
 * shuffles the identity order 0..n-1 with it (when the recipe shuffles),
 * and forward_train draws its dropout masks from it during the epoch.
 * Validation never touches it. A checkpoint saves its state after each
 * epoch, with the weights, the optimizer state and the step count.
 *
 * The last mini-batch of an epoch may hold fewer rows than the batch size;
 * it is trained as it is, as Keras does. That includes a last batch of a
 * single sample: batchnorm then normalizes it with its own statistics
 * (variance 0), so its output is exactly beta for that step.
 *
 * Memory: every buffer (weights, gradients, optimizer state, the
 * activation arena, one batch of inputs and labels, the sample order) is
 * allocated once before the first epoch; a training step allocates nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "seqrt.h"

#include "loop/checkpoint.h"
#include "loop/history.h"
#include "kernels/gemm.h"
#include "loop/parallel.h"
#include "loop/progress.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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

static const char *const command_names[] = {"train", "evaluate", "predict", "help"};

typedef enum flag_id {
    F_DATA, F_EPOCHS, F_BATCH, F_LR, F_SEED, F_THREADS, F_HISTORY, F_SAVE,
    F_RESUME, F_QUIET, F_LIMIT, F_LOAD, F_IMAGES, F_LABELS,
    F_COUNT_
} flag_id;

enum { ON_TRAIN = 1 << CMD_TRAIN, ON_EVALUATE = 1 << CMD_EVALUATE, ON_PREDICT = 1 << CMD_PREDICT };

/* One row per flag: its name, whether it takes a value, which commands
 * accept it. Kept in step with flag_id. */
static const struct flag_spec {
    const char *name;
    int         has_value;
    unsigned    commands;
} flag_specs[] = {
    [F_DATA]    = {"data",    1, ON_TRAIN | ON_EVALUATE},
    [F_EPOCHS]  = {"epochs",  1, ON_TRAIN},
    [F_BATCH]   = {"batch",   1, ON_TRAIN | ON_EVALUATE | ON_PREDICT},
    [F_LR]      = {"lr",      1, ON_TRAIN},
    [F_SEED]    = {"seed",    1, ON_TRAIN},
    [F_THREADS] = {"threads", 1, ON_TRAIN | ON_EVALUATE | ON_PREDICT},
    [F_HISTORY] = {"history", 1, ON_TRAIN},
    [F_SAVE]    = {"save",    1, ON_TRAIN},
    [F_RESUME]  = {"resume",  1, ON_TRAIN},
    [F_QUIET]   = {"quiet",   0, ON_TRAIN},
    [F_LIMIT]   = {"limit",   1, ON_TRAIN | ON_EVALUATE | ON_PREDICT},
    [F_LOAD]    = {"load",    1, ON_EVALUATE | ON_PREDICT},
    [F_IMAGES]  = {"images",  1, ON_PREDICT},
    [F_LABELS]  = {"labels",  1, ON_PREDICT},
};
_Static_assert(sizeof flag_specs / sizeof flag_specs[0] == F_COUNT_,
               "flag_specs must have one row per flag_id");

typedef struct options {
    command     cmd;
    unsigned    given;      /* bit (1 << flag_id) for each flag on the line */
    const char *data, *history, *save, *resume, *load, *images, *labels;
    long        epochs, batch, threads;
    float       lr;
    uint64_t    seed;
    size_t      limit;
    int         quiet;
} options;

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

static int parse_long(const char *flag, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return usage_error("--%s expects a whole number from %ld to %ld, got '%s'", flag,
                           min, max, s);
    *out = v;
    return 0;
}

static int parse_value(options *o, flag_id f, const char *v)
{
    long n = 0; /* set by parse_long; initialised for -O3's flow analysis */
    char *end;
    switch (f) {
    case F_DATA:    o->data = v; return 0;
    case F_HISTORY: o->history = v; return 0;
    case F_SAVE:    o->save = v; return 0;
    case F_RESUME:  o->resume = v; return 0;
    case F_LOAD:    o->load = v; return 0;
    case F_IMAGES:  o->images = v; return 0;
    case F_LABELS:  o->labels = v; return 0;
    case F_QUIET:   o->quiet = 1; return 0;
    case F_EPOCHS:  return parse_long("epochs", v, 1, 1000000, &o->epochs);
    case F_BATCH:   return parse_long("batch", v, 1, 1L << 20, &o->batch);
    case F_THREADS: return parse_long("threads", v, 0, 1024, &o->threads);
    case F_LIMIT:
        if (parse_long("limit", v, 1, (long)(UINT32_MAX > LONG_MAX ? LONG_MAX : UINT32_MAX), &n))
            return -1;
        o->limit = (size_t)n;
        return 0;
    case F_LR: {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end != '\0' || !(x > 0) || !(x <= FLT_MAX))
            return usage_error("--lr expects a positive number, got '%s'", v);
        o->lr = (float)x;
        if (!(o->lr > 0))
            return usage_error("--lr %s is too small for a float", v);
        return 0;
    }
    case F_SEED: {
        errno = 0;
        if (v[0] < '0' || v[0] > '9')
            return usage_error("--seed expects a whole number from 0 to %llu, got '%s'",
                               (unsigned long long)UINT64_MAX, v);
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end != '\0')
            return usage_error("--seed expects a whole number from 0 to %llu, got '%s'",
                               (unsigned long long)UINT64_MAX, v);
        o->seed = (uint64_t)x;
        return 0;
    }
    case F_COUNT_:
        break;
    }
    return usage_error("internal: unhandled flag");
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
            if (strcmp(argv[1], command_names[c]) == 0) {
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
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            o->cmd = CMD_HELP;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return usage_error("unexpected argument '%s'", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        int f = -1;
        for (int k = 0; k < F_COUNT_; k++) {
            if (strlen(flag_specs[k].name) == name_len &&
                strncmp(flag_specs[k].name, name, name_len) == 0)
                f = k;
        }
        if (f < 0)
            return usage_error("unknown option '--%.*s'", (int)name_len, name);
        const struct flag_spec *spec = &flag_specs[f];
        if (o->cmd != CMD_HELP && !(spec->commands & (1u << o->cmd)))
            return usage_error("option '--%s' does not apply to '%s'", spec->name,
                               command_names[o->cmd]);
        const char *value = NULL;
        if (spec->has_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return usage_error("option '--%s' needs a value", spec->name);
            if (value[0] == '\0')
                return usage_error("option '--%s' needs a value", spec->name);
        } else if (eq) {
            return usage_error("option '--%s' takes no value", spec->name);
        }
        if (parse_value(o, (flag_id)f, value))
            return -1;
        o->given |= 1u << f;
    }

    switch (o->cmd) {
    case CMD_TRAIN:
        if (!o->data)
            return usage_error("train needs --data DIR");
        break;
    case CMD_EVALUATE:
        if (!o->data || !o->load)
            return usage_error("evaluate needs --data DIR and --load FILE");
        break;
    case CMD_PREDICT:
        if (!o->load || !o->images)
            return usage_error("predict needs --load FILE and --images FILE");
        break;
    case CMD_HELP:
        break;
    }
    return 0;
}

static void print_help(const seqrt_model *m)
{
    printf("usage: %s [train] --data DIR [options]\n"
           "       %s evaluate --data DIR --load FILE\n"
           "       %s predict --load FILE --images FILE [--labels FILE]\n"
           "       %s --help\n\n",
           progname, progname, progname, progname);
    printf("Trainer for model '%s' (%s), generated by seqc; libseqrt %s.\n\n", m->name,
           m->source ? m->source : "?", SEQRT_VERSION);
    printf("train (the default command) trains on DIR/train-images-idx3-ubyte[.gz] and\n"
           "DIR/train-labels-idx1-ubyte[.gz] and validates after every epoch on the\n"
           "DIR/t10k-* files. Defaults come from the model file:\n"
           "  --data DIR       directory of MNIST-style IDX files (plain or gzip)\n"
           "  --epochs N       epochs to train, in total when resuming (default %d)\n"
           "  --batch N        mini-batch size (default %d)\n"
           "  --lr X           learning rate (default %g)\n"
           "  --seed N         seed for the initial weights, the shuffles and dropout\n"
           "                   (default %llu)\n"
           "  --threads N      threads for the kernels; 0 = the default: the CPUs,\n"
           "                   at most 2\n"
           "  --history FILE   CSV, one row per epoch:\n"
           "                   " SEQRT_HISTORY_HEADER "\n"
           "  --save FILE      write a checkpoint after every epoch\n"
           "  --resume FILE    continue from a checkpoint (its batch size, learning rate\n"
           "                   and epoch target unless given again; give the same\n"
           "                   --data and --limit)\n"
           "  --limit N        use only the first N training and N validation samples\n"
           "  --quiet          print nothing per epoch\n\n",
           m->epochs, m->batch, (double)m->lr, (unsigned long long)m->seed);
    printf("evaluate prints 'val_loss: X - val_accuracy: Y' for a checkpoint on the\n"
           "DIR/t10k-* files (--limit N: the first N), in batches of the checkpoint's\n"
           "batch size: the numbers equal the last epoch's validation bit for bit,\n"
           "whatever --threads either run used.\n\n"
           "predict prints the class the checkpoint predicts for each image of an IDX\n"
           "images file, one per line, then with --labels the accuracy.\n\n");
    printf("Notes:\n"
           "  One generator, seeded with the seed, draws the initial weights first,\n"
           "  then each epoch's shuffle, then dropout masks. The same seed gives the\n"
           "  same history and weights bit for bit, whatever --threads, and a resumed\n"
           "  run continues exactly where the checkpoint stopped.\n"
           "  A last mini-batch smaller than the batch size is trained as it is, as\n"
           "  Keras does, even a single sample; batchnorm then outputs exactly beta for\n"
           "  that sample. Pick a batch size with samples %% batch != 1 to avoid it.\n"
           "  Training stops with an error if the loss becomes NaN or infinite; the\n"
           "  last checkpoint written is the one of the last good epoch.\n"
           "  Exit status: 0 success, 1 error in data, files or training, 2 bad usage.\n");
}

/* ------------------------------------------------------------- buffers */

/* Everything a run allocates, once. */
typedef struct buffers {
    float    *params;    /* [param_count] */
    float    *grads;     /* [trainable_count] */
    float    *opt_state; /* [opt_state_count], zeroed */
    float    *arena;     /* [act_per_sample * capacity] */
    float    *x;         /* [capacity, input_size] */
    int32_t  *y;         /* [capacity] */
    uint32_t *order;     /* [samples] */
    int       capacity;
} buffers;

static void buffers_free(buffers *b)
{
    free(b->params);
    free(b->grads);
    free(b->opt_state);
    free(b->arena);
    free(b->x);
    free(b->y);
    free(b->order);
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
    b->grads = alloc_zero(m->trainable_count, sizeof(float));
    b->opt_state = alloc_zero(m->opt_state_count, sizeof(float));
    if (!b->params || !b->grads || !b->opt_state) {
        fprintf(stderr, "error: out of memory for %zu parameters\n", m->param_count);
        return -1;
    }
    return 0;
}

static int alloc_batch(buffers *b, const seqrt_model *m, int capacity, size_t samples)
{
    size_t cap = (size_t)capacity;
    b->capacity = capacity;
    b->arena = m->act_per_sample > SIZE_MAX / cap ? NULL
                                                  : alloc_zero(m->act_per_sample * cap, sizeof(float));
    b->x = (size_t)m->input_size > SIZE_MAX / cap ? NULL
                                                  : alloc_zero((size_t)m->input_size * cap, sizeof(float));
    b->y = alloc_zero(cap, sizeof(int32_t));
    b->order = alloc_zero(samples, sizeof(uint32_t));
    /* The dense kernels' scratch (a transposed weight, at most
     * trainable_count floats; with threads, partial outputs, at most
     * act_per_sample * capacity floats per extra chunk, gemm.h) is sized
     * here, so the training step itself never allocates. */
    size_t extra = seqrt_parallel_parts() > 1 ? SEQRT_DENSE_K_CHUNKS - 1 : 0;
    size_t partial = b->arena ? extra * m->act_per_sample * cap : 0;
    seqrt_parallel_scratch(partial > m->trainable_count ? partial : m->trainable_count);
    if (!b->arena || !b->x || !b->y || !b->order) {
        fprintf(stderr, "error: out of memory for a batch of %d (%zu floats of activations "
                        "per sample)\n", capacity, m->act_per_sample);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- data */

static int load_dir(const char *dir, const char *prefix, const seqrt_model *m,
                    seqrt_dataset *d)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "error: %s: no such data directory\n", dir);
        return -1;
    }
    seqrt_error err = {{0}};
    if (seqrt_load_mnist_dir(dir, prefix, d, &err) != 0 ||
        seqrt_dataset_check(d, m->input_size, m->classes, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    if (d->count == 0) {
        fprintf(stderr, "error: %s: no samples\n", d->source);
        return -1;
    }
    return 0;
}

static size_t limited(size_t count, const options *o)
{
    return has(o, F_LIMIT) && o->limit < count ? o->limit : count;
}

/* The directory a file will be written into must exist and be writable;
 * checked before training so a typo does not cost an epoch. */
static int check_writable(const char *flag, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) {
            fprintf(stderr, "error: --%s %s: path too long\n", flag, path);
            return -1;
        }
        memcpy(dir, path, n);
        dir[n ? n : 1] = '\0';
        if (n == 0)
            dir[0] = '/';
    }
    if (access(dir, W_OK) != 0) {
        fprintf(stderr, "error: --%s %s: cannot write in %s: %s\n", flag, path, dir,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ evaluation */

/*
 * Loss and accuracy of the first `count` samples of d with forward_infer,
 * in batches of b->capacity in file order: the loss is the sample-weighted
 * mean of the batch means. The generator handed to the model is a scratch
 * copy, so validation can never change the training stream.
 */
static void evaluate(const seqrt_model *m, buffers *b, const seqrt_dataset *d,
                     size_t count, double *loss, double *accuracy)
{
    double sum = 0;
    size_t correct = 0;
    seqrt_rng scratch;
    seqrt_rng_seed(&scratch, 0);
    for (size_t start = 0; start < count; start += (size_t)b->capacity) {
        int n = count - start < (size_t)b->capacity ? (int)(count - start) : b->capacity;
        seqrt_dataset_batch(d, NULL, start, n, b->x, b->y);
        seqrt_step s = {.n = n, .capacity = b->capacity, .x = b->x, .y = b->y,
                        .params = b->params, .grads = b->grads, .arena = b->arena,
                        .rng = &scratch};
        m->forward_infer(&s);
        sum += (double)s.loss * n;
        correct += (size_t)s.correct;
    }
    *loss = sum / (double)count;
    *accuracy = (double)correct / (double)count;
}

/* ------------------------------------------------------------------ train */


static int cmd_train(const seqrt_model *m, const options *o)
{
    int status = 1;
    buffers b = {0};
    seqrt_dataset train = {0}, val = {0};
    seqrt_history hist = {0};
    int hist_open = 0;
    seqrt_error err = {{0}};

    long epochs = has(o, F_EPOCHS) ? o->epochs : m->epochs;
    long batch = has(o, F_BATCH) ? o->batch : m->batch;
    float lr = has(o, F_LR) ? o->lr : m->lr;
    uint64_t seed = has(o, F_SEED) ? o->seed : m->seed;

    if ((o->save && check_writable("save", o->save)) ||
        (o->history && check_writable("history", o->history)))
        return 1;
    if (alloc_params(&b, m))
        goto done;

    /* Where the run starts: a fresh generator and initial weights, or the
     * exact state a checkpoint saved after its last epoch. */
    seqrt_rng rng;
    int64_t t = 0;
    long first_epoch = 1;
    if (o->resume) {
        seqrt_checkpoint_meta meta;
        if (seqrt_checkpoint_load(o->resume, m, b.params, b.opt_state, &meta, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            goto done;
        }
        rng = meta.rng;
        t = meta.step;
        seed = meta.seed;
        first_epoch = (long)meta.epoch + 1;
        if (!has(o, F_BATCH))
            batch = (long)meta.batch;
        if (!has(o, F_LR))
            lr = meta.lr;
        if (!has(o, F_EPOCHS))
            epochs = (long)meta.epochs;
        if (has(o, F_SEED))
            fprintf(stderr, "note: --seed is ignored with --resume: the generator continues "
                            "from the checkpoint\n");
        if (first_epoch > epochs) {
            fprintf(stderr, "error: %s: already trained %u epochs; give --epochs N with N > %u "
                            "to train more\n", o->resume, meta.epoch, meta.epoch);
            goto done;
        }
        if (batch < 1 || batch > (1L << 20)) {
            fprintf(stderr, "error: %s: batch size %ld out of range\n", o->resume, batch);
            goto done;
        }
    } else {
        seqrt_rng_seed(&rng, seed);
        m->init(b.params, &rng);
    }

    if (load_dir(o->data, "train", m, &train) || load_dir(o->data, "t10k", m, &val))
        goto done;
    size_t n_train = limited(train.count, o), n_val = limited(val.count, o);
    if (n_train > UINT32_MAX) {
        fprintf(stderr, "error: %s: %zu samples, more than this trainer handles\n",
                train.source, n_train);
        goto done;
    }
    if (alloc_batch(&b, m, (int)batch, n_train))
        goto done;
    if (o->history) {
        if (seqrt_history_open(&hist, o->history, (unsigned)(first_epoch - 1),
                               (unsigned)(epochs - first_epoch + 1), &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            goto done;
        }
        hist_open = 1;
    }
    if (o->resume && !o->quiet)
        printf("Resuming %s from %s after epoch %ld\n", m->name, o->resume, first_epoch - 1);

    int live = !o->quiet && isatty(STDOUT_FILENO);
    int steps = (int)((n_train + (size_t)batch - 1) / (size_t)batch);
    for (long epoch = first_epoch; epoch <= epochs; epoch++) {
        /* A fresh identity order each epoch, so the order depends only on
         * the generator's state at the epoch's start (saved in checkpoints). */
        for (size_t i = 0; i < n_train; i++)
            b.order[i] = (uint32_t)i;
        if (m->shuffle)
            seqrt_rng_shuffle(&rng, b.order, n_train);

        seqrt_progress prog;
        seqrt_progress_begin(&prog, live, o->quiet, (int)epoch, (int)epochs, steps);
        double t0 = seqrt_clock_seconds();
        double loss_sum = 0;
        size_t correct = 0, seen = 0;
        for (int step = 0; step < steps; step++) {
            size_t start = (size_t)step * (size_t)batch;
            int n = n_train - start < (size_t)batch ? (int)(n_train - start) : (int)batch;
            seqrt_dataset_batch(&train, b.order, start, n, b.x, b.y);
            if (step + 1 < steps)
                seqrt_dataset_prefetch(&train, b.order, start + (size_t)batch,
                                       n_train - start - (size_t)batch < (size_t)batch
                                           ? (int)(n_train - start - (size_t)batch)
                                           : (int)batch);
            seqrt_step s = {.n = n, .capacity = (int)batch, .x = b.x, .y = b.y,
                            .params = b.params, .grads = b.grads, .arena = b.arena,
                            .rng = &rng};
            m->forward_train(&s);
            if (!isfinite(s.loss)) {
                seqrt_progress_abort(&prog);
                fprintf(stderr, "error: loss became %s at epoch %ld, step %d; stopping\n",
                        isnan(s.loss) ? "nan" : "inf", epoch, step + 1);
                goto done;
            }
            m->backward(&s);
            m->update(b.params, b.grads, b.opt_state, ++t, lr);
            loss_sum += (double)s.loss * n;
            correct += (size_t)s.correct;
            seen += (size_t)n;
            seqrt_progress_step(&prog, step + 1, loss_sum / (double)seen,
                                (double)correct / (double)seen);
        }
        seqrt_history_row row = {.epoch = (unsigned)epoch,
                                 .loss = loss_sum / (double)seen,
                                 .accuracy = (double)correct / (double)seen,
                                 .seconds = seqrt_clock_seconds() - t0};
        evaluate(m, &b, &val, n_val, &row.val_loss, &row.val_accuracy);
        seqrt_progress_end(&prog, row.seconds, row.loss, row.accuracy, row.val_loss,
                           row.val_accuracy);

        if (hist_open && seqrt_history_append(&hist, &row, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            goto done;
        }
        if (o->save) {
            seqrt_checkpoint_meta meta = {.step = t, .epoch = (uint32_t)epoch,
                                          .epochs = (uint32_t)epochs, .seed = seed,
                                          .rng = rng, .batch = (uint32_t)batch, .lr = lr};
            if (seqrt_checkpoint_save(o->save, m, b.params, b.opt_state, &meta, &err)) {
                fprintf(stderr, "error: %s\n", err.msg);
                goto done;
            }
        }
    }
    status = 0;

done:
    if (hist_open)
        seqrt_history_close(&hist);
    seqrt_dataset_free(&train);
    seqrt_dataset_free(&val);
    buffers_free(&b);
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
    if (*batch < 1 || *batch > (1L << 20)) {
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

    long batch;
    if (load_for_inference(m, o, &b, &meta, &batch))
        goto done;
    if (load_dir(o->data, "t10k", m, &val) || alloc_batch(&b, m, (int)batch, 0))
        goto done;
    double loss, accuracy;
    evaluate(m, &b, &val, limited(val.count, o), &loss, &accuracy);
    /* %.9g, as the history file, so the two can be compared as text */
    printf("val_loss: %.9g - val_accuracy: %.9g\n", loss, accuracy);
    status = 0;
done:
    seqrt_dataset_free(&val);
    buffers_free(&b);
    return status;
}

/* ---------------------------------------------------------------- predict */

static int cmd_predict(const seqrt_model *m, const options *o)
{
    int status = 1;
    buffers b = {0};
    seqrt_dataset d = {0};
    seqrt_error err = {{0}};
    seqrt_checkpoint_meta meta;

    long batch;
    if (load_for_inference(m, o, &b, &meta, &batch))
        goto done;
    int loaded = seqrt_load_idx(o->images, o->labels, &d, &err);
    if (loaded != 0 || seqrt_dataset_check(&d, m->input_size, m->classes, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        goto done;
    }
    if (alloc_batch(&b, m, (int)batch, 0))
        goto done;

    size_t count = limited(d.count, o), correct = 0;
    seqrt_rng scratch;
    seqrt_rng_seed(&scratch, 0);
    for (size_t start = 0; start < count; start += (size_t)batch) {
        int n = count - start < (size_t)batch ? (int)(count - start) : (int)batch;
        seqrt_dataset_batch(&d, NULL, start, n, b.x, b.y);
        seqrt_step s = {.n = n, .capacity = (int)batch, .x = b.x, .y = b.y,
                        .params = b.params, .grads = b.grads, .arena = b.arena,
                        .rng = &scratch};
        m->forward_infer(&s);
        for (int r = 0; r < n; r++) {
            const float *row = s.output + (size_t)r * (size_t)m->classes;
            int best = 0;
            for (int c = 1; c < m->classes; c++)
                if (row[c] > row[best])
                    best = c;
            printf("%d\n", best);
            correct += best == b.y[r];
        }
    }
    if (o->labels)
        printf("accuracy: %.4f (%zu/%zu)\n", (double)correct / (double)count, correct, count);
    status = 0;
done:
    if (o->labels)
        seqrt_dataset_free(&d);
    else
        seqrt_dataset_free(&d);
    buffers_free(&b);
    return status;
}

/* ------------------------------------------------------------------- main */

/* The generated code fills the model; a wrong one is a bug in seqc, not
 * in the user's input, so it aborts loudly. */
static void check_model(const seqrt_model *m)
{
    if (!m || !m->name || !m->init || !m->forward_train || !m->forward_infer ||
        !m->backward || !m->update || m->input_size < 1 || m->classes < 1 ||
        m->trainable_count > m->param_count || m->epochs < 1 || m->batch < 1) {
        fprintf(stderr, "internal error: seqrt_main got an incomplete seqrt_model\n");
        abort();
    }
}

int seqrt_main(int argc, char **argv, const seqrt_model *model)
{
    check_model(model);
    if (argc > 0 && argv[0])
        progname = argv[0];
    options o;
    if (parse_args(argc, argv, &o))
        return EXIT_USAGE;
    if (o.cmd == CMD_HELP) {
        print_help(model);
        return 0;
    }
    seqrt_set_threads(has(&o, F_THREADS) && o.threads > 0 ? (int)o.threads : default_threads());
    switch (o.cmd) {
    case CMD_TRAIN:    return cmd_train(model, &o);
    case CMD_EVALUATE: return cmd_evaluate(model, &o);
    case CMD_PREDICT:  return cmd_predict(model, &o);
    case CMD_HELP:     break;
    }
    return 0;
}
