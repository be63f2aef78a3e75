/*
 * compare.c: `seqc compare`, variants of a model trained over several
 * seeds, side by side, with paired statistics.
 *
 *   seqc compare FILE --without KIND[,KIND]... [--without ...] --data D [options]
 *   seqc compare FILE --replace OLD=NEW [--replace ...] --data D [options]
 *   seqc compare A.seq B.seq [C.seq...] --data D [options]
 *
 * An arm is one variant (a file as written, the file less the layers of a
 * --without, the file with every OLD layer replaced by a NEW one, or
 * another file) at one learning rate (the file's own, or
 * each of --lr LIST). Every arm trains once per seed.
 *
 * The steps, in order; everything that can be wrong with the command line,
 * the models or the data is found in steps 1-4, before anything is written
 * or trained:
 *
 *   1. arguments (a usage error exits 2);
 *   2. load and check every variant, lower it and run the passes; a
 *      --without or --replace kind the model does not have is an error;
 *   3. several files: same input size and same number of classes;
 *   4. the data (a folder of IDX files): it loads and fits the model;
 *   5. write each variant's C into OUT/trainers/ and compile it (with
 *      --ranks P, P >= 2, as `seqc build --mpi` does: its MPI C compiler,
 *      libseqrt_mpi.a and the launcher, mpiexec, are found before step 4);
 *   6. run every (arm, seed) as its own process, J at a time (lab/runs.c),
 *      each with --threads 1 unless --threads is given, its history in
 *      OUT/runs/ARM-seedS.csv and its output in OUT/runs/ARM-seedS.log;
 *      with --ranks P each run is `MPIEXEC -np P TRAINER train ...`, P
 *      processes training data-parallel on the global batch;
 *   7. read the histories and test lines back, do the statistics
 *      (lab/summary.c) and write OUT/summary.json, OUT/report.md and
 *      OUT/curves.svg.
 *
 * Same seed, same start: a trainer draws every initial weight from one
 * generator, layer by layer, and then each epoch's shuffle from the same
 * generator (runtime/src/loop/train.c). Batchnorm's parameters start at
 * constants and draw nothing, so dropping batchnorm layers leaves both
 * the dense weights and the order of the mini-batches unchanged
 * (tests/compare/same_init.sh). Dropout draws its masks from a stream of
 * its own, so dropout differences keep the shuffles aligned too. A
 * different batch size changes the batches; report.md says which of
 * these hold (report_same_start).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/commands.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "back/build.h"
#include "back/codegen.h"
#include "front/frontend.h"
#include "front/names.h"
#include "front/summary.h"
#include "ir/ir.h"
#include "lab/history.h"
#include "lab/report.h"
#include "lab/runs.h"
#include "lab/summary.h"
#include "seqrt.h"
#include "util/arena.h"
#include "util/fileio.h"

#define CMD "compare"
#define USAGE SEQC_USAGE_COMPARE

#define MAX_VARIANTS 8
#define MAX_LRS      8
#define MAX_SEEDS    1000
#define DEFAULT_SEEDS 5
#define DEFAULT_VALIDATION_SPLIT "0.1"

static void print_help(void)
{
    puts("usage: seqc " USAGE "\n"
         "\n"
         "Builds variants of a model and trains each once per seed, as separate\n"
         "processes, then compares them with paired statistics: for each seed every\n"
         "arm starts from the same weights in the layers it shares and sees the\n"
         "mini-batches in the same order, so the per-seed differences cancel most of\n"
         "the seed's noise. Writes into the output folder:\n"
         "  report.md     settings of every arm (the differing ones marked), verdicts\n"
         "                worded from 95 % intervals, per-arm and paired tables\n"
         "  summary.json  the same numbers, machine-readable (docs/compare.md)\n"
         "  curves.svg    each arm's mean curve with a +-sd band, and the paired\n"
         "                difference over the epochs\n"
         "  runs/         ARM-seedS.csv (history) and ARM-seedS.log (trainer output)\n"
         "  trainers/     the generated C and the trainers\n"
         "\n"
         "The variants: FILE as written and FILE without the layers of each --without\n"
         "(--without batchnorm --without dropout: two variants; --without\n"
         "batchnorm,dropout: one without both), FILE with every OLD layer replaced by\n"
         "a NEW one for each --replace OLD=NEW (the options both kinds take, such as\n"
         "epsilon, are kept; the others dropped), or the model files given.\n"
         "\n"
         "options:\n"
         "  --without KIND[,KIND]  a variant without those layers (repeatable)\n"
         "  --replace OLD=NEW  a variant with every OLD layer replaced by a NEW one\n"
         "                  (repeatable), e.g. --replace relu=tanh\n"
         "  --data D        training data: a folder of MNIST-style IDX files, FILE.npz or\n"
         "                  FILE.csv (required); passed to each trainer as it is\n"
         "  --test FILE     a test set (CSV), evaluated once after training\n"
         "  --target NAMES  the CSV's target columns (passed on)\n"
         "  --no-header     the CSV has no header line (passed on)\n"
         "  --validation-split F  the last fraction F of the training data validates\n"
         "                  (default " DEFAULT_VALIDATION_SPLIT ")\n"
         "  --target METRIC=X  also count the epochs until METRIC reaches X\n"
         "                  (val_accuracy=0.95; for a loss, until it falls to X)\n"
         "  --seeds K|LIST  K seeds from --seed on (default 5), or the seeds 1,5,9\n"
         "  --seed N        the first seed (default: the first model's)\n"
         "  --lr LIST       learning rates, each crossed with every variant (0.001,0.01)\n"
         "  --epochs N      epochs for every arm (default: each file's own)\n"
         "  --jobs J        runs at a time (default: the online CPUs, divided by P\n"
         "                  with --ranks P)\n"
         "  --threads N     threads for each trainer process (default 1)\n"
         "  --ranks P       train every run on P MPI processes (P >= 2; 1: one process,\n"
         "                  the default): the trainers are built as by seqc build --mpi\n"
         "                  and run as MPIEXEC -np P TRAINER train ..., MPIEXEC being\n"
         "                  $MPIEXEC, else the mpiexec found when seqc was built, else\n"
         "                  mpiexec on PATH; the model's batch is the global batch,\n"
         "                  split over the ranks (docs/scale-out.md)\n"
         "  -o DIR          output folder (default compare-NAME)\n"
         "  --limit N       train on the first N samples and test on the first N\n"
         "  --max-data-bytes N  refuse data over N bytes in memory (512M, 2G also read)");
}

/* One edit of the file, one variant: --without (kinds[0..n) dropped) or
 * --replace (every kinds[0] layer becomes a `to`; n == 1). */
