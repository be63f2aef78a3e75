/*
 * compare.c: `seqc compare`, two variants of a model trained side by side.
 *
 *   seqc compare FILE --without KIND [--without KIND]... --data DIR [options]
 *   seqc compare A.seq B.seq --data DIR [options]
 *
 * The steps, in order; everything that can be wrong with the command line,
 * the models or the data is found in steps 1-4, before anything is written
 * or trained:
 *
 *   1. arguments (a usage error exits 2);
 *   2. load and check both models (the file as written and the file less
 *      every --without kind; or the two files), lower them and run the
 *      passes; a --without kind the model does not have is an error;
 *   3. two files: same input size and same number of classes;
 *   4. the data: DIR's training and validation sets load and fit the model;
 *   5. write each variant's C into OUT/trainers/ and compile it;
 *   6. run the two trainers one after the other with the same --seed and
 *      --epochs, each writing its history CSV into OUT, their output
 *      prefixed with the variant's name;
 *   7. read the histories back and write OUT/report.md and OUT/curves.svg.
 *
 * Same seed, same start: a trainer draws every initial weight from one
 * generator, layer by layer, and then each epoch's shuffle from the same
 * generator (runtime/src/train.c). Batchnorm's parameters start at
 * constants and draw nothing, so dropping batchnorm layers leaves both
 * the dense weights and the order of the mini-batches unchanged
 * (tests/compare/same_init.sh checks the weights, the generator's state
 * after init and the first shuffle). Dropout is the exception: its masks
 * come from that generator during training, so when the variants differ
 * in dropout layers the shuffles differ from the second epoch on; compare
 * says so in a note rather than pretending otherwise.
 *
 * The trainers run one after the other: each uses every core through
 * OpenBLAS, and two at once only compete for them.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/arena.h"
#include "back/build.h"
#include "back/codegen.h"
#include "front/frontend.h"
#include "lab/history.h"
#include "ir/ir.h"
#include "lab/report.h"
#include "util/fileio.h"
#include "util/proc.h"
#include "seqrt.h"
#include "front/summary.h"

#define CMD "compare"
#define USAGE "compare FILE --without KIND [--without KIND]... --data DIR [options]\n" \
              "       seqc compare A.seq B.seq --data DIR [options]"

static void print_help(void)
{
    puts("usage: seqc " USAGE "\n"
         "\n"
         "Builds two variants of a model, trains both on the same data with the same\n"
         "seed (so the layers they share start from the same weights and the\n"
         "mini-batches come in the same order), and writes into the output folder:\n"
         "  VARIANT.csv   each variant's history, one row per epoch\n"
         "  report.md     both summaries, a per-epoch table and a verdict per metric\n"
         "  curves.svg    loss and accuracy by epoch, training solid, validation dashed\n"
         "  trainers/     the generated C and the two trainers\n"
         "\n"
         "The variants: FILE as written and FILE without every layer of each KIND\n"
         "(--without batchnorm), or the two model files A.seq and B.seq.\n"
         "\n"
         "options:\n"
         "  --data DIR      MNIST-style IDX files: DIR/train-* and DIR/t10k-* (required)\n"
         "  -o DIR          output folder (default compare-NAME, NAME the model's name)\n"
         "  --epochs N      epochs for both (default: the first model's train block)\n"
         "  --seed N        seed for both (default: the first model's train block)\n"
         "  --threads N     OpenBLAS threads for each trainer (default: OpenBLAS's)\n"
         "  --limit N       train on the first N samples and validate on the first N\n"
         "  --max-data-bytes N  refuse data over N bytes in memory, train and test\n"
         "                  together (512M, 2G also read; default: half the memory)");
}

typedef struct compare_args {
    const char *files[2];
    int         nfiles;
    layer_kind  without[LAYER_KIND_COUNT];
    int         nwithout;
    const char *data;
    const char *out;
    long        epochs;  /* 0: the first model's */
    long        threads; /* 0: the trainer's default */
    long        limit;   /* 0: all */
    const char *max_data; /* --max-data-bytes as given, passed on; NULL: default */
    seqrt_load_opts data_limit;
    bool        has_seed;
    uint64_t    seed;
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

