/*
 * commands.h: the seqc subcommands. Each takes the arguments after its
 * name (argv[0] is the command's name) and returns the exit status:
 *
 *   0  success (warnings may have been printed)
 *   1  errors in the input (diagnostics were printed)
 *   2  a bad command line (cli_usage_error)
 *
 * main.c's table maps names to these; adding a command is one line there.
 */
#ifndef SEQC_COMMANDS_H
#define SEQC_COMMANDS_H

#include "front/model.h"

/* Each command's usage line, as its own --help and `seqc --help` print it */
#define SEQC_USAGE_CHECK "check FILE..."
#define SEQC_USAGE_SUMMARY "summary FILE [--without KIND]..."
#define SEQC_USAGE_IR "ir FILE [--without KIND]... [--no-reuse] [--no-fuse] [--after PASS]"
#define SEQC_USAGE_EMIT \
    "emit FILE [--without KIND]... [--no-reuse] [--no-fuse] [--line-directives]\n"         \
    "       [-o trainer.c | -o -]"
#define SEQC_USAGE_BUILD \
    "build FILE [--without KIND]... [--no-reuse] [--no-fuse] [--line-directives]\n"        \
    "       [--mpi] [-o trainer] [-v]"
#define SEQC_USAGE_EXPORT                                                            \
    "export FILE --load CKPT [--format c|onnx] [-o NAME.c|NAME.onnx] [--no-fold]\n" \
    "       [--check-data DIR|FILE.npz|FILE.csv] [--check-limit N]"
#define SEQC_USAGE_COMPARE                                                              \
    "compare FILE --without KIND[,KIND]... | FILE --replace OLD=NEW | A.seq B.seq...\n"   \
    "       --data D [--seeds K|LIST] [--lr LIST] [--jobs J] [--target METRIC=X]\n"        \
    "       [--validation-split F] [-o DIR]"

int cmd_check(int argc, char **argv);   /* cmd_check.c */
int cmd_summary(int argc, char **argv); /* cmd_check.c */
int cmd_ir(int argc, char **argv);      /* cmd_build.c */
int cmd_emit(int argc, char **argv);    /* cmd_build.c */
int cmd_build(int argc, char **argv);   /* cmd_build.c */
int cmd_export(int argc, char **argv);  /* cmd_export.c */
int cmd_compare(int argc, char **argv); /* compare.c */

/* ---- shared by the commands (cli.c) ---- */

/* Prints "seqc CMD: MESSAGE", "usage: seqc USAGE" and
 * "try 'seqc --help'" to stderr; returns 2. usage may be NULL. */
int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* "0.1.0": the project's version, as CMake knows it */
const char *cli_version(void);

/* "-h" or "--help" */
int cli_is_help(const char *arg);

/* The KIND of --without KIND: 0 and *out, or a usage error (2) with a
 * suggestion for a misspelt kind. The input cannot be dropped. */
int cli_layer_kind(const char *cmd, const char *usage, const char *arg, layer_kind *out);
/* The same for another option (flag: "--replace"). */
int cli_layer_kind_for(const char *cmd, const char *usage, const char *flag, const char *arg,
                       layer_kind *out);

/* Reads one "--without KIND" or "--without=KIND" at argv[*i]: returns 1
 * and advances *i past it when argv[*i] is such an option (recording the
 * kind in kinds[*nkinds], at most LAYER_KIND_COUNT), 0 when argv[*i] is
 * something else, 2 after a usage error. */
int cli_take_without(const char *cmd, const char *usage, int argc, char **argv, int *i,
                     layer_kind *kinds, int *nkinds);

/* Reads an option with a value at argv[*i]: "NAME VALUE", or for a long
 * name also "--NAME=VALUE", NAME one of names[0..nnames). Returns the
 * name's index, sets *val and advances *i past it; -1 when argv[*i] is
 * none of them; -2 after a usage error (the value is missing). */
int cli_take_value(const char *cmd, const char *usage, int argc, char **argv, int *i,
                   const char *const *names, int nnames, const char **val);

#endif