typedef struct without_set {
    layer_kind kinds[LAYER_KIND_COUNT];
    int        n;
    bool       replace;
    layer_kind to;
} without_set;

typedef struct compare_args {
    const char *files[MAX_VARIANTS];
    int         nfiles;
    without_set without[MAX_VARIANTS];
    int         nwithout;
    const char *data, *test, *columns, *out, *val_split;
    bool        no_header;
    bool        has_target;
    char        target_metric[64];
    double      target_value;
    long        epochs;  /* 0: each model's own */
    long        threads; /* 0: 1 per trainer */
    long        jobs;    /* 0: the online CPUs (divided by ranks) */
    long        ranks;   /* --ranks P; 0 or 1: one process per run */
    long        limit;   /* 0: all */
    const char *max_data; /* --max-data-bytes as given, passed on; NULL: default */
    seqrt_load_opts data_limit;
    bool        has_seed;
    uint64_t    seed;
    long        nseeds;  /* --seeds K */
    uint64_t   *seed_list; /* --seeds LIST (malloc'd) */
    size_t      nseed_list;
    const char *lr_text[MAX_LRS];
    double      lr[MAX_LRS];
    int         nlr;
} compare_args;

/* A whole number in [lo, hi]; 0 or a usage error (2). */
static int parse_count(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno || v < lo || v > hi)
        return cli_usage_error(CMD, USAGE, "%s expects a whole number from %ld to %ld, got '%s'",
                               opt, lo, hi, s);
    *out = v;
    return 0;
}


/* A decimal unsigned 64-bit number; 0, or -1 when s is not one. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long u = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = (uint64_t)u;
    return 0;
}

/* The options that take a value, each with its setter: 0, or a usage
 * error (2) for a value out of range. */
static int set_data(compare_args *a, const char *v) { a->data = v; return 0; }
static int set_test(compare_args *a, const char *v) { a->test = v; return 0; }
static int set_out(compare_args *a, const char *v) { a->out = v; return 0; }
static int set_epochs(compare_args *a, const char *v)
{
    return parse_count("--epochs", v, 1, 1000000, &a->epochs);
}
static int set_threads(compare_args *a, const char *v)
{
    return parse_count("--threads", v, 1, 1024, &a->threads);
}
static int set_jobs(compare_args *a, const char *v)
{
    return parse_count("--jobs", v, 1, 1024, &a->jobs);
}
static int set_ranks(compare_args *a, const char *v)
{
    return parse_count("--ranks", v, 1, 1024, &a->ranks);
}
static int set_limit(compare_args *a, const char *v)
{
    return parse_count("--limit", v, 1, LONG_MAX, &a->limit);
}
static int set_max_data(compare_args *a, const char *v)
{
    if (seqrt_parse_bytes(v, &a->data_limit.max_bytes) != 0)
        return cli_usage_error(CMD, USAGE, "--max-data-bytes expects a size in bytes such "
                               "as 500000000, 512M or 2G, got '%s'", v);
    a->max_data = v;
    return 0;
}
static int set_seed(compare_args *a, const char *v) /* any unsigned 64-bit number */
{
    if (parse_u64(v, &a->seed) != 0)
        return cli_usage_error(CMD, USAGE, "--seed expects a whole number from 0 to %llu, got '%s'",
                               ULLONG_MAX, v);
    a->has_seed = true;
    return 0;
}
static int set_split(compare_args *a, const char *v)
{
    char *end;
    errno = 0;
    double f = strtod(v, &end);
    if (end == v || *end || errno || !(f > 0 && f < 1))
        return cli_usage_error(CMD, USAGE, "--validation-split expects a fraction between 0 "
                               "and 1 (exclusive), such as 0.1, got '%s'", v);
    a->val_split = v;
    return 0;
}
/* "K" (a count) or "S1,S2,..." (the seeds themselves, distinct) */
static int set_seeds(compare_args *a, const char *v)
{
    if (!strchr(v, ',')) {
        char *end;
        errno = 0;
        long k = strtol(v, &end, 10);
        if (end == v || *end || errno || k < 1 || k > MAX_SEEDS)
            goto bad;
        a->nseeds = k;
        return 0;
    }
    free(a->seed_list);
    a->nseed_list = 0;
    a->seed_list = malloc(MAX_SEEDS * sizeof *a->seed_list);
    if (!a->seed_list) {
        fputs("seqc: out of memory\n", stderr);
        return 2;
    }
    for (const char *p = v;;) {
        size_t len = strcspn(p, ",");
        char item[32];
        uint64_t s;
        if (len == 0 || len >= sizeof item || a->nseed_list == MAX_SEEDS)
            goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        if (parse_u64(item, &s) != 0)
            goto bad;
        for (size_t i = 0; i < a->nseed_list; i++)
            if (a->seed_list[i] == s)
                return cli_usage_error(CMD, USAGE, "--seeds: seed %s is listed twice", item);
        a->seed_list[a->nseed_list++] = s;
        if (!p[len])
            return 0;
        p += len + 1;
    }
bad:
    return cli_usage_error(CMD, USAGE, "--seeds expects a count from 1 to %d or a list of "
                           "seeds such as 1,5,9, got '%s'", MAX_SEEDS, v);
}
/* "0.001,0.01,0.1": distinct positive learning rates */
static int set_lr(compare_args *a, const char *v)
{
    a->nlr = 0;
    for (const char *p = v;;) {
        size_t len = strcspn(p, ",");
        char *item = strndup(p, len), *end;
        if (!item) {
            fputs("seqc: out of memory\n", stderr);
            return 2;
        }
        errno = 0;
        double x = strtod(item, &end);
        bool ok = len > 0 && end != item && !*end && !errno && x > 0 && isfinite(x) &&
                  a->nlr < MAX_LRS;
        for (int i = 0; ok && i < a->nlr; i++)
            ok = a->lr[i] != x;
        if (!ok) {
            free(item);
            return cli_usage_error(CMD, USAGE, "--lr expects up to %d distinct positive "
                                   "learning rates separated by commas, such as "
                                   "0.001,0.01,0.1, got '%s'", MAX_LRS, v);
        }
        a->lr_text[a->nlr] = item; /* freed with the args */
        a->lr[a->nlr++] = x;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}
/* --target: "METRIC=X" is compare's own (epochs to reach X); a value with
 * no '=' names the CSV's target columns and goes to the trainers. */
static int set_target(compare_args *a, const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq) {
        a->columns = v;
        return 0;
    }
    char *end;
    errno = 0;
    double x = strtod(eq + 1, &end);
    size_t len = (size_t)(eq - v);
    if (len == 0 || len >= sizeof a->target_metric || end == eq + 1 || *end || errno ||
        !isfinite(x) || strncmp(v, "val_", 4) != 0)
        return cli_usage_error(CMD, USAGE, "--target expects METRIC=VALUE with a validation "
                               "metric, such as val_accuracy=0.95, got '%s'", v);
    memcpy(a->target_metric, v, len);
    a->target_metric[len] = '\0';
    a->target_value = x;
    a->has_target = true;
    return 0;
}
static int set_without(compare_args *a, const char *v)
{
    if (a->nwithout == MAX_VARIANTS - 1)
        return cli_usage_error(CMD, USAGE, "at most %d --without options", MAX_VARIANTS - 1);
    without_set *w = &a->without[a->nwithout];
    w->n = 0;
    for (const char *p = v;;) {
        size_t len = strcspn(p, ",");
        char kind[64];
        snprintf(kind, sizeof kind, "%.*s", (int)(len < 63 ? len : 63), p);
        layer_kind k;
        if (cli_layer_kind(CMD, USAGE, kind, &k) != 0)
            return 2;
        bool dup = false;
        for (int i = 0; i < w->n; i++)
            dup |= w->kinds[i] == k;
        if (!dup)
            w->kinds[w->n++] = k;
        if (!p[len])
            break;
        p += len + 1;
    }
    a->nwithout++;
    return 0;
}

