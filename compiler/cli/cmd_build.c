/*
 * cmd_build.c: the back end's commands.
 *
 *   seqc ir    FILE [--without KIND]... [--no-reuse] [--no-fuse] [--after PASS]
 *   seqc emit  FILE [--without KIND]... [--no-reuse] [--no-fuse] [--line-directives]
 *                   [-o trainer.c | -o -]
 *   seqc build FILE [--without KIND]... [--no-reuse] [--no-fuse] [--line-directives]
 *                   [--mpi] [-o trainer] [-v]
 *
 * Each loads and checks the model (frontend.h), drops the --without kinds,
 * lowers it (lower.c), runs the passes (passes.c) and then prints the IR,
 * writes the C (codegen_c.c) or writes and compiles it (build.c; what the
 * build needs from the system, --mpi's too, is found first). Output
 * files are written to a temporary name and renamed, so a failed run never
 * leaves a half-written file behind.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/commands.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/arena.h"
#include "back/build.h"
#include "back/codegen.h"
#include "util/fileio.h"
#include "front/frontend.h"
#include "ir/ir.h"

typedef enum cmd_kind { CMD_IR, CMD_EMIT, CMD_BUILD } cmd_kind;

static const char *const cmd_names[] = {"ir", "emit", "build"};

typedef struct cmd_args {
    const char *file;
    const char *out;     /* -o; NULL = the default */
    const char *after;   /* ir --after PASS */
    int         nwithout;
    layer_kind  without[LAYER_KIND_COUNT];
    bool        verbose;
    bool        no_reuse;        /* every buffer its own floats */
    bool        no_fuse;         /* batchnorm + relu + maxpool2d left apart */
    bool        line_directives; /* #line back to the model file */
    bool        mpi;             /* build: with MPI (libseqrt_mpi) */
} cmd_args;

static const char *const cmd_usage[] = {SEQC_USAGE_IR, SEQC_USAGE_EMIT, SEQC_USAGE_BUILD};

static void help(cmd_kind k)
{
    printf("usage: seqc %s\n", cmd_usage[k]);
    switch (k) {
    case CMD_IR:
        printf("Prints the IR: ops, backward, parameters, memory plan, recipe.\n"
               "--after PASS stops after that pass (%s).\n", ir_pass_names());
        break;
    case CMD_EMIT:
        fputs("Writes the trainer's C (default NAME.c for FILE NAME.seq; -o - writes to\n"
              "standard output).\n", stdout);
        break;
    case CMD_BUILD:
        fputs("Writes the trainer's C and compiles it against libseqrt with -O2 (default\n"
              "output NAME for FILE NAME.seq). $CC chooses the C compiler; -v shows its\n"
              "command line.\n"
              "--mpi builds a trainer that trains over MPI ranks (mpirun -np P ./trainer\n"
              "...): compiled by $MPICC, else the mpicc seqc was configured with, else\n"
              "mpicc on PATH, with -DSEQRT_MPI and linked with libseqrt_mpi.a. `seqc emit`\n"
              "needs no --mpi: the same C file builds both ways. See docs/scale-out.md.\n",
              stdout);
        break;
    }
    fputs("--without KIND drops every layer of that kind (e.g. batchnorm); repeatable.\n"
          "--no-reuse gives every buffer of the memory plan its own floats (debugging).\n"
          "--no-fuse keeps batchnorm, relu and maxpool2d after a convolution as three\n"
          "layers instead of one fused kernel (comparisons, debugging).\n",
          stdout);
    if (k != CMD_IR)
        fputs("--line-directives maps each layer's C to its line in the model file\n"
              "(#line), for compiler messages and debuggers.\n", stdout);
}

/* argv[0] is the command's name. Returns 0, 2 on a usage error, -1 after --help. */
static int parse_args(cmd_kind k, int argc, char **argv, cmd_args *a)
{
    const char *cmd = cmd_names[k], *use = cmd_usage[k];
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc;) {
        const char *s = argv[i];
        if (cli_is_help(s)) {
            help(k);
            return -1;
        }
        int rc = cli_take_without(cmd, use, argc, argv, &i, a->without, &a->nwithout);
        if (rc == 2)
            return 2;
        if (rc == 1)
            continue;
        /* ir takes --after PASS, emit and build -o FILE */
        const char *valued = k == CMD_IR ? "--after" : "-o", *val;
        rc = cli_take_value(cmd, use, argc, argv, &i, &valued, 1, &val);
        if (rc == -2)
            return 2;
        if (rc == 0) {
            *(k == CMD_IR ? &a->after : &a->out) = val;
            continue;
        }
        if (k == CMD_BUILD && (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0)) {
            a->verbose = true;
        } else if (k == CMD_BUILD && strcmp(s, "--mpi") == 0) {
            a->mpi = true;
        } else if (strcmp(s, "--no-reuse") == 0) {
            a->no_reuse = true;
        } else if (strcmp(s, "--no-fuse") == 0) {
            a->no_fuse = true;
        } else if (k != CMD_IR && strcmp(s, "--line-directives") == 0) {
            a->line_directives = true;
        } else if (k == CMD_EMIT && strcmp(s, "--mpi") == 0) {
            return cli_usage_error(cmd, use, "unknown option '--mpi': the C file seqc emit "
                                             "writes builds with and without MPI (seqc build "
                                             "--mpi compiles it with -DSEQRT_MPI)");
        } else if (s[0] == '-' && s[1] != 0) {
            return cli_usage_error(cmd, use, "unknown option '%s'", s);
        } else if (a->file) {
            return cli_usage_error(cmd, use, "more than one model file ('%s', '%s')", a->file, s);
        } else {
            a->file = s;
        }
        i++;
    }
    if (!a->file)
        return cli_usage_error(cmd, use, "no model file given");
    if (a->out && a->out[0] == 0)
        return cli_usage_error(cmd, use, "-o needs a file name");
    return 0;
}