/* The options that take a value, each with its setter: 0, or a usage
 * error (2) for a value out of range. */
static int set_data(compare_args *a, const char *v) { a->data = v; return 0; }
static int set_out(compare_args *a, const char *v) { a->out = v; return 0; }
static int set_epochs(compare_args *a, const char *v)
{
    return parse_count("--epochs", v, 1, 1000000, &a->epochs);
}
static int set_threads(compare_args *a, const char *v)
{
    return parse_count("--threads", v, 1, 1024, &a->threads);
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
    char *end;
    errno = 0;
    unsigned long long u = strtoull(v, &end, 10);
    if (end == v || *end || errno || v[0] == '-')
        return cli_usage_error(CMD, USAGE, "--seed expects a whole number from 0 to %llu, got '%s'",
                               ULLONG_MAX, v);
    a->seed = (uint64_t)u;
    a->has_seed = true;
    return 0;
}

static const char *const value_names[] = {"--data", "-o", "--epochs", "--seed", "--threads",
                                          "--limit", "--max-data-bytes"};
static int (*const value_setters[])(compare_args *, const char *) = {
    set_data, set_out, set_epochs, set_seed, set_threads, set_limit, set_max_data};
enum { NVALUE_OPTIONS = sizeof value_names / sizeof value_names[0] };
_Static_assert(sizeof value_setters / sizeof value_setters[0] == NVALUE_OPTIONS,
               "value_setters out of step with value_names");

/* What the arguments must say together; 0 or a usage error (2). */
static int check_args(const compare_args *a)
{
    if (a->nfiles == 0)
        return cli_usage_error(CMD, USAGE, "no model file given");
    if (a->nfiles == 1 && a->nwithout == 0)
        return cli_usage_error(CMD, USAGE,
                               "nothing to compare %s with: give --without KIND or a second "
                               "model file", a->files[0]);
    if (a->nfiles == 2 && a->nwithout > 0)
        return cli_usage_error(CMD, USAGE,
                               "--without goes with one model file, not two (drop the "
                               "layers in the second file instead)");
    if (!a->data)
        return cli_usage_error(CMD, USAGE, "--data DIR is required (the folder of "
                                           "train-* and t10k-* IDX files)");
    return 0;
}