/* --replace OLD=NEW */
static int set_replace(compare_args *a, const char *v)
{
    if (a->nwithout == MAX_VARIANTS - 1)
        return cli_usage_error(CMD, USAGE, "at most %d --without and --replace options",
                               MAX_VARIANTS - 1);
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1])
        return cli_usage_error(CMD, USAGE, "--replace expects OLD=NEW, two layer kinds such as "
                               "batchnorm=layernorm, got '%s'", v);
    char from[64], to[64];
    snprintf(from, sizeof from, "%.*s", (int)((size_t)(eq - v) < 63 ? eq - v : 63), v);
    snprintf(to, sizeof to, "%s", eq + 1);
    without_set *w = &a->without[a->nwithout];
    if (cli_layer_kind_for(CMD, USAGE, "--replace", from, &w->kinds[0]) != 0 ||
        cli_layer_kind_for(CMD, USAGE, "--replace", to, &w->to) != 0)
        return 2;
    if (w->kinds[0] == w->to)
        return cli_usage_error(CMD, USAGE, "--replace %s: a layer replaced by its own kind is "
                               "the model as written", v);
    w->n = 1;
    w->replace = true;
    a->nwithout++;
    return 0;
}

static const char *const value_names[] = {
    "--data", "-o", "--epochs", "--seed", "--threads", "--limit", "--max-data-bytes",
    "--test", "--target", "--validation-split", "--seeds", "--jobs", "--lr", "--without",
    "--replace", "--ranks"};
static int (*const value_setters[])(compare_args *, const char *) = {
    set_data, set_out, set_epochs, set_seed, set_threads, set_limit, set_max_data,
    set_test, set_target, set_split, set_seeds, set_jobs, set_lr, set_without, set_replace,
    set_ranks};
enum { NVALUE_OPTIONS = sizeof value_names / sizeof value_names[0] };
_Static_assert(sizeof value_setters / sizeof value_setters[0] == NVALUE_OPTIONS,
               "value_setters out of step with value_names");

/* What the arguments must say together; 0 or a usage error (2). */
static int check_args(const compare_args *a)
{
    if (a->nfiles == 0)
        return cli_usage_error(CMD, USAGE, "no model file given");
    if (a->nfiles == 1 && a->nwithout == 0 && a->nlr < 2)
        return cli_usage_error(CMD, USAGE,
                               "nothing to compare %s with: give --without KIND, --replace "
                               "OLD=NEW, a second model file or several learning rates "
                               "(--lr 0.001,0.01)",
                               a->files[0]);
    if (a->nfiles >= 2 && a->nwithout > 0)
        return cli_usage_error(CMD, USAGE,
                               "--without and --replace go with one model file, not several "
                               "(edit the layers in the other files instead)");
    if (!a->data)
        return cli_usage_error(CMD, USAGE, "--data is required (a folder of train-* and "
                                           "t10k-* IDX files, an .npz or a .csv file)");
    return 0;
}

static void free_args(compare_args *a)
{
    free(a->seed_list);
    for (int i = 0; i < a->nlr; i++)
        free((char *)a->lr_text[i]);
    a->seed_list = NULL;
    a->nlr = 0;
}

/* argv[0] is "compare". Returns 0, 2 for a usage error, -1 after --help. */
static int parse_args(int argc, char **argv, compare_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc;) {
        const char *s = argv[i], *val;
        if (cli_is_help(s)) {
            print_help();
            return -1;
        }
        if (strcmp(s, "--no-header") == 0) {
            a->no_header = true;
            i++;
            continue;
        }
        int k = cli_take_value(CMD, USAGE, argc, argv, &i, value_names, NVALUE_OPTIONS, &val);
        if (k == -2 || (k >= 0 && value_setters[k](a, val) != 0))
            return 2;
        if (k >= 0)
            continue;
        if (s[0] == '-' && s[1] != '\0')
            return cli_usage_error(CMD, USAGE, "unknown option '%s'", s);
        if (a->nfiles == MAX_VARIANTS)
            return cli_usage_error(CMD, USAGE, "at most %d model files ('%s' is one more)",
                                   MAX_VARIANTS, s);
        a->files[a->nfiles++] = s;
        i++;
    }
    return check_args(a);
}

/* ------------------------------------------------------------ variants */

typedef struct variant {
    const char *file;
    model      *m;
    ir_model   *ir;
    const char *name;    /* "mnist_bn", "mnist_bn without batchnorm" */
    const char *slug;    /* "mnist_bn", "mnist_bn-no-batchnorm" */
    const char *without; /* "batchnorm and dropout", "" */
    const char *replaced; /* "layernorm instead of batchnorm", "" */
    const char *edit;    /* after the model's name: "without batchnorm",
                            "with layernorm instead of batchnorm", "" */
    const char *dense;   /* the dense layers, for report_same_start */
    const char *batchnorm; /* batchnorm_stats */
    char       *summary; /* summary_print's table, malloc'd */
    const char *c_path, *exe_path;
} variant;

/* summary_print into a string (malloc'd; NULL when out of memory). */
static char *summary_text(const model *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    summary_print(f, m);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static bool has_kind(const model *m, layer_kind k)
{
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == k)
            return true;
    return false;
}

/* "batchnorm", "batchnorm and dropout", "batchnorm, dropout and tanh" */
static char *kind_list(arena *ar, const without_set *w)
{
    char *s = arena_strdup(ar, "");
    for (int i = 0; i < w->n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == w->n ? " and " : ", ";
        s = arena_printf(ar, "%s%s%s", s, sep, layer_kind_name(w->kinds[i]));
    }
    return s;
}