/* Loads, checks, drops, lowers and runs the passes. NULL after an error. */
static ir_model *compile_model(arena *ar, const cmd_args *a)
{
    model *m = arena_alloc(ar, sizeof *m);
    const frontend_opts o = {MODEL_TO_TRAIN, a->without, a->nwithout};
    if (frontend_load_with(ar, a->file, &o, m) != 0)
        return NULL;
    char *without = NULL;
    for (int i = 0; i < a->nwithout; i++) {
        const char *name = layer_kind_name(a->without[i]);
        without = without ? arena_printf(ar, "%s, %s", without, name) : arena_strdup(ar, name);
    }
    ir_model *ir = ir_lower(ar, m, without);
    ir->no_reuse = a->no_reuse;
    ir->no_block_fusion = a->no_fuse;
    if (ir_run_passes(ir, a->after) != 0)
        return NULL;
    return ir;
}

/* "models/mnist_bn.seq" -> "mnist_bn" + suffix */
static char *default_output(arena *ar, const char *file, const char *suffix)
{
    return arena_printf(ar, "%.*s%s", (int)path_stem_len(file), path_base(file), suffix);
}

/* emit's and build's output file (NULL for ir and for emit -o -) */
static const char *output_path(arena *ar, cmd_kind k, const cmd_args *a)
{
    if (k == CMD_IR || (a->out && strcmp(a->out, "-") == 0))
        return NULL;
    return a->out ? a->out : default_output(ar, a->file, k == CMD_EMIT ? ".c" : "");
}

/* Before any work: the output can be written and is not the model file
 * (the default output of a model file without .seq is its own name). */
static int check_output(const cmd_args *a, const char *out)
{
    char why[600];
    if (!out || file_check_output(out, &a->file, 1, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "seqc: error: cannot write %s: %s; name the output with -o\n", out, why);
    return 1;
}

typedef struct c_job {
    const ir_model *ir;
    codegen_opts    opts;
} c_job;

static int write_c(FILE *f, const void *ctx)
{
    const c_job *job = ctx;
    return codegen_c(f, job->ir, &job->opts);
}

/* Writes the C for ir to path, through path.tmp.PID and a rename. */
static int write_c_file(const ir_model *ir, const cmd_args *a, const char *path)
{
    c_job job = {ir, {a->line_directives, path}};
    return file_write_atomic(path, "seqc", write_c, &job);
}

static int run_build(arena *ar, const ir_model *ir, const cmd_args *a, const char *out,
                     const build_env *env)
{
    const char *tmpdir = getenv("TMPDIR");
    char *dir = arena_printf(ar, "%s/seqc-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "seqc: error: cannot make a temporary directory %s: %s\n", dir,
                strerror(errno));
        return 1;
    }
    char *c_path = arena_printf(ar, "%s/%s", dir, default_output(ar, a->file, ".c"));
    int rc = write_c_file(ir, a, c_path);
    if (rc == 0)
        rc = build_compile(env, c_path, out, a->verbose);
    if (rc == 0) {
        remove(c_path);
        rmdir(dir);
    } else if (access(c_path, F_OK) == 0) {
        fprintf(stderr, "seqc: the generated C is kept in %s\n", c_path);
    } else {
        rmdir(dir);
    }
    return rc;
}

static int run(cmd_kind k, int argc, char **argv)
{
    cmd_args a;
    int rc = parse_args(k, argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    arena ar;
    arena_init(&ar);
    const char *out = output_path(&ar, k, &a);
    /* build: the runtime, and --mpi's compiler and library, before any work */
    build_env *env = k == CMD_BUILD ? arena_alloc(&ar, sizeof *env) : NULL;
    ir_model *ir = check_output(&a, out) == 0 && (!env || build_prepare(env, a.mpi) == 0)
                       ? compile_model(&ar, &a)
                       : NULL;
    if (!ir) {
        arena_free(&ar);
        return 1;
    }
    switch (k) {
    case CMD_IR:
        ir_print(stdout, ir);
        rc = fflush(stdout) == 0 ? 0 : 1;
        break;
    case CMD_EMIT:
        if (!out) {
            codegen_opts opts = {a.line_directives, NULL};
            rc = codegen_c(stdout, ir, &opts) == 0 ? 0 : 1;
            if (rc)
                fputs("seqc: error: cannot write to standard output\n", stderr);
        } else {
            rc = write_c_file(ir, &a, out);
        }
        break;
    case CMD_BUILD:
        rc = run_build(&ar, ir, &a, out, env);
        break;
    }
    arena_free(&ar);
    return rc;
}

int cmd_ir(int argc, char **argv) { return run(CMD_IR, argc, argv); }
int cmd_emit(int argc, char **argv) { return run(CMD_EMIT, argc, argv); }
int cmd_build(int argc, char **argv) { return run(CMD_BUILD, argc, argv); }