/* argv[0] is "compare". Returns 0, 2 for a usage error, -1 after --help. */
static int parse_args(int argc, char **argv, compare_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc;) {
        const char *s = argv[i], *val;
        int took = cli_take_without(CMD, USAGE, argc, argv, &i, a->without, &a->nwithout);
        if (took == 2)
            return 2;
        if (took == 1)
            continue;
        if (cli_is_help(s)) {
            print_help();
            return -1;
        }
        int k = cli_take_value(CMD, USAGE, argc, argv, &i, value_names, NVALUE_OPTIONS, &val);
        if (k == -2 || (k >= 0 && value_setters[k](a, val) != 0))
            return 2;
        if (k >= 0)
            continue;
        if (s[0] == '-' && s[1] != '\0')
            return cli_usage_error(CMD, USAGE, "unknown option '%s'", s);
        if (a->nfiles == 2)
            return cli_usage_error(CMD, USAGE, "at most two model files ('%s' is a third)", s);
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
    const char *name;    /* shown in progress, report and picture */
    const char *slug;    /* file stem: NAME.csv, trainers/NAME */
    char       *summary; /* summary_print's table, malloc'd */
    const char *c_path, *exe_path, *csv_path, *csv_name;
    history     hist;
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
static char *kind_list(arena *ar, const compare_args *a, const char *sep_last)
{
    char *s = arena_strdup(ar, "");
    for (int i = 0; i < a->nwithout; i++) {
        const char *sep = i == 0 ? "" : i + 1 == a->nwithout ? sep_last : ", ";
        s = arena_printf(ar, "%s%s%s", s, sep, layer_kind_name(a->without[i]));
    }
    return s;
}

/* Loads, checks and lowers the two variants. Returns 0, or 1 after an
 * error was printed. */
static int load_variants(arena *ar, const compare_args *a, variant v[2])
{
    for (int k = 0; k < 2; k++) {
        v[k].file = a->files[a->nfiles == 2 ? k : 0];
        v[k].m = arena_alloc(ar, sizeof(model));
        if (frontend_load(ar, v[k].file, v[k].m) != 0)
            return 1;
    }
    char *without = NULL;
    if (a->nwithout > 0) {
        model *m = v[1].m;
        for (int i = 0; i < a->nwithout; i++) {
            if (!has_kind(m, a->without[i])) {
                fprintf(stderr, "seqc compare: error: model %s (%s) has no %s layer: "
                                "nothing to drop with --without %s\n",
                        m->name, v[0].file, layer_kind_name(a->without[i]),
                        layer_kind_name(a->without[i]));
                return 1;
            }
        }
        if (model_without(m, a->without, a->nwithout) != 0)
            return 1;
        without = kind_list(ar, a, ", ");
    }
    for (int k = 0; k < 2; k++) {
        v[k].ir = ir_lower(ar, v[k].m, k == 1 ? without : NULL);
        if (!v[k].ir || ir_run_passes(v[k].ir, NULL) != 0)
            return 1;
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
static void name_variants(arena *ar, const compare_args *a, variant v[2])
{
    if (a->nwithout > 0) {
        v[0].name = v[0].m->name;
        v[1].name = arena_printf(ar, "%s without %s", v[0].m->name, kind_list(ar, a, " and "));
        v[0].slug = slug_of(ar, v[0].m->name);
        char *s = arena_strdup(ar, v[0].slug);
        for (int i = 0; i < a->nwithout; i++)
            s = arena_printf(ar, "%s-no-%s", s, layer_kind_name(a->without[i]));
        v[1].slug = s;
        return;
    }
    for (int k = 0; k < 2; k++) {
        v[k].name = v[k].m->name;
        v[k].slug = slug_of(ar, v[k].m->name);
    }
    if (strcmp(v[0].name, v[1].name) == 0) {
        /* same model name: tell them apart by file, else by position */
        const char *s0 = file_stem(ar, v[0].file), *s1 = file_stem(ar, v[1].file);
        bool by_file = strcmp(s0, s1) != 0;
        for (int k = 0; k < 2; k++) {
            const char *tag = by_file ? (k ? s1 : s0) : (k ? "B" : "A");
            v[k].name = arena_printf(ar, "%s (%s)", v[k].m->name, tag);
            v[k].slug = slug_of(ar, arena_printf(ar, "%s-%s", v[k].m->name, tag));
        }
    }
    if (strcmp(v[0].slug, v[1].slug) == 0) { /* names that differ only in odd bytes */
        v[0].slug = arena_printf(ar, "%s-A", v[0].slug);
        v[1].slug = arena_printf(ar, "%s-B", v[1].slug);
    }
}

/* Two files must take the same samples and predict the same classes. */
static int check_pair(const variant v[2])
{
    const ir_model *x = v[0].ir, *y = v[1].ir;
    if (x->input_size != y->input_size) {
        fprintf(stderr, "seqc compare: error: the models take different inputs: %s (%s) "
                        "takes %" PRId64 " values per sample (%" PRId64 "x%" PRId64 "), "
                        "%s (%s) takes %" PRId64 " (%" PRId64 "x%" PRId64 ")\n",
                v[0].m->name, v[0].file, x->input_size, x->input_rows, x->input_cols,
                v[1].m->name, v[1].file, y->input_size, y->input_rows, y->input_cols);
        return 1;
    }
    if (x->classes != y->classes) {
        fprintf(stderr, "seqc compare: error: the models predict different numbers of "
                        "classes: %s (%s) has %" PRId64 ", %s (%s) has %" PRId64 "\n",
                v[0].m->name, v[0].file, x->classes, v[1].m->name, v[1].file, y->classes);
        return 1;
    }
    return 0;
}

/* Both datasets load and fit the (common) input and classes. */
static int check_data(const compare_args *a, const variant *v)
{
    static const char *const prefixes[] = {"train", "t10k"};
    const char *dir = a->data;
    seqrt_load_opts lim = a->data_limit; /* as the trainer: both sets count */
    for (int i = 0; i < 2; i++) {
        seqrt_dataset d;
        seqrt_error err;
        memset(&d, 0, sizeof d);
        if (seqrt_load_mnist_dir_opts(dir, prefixes[i], &lim, &d, &err) != 0) {
            fprintf(stderr, "seqc compare: error: cannot read the data: %s\n", err.msg);
            return 1;
        }
        int rc = seqrt_dataset_check(&d, (int)v->ir->input_size, (int)v->ir->classes,
                                     seqrt_loss_targets(v->m->train.loss), 1, &err);
        lim.used_bytes = seqrt_dataset_bytes(&d);
        seqrt_dataset_free(&d);
        if (rc != 0) {
            fprintf(stderr, "seqc compare: error: the data does not fit model %s: %s\n",
                    v->m->name, err.msg);
            return 1;
        }
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

/* Writes v's C to v->c_path and compiles it to v->exe_path. */
static int build_variant(const variant *v)
{
    if (file_write_atomic(v->c_path, "seqc compare", write_c, v->ir) != 0)
        return 1;
    return build_trainer(v->c_path, v->exe_path, false);
}

/* Copies the child's output to stdout, "[NAME] " before every line. */
static void relay(int fd, const char *name)
{
    char buf[4096];
    bool at_start = true;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (at_start) {
                printf("[%s] ", name);
                at_start = false;
            }
            putchar(buf[i]);
            if (buf[i] == '\n' || buf[i] == '\r') {
                at_start = true;
                fflush(stdout);
            }
        }
    }
    if (!at_start)
        putchar('\n');
    fflush(stdout);
}

/* Runs argv (argv[0] a path), its stdout and stderr relayed with a prefix.
 * Returns the exit status, or -1 when it could not run or was killed. */
static int run_relayed(char **argv, const char *name)
{
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "seqc compare: error: pipe: %s\n", strerror(errno));
        return -1;
    }
    /* the child gets the write end as stdout and stderr only (dup2 clears
     * the flag), so the relay sees the end of output when it exits */
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = proc_start(argv, fds[1]);
    int start_errno = errno;
    close(fds[1]);
    if (pid < 0) {
        fprintf(stderr, "seqc compare: error: cannot run %s: %s\n", argv[0],
                strerror(start_errno));
        close(fds[0]);
        return -1;
    }
    relay(fds[0], name);
    close(fds[0]);
    int sig, rc = proc_wait(pid, &sig);
    if (rc < 0 && sig)
        fprintf(stderr, "seqc compare: %s was killed by signal %d\n", argv[0], sig);
    return rc;
}

static int train_variant(const variant *v, const compare_args *a, long epochs, uint64_t seed)
{
    char s_epochs[32], s_seed[32], s_threads[32], s_limit[32];
    snprintf(s_epochs, sizeof s_epochs, "%ld", epochs);
    snprintf(s_seed, sizeof s_seed, "%" PRIu64, seed);
    snprintf(s_threads, sizeof s_threads, "%ld", a->threads);
    snprintf(s_limit, sizeof s_limit, "%ld", a->limit);
    char *argv[20];
    int n = 0;
    argv[n++] = (char *)v->exe_path;
    argv[n++] = "train";
    argv[n++] = "--data";
    argv[n++] = (char *)a->data;
    argv[n++] = "--epochs";
    argv[n++] = s_epochs;
    argv[n++] = "--seed";
    argv[n++] = s_seed;
    argv[n++] = "--history";
    argv[n++] = (char *)v->csv_path;
    if (a->threads > 0) {
        argv[n++] = "--threads";
        argv[n++] = s_threads;
    }
    if (a->limit > 0) {
        argv[n++] = "--limit";
        argv[n++] = s_limit;
    }
    if (a->max_data) {
        argv[n++] = "--max-data-bytes";
        argv[n++] = (char *)a->max_data;
    }
    argv[n] = NULL;
    /* a CSV from an earlier run must not pass for this run's */
    if (remove(v->csv_path) != 0 && errno != ENOENT) {
        fprintf(stderr, "seqc compare: error: cannot replace %s: %s\n", v->csv_path,
                strerror(errno));
        return 1;
    }
    int rc = run_relayed(argv, v->name);
    if (rc != 0) {
        fprintf(stderr, "seqc compare: error: training %s failed (exit status %d)\n",
                v->name, rc);
        return 1;
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

static int write_md(FILE *f, const void *r) { return report_write_md(f, r); }
static int write_svg(FILE *f, const void *r) { return report_write_svg(f, r); }

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

static int count_kind(const model *m, layer_kind k)
{
    int n = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        n += m->layers[i].kind == k;
    return n;
}

/* The note for the report when the variants' shuffles part ways, or NULL. */
static const char *dropout_note(const variant v[2])
{
    if (count_kind(v[0].m, LAYER_DROPOUT) == count_kind(v[1].m, LAYER_DROPOUT))
        return NULL;
    return "the variants differ in dropout layers; dropout masks draw from the "
           "generator that also shuffles, so the mini-batches come in a different "
           "order from epoch 2 on";
}

/* The output folder and every path in it, checked before anything is
 * built: none may be a model file named on the command line (through a
 * link too) or a directory, and the folder must be one. */
static int plan_outputs(arena *ar, const compare_args *a, variant v[2], const char **out)
{
    *out = a->out ? a->out
           : a->nfiles == 2 ? arena_printf(ar, "compare-%s-%s", v[0].slug, v[1].slug)
                            : arena_printf(ar, "compare-%s", v[0].slug);
    const char *tdir = arena_printf(ar, "%s/trainers", *out);
    for (int k = 0; k < 2; k++) {
        v[k].c_path = arena_printf(ar, "%s/%s.c", tdir, v[k].slug);
        v[k].exe_path = arena_printf(ar, "%s/%s", tdir, v[k].slug);
        if (v[k].exe_path[0] != '/' && strncmp(v[k].exe_path, "./", 2) != 0)
            v[k].exe_path = arena_printf(ar, "./%s", v[k].exe_path); /* a path, not a name */
        v[k].csv_name = arena_printf(ar, "%s.csv", v[k].slug);
        v[k].csv_path = arena_printf(ar, "%s/%s", *out, v[k].csv_name);
    }
    const char *files[] = {
        arena_printf(ar, "%s/report.md", *out), arena_printf(ar, "%s/curves.svg", *out),
        v[0].c_path, v[0].exe_path, v[0].csv_path, v[1].c_path, v[1].exe_path, v[1].csv_path,
    };
    struct stat st;
    if (stat(*out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "seqc compare: error: cannot write into %s: it is not a folder\n",
                *out);
        return 1;
    }
    char why[600];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (file_check_target(files[i], a->files, (size_t)a->nfiles, why, sizeof why) != 0) {
            fprintf(stderr, "seqc compare: error: cannot write %s: %s; choose another "
                            "folder with -o\n", files[i], why);
            return 1;
        }
    return 0;
}

/* Makes OUT/trainers and writes and compiles both trainers there. */
static int build_variants(arena *ar, const char *out, variant v[2])
{
    const char *tdir = arena_printf(ar, "%s/trainers", out);
    if (make_dirs(tdir) != 0) {
        fprintf(stderr, "seqc compare: error: cannot make the folder %s: %s\n", tdir,
                strerror(errno));
        return 1;
    }
    for (int k = 0; k < 2; k++) {
        printf("seqc compare: building %s -> %s\n", v[k].name, v[k].exe_path);
        fflush(stdout);
        if (build_variant(&v[k]) != 0)
            return 1;
    }
    return 0;
}

/* Reads both histories back and renders both summaries. */
static int read_results(variant v[2], long epochs)
{
    char err[600];
    for (int k = 0; k < 2; k++) {
        if (history_read(v[k].csv_path, &v[k].hist, err, sizeof err) != 0) {
            fprintf(stderr, "seqc compare: error: %s\n", err);
            return 1;
        }
        if ((long)v[k].hist.count != epochs) {
            fprintf(stderr, "seqc compare: error: %s holds %zu epochs, %ld were trained\n",
                    v[k].csv_path, v[k].hist.count, epochs);
            return 1;
        }
        if (!(v[k].summary = summary_text(v[k].m))) {
            fputs("seqc: out of memory\n", stderr);
            return 1;
        }
    }
    return 0;
}

/* The run's settings, shown in the report */
typedef struct run_info {
    const char *out;
    const char *note;
    long        epochs;
    uint64_t    seed;
    int         argc;
    char      **argv;
} run_info;

/* OUT/report.md and OUT/curves.svg, then the verdict and table on stdout */
static int write_report(arena *ar, const compare_args *a, const variant v[2],
                        const run_info *ri)
{
    report_info r;
    memset(&r, 0, sizeof r);
    r.title = a->nwithout > 0 ? arena_printf(ar, "%s with and without %s", v[0].m->name,
                                             kind_list(ar, a, " and "))
                              : arena_printf(ar, "%s vs %s", v[0].name, v[1].name);
    r.data_dir = a->data;
    r.dataset = dataset_name(ar, a->data);
    r.epochs = (int)ri->epochs;
    r.seed = ri->seed;
    r.limit = a->limit;
    r.command = command_line(ar, ri->argc, ri->argv);
    r.note = ri->note;
    for (int k = 0; k < 2; k++)
        r.v[k] = (report_variant){v[k].name, v[k].slug, v[k].csv_name, v[k].summary,
                                  &v[k].hist};
    const char *md = arena_printf(ar, "%s/report.md", ri->out);
    const char *svg = arena_printf(ar, "%s/curves.svg", ri->out);
    if (file_write_atomic(md, "seqc compare", write_md, &r) ||
        file_write_atomic(svg, "seqc compare", write_svg, &r))
        return 1;
    putchar('\n');
    report_write_verdict(stdout, &r);
    report_write_table(stdout, &r);
    printf("wrote %s, %s, %s/%s and %s/%s\n", md, svg, ri->out, v[0].csv_name, ri->out,
           v[1].csv_name);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Steps 2-7 of the header comment, given the variants; v's histories and
 * summaries are freed by the caller. */
static int run_steps(arena *ar, const compare_args *a, variant v[2], run_info *ri)
{
    if (load_variants(ar, a, v) != 0)
        return 1;
    name_variants(ar, a, v);
    if (a->nfiles == 2 && check_pair(v) != 0)
        return 1;
    if (plan_outputs(ar, a, v, &ri->out) != 0 || check_data(a, &v[0]) != 0)
        return 1;
    ri->note = dropout_note(v);
    if (ri->note)
        fprintf(stderr, "seqc compare: note: %s\n", ri->note);
    const train_recipe *recipe = &v[0].m->train;
    ri->epochs = a->epochs ? a->epochs : (long)recipe->epochs;
    ri->seed = a->has_seed ? a->seed : recipe->seed;
    if (build_variants(ar, ri->out, v) != 0)
        return 1;
    for (int k = 0; k < 2; k++) {
        printf("seqc compare: training %s: %ld epoch%s, seed %" PRIu64 "\n", v[k].name,
               ri->epochs, ri->epochs == 1 ? "" : "s", ri->seed);
        fflush(stdout);
        if (train_variant(&v[k], a, ri->epochs, ri->seed) != 0)
            return 1;
    }
    if (read_results(v, ri->epochs) != 0)
        return 1;
    return write_report(ar, a, v, ri);
}

static int run(arena *ar, const compare_args *a, int argc, char **argv)
{
    variant v[2];
    memset(v, 0, sizeof v);
    run_info ri = {.argc = argc, .argv = argv};
    int rc = run_steps(ar, a, v, &ri);
    for (int k = 0; k < 2; k++) {
        history_free(&v[k].hist);
        free(v[k].summary);
    }
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    compare_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == -1)
        return 0;
    if (rc != 0)
        return rc;
    arena ar;
    arena_init(&ar);
    rc = run(&ar, &a, argc, argv);
    arena_free(&ar);
    return rc;
}