/* "784x128 bias glorot_uniform, 128x64 ..." */
static const char *dense_signature(arena *ar, const model *m)
{
    char *s = arena_strdup(ar, "");
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        if (l->kind != LAYER_DENSE)
            continue;
        s = arena_printf(ar, "%s%s%" PRId64 "%s %s", s, *s ? ", " : "", l->units,
                         l->bias ? "" : " no-bias", init_kind_name(l->init));
    }
    return *s ? s : "-";
}

/* What the batchnorm layers normalize with under MPI: "2 synchronized",
 * "1 synchronized, 1 per rank (sync=false)", "-" for none. Ghost
 * batches are per rank by nature, frozen layers use none. */
static const char *batchnorm_stats(arena *ar, const model *m)
{
    int sync = 0, local = 0, ghost = 0, frozen = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        if (l->kind != LAYER_BATCHNORM)
            continue;
        if (l->frozen)
            frozen++;
        else if (l->virtual_batch > 0)
            ghost++;
        else if (l->sync)
            sync++;
        else
            local++;
    }
    char *s = arena_strdup(ar, "");
    if (sync)
        s = arena_printf(ar, "%d synchronized", sync);
    if (local)
        s = arena_printf(ar, "%s%s%d per rank (sync=false)", s, *s ? ", " : "", local);
    if (ghost)
        s = arena_printf(ar, "%s%s%d in ghost batches", s, *s ? ", " : "", ghost);
    if (frozen)
        s = arena_printf(ar, "%s%s%d frozen", s, *s ? ", " : "", frozen);
    return *s ? s : "-";
}

/* Loads, checks and lowers every variant. Returns 0, or 1 after an error
 * was printed. */
static int load_variants(arena *ar, const compare_args *a, variant *v, int nv)
{
    for (int k = 0; k < nv; k++) {
        v[k].file = a->files[a->nfiles >= 2 ? k : 0];
        v[k].m = arena_alloc(ar, sizeof(model));
        v[k].without = "";
        v[k].replaced = "";
        v[k].edit = "";
        if (frontend_load(ar, v[k].file, v[k].m) != 0)
            return 1;
        if (a->nfiles == 1 && k > 0 && a->without[k - 1].replace) {
            const without_set *w = &a->without[k - 1];
            const char *from = layer_kind_name(w->kinds[0]), *to = layer_kind_name(w->to);
            if (!has_kind(v[k].m, w->kinds[0])) {
                fprintf(stderr, "seqc compare: error: model %s (%s) has no %s layer: "
                                "nothing to replace with --replace %s=%s\n",
                        v[k].m->name, v[k].file, from, from, to);
                return 1;
            }
            if (model_replace(v[k].m, w->kinds[0], w->to) != 0)
                return 1;
            v[k].replaced = arena_printf(ar, "%s instead of %s", to, from);
            v[k].edit = arena_printf(ar, "with %s", v[k].replaced);
        } else if (a->nfiles == 1 && k > 0) {
            const without_set *w = &a->without[k - 1];
            for (int i = 0; i < w->n; i++)
                if (!has_kind(v[k].m, w->kinds[i])) {
                    fprintf(stderr, "seqc compare: error: model %s (%s) has no %s layer: "
                                    "nothing to drop with --without %s\n",
                            v[k].m->name, v[k].file, layer_kind_name(w->kinds[i]),
                            layer_kind_name(w->kinds[i]));
                    return 1;
                }
            if (model_without(v[k].m, w->kinds, w->n) != 0)
                return 1;
            v[k].without = kind_list(ar, w);
            v[k].edit = arena_printf(ar, "without %s", v[k].without);
        }
        v[k].ir = ir_lower(ar, v[k].m, *v[k].without ? v[k].without : NULL);
        if (!v[k].ir)
            return 1;
        if (*v[k].replaced)
            v[k].ir->replaced = v[k].replaced;
        if (ir_run_passes(v[k].ir, NULL) != 0)
            return 1;
        v[k].dense = dense_signature(ar, v[k].m);
        v[k].batchnorm = batchnorm_stats(ar, v[k].m);
    }
    return 0;
}

/* "models/mnist_bn.seq" -> "mnist_bn" */
static const char *file_stem(arena *ar, const char *path)
{
    return arena_strndup(ar, path_base(path), path_stem_len(path));
}

static const char *slug_of(arena *ar, const char *text)
{
    char buf[256];
    report_slug(text, buf, sizeof buf);
    return arena_strdup(ar, buf);
}


/* Display names and file stems, distinct from each other. */
static void name_variants(arena *ar, const compare_args *a, variant *v, int nv)
{
    if (a->nfiles == 1) {
        for (int k = 0; k < nv; k++) {
            const char *base = v[0].m->name;
            v[k].name = k ? arena_printf(ar, "%s %s", base, v[k].edit) : base;
            char *s = arena_strdup(ar, slug_of(ar, base));
            if (k && a->without[k - 1].replace)
                s = arena_printf(ar, "%s-%s-for-%s", s, layer_kind_name(a->without[k - 1].to),
                                 layer_kind_name(a->without[k - 1].kinds[0]));
            else if (k)
                for (int i = 0; i < a->without[k - 1].n; i++)
                    s = arena_printf(ar, "%s-no-%s", s,
                                     layer_kind_name(a->without[k - 1].kinds[i]));
            v[k].slug = s;
        }
        return;
    }
    for (int k = 0; k < nv; k++) {
        v[k].name = v[k].m->name;
        v[k].slug = slug_of(ar, v[k].m->name);
    }
    for (int k = 0; k < nv; k++) {
        bool clash = false;
        for (int j = 0; j < nv; j++)
            clash |= j != k && strcmp(v[j].m->name, v[k].m->name) == 0;
        if (!clash)
            continue;
        /* same model name: tell them apart by file stem and position */
        const char *tag = arena_printf(ar, "%s #%d", file_stem(ar, v[k].file), k + 1);
        v[k].name = arena_printf(ar, "%s (%s)", v[k].m->name, tag);
        v[k].slug = slug_of(ar, arena_printf(ar, "%s-%s", v[k].m->name, tag));
    }
    for (int k = 0; k < nv; k++) /* names that differ only in odd bytes */
        for (int j = 0; j < k; j++)
            if (strcmp(v[j].slug, v[k].slug) == 0)
                v[k].slug = arena_printf(ar, "%s-%d", v[k].slug, k + 1);
}

/* Several files must take the same samples and predict the same classes. */
static int check_files(const variant *v, int nv)
{
    const ir_model *x = v[0].ir;
    for (int k = 1; k < nv; k++) {
        const ir_model *y = v[k].ir;
        if (x->input_size != y->input_size) {
            fprintf(stderr, "seqc compare: error: the models take different inputs: %s (%s) "
                            "takes %" PRId64 " values per sample (%" PRId64 "x%" PRId64 "), "
                            "%s (%s) takes %" PRId64 " (%" PRId64 "x%" PRId64 ")\n",
                    v[0].m->name, v[0].file, x->input_size, x->input_rows, x->input_cols,
                    v[k].m->name, v[k].file, y->input_size, y->input_rows, y->input_cols);
            return 1;
        }
        if (x->classes != y->classes) {
            fprintf(stderr, "seqc compare: error: the models predict different numbers of "
                            "classes: %s (%s) has %" PRId64 ", %s (%s) has %" PRId64 "\n",
                    v[0].m->name, v[0].file, x->classes, v[k].m->name, v[k].file, y->classes);
            return 1;
        }
    }
    return 0;
}

/* The data as the trainers will read it (seqrt_load_data: an IDX folder,
 * an .npz, or CSV files with --test/--target/--no-header): every set
 * loads and fits the (common) input, outputs and loss, before anything
 * is built or trained. The split of validation data is the trainer's;
 * it changes no sample, so checking the whole training set covers it. */
static int check_data(const compare_args *a, const variant *v)
{
    seqrt_data_spec spec = {.data = a->data, .test = a->test,
                            .csv = {.target = a->columns, .no_header = a->no_header}};
    seqrt_data_sets sets;
    seqrt_error err;
    memset(&sets, 0, sizeof sets);
    if (seqrt_load_data(&spec, &a->data_limit, &sets, &err) != 0) {
        fprintf(stderr, "seqc compare: error: cannot read the data: %s\n", err.msg);
        return 1;
    }
    const seqrt_dataset *each[] = {&sets.train, &sets.val, &sets.test};
    int rc = 0;
    for (size_t i = 0; i < sizeof each / sizeof *each && rc == 0; i++) {
        if (each[i]->count == 0 && i > 0)
            continue;
        rc = seqrt_dataset_check(each[i], (int)v->ir->input_size, (int)v->ir->classes,
                                 seqrt_loss_targets(v->m->train.loss), 1, &err);
    }
    seqrt_data_sets_free(&sets);
    if (rc != 0) {
        fprintf(stderr, "seqc compare: error: the data does not fit model %s: %s\n",
                v->m->name, err.msg);
        return 1;
    }
    return 0;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_c(FILE *f, const void *ir) { return codegen_c(f, ir, NULL); }

/* Writes v's C to v->c_path and compiles it to v->exe_path in the
 * prepared environment (with MPI for --ranks). */
static int build_variant(const build_env *e, const variant *v)
{
    if (file_write_atomic(v->c_path, "seqc compare", write_c, v->ir) != 0)
        return 1;
    return build_compile(e, v->c_path, v->exe_path, false);
}

/* ---------------------------------------------------------------- arms */

/* The run plan: arms, seeds and paths, all decided before anything runs. */
typedef struct plan {
    const char *out;
    int         nv;
    variant     v[MAX_VARIANTS];
    size_t      narms;
    cmp_arm    *arms;
    size_t      nseeds;
    uint64_t   *seeds;
    const char *data_text; /* the data flags, for the report */
    const char *split;     /* as passed to the trainers */
    long        ranks;     /* processes per run: 1, or P >= 2 under MPI */
    build_env   env;       /* the compiler and the runtime (build_prepare) */
    char      **mpiexec;   /* ranks >= 2: the launcher's words, as $MPIEXEC gives them */
    int         nmpiexec;
} plan;

static const char *arm_csv(arena *ar, const plan *p, size_t a, size_t i)
{
    return arena_printf(ar, "%s/runs/%s-seed%" PRIu64 ".csv", p->out, p->arms[a].slug,
                        p->seeds[i]);
}

static const char *arm_log(arena *ar, const plan *p, size_t a, size_t i)
{
    return arena_printf(ar, "%s/runs/%s-seed%" PRIu64 ".log", p->out, p->arms[a].slug,
                        p->seeds[i]);
}

/* Every variant at every learning rate (the variant's own without --lr). */
static int make_arms(arena *ar, const compare_args *a, plan *p)
{
    size_t nlr = a->nlr ? (size_t)a->nlr : 1;
    p->narms = (size_t)p->nv * nlr;
    p->arms = arena_alloc(ar, p->narms * sizeof *p->arms);
    memset(p->arms, 0, p->narms * sizeof *p->arms);
    /* the split: --validation-split, else each model file's own, else 0.1 */
    p->split = a->val_split ? a->val_split : DEFAULT_VALIDATION_SPLIT;
    char *data = arena_printf(ar, "--data %s", a->data);
    if (a->test)
        data = arena_printf(ar, "%s --test %s", data, a->test);
    if (a->columns)
        data = arena_printf(ar, "%s --target %s", data, a->columns);
    if (a->no_header)
        data = arena_printf(ar, "%s --no-header", data);
    if (a->limit)
        data = arena_printf(ar, "%s --limit %ld", data, a->limit);
    p->data_text = data;
    for (size_t l = 0; l < nlr; l++)
        for (int k = 0; k < p->nv; k++) {
            cmp_arm *arm = &p->arms[l * (size_t)p->nv + (size_t)k];
            const variant *v = &p->v[k];
            const train_recipe *r = &v->m->train;
            arm->variant = k;
            arm->lr_index = a->nlr ? (int)l : -1;
            arm->name = a->nlr ? arena_printf(ar, "%s lr=%s", v->name, a->lr_text[l]) : v->name;
            arm->slug = a->nlr ? slug_of(ar, arena_printf(ar, "%s-lr%s", v->slug, a->lr_text[l]))
                               : v->slug;
            arm->summary = v->summary;
            arm->set = (cmp_settings){
                .file = v->file,
                .model = v->m->name,
                .without = v->without,
                .replaced = v->replaced,
                .optimizer = optimizer_kind_name(r->optimizer),
                .lr = a->nlr ? a->lr[l] : r->lr,
                .batch = (long)r->batch,
                .epochs = a->epochs ? a->epochs : (long)r->epochs,
                .loss = loss_kind_name(r->loss),
                .data = data,
                .val_split = a->val_split                 ? a->val_split
                             : r->validation_split > 0 ? arena_printf(ar, "%g",
                                                                      r->validation_split)
                                                       : DEFAULT_VALIDATION_SPLIT,
                .val_split_from = a->val_split                 ? "--validation-split"
                                  : r->validation_split > 0 ? "the model file"
                                                            : "compare's default",
                .shuffle = r->shuffle,
                .dropout_layers = 0,
                .dense = v->dense,
                .batchnorm = v->batchnorm,
                .ranks = p->ranks,
            };
            for (size_t i = 0; i < v->m->nlayers; i++)
                arm->set.dropout_layers += v->m->layers[i].kind == LAYER_DROPOUT;
            arm->hist = arena_alloc(ar, p->nseeds * sizeof *arm->hist);
            arm->test = arena_alloc(ar, p->nseeds * sizeof *arm->test);
            memset(arm->hist, 0, p->nseeds * sizeof *arm->hist);
            memset(arm->test, 0, p->nseeds * sizeof *arm->test);
        }
    return 0;
}

static void make_seeds(arena *ar, const compare_args *a, plan *p)
{
    if (a->nseed_list) {
        p->nseeds = a->nseed_list;
        p->seeds = arena_alloc(ar, p->nseeds * sizeof *p->seeds);
        memcpy(p->seeds, a->seed_list, p->nseeds * sizeof *p->seeds);
        return;
    }
    uint64_t first = a->has_seed ? a->seed : p->v[0].m->train.seed;
    p->nseeds = a->nseeds ? (size_t)a->nseeds : DEFAULT_SEEDS;
    p->seeds = arena_alloc(ar, p->nseeds * sizeof *p->seeds);
    for (size_t i = 0; i < p->nseeds; i++)
        p->seeds[i] = first + i; /* wraps past 2^64 - 1, as the generator would */
}

/* The output folder and every path in it, checked before anything is
 * built: none may be a model file named on the command line (through a
 * link too) or a directory, and the folder must be one. */
static int plan_outputs(arena *ar, const compare_args *a, plan *p)
{
    if (a->out) {
        p->out = a->out;
    } else {
        char *o = arena_printf(ar, "compare-%s", p->v[0].slug);
        for (int k = 1; a->nfiles >= 2 && k < p->nv; k++)
            o = arena_printf(ar, "%s-%s", o, p->v[k].slug);
        p->out = o;
    }
    const char *tdir = arena_printf(ar, "%s/trainers", p->out);
    for (int k = 0; k < p->nv; k++) {
        p->v[k].c_path = arena_printf(ar, "%s/%s.c", tdir, p->v[k].slug);
        const char *exe = arena_printf(ar, "%s/%s", tdir, p->v[k].slug);
        if (exe[0] != '/' && strncmp(exe, "./", 2) != 0)
            exe = arena_printf(ar, "./%s", exe); /* a path, not a name */
        p->v[k].exe_path = exe;
    }
    struct stat st;
    if (stat(p->out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "seqc compare: error: cannot write into %s: it is not a folder\n",
                p->out);
        return 1;
    }
    size_t nfiles = 3 + 2 * (size_t)p->nv + 2 * p->narms * p->nseeds, n = 0;
    const char **files = arena_alloc(ar, nfiles * sizeof *files);
    files[n++] = arena_printf(ar, "%s/report.md", p->out);
    files[n++] = arena_printf(ar, "%s/curves.svg", p->out);
    files[n++] = arena_printf(ar, "%s/summary.json", p->out);
    for (int k = 0; k < p->nv; k++) {
        files[n++] = p->v[k].c_path;
        files[n++] = p->v[k].exe_path;
    }
    for (size_t arm = 0; arm < p->narms; arm++)
        for (size_t i = 0; i < p->nseeds; i++) {
            files[n++] = arm_csv(ar, p, arm, i);
            files[n++] = arm_log(ar, p, arm, i);
        }
    char why[600];
    for (size_t i = 0; i < n; i++)
        if (file_check_target(files[i], a->files, (size_t)a->nfiles, why, sizeof why) != 0) {
            fprintf(stderr, "seqc compare: error: cannot write %s: %s; choose another "
                            "folder with -o\n", files[i], why);
            return 1;
        }
    return 0;
}

/* What building and running the trainers needs from the system, found
 * before anything is written: the C compiler and libseqrt; with --ranks
 * P >= 2 the MPI C compiler and libseqrt_mpi.a (as seqc build --mpi
 * finds them) and the launcher. Returns 0, or 1 after the error. */
static int prepare_tools(arena *ar, const compare_args *a, plan *p)
{
    bool mpi = p->ranks >= 2;
    if (build_prepare(&p->env, mpi) != 0) {
        if (mpi)
            fprintf(stderr, "seqc compare: note: --ranks %ld builds every trainer as seqc "
                            "build --mpi does\n", p->ranks);
        return 1;
    }
    if (!mpi)
        return 0;
    const char *env = getenv("MPIEXEC");
    char cmd[4096];
    int rc = runs_find_mpiexec(env, SEQC_MPIEXEC, getenv("PATH"), cmd, sizeof cmd);
    if (rc == 1) {
        fprintf(stderr, "seqc compare: error: --ranks %ld runs every trainer with an MPI "
                        "launcher: $MPIEXEC is '%s', which is not a program; set MPIEXEC to "
                        "mpiexec (or mpirun), or unset it to use mpiexec\n", a->ranks, env);
        return 1;
    }
    if (rc == 2) {
        fprintf(stderr, "seqc compare: error: --ranks %ld runs every trainer with mpiexec, and "
                        "there is none on PATH: on Debian, apt-get install openmpi-bin (or "
                        "set MPIEXEC to one)\n", a->ranks);
        return 1;
    }
    /* the words of the command, as build.c splits $MPICC */
    char *words = arena_strdup(ar, cmd), *save = NULL;
    p->mpiexec = arena_alloc(ar, (strlen(cmd) / 2 + 2) * sizeof *p->mpiexec);
    p->nmpiexec = 0;
    for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        p->mpiexec[p->nmpiexec++] = w;
    return 0;
}

/* Makes OUT/trainers and OUT/runs, writes and compiles every trainer. */
static int build_variants(arena *ar, plan *p)
{
    const char *dirs[] = {arena_printf(ar, "%s/trainers", p->out),
                          arena_printf(ar, "%s/runs", p->out)};
    for (int i = 0; i < 2; i++)
        if (make_dirs(dirs[i]) != 0) {
            fprintf(stderr, "seqc compare: error: cannot make the folder %s: %s\n", dirs[i],
                    strerror(errno));
            return 1;
        }
    for (int k = 0; k < p->nv; k++) {
        printf("seqc compare: building %s -> %s\n", p->v[k].name, p->v[k].exe_path);
        fflush(stdout);
        if (build_variant(&p->env, &p->v[k]) != 0)
            return 1;
    }
    return 0;
}

/* One trainer's command line (arena-owned). */
static long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* With --ranks P: MPIEXEC -np P [--oversubscribe] --bind-to none. Open
 * MPI refuses more ranks than cores without --oversubscribe, and binds
 * each run's ranks to the first cores, the same ones for every run that
 * goes at a time, unless told not to. */
static int launcher_argv(arena *ar, const plan *p, char **argv)
{
    int n = 0;
    if (p->ranks < 2)
        return 0;
    for (int w = 0; w < p->nmpiexec; w++)
        argv[n++] = p->mpiexec[w];
    argv[n++] = "-np";
    argv[n++] = arena_printf(ar, "%ld", p->ranks);
    if (p->ranks > online_cpus())
        argv[n++] = "--oversubscribe";
    argv[n++] = "--bind-to";
    argv[n++] = "none";
    return n;
}

static char **run_argv(arena *ar, const compare_args *a, const plan *p, size_t arm, size_t i)
{
    const cmp_arm *A = &p->arms[arm];
    char **argv = arena_alloc(ar, (size_t)(40 + p->nmpiexec + 8) * sizeof *argv);
    int n = launcher_argv(ar, p, argv);
    argv[n++] = (char *)p->v[A->variant].exe_path;
    argv[n++] = "train";
    argv[n++] = "--data";
    argv[n++] = (char *)a->data;
    if (a->test) {
        argv[n++] = "--test";
        argv[n++] = (char *)a->test;
    }
    if (a->columns) {
        argv[n++] = "--target";
        argv[n++] = (char *)a->columns;
    }
    if (a->no_header)
        argv[n++] = "--no-header";
    argv[n++] = "--validation-split";
    argv[n++] = (char *)A->set.val_split;
    argv[n++] = "--epochs";
    argv[n++] = arena_printf(ar, "%ld", A->set.epochs);
    argv[n++] = "--seed";
    argv[n++] = arena_printf(ar, "%" PRIu64, p->seeds[i]);
    if (A->lr_index >= 0) {
        argv[n++] = "--lr";
        argv[n++] = (char *)a->lr_text[A->lr_index];
    }
    argv[n++] = "--threads";
    argv[n++] = arena_printf(ar, "%ld", a->threads ? a->threads : 1L);
    argv[n++] = "--history";
    argv[n++] = (char *)arm_csv(ar, p, arm, i);
    argv[n++] = "--quiet";
    if (a->limit > 0) {
        argv[n++] = "--limit";
        argv[n++] = arena_printf(ar, "%ld", a->limit);
    }
    if (a->max_data) {
        argv[n++] = "--max-data-bytes";
        argv[n++] = (char *)a->max_data;
    }
    argv[n] = NULL;
    return argv;
}

/* Every (arm, seed), J at a time; a CSV from an earlier run must not pass
 * for this run's, so each is removed first. */
static int train_all(arena *ar, const compare_args *a, const plan *p)
{
    size_t n = p->narms * p->nseeds;
    run_job *jobs = arena_alloc(ar, n * sizeof *jobs);
    for (size_t arm = 0; arm < p->narms; arm++)
        for (size_t i = 0; i < p->nseeds; i++) {
            run_job *j = &jobs[arm * p->nseeds + i];
            j->argv = run_argv(ar, a, p, arm, i);
            j->log_path = arm_log(ar, p, arm, i);
            j->label = arena_printf(ar, "%s, seed %" PRIu64, p->arms[arm].name, p->seeds[i]);
            const char *csv = arm_csv(ar, p, arm, i);
            if (remove(csv) != 0 && errno != ENOENT) {
                fprintf(stderr, "seqc compare: error: cannot replace %s: %s\n", csv,
                        strerror(errno));
                return 1;
            }
        }
    /* each run takes P processors */
    long jobs_max = a->jobs ? a->jobs : online_cpus() / p->ranks;
    if (jobs_max < 1)
        jobs_max = 1;
    long threads = a->threads ? a->threads : 1L;
    printf("seqc compare: training %zu arm%s x %zu seed%s = %zu runs, %ld at a time, ",
           p->narms, p->narms == 1 ? "" : "s", p->nseeds, p->nseeds == 1 ? "" : "s", n,
           jobs_max);
    if (p->ranks >= 2) {
        char **l = arena_alloc(ar, (size_t)(p->nmpiexec + 8) * sizeof *l);
        int nl = launcher_argv(ar, p, l);
        printf("each on %ld MPI ranks of %ld thread%s (", p->ranks, threads,
               threads == 1 ? "" : "s");
        for (int w = 0; w < nl; w++)
            printf("%s%s", w ? " " : "", l[w]);
        puts(" TRAINER train ...)");
    } else {
        printf("%ld thread%s each\n", threads, threads == 1 ? "" : "s");
    }
    fflush(stdout);
    if (runs_execute(jobs, n, (int)jobs_max, stdout, isatty(STDOUT_FILENO)) != 0)
        return 1;
    for (size_t arm = 0; arm < p->narms; arm++) {
        bool *d = arena_alloc(ar, p->nseeds * sizeof *d);
        for (size_t i = 0; i < p->nseeds; i++) {
            const run_job *j = &jobs[arm * p->nseeds + i];
            d[i] = j->diverged;
            if (d[i])
                printf("seqc compare: note: %s diverged (log: %s)\n", j->label, j->log_path);
        }
        p->arms[arm].diverged = d;
    }
    return 0;
}

/* Reads every history and test line back. */
static int read_results(arena *ar, plan *p)
{
    char err[600];
    for (size_t arm = 0; arm < p->narms; arm++)
        for (size_t i = 0; i < p->nseeds; i++) {
            cmp_arm *A = &p->arms[arm];
            const char *csv = arm_csv(ar, p, arm, i), *log = arm_log(ar, p, arm, i);
            bool diverged = A->diverged && A->diverged[i];
            struct stat st;
            if (diverged && stat(csv, &st) != 0) {
                /* stopped before its first epoch ended: no history */
                memset(&A->hist[i], 0, sizeof A->hist[i]);
            } else if (history_read(csv, &A->hist[i], err, sizeof err) != 0) {
                fprintf(stderr, "seqc compare: error: %s\n", err);
                return 1;
            }
            if (!diverged && (long)A->hist[i].count != A->set.epochs) {
                fprintf(stderr, "seqc compare: error: %s holds %zu epochs, %ld were trained\n",
                        csv, A->hist[i].count, A->set.epochs);
                return 1;
            }
            char *text, why[256];
            size_t len;
            if (file_read_all(log, (size_t)64 << 20, &text, &len, why, sizeof why) != 0) {
                fprintf(stderr, "seqc compare: error: %s: %s\n", log, why);
                return 1;
            }
            if (runs_parse_test_line(text, &A->test[i], err, sizeof err) != 0)
                fprintf(stderr, "seqc compare: warning: %s: %s; no test metrics for this "
                                "run\n", log, err);
            free(text);
        }
    return 0;
}

/* The command line, shell-quoted where needed, for the report. */
static char *command_line(arena *ar, int argc, char **argv)
{
    char *s = arena_strdup(ar, "seqc");
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        bool plain = *w != '\0';
        for (const char *c = w; *c; c++)
            if (!(strchr("-_./=+,:@%", *c) || (*c >= 'a' && *c <= 'z') ||
                  (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                plain = false;
        if (plain) {
            s = arena_printf(ar, "%s %s", s, w);
            continue;
        }
        s = arena_printf(ar, "%s '", s);
        for (const char *c = w; *c; c++)
            s = *c == '\'' ? arena_printf(ar, "%s'\\''", s) : arena_printf(ar, "%s%c", s, *c);
        s = arena_printf(ar, "%s'", s);
    }
    return s;
}

static int write_md(FILE *f, const void *s) { return report_write_md(f, s); }
static int write_svg(FILE *f, const void *s) { return report_write_svg(f, s); }
static int write_json(FILE *f, const void *s) { return cmp_write_json(f, s); }

/* "data/mnist-digits/" -> "mnist-digits" */
static const char *dataset_name(arena *ar, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    if (n == start)
        return dir;
    return arena_strndup(ar, dir + start, n - start);
}

/* "mnist_bn with and without batchnorm", "a vs b", "+ at lr 0.001, 0.01" */
static const char *study_title(arena *ar, const compare_args *a, const plan *p)
{
    char *t;
    if (a->nfiles >= 2) {
        t = arena_strdup(ar, p->v[0].name);
        for (int k = 1; k < p->nv; k++)
            t = arena_printf(ar, "%s vs %s", t, p->v[k].name);
    } else if (p->nv == 2 && *p->v[1].without) {
        t = arena_printf(ar, "%s with and without %s", p->v[0].name, p->v[1].without);
    } else if (p->nv == 2) {
        t = arena_printf(ar, "%s as written and %s", p->v[0].name, p->v[1].edit);
    } else if (p->nv == 1) {
        t = arena_strdup(ar, p->v[0].name);
    } else {
        t = arena_printf(ar, "%s as written", p->v[0].name);
        for (int k = 1; k < p->nv; k++)
            t = arena_printf(ar, "%s%s %s", t, k + 1 == p->nv ? " and" : ",", p->v[k].edit);
    }
    for (int l = 0; l < a->nlr; l++)
        t = arena_printf(ar, "%s%s%s", t, l ? ", " : " at lr ", a->lr_text[l]);
    return t;
}

/* OUT/summary.json, OUT/report.md and OUT/curves.svg, then the verdict
 * on stdout */
static int write_outputs(arena *ar, const compare_args *a, plan *p, int argc, char **argv)
{
    cmp_study s;
    memset(&s, 0, sizeof s);
    s.title = study_title(ar, a, p);
    s.command = command_line(ar, argc, argv);
    s.version = cli_version();
    s.dataset = dataset_name(ar, a->data);
    s.nseeds = p->nseeds;
    s.seeds = p->seeds;
    s.narms = p->narms;
    s.arms = p->arms;
    s.nlr = a->nlr;
    s.has_target = a->has_target;
    snprintf(s.target_metric, sizeof s.target_metric, "%s", a->target_metric);
    s.target_value = a->target_value;
    s.limit = a->limit;
    if (cmp_analyze(&s) != 0) {
        fputs("seqc: out of memory\n", stderr);
        return 1;
    }
    const char *md = arena_printf(ar, "%s/report.md", p->out);
    const char *svg = arena_printf(ar, "%s/curves.svg", p->out);
    const char *json = arena_printf(ar, "%s/summary.json", p->out);
    int rc = 1;
    if (file_write_atomic(json, "seqc compare", write_json, &s) ||
        file_write_atomic(md, "seqc compare", write_md, &s) ||
        file_write_atomic(svg, "seqc compare", write_svg, &s))
        goto done;
    printf("\n%s (%zu seed%s; mean and 95 %% interval at the last epoch)\n", s.title,
           s.nseeds, s.nseeds == 1 ? "" : "s");
    report_write_arm_lines(stdout, &s);
    putchar('\n');
    report_write_verdict(stdout, &s, 0);
    printf("\nwrote %s, %s, %s and %s/runs/\n", md, json, svg, p->out);
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    cmp_free(&s);
    return rc;
}

/* Steps 2-7 of the header comment; the caller frees p's histories and
 * summaries. */
static int run_steps(arena *ar, const compare_args *a, plan *p, int argc, char **argv)
{
    p->nv = a->nfiles >= 2 ? a->nfiles : 1 + a->nwithout;
    if (load_variants(ar, a, p->v, p->nv) != 0)
        return 1;
    name_variants(ar, a, p->v, p->nv);
    if (a->nfiles >= 2 && check_files(p->v, p->nv) != 0)
        return 1;
    for (int k = 0; k < p->nv; k++)
        if (!(p->v[k].summary = summary_text(p->v[k].m))) {
            fputs("seqc: out of memory\n", stderr);
            return 1;
        }
    make_seeds(ar, a, p);
    p->ranks = a->ranks >= 2 ? a->ranks : 1;
    if (make_arms(ar, a, p) != 0 || plan_outputs(ar, a, p) != 0 ||
        prepare_tools(ar, a, p) != 0 || check_data(a, &p->v[0]) != 0)
        return 1;
    if (!a->val_split)
        for (size_t k = 0; k < p->narms; k++)
            if (strcmp(p->arms[k].set.val_split_from, "compare's default") == 0) {
                printf("seqc compare: %s validates on the last %g %% of the training data "
                       "(--validation-split %s, the default when the model sets none)\n",
                       p->arms[k].name, strtod(p->arms[k].set.val_split, NULL) * 100,
                       p->arms[k].set.val_split);
                break;
            }
    if (build_variants(ar, p) != 0 || train_all(ar, a, p) != 0 || read_results(ar, p) != 0)
        return 1;
    return write_outputs(ar, a, p, argc, argv);
}

static int run(arena *ar, const compare_args *a, int argc, char **argv)
{
    plan p;
    memset(&p, 0, sizeof p);
    int rc = run_steps(ar, a, &p, argc, argv);
    for (size_t arm = 0; arm < p.narms; arm++)
        for (size_t i = 0; i < p.nseeds; i++)
            history_free(&p.arms[arm].hist[i]);
    for (int k = 0; k < p.nv; k++)
        free(p.v[k].summary);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    compare_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        arena ar;
        arena_init(&ar);
        rc = run(&ar, &a, argc, argv);
        arena_free(&ar);
    }
    free_args(&a);
    return rc == -1 ? 0 : rc;
}
